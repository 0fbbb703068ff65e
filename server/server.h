/* SPDX-License-Identifier: MIT */
/*
 * server.h - the HTTP server's shared types. One struct kb_server per process (config,
 * read-only resources, metrics, the libmicrohttpd daemon); one struct kb_worker per
 * worker thread (its own engine handle, core/searcher.h, opened lazily, never shared);
 * one struct kb_req per request (state hangs off the request and is freed when
 * libmicrohttpd says the request completed). Route handlers fill a struct kb_resp; http.c
 * turns it into the HTTP response; kb_api_status() (http.c's table) is where an error
 * becomes HTTP.
 */
#ifndef KB_SERVER_H
#define KB_SERVER_H

#include "analysis.h"
#include "buf.h"
#include "cache.h"
#include "config.h"
#include "error.h"
#include "searcher.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

struct MHD_Daemon;
struct MHD_Connection;
struct kb_keys;
struct kb_writer;
struct kb_ratelimit;
struct kb_conns;
struct kb_sessions;
struct kb_analytics;

enum kb_scope {
    KB_SCOPE_SEARCH = 1 << 0,
    KB_SCOPE_WRITE = 1 << 1,
    KB_SCOPE_ADMIN = 1 << 2,
    KB_SCOPE_MEMBERS = 1 << 3 /* sees member-only documents */
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
    struct kb_keys *keys;           /* NULL: no keys file, writes are refused */
    struct kb_writer *writer;       /* the single writer thread (writer.c) */
    struct kb_ratelimit *ratelimit; /* NULL when cfg.rate_limit is 0 */
    struct kb_sessions *sessions;   /* signed-in members (session.c) */
    struct kb_analytics *analytics; /* query counts (analytics.h) */
    struct kb_metrics metrics;
    struct MHD_Daemon *daemon;
    struct kb_conns *conns; /* open connections and their deadlines (http.c) */
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
    struct kb_searcher s;          /* its reader, analysers, epoch (core/searcher.h) */
    int s_ready;                   /* s is set up (kb_searcher_init) */
    struct kb_cache suggest_cache; /* GET /api/v1/suggest answers at s.epoch */
    unsigned long rev;             /* the index revision last read (kb_worker_revision) */
    int rev_read;                  /* the current request read the index */
};

/* What a handler produces. Either json (preferred) or raw body bytes. */
struct kb_resp {
    int status;   /* HTTP status */
    json_t *json; /* owned; serialised by http.c */
    char *body;   /* owned raw body (malloc'ed), used when json is NULL */
    size_t body_len;
    const char *ctype;     /* content type for body (static string) */
    char etag[80];         /* "" for none */
    char cache[64];        /* Cache-Control value, "" for none */
    char location[1024];   /* Location header, "" for none */
    int allow_cors;        /* a CORS preflight answer (OPTIONS) */
    char allow[64];        /* Allow header for 405 */
    char retry_after[16];  /* Retry-After header (429, 503), "" for none */
    char auth_realm[32];   /* WWW-Authenticate: Bearer realm="..." (401), "" for none */
    char disposition[300]; /* Content-Disposition, "" for none */
    int sandbox;           /* 1: Content-Security-Policy: sandbox (untrusted content) */
    char set_cookie[200];  /* Set-Cookie header, "" for none (session.c) */
    /* X-KB-Missing-Shards: shards left out of a partial answer (partial_results) */
    char missing_shards[256];
    /* X-KB-Revision and error.revision; 0: the worker's, when the request read it */
    unsigned long revision;
};

struct kb_req {
    struct kb_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    struct kb_buf body;
    int body_too_big;
    double t0;
    int route;      /* index into the route table, for metrics */
    int status;     /* final status, for the access log */
    int counted;    /* already in the metrics (counted when its response is queued) */
    int started;    /* the checks made on the headers alone are done */
    int uri_nul;    /* the raw URI holds %00 */
    size_t uri_len; /* length of the raw URI (path and query) */
    char id[72];    /* request id: the client's X-Request-Id when sane, else ours */
    int viewer; /* 0 not yet known, else 1 + the scopes the request carries (session.c) */
};

/* Seconds from a monotonic clock. */
double kb_now(void);

/* --- http.c ------------------------------------------------------------------------ */
/* Starts the daemon on cfg.bind:cfg.port (0 = any free port; srv->port tells which). */
int kb_http_start(struct kb_server *srv, struct kb_error *err);
void kb_http_stop(struct kb_server *srv);
/* Connections the watchdog shut because their request was late (for /metrics). */
unsigned long long kb_http_expired(struct kb_server *srv);
/* The one function that maps a kb_status to an HTTP status. */
int kb_http_status(int kb_status);
/* The HTTP status of API error `code` (http.c's table), else of kb_status; in_body: the
 * offending value came in a request body (a 414 code is then 413). */
int kb_api_status(const char *code, int kb_status, int in_body);
/* Sets resp to the JSON error {"error":{"code","message","status"}}. */
void kb_resp_error(struct kb_resp *resp, int http_status, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Sets resp to an error derived from a kb_error. */
void kb_resp_from_error(struct kb_resp *resp, const struct kb_error *err);
/* Query-string argument (decoded), or NULL. */
const char *kb_req_arg(const struct kb_req *req, const char *name);
/* The request body parsed as a JSON value (new reference). NULL when it is not JSON, or
 * when the Content-Type is not application/json (absent is accepted unless ct_required);
 * resp then holds the 400 or 415 error. */
json_t *kb_req_json_body(const struct kb_req *req, struct kb_resp *resp, int ct_required);
/* Refuses (400 unknown_parameter in resp, returns -1) a query-string argument that is not
 * in the NULL-terminated list `allowed`; 0 when every argument is known. */
int kb_req_only_args(const struct kb_req *req, struct kb_resp *resp,
                     const char *const *allowed);
/* Request header, or NULL. */
const char *kb_req_header(const struct kb_req *req, const char *name);
/* Appends `s` percent-encoded for a URL path (RFC 3986 unreserved characters and '/'
 * are kept) to b. Returns 0, or -1 when b is full. */
int kb_url_path_encode(struct kb_buf *b, const char *s);
/* Writes a line to stderr through the server's rate-limited log ("kb-server: ..."). */
void kb_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- worker.c ---------------------------------------------------------------------- */
/* This thread's worker, created on first use; its searcher refreshed to the newest
 * revision (or opened, when the index appeared since). NULL with err when the index
 * cannot be opened (503). */
struct kb_worker *kb_worker_get(struct kb_server *srv, struct kb_error *err);
void kb_worker_free(struct kb_worker *w);
/* The index location's revision the worker reads (KB_META_REV_BASE plus the Xapian
 * revision; grows across generations), also kept in w->rev. */
unsigned long kb_worker_revision(struct kb_worker *w);

/* --- extra.c: optional subsystems (API keys, the write queue...) ------------------- */
/* Called once before the daemon starts / after it stopped. */
int kb_server_init_extra(struct kb_server *srv, struct kb_error *err);
void kb_server_release_extra(struct kb_server *srv);

/* --- keys.c: API keys (hashed with libsodium, compared in constant time) ------------ */
/* Loads path: lines "HEX-HASH SCOPES [label]" where SCOPES is a comma list of search,
 * write, admin, members; '#' starts a comment. *out is freed with kb_keys_free.
 * KB_ENOTFOUND when the file is missing, KB_EPARSE naming the line when a line is
 * malformed. */
int kb_keys_load(const char *path, struct kb_keys **out, struct kb_error *err);
void kb_keys_free(struct kb_keys *k);
/* Writes the keys-file line for `key` with `scopes` ("HEX-HASH scopes") into buf.
 * Returns KB_OK, KB_EINVAL for an empty key or bad scopes, KB_ETOOBIG when cap is small.
 */
int kb_keys_line(const char *key, const char *scopes, char *buf, size_t cap,
                 struct kb_error *err);
/* Checks the request's "Authorization: Bearer KEY" for `scope` (admin implies every
 * scope). For scopes search and members, a request without the header may also hold it
 * through a session cookie or a trusted Remote-User (kb_req_scopes); write and admin
 * take a key. Returns KB_OK, KB_EAUTH (no key, unknown key, or no keys file) or
 * KB_EFORBIDDEN (known key without the scope), with a message in err. */
int kb_keys_check(const struct kb_server *srv, struct kb_req *req, unsigned scope,
                  struct kb_error *err);

/* Scope bits of `key` in the keys file (admin adds every scope), 0 for an unknown key or
 * no keys file. Constant time in the key. */
unsigned kb_keys_scopes(const struct kb_server *srv, const char *key);
/* Parses "search,members" into scope bits; -1 for an unknown name or an empty list. */
int kb_scopes_parse(const char *s, size_t len);

/* --- session.c: who is asking (members), sign-in sessions, Remote-User ---------------
 */
/* The scopes a request carries, computed once per request: a valid Bearer key's, else a
 * session cookie's, else a Remote-User's when the request comes from a trusted proxy
 * (cfg.trusted_proxies; from any other address the header is ignored). 0: anonymous. */
unsigned kb_req_scopes(struct kb_req *req);
/* 1 when the request may see member-only documents (scope members or admin). */
int kb_req_members(struct kb_req *req);
/* The session table (bounded by cfg.max_sessions); NULL when out of memory. */
struct kb_sessions *kb_sessions_new(size_t max);
void kb_sessions_free(struct kb_sessions *s);
/* route: GET (who am I), POST (sign in with a key: sets the cookie), DELETE (sign out)
 * /api/v1/session */
void kb_route_session(struct kb_req *req, struct kb_resp *resp);

/* --- ratelimit.c: per-client-IP token buckets ------------------------------------------
 */
/* NULL when rate is 0 (no limit) or out of memory. */
struct kb_ratelimit *kb_ratelimit_new(size_t rate);
void kb_ratelimit_free(struct kb_ratelimit *rl);
/* Takes one token for client `ip`; returns 0 when allowed, else the seconds to wait. */
unsigned kb_ratelimit_take(struct kb_ratelimit *rl, const char *ip);
/* The request's client address as text into buf ("" when unknown). */
void kb_req_client_ip(const struct kb_req *req, char *buf, size_t cap);

/* --- writer.c: the single writer (journal, writer thread, API document store) ------- */
enum kb_write_op { KB_WRITE_PUT = 1, KB_WRITE_DELETE = 2 };
/* Opens the journal beside the index, queues what it holds (replay after a crash) and
 * starts the writer thread. */
int kb_writer_start(struct kb_server *srv, struct kb_error *err);
/* Stops the thread after its current batch; what is left stays in the journal. */
void kb_writer_stop(struct kb_server *srv);
/* Appends one operation to the journal and fsyncs it: once this returns KB_OK the write
 * is durable. `doc` (borrowed; NULL for deletes) is the validated document JSON.
 * *seq receives the operation's sequence number. */
int kb_writer_submit(struct kb_server *srv, enum kb_write_op op, const char *id,
                     const json_t *doc, unsigned long long *seq, struct kb_error *err);
/* 1 when API document `id` exists for the writer, though a reader may not see it yet:
 * its last queued write is a PUT (accepted, not yet applied), or, with none queued, the
 * API document store holds it (applied; a new generation may still be catching up). */
int kb_writer_holds(struct kb_server *srv, const char *id);
/* Waits up to `seconds` for operation `seq` to be committed to the index. Returns 1 and
 * sets *rev to the revision that holds it, or 0 on time-out. */
int kb_writer_wait(struct kb_server *srv, unsigned long long seq, double seconds,
                   unsigned long *rev);
/* Number of operations not yet applied, and the last applied sequence number. */
void kb_writer_status(struct kb_server *srv, size_t *pending,
                      unsigned long long *applied);

/* --- routes (one file each) --------------------------------------------------------- */
typedef void (*kb_handler)(struct kb_req *req, struct kb_resp *resp);
void kb_route_health(struct kb_req *req, struct kb_resp *resp);
void kb_route_search(struct kb_req *req, struct kb_resp *resp);
/* route_suggest.c: GET /api/v1/suggest?q=hydr */
void kb_route_suggest(struct kb_req *req, struct kb_resp *resp);
/* route_documents.c: GET/PUT/DELETE /api/v1/documents/{id}, GET .../{id}/similar */
void kb_route_documents(struct kb_req *req, struct kb_resp *resp);
/* route_stats.c: GET /api/v1/stats and GET /metrics */
void kb_route_stats(struct kb_req *req, struct kb_resp *resp);
void kb_route_metrics(struct kb_req *req, struct kb_resp *resp);
/* route_feed.c: GET /feed.atom?q=... */
void kb_route_feed(struct kb_req *req, struct kb_resp *resp);
/* route_openapi.c: GET /api/v1/openapi.json (schemas/openapi.json) and the JSON Schemas
 * it refers to, GET /api/v1/api/NAME.schema.json */
void kb_route_openapi(struct kb_req *req, struct kb_resp *resp);
/* route_static.c: the search page (GET / and /static/...) from cfg.web_dir. */
void kb_route_static(struct kb_req *req, struct kb_resp *resp);
/* route_files.c: GET /files/{id}, the original file of an indexed document. */
void kb_route_files(struct kb_req *req, struct kb_resp *resp);
/* route_analytics.c: GET /api/v1/analytics/queries (scope admin) */
void kb_route_analytics(struct kb_req *req, struct kb_resp *resp);

#endif
