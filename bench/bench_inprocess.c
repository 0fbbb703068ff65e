/* SPDX-License-Identifier: MIT */
/*
 * bench_inprocess.c - the engine's ceiling: the same searches the HTTP route runs, done
 * in-process through kb_search_exec (core/search.h) with one searcher, hence one Xapian
 * reader, per thread, exactly as kb-server's workers hold them, and each hit's stored
 * metadata serialised (the bulk of what the route renders). Links core only: no
 * sockets, no HTTP parsing. run_query.py divides the HTTP figures by these.
 *
 *     bench_inprocess --index=DIR --queries=FILE [--threads=N] [--seconds=S]
 *                     [--snippets=0|1] [--facets=0|1] [--spelling=0|1] [--SETTING=V...]
 *
 * --spelling=0 turns off the "did you mean" correction (on by default, as over HTTP),
 * to measure what it costs; any other --setting=value is kb-server's (e.g.
 * --feedback-terms=20), to measure a setting's cost. Each thread cycles through the
 * query set from its own starting point for S seconds. Prints "inprocess: Q queries, X
 * q/s, p50 A ms, p99 B ms, E errors, cpu C s, T timed out" (C: the CPU time the threads
 * spent in their query loops, start-up excluded, so queries per CPU-second can be
 * compared on a busy machine where wall-clock rates mostly measure the other tenants; T:
 * the answers cut by query_seconds, which kb-server would answer 503).
 */
#include "search.h"

#include <jansson.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 64
#define MAX_SAMPLES 2000000

struct shared {
    const struct kb_config *cfg;
    const struct kb_resources *res;
    char **queries;
    size_t n_queries;
    double seconds;
    int snippets, facets, spelling;
};

struct thread_ctx {
    const struct shared *sh;
    pthread_t tid;
    size_t start;
    double *lat; /* latencies (s), malloc'ed, MAX_SAMPLES / threads */
    size_t n, cap, errors;
    size_t timed_out; /* answers cut by the time limit (query_seconds) */
    double cpu;       /* this thread's CPU seconds in the query loop */
};

/* CPU seconds used so far by the calling thread. */
static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds from a monotonic clock. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One thread's loop. Returns NULL. */
static void *run(void *arg)
{
    struct thread_ctx *t = arg;
    const struct shared *sh = t->sh;
    struct kb_error err;
    kb_error_clear(&err);
    struct kb_searcher sc;
    if (kb_searcher_init(&sc, sh->cfg, sh->res, &err) || kb_searcher_refresh(&sc, &err)) {
        fprintf(stderr, "bench_inprocess: %s\n", err.msg);
        t->errors++;
        kb_searcher_release(&sc);
        return NULL;
    }
    double cpu0 = thread_cpu();
    double end = now() + sh->seconds;
    for (size_t i = t->start; t->n < t->cap; i++) {
        double t0 = now();
        if (t0 >= end)
            break;
        struct kb_search_params p;
        struct kb_search_result r;
        kb_search_params_init(&p);
        p.q = strdup(sh->queries[i % sh->n_queries]);
        p.snippets = sh->snippets;
        p.facets = sh->facets ? KB_FACET_ALL : 0;
        p.spelling = sh->spelling;
        kb_error_clear(&err);
        memset(&r, 0, sizeof r);
        if (!p.q || kb_search_exec(&sc, &p, &r, &err)) {
            t->errors++;
        } else {
            t->timed_out += r.timed_out != 0;
            for (size_t k = 0; k < r.n_hits; k++) {
                char *s =
                    r.hits[k].meta ? json_dumps(r.hits[k].meta, JSON_COMPACT) : NULL;
                if (!s)
                    t->errors++;
                free(s);
            }
        }
        kb_search_result_release(&r);
        kb_search_params_release(&p);
        t->lat[t->n++] = now() - t0;
    }
    t->cpu = thread_cpu() - cpu0;
    kb_searcher_release(&sc);
    return NULL;
}

/* qsort comparator for doubles. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Reads one query a line into *out (malloc'ed array of malloc'ed strings). Returns the
 * count, 0 on failure. */
static size_t read_queries(const char *path, char ***out)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, **v = NULL;
    size_t cap = 0, n = 0, vcap = 0;
    ssize_t len;
    if (!f)
        return 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        if (n == vcap) {
            vcap = vcap ? vcap * 2 : 256;
            char **nv = realloc(v, vcap * sizeof *nv);
            if (!nv)
                break;
            v = nv;
        }
        if (!(v[n] = strdup(line)))
            break;
        n++;
    }
    free(line);
    fclose(f);
    *out = v;
    return n;
}

/* "key-name=value" as kb-server's --key-name=value. */
static int set_setting(struct kb_config *cfg, const char *kv, struct kb_error *err)
{
    char key[64];
    const char *eq = strchr(kv, '=');
    size_t n = (size_t)(eq - kv);
    if (n == 0 || n >= sizeof key)
        return -1;
    for (size_t i = 0; i < n; i++)
        key[i] = kv[i] == '-' ? '_' : kv[i];
    key[n] = '\0';
    return kb_config_set(cfg, key, eq + 1, err);
}

int main(int argc, char **argv)
{
    static struct kb_config cfg;
    static struct kb_resources res;
    static struct thread_ctx th[MAX_THREADS];
    struct shared sh = {&cfg, &res, NULL, 0, 10.0, 0, 0, 1};
    struct kb_error err;
    const char *qfile = NULL;
    size_t threads = 2, total = 0, errors = 0, timed_out = 0;
    double *all = NULL;
    int status = 1;
    kb_error_clear(&err);
    kb_config_defaults(&cfg);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strncmp(a, "--index=", 8) && kb_config_set(&cfg, "index", a + 8, &err) == 0)
            continue;
        if (!strncmp(a, "--queries=", 10))
            qfile = a + 10;
        else if (!strncmp(a, "--threads=", 10))
            threads = (size_t)atoi(a + 10);
        else if (!strncmp(a, "--seconds=", 10))
            sh.seconds = atof(a + 10);
        else if (!strncmp(a, "--snippets=", 11))
            sh.snippets = atoi(a + 11);
        else if (!strncmp(a, "--facets=", 9))
            sh.facets = atoi(a + 9);
        else if (!strncmp(a, "--spelling=", 11))
            sh.spelling = atoi(a + 11);
        else if (!strncmp(a, "--", 2) && strchr(a, '=') &&
                 set_setting(&cfg, a + 2, &err) == 0)
            continue; /* a kb-server setting, e.g. --feedback-terms=20 */
        else {
            fprintf(stderr,
                    "usage: bench_inprocess --index=DIR --queries=FILE [--threads=N] "
                    "[--seconds=S] [--snippets=0|1] [--facets=0|1] [--spelling=0|1]\n");
            return 2;
        }
    }
    if (!qfile || threads < 1 || threads > MAX_THREADS || sh.seconds <= 0) {
        fprintf(stderr, "bench_inprocess: --queries is required; 1..%d threads\n",
                MAX_THREADS);
        return 2;
    }
    if (!(sh.n_queries = read_queries(qfile, &sh.queries))) {
        fprintf(stderr, "bench_inprocess: no queries in '%s'\n", qfile);
        goto out;
    }
    if (kb_resources_load(&res, &err)) {
        fprintf(stderr, "bench_inprocess: %s\n", err.msg);
        goto out;
    }
    double t0 = now();
    for (size_t i = 0; i < threads; i++) {
        th[i].sh = &sh;
        th[i].start = i * sh.n_queries / threads;
        th[i].cap = MAX_SAMPLES / threads;
        if (!(th[i].lat = malloc(th[i].cap * sizeof(double))) ||
            pthread_create(&th[i].tid, NULL, run, &th[i])) {
            fprintf(stderr, "bench_inprocess: cannot start thread %zu\n", i);
            threads = i;
            break;
        }
    }
    for (size_t i = 0; i < threads; i++)
        pthread_join(th[i].tid, NULL);
    double wall = now() - t0;
    for (size_t i = 0; i < threads; i++) {
        total += th[i].n;
        errors += th[i].errors;
        timed_out += th[i].timed_out;
    }
    if (!total || !(all = malloc(total * sizeof *all)))
        goto out;
    for (size_t i = 0, k = 0; i < threads; i++)
        for (size_t j = 0; j < th[i].n; j++)
            all[k++] = th[i].lat[j];
    qsort(all, total, sizeof *all, cmp_double);
    double cpu = 0;
    for (size_t i = 0; i < threads; i++)
        cpu += th[i].cpu;
    printf("inprocess: %zu queries, %.1f q/s, p50 %.3f ms, p99 %.3f ms, %zu errors, "
           "cpu %.2f s, %zu timed out\n",
           total, (double)total / wall, 1e3 * all[total / 2], 1e3 * all[total * 99 / 100],
           errors, cpu, timed_out);
    status = errors ? 1 : 0;
out:
    free(all);
    for (size_t i = 0; i < MAX_THREADS; i++)
        free(th[i].lat);
    kb_resources_release(&res);
    for (size_t i = 0; i < sh.n_queries; i++)
        free(sh.queries[i]);
    free(sh.queries);
    return status;
}
