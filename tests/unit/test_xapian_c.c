/* SPDX-License-Identifier: MIT */
/*
 * test_xapian_c.c - the binding xapian-c/xapian_c.h on real glass databases in a
 * temporary directory: errors, analysers, documents, compaction, the query, parser and
 * enquire primitives, and their failure paths (missing database, bad syntax, unknown
 * ids, NULL arguments). The search policy built on them is tested by test_query.c.
 */
#include "check.h"
#include "xap_fixture.h"
#include "xapian_c.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "Q"+uid: the binding takes unique-id terms whole (short ids only here). */
static size_t fixture_uid_term(const char *uid, size_t len, char *t, size_t cap)
{
    (void)cap;
    t[0] = 'Q';
    memcpy(t + 1, uid, len);
    return len + 1;
}

static int count_term(const char *t, size_t len, unsigned wdf, void *ctx)
{
    (void)t;
    (void)len;
    (*(int *)ctx) += wdf > 0;
    return 0;
}

static void test_errors_and_names(void)
{
    CHECK_STR(xap_code_name(XAP_E_DB_LOCKED), "db_locked");
    CHECK_STR(xap_code_name(XAP_E_QUERY_SYNTAX), "query_syntax");
    CHECK_STR(xap_code_name(12345), "unknown");
    struct xap_error e = {0};
    xap_analyzer *a = NULL;
    CHECK_INT(xap_analyzer_new("klingon", NULL, 0, &a, &e), XAP_E_INVALID_ARG);
    CHECK(e.msg[0] != '\0');
    CHECK(a == NULL);
    memset(&e, 0, sizeof e);
    CHECK_INT(xap_analyzer_new(NULL, NULL, 0, &a, &e), XAP_E_INVALID_ARG);
    char buf[64];
    CHECK_INT(xap_analyzer_stem(NULL, "x", 1, buf, sizeof buf, NULL), XAP_E_INVALID_ARG);
    xap_analyzer_free(NULL);
    xap_doc_free(NULL);
    xap_writer_free(NULL);
    xap_reader_close(NULL);
    xap_result_free(NULL);
    CHECK_INT(xap_writer_close(NULL, NULL), XAP_OK);
}

static void test_analyzer(void)
{
    struct xap_error e = {0};
    const char *stop[] = {"le", "la"};
    xap_analyzer *a = NULL;
    CHECK_INT(xap_analyzer_new("french", stop, 2, &a, &e), XAP_OK);
    char buf[64];
    int n = xap_analyzer_stem(a, "hydrogene", 9, buf, sizeof buf, &e);
    CHECK(n > 0);
    CHECK_STR(buf, "hydrogen");
    /* truncation: returns the full length, writes what fits */
    char small[4];
    n = xap_analyzer_stem(a, "hydrogene", 9, small, sizeof small, &e);
    CHECK_INT(n, 8);
    CHECK_STR(small, "hyd");
    xap_analyzer_free(a);
}

static void test_doc_errors(void)
{
    struct xap_error e = {0};
    xap_doc *d = xap_doc_new();
    CHECK_INT(xap_doc_add_term(d, "", 0, 0, &e), XAP_E_INVALID_ARG);
    char big[300];
    memset(big, 'a', sizeof big);
    memset(&e, 0, sizeof e);
    CHECK_INT(xap_doc_add_term(d, big, sizeof big, 1, &e), XAP_E_INVALID_ARG);
    CHECK_HAS(e.msg, "too long");
    CHECK_INT(xap_doc_index_text(NULL, NULL, "x", 1, 1, NULL, NULL), XAP_E_INVALID_ARG);
    CHECK_INT(xap_doc_set_value(d, 0xffffffffu, "x", 1, NULL), XAP_E_INVALID_ARG);
    CHECK_INT(xap_doc_set_value_number(NULL, 1, 1.0, NULL), XAP_E_INVALID_ARG);
    CHECK_INT(xap_doc_set_data(NULL, "x", 1, NULL), XAP_E_INVALID_ARG);
    CHECK_INT(xap_doc_increase_termpos(NULL, 1, NULL), XAP_E_INVALID_ARG);
    CHECK_INT(xap_doc_index_text(d, NULL, "plain words here", 16, 1, "", NULL), XAP_OK);
    CHECK(xap_doc_term_count(d) >= 3);
    CHECK_INT((int)xap_doc_term_count(NULL), 0);
    xap_doc_free(d);
}

static void test_missing_db(void)
{
    struct xap_error e = {0};
    char path[300];
    snprintf(path, sizeof path, "%s/nothing-here", dir);
    xap_reader *r = NULL;
    CHECK_INT(xap_reader_open(path, &r, &e), XAP_E_DB_NOT_FOUND);
    CHECK(r == NULL);
    CHECK(e.type[0] != '\0');
    memset(&e, 0, sizeof e);
    xap_writer *w = NULL;
    CHECK_INT(xap_writer_open(path, 0, &w, &e), XAP_E_DB_NOT_FOUND);
    CHECK_INT(xap_writer_open("", 0, &w, NULL), XAP_E_INVALID_ARG);
    CHECK_INT(xap_compact(path, "/tmp/whatever-kb", NULL) != XAP_OK, 1);
}

static void test_compact_many(void)
{
    struct xap_error e = {0};
    char a[300], b[300], out[300];
    snprintf(a, sizeof a, "%s/shard-a", dir);
    snprintf(b, sizeof b, "%s/shard-b", dir);
    snprintf(out, sizeof out, "%s/merged", dir);
    xap_analyzer *en = NULL;
    CHECK_INT(xap_analyzer_new("english", NULL, 0, &en, &e), XAP_OK);
    const char *paths[] = {a, b};
    for (int s = 0; s < 2; s++) {
        xap_writer *w = NULL;
        CHECK_INT(xap_writer_open(paths[s], XAP_OPEN_CREATE, &w, &e), XAP_OK);
        for (int i = 0; i < 2; i++) {
            char uid[16], text[64];
            snprintf(uid, sizeof uid, "s%d-%d", s, i);
            snprintf(text, sizeof text, "turbine blade number %d of shard %d", i, s);
            xap_doc *d = make_doc(en, "en", text, "t");
            CHECK_INT(put_doc(w, uid, strlen(uid), d, NULL, &e), XAP_OK);
            xap_doc_free(d);
        }
        /* a: turbine 3, turbina 2; b: turbina 2. Summed, turbina (4) beats turbine
         * (3); either source's own count alone (2) would not. */
        if (s == 0)
            CHECK_INT(xap_writer_add_spelling(w, "turbine", 7, 3, &e), XAP_OK);
        CHECK_INT(xap_writer_add_spelling(w, "turbina", 7, 2, &e), XAP_OK);
        CHECK_INT(xap_writer_set_meta(w, "k", s ? "second" : "first", s ? 6 : 5, &e),
                  XAP_OK);
        CHECK_INT(xap_writer_close(w, &e), XAP_OK);
    }
    CHECK_INT(xap_compact_many(paths, 2, out, &e), XAP_OK);
    CHECK_INT(xap_compact_many(paths, 2, out, NULL), XAP_E_INVALID_ARG); /* exists */
    CHECK_INT(xap_compact_many(paths, 0, "/tmp/kb-none", NULL), XAP_E_INVALID_ARG);
    const char *missing[] = {a, "/nonexistent/kb-shard"};
    CHECK(xap_compact_many(missing, 2, "/tmp/kb-none-2", NULL) != XAP_OK);
    xap_reader *r = NULL;
    CHECK_INT(xap_reader_open(out, &r, &e), XAP_OK);
    unsigned count = 0;
    CHECK_INT(xap_reader_doc_count(r, &count, &e), XAP_OK);
    CHECK_INT(count, 4);
    char *data = NULL;
    size_t len = 0;
    CHECK_INT(doc_data(r, "s1-1", 4, &data, &len, &e), XAP_OK);
    CHECK_HAS(data, "number 1 of shard 1");
    free(data);
    char word[64];
    CHECK_INT(xap_reader_spell(r, "turbinx", 7, word, sizeof word, &e), XAP_OK);
    CHECK_STR(word, "turbina");
    /* the first document holding a term (shard a's first, after the merge) */
    CHECK_INT(xap_reader_term_doc_data(r, "blade", 5, &data, &len, &e), XAP_OK);
    CHECK_HAS(data, "number 0 of shard 0");
    free(data);
    CHECK_INT(xap_reader_term_doc_data(r, "zzzabsent", 9, &data, &len, NULL),
              XAP_E_NOT_FOUND);
    CHECK_INT(xap_reader_term_doc_data(r, "", 0, &data, &len, NULL), XAP_E_INVALID_ARG);
    char *val = NULL;
    CHECK_INT(xap_reader_get_meta(r, "k", &val, &len, &e), XAP_OK);
    CHECK_STR(val, "first");
    free(val);
    xap_reader_close(r);

    /* a stored document's terms, and a spelling word taken back out */
    xap_writer *w = NULL;
    CHECK_INT(xap_writer_open(out, 0, &w, &e), XAP_OK);
    unsigned docid = 0;
    CHECK_INT(find_doc(w, "s1-0", 4, &docid, &e), XAP_OK);
    int n_terms = 0;
    CHECK_INT(xap_writer_for_each_doc_term(w, docid, count_term, &n_terms, &e), XAP_OK);
    CHECK(n_terms >= 6); /* turbine blade number 0 of shard 1, stems, Len, Kt, title */
    CHECK_INT(xap_writer_for_each_doc_term(w, 999, count_term, &n_terms, &e),
              XAP_E_DOC_NOT_FOUND);
    CHECK_INT(xap_writer_for_each_doc_term(w, 0, count_term, &n_terms, NULL),
              XAP_E_INVALID_ARG);
    CHECK_INT(xap_writer_remove_spelling(w, "turbina", 7, 4, &e), XAP_OK);
    CHECK_INT(xap_writer_remove_spelling(w, "", 0, 1, NULL), XAP_E_INVALID_ARG);
    CHECK_INT(xap_writer_close(w, &e), XAP_OK);
    CHECK_INT(xap_reader_open(out, &r, &e), XAP_OK);
    CHECK_INT(xap_reader_spell(r, "turbinx", 7, word, sizeof word, &e), XAP_OK);
    CHECK_STR(word, "turbine"); /* turbina left the dictionary */
    xap_reader_close(r);
    xap_analyzer_free(en);
}

/* Each language branch also drops the stop words of the language the query is written
 * in: "the" and "of" of an English query do not match a French document that quotes an
 * English title (in French they are rare words, so they would rank it high). One such
 * word does not tell the language, and then each branch keeps its own list only. */
static void test_sortable(void)
{
    /* which terms are spelling words */

    char a[16], b[16];
    size_t na = xap_sortable_serialise(20240101.0, a, sizeof a);
    size_t nb = xap_sortable_serialise(20250101.0, b, sizeof b);
    CHECK(na > 0 && nb > 0);
    CHECK(memcmp(a, b, na < nb ? na : nb) < 0);
    CHECK(xap_sortable_unserialise(a, na) == 20240101.0);
}

/* The query primitives: building, combining and reading queries. */
static int count_qterm(const char *t, size_t len, unsigned wqf, void *ctx)
{
    (void)t;
    (void)len;
    (void)wqf;
    (*(int *)ctx)++;
    return 0;
}

static void test_queries(void)
{
    struct xap_error e = {0};
    char desc[256];
    xap_query *a = xap_query_term("Zhydrogen", 9, 1, &e);
    xap_query *b = xap_query_term("Lfr", 3, 1, &e);
    CHECK(a && b);
    CHECK_INT(xap_query_op(a), XAP_OP_TERM);
    xap_query *f = xap_query_pair(XAP_OP_FILTER, a, b, &e);
    CHECK(f != NULL);
    CHECK_INT(xap_query_op(f), XAP_OP_FILTER);
    CHECK_INT((int)xap_query_n_sub(f), 2);
    xap_query *sub = xap_query_sub(f, 1, &e);
    CHECK(sub != NULL);
    xap_query_describe(sub, desc, sizeof desc);
    CHECK_HAS(desc, "Lfr");
    xap_query_free(sub);
    CHECK(xap_query_sub(f, 2, &e) == NULL); /* past the end */
    CHECK_INT(e.code, XAP_E_INVALID_ARG);
    memset(&e, 0, sizeof e);
    xap_query *subs[2] = {a, b};
    xap_query *o = xap_query_combine(XAP_OP_OR, subs, 2, 0, &e);
    xap_query *s = xap_query_scale(o, 0.5, &e);
    CHECK(o && s);
    CHECK_INT(xap_query_op(s), XAP_OP_SCALE_WEIGHT);
    size_t full = xap_query_describe(s, desc, 8); /* truncated, full length returned */
    CHECK(full > 8 && strlen(desc) == 7);
    int n = 0;
    CHECK_INT(xap_query_for_each_term(s, count_qterm, &n, &e), XAP_OK);
    CHECK_INT(n, 2);
    /* one subquery stands for itself */
    xap_query *one = xap_query_combine(XAP_OP_OR, subs, 1, 0, &e);
    CHECK_INT(xap_query_op(one), XAP_OP_TERM);
    xap_query *all = xap_query_match_all(&e), *none = xap_query_match_nothing(&e);
    CHECK_INT(xap_query_op(all), XAP_OP_MATCH_ALL);
    CHECK_INT(xap_query_op(none), XAP_OP_MATCH_NOTHING);
    xap_query *fixed = xap_query_fixed_weight(2.5, &e);
    CHECK_INT(xap_query_op(fixed), XAP_OP_OTHER);
    char lo[16];
    size_t lo_len = xap_sortable_serialise(20240101.0, lo, sizeof lo);
    xap_query *rg = xap_query_value_range(3, lo, lo_len, 1, NULL, 0, 0, &e);
    CHECK_INT(xap_query_op(rg), XAP_OP_VALUE_RANGE);
    xap_query *cp = xap_query_copy(f, &e);
    CHECK_INT(xap_query_op(cp), XAP_OP_FILTER);
    CHECK_INT(e.code, XAP_OK);
    /* refused: a leaf kind as an operator, an open range on both sides */
    CHECK(xap_query_combine(XAP_OP_TERM, subs, 2, 0, &e) == NULL);
    CHECK_INT(e.code, XAP_E_INVALID_ARG);
    memset(&e, 0, sizeof e);
    CHECK(xap_query_value_range(3, NULL, 0, 0, NULL, 0, 0, &e) == NULL);
    CHECK_INT(e.code, XAP_E_INVALID_ARG);
    xap_query *list[] = {a, b, f, o, s, one, all, none, fixed, rg, cp};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        xap_query_free(list[i]);
    xap_query_free(NULL);
}

static xap_query *field_value(const char *v, size_t len, void *ctx)
{
    (*(int *)ctx)++;
    if (len != 1 || v[0] != '0')
        return NULL;
    return xap_query_term("XCfuelcell", 10, 1, NULL);
}

/* The parser as its caller sets it up: fields, a field function, stemmer, stop lists. */
static void test_parser(void)
{
    struct xap_error e = {0};
    const char *en_stop[] = {"the", "of"}, *fr_stop[] = {"le", "de"};
    xap_analyzer *en = NULL, *fr = NULL;
    CHECK_INT(xap_analyzer_new("english", en_stop, 2, &en, &e), XAP_OK);
    CHECK_INT(xap_analyzer_new("french", fr_stop, 2, &fr, &e), XAP_OK);
    CHECK(xap_analyzer_has_stop(en) && xap_analyzer_is_stop(en, "the", 3));
    CHECK(!xap_analyzer_is_stop(en, "le", 2) && xap_analyzer_is_stop(fr, "le", 2));
    xap_parser *p = NULL;
    CHECK_INT(xap_parser_new(NULL, &p, &e), XAP_OK);
    int calls = 0;
    CHECK_INT(xap_parser_add_prefix(p, "title", "S", 0, &e), XAP_OK);
    CHECK_INT(xap_parser_add_prefix(p, "lang", "L", 1, &e), XAP_OK);
    CHECK_INT(xap_parser_add_field_fn(p, "kbc", field_value, &calls, &e), XAP_OK);
    CHECK_INT(xap_parser_set_stemmer(p, en, &e), XAP_OK);
    const xap_analyzer *stops[] = {en, fr};
    CHECK_INT(xap_parser_set_stoppers(p, stops, 2, &e), XAP_OK);
    xap_query *q = NULL;
    char desc[512];
    CHECK_INT(xap_parser_parse(p, "the cells of le title:batteries lang:fr kbc:0",
                               XAP_QP_DEFAULT, &q, &e),
              XAP_OK);
    xap_query_describe(q, desc, sizeof desc);
    CHECK_HAS(desc, "Zcell");
    CHECK_HAS(desc, "ZSbatteri");
    CHECK_HAS(desc, "FILTER Lfr"); /* a boolean field filters */
    CHECK_HAS(desc, "XCfuelcell");
    CHECK(strstr(desc, "the") == NULL && strstr(desc, "le@") == NULL); /* stopped */
    CHECK_INT(calls, 1);
    xap_query_free(q);
    q = NULL;
    xap_parser_set_default_and(p, 1);
    CHECK_INT(xap_parser_parse(p, "cells batteries", XAP_QP_DEFAULT, &q, &e), XAP_OK);
    CHECK_INT(xap_query_op(q), XAP_OP_AND);
    xap_query_free(q);
    q = NULL;
    CHECK_INT(xap_parser_parse(p, "hydrogen AND", XAP_QP_DEFAULT, &q, &e),
              XAP_E_QUERY_SYNTAX);
    CHECK(q == NULL);
    CHECK_STR(xap_parser_corrected(p), "");
    CHECK_INT(xap_parser_set_max_expansion(p, XAP_QP_WILDCARD, 5, XAP_EXPAND_ERROR, &e),
              XAP_OK);
    xap_parser_free(p);
    xap_parser_free(NULL);
    xap_analyzer_free(en);
    xap_analyzer_free(fr);
}

static int first_term_cb(const char *t, size_t len, unsigned wdf, void *ctx)
{
    (void)wdf;
    snprintf(ctx, 64, "%.*s", (int)len, t);
    return 1;
}

static int keep_z(const char *t, size_t len, void *ctx)
{
    (void)ctx;
    return len > 1 && t[0] == 'Z';
}

static int count_expand(const char *t, size_t len, unsigned wdf, void *ctx)
{
    (void)wdf;
    CHECK(len > 1 && t[0] == 'Z');
    (*(int *)ctx)++;
    return 0;
}

/* Running queries: options, facets, ids-only passes, what a result carries. */
static void test_enquire(void)
{
    struct xap_error e = {0};
    char path[300];
    snprintf(path, sizeof path, "%s/enquire", dir);
    xap_analyzer *en = NULL;
    CHECK_INT(xap_analyzer_new("english", NULL, 0, &en, &e), XAP_OK);
    xap_writer *w = NULL;
    CHECK_INT(xap_writer_open(path, XAP_OPEN_CREATE, &w, &e), XAP_OK);
    const char *texts[] = {"hydrogen fuel cells", "hydrogen storage tanks",
                           "battery cells and packs"};
    const char *topics[] = {"h2", "h2", "battery"};
    for (int i = 0; i < 3; i++) {
        char uid[8];
        snprintf(uid, sizeof uid, "d%d", i);
        xap_doc *d = make_doc(en, "en", texts[i], topics[i]);
        CHECK_INT(put_doc(w, uid, strlen(uid), d, NULL, &e), XAP_OK);
        xap_doc_free(d);
    }
    CHECK_INT(xap_writer_close(w, &e), XAP_OK);
    xap_reader *r = NULL;
    CHECK_INT(xap_reader_open(path, &r, &e), XAP_OK);
    CHECK_INT(xap_reader_add_lang(r, "en", en, &e), XAP_OK);
    CHECK_INT((int)xap_reader_lang_count(r), 1);
    const char *code = NULL;
    xap_analyzer *got = NULL;
    CHECK_INT(xap_reader_lang(r, 0, &code, &got), XAP_OK);
    CHECK_STR(code, "en");
    CHECK(got == en);
    CHECK_INT(xap_reader_lang(r, 1, &code, &got), XAP_E_INVALID_ARG);

    xap_query *q = xap_query_term("Zhydrogen", 9, 1, &e);
    struct xap_facet facet = {5, 0};
    struct xap_enquire_opts o;
    xap_enquire_opts_init(&o);
    CHECK_INT(o.collapse_slot, -1);
    o.facets = &facet;
    o.n_facets = 1;
    o.check_at_least = 10;
    xap_result *res = NULL;
    CHECK_INT(xap_enquire_run(r, q, &o, 0, 10, &res, &e), XAP_OK);
    CHECK_INT((int)xap_result_size(res), 2);
    struct xap_hit h;
    CHECK_INT(xap_result_hit(res, 0, &h), XAP_OK);
    CHECK(h.data_len > 0 && h.weight > 0);
    CHECK_INT((int)xap_result_facet_size(res, 0), 1);
    CHECK_HAS(xap_result_query_desc(res), "Zhydrogen");
    CHECK_STR(xap_result_corrected(res), "");
    CHECK_INT(xap_result_set_corrected(res, "hydrogen", &e), XAP_OK);
    CHECK_STR(xap_result_corrected(res), "hydrogen");
    /* snippets highlight the snippet query when one is set */
    xap_query *cells = xap_query_term("Zcell", 5, 1, &e);
    CHECK_INT(xap_result_set_snippet_query(res, cells, &e), XAP_OK);
    char *snip =
        xap_result_snippet(res, r, en, "fuel cells", 10, 100, "<b>", "</b>", 0, &e);
    CHECK(snip != NULL);
    CHECK_HAS(snip, "<b>cells</b>");
    free(snip);
    xap_result_free(res);
    res = NULL;
    /* a pass: numbers and weights only */
    o.ids_only = 1;
    CHECK_INT(xap_enquire_run(r, q, &o, 0, 1, &res, &e), XAP_OK);
    CHECK_INT(xap_result_hit(res, 0, &h), XAP_OK);
    CHECK(h.data_len == 0 && h.weight > 0);
    unsigned did = 0;
    CHECK_INT(xap_reader_term_docid(r, "Qd1", 3, &did, &e), XAP_OK);
    CHECK_INT((int)did, 2);
    CHECK_INT(xap_reader_term_docid(r, "Qnone", 5, &did, &e), XAP_E_NOT_FOUND);
    memset(&e, 0, sizeof e);
    char first[64] = "";
    CHECK_INT(xap_reader_for_each_doc_term(r, did, "K", first_term_cb, first, &e), 1);
    CHECK_STR(first, "Kh2");
    CHECK_INT(xap_reader_for_each_doc_term(r, 99, NULL, first_term_cb, first, &e),
              XAP_E_DOC_NOT_FOUND);
    memset(&e, 0, sizeof e);
    unsigned docs[] = {1};
    int n = 0;
    CHECK_INT(xap_reader_expand(r, docs, 1, 5, keep_z, NULL, count_expand, &n, &e),
              XAP_OK);
    CHECK(n > 0 && n <= 5);
    xap_result_free(res);
    xap_query_free(q);
    xap_query_free(cells);
    xap_reader_close(r);
    xap_analyzer_free(en);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/kb-test-xapian-c-XXXXXX");
    if (!mkdtemp(dir))
        return 2;
    test_errors_and_names();
    test_analyzer();
    test_doc_errors();
    test_missing_db();
    test_compact_many();
    test_sortable();
    test_queries();
    test_parser();
    test_enquire();
    rm_rf(dir);
    return check_done("test_xapian_c");
}
