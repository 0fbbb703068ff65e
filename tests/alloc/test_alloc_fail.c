/* SPDX-License-Identifier: MIT */
/*
 * test_alloc_fail.c - the allocation-failure sweep over core and the Xapian wrapper
 * (jansson's test_chaos.c, curl's torture mode, SQLite's malloc fault injection).
 *
 * Each representative operation (loading a config file, a thesaurus, the resources;
 * normalising text; preparing a query; a document's JSON round trip; setting up the
 * analysers; analysing a document into a Xapian document; writing it to a database and
 * searching it) runs once to count its allocations, then once per allocation with
 * exactly that one failing (one-shot, as an allocator under pressure fails one request
 * and may grant the next). Each run must end either in an error with a message, or in
 * exactly the result of the run without failures; a crash, a wrong result or (in the
 * ASan pass) a leak or a use after free fails the test. Operations of more than
 * `limit` allocations are sampled: the first quarter of the points in order, the rest
 * evenly spread.
 *
 * How allocations are made to fail, and why this way: no allocator hook in core/. The
 * program is linked with -Wl,--wrap=malloc (and calloc, realloc, strdup, strndup), so
 * the linker sends every such call made by the objects linked into this program (kb_core,
 * xapian_c, this file) to the __wrap_ functions below, which count and fail on demand
 * and otherwise call the C library's (__real_, or ASan's). jansson takes the same
 * counting allocator through json_set_alloc_funcs, its own documented hook (its parsers
 * are left alone: see __wrap_json_loads), and the
 * global operator new is replaced (alloc_hook.cc), so the C++ allocations made for
 * xapian-c throw std::bad_alloc in turn (libxapian's own are left alone: see there). Core
 * code stays plain malloc/free: no function pointer on every allocation of the programs,
 * nothing to keep in step, and the programs cannot be built with the hook by mistake.
 * What this leaves out: allocations inside other shared C libraries (libc's stdio,
 * libexttextcat, utf8proc).
 *
 * Prints `reliability: test_alloc_fail: N allocation failures injected ...`.
 */
#include "analysis.h"
#include "buf.h"
#include "check.h"
#include "config.h"
#include "doc.h"
#include "index.h"
#include "query.h"
#include "text.h"
#include "thesaurus.h"
#include "xapian_c.h"

#include <execinfo.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- the counting allocator -----------------------------------------------------------
 */

static long long n_alloc;      /* allocations since the operation started */
static int in_loader;          /* inside a jansson parser: nothing fails (see below) */
static long long fail_at = -1; /* the allocation to fail (1-based); -1: none */
static int injected;           /* the failure happened in this run */

int kb_alloc_armed(void);
int kb_alloc_armed(void)
{
    return fail_at >= 0 && !in_loader;
}

int kb_alloc_should_fail(void);
int kb_alloc_should_fail(void)
{
    if (fail_at < 0 || in_loader)
        return 0;
    if (++n_alloc == fail_at) {
        injected = 1;
        if (getenv("KB_ALLOC_TRACE")) { /* where each failure is injected */
            void *frames[32];
            int n = backtrace(frames, 32);
            fprintf(stderr, "--- allocation %lld fails here:\n", n_alloc);
            backtrace_symbols_fd(frames, n, 2);
        }
        return 1;
    }
    return 0;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t a, size_t b);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

void *__wrap_malloc(size_t n)
{
    return kb_alloc_should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t a, size_t b)
{
    return kb_alloc_should_fail() ? NULL : __real_calloc(a, b);
}

void *__wrap_realloc(void *p, size_t n)
{
    return kb_alloc_should_fail() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return kb_alloc_should_fail() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return kb_alloc_should_fail() ? NULL : __real_strndup(s, n);
}

static void *json_alloc(size_t n)
{
    return __wrap_malloc(n);
}

/* jansson's parsers (2.14) ignore some failed allocations (lex_save: a character is
 * dropped from a string, "combustible" read as "combusible") and return a wrong
 * document rather than an error. That is jansson's to fix, not something core can
 * check, so nothing fails inside them: the linker sends core's calls here too. */
json_t *__real_json_loads(const char *input, size_t flags, json_error_t *error);
json_t *__real_json_loadb(const char *buffer, size_t buflen, size_t flags,
                          json_error_t *error);
json_t *__real_json_load_file(const char *path, size_t flags, json_error_t *error);
json_t *__wrap_json_loads(const char *input, size_t flags, json_error_t *error);
json_t *__wrap_json_loadb(const char *buffer, size_t buflen, size_t flags,
                          json_error_t *error);
json_t *__wrap_json_load_file(const char *path, size_t flags, json_error_t *error);

json_t *__wrap_json_loads(const char *input, size_t flags, json_error_t *error)
{
    in_loader++;
    json_t *j = __real_json_loads(input, flags, error);
    in_loader--;
    return j;
}

json_t *__wrap_json_loadb(const char *buffer, size_t buflen, size_t flags,
                          json_error_t *error)
{
    in_loader++;
    json_t *j = __real_json_loadb(buffer, buflen, flags, error);
    in_loader--;
    return j;
}

json_t *__wrap_json_load_file(const char *path, size_t flags, json_error_t *error)
{
    in_loader++;
    json_t *j = __real_json_load_file(path, flags, error);
    in_loader--;
    return j;
}

/* Stops counting (what the operation built is then described without failures). */
static void disarm(void)
{
    fail_at = -1;
}

/* --- results: a signature string per run -----------------------------------------------
 */

static char sig[1 << 16];
static size_t sig_len;

static void sig_reset(void)
{
    sig_len = 0;
    sig[0] = '\0';
}

static void sig_add(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sig + sig_len, sizeof sig - sig_len, fmt, ap);
    va_end(ap);
    if (n > 0)
        sig_len +=
            (size_t)n < sizeof sig - sig_len ? (size_t)n : sizeof sig - sig_len - 1;
}

/* --- shared fixtures (built without failures) ------------------------------------------
 */

static char tmpdir[64];
static char config_path[128], thes_path[128], db_path[128];
static struct kb_resources res;
static struct kb_analysis an;

static const char text_fr[] =
    "L'hydrogène vert et les piles à combustible PEMFC : l'électrolyse alcaline produit "
    "du H₂ à 700 bar pour les poids lourds ; l'onduleur SiC 800 V réduit les pertes.";
static const char text_it[] =
    "Produzione dell'idrogeno per le celle a combustibile; l'autobus ibrido plug-in "
    "(PHEV) e le batterie al litio ferro fosfato.";

/* Fills d; returns 0, or -1 when an allocation failed (d is then partly filled). */
static int fill_doc(struct kb_doc *d)
{
    int rc = kb_doc_set(&d->id, "fr/hydrogene-vert.md", (size_t)-1) |
             kb_doc_set(&d->source, "fr/hydrogene-vert.md", (size_t)-1) |
             kb_doc_set(&d->title, "L'hydrogène vert pour les poids lourds", (size_t)-1) |
             kb_doc_set(&d->abstract, "Électrolyse et piles à combustible.", (size_t)-1) |
             kb_doc_set(&d->body, text_fr, (size_t)-1) |
             kb_doc_set(&d->date, "2025-03-14", (size_t)-1) |
             kb_doc_set(&d->org, "Pôle Véhicule du Futur", (size_t)-1) |
             kb_doc_set(&d->type, "brief", (size_t)-1) |
             kb_doc_set(&d->format, "md", (size_t)-1) |
             kb_strlist_add(&d->authors, "Élise Martin") |
             kb_strlist_add(&d->authors, "Marco Rossi") |
             kb_strlist_add(&d->topics, "hydrogen");
    d->mtime = 1700000000;
    d->size = 1234;
    return rc ? -1 : 0;
}

static int write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = fputs(s, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* --- the operations
 * --------------------------------------------------------------------- Each returns 0
 * with the signature of its result in sig, or an error status with err filled. Each frees
 * everything it made, on every path. */

static int op_config(struct kb_error *err)
{
    struct kb_config c;
    kb_config_defaults(&c);
    int rc = kb_config_load_file(&c, config_path, err);
    disarm();
    if (!rc)
        sig_add("%s|%s|%u|%zu|%zu|%d|%g", c.index, c.sources[0], c.port, c.workers,
                c.n_sources, c.ranking, c.bm25_b);
    return rc;
}

static int op_thesaurus(struct kb_error *err)
{
    struct kb_thesaurus *t = kb_thesaurus_load(thes_path, err);
    disarm();
    if (!t)
        return err->code ? err->code : KB_EINVAL;
    for (size_t i = 0; i < kb_thesaurus_concepts(t); i++) {
        const char *tp[8];
        size_t n = kb_thesaurus_concept_topics(t, i, tp, 8);
        sig_add("%s:%s:%s:%zu;", kb_thesaurus_concept_id(t, i),
                kb_thesaurus_concept_label(t, i, "fr"),
                kb_thesaurus_concept_label(t, i, "it"), n);
    }
    unsigned counts[16] = {0};
    struct kb_buf norm;
    kb_buf_init(&norm, 1 << 16);
    kb_text_normalize(text_fr, sizeof text_fr - 1, 0, &norm);
    kb_thesaurus_match(t, kb_buf_str(&norm), norm.len, text_fr, sizeof text_fr - 1, 0,
                       counts);
    for (size_t i = 0; i < kb_thesaurus_concepts(t) && i < 16; i++)
        sig_add("%u,", counts[i]);
    kb_buf_release(&norm);
    kb_thesaurus_free(t);
    return 0;
}

static int op_resources(struct kb_error *err)
{
    struct kb_resources r;
    memset(&r, 0, sizeof r);
    int rc = kb_resources_load(&r, err);
    disarm();
    if (rc)
        return rc;
    sig_add("%zu", kb_thesaurus_concepts(r.thes));
    for (int l = 0; l < KB_LANG_COUNT; l++)
        sig_add(",%zu", r.sw[l].n);
    kb_resources_release(&r);
    return 0;
}

static int op_normalize(struct kb_error *err)
{
    int rc = KB_OK;
    for (unsigned mode = 0; mode < 2 && !rc; mode++) {
        struct kb_buf b;
        kb_buf_init(&b, 1 << 16);
        rc = kb_text_normalize(text_it, sizeof text_it - 1, mode ? KB_NORM_QUERY : 0, &b);
        if (!rc)
            sig_add("%s|", kb_buf_str(&b));
        kb_buf_release(&b);
    }
    disarm();
    return rc ? kb_error_set(err, rc, "normalize failed") : 0;
}

static int op_query(struct kb_error *err)
{
    static const char q[] = "\"pile à combustible\" AND PHEV NOT diesel l'électrolyse H₂";
    struct kb_query kq;
    memset(&kq, 0, sizeof kq);
    int rc = kb_query_prepare(&res, q, sizeof q - 1, &kq, err);
    disarm();
    if (rc)
        return rc;
    sig_add("%s|%d", kq.text, kq.relaxed_case);
    for (size_t i = 0; i < kq.n_concepts; i++)
        sig_add("|%s", kq.concepts[i]);
    kb_query_release(&kq);
    return 0;
}

static int op_doc_json(struct kb_error *err)
{
    struct kb_doc d, back;
    kb_doc_init(&d);
    kb_doc_init(&back);
    json_t *j = NULL, *j2 = NULL, *j3 = NULL;
    char *s = NULL, *s2 = NULL;
    int rc = KB_OK;
    if (fill_doc(&d)) {
        rc = kb_error_set(err, KB_ENOMEM, "out of memory filling the document");
        goto out;
    }
    if (!(j = kb_doc_to_json(&d, 1)) || !(s = kb_json_dumps(j, JSON_COMPACT)) ||
        !(j2 = json_loads(s, 0, NULL))) {
        rc = kb_error_set(err, KB_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = kb_doc_from_json(&back, j2, 1, err)))
        goto out;
    if (!(j3 = kb_doc_to_json(&back, 1)) || !(s2 = kb_json_dumps(j3, JSON_COMPACT))) {
        rc = kb_error_set(err, KB_ENOMEM, "out of memory");
        goto out;
    }
out:
    disarm();
    if (!rc)
        sig_add("%s", s2);
    free(s);
    free(s2);
    json_decref(j);
    json_decref(j2);
    json_decref(j3);
    kb_doc_release(&d);
    kb_doc_release(&back);
    return rc;
}

static int op_analysis_init(struct kb_error *err)
{
    struct kb_analysis a;
    memset(&a, 0, sizeof a);
    int rc = kb_analysis_init(&a, &res, err);
    disarm();
    if (rc)
        return rc;
    char stem[64];
    struct xap_error xe = {0};
    if (xap_analyzer_stem(a.an[0], "combustibles", 12, stem, sizeof stem, &xe) >= 0)
        sig_add("%s", stem);
    kb_analysis_release(&a);
    return 0;
}

static int term_sig(const char *term, size_t len, unsigned wdf, void *ctx)
{
    (void)ctx;
    sig_add("%.*s:%u ", (int)len, term, wdf);
    return 0;
}

static int op_analysis(struct kb_error *err)
{
    struct kb_doc d;
    kb_doc_init(&d);
    xap_doc *x = NULL;
    int rc = KB_OK;
    if (fill_doc(&d))
        rc = kb_error_set(err, KB_ENOMEM, "out of memory filling the document");
    if (!rc)
        rc = kb_analysis_build(&an, &d, &x, err);
    disarm();
    if (!rc) {
        struct xap_error xe = {0};
        sig_add("%s|", d.lang);
        xap_doc_for_each_term(x, term_sig, NULL, &xe);
    }
    xap_doc_free(x);
    kb_doc_release(&d);
    return rc;
}

static xap_doc *stored; /* built once, stored by op_xapian */

static int op_xapian(struct kb_error *err)
{
    struct xap_error xe = {0};
    xap_writer *w = NULL;
    xap_reader *r = NULL;
    xap_result *res_ = NULL;
    int rc = xap_writer_open(
        db_path, XAP_OPEN_CREATE | XAP_OPEN_OVERWRITE | XAP_OPEN_NO_SYNC, &w, &xe);
    if (!rc)
        rc = xap_writer_replace(w, "Qdoc-1", 6, stored, NULL, &xe);
    if (!rc)
        rc = xap_writer_add_doc_spellings(w, stored, kb_index_spelling_word, &xe);
    if (!rc)
        rc = xap_writer_set_meta(w, "kb:test", "value", 5, &xe);
    if (!rc) {
        rc = xap_writer_close(w, &xe);
        w = NULL;
    }
    if (!rc)
        rc = xap_reader_open(db_path, &r, &xe);
    if (!rc)
        rc = xap_reader_add_lang(r, "fr", an.an[0], &xe);
    if (!rc) {
        struct kb_query_spec req;
        kb_query_spec_init(&req);
        req.query = "hydrogene combustible";
        req.qp_flags |= XAP_QP_SPELLING;
        rc = kb_query_run(r, &req, &res_, &xe);
    }
    disarm();
    if (!rc) {
        struct xap_hit h;
        sig_add("%zu", xap_result_size(res_));
        if (xap_result_size(res_) && !xap_result_hit(res_, 0, &h))
            sig_add(":%u:%zu", h.docid, h.data_len);
    }
    xap_result_free(res_);
    xap_reader_close(r);
    xap_writer_free(w);
    if (rc)
        return kb_error_set(err, KB_EINDEX, "%s", xe.msg[0] ? xe.msg : "xapian error");
    return 0;
}

/* --- the sweep
 * --------------------------------------------------------------------------- */

static long long total_injected, total_errors, total_recovered;

static void sweep(const char *name, int (*op)(struct kb_error *), long long limit)
{
    struct kb_error err;
    char ref[sizeof sig];
    kb_error_clear(&err);
    sig_reset();
    n_alloc = 0;
    fail_at = 1LL << 62; /* count, never fail */
    int rc = op(&err);
    long long total = n_alloc;
    disarm();
    CHECK(rc == 0);
    if (rc) {
        fprintf(stderr, "%s: fails without any injected failure: %s\n", name, err.msg);
        return;
    }
    memcpy(ref, sig, sig_len + 1);
    long long points = total < limit ? total : limit, done = 0, bad = 0;
    for (long long i = 0; i < points; i++) {
        long long k = i + 1;
        if (total > limit && i >= limit / 4) /* sampled: spread the rest evenly */
            k = limit / 4 + 1 +
                (i - limit / 4) * (total - limit / 4) / (limit - limit / 4);
        kb_error_clear(&err);
        sig_reset();
        n_alloc = 0;
        injected = 0;
        fail_at = k;
        rc = op(&err);
        disarm();
        done++;
        if (rc && !err.msg[0]) {
            fprintf(stderr, "%s: allocation %lld failed: error %d without a message\n",
                    name, k, rc);
            bad++;
        } else if (!rc && strcmp(sig, ref) != 0) {
            fprintf(
                stderr,
                "%s: allocation %lld failed (%s): a wrong result instead of an error\n"
                "  got:  %.300s\n  want: %.300s\n",
                name, k, injected ? "injected" : "not reached", sig, ref);
            bad++;
        }
        total_injected += injected;
        total_errors += rc != 0;
        total_recovered += injected && !rc;
    }
    CHECK(bad == 0);
    printf("%-14s %6lld allocations, %5lld failed in turn, %lld wrong\n", name, total,
           done, bad);
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL; /* one operation, for debugging */
    struct kb_error err;
    kb_error_clear(&err);
    json_set_alloc_funcs(json_alloc, free);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kb-alloc-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 2;
    snprintf(config_path, sizeof config_path, "%s/kb.conf", tmpdir);
    snprintf(thes_path, sizeof thes_path, "%s/thesaurus.json", tmpdir);
    snprintf(db_path, sizeof db_path, "%s/db", tmpdir);
    write_file(config_path,
               "# test\nindex = /srv/kb\nsource = a\nsources = b\nport = 9090\n"
               "workers = 3\nranking = bb2\nbm25_b = 0.6\n");
    write_file(thes_path,
               "{\"topics\": [{\"id\": \"hydrogen\", \"labels\": {\"fr\": \"Hydrogène\", "
               "\"it\": \"Idrogeno\", \"en\": \"Hydrogen\"}}],\n"
               " \"concepts\": [{\"id\": \"fuel-cell\", \"topics\": [\"hydrogen\"], "
               "\"labels\": {\"fr\": [\"pile à combustible\"], \"it\": [\"cella a "
               "combustibile\"], \"en\": [\"fuel cell\"]}, \"acronyms\": [\"PEMFC\"]},\n"
               "  {\"id\": \"electrolysis\", \"broader\": \"fuel-cell\", \"topics\": "
               "[\"hydrogen\"], \"labels\": {\"fr\": [\"électrolyse\"], \"it\": "
               "[\"elettrolisi\"], \"en\": [\"electrolysis\"]}}]}\n");
    if (kb_resources_load(&res, &err) || kb_analysis_init(&an, &res, &err)) {
        fprintf(stderr, "cannot load the resources: %s\n", err.msg);
        return 2;
    }
    struct kb_doc d;
    kb_doc_init(&d);
    if (fill_doc(&d) || kb_analysis_build(&an, &d, &stored, &err))
        return 2;
    kb_doc_release(&d);

    if (!only || !strcmp(only, "config"))
        sweep("config", op_config, 2000);
    if (!only || !strcmp(only, "thesaurus"))
        sweep("thesaurus", op_thesaurus, 2000);
    if (!only || !strcmp(only, "normalize"))
        sweep("normalize", op_normalize, 2000);
    if (!only || !strcmp(only, "query"))
        sweep("query", op_query, 2000);
    if (!only || !strcmp(only, "doc-json"))
        sweep("doc-json", op_doc_json, 2000);
    if (!only || !strcmp(only, "analysis"))
        sweep("analysis", op_analysis, 1500);
    if (!only || !strcmp(only, "analysis-init"))
        sweep("analysis-init", op_analysis_init, 400);
    if (!only || !strcmp(only, "resources"))
        sweep("resources", op_resources, 300);
    if (!only || !strcmp(only, "xapian"))
        sweep("xapian", op_xapian, 600);

    xap_doc_free(stored);
    kb_analysis_release(&an);
    kb_resources_release(&res);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove '%s'\n", tmpdir);
    printf("reliability: test_alloc_fail: %lld allocation failures injected over 9 "
           "operations, %lld clean errors, %lld recovered, %d wrong or unclean\n",
           total_injected, total_errors, total_recovered, check_failures);
    return check_done("test_alloc_fail");
}
