/* SPDX-License-Identifier: MIT */
/*
 * analytics.h - query analytics for the people who curate the knowledge base: how often
 * each query was searched and how often it found nothing, per UTC day, for at most a
 * year (GET /api/v1/analytics/queries, route_analytics.c). Queries are counted in a
 * normalised form (trimmed, case-folded, blanks collapsed); nothing else about a
 * request is kept (no address, no key, no time finer than the day).
 *
 * Bounds: the current day tracks at most KB_ANALYTICS_DAY_MAX distinct queries in each
 * of its two lists (all queries, queries without results) with the space-saving
 * algorithm (a new query replaces the least counted one and inherits its count + 1, so
 * any query searched more than 1/KB_ANALYTICS_DAY_MAX of the day's searches is kept); a
 * finished day keeps its KB_ANALYTICS_PAST_MAX most counted queries; days older than
 * KB_ANALYTICS_DAYS are dropped. Memory and the file are bounded by about
 * (2 * 1000 + 2 * 364 * 100) queries of at most KB_ANALYTICS_QUERY_MAX bytes.
 *
 * The counts are written to a JSON file (temporary file, fsync, rename) every
 * KB_ANALYTICS_FLUSH_SECONDS when something changed, and when the server stops; they are
 * read back at start. A file that cannot be written is a warning on stderr, never an
 * error: the counts then live in memory only.
 */
#ifndef KB_ANALYTICS_H
#define KB_ANALYTICS_H

#include "error.h"

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#define KB_ANALYTICS_DAYS          365
#define KB_ANALYTICS_DAY_MAX       1000
#define KB_ANALYTICS_PAST_MAX      100
#define KB_ANALYTICS_QUERY_MAX     120
#define KB_ANALYTICS_FLUSH_SECONDS 60

struct kb_analytics;

/* Creates the counters and reads `path` when it exists (path NULL or "": memory only).
 * An unreadable or malformed file is a warning on stderr (a malformed one is renamed
 * to path.bad) and the counts start empty. Starts the flushing thread when there is a
 * path. Returns NULL when out of memory. */
struct kb_analytics *kb_analytics_new(const char *path);
/* Writes the counts one last time (when changed), stops the thread, frees. Accepts NULL.
 */
void kb_analytics_free(struct kb_analytics *a);

/* Counts one search of query `q` (any UTF-8 text, as typed) at time `now`; `zero`: it
 * found nothing. An empty query after normalisation is not counted. Thread-safe; the
 * normalisation runs outside the lock, the lock covers a hash lookup. Accepts a NULL
 * `a` (does nothing). */
void kb_analytics_record(struct kb_analytics *a, const char *q, int zero, time_t now);

/* The answer of GET /api/v1/analytics/queries: {"top":[{query,count}],
 * "zero_results":[{query,count}],"since":"YYYY-MM-DD","days":N} over the `days` days
 * ending with the day of `now` (most counted first, then by query), at most `limit` of
 * each. New reference, NULL when out of memory. */
json_t *kb_analytics_report(struct kb_analytics *a, unsigned days, size_t limit,
                            time_t now);

/* Writes the file now if something changed since the last write. Returns KB_OK, or
 * KB_EIO with a message (the counts stay in memory). */
int kb_analytics_flush(struct kb_analytics *a, struct kb_error *err);

/* The normalised form of q into buf (NUL-terminated, at most KB_ANALYTICS_QUERY_MAX
 * bytes cut at a character boundary): trimmed, case-folded (Unicode), runs of blanks
 * made one space. Returns its length (0 for an empty query). */
size_t kb_analytics_normalize(const char *q, char *buf, size_t cap);

/* Number of distinct queries held (both lists, every day): the memory bound's witness.
 */
size_t kb_analytics_size(struct kb_analytics *a);

#endif
