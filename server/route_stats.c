/* SPDX-License-Identifier: MIT */
/*
 * route_stats.c - GET /api/v1/stats (document counts, per language from the term
 * frequencies of Lfr/Lit/Len, revision, the last indexer run from metadata kb:last_run,
 * the files that still fail (the failure records the last run left in the index, also
 * those it skipped as remembered), the writer's queue) and GET /metrics (the same gauges
 * plus request counters, the latency histogram and the suggest cache's hits and misses,
 * in the Prometheus text format 0.0.4). For a client without the members scope every
 * figure leaves member-only documents out: the counts are those of public documents,
 * and the last run is shown only as when it finished and how long it took (its
 * added/updated/failed counts and failure paths would count and name member-only files).
 */
#define _GNU_SOURCE /* strptime, timegm */
#include "routes.h"
#include "schema.h"
#include "search_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Reads the index figures; returns 0, or -1 with a 503 in resp. *last_run is a new
 * reference (JSON null when the indexer never ran). */
static int index_figures(struct kb_req *req, struct kb_resp *resp, unsigned *docs,
                         unsigned per_lang[KB_LANG_COUNT], unsigned long *rev,
                         json_t **last_run)
{
    int members = kb_req_members(req);
    struct kb_error err;
    kb_error_clear(&err);
    struct kb_worker *w = kb_worker_get(req->srv, &err);
    if (!w) {
        kb_resp_error(resp, 503, "index_unavailable", "%s", err.msg);
        return -1;
    }
    if (kb_search_count_visible(&w->s, members, docs, per_lang, NULL)) {
        kb_resp_error(resp, 503, "index_unavailable", "cannot count the documents");
        return -1;
    }
    *rev = kb_worker_revision(w);
    size_t len = 0;
    char *meta = kb_searcher_meta(&w->s, KB_META_LAST_RUN, &len);
    *last_run = meta ? json_loadb(meta, len, 0, NULL) : NULL;
    free(meta);
    if (*last_run && !members) {
        json_t *full = *last_run;
        *last_run = json_object();
        static const char *const keep[] = {"finished", "seconds"};
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
            if (json_object_get(full, keep[i]))
                json_object_set(*last_run, keep[i], json_object_get(full, keep[i]));
        json_decref(full);
    }
    if (!*last_run)
        *last_run = json_null();
    return 0;
}

void kb_route_stats(struct kb_req *req, struct kb_resp *resp)
{
    unsigned docs = 0, per_lang[KB_LANG_COUNT];
    unsigned long rev = 0;
    json_t *last_run = NULL;
    if (index_figures(req, resp, &docs, per_lang, &rev, &last_run))
        return;
    json_t *langs = json_object();
    for (int l = 0; l < KB_LANG_COUNT; l++)
        json_object_set_new(langs, kb_lang_code(l), json_integer(per_lang[l]));
    size_t pending = 0;
    unsigned long long applied = 0;
    kb_writer_status(req->srv, &pending, &applied);
    resp->json = json_pack(
        "{s:I, s:o, s:I, s:o, s:{s:b, s:I, s:I}, s:f}", "documents", (json_int_t)docs,
        "languages", langs, "revision", (json_int_t)rev, "last_run", last_run, "writes",
        "enabled", req->srv->writer != NULL, "pending", (json_int_t)pending,
        "applied_seq", (json_int_t)applied, "uptime_s", kb_now() - req->srv->started);
    /* files that still fail; runs that change nothing keep the index's records as they
     * were, so the last stored run tells them (an older report: its own failures). Only
     * for members: a failing path may name a member-only file. */
    resp->status = 200;
    if (!kb_req_members(req))
        return;
    json_t *lr = json_object_get(resp->json, "last_run");
    json_t *files = json_object_get(lr, "failing");
    json_t *count = json_object_get(lr, "failing_count");
    if (!json_is_array(files))
        files = json_object_get(lr, "failures");
    if (!json_is_integer(count))
        count = json_object_get(lr, "failed");
    json_object_set_new(
        resp->json, "failing",
        json_pack("{s:I, s:o}", "count",
                  (json_int_t)(json_is_integer(count) ? json_integer_value(count) : 0),
                  "files", json_is_array(files) ? json_incref(files) : json_array()));
}

static const char *class_name[6] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
static const char *bucket_le[KB_METRIC_BUCKETS] = {"0.0005", "0.001", "0.0025", "0.005",
                                                   "0.01",   "0.025", "0.05",   "0.1",
                                                   "0.25",   "0.5",   "1",      "2.5"};

void kb_route_metrics(struct kb_req *req, struct kb_resp *resp)
{
    struct kb_server *srv = req->srv;
    struct kb_buf b;
    kb_buf_init(&b, 1u << 20);
    kb_buf_adds(&b,
                "# HELP kb_http_requests_total HTTP requests by route and status class.\n"
                "# TYPE kb_http_requests_total counter\n");
    struct kb_metrics m;
    pthread_mutex_lock(&srv->metrics.lock);
    memcpy(m.by_route_status, srv->metrics.by_route_status, sizeof m.by_route_status);
    memcpy(m.latency, srv->metrics.latency, sizeof m.latency);
    m.latency_sum = srv->metrics.latency_sum;
    m.count = srv->metrics.count;
    pthread_mutex_unlock(&srv->metrics.lock);
    for (int r = 0; r < KB_METRIC_ROUTES && kb_route_name(r); r++)
        for (int c = 0; c < 6; c++)
            if (m.by_route_status[r][c])
                kb_buf_printf(&b,
                              "kb_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                              kb_route_name(r), class_name[c], m.by_route_status[r][c]);
    kb_buf_adds(&b, "# HELP kb_http_request_duration_seconds Time to answer a request.\n"
                    "# TYPE kb_http_request_duration_seconds histogram\n");
    unsigned long long cum = 0;
    for (int i = 0; i < KB_METRIC_BUCKETS; i++) {
        cum += m.latency[i];
        kb_buf_printf(&b, "kb_http_request_duration_seconds_bucket{le=\"%s\"} %llu\n",
                      bucket_le[i], cum);
    }
    cum += m.latency[KB_METRIC_BUCKETS];
    kb_buf_printf(&b,
                  "kb_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                  "kb_http_request_duration_seconds_sum %.6f\n"
                  "kb_http_request_duration_seconds_count %llu\n",
                  cum, m.latency_sum, m.count);
    size_t hits = 0, misses = 0;
    pthread_mutex_lock(&srv->workers_lock);
    for (size_t i = 0; i < srv->n_workers; i++) {
        hits += __atomic_load_n(&srv->workers[i]->suggest_cache.hits, __ATOMIC_RELAXED);
        misses +=
            __atomic_load_n(&srv->workers[i]->suggest_cache.misses, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&srv->workers_lock);
    kb_buf_printf(&b,
                  "# HELP kb_suggest_cache_lookups_total Suggest answers looked up in "
                  "the worker caches, by result.\n"
                  "# TYPE kb_suggest_cache_lookups_total counter\n"
                  "kb_suggest_cache_lookups_total{result=\"hit\"} %zu\n"
                  "kb_suggest_cache_lookups_total{result=\"miss\"} %zu\n",
                  hits, misses);
    kb_buf_printf(&b,
                  "# HELP kb_http_connections_expired_total Connections shut because "
                  "their request was not in within request_seconds.\n"
                  "# TYPE kb_http_connections_expired_total counter\n"
                  "kb_http_connections_expired_total %llu\n",
                  kb_http_expired(srv));

    unsigned docs = 0, per_lang[KB_LANG_COUNT];
    unsigned long rev = 0;
    json_t *last_run = NULL;
    struct kb_resp tmp;
    memset(&tmp, 0, sizeof tmp);
    int up = index_figures(req, &tmp, &docs, per_lang, &rev, &last_run) == 0;
    json_decref(tmp.json);
    kb_buf_printf(&b,
                  "# HELP kb_index_up 1 when the index can be read.\n"
                  "# TYPE kb_index_up gauge\nkb_index_up %d\n",
                  up);
    if (up) {
        kb_buf_printf(&b,
                      "# HELP kb_index_documents Documents in the index.\n"
                      "# TYPE kb_index_documents gauge\nkb_index_documents %u\n",
                      docs);
        kb_buf_adds(&b, "# HELP kb_index_documents_by_lang Documents per language.\n"
                        "# TYPE kb_index_documents_by_lang gauge\n");
        for (int l = 0; l < KB_LANG_COUNT; l++)
            kb_buf_printf(&b, "kb_index_documents_by_lang{lang=\"%s\"} %u\n",
                          kb_lang_code(l), per_lang[l]);
        kb_buf_printf(&b,
                      "# HELP kb_index_revision Revision the server reads.\n"
                      "# TYPE kb_index_revision gauge\nkb_index_revision %lu\n",
                      rev);
        json_t *secs = json_object_get(last_run, "seconds");
        json_t *fin = json_object_get(last_run, "finished");
        if (json_is_number(secs))
            kb_buf_printf(&b,
                          "# HELP kb_last_run_seconds Duration of the last indexer run.\n"
                          "# TYPE kb_last_run_seconds gauge\nkb_last_run_seconds %.3f\n",
                          json_number_value(secs));
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *fs = json_string_value(fin);
        const char *end = fs ? strptime(fs, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
        if (end && !*end)
            kb_buf_printf(
                &b,
                "# HELP kb_last_run_timestamp_seconds End of the last indexer run.\n"
                "# TYPE kb_last_run_timestamp_seconds gauge\n"
                "kb_last_run_timestamp_seconds %lld\n",
                (long long)timegm(&tm));
        json_t *failed = json_object_get(last_run, "failed");
        if (json_is_integer(failed))
            kb_buf_printf(&b,
                          "# HELP kb_last_run_failed Files that failed in the last run.\n"
                          "# TYPE kb_last_run_failed gauge\nkb_last_run_failed %lld\n",
                          (long long)json_integer_value(failed));
    }
    json_decref(last_run);
    size_t pending = 0;
    unsigned long long applied = 0;
    kb_writer_status(srv, &pending, &applied);
    kb_buf_printf(&b,
                  "# HELP kb_writer_pending Journaled writes not yet applied.\n"
                  "# TYPE kb_writer_pending gauge\nkb_writer_pending %zu\n",
                  pending);
    resp->body_len = b.len;
    resp->body = kb_buf_steal(&b);
    resp->ctype = "text/plain; version=0.0.4; charset=utf-8";
    resp->status = resp->body ? 200 : 500;
    kb_buf_release(&b);
}
