/* SPDX-License-Identifier: MIT */
/*
 * pool.c - the analysis threads of one indexer run (see the pipeline in crawl_priv.h):
 * starting and stopping them, handing them changed files, storing their results in
 * walk order, and, in a sharded build, having each close its own shard.
 */
#include "crawl_priv.h"

#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>

/* Sharded build, once every job is stored (on the shard's own thread, so the threads
 * do it at once): the thread's words go into its shard's spelling dictionary, and the
 * shard is counted, committed and closed. Sets closed, close_rc, close_err, docs. */
static void shard_close(struct worker *wk)
{
    int rc;
    kb_error_clear(&wk->close_err);
    if (!wk->shard) {
        wk->close_rc = KB_OK;
        return;
    }
    if ((rc = kb_index_writer_flush_spelling(wk->shard, &wk->close_err)) == KB_OK)
        rc = kb_index_writer_doc_count(wk->shard, &wk->docs, &wk->close_err);
    if (rc == KB_OK) {
        rc = kb_index_writer_close(wk->shard, &wk->close_err); /* commits */
        wk->shard = NULL;
    }
    wk->close_rc = rc;
}

/* Sharded build, after pool_drain: has every thread close its shard (shard_close) and
 * waits for them. Returns KB_OK or the first thread's fatal error (in err). */
int pool_shards_finish(struct run *r, struct kb_error *err)
{
    struct pool *p = &r->pool;
    if (!r->sharded || !r->pool_ready)
        return KB_OK;
    pthread_mutex_lock(&p->mu);
    p->finish = 1;
    pthread_cond_broadcast(&p->work);
    while (p->n_closed < p->n_started)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->n_started; i++) {
        if (p->w[i].close_rc)
            return kb_error_set(err, p->w[i].close_rc, "%s", p->w[i].close_err.msg);
        r->shard_docs += p->w[i].docs;
    }
    return KB_OK;
}

/* Body of an analysis thread: works its own queued jobs (K, K+n, ...) in sequence order
 * until the pool stops; in a sharded build, closes its shard when told to finish. */
static void *worker_main(void *arg)
{
    struct worker *wk = arg;
    struct pool *p = &wk->r->pool;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && wk->next >= p->tail && !(p->finish && !wk->closed))
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        if (wk->next >= p->tail) { /* finish: every job is stored */
            pthread_mutex_unlock(&p->mu);
            shard_close(wk);
            pthread_mutex_lock(&p->mu);
            wk->closed = 1;
            p->n_closed++;
            pthread_cond_signal(&p->done);
            continue;
        }
        size_t seq = wk->next;
        wk->next += p->n_workers;
        struct job *j = &p->slot[seq % p->window];
        pthread_mutex_unlock(&p->mu);
        crawl_work(wk, j);
        pthread_mutex_lock(&p->mu);
        p->finished[seq % p->window] = 1;
        pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Starts r->threads analysis threads with a window of in-flight files. Returns KB_OK,
 * or KB_ENOMEM / KB_EIO (in err) with nothing left running. */
static int pool_start(struct run *r, struct kb_error *err)
{
    struct pool *p = &r->pool;
    int rc = KB_OK;
    memset(p, 0, sizeof *p);
    p->window = r->threads * 16; /* slack for a slow file among fast ones */
    p->n_workers = r->threads;
    p->slot = calloc(p->window, sizeof *p->slot);
    p->finished = calloc(p->window, 1);
    p->w = calloc(p->n_workers, sizeof *p->w);
    if (!p->slot || !p->finished || !p->w) {
        rc = kb_error_set(err, KB_ENOMEM, "out of memory");
        goto out;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    r->pool_ready = 1;
    xmlInitParser(); /* libxml2's globals, before several threads parse at once */
    for (size_t i = 0; i < p->n_workers; i++) {
        p->w[i].r = r;
        p->w[i].next = i;
        if (r->sharded) {
            /* in every shard of the location too (core/index.h) */
            if ((rc = kb_index_writer_open_build(r->c->index, r->c->shards, r->gen, i + 1,
                                                 KB_INDEX_CREATE | KB_INDEX_NO_SYNC,
                                                 &p->w[i].shard, err)))
                goto out;
        }
        if (pthread_create(&p->w[i].tid, NULL, worker_main, &p->w[i]) != 0) {
            rc = kb_error_set(err, KB_EIO, "cannot start analysis threads");
            goto out;
        }
        p->n_started++;
    }
out:
    return rc; /* on failure, pool_stop (from run_release) ends what was started */
}

/* Stops and joins the analysis threads and frees the pool, jobs still in it included.
 * Accepts a pool that was never started. */
void pool_stop(struct run *r)
{
    struct pool *p = &r->pool;
    if (r->pool_ready) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->mu);
        for (size_t i = 0; i < p->n_started; i++)
            pthread_join(p->w[i].tid, NULL);
        for (size_t i = 0; i < p->n_workers; i++) {
            if (p->w[i].an_ready)
                kb_analysis_release(&p->w[i].an);
            kb_index_writer_free(p->w[i].shard); /* not committed: an error path */
        }
        for (size_t i = 0; i < p->window; i++)
            crawl_job_clear(&p->slot[i]);
        pthread_cond_destroy(&p->work);
        pthread_cond_destroy(&p->done);
        pthread_mutex_destroy(&p->mu);
        r->pool_ready = 0;
    }
    free(p->slot);
    free(p->finished);
    free(p->w);
    memset(p, 0, sizeof *p);
}

/* Stores the oldest job in flight once its thread is done with it (blocking when
 * `wait`; else only if it is already done). Returns KB_OK when one was stored, 1 when
 * there was nothing to store (yet), or a fatal error in err. */
static int pool_finish_one(struct run *r, int wait, struct kb_error *err)
{
    struct pool *p = &r->pool;
    pthread_mutex_lock(&p->mu);
    if (p->head == p->tail || (!wait && !p->finished[p->head % p->window])) {
        pthread_mutex_unlock(&p->mu);
        return 1;
    }
    while (!p->finished[p->head % p->window])
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    /* no thread touches a finished slot until head passes it */
    struct job *j = &p->slot[p->head % p->window];
    int rc = crawl_finish(r, j, err);
    crawl_job_clear(j);
    pthread_mutex_lock(&p->mu);
    p->finished[p->head % p->window] = 0;
    p->head++;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* Stores every job still in flight, in order. Returns KB_OK or a fatal error. */
int pool_drain(struct run *r, struct kb_error *err)
{
    int rc = KB_OK;
    while (r->pool_ready && rc == KB_OK)
        rc = pool_finish_one(r, 1, err);
    return rc > 0 ? KB_OK : rc;
}

/* Hands one changed file to the analysis (steals j's contents). With one thread it is
 * worked and stored here; else queued, storing older jobs while the window is full and
 * any that are already done. Returns KB_OK or a fatal error (in err). */
int pool_submit(struct run *r, struct job *j, struct kb_error *err)
{
    int rc = KB_OK;
    if (r->threads <= 1) {
        crawl_work(&r->main_w, j);
        rc = crawl_finish(r, j, err);
        crawl_job_clear(j);
        return rc;
    }
    if (!r->pool_ready && (rc = pool_start(r, err))) {
        crawl_job_clear(j);
        return rc;
    }
    struct pool *p = &r->pool;
    while (p->tail - p->head == p->window)
        if ((rc = pool_finish_one(r, 1, err)) < 0) {
            crawl_job_clear(j);
            return rc;
        }
    pthread_mutex_lock(&p->mu);
    p->slot[p->tail % p->window] = *j;
    p->tail++;
    pthread_cond_broadcast(&p->work); /* the job's thread, whichever is waiting */
    pthread_mutex_unlock(&p->mu);
    memset(j, 0, sizeof *j);
    do /* keep the writer busy with whatever is ready */
        rc = pool_finish_one(r, 0, err);
    while (rc == KB_OK);
    return rc > 0 ? KB_OK : rc;
}
