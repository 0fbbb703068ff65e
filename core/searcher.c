/* SPDX-License-Identifier: MIT */
/*
 * searcher.c - see searcher.h. The database is the one the index location means now
 * (kb_index_current_db: the stub's generation, else the location itself); a refresh
 * that finds the location meaning another database opens that one.
 */
#include "searcher.h"
#include "index.h"
#include "xerror.h"
#include "schema.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A Xapian stub file's lines as shards: "remote host:port" (xapian-tcpsrv), and local
 * ones ("auto|glass|chert|honey PATH", PATH relative to the stub's folder). "remote
 * :program" is refused (no per-call timeout can be set on it here). Returns the number
 * of shards (remote ones in *n_remote), or -1 with err. paths[i] holds each one's path
 * or host. */
#define STUB_LINE 1100
static int parse_stub(const char *stub, struct xap_shard *sh, char (*paths)[STUB_LINE],
                      size_t cap, size_t *n_remote, unsigned timeout_ms,
                      struct kb_error *err)
{
    FILE *f = fopen(stub, "r");
    if (!f)
        return kb_error_set(err, KB_EBUSY, "cannot read '%s'", stub), -1;
    char line[STUB_LINE], dir[STUB_LINE];
    snprintf(dir, sizeof dir, "%s", stub);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    size_t n = 0;
    unsigned lineno = 0;
    *n_remote = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line, *e = line + strlen(line);
        while (e > p && isspace((unsigned char)e[-1]))
            *--e = '\0';
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        char *arg = p;
        while (*arg && !isspace((unsigned char)*arg))
            arg++;
        if (*arg)
            *arg++ = '\0';
        while (isspace((unsigned char)*arg))
            arg++;
        if (n >= cap) {
            fclose(f);
            return kb_error_set(err, KB_EINVAL, "'%s': more than %zu shards", stub, cap),
                   -1;
        }
        memset(&sh[n], 0, sizeof sh[n]);
        if (!strcmp(p, "remote")) {
            char *colon = strrchr(arg, ':');
            char *end = NULL;
            long port = colon ? strtol(colon + 1, &end, 10) : 0;
            if (!colon || colon == arg || !end || *end || port < 1 || port > 65535) {
                fclose(f);
                return kb_error_set(err, KB_EINVAL,
                                    "'%s' line %u: expected 'remote host:port' (a "
                                    "xapian-tcpsrv), not 'remote %s'",
                                    stub, lineno, arg),
                       -1;
            }
            *colon = '\0';
            snprintf(paths[n], STUB_LINE, "%s", arg);
            sh[n].host = paths[n];
            sh[n].port = (unsigned)port;
            sh[n].timeout_ms = sh[n].connect_timeout_ms = timeout_ms;
            (*n_remote)++;
        } else {
            const char *path = *arg ? arg : p; /* an old-style line: the path alone */
            int w = path[0] == '/' ? snprintf(paths[n], STUB_LINE, "%s", path)
                                   : snprintf(paths[n], STUB_LINE, "%s/%s", dir, path);
            if (w < 0 || w >= STUB_LINE) {
                fclose(f);
                return kb_error_set(err, KB_EINVAL, "'%s' line %u: path too long", stub,
                                    lineno),
                       -1;
            }
            sh[n].path = paths[n];
        }
        n++;
    }
    fclose(f);
    return (int)n;
}

/* When a shard that hung may be tried again: a try costs shard_timeout, so at most one
 * request in three is slowed down by it meanwhile (KB_SHARD_RETRY_SECONDS at least). */
static double retry_time(const struct kb_searcher *s)
{
    double wait = 3 * s->cfg->shard_timeout;
    return mono_now() + (wait > KB_SHARD_RETRY_SECONDS ? wait : KB_SHARD_RETRY_SECONDS);
}

int kb_searcher_index_is_remote(const char *index)
{
    struct stat st;
    if (stat(index, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    struct xap_shard sh[8];
    char paths[8][STUB_LINE];
    size_t n_remote = 0;
    struct kb_error e;
    kb_error_clear(&e);
    (void)parse_stub(index, sh, paths, 8, &n_remote, 0, &e);
    return n_remote > 0 || e.code == KB_EINVAL;
}

/* The lexicon database (kb_config.lexicon; else the location's lexicon folder; else,
 * for a stub file, "lexicon" beside it) into buf: "" for none. */
static void lexicon_db(const struct kb_config *cfg, char *buf, size_t cap)
{
    char dir[1200];
    struct stat st;
    buf[0] = '\0';
    if (cfg->lexicon[0]) {
        snprintf(dir, sizeof dir, "%s", cfg->lexicon);
    } else if (stat(cfg->index, &st) == 0 && S_ISDIR(st.st_mode)) {
        kb_index_lexicon_path(cfg->index, dir, sizeof dir);
    } else {
        char parent[1100];
        snprintf(parent, sizeof parent, "%s", cfg->index);
        char *slash = strrchr(parent, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(parent, sizeof parent, ".");
        kb_index_lexicon_path(parent, dir, sizeof dir);
    }
    if (!cfg->lexicon[0] && stat(dir, &st) != 0)
        return;
    if (kb_index_current_db(dir, buf, cap) < 0 &&
        snprintf(buf, cap, "%s", dir) >= (int)cap)
        buf[0] = '\0';
}

int kb_searcher_init(struct kb_searcher *s, const struct kb_config *cfg,
                     const struct kb_resources *res, struct kb_error *err)
{
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    s->res = res;
    if (kb_analysis_init(&s->an, res, err))
        return err ? err->code : KB_EINDEX;
    s->an_ready = 1;
    return KB_OK;
}

void kb_searcher_release(struct kb_searcher *s)
{
    if (!s)
        return;
    xap_reader_close(s->reader);
    s->reader = NULL;
    if (s->an_ready)
        kb_analysis_release(&s->an);
    s->an_ready = 0;
}

/* The database the location means now into buf, and its identity; the location itself
 * when the layout does not say (a database Xapian finds on its own, or none yet: the
 * open fails). */
static void current_db(const struct kb_searcher *s, char *buf, size_t cap,
                       unsigned long long id[6])
{
    struct stat st;
    char stub[1200];
    if (kb_index_current_db(s->cfg->index, buf, cap) < 0)
        snprintf(buf, cap, "%s", s->cfg->index);
    memset(id, 0, 6 * sizeof *id);
    if (stat(buf, &st) == 0) {
        id[0] = (unsigned long long)st.st_dev;
        id[1] = (unsigned long long)st.st_ino;
    }
    kb_index_stub_path(s->cfg->index, stub, sizeof stub);
    if (stat(stub, &st) == 0) {
        id[2] = (unsigned long long)st.st_ino;
        id[3] = (unsigned long long)st.st_mtim.tv_sec;
        id[4] = (unsigned long long)st.st_mtim.tv_nsec;
        id[5] = (unsigned long long)st.st_size;
    }
}

static int open_reader(struct kb_searcher *s, struct kb_error *err)
{
    struct xap_error xe = {0};
    xap_reader *r = NULL;
    char db[sizeof s->db], lex[sizeof s->lex];
    unsigned long long id[6];
    current_db(s, db, sizeof db, id);
    int sharded = kb_searcher_index_is_remote(s->cfg->index);
    if (sharded) {
        struct xap_shard *sh = calloc(KB_SEARCHER_MAX_SHARDS, sizeof *sh);
        char(*paths)[STUB_LINE] = calloc(KB_SEARCHER_MAX_SHARDS, sizeof *paths);
        size_t n_remote = 0;
        unsigned ms = (unsigned)(s->cfg->shard_timeout * 1000 + 0.5);
        int n = sh && paths ? parse_stub(s->cfg->index, sh, paths, KB_SEARCHER_MAX_SHARDS,
                                         &n_remote, ms ? ms : 1, err)
                            : (kb_error_set(err, KB_ENOMEM, "out of memory"), -1);
        int orc = n < 0 ? XAP_OK : xap_reader_open_shards(sh, (size_t)n, &r, &xe);
        free(sh);
        free(paths);
        if (n < 0)
            return err ? err->code : KB_EINVAL;
        if (orc)
            return kb_error_set(err, KB_EBUSY, "the index '%s' cannot be opened: %s",
                                s->cfg->index, xe.msg);
        for (int i = 0; i < n; i++)
            s->retry_at[i] = xap_reader_shard_hung(r, (size_t)i) ? retry_time(s) : 0;
    } else if (xap_reader_open(db, &r, &xe)) {
        return kb_error_set(err, KB_EBUSY, "the index '%s' cannot be opened: %s",
                            s->cfg->index, xe.msg);
    }
    lexicon_db(s->cfg, lex, sizeof lex);
    if (lex[0] && xap_reader_set_lexicon(r, lex, &xe)) {
        xap_reader_close(r);
        return kb_error_set(err, KB_EBUSY, "the lexicon '%s' cannot be opened: %s", lex,
                            xe.msg);
    }
    for (int l = 0; l < KB_LANG_COUNT; l++)
        xap_reader_add_lang(r, kb_lang_code(l), s->an.an[l], &xe);
    xap_reader_set_word_fn(r, kb_analysis_word_fn);
    xap_reader_close(s->reader);
    s->reader = r;
    memcpy(s->db, db, sizeof db);
    memcpy(s->lex, lex, sizeof lex);
    memcpy(s->db_id, id, sizeof id);
    s->sharded = sharded;
    s->epoch++;
    return KB_OK;
}

size_t kb_searcher_missing(const struct kb_searcher *s, const char **names, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; s->reader && i < xap_reader_shard_count(s->reader); i++)
        if (!xap_reader_shard_up(s->reader, i)) {
            if (n < cap)
                names[n] = xap_reader_shard_name(s->reader, i);
            n++;
        }
    return n;
}

/* Shards that are down and due are tried again; then, without partial_results, a
 * shard still down fails the request (503 naming it). */
static int check_shards(struct kb_searcher *s, struct kb_error *err)
{
    size_t n = xap_reader_shard_count(s->reader);
    double now = mono_now();
    for (size_t i = 0; i < n && i < KB_SEARCHER_MAX_SHARDS; i++) {
        if (xap_reader_shard_up(s->reader, i) || now < s->retry_at[i])
            continue;
        struct xap_error xe = {0};
        /* a refused connection costs nothing: tried again at the next request; a shard
         * that hangs costs shard_timeout each time: tried again only after a while */
        if (xap_reader_shard_reopen(s->reader, i, &xe) &&
            xap_reader_shard_hung(s->reader, i))
            s->retry_at[i] = retry_time(s);
        s->epoch++;
    }
    if (s->cfg->partial_results)
        return KB_OK;
    for (size_t i = 0; i < n; i++)
        if (!xap_reader_shard_up(s->reader, i))
            return kb_error_set(err, KB_EBUSY, "shard %s is unavailable: %s",
                                xap_reader_shard_name(s->reader, i),
                                xap_reader_shard_error(s->reader, i));
    return KB_OK;
}

int kb_searcher_refresh(struct kb_searcher *s, struct kb_error *err)
{
    if (!s->reader) {
        if (open_reader(s, err))
            return err ? err->code : KB_EBUSY;
        kb_searcher_revision(s);
        return s->sharded ? check_shards(s, err) : KB_OK;
    }
    struct xap_error xe = {0};
    int changed = 0;
    char db[sizeof s->db], lex[sizeof s->lex];
    unsigned long long id[6];
    current_db(s, db, sizeof db, id);
    lexicon_db(s->cfg, lex, sizeof lex);
    struct kb_error e2;
    kb_error_clear(&e2);
    /* a shard that times out while reopened is not tried again at once (that would
     * wait shard_timeout twice in this request) */
    size_t n_sh = xap_reader_shard_count(s->reader);
    for (size_t i = 0; i < n_sh && i < KB_SEARCHER_MAX_SHARDS; i++)
        if (xap_reader_shard_up(s->reader, i))
            s->retry_at[i] = -1;
    if (strcmp(db, s->db) != 0 || memcmp(id, s->db_id, sizeof id) != 0 ||
        strcmp(lex, s->lex) != 0) {
        /* a new generation, or an index rebuilt in place; else keep serving the old one
         */
        open_reader(s, &e2);
    } else if (xap_reader_refresh(s->reader, &changed, &xe)) {
        /* the database went away or moved: open afresh, else keep serving the old one */
        open_reader(s, &e2);
    } else if (changed) {
        s->epoch++; /* a new revision or generation: cached answers are stale */
    }
    for (size_t i = 0; i < n_sh && i < KB_SEARCHER_MAX_SHARDS; i++)
        if (s->retry_at[i] < 0)
            s->retry_at[i] = xap_reader_shard_hung(s->reader, i) ? retry_time(s) : 0;
    kb_searcher_revision(s);
    return s->sharded ? check_shards(s, err) : KB_OK;
}

unsigned long kb_searcher_revision(struct kb_searcher *s)
{
    struct xap_error xe = {0};
    unsigned long rev = 0;
    char *base = NULL;
    if (!s || !s->reader)
        return 0;
    xap_reader_revision(s->reader, &rev, &xe);
    if (xap_reader_get_meta(s->reader, KB_META_REV_BASE, &base, NULL, &xe) == XAP_OK)
        rev += strtoul(base, NULL, 10);
    free(base);
    s->rev = rev;
    return rev;
}

/* A shard's failure during a request: after a timeout its handle is dropped (every
 * later call would wait as long again) and it is tried again later; after any other
 * failure (a broken or idle-dropped connection, a replica copied anew) it is reopened
 * at once. 1 when the request should be retried: the shard is back, or it is left out
 * and partial results are allowed. */
static int recover_shard(struct kb_searcher *s, int xap_code)
{
    int hung = 0;
    long i = xap_reader_failed_shard(s->reader, &hung);
    if (i < 0 || i >= KB_SEARCHER_MAX_SHARDS) {
        struct kb_error e;
        kb_error_clear(&e);
        return open_reader(s, &e) == KB_OK && check_shards(s, &e) == KB_OK;
    }
    size_t k = (size_t)i;
    struct xap_error xe = {0};
    s->epoch++;
    if (xap_code == XAP_E_NET_TIMEOUT && hung) {
        xap_reader_shard_drop(s->reader, k, "timed out");
        s->retry_at[k] = retry_time(s);
        return s->cfg->partial_results;
    }
    if (xap_reader_shard_reopen(s->reader, k, &xe) == XAP_OK)
        return 1;
    if (xap_reader_shard_hung(s->reader, k))
        s->retry_at[k] = retry_time(s);
    return s->cfg->partial_results;
}

int kb_searcher_recover(struct kb_searcher *s, int xap_code)
{
    struct xap_error xe = {0};
    struct kb_error e;
    kb_error_clear(&e);
    if (s->sharded && s->reader) {
        switch (xap_code) {
        case XAP_E_NETWORK:
        case XAP_E_NET_TIMEOUT:
        case XAP_E_DB_NOT_FOUND:
        case XAP_E_DB_OPENING:
        case XAP_E_DB_CLOSED:
            return recover_shard(s, xap_code);
        default:
            break;
        }
    }
    switch (xap_code) {
    case XAP_E_DB_MODIFIED:
        s->epoch++;
        return xap_reader_refresh(s->reader, NULL, &xe) == XAP_OK ||
               open_reader(s, &e) == KB_OK;
    case XAP_E_DB_NOT_FOUND:
    case XAP_E_DB_CLOSED:
    case XAP_E_DB_OPENING:
    case XAP_E_NETWORK:
    case XAP_E_DB_CORRUPT:
        return open_reader(s, &e) == KB_OK;
    default:
        return 0;
    }
}

int kb_searcher_error(const struct kb_searcher *s, const struct xap_error *xe,
                      struct kb_error *err)
{
    long i = s->sharded ? xap_reader_failed_shard(s->reader, NULL) : -1;
    if (i >= 0 && (xe->code == XAP_E_NETWORK || xe->code == XAP_E_NET_TIMEOUT ||
                   xe->code == XAP_E_DB_NOT_FOUND || xe->code == XAP_E_DB_OPENING))
        return kb_error_set(err, KB_EBUSY, "shard %s is unavailable: %s",
                            xap_reader_shard_name(s->reader, (size_t)i), xe->msg);
    return kb_xerror_set(err, xe->code, xe, KB_XERR_READ, NULL);
}

char *kb_searcher_meta(struct kb_searcher *s, const char *key, size_t *len)
{
    struct xap_error xe = {0};
    char *v = NULL;
    if (!s->reader || xap_reader_get_meta(s->reader, key, &v, len, &xe) != XAP_OK) {
        free(v);
        return NULL;
    }
    return v;
}
