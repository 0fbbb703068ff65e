/* SPDX-License-Identifier: MIT */
/*
 * bench_bigdoc.c - issue #13: what one large document costs the searches that return
 * it. Builds a glass index in DIR (made if missing) of 9 short documents and one
 * `--mb` MiB document whose rare word sits 90 % in, then runs the query that returns
 * them all, with snippets off and on, in one thread; prints CPU ms per query for each.
 * Uses core/search.h only (the engine as kb-server runs it), so the same source builds
 * against an earlier tree for a before/after figure.
 *
 *     bench_bigdoc --dir=/tmp/bigdoc [--mb=10] [--queries=50]
 */
#include "analysis.h"
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
#include <time.h>

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *make_body(size_t len, const char *rare)
{
    static const char *const words[] = {"engine",  "torque", "gearbox", "cooling",
                                        "exhaust", "valve",  "piston",  "manifold",
                                        "sensor",  "clutch", "battery", "inverter"};
    char *b = malloc(len + 1);
    if (!b)
        return NULL;
    size_t n = 0, k = 0;
    while (n + 16 < len) {
        const char *w = words[(k * 7 + k / 5) % 12];
        size_t wl = strlen(w);
        memcpy(b + n, w, wl);
        n += wl;
        b[n++] = k % 14 == 13 ? '\n' : ' ';
        k++;
    }
    memset(b + n, ' ', len - n);
    b[len] = '\0';
    size_t at = len - len / 10;
    while (at > 0 && b[at - 1] != ' ' && b[at - 1] != '\n')
        at--;
    memcpy(b + at, rare, strlen(rare));
    b[at + strlen(rare)] = ' ';
    return b;
}

static int add(xap_writer *w, struct kb_analysis *an, const char *id, const char *title,
               char *body)
{
    struct kb_doc d;
    struct kb_error e;
    struct xap_error xe = {0};
    xap_doc *x = NULL;
    kb_error_clear(&e);
    kb_doc_init(&d);
    kb_doc_set(&d.id, id, (size_t)-1);
    kb_doc_set(&d.title, title, (size_t)-1);
    kb_doc_set(&d.lang, "en", 2);
    kb_doc_set(&d.format, "api", 3);
    d.body = body;
    int rc = kb_analysis_build(an, &d, &x, &e);
    char t[KB_UID_TERM_MAX];
    size_t tl = kb_query_uid_term(KB_PFX_UID, id, strlen(id), t, sizeof t);
    if (!rc)
        rc = xap_writer_replace(w, t, tl, x, NULL, &xe);
    if (rc)
        fprintf(stderr, "bench_bigdoc: %s: %s%s\n", id, e.msg, xe.msg);
    xap_doc_free(x);
    kb_doc_release(&d);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    size_t mb = 10, nq = 50;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--dir=", 6))
            dir = argv[i] + 6;
        else if (!strncmp(argv[i], "--mb=", 5))
            mb = (size_t)atoi(argv[i] + 5);
        else if (!strncmp(argv[i], "--queries=", 10))
            nq = (size_t)atoi(argv[i] + 10);
        else
            dir = NULL, i = argc;
    }
    if (!dir || !mb || !nq) {
        fprintf(stderr, "usage: bench_bigdoc --dir=DIR [--mb=10] [--queries=50]\n");
        return 2;
    }
    static struct kb_resources res;
    static struct kb_config cfg;
    static struct kb_searcher sc;
    struct kb_error e;
    kb_error_clear(&e);
    if (kb_resources_load(&res, &e)) {
        fprintf(stderr, "bench_bigdoc: %s\n", e.msg);
        return 1;
    }
    char stamp[1200];
    snprintf(stamp, sizeof stamp, "%s/iamglass", dir);
    struct stat st;
    if (stat(stamp, &st) != 0) {
        struct kb_analysis an;
        struct xap_error xe = {0};
        xap_writer *w = NULL;
        if (kb_analysis_init(&an, &res, &e) ||
            xap_writer_open(dir, XAP_OPEN_CREATE, &w, &xe)) {
            fprintf(stderr, "bench_bigdoc: cannot create %s: %s%s\n", dir, e.msg, xe.msg);
            return 1;
        }
        int rc = add(w, &an, "big", "Zeppelinoid maintenance manual",
                     make_body(mb << 20, "zeppelinoid"));
        for (int i = 0; i < 9 && !rc; i++) {
            char id[16], body[200];
            snprintf(id, sizeof id, "small-%d", i);
            snprintf(body, sizeof body,
                     "Note %d: the zeppelinoid valve of the test rig, its torque and its "
                     "cooling circuit under load.",
                     i);
            rc = add(w, &an, id, "Zeppelinoid note", strdup(body));
        }
        if (xap_writer_close(w, &xe) || rc)
            return 1;
        kb_analysis_release(&an);
    }
    kb_config_defaults(&cfg);
    if (kb_config_set(&cfg, "index", dir, &e) || kb_searcher_init(&sc, &cfg, &res, &e) ||
        kb_searcher_refresh(&sc, &e)) {
        fprintf(stderr, "bench_bigdoc: %s\n", e.msg);
        return 1;
    }
    for (int snippets = 0; snippets < 2; snippets++) {
        double c0 = cpu_now();
        size_t hits = 0, dropped = 0;
        for (size_t q = 0; q < nq; q++) {
            struct kb_search_params p;
            struct kb_search_result r;
            memset(&r, 0, sizeof r);
            kb_search_params_init(&p);
            p.q = strdup("zeppelinoid");
            p.snippets = snippets;
            p.limit = 10;
            if (kb_search_exec(&sc, &p, &r, &e)) {
                fprintf(stderr, "bench_bigdoc: %s\n", e.msg);
                return 1;
            }
            hits += r.n_hits;
            dropped += (size_t)r.timed_out;
            kb_search_result_release(&r);
            kb_search_params_release(&p);
        }
        double ms = 1e3 * (cpu_now() - c0) / (double)nq;
        printf("bigdoc: %zu MiB document, snippets=%s: %.2f ms CPU per query "
               "(%zu queries, %.1f hits each, %zu timed out)\n",
               mb, snippets ? "true" : "false", ms, nq, (double)hits / (double)nq,
               dropped);
    }
    kb_searcher_release(&sc);
    kb_resources_release(&res);
    return 0;
}
