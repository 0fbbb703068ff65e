/* SPDX-License-Identifier: MIT */
/*
 * extra.c - start-up and shutdown of the server's optional subsystems (API keys, the
 * rate limiter, the single writer for document CRUD). Kept apart from main.c so that
 * tests and benchmarks can start a server the same way.
 */
#include "analytics.h"
#include "server.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Where query analytics are kept: the analytics_file setting, else analytics.json in
 * the index directory (or beside an index stub file); "" for "off" (memory only). */
static void analytics_path(const struct kb_config *cfg, char *buf, size_t cap)
{
    struct stat st;
    if (!strcmp(cfg->analytics_file, "off") ||
        (cfg->read_only && !cfg->analytics_file[0]))
        snprintf(buf, cap, "%s", ""); /* a replica writes nothing beside its index */
    else if (cfg->analytics_file[0])
        snprintf(buf, cap, "%s", cfg->analytics_file);
    else if (stat(cfg->index, &st) == 0 && !S_ISDIR(st.st_mode))
        snprintf(buf, cap, "%s.analytics.json", cfg->index);
    else
        snprintf(buf, cap, "%s/analytics.json", cfg->index);
}

int kb_server_init_extra(struct kb_server *srv, struct kb_error *err)
{
    int rc = KB_OK;
    /* a stub file of remote shards is a replica: read-only (docs/deployment-shards.md) */
    if (kb_searcher_index_is_remote(srv->cfg.index))
        srv->cfg.read_only = 1;
    if (srv->cfg.keys_file[0] && (rc = kb_keys_load(srv->cfg.keys_file, &srv->keys, err)))
        goto out;
    if (!(srv->sessions = kb_sessions_new(srv->cfg.max_sessions))) {
        rc = kb_error_set(err, KB_ENOMEM, "out of memory");
        goto out;
    }
    if (srv->cfg.rate_limit &&
        !(srv->ratelimit = kb_ratelimit_new(srv->cfg.rate_limit))) {
        rc = kb_error_set(err, KB_ENOMEM, "out of memory");
        goto out;
    }
    char apath[1200];
    analytics_path(&srv->cfg, apath, sizeof apath);
    if (!(srv->analytics = kb_analytics_new(apath))) {
        rc = kb_error_set(err, KB_ENOMEM, "out of memory");
        goto out;
    }
    struct kb_error werr;
    kb_error_clear(&werr);
    if (srv->cfg.read_only)
        fprintf(stderr, "kb-server: read-only: API writes are refused\n");
    else if (kb_writer_start(srv, &werr)) /* a read-only index still serves */
        fprintf(stderr, "kb-server: writes disabled: %s\n", werr.msg);
out:
    if (rc)
        kb_server_release_extra(srv);
    return rc;
}

void kb_server_release_extra(struct kb_server *srv)
{
    kb_writer_stop(srv);
    kb_keys_free(srv->keys);
    srv->keys = NULL;
    kb_ratelimit_free(srv->ratelimit);
    srv->ratelimit = NULL;
    kb_sessions_free(srv->sessions);
    srv->sessions = NULL;
    kb_analytics_free(srv->analytics); /* writes the counts a last time */
    srv->analytics = NULL;
}
