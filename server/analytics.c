/* SPDX-License-Identifier: MIT */
/*
 * analytics.c - see analytics.h. One mutex guards the days; each day holds two tables
 * (every counted query, and those that found nothing): an array of entries with a
 * chained hash over it (FNV-1a), bounded by the space-saving rule when full. A report
 * sums the days of its window into a temporary table and sorts it. The file is
 * {"version":1,"days":[{"date","top":[[query,count]...],"zero_results":[...]}]}.
 */
#include "analytics.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

struct entry {
    char *q;
    unsigned long long count;
    int next; /* next entry in the hash chain, -1 at the end */
};

struct table {
    struct entry *v;
    size_t n, cap;
    size_t max; /* 0: unbounded (report merges) */
    int *heads; /* nheads chains (a power of two), -1 when empty */
    size_t nheads;
};

struct day {
    long day; /* days since 1970-01-01 (UTC) */
    struct table all, zero;
};

struct kb_analytics {
    pthread_mutex_t lock; /* days, ndays, dirty */
    struct day *days;     /* oldest first, at most KB_ANALYTICS_DAYS + 1 */
    size_t ndays;
    int dirty;
    char path[1100];            /* "" = memory only */
    pthread_mutex_t flush_lock; /* one writer of the file at a time; warned */
    int warned;
    pthread_t thread;
    int started;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    int stop;
};

/* --- tables ----------------------------------------------------------------------- */

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int table_init(struct table *t, size_t max)
{
    memset(t, 0, sizeof *t);
    t->max = max;
    t->nheads = 64;
    while (max && t->nheads < 2 * max)
        t->nheads *= 2;
    t->heads = malloc(t->nheads * sizeof *t->heads);
    if (!t->heads)
        return -1;
    memset(t->heads, 0xff, t->nheads * sizeof *t->heads);
    return 0;
}

static void table_release(struct table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].q);
    free(t->v);
    free(t->heads);
    memset(t, 0, sizeof *t);
}

static void table_link(struct table *t, size_t i)
{
    size_t b = hash(t->v[i].q) & (t->nheads - 1);
    t->v[i].next = t->heads[b];
    t->heads[b] = (int)i;
}

static void table_rehash(struct table *t)
{
    memset(t->heads, 0xff, t->nheads * sizeof *t->heads);
    for (size_t i = 0; i < t->n; i++)
        table_link(t, i);
}

static int table_find(const struct table *t, const char *q)
{
    for (int i = t->heads[hash(q) & (t->nheads - 1)]; i >= 0; i = t->v[i].next)
        if (!strcmp(t->v[i].q, q))
            return i;
    return -1;
}

/* Adds `inc` to query q (copied). A full bounded table gives the least counted entry's
 * place to q, with that count + inc (space-saving). Returns 0 or -1 (out of memory). */
static int table_add(struct table *t, const char *q, unsigned long long inc)
{
    int i = table_find(t, q);
    if (i >= 0) {
        t->v[i].count += inc;
        return 0;
    }
    char *copy = strdup(q);
    if (!copy)
        return -1;
    if (t->max && t->n >= t->max) {
        size_t m = 0;
        for (size_t k = 1; k < t->n; k++)
            if (t->v[k].count < t->v[m].count)
                m = k;
        /* unlink m from its chain */
        int *pp = &t->heads[hash(t->v[m].q) & (t->nheads - 1)];
        while (*pp != (int)m)
            pp = &t->v[*pp].next;
        *pp = t->v[m].next;
        free(t->v[m].q);
        t->v[m].q = copy;
        t->v[m].count += inc;
        table_link(t, m);
        return 0;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        if (t->max && cap > t->max)
            cap = t->max;
        struct entry *v = realloc(t->v, cap * sizeof *v);
        if (!v) {
            free(copy);
            return -1;
        }
        t->v = v;
        t->cap = cap;
    }
    if (t->n + 1 > t->nheads / 2) { /* chains stay short */
        int *h = realloc(t->heads, 2 * t->nheads * sizeof *h);
        if (!h) {
            free(copy);
            return -1;
        }
        t->heads = h;
        t->nheads *= 2;
        table_rehash(t);
    }
    t->v[t->n].q = copy;
    t->v[t->n].count = inc;
    table_link(t, t->n);
    t->n++;
    return 0;
}

/* Most counted first, then by query (a stable, readable order). */
static int by_count(const void *x, const void *y)
{
    const struct entry *a = x, *b = y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->q, b->q);
}

/* Keeps the `keep` most counted entries, under a new bound `max`. */
static void table_trim(struct table *t, size_t keep, size_t max)
{
    if (t->n > 1)
        qsort(t->v, t->n, sizeof *t->v, by_count);
    for (size_t i = keep; i < t->n; i++)
        free(t->v[i].q);
    if (t->n > keep)
        t->n = keep;
    t->max = max;
    table_rehash(t);
}

/* --- days ------------------------------------------------------------------------- */

static void day_release(struct day *d)
{
    table_release(&d->all);
    table_release(&d->zero);
}

static void day_string(long day, char *buf, size_t cap)
{
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%d", &tm);
}

static long parse_day(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, m, d;
    if (!s || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 ||
        d > 31)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    time_t t = timegm(&tm);
    return t < 0 ? -1 : (long)(t / 86400);
}

/* Drops the days before `first` (oldest first). */
static void drop_before(struct kb_analytics *a, long first)
{
    size_t k = 0;
    while (k < a->ndays && a->days[k].day < first)
        day_release(&a->days[k++]);
    if (k) {
        memmove(a->days, a->days + k, (a->ndays - k) * sizeof *a->days);
        a->ndays -= k;
    }
}

/* The day to count into (caller holds the lock): the newest day when it is today (or
 * later: a clock set back counts into it), else a new day, after trimming the day
 * that ended and dropping days past the window. NULL when out of memory. */
static struct day *today(struct kb_analytics *a, long now)
{
    if (a->ndays && a->days[a->ndays - 1].day >= now)
        return &a->days[a->ndays - 1];
    if (a->ndays) {
        struct day *last = &a->days[a->ndays - 1];
        table_trim(&last->all, KB_ANALYTICS_PAST_MAX, KB_ANALYTICS_PAST_MAX);
        table_trim(&last->zero, KB_ANALYTICS_PAST_MAX, KB_ANALYTICS_PAST_MAX);
    }
    drop_before(a, now - KB_ANALYTICS_DAYS + 1);
    struct day *v = realloc(a->days, (a->ndays + 1) * sizeof *v);
    if (!v)
        return NULL;
    a->days = v;
    struct day *d = &a->days[a->ndays];
    d->day = now;
    if (table_init(&d->all, KB_ANALYTICS_DAY_MAX)) {
        return NULL;
    }
    if (table_init(&d->zero, KB_ANALYTICS_DAY_MAX)) {
        table_release(&d->all);
        return NULL;
    }
    a->ndays++;
    return d;
}

/* --- normalising ------------------------------------------------------------------ */

size_t kb_analytics_normalize(const char *q, char *buf, size_t cap)
{
    if (!cap)
        return 0;
    buf[0] = '\0';
    if (!q)
        return 0;
    utf8proc_uint8_t *folded = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)q, 0, &folded,
                                      UTF8PROC_NULLTERM | UTF8PROC_STABLE |
                                          UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    if (n < 0)
        return 0; /* not UTF-8: the search route refuses it before */
    size_t out = 0, limit = cap - 1;
    if (limit > KB_ANALYTICS_QUERY_MAX)
        limit = KB_ANALYTICS_QUERY_MAX;
    int space = 0;
    for (const unsigned char *p = folded; *p && out < limit;) {
        size_t blank = 0;
        if (isspace(*p))
            blank = 1;
        else if (p[0] == 0xc2 && p[1] == 0xa0) /* no-break space */
            blank = 2;
        if (blank) {
            space = out > 0;
            p += blank;
            continue;
        }
        if (space) {
            buf[out++] = ' ';
            space = 0;
            if (out >= limit)
                break;
        }
        buf[out++] = (char)*p++;
    }
    free(folded);
    out = kb_utf8_trim(buf, out, out); /* never end inside a character */
    while (out && buf[out - 1] == ' ')
        out--;
    buf[out] = '\0';
    return out;
}

/* --- recording and reporting ------------------------------------------------------ */

void kb_analytics_record(struct kb_analytics *a, const char *q, int zero, time_t now)
{
    char norm[KB_ANALYTICS_QUERY_MAX + 1];
    if (!a || !kb_analytics_normalize(q, norm, sizeof norm))
        return;
    pthread_mutex_lock(&a->lock);
    struct day *d = today(a, (long)(now / 86400));
    if (d) {
        table_add(&d->all, norm, 1);
        if (zero)
            table_add(&d->zero, norm, 1);
        a->dirty = 1;
    }
    pthread_mutex_unlock(&a->lock);
}

static json_t *list_json(struct table *t, size_t limit)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    if (t->n > 1)
        qsort(t->v, t->n, sizeof *t->v, by_count);
    for (size_t i = 0; i < t->n && i < limit; i++)
        json_array_append_new(arr, json_pack("{s:s, s:I}", "query", t->v[i].q, "count",
                                             (json_int_t)t->v[i].count));
    return arr;
}

json_t *kb_analytics_report(struct kb_analytics *a, unsigned days, size_t limit,
                            time_t now)
{
    struct table all, zero;
    json_t *o = NULL;
    long last = (long)(now / 86400), first = last - (long)days + 1;
    if (table_init(&all, 0) || table_init(&zero, 0))
        goto out;
    if (a) {
        pthread_mutex_lock(&a->lock);
        for (size_t i = 0; i < a->ndays; i++) {
            struct day *d = &a->days[i];
            if (d->day < first || d->day > last)
                continue;
            for (size_t k = 0; k < d->all.n; k++)
                table_add(&all, d->all.v[k].q, d->all.v[k].count);
            for (size_t k = 0; k < d->zero.n; k++)
                table_add(&zero, d->zero.v[k].q, d->zero.v[k].count);
        }
        pthread_mutex_unlock(&a->lock);
    }
    char since[16];
    day_string(first, since, sizeof since);
    o = json_pack("{s:o, s:o, s:s, s:I}", "top", list_json(&all, limit), "zero_results",
                  list_json(&zero, limit), "since", since, "days", (json_int_t)days);
out:
    table_release(&all);
    table_release(&zero);
    return o;
}

size_t kb_analytics_size(struct kb_analytics *a)
{
    size_t n = 0;
    if (!a)
        return 0;
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->ndays; i++)
        n += a->days[i].all.n + a->days[i].zero.n;
    pthread_mutex_unlock(&a->lock);
    return n;
}

/* --- the file --------------------------------------------------------------------- */

static json_t *pairs_json(const struct table *t)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < t->n; i++)
        json_array_append_new(arr,
                              json_pack("[s, I]", t->v[i].q, (json_int_t)t->v[i].count));
    return arr;
}

/* The whole state as the file's JSON (caller holds the lock). */
static json_t *state_json(struct kb_analytics *a)
{
    json_t *days = json_array();
    for (size_t i = 0; days && i < a->ndays; i++) {
        char date[16];
        day_string(a->days[i].day, date, sizeof date);
        json_array_append_new(days, json_pack("{s:s, s:o, s:o}", "date", date, "top",
                                              pairs_json(&a->days[i].all), "zero_results",
                                              pairs_json(&a->days[i].zero)));
    }
    return json_pack("{s:i, s:o}", "version", 1, "days", days);
}

static int load_pairs(struct table *t, const json_t *arr)
{
    size_t i;
    json_t *p;
    if (!json_is_array(arr))
        return -1;
    json_array_foreach(arr, i, p)
    {
        const char *q = json_string_value(json_array_get(p, 0));
        json_int_t c = json_integer_value(json_array_get(p, 1));
        char norm[KB_ANALYTICS_QUERY_MAX + 1];
        if (!q || c <= 0)
            return -1;
        /* normalised again: a hand-edited file cannot put odd keys in the tables */
        if (kb_analytics_normalize(q, norm, sizeof norm) &&
            table_add(t, norm, (unsigned long long)c))
            return -1;
    }
    return 0;
}

/* Reads the file into the (empty) state. 0, or -1 when it is malformed. */
static int load(struct kb_analytics *a, const json_t *root, time_t now)
{
    const json_t *days = json_object_get(root, "days");
    long last = (long)(now / 86400);
    size_t i;
    json_t *d;
    if (json_integer_value(json_object_get(root, "version")) != 1 || !json_is_array(days))
        return -1;
    json_array_foreach(days, i, d)
    {
        long day = parse_day(json_string_value(json_object_get(d, "date")));
        if (day < 0)
            return -1;
        if (day <= last - KB_ANALYTICS_DAYS || day > last)
            continue; /* past the window, or from a clock that ran ahead */
        if (a->ndays && day <= a->days[a->ndays - 1].day)
            return -1; /* days are written oldest first, once each */
        struct day *v = realloc(a->days, (a->ndays + 1) * sizeof *v);
        if (!v)
            return -1;
        a->days = v;
        struct day *nd = &a->days[a->ndays];
        nd->day = day;
        if (table_init(&nd->all, 0))
            return -1;
        if (table_init(&nd->zero, 0)) {
            table_release(&nd->all);
            return -1;
        }
        a->ndays++;
        if (load_pairs(&nd->all, json_object_get(d, "top")) ||
            load_pairs(&nd->zero, json_object_get(d, "zero_results")))
            return -1;
        size_t cap = day == last ? KB_ANALYTICS_DAY_MAX : KB_ANALYTICS_PAST_MAX;
        /* the bound again, and the hash sized for it */
        table_trim(&nd->all, cap, 0);
        table_trim(&nd->zero, cap, 0);
        nd->all.max = nd->zero.max = cap;
    }
    return 0;
}

/* Writes s to path through path.tmp: fsync, rename, fsync the folder. */
static int write_atomic(const char *path, const char *s, struct kb_error *err)
{
    char tmp[1200], dir[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return kb_error_set(err, KB_EIO, "cannot write '%s': %s", tmp, strerror(errno));
    size_t len = strlen(s), off = 0;
    while (off < len) {
        ssize_t k = write(fd, s + off, len - off);
        if (k <= 0) {
            int e = k < 0 ? errno : ENOSPC;
            close(fd);
            unlink(tmp);
            return kb_error_set(err, KB_EIO, "cannot write '%s': %s", tmp, strerror(e));
        }
        off += (size_t)k;
    }
    if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return kb_error_set(err, KB_EIO, "cannot write '%s': %s", path, strerror(e));
    }
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *(slash == dir ? slash + 1 : slash) = '\0';
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return KB_OK;
}

int kb_analytics_flush(struct kb_analytics *a, struct kb_error *err)
{
    int rc = KB_OK;
    if (!a || !a->path[0])
        return KB_OK;
    pthread_mutex_lock(&a->flush_lock);
    pthread_mutex_lock(&a->lock);
    json_t *state = a->dirty ? state_json(a) : NULL;
    int was_dirty = a->dirty;
    a->dirty = 0;
    pthread_mutex_unlock(&a->lock);
    if (!was_dirty)
        goto out;
    char *s = state ? json_dumps(state, JSON_COMPACT) : NULL;
    if (!s)
        rc = kb_error_set(err, KB_ENOMEM, "out of memory");
    else
        rc = write_atomic(a->path, s, err);
    free(s);
    if (rc) {
        pthread_mutex_lock(&a->lock);
        a->dirty = 1; /* try again next time */
        pthread_mutex_unlock(&a->lock);
        if (!a->warned)
            fprintf(stderr,
                    "kb-server: warning: query analytics kept in memory only: %s\n",
                    err->msg);
        a->warned = 1;
    } else if (a->warned) {
        fprintf(stderr, "kb-server: query analytics written to '%s' again\n", a->path);
        a->warned = 0;
    }
out:
    json_decref(state);
    pthread_mutex_unlock(&a->flush_lock);
    return rc;
}

static void *flush_main(void *arg)
{
    struct kb_analytics *a = arg;
    pthread_mutex_lock(&a->stop_lock);
    while (!a->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += KB_ANALYTICS_FLUSH_SECONDS;
        pthread_cond_timedwait(&a->stop_cond, &a->stop_lock, &ts);
        if (a->stop)
            break;
        pthread_mutex_unlock(&a->stop_lock);
        struct kb_error err;
        kb_error_clear(&err);
        kb_analytics_flush(a, &err); /* a failure is warned about inside */
        pthread_mutex_lock(&a->stop_lock);
    }
    pthread_mutex_unlock(&a->stop_lock);
    return NULL;
}

struct kb_analytics *kb_analytics_new(const char *path)
{
    struct kb_analytics *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->flush_lock, NULL);
    pthread_mutex_init(&a->stop_lock, NULL);
    pthread_cond_init(&a->stop_cond, NULL);
    if (!path || !*path)
        return a;
    snprintf(a->path, sizeof a->path, "%s", path);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (root && load(a, root, time(NULL))) {
        char bad[1200];
        snprintf(bad, sizeof bad, "%s.bad", path);
        fprintf(stderr,
                "kb-server: warning: '%s' is not a query analytics file: moved to '%s', "
                "counts start empty\n",
                path, bad);
        rename(path, bad);
        for (size_t i = 0; i < a->ndays; i++)
            day_release(&a->days[i]);
        a->ndays = 0;
    } else if (!root && access(path, F_OK) == 0) {
        fprintf(stderr, "kb-server: warning: cannot read query analytics '%s': %s\n",
                path, je.text);
    }
    json_decref(root);
    if (pthread_create(&a->thread, NULL, flush_main, a) == 0)
        a->started = 1;
    return a;
}

void kb_analytics_free(struct kb_analytics *a)
{
    if (!a)
        return;
    if (a->started) {
        pthread_mutex_lock(&a->stop_lock);
        a->stop = 1;
        pthread_cond_signal(&a->stop_cond);
        pthread_mutex_unlock(&a->stop_lock);
        pthread_join(a->thread, NULL);
    }
    struct kb_error err;
    kb_error_clear(&err);
    kb_analytics_flush(a, &err);
    for (size_t i = 0; i < a->ndays; i++)
        day_release(&a->days[i]);
    free(a->days);
    pthread_mutex_destroy(&a->lock);
    pthread_mutex_destroy(&a->flush_lock);
    pthread_mutex_destroy(&a->stop_lock);
    pthread_cond_destroy(&a->stop_cond);
    free(a);
}
