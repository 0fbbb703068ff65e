/* SPDX-License-Identifier: MIT */
/*
 * worker.c - one engine handle (core/searcher.h) per worker thread. Each libmicrohttpd
 * pool thread gets a struct kb_worker on its first request (thread-specific data), opens
 * the index then, and refreshes it at the start of every request (cheap when nothing
 * changed), so new revisions and new generations are picked up without a restart.
 */
#include "server.h"

#include <stdlib.h>
#include <string.h>

void kb_worker_free(struct kb_worker *w)
{
    if (!w)
        return;
    if (w->s_ready)
        kb_searcher_release(&w->s);
    kb_cache_release(&w->suggest_cache);
    free(w);
}

struct kb_worker *kb_worker_get(struct kb_server *srv, struct kb_error *err)
{
    struct kb_worker *w = pthread_getspecific(srv->worker_key);
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w) {
            kb_error_set(err, KB_ENOMEM, "out of memory");
            return NULL;
        }
        if (kb_searcher_init(&w->s, &srv->cfg, &srv->res, err)) {
            free(w);
            return NULL;
        }
        w->s_ready = 1;
        kb_cache_init(&w->suggest_cache, srv->cfg.suggest_cache); /* fails: disabled */
        pthread_mutex_lock(&srv->workers_lock);
        struct kb_worker **v = realloc(srv->workers, (srv->n_workers + 1) * sizeof *v);
        if (v) {
            srv->workers = v;
            v[srv->n_workers++] = w;
        }
        pthread_mutex_unlock(&srv->workers_lock);
        if (!v) {
            kb_worker_free(w);
            kb_error_set(err, KB_ENOMEM, "out of memory");
            return NULL;
        }
        pthread_setspecific(srv->worker_key, w);
    }
    if (kb_searcher_refresh(&w->s, err))
        return NULL;
    w->rev = w->s.rev;
    w->rev_read = 1;
    return w;
}

unsigned long kb_worker_revision(struct kb_worker *w)
{
    if (!w)
        return 0;
    w->rev = kb_searcher_revision(&w->s);
    w->rev_read = 1;
    return w->rev;
}
