/* SPDX-License-Identifier: MIT */
/*
 * worker.c - one Xapian reader per worker thread. Each libmicrohttpd pool thread gets a
 * struct kb_worker on its first request (thread-specific data), opens the index then,
 * and refreshes it at the start of every request (cheap when nothing changed), so new
 * revisions and new generations are picked up without a restart. Recovery follows
 * ../shared/notes/xapian-1.4.md §2: a modified revision is reopened and the whole
 * operation retried once; a vanished database is opened afresh.
 */
#include "schema.h"
#include "server.h"
#include "xerror.h"

#include <stdlib.h>
#include <string.h>

int kb_from_xap(const struct xap_error *xe, struct kb_error *err)
{
    return kb_xerror_set(err, xe->code, xe, KB_XERR_READ, NULL); /* core/xerror.c */
}

void kb_worker_free(struct kb_worker *w)
{
    if (!w)
        return;
    xap_reader_close(w->reader);
    if (w->an_ready)
        kb_analysis_release(&w->an);
    kb_cache_release(&w->suggest_cache);
    free(w);
}

static int open_reader(struct kb_server *srv, struct kb_worker *w, struct kb_error *err)
{
    struct xap_error xe = {0};
    xap_reader *r = NULL;
    if (xap_reader_open(srv->cfg.index, &r, &xe))
        return kb_error_set(err, KB_EBUSY, "the index '%s' cannot be opened: %s",
                            srv->cfg.index, xe.msg);
    for (int l = 0; l < KB_LANG_COUNT; l++)
        xap_reader_add_lang(r, kb_lang_code(l), w->an.an[l], &xe);
    xap_reader_set_word_fn(r, kb_analysis_word_fn);
    xap_reader_close(w->reader);
    w->reader = r;
    w->epoch++;
    return KB_OK;
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
        if (kb_analysis_init(&w->an, &srv->res, err)) {
            free(w);
            return NULL;
        }
        w->an_ready = 1;
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
    if (!w->reader) {
        if (open_reader(srv, w, err))
            return NULL;
        kb_worker_revision(w);
        return w;
    }
    struct xap_error xe = {0};
    int changed = 0;
    if (xap_reader_refresh(w->reader, &changed, &xe)) {
        /* the database went away or moved: open afresh, else keep serving the old one */
        struct kb_error e2;
        kb_error_clear(&e2);
        open_reader(srv, w, &e2);
    } else if (changed) {
        w->epoch++; /* a new revision or generation: cached answers are stale */
    }
    kb_worker_revision(w);
    return w;
}

unsigned long kb_worker_revision(struct kb_worker *w)
{
    struct xap_error xe = {0};
    unsigned long rev = 0;
    char *base = NULL;
    if (!w || !w->reader)
        return 0;
    xap_reader_revision(w->reader, &rev, &xe);
    if (xap_reader_get_meta(w->reader, KB_META_REV_BASE, &base, NULL, &xe) == XAP_OK)
        rev += strtoul(base, NULL, 10);
    free(base);
    w->rev = rev;
    w->rev_read = 1;
    return rev;
}

int kb_worker_recover(struct kb_server *srv, struct kb_worker *w, int xap_code)
{
    struct xap_error xe = {0};
    struct kb_error e;
    kb_error_clear(&e);
    switch (xap_code) {
    case XAP_E_DB_MODIFIED:
        w->epoch++;
        return xap_reader_refresh(w->reader, NULL, &xe) == XAP_OK ||
               open_reader(srv, w, &e) == KB_OK;
    case XAP_E_DB_NOT_FOUND:
    case XAP_E_DB_CLOSED:
    case XAP_E_DB_OPENING:
    case XAP_E_NETWORK:
    case XAP_E_DB_CORRUPT:
        return open_reader(srv, w, &e) == KB_OK;
    default:
        return 0;
    }
}
