/* SPDX-License-Identifier: MIT */
/*
 * keys.c - API keys. The keys file holds one line per key: the hex BLAKE2b hash of the
 * key (libsodium crypto_generichash, 32 bytes) and its scopes, never the key itself, so
 * a leaked keys file gives no access. A request's "Authorization: Bearer KEY" is hashed
 * and compared with every entry in constant time (sodium_memcmp, no early exit), so the
 * time taken says nothing about how close a guess was. `kb-server --hash-key=KEY`
 * prints the line to add. Scopes: search, write, members (sees member-only documents,
 * session.c) and admin (all of them).
 */
#include "server.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_LEN crypto_generichash_BYTES /* 32 */

struct kb_key {
    unsigned char hash[HASH_LEN];
    unsigned scopes;
};

struct kb_keys {
    struct kb_key *v;
    size_t n;
};

void kb_keys_free(struct kb_keys *k)
{
    if (!k)
        return;
    sodium_memzero(k->v, k->n * sizeof *k->v);
    free(k->v);
    free(k);
}

int kb_scopes_parse(const char *s, size_t len)
{
    int bits = 0;
    while (len) {
        size_t n = 0;
        while (n < len && s[n] != ',')
            n++;
        if (n == 6 && !strncmp(s, "search", 6))
            bits |= KB_SCOPE_SEARCH;
        else if (n == 5 && !strncmp(s, "write", 5))
            bits |= KB_SCOPE_WRITE;
        else if (n == 5 && !strncmp(s, "admin", 5))
            bits |= KB_SCOPE_ADMIN;
        else if (n == 7 && !strncmp(s, "members", 7))
            bits |= KB_SCOPE_MEMBERS;
        else if (n)
            return -1;
        s += n;
        len -= n;
        if (len) {
            s++;
            len--;
        }
    }
    return bits ? bits : -1;
}

int kb_keys_load(const char *path, struct kb_keys **out, struct kb_error *err)
{
    struct kb_keys *k = NULL;
    FILE *f = NULL;
    char line[1024];
    unsigned lineno = 0;
    int rc = KB_OK;
    *out = NULL;
    if (sodium_init() < 0) {
        rc = kb_error_set(err, KB_EIO, "libsodium cannot start");
        goto out;
    }
    f = fopen(path, "r");
    if (!f) {
        rc = kb_error_set(err, KB_ENOTFOUND, "cannot open keys file '%s'", path);
        goto out;
    }
    k = calloc(1, sizeof *k);
    if (!k) {
        rc = kb_error_set(err, KB_ENOMEM, "out of memory");
        goto out;
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || !*p)
            continue;
        size_t hl = strspn(p, "0123456789abcdefABCDEF");
        char *s = p + hl;
        size_t sp = strspn(s, " \t");
        size_t sl = strcspn(s + sp, " \t\r\n#");
        struct kb_key key;
        size_t bin_len = 0;
        int scopes = sl ? kb_scopes_parse(s + sp, sl) : -1;
        if (hl != 2 * HASH_LEN || !sp || scopes < 0 ||
            sodium_hex2bin(key.hash, sizeof key.hash, p, hl, NULL, &bin_len, NULL) != 0 ||
            bin_len != HASH_LEN) {
            rc = kb_error_set(
                err, KB_EPARSE,
                "keys file '%s' line %u: expected 'HEX-HASH SCOPES' with a "
                "64-digit hash and scopes from search, write, admin, members",
                path, lineno);
            goto out;
        }
        key.scopes = (unsigned)scopes;
        struct kb_key *v = realloc(k->v, (k->n + 1) * sizeof *v);
        if (!v) {
            rc = kb_error_set(err, KB_ENOMEM, "out of memory");
            goto out;
        }
        k->v = v;
        v[k->n++] = key;
    }
    *out = k;
    k = NULL;
out:
    if (f)
        fclose(f);
    kb_keys_free(k);
    return rc;
}

int kb_keys_line(const char *key, const char *scopes, char *buf, size_t cap,
                 struct kb_error *err)
{
    unsigned char h[HASH_LEN];
    char hex[2 * HASH_LEN + 1];
    if (sodium_init() < 0)
        return kb_error_set(err, KB_EIO, "libsodium cannot start");
    if (!key || !*key)
        return kb_error_set(err, KB_EINVAL, "the key is empty");
    if (strlen(key) < 16)
        return kb_error_set(err, KB_EINVAL, "the key is shorter than 16 characters");
    if (kb_scopes_parse(scopes, strlen(scopes)) < 0)
        return kb_error_set(err, KB_EINVAL,
                            "scopes '%s' are not a list of search, write, admin, members",
                            scopes);
    crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    if ((size_t)snprintf(buf, cap, "%s %s", hex, scopes) >= cap)
        return kb_error_set(err, KB_ETOOBIG, "buffer too small");
    return KB_OK;
}

/* The entry's scopes for key (found: *found = 1), compared with every entry. */
static unsigned key_scopes(const struct kb_server *srv, const char *key, unsigned *found)
{
    unsigned char h[HASH_LEN];
    unsigned scopes = 0;
    *found = 0;
    if (!srv->keys || !key || !*key)
        return 0;
    crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
    for (size_t i = 0; i < srv->keys->n; i++) {
        /* no early exit: every entry is compared */
        unsigned eq = sodium_memcmp(h, srv->keys->v[i].hash, HASH_LEN) == 0;
        *found |= eq;
        scopes |= eq ? srv->keys->v[i].scopes : 0u;
    }
    return scopes;
}

unsigned kb_keys_scopes(const struct kb_server *srv, const char *key)
{
    unsigned found = 0, scopes = key_scopes(srv, key, &found);
    if (scopes & KB_SCOPE_ADMIN)
        scopes |= KB_SCOPE_SEARCH | KB_SCOPE_WRITE | KB_SCOPE_MEMBERS;
    return found ? scopes : 0;
}

int kb_keys_check(const struct kb_server *srv, struct kb_req *req, unsigned scope,
                  struct kb_error *err)
{
    const char *auth = kb_req_header(req, "Authorization");
    if ((!auth || !*auth) && (scope == KB_SCOPE_SEARCH || scope == KB_SCOPE_MEMBERS) &&
        (kb_req_scopes(req) & scope))
        return KB_OK; /* a signed-in member, or a trusted single-sign-on proxy's user */
    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !auth[7])
        return kb_error_set(err, KB_EAUTH,
                            "an API key is required: 'Authorization: Bearer KEY'");
    if (!srv->keys)
        return kb_error_set(err, KB_EAUTH,
                            "no API key is accepted: the server has no keys file");
    unsigned found = 0, scopes = key_scopes(srv, auth + 7, &found);
    if (!found)
        return kb_error_set(err, KB_EAUTH, "the API key is not valid");
    if (!(scopes & (scope | KB_SCOPE_ADMIN)))
        return kb_error_set(err, KB_EFORBIDDEN, "the API key lacks the scope '%s'",
                            scope == KB_SCOPE_WRITE     ? "write"
                            : scope == KB_SCOPE_SEARCH  ? "search"
                            : scope == KB_SCOPE_MEMBERS ? "members"
                                                        : "admin");
    return KB_OK;
}
