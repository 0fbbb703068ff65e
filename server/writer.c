/* SPDX-License-Identifier: MIT */
/*
 * writer.c - the server's single writer (design in docs/writes.md). HTTP handlers never
 * open the index for writing: they append the operation to a journal beside the index
 * (<index>/api-journal.jsonl, fsync'ed before the write is acknowledged) and wake the
 * writer thread. The thread opens the current generation for writing (waiting while the
 * nightly indexer holds the lock), applies every queued operation in one transaction,
 * records the last sequence number in the metadata key kb:api_seq, commits, copies the
 * documents into the API store (<index>/api-docs/, one file per document) and then
 * truncates the journal. On start the journal is replayed. When the indexer switches to
 * a new generation (--full), the new generation lacks kb:api_seq and the store is
 * replayed into it, so API documents survive rebuilds.
 */
#include "schema.h"
#include "index.h"
#include "server.h"
#include "space.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define META_API_SEQ "kb:api_seq"

struct op {
    unsigned long long seq;
    json_t *line; /* {"seq","op","id","doc"?} owned */
};

struct kb_writer {
    struct kb_server *srv;
    pthread_t thread;
    int started;
    pthread_mutex_t lock; /* guards everything below and the journal file */
    pthread_cond_t wake;  /* new operations or stop */
    pthread_cond_t done;  /* applied_seq moved */
    int stop;
    int fd; /* the journal */
    struct op *q;
    size_t nq, capq;
    unsigned long long next_seq, applied_seq;
    unsigned long applied_rev;
    char journal[1200], store[1200], stub[1200];
    struct timespec stub_mtime;
    ino_t stub_ino;
    struct kb_analysis an;
    int an_ready;
};

/* --- paths ----------------------------------------------------------------------------
 */

/* The API store file of a document id: hex of its BLAKE2b hash. */
static void store_path(struct kb_writer *w, const char *id, char *buf, size_t cap)
{
    unsigned char h[16];
    char hex[33];
    crypto_generichash(h, sizeof h, (const unsigned char *)id, strlen(id), NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(buf, cap, "%s/%s.json", w->store, hex);
}

/* Writes s to path atomically and durably (tmp, fsync, rename). */
static int write_file_durable(const char *path, const char *s)
{
    char tmp[1400];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t len = strlen(s), off = 0;
    while (off < len) {
        ssize_t n = write(fd, s + off, len - off);
        if (n <= 0) {
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)n;
    }
    if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* --- applying operations
 * ------------------------------------------------------------------ */

/* Builds and stores one document from its API JSON. Returns KB_OK; KB_EIO or KB_ENOMEM
 * when the index could not take it (a full disk...: the batch must fail and be retried,
 * never drop the write); any other status is the document's own fault. */
static int apply_put(struct kb_writer *w, struct kb_index_writer *xw, const char *id,
                     const json_t *doc, struct kb_error *err)
{
    struct kb_doc d;
    struct kb_index_doc *x = NULL;
    struct kb_error e;
    int rc;
    kb_error_clear(&e);
    kb_doc_init(&d);
    if ((rc = kb_doc_from_json(&d, doc, 0, err)))
        goto out;
    if (kb_doc_set(&d.id, id, (size_t)-1) || kb_doc_set(&d.format, "api", 3) ||
        (!d.source && kb_doc_set(&d.source, "api", 3))) {
        rc = kb_error_set(err, KB_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = kb_index_doc_build(&w->an, &d, &x, err)))
        goto out;
    /* the earlier version's words leave the spelling counts; a member-only document
     * gives none (core/index.h) */
    if (kb_index_store(xw, id, x, 1, &e))
        rc = kb_error_set(err, KB_EIO, "%s", e.msg);
out:
    kb_index_doc_free(x);
    kb_doc_release(&d);
    return rc;
}

/* 1 when apply_put's status means the index, not the document, failed. */
static int index_failed(int rc)
{
    return rc == KB_EIO || rc == KB_ENOMEM;
}

/* Replays store documents newer than `since` into the open transaction. Returns how
 * many, or -1 when the index could not take one (err says why: the batch fails). */
static int replay_store(struct kb_writer *w, struct kb_index_writer *xw,
                        unsigned long long since, unsigned long long *max_seq,
                        struct kb_error *err)
{
    DIR *dir = opendir(w->store);
    if (!dir)
        return 0;
    struct dirent *de;
    int n = 0;
    while ((de = readdir(dir))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json"))
            continue;
        char path[1500];
        snprintf(path, sizeof path, "%s/%s", w->store, de->d_name);
        json_t *o = json_load_file(path, 0, NULL);
        json_int_t seq = json_integer_value(json_object_get(o, "seq"));
        const char *id = json_string_value(json_object_get(o, "id"));
        struct kb_error e;
        kb_error_clear(&e);
        if (id && (unsigned long long)seq > since) {
            int rc = apply_put(w, xw, id, json_object_get(o, "doc"), &e);
            if (index_failed(rc)) {
                kb_error_set(err, rc, "%s", e.msg);
                json_decref(o);
                closedir(dir);
                return -1;
            }
            if (rc)
                fprintf(stderr, "kb-server: writer: cannot replay '%s': %s\n", id, e.msg);
            else
                n++;
        }
        if ((unsigned long long)seq > *max_seq)
            *max_seq = (unsigned long long)seq;
        json_decref(o);
    }
    closedir(dir);
    return n;
}

/* After a commit: the store mirrors every applied operation. */
static void update_store(struct kb_writer *w, const struct op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *op = json_string_value(json_object_get(ops[i].line, "op"));
        const char *id = json_string_value(json_object_get(ops[i].line, "id"));
        char path[1500];
        store_path(w, id, path, sizeof path);
        if (!strcmp(op, "delete")) {
            unlink(path);
            continue;
        }
        char *s = json_dumps(ops[i].line, JSON_COMPACT);
        if (!s || write_file_durable(path, s))
            fprintf(stderr, "kb-server: writer: cannot write '%s': %s\n", path,
                    strerror(errno));
        free(s);
    }
    if (n) {
        char path[1300], num[32];
        snprintf(path, sizeof path, "%s/.seq", w->store);
        snprintf(num, sizeof num, "%llu\n", ops[n - 1].seq);
        write_file_durable(path, num);
    }
    int dfd = open(w->store, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

/* Did the stub change since we last looked (a new generation)? */
static int stub_changed(struct kb_writer *w)
{
    struct stat st;
    if (stat(w->stub, &st) < 0)
        return 0;
    int changed = st.st_ino != w->stub_ino || st.st_mtim.tv_sec != w->stub_mtime.tv_sec ||
                  st.st_mtim.tv_nsec != w->stub_mtime.tv_nsec;
    w->stub_ino = st.st_ino;
    w->stub_mtime = st.st_mtim;
    return changed;
}

/* One batch: opens the database (waiting for the lock, checking `stop`), replays the
 * store when this generation lacks it, applies ops[0..n), commits. Returns KB_OK and
 * the new revision, or an error (nothing applied; the caller retries later). */
static int apply_batch(struct kb_writer *w, const struct op *ops, size_t n,
                       unsigned long *rev, struct kb_error *err)
{
    char db[1300];
    struct kb_index_writer *xw = NULL;
    struct kb_error e;
    char *meta = NULL;
    int rc = KB_OK;
    struct kb_index_space *space = NULL; /* the committed tables, to give back a failed
                                            batch (every shard's, core/index.h) */
    if (kb_index_current_db(w->srv->cfg.index, db, sizeof db) < 0) {
        if (!n)
            goto out; /* nothing to write: leave a missing index missing */
        if ((rc = kb_index_create(w->srv->cfg.index, "kb-server", err)))
            goto out;
        if (kb_index_current_db(w->srv->cfg.index, db, sizeof db) < 0) {
            rc = kb_error_set(err, KB_EIO, "no index at '%s'", w->srv->cfg.index);
            goto out;
        }
    }
    if (access(db, F_OK) != 0) {
        /* the stub names a generation that is not there (a damaged index): creating an
         * empty one would serve nothing; writes wait in the journal until it is fixed */
        if (n)
            rc = kb_error_set(err, KB_EIO, "the index stub names '%s', which is missing",
                              db);
        goto out;
    }
    /* wait for the write lock (the nightly indexer) but stay stoppable */
    for (;;) {
        kb_error_clear(&e);
        /* a sharded location: every shard and the lexicon (core/index.h) */
        int xr =
            kb_index_writer_open_location(w->srv->cfg.index, KB_INDEX_CREATE, &xw, &e);
        if (xr == KB_OK)
            break;
        if (xr != KB_ELOCKED) {
            rc = kb_error_set(err, KB_EINDEX, "%s", e.msg);
            goto out;
        }
        pthread_mutex_lock(&w->lock);
        int stop = w->stop;
        pthread_mutex_unlock(&w->lock);
        if (stop) {
            rc = kb_error_set(err, KB_ELOCKED, "stopping while the index is locked");
            goto out;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    unsigned long long db_seq = 0, max_seq = 0;
    kb_error_clear(&e);
    space = kb_index_space_take(xw, w->srv->cfg.index, 0);
    if (kb_index_writer_get_meta(xw, META_API_SEQ, &meta, &e) == KB_OK)
        db_seq = strtoull(meta, NULL, 10);
    kb_error_clear(&e);
    if (kb_index_writer_begin(xw, &e)) {
        rc = kb_error_set(err, KB_EINDEX, "%s", e.msg);
        goto out;
    }
    int replayed = replay_store(w, xw, db_seq, &max_seq, err);
    if (replayed < 0) {
        rc = err->code;
        goto out;
    }
    if (replayed)
        fprintf(stderr, "kb-server: writer: replayed %d API documents into '%s'\n",
                replayed, db);
    for (size_t i = 0; i < n; i++) {
        const json_t *l = ops[i].line;
        const char *op = json_string_value(json_object_get(l, "op"));
        const char *id = json_string_value(json_object_get(l, "id"));
        struct kb_error oe;
        kb_error_clear(&oe);
        if (!strcmp(op, "put")) {
            int prc = apply_put(w, xw, id, json_object_get(l, "doc"), &oe);
            if (index_failed(prc)) { /* not the document's fault: retry the batch */
                rc = kb_error_set(err, prc, "%s", oe.msg);
                goto out;
            }
            if (prc)
                fprintf(stderr, "kb-server: writer: dropping put of '%s': %s\n", id,
                        oe.msg);
        } else if (kb_index_delete(xw, id, 0, NULL, &oe)) { /* its words go too */
            rc = kb_error_set(err, KB_EINDEX, "%s", oe.msg);
            goto out;
        }
        if (ops[i].seq > max_seq)
            max_seq = ops[i].seq;
    }
    if (!n && !replayed) { /* nothing to do: no empty revision */
        rc = KB_OK;
        *rev = 0;
        goto out; /* kb_index_writer_free cancels the transaction */
    }
    if (kb_index_writer_flush_spelling(xw, &e)) { /* the batch's words, net */
        rc = kb_error_set(err, KB_EINDEX, "%s", e.msg);
        goto out;
    }
    if (max_seq > db_seq || !meta) {
        char num[32];
        snprintf(num, sizeof num, "%llu", max_seq > db_seq ? max_seq : db_seq);
        if (kb_index_writer_set_meta(xw, META_API_SEQ, num, strlen(num), &e)) {
            rc = kb_error_set(err, KB_EINDEX, "%s", e.msg);
            goto out;
        }
    }
    if (kb_index_writer_commit(xw, &e) || kb_index_writer_revision(xw, rev, &e)) {
        rc = kb_error_set(err, KB_EINDEX, "%s", e.msg);
        goto out;
    }
    char *base = NULL; /* the location's revision: the generation's base plus this one */
    if (kb_index_writer_get_meta(xw, KB_META_REV_BASE, &base, &e) == KB_OK)
        *rev += strtoul(base, NULL, 10);
    free(base);
    kb_error_clear(&e);
    rc =
        kb_index_writer_close(xw, &e) ? kb_error_set(err, KB_EINDEX, "%s", e.msg) : KB_OK;
    xw = NULL;
out:
    free(meta);
    kb_index_writer_free(xw); /* cancels an open transaction */
    if (rc && space) {
        /* a failed batch (a full disk): its blocks must not keep the disk full, or not
         * even the journal could take the next write */
        long long freed = kb_index_space_restore(space);
        if (freed > 0)
            fprintf(stderr, "kb-server: writer: gave back %lld bytes of a failed batch\n",
                    freed);
    }
    kb_index_space_free(space);
    return rc;
}

/* The writer thread: waits for operations (or one second), applies them in one batch,
 * mirrors them in the store, truncates the journal, wakes the waiting handlers. */
static void *writer_main(void *arg)
{
    struct kb_writer *w = arg;
    int need_sync = 1; /* first pass: make sure the store is in the current generation */
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        if (!w->nq && !need_sync) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&w->wake, &w->lock, &ts);
            if (w->stop)
                break;
        }
        size_t n = w->nq;
        struct op *ops = n ? malloc(n * sizeof *ops) : NULL;
        if (n && !ops) {
            need_sync = 1;
            continue;
        }
        if (n)
            memcpy(ops, w->q,
                   n * sizeof *ops); /* same json_t pointers, still owned by q */
        pthread_mutex_unlock(&w->lock);

        if (stub_changed(w))
            need_sync = 1;
        unsigned long rev = 0;
        int rc = KB_OK;
        if (n || need_sync) {
            struct kb_error err;
            kb_error_clear(&err);
            rc = apply_batch(w, ops, n, &rev, &err);
            if (rc) {
                fprintf(stderr, "kb-server: writer: %s (will retry)\n", err.msg);
                struct timespec ts = {0, 500 * 1000 * 1000};
                nanosleep(&ts, NULL);
            } else {
                update_store(w, ops, n);
                need_sync = stub_changed(w); /* a switch during the batch: sync again */
            }
        }
        pthread_mutex_lock(&w->lock);
        if (!rc && n) {
            for (size_t i = 0; i < n; i++)
                json_decref(w->q[i].line);
            memmove(w->q, w->q + n, (w->nq - n) * sizeof *w->q);
            w->nq -= n;
            w->applied_seq = ops[n - 1].seq;
            w->applied_rev = rev;
            if (!w->nq && w->fd >= 0) {
                if (ftruncate(w->fd, 0) == 0)
                    fsync(w->fd);
            }
            pthread_cond_broadcast(&w->done);
        }
        free(ops);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* --- journal
 * ------------------------------------------------------------------------------ */

/* Appends an operation to the in-memory queue (takes `line`). Caller holds w->lock. */
static int queue_push(struct kb_writer *w, json_t *line, unsigned long long seq)
{
    if (w->nq == w->capq) {
        size_t cap = w->capq ? 2 * w->capq : 64;
        struct op *q = realloc(w->q, cap * sizeof *q);
        if (!q)
            return KB_ENOMEM;
        w->q = q;
        w->capq = cap;
    }
    w->q[w->nq].seq = seq;
    w->q[w->nq].line = line;
    w->nq++;
    return KB_OK;
}

/* Reads the journal left by a previous run: complete lines are queued again, a torn
 * last line (a crash mid-append, never acknowledged) is dropped. */
static int replay_journal(struct kb_writer *w, struct kb_error *err)
{
    FILE *f = fopen(w->journal, "r");
    if (!f)
        return KB_OK;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    off_t good = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n')
            break;
        json_t *o = json_loadb(line, (size_t)n, 0, NULL);
        json_int_t seq = json_integer_value(json_object_get(o, "seq"));
        if (!o || seq <= 0 || !json_string_value(json_object_get(o, "id"))) {
            json_decref(o);
            break;
        }
        if (queue_push(w, o, (unsigned long long)seq)) {
            json_decref(o);
            free(line);
            fclose(f);
            return kb_error_set(err, KB_ENOMEM, "out of memory");
        }
        if ((unsigned long long)seq >= w->next_seq)
            w->next_seq = (unsigned long long)seq + 1;
        good += n;
    }
    free(line);
    fclose(f);
    if (truncate(w->journal, good) < 0)
        return kb_error_set(err, KB_EIO, "cannot truncate '%s': %s", w->journal,
                            strerror(errno));
    if (w->nq)
        fprintf(stderr, "kb-server: writer: replaying %zu journal entries\n", w->nq);
    return KB_OK;
}

/* The highest sequence number in the store (sequence numbers never go back). */
static unsigned long long store_max_seq(struct kb_writer *w)
{
    unsigned long long m = 0;
    char seq_path[1300];
    snprintf(seq_path, sizeof seq_path, "%s/.seq", w->store);
    FILE *f = fopen(seq_path, "r");
    if (f) {
        if (fscanf(f, "%llu", &m) != 1)
            m = 0;
        fclose(f);
    }
    DIR *dir = opendir(w->store);
    if (!dir)
        return m;
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.')
            continue;
        char path[1500];
        snprintf(path, sizeof path, "%s/%s", w->store, de->d_name);
        json_t *o = json_load_file(path, 0, NULL);
        json_int_t s = json_integer_value(json_object_get(o, "seq"));
        if (s > 0 && (unsigned long long)s > m)
            m = (unsigned long long)s;
        json_decref(o);
    }
    closedir(dir);
    return m;
}

/* Frees the writer's memory; the thread must not be running. Accepts NULL. */
static void writer_free(struct kb_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nq; i++)
        json_decref(w->q[i].line);
    free(w->q);
    if (w->fd >= 0)
        close(w->fd);
    if (w->an_ready)
        kb_analysis_release(&w->an);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->done);
    free(w);
}

int kb_writer_start(struct kb_server *srv, struct kb_error *err)
{
    int rc = KB_OK;
    struct kb_writer *w = calloc(1, sizeof *w);
    if (!w)
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    w->srv = srv;
    w->fd = -1;
    w->next_seq = 1;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_cond_init(&w->done, NULL);
    if (sodium_init() < 0) {
        rc = kb_error_set(err, KB_EIO, "libsodium cannot start");
        goto out;
    }
    const char *index = srv->cfg.index;
    if ((rc = kb_index_writable(index, err)))
        goto out;
    if (srv->cfg.max_changesets) { /* at start, before any Xapian writer */
        char v[32];
        snprintf(v, sizeof v, "%zu", srv->cfg.max_changesets);
        setenv("XAPIAN_MAX_CHANGESETS", v, 1);
    }
    snprintf(w->journal, sizeof w->journal, "%s/api-journal.jsonl", index);
    snprintf(w->store, sizeof w->store, "%s/api-docs", index);
    kb_index_stub_path(index, w->stub, sizeof w->stub);
    if ((mkdir(index, 0755) < 0 && errno != EEXIST) ||
        (mkdir(w->store, 0755) < 0 && errno != EEXIST)) {
        rc = kb_error_set(err, KB_EIO, "cannot create '%s': %s", w->store,
                          strerror(errno));
        goto out;
    }
    if ((rc = kb_analysis_init(&w->an, &srv->res, err)))
        goto out;
    w->an_ready = 1;
    unsigned long long sm = store_max_seq(w);
    if (sm >= w->next_seq)
        w->next_seq = sm + 1;
    if ((rc = replay_journal(w, err)))
        goto out;
    w->fd = open(w->journal, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        rc = kb_error_set(err, KB_EIO, "cannot open journal '%s': %s", w->journal,
                          strerror(errno));
        goto out;
    }
    w->applied_seq = w->nq ? w->q[0].seq - 1 : w->next_seq - 1;
    if (pthread_create(&w->thread, NULL, writer_main, w)) {
        rc = kb_error_set(err, KB_EIO, "cannot start the writer thread");
        goto out;
    }
    w->started = 1;
    srv->writer = w;
    w = NULL;
out:
    writer_free(w);
    return rc;
}

void kb_writer_stop(struct kb_server *srv)
{
    struct kb_writer *w = srv->writer;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    if (w->started)
        pthread_join(w->thread, NULL);
    writer_free(w);
    srv->writer = NULL;
}

int kb_writer_submit(struct kb_server *srv, enum kb_write_op op, const char *id,
                     const json_t *doc, unsigned long long *seq, struct kb_error *err)
{
    struct kb_writer *w = srv->writer;
    json_t *line = NULL;
    char *s = NULL;
    int rc = KB_OK;
    if (!w)
        return kb_error_set(err, KB_EBUSY, "the writer is not running");
    pthread_mutex_lock(&w->lock);
    unsigned long long n = w->next_seq;
    line = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)n, "op",
                     op == KB_WRITE_PUT ? "put" : "delete", "id", id);
    if (line && doc)
        json_object_set_new(line, "doc",
                            json_deep_copy(doc)); /* no sharing across threads */
    s = line ? json_dumps(line, JSON_COMPACT) : NULL;
    if (!s) {
        rc = kb_error_set(err, KB_ENOMEM, "out of memory");
        goto out;
    }
    size_t len = strlen(s);
    s[len] = '\n'; /* json_dumps' NUL replaced: write len+1 bytes */
    size_t off = 0;
    while (off < len + 1) {
        ssize_t k = write(w->fd, s + off, len + 1 - off);
        if (k <= 0)
            break;
        off += (size_t)k;
    }
    if (off != len + 1 || fdatasync(w->fd) < 0) {
        int e = errno;
        /* drop a partial line so the journal stays readable */
        struct stat st;
        if (fstat(w->fd, &st) == 0 && off)
            (void)!ftruncate(w->fd, st.st_size - (off_t)off);
        rc = kb_error_set(err, e == ENOSPC ? KB_ENOSPC : KB_EIO,
                          "cannot write the journal: %s", strerror(e));
        goto out;
    }
    if (queue_push(w, line, n)) {
        rc = kb_error_set(err, KB_ENOMEM, "out of memory");
        goto out; /* durable in the journal anyway: applied after a restart */
    }
    line = NULL;
    w->next_seq++;
    *seq = n;
    pthread_cond_signal(&w->wake);
out:
    pthread_mutex_unlock(&w->lock);
    json_decref(line);
    free(s);
    return rc;
}

int kb_writer_holds(struct kb_server *srv, const char *id)
{
    struct kb_writer *w = srv->writer;
    int last = 0; /* the last queued operation on id: KB_WRITE_PUT, KB_WRITE_DELETE */
    if (!w)
        return 0;
    pthread_mutex_lock(&w->lock);
    for (size_t i = w->nq; i-- > 0 && !last;) {
        const char *qid = json_string_value(json_object_get(w->q[i].line, "id"));
        const char *op = json_string_value(json_object_get(w->q[i].line, "op"));
        if (qid && op && !strcmp(qid, id))
            last = !strcmp(op, "put") ? KB_WRITE_PUT : KB_WRITE_DELETE;
    }
    int holds = last == KB_WRITE_PUT;
    if (!last) { /* applied: the store mirrors every API document of the index */
        char path[1500];
        store_path(w, id, path, sizeof path);
        holds = access(path, F_OK) == 0;
    }
    pthread_mutex_unlock(&w->lock);
    return holds;
}

int kb_writer_wait(struct kb_server *srv, unsigned long long seq, double seconds,
                   unsigned long *rev)
{
    struct kb_writer *w = srv->writer;
    if (!w)
        return 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ns = (long long)ts.tv_nsec + (long long)(seconds * 1e9);
    ts.tv_sec += (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&w->lock);
    while (w->applied_seq < seq && !w->stop)
        if (pthread_cond_timedwait(&w->done, &w->lock, &ts))
            break;
    int ok = w->applied_seq >= seq;
    if (ok)
        *rev = w->applied_rev;
    pthread_mutex_unlock(&w->lock);
    return ok;
}

void kb_writer_status(struct kb_server *srv, size_t *pending, unsigned long long *applied)
{
    struct kb_writer *w = srv->writer;
    *pending = 0;
    *applied = 0;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    *pending = w->nq;
    *applied = w->applied_seq;
    pthread_mutex_unlock(&w->lock);
}
