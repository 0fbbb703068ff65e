/* SPDX-License-Identifier: MIT */
/*
 * server.h - the HTTP server's shared types. One struct kb_server per process (config,
 * read-only resources, metrics, the libmicrohttpd daemon); one struct kb_worker per
 * worker thread (its own Xapian reader and analysers, opened lazily, never shared); one
 * struct kb_req per request (state hangs off the request and is freed when libmicrohttpd
 * says the request completed). Route handlers fill a struct kb_resp; http.c turns it into
 * the HTTP response, and kb_http_status() is the one place a status becomes HTTP.
 */
#ifndef KB_SERVER_H
#define KB_SERVER_H

#include "analysis.h"
#include "buf.h"
#include "config.h"
#include "error.h"
#include "xapian_c.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

struct MHD_Daemon;
struct MHD_Connection;
struct kb_keys;

enum kb_scope {
    KB_SCOPE_SEARCH = 1 << 0,
    KB_SCOPE_WRITE = 1 << 1,
    KB_SCOPE_ADMIN = 1 << 2
};

/* Request counters for /metrics, guarded by one mutex (cheap next to a search). */
#define KB_METRIC_ROUTES  16
#define KB_METRIC_BUCKETS 12
struct kb_metrics {
    pthread_mutex_t lock;
    unsigned long long by_route_status[KB_METRIC_ROUTES][6]; /* 1xx..5xx + other */
    unsigned long long latency[KB_METRIC_BUCKETS + 1];       /* histogram, +Inf last */
    double latency_sum;
    unsigned long long count;
};

struct kb_server {
    struct kb_config cfg;
    struct kb_resources res;
    struct kb_keys *keys; /* NULL: no keys file, writes are refused */
    struct kb_metrics metrics;
    struct MHD_Daemon *daemon;
    pthread_key_t worker_key;
    pthread_mutex_t workers_lock;
    struct kb_worker **workers; /* every worker ever created, freed at shutdown */
    size_t n_workers;
    pthread_mutex_t log_lock;
    FILE *access_log; /* NULL: none */
    unsigned port;
    double started;
};

/* A worker thread's engine state. */
struct kb_worker {
    xap_reader *reader; /* NULL until the index could be opened */
    struct kb_analysis an;
    int an_ready;
};

/* What a handler produces. Either json (preferred) or raw body bytes. */
struct kb_resp {
    int status;   /* HTTP status */
    json_t *json; /* owned; serialised by http.c */
    char *body;   /* owned raw body (malloc'ed), used when json is NULL */
    size_t body_len;
    const char *ctype;  /* content type for body (static string) */
    char etag[80];      /* "" for none */
    char cache[64];     /* Cache-Control value, "" for none */
    char location[256]; /* Location header, "" for none */
    int allow_cors;     /* add Access-Control-Allow-Origin: * */
    char allow[64];     /* Allow header for 405 */
};

struct kb_req {
    struct kb_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    struct kb_buf body;
    int body_too_big;
    double t0;
    int route;   /* index into the route table, for metrics */
    int status;  /* final status, for the access log */
    char id[24]; /* request id */
};

/* Seconds from a monotonic clock. */
double kb_now(void);

/* --- http.c ------------------------------------------------------------------------ */
/* Starts the daemon on cfg.bind:cfg.port (0 = any free port; srv->port tells which). */
int kb_http_start(struct kb_server *srv, struct kb_error *err);
void kb_http_stop(struct kb_server *srv);
/* The one function that maps a kb_status to an HTTP status. */
int kb_http_status(int kb_status);
/* Sets resp to the JSON error {"error":{"code","message","status"}}. */
void kb_resp_error(struct kb_resp *resp, int http_status, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Sets resp to an error derived from a kb_error. */
void kb_resp_from_error(struct kb_resp *resp, const struct kb_error *err);
/* Query-string argument (decoded), or NULL. */
const char *kb_req_arg(const struct kb_req *req, const char *name);
/* Request header, or NULL. */
const char *kb_req_header(const struct kb_req *req, const char *name);

/* --- worker.c ---------------------------------------------------------------------- */
/* This thread's worker, created on first use; its reader refreshed to the newest
 * revision (or opened, when the index appeared since). NULL with err when the index
 * cannot be opened (503). */
struct kb_worker *kb_worker_get(struct kb_server *srv, struct kb_error *err);
/* After an engine error: XAP_E_DB_MODIFIED -> refresh; not found/closed -> reopen.
 * Returns 1 when the caller should retry its whole operation once. */
int kb_worker_recover(struct kb_server *srv, struct kb_worker *w, int xap_code);
void kb_worker_free(struct kb_worker *w);
/* Maps an xap_error to a kb_error. */
int kb_from_xap(const struct xap_error *xe, struct kb_error *err);

/* --- extra.c: optional subsystems (API keys, the write queue...) ------------------- */
/* Called once before the daemon starts / after it stopped. */
int kb_server_init_extra(struct kb_server *srv, struct kb_error *err);
void kb_server_release_extra(struct kb_server *srv);

/* --- routes (one file each) --------------------------------------------------------- */
typedef void (*kb_handler)(struct kb_req *req, struct kb_resp *resp);
void kb_route_health(struct kb_req *req, struct kb_resp *resp);
void kb_route_search(struct kb_req *req, struct kb_resp *resp);
/* route_static.c: the search page (GET / and /static/...) from cfg.web_dir. */
void kb_route_static(struct kb_req *req, struct kb_resp *resp);

#endif
