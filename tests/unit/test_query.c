/* SPDX-License-Identifier: MIT */
/*
 * test_query.c - core/query.c (kb_query_run, kb_query_similar) and core/feedback.c on a
 * real glass database in a temporary directory: language branches, fields, filters,
 * facets, sorting, collapsing, paging, spelling, concept widening, the typo
 * alternative, feedback, the language boost, translation groups, "more like this", bad
 * syntax, a reader that outlives two commits, and empty queries on many threads. These
 * were the wrapper's search tests (test_xapian_c.c) before the policy moved to core.
 */
#include "check.h"
#include "index.h"
#include "query.h"
#include "xap_fixture.h"
#include "xapian_c.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The binding takes unique-id terms whole; these tests make them as core does. */
static size_t fixture_uid_term(const char *uid, size_t len, char *t, size_t cap)
{
    return kb_query_uid_term("Q", uid, len, t, cap);
}

static int del_doc(xap_writer *w, const char *uid, size_t len, struct xap_error *e)
{
    char t[KB_UID_TERM_MAX];
    size_t n = fixture_uid_term(uid, len, t, sizeof t);
    return xap_writer_delete(w, t, n, e);
}

static int count_uid(const char *uid, size_t len, unsigned docid, void *ctx)
{
    (void)uid;
    (void)len;
    (void)docid;
    (*(int *)ctx)++;
    return 0;
}

static int stop_at_first(const char *uid, size_t len, unsigned docid, void *ctx)
{
    (void)uid;
    (void)len;
    (void)docid;
    (void)ctx;
    return 7;
}

static int count_meta(const char *k, const char *v, size_t len, void *ctx)
{
    (void)k;
    (void)v;
    (void)len;
    (*(int *)ctx)++;
    return 0;
}

static int collect_term(const char *t, size_t len, unsigned freq, void *ctx)
{
    (void)freq;
    if (len >= 5 && !memcmp(t, "hydro", 5))
        (*(int *)ctx)++;
    return 0;
}

static void test_write_read_search(void)
{
    struct xap_error e = {0};
    char path[300];
    snprintf(path, sizeof path, "%s/db", dir);
    xap_analyzer *fr = NULL, *it = NULL, *en = NULL;
    CHECK_INT(xap_analyzer_new("french", NULL, 0, &fr, &e), XAP_OK);
    CHECK_INT(xap_analyzer_new("italian", NULL, 0, &it, &e), XAP_OK);
    CHECK_INT(xap_analyzer_new("english", NULL, 0, &en, &e), XAP_OK);

    xap_writer *w = NULL;
    CHECK_INT(xap_writer_open(path, XAP_OPEN_CREATE, &w, &e), XAP_OK);
    /* a second writer is locked out, with its own code */
    xap_writer *w2 = NULL;
    struct xap_error le = {0};
    CHECK_INT(xap_writer_open(path, XAP_OPEN_CREATE, &w2, &le), XAP_E_DB_LOCKED);
    CHECK_STR(le.type, "DatabaseLockError");

    CHECK_INT(xap_writer_begin_txn(w, 0, &e), XAP_OK);
    const char *texts[] = {"production de hydrogene par electrolyse de eau",
                           "produzione di idrogeno e celle a combustibile",
                           "hydrogen fuel cells for heavy trucks",
                           "batteries lithium ion pour vehicules electriques"};
    const char *langs[] = {"fr", "it", "en", "fr"};
    const char *topics[] = {"hydrogen", "hydrogen", "fuel-cells", "batteries"};
    xap_analyzer *ans[] = {fr, it, en, fr};
    for (int i = 0; i < 4; i++) {
        char uid[16];
        unsigned docid = 0;
        snprintf(uid, sizeof uid, "doc%d", i);
        xap_doc *d = make_doc(ans[i], langs[i], texts[i], topics[i]);
        CHECK_INT(xap_doc_set_value_number(d, 3, 20240000.0 + i, &e), XAP_OK);
        CHECK_INT(
            xap_doc_set_value(d, 2, i == 3 ? "dup" : uid, i == 3 ? 3 : strlen(uid), &e),
            XAP_OK);
        CHECK_INT(put_doc(w, uid, strlen(uid), d, &docid, &e), XAP_OK);
        CHECK(docid > 0);
        CHECK_INT(xap_writer_add_doc_spellings(w, d, kb_index_spelling_word, &e), XAP_OK);
        xap_doc_free(d);
    }
    CHECK_INT(xap_writer_add_doc_spellings(w, NULL, kb_index_spelling_word, NULL),
              XAP_E_INVALID_ARG);
    /* commit inside a transaction is an invalid operation */
    struct xap_error ce = {0};
    CHECK_INT(xap_writer_commit(w, &ce), XAP_E_INVALID_OP);
    CHECK_INT(xap_writer_commit_txn(w, &e), XAP_OK);
    /* committing a transaction that is not open fails */
    ce.code = 0;
    CHECK_INT(xap_writer_commit_txn(w, &ce), XAP_E_INVALID_OP);
    CHECK_INT(xap_writer_cancel_txn(w, &ce), XAP_E_INVALID_OP);

    CHECK_INT(xap_writer_set_meta(w, "kb:test", "v1", 2, &e), XAP_OK);
    CHECK_INT(xap_writer_set_meta(w, "", "v1", 2, NULL), XAP_E_INVALID_ARG);
    char *val = NULL;
    size_t vlen = 0;
    CHECK_INT(xap_writer_get_meta(w, "kb:test", &val, &vlen, &e), XAP_OK);
    CHECK_STR(val, "v1");
    free(val);
    CHECK_INT(xap_writer_get_meta(w, "kb:none", &val, &vlen, NULL), XAP_E_NOT_FOUND);
    int metas = 0;
    CHECK_INT(xap_writer_for_each_meta(w, "kb:", count_meta, &metas, &e), XAP_OK);
    CHECK_INT(metas, 1);
    CHECK_INT(xap_writer_for_each_meta(w, "kb:", NULL, NULL, NULL), XAP_E_INVALID_ARG);
    CHECK_INT(xap_writer_add_synonym(w, "hydrogen", "h2", &e), XAP_OK);
    CHECK_INT(xap_writer_add_synonym(w, "", "h2", NULL), XAP_E_INVALID_ARG);
    CHECK_INT(xap_writer_clear_synonyms(w, "nothing", &e), XAP_OK);
    CHECK_INT(xap_writer_clear_synonyms(w, "", NULL), XAP_E_INVALID_ARG);
    CHECK_INT(xap_writer_add_spelling(w, "electrolyse", 11, 2, &e), XAP_OK);
    CHECK_INT(xap_writer_add_spelling(w, "", 0, 1, NULL), XAP_E_INVALID_ARG);
    CHECK_INT(xap_writer_commit(w, &e), XAP_OK);

    unsigned docid = 0, count = 0;
    unsigned long rev = 0;
    CHECK_INT(find_doc(w, "doc2", 4, &docid, &e), XAP_OK);
    CHECK(docid > 0);
    CHECK_INT(find_doc(w, "nope", 4, &docid, NULL), XAP_E_NOT_FOUND);
    char vbuf[32];
    size_t vl = 0;
    CHECK_INT(xap_writer_get_value(w, docid, 4, vbuf, sizeof vbuf, &vl, &e), XAP_OK);
    CHECK_INT(vl, 2);
    CHECK(!memcmp(vbuf, "en", 2));
    CHECK_INT(xap_writer_get_value(w, docid, 4, vbuf, 1, &vl, NULL), XAP_E_TOO_SMALL);
    CHECK_INT(xap_writer_get_value(w, 9999, 4, vbuf, sizeof vbuf, &vl, NULL),
              XAP_E_DOC_NOT_FOUND);
    int uids = 0;
    CHECK_INT(xap_writer_for_each_id(w, "Q", count_uid, &uids, &e), XAP_OK);
    CHECK_INT(uids, 4);
    CHECK_INT(xap_writer_for_each_id(w, "Q", stop_at_first, NULL, &e), 7);
    CHECK_INT(xap_writer_doc_count(w, &count, &e), XAP_OK);
    CHECK_INT(count, 4);
    CHECK_INT(xap_writer_revision(w, &rev, &e), XAP_OK);
    CHECK(rev >= 1);
    CHECK_INT(xap_writer_doc_count(NULL, &count, NULL), XAP_E_INVALID_ARG);
    CHECK_INT(del_doc(w, "nope", 4, NULL), XAP_E_NOT_FOUND);
    CHECK_INT(put_doc(w, "", 0, NULL, NULL, NULL), XAP_E_INVALID_ARG);

    /* a very long uid is hashed into a valid term, and found again */
    char longuid[400];
    memset(longuid, 'x', sizeof longuid);
    xap_doc *ld = make_doc(en, "en", "long id document about pistons", "combustion");
    CHECK_INT(put_doc(w, longuid, sizeof longuid, ld, NULL, &e), XAP_OK);
    xap_doc_free(ld);
    CHECK_INT(find_doc(w, longuid, sizeof longuid, &docid, &e), XAP_OK);
    CHECK_INT(del_doc(w, longuid, sizeof longuid, &e), XAP_OK);
    CHECK_INT(xap_writer_commit(w, &e), XAP_OK);

    /* cancel: a replaced document inside a cancelled transaction is not there */
    CHECK_INT(xap_writer_begin_txn(w, 1, &e), XAP_OK);
    xap_doc *cd = make_doc(en, "en", "cancelled words zzzcancel", "combustion");
    CHECK_INT(put_doc(w, "cancel", 6, cd, NULL, &e), XAP_OK);
    xap_doc_free(cd);
    CHECK_INT(xap_writer_cancel_txn(w, &e), XAP_OK);
    CHECK_INT(find_doc(w, "cancel", 6, &docid, NULL), XAP_E_NOT_FOUND);

    /* --- reader ---------------------------------------------------------------- */
    xap_reader *r = NULL;
    CHECK_INT(xap_reader_open(path, &r, &e), XAP_OK);
    CHECK_INT(xap_reader_add_lang(r, "fr", fr, &e), XAP_OK);
    CHECK_INT(xap_reader_add_lang(r, "it", it, &e), XAP_OK);
    CHECK_INT(xap_reader_add_lang(r, "en", en, &e), XAP_OK);
    CHECK_INT(xap_reader_add_lang(r, "", en, NULL), XAP_E_INVALID_ARG);
    CHECK_INT(xap_reader_doc_count(r, &count, &e), XAP_OK);
    CHECK_INT(count, 4);
    CHECK_INT(xap_reader_revision(r, &rev, &e), XAP_OK);
    char uuid[40];
    CHECK_INT(xap_reader_uuid(r, uuid, sizeof uuid, &e), XAP_OK);
    CHECK_INT((int)strlen(uuid), 36);
    CHECK_INT(xap_reader_uuid(r, uuid, 10, NULL), XAP_E_INVALID_ARG);
    CHECK_INT(xap_reader_get_meta(r, "kb:test", &val, &vlen, &e), XAP_OK);
    free(val);
    CHECK_INT(xap_reader_get_meta(r, "kb:none", &val, &vlen, NULL), XAP_E_NOT_FOUND);
    unsigned freq = 0;
    CHECK_INT(xap_reader_term_freq(r, "Lfr", 3, &freq, &e), XAP_OK);
    CHECK_INT(freq, 2);
    char *data = NULL;
    size_t dlen = 0;
    CHECK_INT(doc_data(r, "doc1", 4, &data, &dlen, &e), XAP_OK);
    CHECK_HAS(data, "idrogeno");
    free(data);
    CHECK_INT(doc_data(r, "nope", 4, &data, &dlen, NULL), XAP_E_NOT_FOUND);
    int hydro = 0;
    CHECK_INT(xap_reader_for_each_term(r, "hydro", 5, 10, collect_term, &hydro, &e),
              XAP_OK);
    CHECK(hydro >= 2);
    char sp[64];
    CHECK_INT(xap_reader_spell(r, "electrolyze", 11, sp, sizeof sp, &e), XAP_OK);
    CHECK_STR(sp, "electrolyse");
    CHECK_INT(xap_reader_spell(NULL, "x", 1, sp, sizeof sp, NULL), XAP_E_INVALID_ARG);

    /* search: per-language branches find every language's stems */
    struct kb_query_spec req;
    kb_query_spec_init(&req);
    req.query = "hydrogene";
    struct xap_facet lang_facet = {4, 0}; /* hits carry the values of facet slots */
    req.facets = &lang_facet;
    req.n_facets = 1;
    xap_result *res = NULL;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    size_t lower, est, upper;
    xap_result_counts(res, &lower, &est, &upper);
    /* the French "hydrogene" and, through the English stemmer, "hydrogen" */
    CHECK_INT(xap_result_size(res), 2);
    CHECK(strlen(xap_result_query_desc(res)) > 0);
    struct xap_hit h;
    CHECK_INT(xap_result_hit(res, 0, &h), XAP_OK);
    CHECK(h.weight > 0);
    CHECK_INT(xap_result_hit(res, 5, &h), XAP_E_INVALID_ARG);
    size_t vlen2 = 0;
    int fr_hits = 0;
    for (size_t i = 0; i < xap_result_size(res); i++) {
        const char *lv = xap_result_hit_value(res, i, 4, &vlen2);
        fr_hits += lv && vlen2 == 2 && !memcmp(lv, "fr", 2);
    }
    CHECK_INT(fr_hits, 1);
    CHECK(xap_result_hit_value(res, 0, 77, &vlen2) == NULL);
    CHECK(xap_result_hit_value(res, 0, 5, &vlen2) == NULL); /* not asked for */
    char *snip = xap_result_snippet(res, r, fr, "La production de hydrogene propre", 33,
                                    100, "<b>", "</b>", 1, &e);
    CHECK_HAS(snip, "<b>hydrogene</b>");
    free(snip);
    snip = xap_result_snippet(res, r, fr, "rien a voir", 11, 100, "<b>", "</b>", 1, &e);
    CHECK_STR(snip, "");
    free(snip);
    CHECK(xap_result_snippet(NULL, r, fr, "x", 1, 10, NULL, NULL, 0, NULL) == NULL);
    /* kb_query_run weighs snippet words by idf (XAP_SNIP_IDF, above); the match's own
     * weights still work, and nothing else is taken */
    CHECK_INT(xap_result_set_snippet_weights(res, 7, &e), XAP_E_INVALID_ARG);
    CHECK_INT(xap_result_set_snippet_weights(NULL, XAP_SNIP_IDF, &e), XAP_E_INVALID_ARG);
    CHECK_INT(xap_result_set_snippet_weights(res, XAP_SNIP_MATCH, &e), XAP_OK);
    snip = xap_result_snippet(res, r, fr, "La production de hydrogene propre", 33, 100,
                              "<b>", "</b>", 1, &e);
    CHECK_HAS(snip, "<b>hydrogene</b>");
    free(snip);
    xap_result_free(res);

    /* filters, facets (single and multi-valued), sort, collapse, ranges */
    kb_query_spec_init(&req);
    req.query = "";
    const char *hyd[] = {"Khydrogen", "Kfuel-cells"};
    struct xap_term_group g = {hyd, 2};
    req.filters = &g;
    req.n_filters = 1;
    struct xap_facet facets[] = {{4, 0}, {5, '\x1f'}};
    req.facets = facets;
    req.n_facets = 2;
    req.check_at_least = 100;
    req.sort = XAP_SORT_VALUE_DESC;
    req.sort_slot = 3;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_INT(xap_result_size(res), 3);
    CHECK_INT(xap_result_facet_size(res, 0), 3);
    const char *fv;
    size_t fl, fc;
    CHECK_INT(xap_result_facet_value(res, 1, 0, &fv, &fl, &fc), XAP_OK);
    CHECK_INT(fc, 2); /* hydrogen: 2 documents */
    CHECK_INT(xap_result_facet_value(res, 9, 0, &fv, &fl, &fc), XAP_E_INVALID_ARG);
    CHECK_INT(xap_result_hit(res, 0, &h), XAP_OK);
    CHECK_HAS(h.data, "trucks"); /* newest first: doc2 */
    xap_result_free(res);

    kb_query_spec_init(&req);
    req.query = "";
    struct xap_range range = {3, 20240001.0, 20240002.0, 1, 1};
    req.ranges = &range;
    req.n_ranges = 1;
    req.collapse_slot = 2;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_INT(xap_result_size(res), 2);
    xap_result_free(res);

    /* similar documents leave the source out */
    kb_query_spec_init(&req);
    CHECK_INT(kb_query_similar(r, "doc0", 4, 20, &req, &res, &e), XAP_OK);
    CHECK(xap_result_size(res) >= 1); /* doc2 shares the stem "hydrogen" */
    for (size_t i = 0; i < xap_result_size(res); i++) {
        xap_result_hit(res, i, &h);
        CHECK(strstr(h.data, "production de hydrogene") == NULL);
    }
    xap_result_free(res);
    CHECK_INT(kb_query_similar(r, "nope", 4, 20, &req, &res, NULL), XAP_E_NOT_FOUND);

    /* bad syntax is its own error; wildcards past the limit are too */
    kb_query_spec_init(&req);
    req.query = "hydrogen AND";
    struct xap_error qe = {0};
    CHECK_INT(kb_query_run(r, &req, &res, &qe), XAP_E_QUERY_SYNTAX);
    CHECK(qe.msg[0] != '\0');
    kb_query_spec_init(&req);
    req.query = "e*";
    req.qp_flags |= XAP_QP_WILDCARD;
    req.max_wildcard = 1;
    qe.code = 0;
    CHECK_INT(kb_query_run(r, &req, &res, &qe), XAP_E_WILDCARD);
    /* spelling correction and synonyms */
    kb_query_spec_init(&req);
    req.query = "electrolyze";
    req.qp_flags |= XAP_QP_SPELLING;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_STR(xap_result_corrected(res), "electrolyse");
    xap_result_free(res);
    kb_query_spec_init(&req);
    req.query = "~hydrogen";
    req.qp_flags |= XAP_QP_SYNONYM;
    const char *one[] = {"en"};
    req.langs = one;
    req.n_langs = 1;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_HAS(xap_result_query_desc(res), "h2");
    xap_result_free(res);
    CHECK_INT(kb_query_run(NULL, &req, &res, NULL), XAP_E_INVALID_ARG);

    /* --- a reader that outlives two commits must reopen and retry -------------- */
    for (int round = 0; round < 3; round++) {
        char uid[16];
        snprintf(uid, sizeof uid, "extra%d", round);
        xap_doc *d = make_doc(en, "en", "extra hydrogen storage tanks", "hydrogen");
        CHECK_INT(put_doc(w, uid, strlen(uid), d, NULL, &e), XAP_OK);
        xap_doc_free(d);
        /* rewrite every document so that old blocks are freed and reused */
        for (int i = 0; i < 4; i++) {
            char u2[16];
            snprintf(u2, sizeof u2, "doc%d", i);
            xap_doc *d2 = make_doc(ans[i], langs[i], texts[i], topics[i]);
            put_doc(w, u2, strlen(u2), d2, NULL, &e);
            xap_doc_free(d2);
        }
        CHECK_INT(xap_writer_commit(w, &e), XAP_OK);
    }
    kb_query_spec_init(&req);
    req.query = "hydrogen";
    req.limit = 50;
    struct xap_error me = {0};
    int rc = kb_query_run(r, &req, &res, &me);
    if (rc == XAP_E_DB_MODIFIED) {
        int changed = 0;
        CHECK_INT(xap_reader_refresh(r, &changed, &e), XAP_OK);
        CHECK_INT(changed, 1);
        rc = kb_query_run(r, &req, &res, &e);
    } else {
        /* not discarded yet: a refresh still moves to the newest revision */
        xap_result_free(res);
        CHECK_INT(xap_reader_refresh(r, NULL, &e), XAP_OK);
        rc = kb_query_run(r, &req, &res, &e);
    }
    CHECK_INT(rc, XAP_OK);
    CHECK(xap_result_size(res) >= 4);
    xap_result_free(res);
    int changed = 1;
    CHECK_INT(xap_reader_refresh(r, &changed, &e), XAP_OK);
    CHECK_INT(changed, 0);
    CHECK_INT(xap_reader_refresh(NULL, &changed, NULL), XAP_E_INVALID_ARG);

    CHECK_INT(del_doc(w, "doc3", 4, &e), XAP_OK);
    CHECK_INT(xap_writer_close(w, &e), XAP_OK);
    xap_reader_close(r);

    /* compaction into a new directory, and refusal to overwrite */
    char cpath[300];
    snprintf(cpath, sizeof cpath, "%s/compact", dir);
    CHECK_INT(xap_compact(path, cpath, &e), XAP_OK);
    CHECK_INT(xap_compact(path, cpath, NULL), XAP_E_INVALID_ARG);
    CHECK_INT(xap_reader_open(cpath, &r, &e), XAP_OK);
    CHECK_INT(xap_reader_doc_count(r, &count, &e), XAP_OK);
    CHECK_INT(count, 6);
    xap_reader_close(r);

    /* a stub directory (XAPIANDB) switched to a new target is followed by refresh */
    char stubdir[300], stub[320];
    snprintf(stubdir, sizeof stubdir, "%s/index", dir);
    mkdir(stubdir, 0755);
    snprintf(stub, sizeof stub, "%s/XAPIANDB", stubdir);
    FILE *f = fopen(stub, "w");
    fprintf(f, "auto ../db\n");
    fclose(f);
    CHECK_INT(xap_reader_open(stubdir, &r, &e), XAP_OK);
    CHECK_INT(xap_reader_doc_count(r, &count, &e), XAP_OK);
    CHECK_INT(count, 6);
    sleep(1); /* a new mtime second, in case the filesystem is coarse */
    f = fopen(stub, "w");
    fprintf(f, "auto ../compact\n# switched\n");
    fclose(f);
    CHECK_INT(xap_reader_refresh(r, &changed, &e), XAP_OK);
    CHECK_INT(changed, 1);
    xap_reader_close(r);

    xap_analyzer_free(fr);
    xap_analyzer_free(it);
    xap_analyzer_free(en);
}

/* A new index `name` under dir, opened for writing, holding texts[i] as document "d<i>"
 * (language langs[i], or "en" when langs is NULL; topic "t"), with the concept term
 * XCfc on the documents whose bit is set in `fc_mask`, and terms[i] (wdf 0) when terms
 * and terms[i] are set. Not committed; its path goes to path[0..cap). */
static xap_writer *texts_index(const char *name, xap_analyzer *an,
                               const char *const *texts, const char *const *langs, int n,
                               unsigned fc_mask, const char *const *terms, char *path,
                               size_t cap)
{
    struct xap_error e = {0};
    snprintf(path, cap, "%s/%s", dir, name);
    xap_writer *w = NULL;
    CHECK_INT(xap_writer_open(path, XAP_OPEN_CREATE, &w, &e), XAP_OK);
    for (int i = 0; i < n; i++) {
        char uid[16];
        snprintf(uid, sizeof uid, "d%d", i);
        xap_doc *d = make_doc(an, langs ? langs[i] : "en", texts[i], "t");
        if (fc_mask & (1u << i))
            CHECK_INT(xap_doc_add_term(d, "XCfc", 4, 1, &e), XAP_OK);
        if (terms && terms[i])
            CHECK_INT(xap_doc_add_term(d, terms[i], strlen(terms[i]), 0, &e), XAP_OK);
        CHECK_INT(put_doc(w, uid, strlen(uid), d, NULL, &e), XAP_OK);
        xap_doc_free(d);
    }
    return w;
}

/* Commits w and opens a reader on path, the index it writes. */
static xap_reader *commit_and_open(xap_writer *w, const char *path)
{
    struct xap_error e = {0};
    CHECK_INT(xap_writer_commit(w, &e), XAP_OK);
    xap_reader *r = NULL;
    CHECK_INT(xap_reader_open(path, &r, &e), XAP_OK);
    return r;
}

/* Closes a test's reader, then its writer, and frees its analyser. */
static void close_index(xap_reader *r, xap_writer *w, xap_analyzer *an)
{
    struct xap_error e = {0};
    xap_reader_close(r);
    CHECK_INT(xap_writer_close(w, &e), XAP_OK);
    xap_analyzer_free(an);
}

/* Searches a small index: concepts (extra terms) stay inside NOTs and filters, the
 * correction is computed only for thin results, feedback only for long queries. */
static void test_expansion(void)
{
    struct xap_error e = {0};
    char path[300];
    xap_analyzer *en = NULL;
    CHECK_INT(xap_analyzer_new("english", NULL, 0, &en, &e), XAP_OK);
    const char *texts[] = {"hydrogen fuel cell trucks",
                           "pile a combustible pour camions",
                           "cella a combustibile per autobus",
                           "battery cell packs",
                           "cell chemistry",
                           "cell balancing"};
    const char *langs[] = {"en", "fr", "it", "en", "en", "en"};
    /* the first three share a concept */
    xap_writer *w = texts_index("exp", en, texts, langs, 6, 0x7, NULL, path, sizeof path);
    CHECK_INT(xap_writer_add_spelling(w, "cell", 4, 1, &e), XAP_OK);
    CHECK_INT(xap_writer_add_spelling(w, "cells", 5, 50, &e), XAP_OK);
    xap_reader *r = commit_and_open(w, path);
    static const struct xap_field fl[] = {{"lang", "L", 1}};
    const char *extra[] = {"XCfc"};
    struct {
        const char *q;
        size_t total;
        const char *absent; /* text that no hit may hold */
    } cases[] = {
        {"hydrogen", 3, NULL},                            /* the concept widens */
        {"hydrogen NOT lang:fr", 2, "pile"},              /* ...inside the NOT */
        {"hydrogen -lang:fr", 2, "pile"},                 /* ...and the love/hate NOT */
        {"hydrogen lang:it", 1, "hydrogen"},              /* ...and a boolean field */
        {"(hydrogen NOT lang:fr) OR battery", 2, "pile"}, /* only re-ranks */
        {"NOT lang:fr", 5, "pile"},
        {"hydrogen AND cell", 1, "cella"},               /* an AND is not widened */
        {"\"hydrogen fuel\"", 1, "pile"},                /* nor a phrase on its own */
        {"(hydrogen OR xc:0) AND cell", 1, "chemistry"}, /* a concept in place */
        {"(pile OR xc:0) AND NOT (fuel OR xc:0)", 0, NULL},
        {"NOT (hydrogen OR xc:0)", 3, "combustibile"}, /* in every language */
        {"NOT (hydrogen OR xc:7)", 5, "hydrogen"},     /* out of range: nothing */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct kb_query_spec req;
        kb_query_spec_init(&req);
        req.query = cases[i].q;
        req.qp_flags |= XAP_QP_PURE_NOT;
        req.fields = fl;
        req.n_fields = 1;
        req.extra_terms = extra;
        req.n_extra = 1;
        req.concept_field = "xc";
        req.concept_terms = extra;
        req.n_concept_terms = 1;
        req.limit = 10;
        req.check_at_least = 100;
        xap_result *res = NULL;
        CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
        size_t lower = 0, est = 0, upper = 0;
        xap_result_counts(res, &lower, &est, &upper);
        if (lower != cases[i].total)
            fprintf(stderr, "query '%s': %zu matches\n", cases[i].q, lower);
        CHECK_INT(lower, cases[i].total);
        for (size_t j = 0; j < xap_result_size(res); j++) {
            struct xap_hit h;
            CHECK_INT(xap_result_hit(res, j, &h), XAP_OK);
            CHECK(!cases[i].absent || !strstr(h.data, cases[i].absent));
        }
        xap_result_free(res);
    }
    /* a filter group (req->filters) holds the concept in too */
    struct kb_query_spec req;
    kb_query_spec_init(&req);
    req.query = "hydrogen";
    req.extra_terms = extra;
    req.n_extra = 1;
    const char *fr[] = {"Lfr"};
    struct xap_term_group g = {fr, 1};
    req.filters = &g;
    req.n_filters = 1;
    xap_result *res = NULL;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_INT(xap_result_size(res), 1);
    xap_result_free(res);

    /* "cell" matches 4 documents: a deferred correction is not computed; an eager one
     * proposes the more frequent "cells" */
    kb_query_spec_init(&req);
    req.query = "cell";
    req.qp_flags |= XAP_QP_SPELLING;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_STR(xap_result_corrected(res), "cells");
    xap_result_free(res);
    req.spelling_below = 3;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_STR(xap_result_corrected(res), "");
    xap_result_free(res);
    /* ...but for a thin result it is */
    req.query = "cel";
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_STR(xap_result_corrected(res), "cell");
    xap_result_free(res);

    /* feedback: not for a one-word query when three are asked for, but for three */
    kb_query_spec_init(&req);
    req.query = "cell";
    req.feedback_docs = 2;
    req.feedback_terms = 5;
    req.feedback_min_words = 3;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK(strstr(xap_result_query_desc(res), "AND_MAYBE") == NULL);
    xap_result_free(res);
    req.query = "battery cell packs";
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_HAS(xap_result_query_desc(res), "AND_MAYBE");
    /* snippets still highlight the words typed */
    char *sn = xap_result_snippet(res, r, en, "cell chemistry", 14, 100, "[", "]", 0, &e);
    CHECK(sn != NULL);
    CHECK_HAS(sn, "[cell]");
    CHECK(strstr(sn, "[chemistry]") == NULL);
    free(sn);
    xap_result_free(res);

    /* typo tolerance: req->alt is ORed in at alt_scale, inside req's filters */
    kb_query_spec_init(&req);
    req.query = "hydrogen";
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_INT(xap_result_size(res), 1);
    struct xap_hit exact;
    CHECK_INT(xap_result_hit(res, 0, &exact), XAP_OK);
    double w_exact = exact.weight;
    xap_result_free(res);
    struct kb_query_spec alt;
    kb_query_spec_init(&alt);
    alt.query = "hydrogen";
    req.query = "hydrgen";
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_INT(xap_result_size(res), 0); /* without alt: as typed */
    xap_result_free(res);
    req.alt = &alt;
    req.alt_scale = 0.5;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_INT(xap_result_size(res), 1);
    struct xap_hit corr;
    CHECK_INT(xap_result_hit(res, 0, &corr), XAP_OK);
    CHECK(corr.weight > 0.49 * w_exact && corr.weight < 0.51 * w_exact);
    xap_result_free(res);
    req.filters = &g; /* French only: the corrected query is filtered too */
    req.n_filters = 1;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_INT(xap_result_size(res), 0);
    xap_result_free(res);

    close_index(r, w, en);
}

/* The rank of the first hit whose text holds `word`, or -1. */
static int rank_of(const xap_result *res, const char *word)
{
    for (size_t j = 0; j < xap_result_size(res); j++) {
        struct xap_hit h;
        CHECK_INT(xap_result_hit(res, j, &h), XAP_OK);
        if (strstr(h.data, word))
            return (int)j;
    }
    return -1;
}

/* Feedback by relevance model: the words that make up the top documents re-rank the
 * query's matches, and a word in more than feedback_max_df of the documents is never
 * taken, however much of the top documents it makes up; with feedback_prefix, the
 * top documents' concepts count too. */
static void test_feedback_model(void)
{
    struct xap_error e = {0};
    char path[300];
    xap_analyzer *en = NULL;
    CHECK_INT(xap_analyzer_new("english", NULL, 0, &en, &e), XAP_OK);
    /* "fuel cell" ranks the first two on top; both are mostly "membrane" and "vehicle";
     * "vehicle" is in 8 documents of 13, "membrane" in 3 */
    const char *texts[] = {"fuel cell membrane membrane vehicle",
                           "fuel cell membrane vehicle",
                           "fuel cell catalyst vehicle vehicle vehicle vehicle vehicle",
                           "vehicle battery",
                           "vehicle motor",
                           "vehicle inverter",
                           "vehicle charging",
                           "vehicle range",
                           "tyre pressure",
                           "brake wear",
                           "fuel tank",
                           "fuel membrane",
                           "fuel pila"};
    /* a concept shared by the top two and by "fuel pila", which shares no word */
    xap_writer *w = texts_index("feedback", en, texts, NULL, 13, 0x3 | 1u << 12, NULL,
                                path, sizeof path);
    xap_reader *r = commit_and_open(w, path);

    struct kb_query_spec req;
    kb_query_spec_init(&req);
    req.query = "fuel cell";
    req.limit = 20;
    xap_result *res = NULL;
    /* without feedback "fuel tank" and "fuel membrane" tie, in document order */
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK(rank_of(res, "fuel tank") < rank_of(res, "fuel membrane"));
    CHECK(rank_of(res, "fuel tank") < rank_of(res, "fuel pila"));
    size_t lower = 0, est = 0, upper = 0;
    xap_result_counts(res, &lower, &est, &upper);
    CHECK_INT(lower, 6);
    xap_result_free(res);

    req.feedback_docs = 2;
    req.feedback_terms = 5;
    req.feedback_max_df = 0.5;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_HAS(xap_result_query_desc(res), "Zmembran");
    CHECK(strstr(xap_result_query_desc(res), "Zvehicl") == NULL); /* in 8 of 13 */
    CHECK(rank_of(res, "fuel membrane") < rank_of(res, "fuel tank"));
    CHECK(strstr(xap_result_query_desc(res), "XCfc") == NULL); /* no feedback_prefix */
    CHECK(rank_of(res, "fuel tank") < rank_of(res, "fuel pila"));
    xap_result_counts(res, &lower, &est, &upper);
    CHECK_INT(lower, 6); /* feedback re-ranks, it adds no match */
    CHECK(rank_of(res, "vehicle battery") < 0);
    xap_result_free(res);

    /* concepts join the model: "fuel pila" rises on the concept alone */
    req.feedback_prefix = "XC";
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_HAS(xap_result_query_desc(res), "XCfc");
    CHECK(rank_of(res, "fuel pila") < rank_of(res, "fuel tank"));
    xap_result_counts(res, &lower, &est, &upper);
    CHECK_INT(lower, 6);
    xap_result_free(res);
    req.feedback_prefix = NULL;

    req.feedback_max_df = 1;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_HAS(xap_result_query_desc(res), "Zvehicl");
    xap_result_free(res);

    close_index(r, w, en);
}

/* Versions of one document (group terms): the other versions that the query matches
 * follow the best one of the top documents, in their own order; the leader gains
 * nothing; a version the query does not match stays out; share 0, no prefix, or a
 * prefix no document has change nothing. */
static void test_translation_groups(void)
{
    struct xap_error e = {0};
    char path[300];
    xap_analyzer *en = NULL;
    CHECK_INT(xap_analyzer_new("english", NULL, 0, &en, &e), XAP_OK);
    const char *texts[] = {
        "hairpin winding hairpin stator", /* g1: the leader */
        "hairpin note",                   /* no group */
        "winding machine",                /* no group */
        "hairpin bobinage epingle stator stator stator stator stator stator stator",
        "avvolgimento forcina statore", /* g1, no query word */
        "winding avvolgimento forcina statore statore statore statore statore statore "
        "statore statore statore statore statore statore statore statore",
        "hairpin hairpin hairpin hairpin", /* g2 */
        "tyre pressure"};
    const char *groups[] = {"XGg1", NULL, NULL, "XGg1", "XGg1", "XGg1", "XGg2", NULL};
    xap_writer *w =
        texts_index("groups", en, texts, NULL, 8, 0, groups, path, sizeof path);
    xap_reader *r = commit_and_open(w, path);

    struct kb_query_spec req;
    kb_query_spec_init(&req);
    req.query = "hairpin winding";
    req.limit = 20;
    xap_result *res = NULL;
    size_t lower = 0, est = 0, upper = 0, before = 0;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    int leader = rank_of(res, "hairpin winding hairpin stator");
    int bobinage = rank_of(res, "bobinage"), winding_it = rank_of(res, "winding avvol");
    int note = rank_of(res, "hairpin note"), machine = rank_of(res, "winding machine");
    CHECK_INT(leader, 0);
    CHECK(bobinage > note && bobinage > machine); /* long: below the short briefs */
    CHECK(winding_it > note && winding_it > machine);
    xap_result_counts(res, &lower, &est, &before);
    xap_result_free(res);

    req.group_prefix = "XG";
    req.group_share = 1;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_INT(rank_of(res, "hairpin winding hairpin stator"), 0);
    /* the two versions follow their leader, the better matched first */
    CHECK_INT(rank_of(res, bobinage < winding_it ? "bobinage" : "winding avvol"), 1);
    CHECK_INT(rank_of(res, bobinage < winding_it ? "winding avvol" : "bobinage"), 2);
    CHECK_INT(rank_of(res, "forcina statore avvolgimento"), -1); /* matches no word */
    xap_result_counts(res, &lower, &est, &upper);
    CHECK_INT(upper, before); /* a re-ranking: the same matches */
    xap_result_free(res);

    /* a document alone in its group (g2) gains nothing for being in one */
    req.query = "hairpin";
    req.group_share = 0;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    int alone = rank_of(res, "hairpin hairpin hairpin hairpin");
    xap_result_free(res);
    req.group_share = 1;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_INT(rank_of(res, "hairpin hairpin hairpin hairpin"), alone);
    xap_result_free(res);

    /* a prefix no document has: nothing moves */
    req.query = "hairpin winding";
    req.group_prefix = "XZ";
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    CHECK_INT(rank_of(res, "bobinage"), bobinage);
    xap_result_free(res);

    close_index(r, w, en);
}

/* Merging shards: documents of every source under new numbers, spelling frequencies
 * summed across sources, the first source's value for a metadata key set in several. */
static void test_query_language(void)
{
    struct xap_error e = {0};
    char path[300];
    snprintf(path, sizeof path, "%s/qlang", dir);
    const char *en_stop[] = {"the", "of", "for", "a"};
    const char *fr_stop[] = {"le", "la", "de", "pour", "a"};
    xap_analyzer *en = NULL, *fr = NULL;
    CHECK_INT(xap_analyzer_new("english", en_stop, 4, &en, &e), XAP_OK);
    CHECK_INT(xap_analyzer_new("french", fr_stop, 5, &fr, &e), XAP_OK);
    xap_writer *w = NULL;
    CHECK_INT(xap_writer_open(path, XAP_OPEN_CREATE, &w, &e), XAP_OK);
    xap_doc *d = make_doc(fr, "fr", "the state of the art des piles", "t");
    CHECK_INT(put_doc(w, "q0", 2, d, NULL, &e), XAP_OK);
    xap_doc_free(d);
    d = make_doc(en, "en", "stack cost", "t");
    CHECK_INT(put_doc(w, "q1", 2, d, NULL, &e), XAP_OK);
    xap_doc_free(d);
    xap_reader *r = commit_and_open(w, path);
    CHECK_INT(xap_reader_add_lang(r, "fr", fr, &e), XAP_OK);
    CHECK_INT(xap_reader_add_lang(r, "en", en, &e), XAP_OK);
    struct {
        const char *q;
        size_t total;
    } cases[] = {
        {"the cost of the stack", 1}, /* English: "the", "of" dropped in French too */
        {"the stack", 2},             /* one function word: French keeps "the" */
        {"cost a stack", 1},          /* "a" is on both lists: it tells nothing */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct kb_query_spec req;
        kb_query_spec_init(&req);
        req.query = cases[i].q;
        req.check_at_least = 100;
        xap_result *res = NULL;
        CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
        size_t lower = 0, est = 0, upper = 0;
        xap_result_counts(res, &lower, &est, &upper);
        if (lower != cases[i].total)
            fprintf(stderr, "query '%s': %zu matches\n", cases[i].q, lower);
        CHECK_INT(lower, cases[i].total);
        struct xap_hit h;
        CHECK_INT(xap_result_hit(res, 0, &h), XAP_OK);
        CHECK(cases[i].total > 1 ||
              (h.data_len == 10 && !memcmp(h.data, "stack cost", 10)));
        xap_result_free(res);
    }
    close_index(r, w, en);
    xap_analyzer_free(fr);
}

/* The score of the document whose data is `data` in `query` (langs: one branch, or NULL
 * for all), -1 when it is not a hit; *total: the matches. */
static double score_of(xap_reader *r, const char *query, const char *lang,
                       const char *data, size_t *total)
{
    struct xap_error e = {0};
    struct kb_query_spec req;
    kb_query_spec_init(&req);
    const char *langs[] = {lang};
    req.query = query;
    req.langs = lang ? langs : NULL;
    req.n_langs = lang ? 1 : 0;
    req.check_at_least = 100;
    xap_result *res = NULL;
    CHECK_INT(kb_query_run(r, &req, &res, &e), XAP_OK);
    size_t lower = 0, est = 0, upper = 0;
    xap_result_counts(res, &lower, &est, &upper);
    *total = lower;
    double w = -1;
    for (size_t i = 0; i < xap_result_size(res); i++) {
        struct xap_hit h;
        CHECK_INT(xap_result_hit(res, i, &h), XAP_OK);
        if (h.data_len == strlen(data) && !memcmp(h.data, data, h.data_len))
            w = h.weight;
    }
    xap_result_free(res);
    return w;
}

/* Language branches that parse alike run as one parse filtered on their languages (no
 * filter when those cover every document): the same matches and the same scores as one
 * branch per language, and a document in no branch's language stays out. */
static void test_joined_branches(void)
{
    struct xap_error e = {0};
    xap_analyzer *en = NULL, *fr = NULL;
    CHECK_INT(xap_analyzer_new("english", NULL, 0, &en, &e), XAP_OK);
    CHECK_INT(xap_analyzer_new("french", NULL, 0, &fr, &e), XAP_OK);
    static const char *const texts[][2] = {{"fr", "gstreamer pipeline running vite"},
                                           {"en", "gstreamer running fast"},
                                           {"en", "another gstreamer gstreamer note"},
                                           {"de", "gstreamer running schnell"}};
    for (int with_de = 0; with_de < 2; with_de++) {
        char path[300];
        snprintf(path, sizeof path, "%s/joined%d", dir, with_de);
        xap_writer *w = NULL;
        CHECK_INT(xap_writer_open(path, XAP_OPEN_CREATE, &w, &e), XAP_OK);
        for (size_t i = 0; i < (with_de ? 4u : 3u); i++) {
            char uid[24];
            snprintf(uid, sizeof uid, "j%zu", i);
            xap_doc *d = make_doc(!strcmp(texts[i][0], "fr") ? fr : en, texts[i][0],
                                  texts[i][1], "t");
            CHECK_INT(put_doc(w, uid, strlen(uid), d, NULL, &e), XAP_OK);
            xap_doc_free(d);
        }
        xap_reader *r = commit_and_open(w, path);
        CHECK_INT(xap_reader_add_lang(r, "fr", fr, &e), XAP_OK);
        CHECK_INT(xap_reader_add_lang(r, "en", en, &e), XAP_OK);
        /* "gstreamer" parses alike in both (joined); "running" does not (en "run") */
        static const char *const queries[] = {"gstreamer", "running",
                                              "gstreamer running"};
        for (size_t q = 0; q < 3; q++) {
            size_t all = 0, one = 0, matched = 0;
            for (size_t i = 0; i < 3; i++) {
                const char *lang = texts[i][0], *data = texts[i][1];
                double joined = score_of(r, queries[q], NULL, data, &all);
                double single = score_of(r, queries[q], lang, data, &one);
                if (joined != single)
                    fprintf(stderr, "'%s' on '%s': %g joined, %g alone\n", queries[q],
                            data, joined, single);
                CHECK(joined == single);
                matched += joined > 0;
            }
            /* the German document is in no branch: never a match */
            CHECK_INT(all, matched);
            CHECK(score_of(r, queries[q], NULL, texts[3][1], &all) < 0);
        }
        xap_reader_close(r);
        CHECK_INT(xap_writer_close(w, &e), XAP_OK);
    }
    xap_analyzer_free(en);
    xap_analyzer_free(fr);
}

/* Worker threads, each with its own reader, search at once with an empty query (the
 * home page's listing and suggest's visibility check): none may share a Xapian object.
 * Xapian's static Query::MatchAll has a plain reference count, and copying it from
 * several threads corrupted it (a crash in Enquire::set_query under load). */
struct empty_query_job {
    const char *path;
    int failures;
};

static void *empty_queries(void *arg)
{
    struct empty_query_job *job = arg;
    struct xap_error e = {0};
    xap_reader *r = NULL;
    if (xap_reader_open(job->path, &r, &e) != XAP_OK) {
        job->failures++;
        return NULL;
    }
    static const char *const pub[] = {"Kt"};
    struct xap_term_group g = {pub, 1};
    for (int i = 0; i < 10000; i++) {
        struct kb_query_spec sr;
        kb_query_spec_init(&sr);
        sr.query = "";
        sr.limit = 1;
        sr.filters = &g;
        sr.n_filters = 1;
        xap_result *res = NULL;
        if (kb_query_run(r, &sr, &res, &e) != XAP_OK || xap_result_size(res) != 1)
            job->failures++;
        xap_result_free(res);
    }
    xap_reader_close(r);
    return NULL;
}

static void test_threads_empty_query(void)
{
    struct xap_error e = {0};
    char path[300];
    xap_analyzer *en = NULL;
    CHECK_INT(xap_analyzer_new("english", NULL, 0, &en, &e), XAP_OK);
    const char *texts[] = {"hydrogen buses", "battery packs", "fuel cells"};
    xap_writer *w =
        texts_index("threads", en, texts, NULL, 3, 0, NULL, path, sizeof path);
    CHECK_INT(xap_writer_commit(w, &e), XAP_OK);
    xap_writer_free(w);
    xap_analyzer_free(en);
    pthread_t t[4];
    struct empty_query_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct empty_query_job){path, 0};
        CHECK_INT(pthread_create(&t[i], NULL, empty_queries, &jobs[i]), 0);
    }
    int failures = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        failures += jobs[i].failures;
    }
    CHECK_INT(failures, 0);
}

/* Unique-id terms: the prefix and the id, hashed past Xapian's safe term length. */
static void test_uid_term(void)
{
    char t[KB_UID_TERM_MAX], u[KB_UID_TERM_MAX], id[400];
    CHECK_INT((int)kb_query_uid_term("Q", "doc-1", 5, t, sizeof t), 6);
    CHECK_STR(t, "Qdoc-1");
    memset(id, 'a', sizeof id);
    size_t n = kb_query_uid_term("Q", id, sizeof id, t, sizeof t);
    CHECK_INT((int)n, 1 + 200 + 17);
    CHECK(t[201] == ':');
    id[399] = 'b'; /* same first 200 bytes, another hash */
    kb_query_uid_term("Q", id, sizeof id, u, sizeof u);
    CHECK(strcmp(t, u) != 0);
    CHECK_INT((int)kb_query_uid_term("Q", "x", 1, t, 8), 0); /* buffer too small */
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/kb-test-query-XXXXXX");
    if (!mkdtemp(dir))
        return 2;
    test_write_read_search();
    test_expansion();
    test_feedback_model();
    test_translation_groups();
    test_query_language();
    test_joined_branches();
    test_threads_empty_query();
    test_uid_term();
    rm_rf(dir);
    return check_done("test_query");
}
