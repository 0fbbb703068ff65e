/* SPDX-License-Identifier: MIT */
/*
 * test_analytics.c - the query counters of server/analytics.c: normalisation, counting
 * and the zero-result list, the space-saving bound of a day, a finished day trimmed,
 * the 365-day window, the file written and read back (and a malformed or unwritable
 * one), and counting from several threads.
 */
#include "analytics.h"
#include "check.h"
#include "text.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY 86400

/* count of `q` in list `name` of a report, -1 when absent */
static long long count_of(const json_t *rep, const char *name, const char *q)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(rep, name), i, it)
    {
        if (!strcmp(json_string_value(json_object_get(it, "query")), q))
            return json_integer_value(json_object_get(it, "count"));
    }
    return -1;
}

static void test_normalize(void)
{
    char buf[KB_ANALYTICS_QUERY_MAX + 1];
    CHECK_INT(kb_analytics_normalize("  Pile  \xc3\x80\tCombustible \n", buf, sizeof buf),
              (long)strlen("pile \xc3\xa0 combustible"));
    CHECK_STR(buf, "pile \xc3\xa0 combustible");
    kb_analytics_normalize("HYDROG\xc3\x88NE\xc2\xa0 800 V", buf, sizeof buf);
    CHECK_STR(buf, "hydrog\xc3\xa8ne 800 v");
    CHECK_INT(kb_analytics_normalize("", buf, sizeof buf), 0);
    CHECK_INT(kb_analytics_normalize(" \t\n ", buf, sizeof buf), 0);
    CHECK_INT(kb_analytics_normalize(NULL, buf, sizeof buf), 0);
    CHECK_INT(kb_analytics_normalize("\xff\xfe", buf, sizeof buf), 0);
    char longq[600] = "";
    for (int i = 0; i < 200; i++)
        memcpy(longq + 2 * i, "\xc3\xa9", 2); /* é: two bytes each */
    size_t n = kb_analytics_normalize(longq, buf, sizeof buf);
    CHECK(n <= KB_ANALYTICS_QUERY_MAX && n > 100);
    CHECK(kb_utf8_valid(buf, n));
}

static void test_counts(time_t now)
{
    struct kb_analytics *a = kb_analytics_new(NULL);
    CHECK(a != NULL);
    kb_analytics_record(a, "batterie", 0, now - DAY); /* days come in order */
    kb_analytics_record(a, "Hydrogen", 0, now);
    kb_analytics_record(a, "  hydrogen ", 0, now);
    kb_analytics_record(a, "HYDROGEN", 0, now);
    kb_analytics_record(a, "zzqx", 1, now);
    kb_analytics_record(a, "", 1, now); /* the home page listing: not counted */
    json_t *r = kb_analytics_report(a, 30, 20, now);
    CHECK(count_of(r, "top", "hydrogen") == 3);
    CHECK(count_of(r, "top", "zzqx") == 1);
    CHECK(count_of(r, "top", "batterie") == 1);
    CHECK(count_of(r, "zero_results", "zzqx") == 1);
    CHECK(count_of(r, "zero_results", "hydrogen") == -1);
    CHECK_INT(json_array_size(json_object_get(r, "top")), 3);
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(json_object_get(r, "top"), 0), "query")),
              "hydrogen");
    CHECK_INT(json_integer_value(json_object_get(r, "days")), 30);
    char since[16];
    time_t first = now - 29 * DAY;
    struct tm tm;
    gmtime_r(&first, &tm);
    strftime(since, sizeof since, "%Y-%m-%d", &tm);
    CHECK_STR(json_string_value(json_object_get(r, "since")), since);
    json_decref(r);
    r = kb_analytics_report(a, 1, 20, now); /* today only */
    CHECK(count_of(r, "top", "batterie") == -1);
    json_decref(r);
    r = kb_analytics_report(a, 30, 1, now); /* limit */
    CHECK_INT(json_array_size(json_object_get(r, "top")), 1);
    json_decref(r);
    kb_analytics_record(NULL, "x", 0, now); /* accepted */
    kb_analytics_free(a);
}

static void test_bounds(time_t now)
{
    struct kb_analytics *a = kb_analytics_new(NULL);
    char q[64];
    /* one day: 5000 distinct queries, one frequent query among them */
    for (int i = 0; i < 5000; i++) {
        snprintf(q, sizeof q, "rare query %d", i);
        kb_analytics_record(a, q, i % 2, now - 3 * DAY);
        if (i % 20 == 0)
            kb_analytics_record(a, "frequent", 1, now - 3 * DAY);
    }
    CHECK(kb_analytics_size(a) <= 2 * KB_ANALYTICS_DAY_MAX);
    json_t *r = kb_analytics_report(a, 30, 5, now);
    CHECK(count_of(r, "top", "frequent") >= 250);
    CHECK(count_of(r, "zero_results", "frequent") >= 250);
    json_decref(r);
    /* the next day: the finished day keeps its KB_ANALYTICS_PAST_MAX most counted */
    kb_analytics_record(a, "next day", 0, now - 2 * DAY);
    CHECK(kb_analytics_size(a) <= 2 * KB_ANALYTICS_PAST_MAX + 1);
    r = kb_analytics_report(a, 30, 5, now);
    CHECK(count_of(r, "top", "frequent") >= 250);
    json_decref(r);
    kb_analytics_free(a);
    /* more than a year of days: bounded by the window and the per-day caps */
    a = kb_analytics_new(NULL);
    kb_analytics_record(a, "frequent", 0, now - 500 * DAY);
    for (int d = 400; d >= 0; d--)
        for (int i = 0; i < 150; i++) {
            snprintf(q, sizeof q, "q%d", i);
            kb_analytics_record(a, q, 0, now - d * DAY);
        }
    CHECK(kb_analytics_size(a) <= KB_ANALYTICS_DAYS * KB_ANALYTICS_PAST_MAX + 150);
    r = kb_analytics_report(a, 365, 200, now);
    CHECK(count_of(r, "top", "q0") == KB_ANALYTICS_DAYS); /* one a day, 365 days kept */
    CHECK(count_of(r, "top", "frequent") == -1);          /* older than the window */
    json_decref(r);
    kb_analytics_free(a);
}

static void test_file(time_t now)
{
    char dir[] = "/tmp/kb-analytics-XXXXXX", path[128], bad[160];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/analytics.json", dir);
    struct kb_analytics *a = kb_analytics_new(path);
    kb_analytics_record(a, "nothing here", 1, now - DAY);
    kb_analytics_record(a, "Fuel Cell", 0, now);
    kb_analytics_record(a, "fuel  cell", 0, now);
    kb_analytics_free(a); /* writes the file */
    CHECK(access(path, F_OK) == 0);
    a = kb_analytics_new(path);
    json_t *r = kb_analytics_report(a, 30, 20, now);
    CHECK(count_of(r, "top", "fuel cell") == 2);
    CHECK(count_of(r, "zero_results", "nothing here") == 1);
    json_decref(r);
    kb_analytics_record(a, "fuel cell", 0, now);
    struct kb_error err;
    kb_error_clear(&err);
    CHECK_INT(kb_analytics_flush(a, &err), KB_OK);
    kb_analytics_free(a);
    a = kb_analytics_new(path);
    r = kb_analytics_report(a, 30, 20, now);
    CHECK(count_of(r, "top", "fuel cell") == 3);
    json_decref(r);
    kb_analytics_free(a);

    /* a malformed file is moved aside, the counts start empty */
    FILE *f = fopen(path, "w");
    fputs("{\"version\":1,\"days\":[{\"date\":\"yesterday\"}]}", f);
    fclose(f);
    a = kb_analytics_new(path);
    CHECK_INT(kb_analytics_size(a), 0);
    snprintf(bad, sizeof bad, "%s.bad", path);
    CHECK(access(bad, F_OK) == 0);
    kb_analytics_free(a);
    unlink(bad);
    unlink(path);
    rmdir(dir);

    /* an unwritable place: an error from flush, counting goes on, no crash */
    a = kb_analytics_new("/nonexistent-kb-dir/analytics.json");
    kb_analytics_record(a, "still counted", 0, now);
    kb_error_clear(&err);
    CHECK_INT(kb_analytics_flush(a, &err), KB_EIO);
    CHECK_HAS(err.msg, "nonexistent-kb-dir");
    kb_analytics_record(a, "still counted", 0, now);
    r = kb_analytics_report(a, 30, 20, now);
    CHECK(count_of(r, "top", "still counted") == 2);
    json_decref(r);
    kb_analytics_free(a);
}

struct thr {
    struct kb_analytics *a;
    time_t now;
};

static void *hammer(void *arg)
{
    struct thr *t = arg;
    char q[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(q, sizeof q, "q%d", i % 50);
        kb_analytics_record(t->a, "shared", 0, t->now);
        kb_analytics_record(t->a, q, 1, t->now);
    }
    return NULL;
}

static void test_threads(time_t now)
{
    struct kb_analytics *a = kb_analytics_new(NULL);
    pthread_t th[4];
    struct thr t = {a, now};
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, hammer, &t);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    json_t *r = kb_analytics_report(a, 1, 100, now);
    CHECK(count_of(r, "top", "shared") == 80000);
    CHECK(count_of(r, "zero_results", "q7") == 4 * 20000 / 50);
    json_decref(r);
    kb_analytics_free(a);
}

int main(void)
{
    time_t now = time(NULL);
    test_normalize();
    test_counts(now);
    test_bounds(now);
    test_file(now);
    test_threads(now);
    return check_done("test_analytics");
}
