/* SPDX-License-Identifier: MIT */
/*
 * extra.c - start-up and shutdown of the server's optional subsystems (API keys, the
 * rate limiter, the single writer for document CRUD). Kept apart from main.c so that
 * tests and benchmarks can start a server the same way.
 */
#include "server.h"

#include <stdio.h>

int kb_server_init_extra(struct kb_server *srv, struct kb_error *err)
{
    int rc = KB_OK;
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
    struct kb_error werr;
    kb_error_clear(&werr);
    if (kb_writer_start(srv,
                        &werr)) /* a read-only index (e.g. remote shards) still serves */
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
}
