/* SPDX-License-Identifier: MIT */
/*
 * session.c - who is asking, for member-only documents: an API key with scope members
 * (Authorization: Bearer), a signed-in member of the search page (session cookie), or a
 * user named by a trusted single-sign-on proxy (Remote-User).
 *
 * Sessions. POST /api/v1/session with a key (JSON {"key": ...} or the Authorization
 * header) checks it against the keys file and answers with a cookie holding a random
 * 256-bit token, never the key: "kb_session=TOKEN; Path=/; HttpOnly; SameSite=Strict"
 * (plus Secure over https, cfg.cookie_secure). The server keeps only the token's BLAKE2b
 * hash, the scopes it grants (search and members: a cookie never writes) and its expiry
 * (cfg.session_minutes) in a fixed table of about cfg.max_sessions entries: 8-way
 * buckets chosen by the hash, where a new session takes an expired or else the oldest
 * entry of its bucket, so memory is bounded whatever clients do. DELETE signs out.
 * Sessions live in memory: a restart signs everybody out.
 *
 * CSRF. The cookie is SameSite=Strict, so other sites' requests do not carry it; on top
 * of that, POST and DELETE here need an X-Requested-With header (a header a cross-site
 * form cannot send, and a cross-origin script cannot without a CORS preflight we never
 * grant) and, when the browser sends an Origin, one equal to this server's. The cookie
 * grants no state-changing request elsewhere: writes take a Bearer key.
 *
 * Remote-User. Sites behind a single-sign-on proxy list its addresses in
 * cfg.trusted_proxies ("127.0.0.1,::1"); a Remote-User header from one of them gets
 * cfg.remote_user_scopes (search,members by default). From any other address the header
 * is ignored, so a client cannot name itself.
 */
#include "server.h"
#include "text.h"

#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COOKIE      "kb_session"
#define TOKEN_BYTES 32
#define WAYS        8

struct session {
    unsigned char hash[crypto_generichash_BYTES]; /* of the token; all zero: free */
    unsigned scopes;
    double expires; /* kb_now() seconds */
};

struct kb_sessions {
    pthread_mutex_t lock;
    struct session *v;
    size_t n_buckets; /* a power of two; WAYS entries each */
};

struct kb_sessions *kb_sessions_new(size_t max)
{
    struct kb_sessions *s = calloc(1, sizeof *s);
    size_t buckets = 1;
    while (buckets * WAYS < max)
        buckets *= 2;
    if (!s || !(s->v = calloc(buckets * WAYS, sizeof *s->v))) {
        free(s);
        return NULL;
    }
    s->n_buckets = buckets;
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void kb_sessions_free(struct kb_sessions *s)
{
    if (!s)
        return;
    sodium_memzero(s->v, s->n_buckets * WAYS * sizeof *s->v);
    free(s->v);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* The hash of a token given as 64 hex digits; 0, or -1 when it is not one. */
static int token_hash(const char *hex, unsigned char h[crypto_generichash_BYTES])
{
    unsigned char raw[TOKEN_BYTES];
    size_t n = 0;
    if (!hex || strlen(hex) != 2 * TOKEN_BYTES ||
        sodium_hex2bin(raw, sizeof raw, hex, 2 * TOKEN_BYTES, NULL, &n, NULL) != 0 ||
        n != TOKEN_BYTES)
        return -1;
    crypto_generichash(h, crypto_generichash_BYTES, raw, sizeof raw, NULL, 0);
    sodium_memzero(raw, sizeof raw);
    return 0;
}

static struct session *bucket_of(struct kb_sessions *s, const unsigned char *h)
{
    size_t i;
    memcpy(&i, h, sizeof i);
    return &s->v[(i & (s->n_buckets - 1)) * WAYS];
}

/* Scopes of the session whose token is `hex` (0 when unknown or expired). */
static unsigned session_scopes(struct kb_sessions *s, const char *hex, double now)
{
    unsigned char h[crypto_generichash_BYTES];
    unsigned scopes = 0;
    if (!s || token_hash(hex, h))
        return 0;
    pthread_mutex_lock(&s->lock);
    struct session *b = bucket_of(s, h);
    for (int i = 0; i < WAYS; i++)
        if (b[i].expires > now && sodium_memcmp(b[i].hash, h, sizeof h) == 0)
            scopes = b[i].scopes;
    pthread_mutex_unlock(&s->lock);
    return scopes;
}

/* Forgets the session of token `hex`, if any. */
static void session_drop(struct kb_sessions *s, const char *hex)
{
    unsigned char h[crypto_generichash_BYTES];
    if (!s || token_hash(hex, h))
        return;
    pthread_mutex_lock(&s->lock);
    struct session *b = bucket_of(s, h);
    for (int i = 0; i < WAYS; i++)
        if (sodium_memcmp(b[i].hash, h, sizeof h) == 0)
            memset(&b[i], 0, sizeof b[i]);
    pthread_mutex_unlock(&s->lock);
}

/* A new session: its token as hex into out (2 * TOKEN_BYTES + 1 bytes). */
static void session_new(struct kb_sessions *s, unsigned scopes, double now, double ttl,
                        char *out)
{
    unsigned char raw[TOKEN_BYTES], h[crypto_generichash_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, 2 * TOKEN_BYTES + 1, raw, sizeof raw);
    crypto_generichash(h, sizeof h, raw, sizeof raw, NULL, 0);
    sodium_memzero(raw, sizeof raw);
    pthread_mutex_lock(&s->lock);
    struct session *b = bucket_of(s, h), *victim = &b[0];
    for (int i = 0; i < WAYS; i++) /* a free or expired way, else the oldest */
        if (b[i].expires < victim->expires)
            victim = &b[i];
    memcpy(victim->hash, h, sizeof h);
    victim->scopes = scopes;
    victim->expires = now + ttl;
    pthread_mutex_unlock(&s->lock);
}

/* 1 when `ip` is one of the comma-separated addresses of cfg.trusted_proxies. */
static int trusted_proxy(const struct kb_config *c, const char *ip)
{
    size_t n = strlen(ip);
    for (const char *p = c->trusted_proxies; n && *p;) {
        p += strspn(p, " ,");
        size_t len = strcspn(p, " ,");
        if (len == n && !strncmp(p, ip, n))
            return 1;
        p += len;
    }
    return 0;
}

/* The Remote-User of a request from a trusted proxy, or NULL. */
static const char *remote_user(const struct kb_req *req)
{
    const char *u = kb_req_header(req, "Remote-User");
    char ip[64];
    if (!u || !*u || strlen(u) > 256 || !req->srv->cfg.trusted_proxies[0])
        return NULL;
    kb_req_client_ip(req, ip, sizeof ip);
    return trusted_proxy(&req->srv->cfg, ip) ? u : NULL;
}

unsigned kb_req_scopes(struct kb_req *req)
{
    if (req->viewer)
        return (unsigned)req->viewer - 1;
    struct kb_server *srv = req->srv;
    unsigned scopes = 0;
    const char *auth = kb_req_header(req, "Authorization");
    if (auth && !strncmp(auth, "Bearer ", 7))
        scopes |= kb_keys_scopes(srv, auth + 7);
    const char *tok = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, COOKIE);
    if (tok)
        scopes |= session_scopes(srv->sessions, tok, kb_now());
    if (remote_user(req)) {
        int rs = kb_scopes_parse(srv->cfg.remote_user_scopes,
                                 strlen(srv->cfg.remote_user_scopes));
        scopes |= rs > 0 ? (unsigned)rs & (KB_SCOPE_SEARCH | KB_SCOPE_MEMBERS) : 0u;
    }
    if (scopes & KB_SCOPE_ADMIN)
        scopes |= KB_SCOPE_SEARCH | KB_SCOPE_MEMBERS;
    req->viewer = (int)scopes + 1;
    return scopes;
}

int kb_req_members(struct kb_req *req)
{
    return (kb_req_scopes(req) & KB_SCOPE_MEMBERS) != 0;
}

/* --- the route ------------------------------------------------------------------------
 */

/* 1 when the request came through https (a trusted proxy says so), or is configured so.
 */
static int cookie_secure(const struct kb_req *req)
{
    if (req->srv->cfg.cookie_secure >= 0)
        return req->srv->cfg.cookie_secure;
    const char *proto = kb_req_header(req, "X-Forwarded-Proto");
    char ip[64];
    kb_req_client_ip(req, ip, sizeof ip);
    return proto && !strcmp(proto, "https") && trusted_proxy(&req->srv->cfg, ip);
}

/* CSRF guard for POST and DELETE; fills resp and returns -1 when refused. */
static int refuse_cross_site(const struct kb_req *req, struct kb_resp *resp)
{
    const char *xrw = kb_req_header(req, "X-Requested-With");
    const char *origin = kb_req_header(req, "Origin");
    const char *host = kb_req_header(req, "Host");
    if (!xrw || !*xrw) {
        kb_resp_error(resp, 403, "csrf_refused",
                      "signing in or out needs the header 'X-Requested-With'");
        return -1;
    }
    if (origin) {
        const char *o = !strncmp(origin, "http://", 7)    ? origin + 7
                        : !strncmp(origin, "https://", 8) ? origin + 8
                                                          : NULL;
        if (!o || !host || strcmp(o, host) != 0) {
            kb_resp_error(resp, 403, "csrf_refused",
                          "a request from another origin cannot sign in or out");
            return -1;
        }
    }
    return 0;
}

static void set_cookie(const struct kb_req *req, struct kb_resp *resp, const char *value,
                       long max_age)
{
    snprintf(resp->set_cookie, sizeof resp->set_cookie,
             COOKIE "=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Strict%s", value,
             max_age, cookie_secure(req) ? "; Secure" : "");
}

/* {"signed_in", "members", "scopes", "user"?} of the request as it is now. */
static json_t *whoami(struct kb_req *req, int signed_in)
{
    unsigned s = kb_req_scopes(req);
    json_t *scopes = json_array();
    if (s & KB_SCOPE_SEARCH)
        json_array_append_new(scopes, json_string("search"));
    if (s & KB_SCOPE_MEMBERS)
        json_array_append_new(scopes, json_string("members"));
    json_t *o = json_pack("{s:b, s:b, s:o}", "signed_in", signed_in, "members",
                          (s & KB_SCOPE_MEMBERS) != 0, "scopes", scopes);
    const char *u = remote_user(req);
    if (o && u && kb_utf8_valid(u, strlen(u)))
        json_object_set_new(o, "user", json_string(u));
    return o;
}

void kb_route_session(struct kb_req *req, struct kb_resp *resp)
{
    struct kb_server *srv = req->srv;
    const char *tok = MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, COOKIE);
    json_t *body = NULL;
    snprintf(resp->cache, sizeof resp->cache, "no-store");
    if (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD")) {
        resp->json = whoami(req, tok && session_scopes(srv->sessions, tok, kb_now()));
        resp->status = 200;
        return;
    }
    if (refuse_cross_site(req, resp))
        return;
    if (!strcmp(req->method, "DELETE")) {
        session_drop(srv->sessions, tok);
        set_cookie(req, resp, "", 0);
        req->viewer = 0; /* the answer says what is left without the cookie */
        resp->json =
            json_pack("{s:b, s:b, s:[]}", "signed_in", 0, "members", 0, "scopes");
        resp->status = 200;
        return;
    }
    /* POST: the key in the body ({"key": "..."}) or the Authorization header */
    const char *key = NULL;
    const char *auth = kb_req_header(req, "Authorization");
    if (req->body.len) {
        body = kb_req_json_body(req, resp, 1);
        if (!body)
            return;
        key = json_string_value(json_object_get(body, "key"));
        if (!json_is_object(body) || !key || json_object_size(body) != 1) {
            kb_resp_error(resp, 400, "invalid_body",
                          "the body must be {\"key\": \"...\"} and nothing else");
            goto out;
        }
    } else if (auth && !strncmp(auth, "Bearer ", 7)) {
        key = auth + 7;
    }
    if (!key || !*key) {
        kb_resp_error(
            resp, 400, "missing_key",
            "send the key as {\"key\": \"...\"} or 'Authorization: Bearer KEY'");
        goto out;
    }
    unsigned scopes = kb_keys_scopes(srv, key) & (KB_SCOPE_SEARCH | KB_SCOPE_MEMBERS);
    if (!scopes) {
        /* unknown key, or one that only writes: the same answer for both */
        kb_resp_error(resp, 401, "invalid_key",
                      "this key cannot sign in (unknown, or without scope members or "
                      "search)");
        snprintf(resp->auth_realm, sizeof resp->auth_realm, "kb");
        goto out;
    }
    if (!srv->sessions) {
        kb_resp_error(resp, 503, "unavailable", "sessions are not available");
        goto out;
    }
    char token[2 * TOKEN_BYTES + 1];
    double ttl = (double)srv->cfg.session_minutes * 60.0;
    session_new(srv->sessions, scopes, kb_now(), ttl, token);
    set_cookie(req, resp, token, (long)ttl);
    sodium_memzero(token, sizeof token);
    req->viewer = (int)scopes + 1;
    resp->json = whoami(req, 1);
    json_object_set_new(resp->json, "expires_in", json_integer((json_int_t)ttl));
    resp->status = 200;
out:
    json_decref(body);
}
