/* SPDX-License-Identifier: MIT */
/*
 * test_snippet.c - stored text and snippets against a real index on disk: a search
 * without snippets reads no body (the hits take their metadata from KB_SLOT_META, an
 * index stored before the slot falls back to the data with the same output), a 10 MB
 * document's match deep inside still gets its snippet and its page, and a body past
 * max_text is cut as the indexer cuts it.
 */
#include "analysis.h"
#include "check.h"
#include "config.h"
#include "doc.h"
#include "error.h"
#include "query.h"
#include "schema.h"
#include "search.h"
#include "searcher.h"
#include "xapian_c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The big documents' size: 10 MB; 1 MB under valgrind (KB_VALGRIND), where indexing 10 MB
 * takes longer than ctest allows; both are far past the long-text and slot thresholds. */
static size_t big = 10u << 20;

static struct kb_resources res;

/* A body of `len` bytes of plain English words, with `word` at byte `at` and, when
 * `pages`, a form feed every 64 KB. */
static char *make_body(size_t len, const char *word, size_t at, int pages)
{
    static const char *const words[] = {"engine",  "torque", "gearbox", "cooling",
                                        "exhaust", "valve",  "piston",  "manifold",
                                        "sensor",  "clutch"};
    char *b = malloc(len + 1);
    size_t n = 0, k = 0;
    while (n < len) {
        const char *w = words[(k * 7 + k / 3) % 10];
        size_t wl = strlen(w);
        if (n + wl + 1 > len)
            break;
        memcpy(b + n, w, wl);
        n += wl;
        b[n++] = pages && k % 9000 == 8999 ? '\f' : (k % 12 == 11 ? '\n' : ' ');
        k++;
    }
    memset(b + n, ' ', len - n);
    b[len] = '\0';
    if (word) {
        while (at > 0 && b[at - 1] != ' ' && b[at - 1] != '\n')
            at--; /* the start of a word */
        memcpy(b + at, word, strlen(word));
        b[at + strlen(word)] = ' ';
    }
    return b;
}

static xap_doc *build(struct kb_analysis *an, const char *id, const char *title,
                      char *body, unsigned pages)
{
    struct kb_doc d;
    struct kb_error e;
    xap_doc *x = NULL;
    kb_error_clear(&e);
    kb_doc_init(&d);
    kb_doc_set(&d.id, id, (size_t)-1);
    kb_doc_set(&d.title, title, (size_t)-1);
    kb_doc_set(&d.lang, "en", 2);
    kb_doc_set(&d.format, "api", 3);
    d.body = body; /* owned by d from here */
    d.pages = pages;
    CHECK_INT(kb_analysis_build(an, &d, &x, &e), KB_OK);
    kb_doc_release(&d);
    return x;
}

/* Writes the three test documents into a glass database at dir; `legacy`: stored as
 * before KB_SLOT_META (the metadata only in the data, before the body). */
static void write_index(const char *dir, int legacy)
{
    struct kb_analysis an;
    struct kb_error e;
    struct xap_error xe = {0};
    xap_writer *w = NULL;
    kb_error_clear(&e);
    CHECK_INT(kb_analysis_init(&an, &res, &e), KB_OK);
    CHECK_INT(xap_writer_open(dir, XAP_OPEN_CREATE, &w, &xe), XAP_OK);
    xap_doc *x[3];
    x[0] = build(&an, "big", "A large maintenance manual",
                 make_body(big, "zeppelinoid", big - big / 10, 0), 0);
    x[1] = build(&an, "paged", "A paged service record",
                 make_body(big, "quasimodular", big / 2, 1), 161);
    x[2] = build(&an, "small", "Zeppelinoid note",
                 strdup("A short note on the zeppelinoid valve."), 0);
    for (int i = 0; i < 3; i++) {
        if (legacy)
            CHECK_INT(xap_doc_set_value(x[i], KB_SLOT_META, "", 0, &xe), XAP_OK);
        const char *id = i == 0 ? "big" : i == 1 ? "paged" : "small";
        char t[KB_UID_TERM_MAX];
        size_t tl = kb_query_uid_term(KB_PFX_UID, id, strlen(id), t, sizeof t);
        CHECK_INT(xap_writer_replace(w, t, tl, x[i], NULL, &xe), XAP_OK);
        xap_doc_free(x[i]);
    }
    CHECK_INT(xap_writer_close(w, &xe), XAP_OK);
    kb_analysis_release(&an);
}

struct outcome {
    char *meta[3], *snippet[3];
    int page[3];
    size_t n;
    unsigned long reads_plain, reads_snip;
};

static void search(struct kb_searcher *sc, const char *q, int snippets, struct outcome *o)
{
    struct kb_search_params p;
    struct kb_search_result r;
    struct kb_error e;
    kb_error_clear(&e);
    memset(&r, 0, sizeof r);
    kb_search_params_init(&p);
    p.q = strdup(q);
    p.snippets = snippets;
    p.members = 1;
    unsigned long before = xap_debug_data_reads();
    CHECK_INT(kb_search_exec(sc, &p, &r, &e), KB_OK);
    unsigned long reads = xap_debug_data_reads() - before;
    if (snippets)
        o->reads_snip = reads;
    else
        o->reads_plain = reads;
    CHECK(!r.timed_out);
    o->n = r.n_hits;
    for (size_t i = 0; i < r.n_hits && i < 3; i++) {
        CHECK(json_object_get(r.hits[i].meta, "body") == NULL);
        if (!snippets) {
            o->meta[i] = json_dumps(r.hits[i].meta, JSON_SORT_KEYS | JSON_COMPACT);
            continue;
        }
        o->snippet[i] = strdup(r.hits[i].snippet ? r.hits[i].snippet : "");
        o->page[i] = r.hits[i].page;
    }
    kb_search_result_release(&r);
    kb_search_params_release(&p);
}

static void run(const char *dir, struct outcome *a, struct outcome *b)
{
    struct kb_config cfg;
    struct kb_searcher sc;
    struct kb_error e;
    kb_error_clear(&e);
    kb_config_defaults(&cfg);
    cfg.query_seconds = 60; /* a slow (sanitised) build must not drop a snippet */
    CHECK_INT(kb_config_set(&cfg, "index", dir, &e), KB_OK);
    CHECK_INT(kb_searcher_init(&sc, &cfg, &res, &e), KB_OK);
    CHECK_INT(kb_searcher_refresh(&sc, &e), KB_OK);
    search(&sc, "zeppelinoid", 0, a);
    search(&sc, "zeppelinoid", 1, a);
    search(&sc, "quasimodular", 0, b);
    search(&sc, "quasimodular", 1, b);
    /* the document view still has the whole body */
    json_t *d = NULL;
    CHECK_INT(kb_search_document(&sc, "big", 1, 1, &d, &e), KB_OK);
    const char *body = json_string_value(json_object_get(d, "body"));
    CHECK(body && strlen(body) == big && strstr(body, "zeppelinoid"));
    json_decref(d);
    CHECK_INT(kb_search_document(&sc, "big", 0, 1, &d, &e), KB_OK);
    CHECK(json_object_get(d, "body") == NULL);
    CHECK_STR(json_string_value(json_object_get(d, "title")),
              "A large maintenance manual");
    json_decref(d);
    kb_searcher_release(&sc);
}

static void release(struct outcome *o)
{
    for (int i = 0; i < 3; i++) {
        free(o->meta[i]);
        free(o->snippet[i]);
    }
}

static void test_stored_text(void)
{
    char dir[] = "/tmp/kb-test-snippet-XXXXXX", now[300], old[300];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(now, sizeof now, "%s/now", dir);
    snprintf(old, sizeof old, "%s/old", dir);
    write_index(now, 0);
    write_index(old, 1);
    struct outcome a = {0}, b = {0}, la = {0}, lb = {0};
    run(now, &a, &b);
    run(old, &la, &lb);

    /* the hit path reads no long body (the short note's data, below
     * KB_META_SLOT_MIN_BODY, is read whole); a snippet reads its hit's */
    CHECK_INT(a.reads_plain, 1);
    CHECK_INT(b.reads_plain, 0);
    CHECK_INT(a.n, 2);
    CHECK_INT(a.reads_snip, 2);
    /* an index stored before the slot: the data is read, the output is the same */
    CHECK_INT(la.reads_plain, 2);
    CHECK_INT(la.n, 2);
    for (int i = 0; i < 2; i++) {
        CHECK(a.meta[i] && la.meta[i] && !strcmp(a.meta[i], la.meta[i]));
        CHECK(a.snippet[i] && la.snippet[i] && !strcmp(a.snippet[i], la.snippet[i]));
    }
    CHECK(a.meta[0] && strstr(a.meta[0], "\"title\""));

    /* big, the word 9/10 in: the snippet shows it highlighted, in its text */
    int found = 0;
    for (int i = 0; i < 2; i++)
        found += a.snippet[i] && strstr(a.snippet[i], "<mark>zeppelinoid</mark>") &&
                 strstr(a.snippet[i], "manifold");
    CHECK_INT(found, 1);
    CHECK(a.snippet[0] && a.snippet[1] &&
          strstr(a.snippet[0], "<mark>zeppelinoid</mark>") &&
          strstr(a.snippet[1], "<mark>zeppelinoid</mark>"));
    /* a paged big document: the page of its match, half-way in */
    CHECK_INT(b.n, 1);
    CHECK(b.snippet[0] && strstr(b.snippet[0], "<mark>quasimodular</mark>"));
    char *pb = make_body(big, "quasimodular", big / 2, 1); /* its page: 1 + the form
                                                              feeds before the word */
    int want = 1;
    const char *match = strstr(pb, "quasimodular");
    for (const char *c = pb; match && c < match; c++)
        want += *c == '\f';
    free(pb);
    CHECK(want > 5);
    CHECK_INT(b.page[0], want);
    CHECK_INT(b.page[0], lb.page[0]);
    CHECK(b.snippet[0] && lb.snippet[0] && !strcmp(b.snippet[0], lb.snippet[0]));
    release(&a);
    release(&b);
    release(&la);
    release(&lb);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
}

/* max_text: the body is cut at a character, like the indexer's readers cut it. */
static void test_max_text(void)
{
    struct kb_analysis an;
    struct kb_error e;
    kb_error_clear(&e);
    res.max_text = 1000;
    CHECK_INT(kb_analysis_init(&an, &res, &e), KB_OK);
    struct kb_doc d;
    kb_doc_init(&d);
    kb_doc_set(&d.id, "long", 4);
    kb_doc_set(&d.lang, "fr", 2);
    char *body = malloc(3002);
    body[0] = 'a';
    for (size_t i = 1; i < 3001; i += 2)
        memcpy(body + i, "\xc3\xa9", 2); /* é at 999-1000: the cut keeps 999 bytes */
    body[3001] = '\0';
    d.body = body;
    xap_doc *x = NULL;
    CHECK_INT(kb_analysis_build(&an, &d, &x, &e), KB_OK);
    CHECK_INT(d.body ? strlen(d.body) : 0, 999);
    xap_doc_free(x);
    kb_doc_release(&d);
    kb_analysis_release(&an);
    res.max_text = 0;
}

int main(void)
{
    struct kb_error e;
    kb_error_clear(&e);
    const char *vg = getenv("KB_VALGRIND");
    if (vg && !strcmp(vg, "1"))
        big = 1u << 20;
    CHECK_INT(kb_resources_load(&res, &e), KB_OK);
    test_max_text();
    test_stored_text();
    kb_resources_release(&res);
    return check_done("test_snippet");
}
