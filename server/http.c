/* SPDX-License-Identifier: MIT */
/*
 * http.c - the libmicrohttpd layer: the daemon (a pool of worker threads with internal
 * polling), per-request state, request bodies with a hard cap (413), routing to one
 * handler per route, JSON errors, CORS, the JSON-lines access log and the request
 * metrics. Handlers never touch libmicrohttpd; they fill a struct kb_resp.
 *
 * Hostile clients (docs/reliability.md): connections are capped in all and per client
 * address; a request's headers and body must arrive within cfg.request_seconds of the
 * connection's start (or of the previous answer on a kept-alive connection), however
 * slowly the bytes trickle in: a watchdog thread shuts late sockets down. Route, method,
 * key and declared length are checked on the headers alone, before any body is read;
 * JSON bodies are pre-scanned for depth and element count before jansson parses them.
 * Every answer carries the browser-safety headers; CORS is an allow-list; answers are
 * gzipped when the client asks; libmicrohttpd's messages go through a rate-limited log.
 */
#include "server.h"
#include "routes.h"
#include "text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <zlib.h>

#define MAX_URI_BYTES   16384 /* the whole request target; longer is a 414 */
#define MAX_PATH_BYTES  2048
#define MAX_JSON_DEPTH  32
#define MAX_JSON_VALUES 20000       /* values in one request body */
#define GZIP_MIN_BYTES  1024        /* smaller answers are sent as they are */
#define CONN_MEMORY     (64 * 1024) /* libmicrohttpd's buffer per connection */

double kb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The one table from an error to its HTTP status. A kb_status (kb_http_status) takes the
 * status of the condition it names in general: KB_ETOOBIG is a request body over its
 * limit (413). A route that knows more about the error answers with an API error code
 * (the "code" of the JSON error), and the code's row here gives its status: in a search,
 * KB_ETOOBIG is a wildcard that expands to too many terms, "wildcard_too_broad", a
 * client error in the query (400). */
static const struct {
    const char *code; /* API error code */
    int status;
} api_errors[] = {
    {"invalid_parameter", 400},   {"invalid_body", 400},
    {"invalid_json", 400},        {"invalid_document", 400},
    {"invalid_id", 400},          {"invalid_path", 400},
    {"missing_parameter", 400},   {"unknown_parameter", 400},
    {"missing_key", 400},         {"page_too_large", 400},
    {"offset_too_deep", 400},     {"wildcard_too_broad", 400},
    {"unauthorized", 401},        {"invalid_key", 401},
    {"forbidden", 403},           {"csrf_refused", 403},
    {"not_found", 404},           {"document_not_found", 404},
    {"method_not_allowed", 405},  {"document_from_files", 409},
    {"payload_too_large", 413},   {"query_too_long", 414},
    {"uri_too_long", 414},        {"unsupported_media_type", 415},
    {"rate_limited", 429},        {"internal", 500},
    {"read_failed", 500},         {"index_unavailable", 503},
    {"query_timeout", 503},       {"writes_unavailable", 503},
    {"journal_unavailable", 503}, {"out_of_memory", 503},
    {"unavailable", 503},         {"insufficient_storage", 507},
    {"read_only", 405},
};

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

int kb_api_status(const char *code, int kb_status, int in_body)
{
    int st = 0;
    for (size_t i = 0; code && !st && i < sizeof api_errors / sizeof api_errors[0]; i++)
        if (!strcmp(code, api_errors[i].code))
            st = api_errors[i].status;
    if (!st)
        st = kb_http_status(kb_status);
    /* a value too long for the URI came in a body: the body is what is too large */
    return st == 414 && in_body ? 413 : st;
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

/* 1 when s is valid UTF-8 without control characters. */
static int utf8_clean(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n) {
        size_t k = kb_utf8_char((const char *)p, n, NULL);
        if (!k || *p < 0x20 || *p == 0x7f)
            return 0;
        p += k;
        n -= k;
    }
    return 1;
}

/* Replaces every byte that is not part of valid UTF-8 with '?', in place (a message
 * that quotes a client's bytes must still make a JSON string). */
static void utf8_scrub(char *s)
{
    unsigned char *p = (unsigned char *)s;
    size_t n = strlen(s);
    while (n) {
        size_t k = kb_utf8_char((const char *)p, n, NULL);
        if (!k) {
            *p = '?';
            k = 1;
        }
        p += k;
        n -= k;
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
    utf8_scrub(msg);
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
    /* jansson has no limit of its own on nesting or size: count first, cheaply */
    size_t depth = 0, values = 0;
    int in_str = 0;
    for (size_t i = 0; i < req->body.len; i++) {
        char c = req->body.data[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            values++;
            if (++depth > MAX_JSON_DEPTH) {
                kb_resp_error(resp, 400, "invalid_json",
                              "the body is nested deeper than %d levels", MAX_JSON_DEPTH);
                return NULL;
            }
        } else if (c == ']' || c == '}') {
            depth -= depth > 0;
        } else if (c == ',' || c == ':') {
            values++;
        }
        if (values > MAX_JSON_VALUES) {
            kb_resp_error(resp, 413, "payload_too_large",
                          "the body holds more than %d JSON values", MAX_JSON_VALUES);
            return NULL;
        }
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

int kb_url_path_encode(struct kb_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        unsigned c = *p;
        int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                   c == '~' || c == '/';
        int rc = keep ? kb_buf_addc(b, (char)c)
                      : kb_buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
        if (rc)
            return -1;
    }
    return 0;
}

/* --- the server's log: rate-limited, so that no client can flood it --------------------
 */

#define LOG_BURST  20   /* lines per window */
#define LOG_WINDOW 10.0 /* seconds */

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static double log_window_start;
static unsigned log_lines, log_dropped;

static void log_v(const char *fmt, va_list ap)
{
    double now = kb_now();
    pthread_mutex_lock(&log_mutex);
    if (now - log_window_start > LOG_WINDOW) {
        if (log_dropped)
            fprintf(stderr, "kb-server: %u log lines left out in the last %.0f s\n",
                    log_dropped, now - log_window_start);
        log_window_start = now;
        log_lines = log_dropped = 0;
    }
    if (log_lines++ < LOG_BURST) {
        fputs("kb-server: ", stderr);
        vfprintf(stderr, fmt, ap);
        size_t n = strlen(fmt);
        if (!n || fmt[n - 1] != '\n')
            fputc('\n', stderr);
        fflush(stderr);
    } else {
        log_dropped++;
    }
    pthread_mutex_unlock(&log_mutex);
}

void kb_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_v(fmt, ap);
    va_end(ap);
}

/* libmicrohttpd's messages: what a client's behaviour causes (a peer that closed or
 * reset its socket, a refused connection over a limit) is routine and left out; the
 * rest goes through the rate-limited log. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    static const char *const routine[] = {
        "onnection was closed", "is closed when",   "reset by peer", "Failed to send",
        "Failed to receive",    "connection limit", "from this IP",  "imed out",
        "closed by remote",     "Broken pipe",      "disconnected",  "losing connection"};
    (void)cls;
    for (size_t i = 0; i < sizeof routine / sizeof routine[0]; i++)
        if (strstr(fmt, routine[i]))
            return;
    log_v(fmt, ap);
}

/* --- connections and their deadlines ---------------------------------------------------
 */

/* One open connection. t0 is when it opened, or when its last answer was sent: the next
 * request's headers and body must be in within cfg.request_seconds of t0. */
struct kb_conn {
    struct kb_conn *prev, *next;
    int fd;
    struct sockaddr_storage peer;
    double t0;
    int busy;      /* a request is being answered: no deadline */
    int shut;      /* the watchdog shut it down */
    int outq;      /* bytes of an answer still unsent when last looked at */
    double t_sent; /* when an answer's bytes last moved (a busy connection) */
};

struct kb_conns {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int stop;
    struct kb_conn *head;
    double limit;
    unsigned long long expired; /* connections shut down for lateness */
};

static struct kb_conn *conn_state(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void conn_busy(struct kb_server *srv, struct MHD_Connection *c, int busy)
{
    struct kb_conn *kc = conn_state(c);
    if (!kc || !srv->conns)
        return;
    pthread_mutex_lock(&srv->conns->lock);
    kc->busy = busy;
    kc->t0 = kc->t_sent = kb_now();
    kc->outq = 0;
    pthread_mutex_unlock(&srv->conns->lock);
}

static void notify_conn(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
    struct kb_server *srv = cls;
    struct kb_conns *cs = srv->conns;
    struct kb_conn *kc = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        kc = calloc(1, sizeof *kc);
        if (!kc)
            return;
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ad =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        kc->fd = fd ? fd->connect_fd : -1;
        if (ad && ad->client_addr)
            memcpy(&kc->peer, ad->client_addr,
                   ad->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                          : sizeof(struct sockaddr_in));
        kc->t0 = kb_now();
        pthread_mutex_lock(&cs->lock);
        kc->next = cs->head;
        if (cs->head)
            cs->head->prev = kc;
        cs->head = kc;
        pthread_mutex_unlock(&cs->lock);
        *socket_context = kc;
    } else if (kc) {
        pthread_mutex_lock(&cs->lock);
        if (kc->prev)
            kc->prev->next = kc->next;
        else
            cs->head = kc->next;
        if (kc->next)
            kc->next->prev = kc->prev;
        pthread_mutex_unlock(&cs->lock);
        free(kc);
        *socket_context = NULL;
    }
}

/* 1 when fd is still the socket of kc (its number may have been reused). */
static int same_peer(const struct kb_conn *kc)
{
    struct sockaddr_storage ss;
    socklen_t n = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (getpeername(kc->fd, (struct sockaddr *)&ss, &n) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return !memcmp(&ss, &kc->peer, sizeof(struct sockaddr_in));
    return !memcmp(&ss, &kc->peer, sizeof(struct sockaddr_in6));
}

/* The watchdog: shuts down every connection whose request is not in by its deadline,
 * unless bytes of it wait unread (then the server is late, not the client), and every
 * connection whose answer has not moved for 3 deadlines (a client that stopped reading).
 * libmicrohttpd then meets the end of the stream and closes the connection itself. */
static void *watchdog(void *arg)
{
    struct kb_conns *cs = arg;
    double tick = cs->limit / 4 < 0.05 ? 0.05 : cs->limit / 4 < 0.5 ? cs->limit / 4 : 0.5;
    pthread_mutex_lock(&cs->lock);
    while (!cs->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long ns = ts.tv_nsec + (long)(tick * 1e9);
        ts.tv_sec += ns / 1000000000L;
        ts.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(&cs->wake, &cs->lock, &ts);
        double now = kb_now();
        for (struct kb_conn *kc = cs->head; kc && !cs->stop; kc = kc->next) {
            if (kc->shut || kc->fd < 0)
                continue;
            if (kc->busy) {
                /* an answer whose bytes stopped moving: the client stopped reading */
                int outq = 0;
                if (ioctl(kc->fd, TIOCOUTQ, &outq) != 0 || outq == 0 ||
                    outq != kc->outq) {
                    kc->outq = outq;
                    kc->t_sent = now;
                    continue;
                }
                if (now - kc->t_sent <= 3 * cs->limit)
                    continue;
            } else if (now - kc->t0 <= cs->limit) {
                continue;
            }
            /* bytes waiting unread mean that the server is behind (its thread was busy
             * with another request), not that the client is slow: spare it */
            int unread = 0;
            if (!kc->busy && ioctl(kc->fd, FIONREAD, &unread) == 0 && unread > 0)
                continue;
            if (same_peer(kc))
                shutdown(kc->fd, SHUT_RDWR);
            kc->shut = 1;
            cs->expired++;
        }
    }
    pthread_mutex_unlock(&cs->lock);
    return NULL;
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
    struct kb_server *srv = cls;
    (void)toe;
    struct kb_req *req = *con_cls;
    conn_busy(srv, c, 0); /* the next request's deadline starts now */
    if (!req)
        return;
    if (req->started) {
        count(req);
        log_access(req);
    }
    kb_buf_release(&req->body);
    free(req);
    *con_cls = NULL;
}

/* --- responses
 * -------------------------------------------------------------------------- */

/* 1 when the client accepts gzip (Accept-Encoding names it without q=0). */
static int accepts_gzip(const char *ae)
{
    while (ae && *ae) {
        while (*ae == ' ' || *ae == ',')
            ae++;
        size_t n = strcspn(ae, ",");
        size_t name = strcspn(ae, ";, ");
        if ((name == 4 && !strncasecmp(ae, "gzip", 4)) ||
            (name == 6 && !strncasecmp(ae, "x-gzip", 6))) {
            const char *q = strstr(ae, ";");
            if (!q || q > ae + n)
                return 1;
            q = strchr(q, '=');
            return !(q && q < ae + n && strtod(q + 1, NULL) <= 0.0);
        }
        ae += n;
    }
    return 0;
}

static int compressible(const char *ctype)
{
    return ctype &&
           (!strncmp(ctype, "application/json", 16) || !strncmp(ctype, "text/", 5) ||
            !strncmp(ctype, "image/svg", 9) || !strncmp(ctype, "application/atom", 16) ||
            !strncmp(ctype, "application/manifest", 20));
}

/* body gzipped into a new buffer (*out, *out_len); -1 when it cannot be done. */
static int gzip_buf(const char *body, size_t len, char **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    uLong cap = deflateBound(&z, (uLong)len);
    char *buf = malloc(cap);
    if (!buf) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)(uintptr_t)body;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -1;
    }
    *out = buf;
    return 0;
}

/* The Origin header when it is in cfg.cors_origins (an exact, comma-separated list). */
static const char *allowed_origin(const struct kb_req *req)
{
    const char *origin = kb_req_header(req, "Origin");
    const char *list = req->srv->cfg.cors_origins;
    if (!origin || !*origin || !*list)
        return NULL;
    size_t n = strlen(origin);
    while (*list) {
        while (*list == ' ' || *list == ',')
            list++;
        size_t k = strcspn(list, ", ");
        if (k == n && !strncmp(list, origin, n))
            return origin;
        list += k;
    }
    return NULL;
}

/* A 5xx error's message may carry a path or an engine's detail: it goes to the log,
 * and the client gets a generic message with the request id to quote. */
static void hide_details(struct kb_req *req, struct kb_resp *resp)
{
    json_t *e = json_object_get(resp->json, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    if (resp->status < 500 || !code || !msg || !strcmp(code, "query_timeout") ||
        !strcmp(code, "writes_unavailable") || !strcmp(code, "insufficient_storage"))
        return;
    kb_log("request %s: %d %s: %s", req->id, resp->status, code, msg);
    const char *down = strstr(msg, " is unavailable");
    if (!strncmp(msg, "shard ", 6) && down && down - msg < 120) {
        /* a remote shard down (core/searcher.c): named, its engine detail logged only */
        char named[160];
        snprintf(named, sizeof named, "%.*s", (int)(down - msg + 15), msg);
        json_object_set_new(e, "message", json_string(named));
        return;
    }
    char generic[160];
    snprintf(generic, sizeof generic, "%s (request %s; details are in the server log)",
             !strcmp(code, "index_unavailable") ? "the index is not available right now"
                                                : "the server could not answer",
             req->id);
    json_object_set_new(e, "message", json_string(generic));
}

static enum MHD_Result send_resp(struct kb_req *req, struct kb_resp *resp)
{
    char *body = NULL;
    size_t len = 0;
    const char *ctype = resp->ctype;
    if (!resp->json && !resp->body && resp->status >= 400)
        kb_resp_error(resp, resp->status, NULL, "%s",
                      "the request failed"); /* never empty */
    json_t *error = resp->json ? json_object_get(resp->json, "error") : NULL;
    if (resp->revision && json_is_object(error))
        json_object_set_new(error, "revision", json_integer((json_int_t)resp->revision));
    if (resp->json) {
        hide_details(req, resp);
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
    int gz = 0;
    if (body && compressible(ctype) && resp->status == 200) {
        char *z = NULL;
        size_t zlen = 0;
        if (len >= GZIP_MIN_BYTES &&
            accepts_gzip(kb_req_header(req, "Accept-Encoding")) &&
            !gzip_buf(body, len, &z, &zlen)) {
            free(body);
            body = z;
            len = zlen;
            gz = 1;
        }
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
    if (gz)
        MHD_add_response_header(r, "Content-Encoding", "gzip");
    if (resp->etag[0]) {
        /* a gzipped body is another representation: its validator is weak (as nginx) */
        char weak[90];
        snprintf(weak, sizeof weak, "W/%s", resp->etag);
        MHD_add_response_header(r, "ETag",
                                gz && strncmp(resp->etag, "W/", 2) ? weak : resp->etag);
    }
    if (resp->cache[0])
        MHD_add_response_header(r, "Cache-Control", resp->cache);
    if (resp->location[0])
        MHD_add_response_header(r, "Location", resp->location);
    if (resp->allow[0])
        MHD_add_response_header(r, "Allow", resp->allow);
    if (resp->disposition[0])
        MHD_add_response_header(r, "Content-Disposition", resp->disposition);
    if (resp->retry_after[0])
        MHD_add_response_header(r, "Retry-After", resp->retry_after);
    if (resp->set_cookie[0])
        MHD_add_response_header(r, "Set-Cookie", resp->set_cookie);
    if (resp->missing_shards[0])
        MHD_add_response_header(r, "X-KB-Missing-Shards", resp->missing_shards);
    if (resp->auth_realm[0]) {
        char h[64];
        snprintf(h, sizeof h, "Bearer realm=\"%s\"", resp->auth_realm);
        MHD_add_response_header(r, "WWW-Authenticate", h);
    }
    const char *origin = allowed_origin(req);
    if (origin) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
        if (resp->allow_cors) {
            MHD_add_response_header(r, "Access-Control-Allow-Methods", resp->allow);
            MHD_add_response_header(r, "Access-Control-Allow-Headers",
                                    "Authorization, Content-Type, X-Request-Id");
            MHD_add_response_header(r, "Access-Control-Max-Age", "600");
        }
        MHD_add_response_header(r, "Access-Control-Expose-Headers",
                                "ETag, Location, Retry-After, X-Request-Id");
    }
    int vary_origin = req->srv->cfg.cors_origins[0] != '\0';
    if (compressible(ctype) || vary_origin)
        MHD_add_response_header(r, "Vary",
                                !vary_origin          ? "Accept-Encoding"
                                : compressible(ctype) ? "Accept-Encoding, Origin"
                                                      : "Origin");
    /* browser safety on every answer: no framing, no sniffing, no referrer, and only our
     * own scripts and styles (the page has no inline ones) */
    MHD_add_response_header(r, "Content-Security-Policy",
                            resp->sandbox ? "sandbox; frame-ancestors 'none'"
                                          : "default-src 'self'; base-uri 'none'; "
                                            "form-action 'self'; object-src 'none'; "
                                            "frame-ancestors 'none'");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Request-Id", req->id);
    if (resp->revision) { /* the index revision this answer read */
        char rev[24];
        snprintf(rev, sizeof rev, "%lu", resp->revision);
        MHD_add_response_header(r, "X-KB-Revision", rev);
    }
    req->status = resp->status;
    count(req);
    conn_busy(req->srv, req->conn, 1);
    enum MHD_Result ret = MHD_queue_response(req->conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* --- the access handler
 * ------------------------------------------------------------------ */

/* Called by libmicrohttpd once the request line is in, before the path and the query
 * are decoded: the request's state starts here, with what only the raw URI shows. */
static void *uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct kb_server *srv = cls;
    struct kb_req *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->srv = srv;
    req->conn = conn;
    req->t0 = kb_now();
    req->status = 500;
    req->uri_len = strlen(uri);
    for (const char *p = strchr(uri, '%'); p; p = strchr(p + 1, '%'))
        if (p[1] == '0' && p[2] == '0')
            req->uri_nul = 1;
    kb_buf_init(&req->body, 0);
    return req;
}

/* The client's X-Request-Id when it is 1-64 characters of [A-Za-z0-9._:/+=@-], else a
 * new one. */
static void set_request_id(struct kb_req *req)
{
    static unsigned long long seq;
    const char *cid = kb_req_header(req, "X-Request-Id");
    size_t n = cid ? strlen(cid) : 0;
    int ok = n >= 1 && n <= 64;
    for (size_t i = 0; ok && i < n; i++)
        ok = (cid[i] >= 'a' && cid[i] <= 'z') || (cid[i] >= 'A' && cid[i] <= 'Z') ||
             (cid[i] >= '0' && cid[i] <= '9') || strchr("._:/+=@-", cid[i]);
    if (ok)
        memcpy(req->id, cid, n + 1);
    else
        snprintf(req->id, sizeof req->id, "%llx-%llx",
                 (unsigned long long)(req->srv->started * 1000) & 0xffffff,
                 __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
}

static enum MHD_Result answer(struct kb_req *req, struct kb_resp *resp)
{
    enum MHD_Result ret = send_resp(req, resp);
    json_decref(resp->json);
    free(resp->body);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct kb_server *srv = cls;
    (void)version;
    struct kb_req *req = *con_cls;
    struct kb_resp resp;
    memset(&resp, 0, sizeof resp);
    resp.status = 200;
    if (!req) {
        req = uri_log(srv, url, conn);
        if (!req)
            return MHD_NO;
        *con_cls = req;
    }
    if (!req->started) {
        /* the headers are in, the body (if any) is not: decide what we can now */
        req->started = 1;
        req->conn = conn;
        req->method = method;
        req->url = url;
        set_request_id(req);
        size_t cap = 0;
        int now = 1;
        if (req->uri_nul)
            kb_resp_error(&resp, 400, "invalid_parameter",
                          "the URL holds a NUL character (%%00)");
        else if (req->uri_len > MAX_URI_BYTES || strlen(url) > MAX_PATH_BYTES)
            kb_resp_error(&resp, 414, "uri_too_long",
                          "the URL is longer than %d bytes (the path %d)", MAX_URI_BYTES,
                          MAX_PATH_BYTES);
        else if (!utf8_clean(url))
            kb_resp_error(&resp, 400, "invalid_path",
                          "the path is not UTF-8 text once percent-decoded");
        else
            now = kb_route_begin(req, &resp, &cap);
        if (now)
            return answer(req, &resp);
        kb_buf_init(&req->body, cap);
        return MHD_YES;
    }
    if (*upload_size) {
        if (!req->body_too_big && kb_buf_add(&req->body, upload, *upload_size))
            req->body_too_big = 1;
        *upload_size = 0;
        return MHD_YES;
    }
    conn_busy(srv, conn, 1);
    if (req->body_too_big)
        kb_resp_error(&resp, 413, "payload_too_large",
                      "request body is larger than %zu bytes", req->body.max);
    else {
        /* an answer that read the index says which revision (X-KB-Revision) */
        struct kb_worker *w = pthread_getspecific(srv->worker_key);
        if (w)
            w->rev_read = 0;
        kb_route_run(req, &resp);
        w = pthread_getspecific(srv->worker_key); /* the handler may have created it */
        if (w && w->rev_read && !resp.revision)
            resp.revision = w->rev;
    }
    return answer(req, &resp);
}

/* Raises the open-file limit to what max_connections needs (up to the hard limit). */
static void raise_nofile(size_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        kb_log("cannot raise the open-file limit to %zu: %s", want, strerror(errno));
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
    const struct kb_config *c = &srv->cfg;
    raise_nofile(c->max_connections + 256);
    struct kb_conns *cs = calloc(1, sizeof *cs);
    if (!cs)
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    pthread_mutex_init(&cs->lock, NULL);
    pthread_cond_init(&cs->wake, NULL);
    cs->limit = c->request_seconds;
    srv->conns = cs;
    if (pthread_create(&cs->thread, NULL, watchdog, cs) != 0) {
        pthread_mutex_destroy(&cs->lock);
        pthread_cond_destroy(&cs->wake);
        free(cs);
        srv->conns = NULL;
        return kb_error_set(err, KB_ENOMEM, "cannot start the connection watchdog");
    }
    /* libmicrohttpd splits the connection limit among its threads. Its own idle time-out
     * is off: it also closes connections whose bytes wait unread while their thread
     * answers others (1,000 requests at once on 4 threads took over 120 s on a loaded
     * 2-core machine, and requests were lost). The watchdog handles slow requests, idle
     * kept-alive connections and readers that stopped reading instead. */
    size_t limit = c->max_connections;
    unsigned idle = 0;
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)c->port, NULL, NULL, handle, srv, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->workers, MHD_OPTION_NOTIFY_COMPLETED,
        completed, srv, MHD_OPTION_NOTIFY_CONNECTION, notify_conn, srv,
        MHD_OPTION_URI_LOG_CALLBACK, uri_log, srv, MHD_OPTION_CONNECTION_TIMEOUT, idle,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)c->max_connections_per_ip, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONN_MEMORY, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
        MHD_OPTION_END);
    if (!srv->daemon) {
        kb_http_stop(srv);
        return kb_error_set(err, KB_EIO, "cannot listen on %s:%u (port in use?)", c->bind,
                            c->port);
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : c->port;
    return KB_OK;
}

unsigned long long kb_http_expired(struct kb_server *srv)
{
    unsigned long long n = 0;
    if (srv->conns) {
        pthread_mutex_lock(&srv->conns->lock);
        n = srv->conns->expired;
        pthread_mutex_unlock(&srv->conns->lock);
    }
    return n;
}

void kb_http_stop(struct kb_server *srv)
{
    struct kb_conns *cs = srv->conns;
    if (cs) {
        pthread_mutex_lock(&cs->lock);
        cs->stop = 1;
        pthread_cond_signal(&cs->wake);
        pthread_mutex_unlock(&cs->lock);
        pthread_join(cs->thread, NULL);
    }
    if (srv->daemon) {
        MHD_stop_daemon(srv->daemon);
        srv->daemon = NULL;
    }
    if (cs) {
        pthread_mutex_destroy(&cs->lock);
        pthread_cond_destroy(&cs->wake);
        free(cs);
        srv->conns = NULL;
    }
}
