/* SPDX-License-Identifier: MIT */
/*
 * bench_analytics.c - the cost of counting one search in the query analytics
 * (kb_analytics_record: normalise, lock, hash lookup): from 1 and from 4 threads, with
 * queries that repeat (a day's table not full) and with distinct queries that keep the
 * day's table full (each one evicts the least counted: the space-saving scan). Prints
 * nanoseconds per recorded query; asserts nothing.
 */
#include "analytics.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define N 200000

struct job {
    struct kb_analytics *a;
    int distinct;
    int id;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
    struct job *j = arg;
    char q[64];
    time_t t = time(NULL);
    for (int i = 0; i < N; i++) {
        snprintf(q, sizeof q, "Pile à combustible %d",
                 j->distinct ? j->id * N + i : i % 500);
        kb_analytics_record(j->a, q, i % 7 == 0, t);
    }
    return NULL;
}

static void bench(int threads, int distinct)
{
    struct kb_analytics *a = kb_analytics_new(NULL);
    pthread_t th[8];
    struct job jobs[8];
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct job){a, distinct, i};
        pthread_create(&th[i], NULL, run, &jobs[i]);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    double s = now_s() - t0;
    printf("%d thread(s), %s queries: %.0f ns per recorded query in each thread (wall), "
           "%zu held\n",
           threads, distinct ? "distinct (table full, evicting)" : "500 repeated",
           s * 1e9 / (double)N, kb_analytics_size(a));
    kb_analytics_free(a);
}

int main(void)
{
    bench(1, 0);
    bench(1, 1);
    bench(4, 0);
    bench(4, 1);
    return 0;
}
