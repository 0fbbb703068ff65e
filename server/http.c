/* SPDX-License-Identifier: MIT */
/*
 * http.c - the libmicrohttpd layer: the daemon (a pool of worker threads with internal
 * polling), per-request state, request bodies with a hard cap (413), routing to one
 * handler per route, JSON errors, CORS, the JSON-lines access log and the request
 * metrics. Handlers never touch libmicrohttpd; they fill a struct kb_resp.
 */
#include "server.h"
#include "routes.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double kb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int kb_http_status(int kb_status)
{
    switch (kb_status) {
    case KB_OK:
        return 200;
    case KB_EINVAL:
    case KB_EPARSE:
        return 400;
    case KB_EAUTH:
        return 401;
    case KB_EFORBIDDEN:
        return 403;
    case KB_ENOTFOUND:
        return 404;
    case KB_ECONFLICT:
        return 409;
    case KB_ETOOBIG:
        return 413;
    case KB_EUNSUPPORTED:
        return 415;
    case KB_ELOCKED:
    case KB_EBUSY:
    case KB_ENOMEM:
        return 503;
    case KB_ETIMEOUT:
        return 503;
    default:
        return 500;
    }
}

static const char *http_code_name(int status)
{
    switch (status) {
    case 400:
        return "bad_request";
    case 401:
        return "unauthorized";
    case 403:
        return "forbidden";
    case 404:
        return "not_found";
    case 405:
        return "method_not_allowed";
    case 409:
        return "conflict";
    case 413:
        return "payload_too_large";
    case 414:
        return "uri_too_long";
    case 415:
        return "unsupported_media_type";
    case 429:
        return "too_many_requests";
    case 503:
        return "unavailable";
    default:
        return "internal";
    }
}

void kb_resp_error(struct kb_resp *resp, int http_status, const char *code,
                   const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_decref(resp->json);
    resp->json = json_pack("{s:{s:s, s:s, s:i}}", "error", "code",
                           code ? code : http_code_name(http_status), "message", msg,
                           "status", http_status);
    resp->status = http_status;
}

void kb_resp_from_error(struct kb_resp *resp, const struct kb_error *err)
{
    int st = kb_http_status(err->code);
    kb_resp_error(resp, st, kb_status_name(err->code), "%s",
                  err->msg[0] ? err->msg : "error");
}

const char *kb_req_arg(const struct kb_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

json_t *kb_req_json_body(const struct kb_req *req, struct kb_resp *resp, int ct_required)
{
    const char *ct = kb_req_header(req, "Content-Type");
    if ((ct || ct_required) && (!ct || strncmp(ct, "application/json", 16) != 0)) {
        kb_resp_error(resp, 415, "unsupported_media_type",
                      "the body must be application/json, not '%s'", ct ? ct : "(none)");
        return NULL;
    }
    json_error_t je;
    json_t *body =
        json_loadb(kb_buf_str(&req->body), req->body.len, JSON_REJECT_DUPLICATES, &je);
    if (!body)
        kb_resp_error(resp, 400, "invalid_json",
                      "the body is not valid JSON: %s (line %d)", je.text, je.line);
    return body;
}

struct args_ctx {
    const char *const *allowed;
    const char *bad;
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct args_ctx *c = cls;
    (void)kind;
    (void)value;
    for (const char *const *a = c->allowed; *a; a++)
        if (!strcmp(*a, key))
            return MHD_YES;
    c->bad = key;
    return MHD_NO;
}

int kb_req_only_args(const struct kb_req *req, struct kb_resp *resp,
                     const char *const *allowed)
{
    struct args_ctx c = {allowed, NULL};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, check_arg, &c);
    if (!c.bad)
        return 0;
    kb_resp_error(resp, 400, "unknown_parameter", "unknown parameter '%s'", c.bad);
    return -1;
}

const char *kb_req_header(const struct kb_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* --- metrics and access log -----------------------------------------------------------
 */

static const double buckets[KB_METRIC_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

/* Counts a request in the metrics, once. Called when its response is queued, so that a
 * client that has read an answer finds it counted in its next /metrics; a request that
 * ends without a response is counted when MHD completes it. */
static void count(struct kb_req *req)
{
    struct kb_server *srv = req->srv;
    double dt = kb_now() - req->t0;
    if (req->counted)
        return;
    req->counted = 1;
    int cls = req->status / 100 - 1;
    if (cls < 0 || cls > 4)
        cls = 5;
    int route = req->route >= 0 && req->route < KB_METRIC_ROUTES ? req->route : 0;
    pthread_mutex_lock(&srv->metrics.lock);
    srv->metrics.by_route_status[route][cls]++;
    size_t b = 0;
    while (b < KB_METRIC_BUCKETS && dt > buckets[b])
        b++;
    srv->metrics.latency[b]++;
    srv->metrics.latency_sum += dt;
    srv->metrics.count++;
    pthread_mutex_unlock(&srv->metrics.lock);
}

/* Writes the request's access log line (once it is complete). */
static void log_access(struct kb_req *req)
{
    struct kb_server *srv = req->srv;
    double dt = kb_now() - req->t0;
    if (!srv->access_log)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    json_t *line =
        json_pack("{s:s, s:s, s:s, s:s, s:i, s:f, s:I}", "time", when, "id", req->id,
                  "method", req->method, "path", req->url, "status", req->status, "ms",
                  dt * 1000.0, "bytes_in", (json_int_t)req->body.len);
    char *s = line ? json_dumps(line, JSON_COMPACT) : NULL;
    json_decref(line);
    if (s) {
        pthread_mutex_lock(&srv->log_lock);
        fprintf(srv->access_log, "%s\n", s);
        fflush(srv->access_log);
        pthread_mutex_unlock(&srv->log_lock);
        free(s);
    }
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct kb_req *req = *con_cls;
    if (!req)
        return;
    count(req);
    log_access(req);
    kb_buf_release(&req->body);
    free(req);
    *con_cls = NULL;
}

/* --- responses
 * -------------------------------------------------------------------------- */

static enum MHD_Result send_resp(struct kb_req *req, struct kb_resp *resp)
{
    char *body = NULL;
    size_t len = 0;
    const char *ctype = resp->ctype;
    json_t *error = resp->json ? json_object_get(resp->json, "error") : NULL;
    if (resp->revision && json_is_object(error))
        json_object_set_new(error, "revision", json_integer((json_int_t)resp->revision));
    if (resp->json) {
        body = json_dumps(resp->json, JSON_COMPACT | JSON_ENSURE_ASCII * 0);
        if (!body) {
            resp->status = 500;
            body =
                strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\","
                       "\"status\":500}}");
        }
        len = body ? strlen(body) : 0;
        ctype = "application/json; charset=utf-8";
    } else {
        body = resp->body;
        len = resp->body_len;
        resp->body = NULL;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body ? body : (void *)"",
        body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    if (ctype)
        MHD_add_response_header(r, "Content-Type", ctype);
    if (resp->etag[0])
        MHD_add_response_header(r, "ETag", resp->etag);
    if (resp->cache[0])
        MHD_add_response_header(r, "Cache-Control", resp->cache);
    if (resp->location[0])
        MHD_add_response_header(r, "Location", resp->location);
    if (resp->allow[0])
        MHD_add_response_header(r, "Allow", resp->allow);
    if (resp->disposition[0])
        MHD_add_response_header(r, "Content-Disposition", resp->disposition);
    if (resp->sandbox)
        MHD_add_response_header(r, "Content-Security-Policy", "sandbox");
    if (resp->retry_after[0])
        MHD_add_response_header(r, "Retry-After", resp->retry_after);
    if (resp->auth_realm[0]) {
        char h[64];
        snprintf(h, sizeof h, "Bearer realm=\"%s\"", resp->auth_realm);
        MHD_add_response_header(r, "WWW-Authenticate", h);
    }
    if (resp->allow_cors || !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD"))
        MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    MHD_add_response_header(r, "X-Request-Id", req->id);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (resp->revision) { /* the index revision this answer read */
        char rev[24];
        snprintf(rev, sizeof rev, "%lu", resp->revision);
        MHD_add_response_header(r, "X-KB-Revision", rev);
    }
    req->status = resp->status;
    count(req);
    enum MHD_Result ret = MHD_queue_response(req->conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* --- the access handler
 * ------------------------------------------------------------------ */

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct kb_server *srv = cls;
    (void)version;
    struct kb_req *req = *con_cls;
    if (!req) {
        static unsigned long long seq;
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->srv = srv;
        req->conn = conn;
        req->method = method;
        req->url = url;
        req->t0 = kb_now();
        req->route = 0;
        req->status = 500;
        snprintf(req->id, sizeof req->id, "%llx-%llx",
                 (unsigned long long)(srv->started * 1000) & 0xffffff,
                 __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
        kb_buf_init(&req->body, srv->cfg.max_body_bytes);
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!req->body_too_big && kb_buf_add(&req->body, upload, *upload_size))
            req->body_too_big = 1;
        *upload_size = 0;
        return MHD_YES;
    }

    struct kb_resp resp;
    memset(&resp, 0, sizeof resp);
    resp.status = 200;
    if (req->body_too_big) {
        kb_resp_error(&resp, 413, "payload_too_large",
                      "request body is larger than %zu bytes", srv->cfg.max_body_bytes);
    } else if (strlen(url) > 2048) {
        kb_resp_error(&resp, 414, "uri_too_long", "the path is longer than 2048 bytes");
    } else {
        struct kb_worker *w = pthread_getspecific(srv->worker_key);
        if (w)
            w->rev_read = 0;
        kb_route_dispatch(req, &resp);
        w = pthread_getspecific(srv->worker_key); /* the handler may have created it */
        if (w && w->rev_read && !resp.revision)
            resp.revision = w->rev;
    }
    enum MHD_Result ret = send_resp(req, &resp);
    json_decref(resp.json);
    free(resp.body);
    return ret;
}

int kb_http_start(struct kb_server *srv, struct kb_error *err)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)srv->cfg.port);
    if (inet_pton(AF_INET, srv->cfg.bind, &addr.sin_addr) != 1)
        return kb_error_set(err, KB_EINVAL, "bind address '%s' is not an IPv4 address",
                            srv->cfg.bind);
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)srv->cfg.port, NULL, NULL, handle, srv, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->cfg.workers,
        MHD_OPTION_NOTIFY_COMPLETED, completed, srv, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024), MHD_OPTION_END);
    if (!srv->daemon)
        return kb_error_set(err, KB_EIO, "cannot listen on %s:%u (port in use?)",
                            srv->cfg.bind, srv->cfg.port);
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : srv->cfg.port;
    return KB_OK;
}

void kb_http_stop(struct kb_server *srv)
{
    if (srv->daemon) {
        MHD_stop_daemon(srv->daemon);
        srv->daemon = NULL;
    }
}
