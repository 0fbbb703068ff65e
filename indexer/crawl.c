/* SPDX-License-Identifier: MIT */
/*
 * crawl.c - one indexer run (see crawl.h). The index location and its generations are
 * core/index.h's: readers open the location and follow its stub. An incremental run
 * updates the current generation inside one transaction; --full builds the next
 * generation from nothing, compacts it and switches the stub atomically. The
 * location's lock keeps a second indexer out at once.
 *
 * Threads: the main thread walks the sources and decides what changed; analysis threads
 * read, parse and build the documents; the main thread then records each file (its
 * manifest entry or failure) strictly in walk order. An incremental run stores
 * every document through the one writer of the current generation. A new generation
 * (first build, --full) is built sharded: each analysis thread also stores its documents
 * in a database of its own (a shard of the build), the main thread writes the rest
 * (manifest, failures, JSON Lines documents) to the build folder, and the compaction that
 * a new generation gets anyway merges them all, so the inversion work of Xapian is shared
 * by the cores too. Thread K takes jobs K, K+T, K+2T...: for a given thread count the
 * index is the same from run to run.
 */
#include "crawl_priv.h"
#include "analysis.h"
#include "buf.h"
#include "doc.h"
#include "index.h"
#include "schema.h"
#include "text.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Loads the thesaurus, stop words (once per run, shared) and this worker's analysers
 * on first use: a run where nothing changed never pays for them. Safe to call from any
 * thread. Returns KB_OK, or the loading error (in err) for every later call too. */
static int ensure_analysis(struct worker *wk, struct kb_error *err)
{
    struct run *r = wk->r;
    int rc = KB_OK;
    if (wk->an_ready)
        return KB_OK;
    pthread_mutex_lock(&r->res_mu);
    if (r->res_state == 0) {
        kb_error_clear(&r->res_err);
        rc = kb_resources_load(&r->res, &r->res_err);
        r->res_state = rc ? (rc < 0 ? rc : KB_EIO) : 1;
    }
    if (r->res_state < 0) {
        rc = r->res_state;
        kb_error_set(err, rc, "%s", r->res_err.msg);
        goto out;
    }
    /* analysers are per thread, but set up one at a time: their constructors load
     * shared models */
    if ((rc = kb_analysis_init(&wk->an, &r->res, err)))
        goto out;
    wk->an_ready = 1;
out:
    pthread_mutex_unlock(&r->res_mu);
    return rc;
}

/* Copies src into dst (cap bytes), cut if needed at a UTF-8 character boundary so the
 * report stays valid JSON. */
void crawl_copy_trunc(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Counts a failed file and keeps the first KB_RUN_MAX_FAILURES for the report. */
void crawl_add_failure(struct run *r, const char *path, const char *reason)
{
    r->rep->failed++;
    if (r->rep->n_failures < KB_RUN_MAX_FAILURES) {
        crawl_copy_trunc(r->rep->failures[r->rep->n_failures].path,
                         sizeof r->rep->failures[0].path, path);
        crawl_copy_trunc(r->rep->failures[r->rep->n_failures].reason,
                         sizeof r->rep->failures[0].reason, reason);
        r->rep->n_failures++;
    }
    if (r->o->verbose || !r->tty)
        fprintf(stderr, "kb-indexer: failed '%s': %s\n", path, reason);
}

/* Reads a whole file up to `max` bytes. */
static int slurp(const char *path, size_t max, char **out, size_t *len,
                 struct kb_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kb_error_set(err, KB_EIO, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || (size_t)st.st_size > max) {
        close(fd);
        return kb_error_set(err, KB_ETOOBIG, "file is larger than the %zu-byte limit",
                            max);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = 0;
    if (!buf) {
        close(fd);
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    }
    while (n < (size_t)st.st_size) {
        ssize_t k = read(fd, buf + n, (size_t)st.st_size - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return KB_OK;
}

/* Analyses (on the main thread) and stores one JSON Lines document. Returns as
 * kb_index_store; analysis failures are KB_EPARSE (KB_ENOMEM and missing resources stop
 * the run). */
static int index_doc(struct run *r, struct kb_doc *d, struct kb_error *err)
{
    struct kb_index_doc *x = NULL;
    int rc = ensure_analysis(&r->main_w, err);
    if (rc)
        return rc == KB_ENOMEM ? rc : KB_EIO; /* resources missing: no file can work */
    rc = kb_index_doc_build(&r->main_w.an, d, &x, err);
    if (rc)
        return rc == KB_ENOMEM ? rc : KB_EPARSE;
    r->writes++;
    rc = kb_index_store(r->w, d->id, x, !r->build_dir, err);
    kb_index_doc_free(x);
    return rc;
}

struct jsonl_ctx {
    struct run *r;
    int folder_vis;
    const char *path;
    json_t *ids;
    int fatal;
    struct kb_error *err;
};

static int jsonl_doc(struct kb_doc *d, size_t line, void *ctx)
{
    struct jsonl_ctx *j = ctx;
    (void)line;
    if (!d->format && kb_doc_set(&d->format, "jsonl", (size_t)-1))
        return KB_ENOMEM;
    if (!d->source && kb_doc_set(&d->source, j->path, (size_t)-1))
        return KB_ENOMEM;
    if (j->folder_vis == KB_VIS_MEMBERS)
        d->visibility = KB_VIS_MEMBERS;
    struct kb_error e;
    kb_error_clear(&e);
    int rc = index_doc(j->r, d, &e);
    if (kb_index_fatal(rc)) {
        kb_error_set(j->err, rc, "%s", e.msg);
        j->fatal = rc;
        return rc;
    }
    if (rc) {
        char where[600];
        snprintf(where, sizeof where, "%s#%s", j->path, d->id);
        crawl_add_failure(j->r, where, e.msg);
        return 0;
    }
    json_array_append_new(j->ids, json_string(d->id));
    return 0;
}

static void jsonl_err(size_t line, const char *reason, void *ctx)
{
    struct jsonl_ctx *j = ctx;
    char where[600], why[600];
    snprintf(where, sizeof where, "%s:%zu", j->path, line);
    snprintf(why, sizeof why, "jsonl: %s", reason);
    crawl_add_failure(j->r, where, why);
}

/* Deletes the documents listed in a manifest state. */
static int delete_ids(struct run *r, const char *path, const json_t *state,
                      const json_t *keep, struct kb_error *err)
{
    const json_t *ids = json_object_get(state, "ids");
    size_t i;
    const json_t *v;
    int deleted = 0;
    if (!json_is_array(ids)) {
        int rc = kb_index_delete(r->w, path, KB_INDEX_KEEP_SPELLING, &deleted, err);
        if (rc)
            return rc;
        r->rep->deleted += (size_t)deleted;
        r->writes++;
        return KB_OK;
    }
    json_array_foreach(ids, i, v)
    {
        const char *id = json_string_value(v);
        int kept = 0;
        size_t k;
        const json_t *kv;
        json_array_foreach(keep, k, kv)
        {
            if (id && json_string_value(kv) && strcmp(id, json_string_value(kv)) == 0)
                kept = 1;
        }
        if (!id || kept)
            continue;
        int rc = kb_index_delete(r->w, id, KB_INDEX_KEEP_SPELLING, &deleted, err);
        if (rc)
            return rc;
        r->rep->deleted += (size_t)deleted;
        r->writes++;
    }
    return KB_OK;
}

static void progress(struct run *r)
{
    if (!r->tty || !r->o->progress)
        return;
    size_t done = r->rep->seen, total = r->total_files ? r->total_files : 1;
    int width = 40, fill = (int)((double)done / (double)total * width);
    if (fill > width)
        fill = width;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu  +%zu ~%zu !%zu", fill,
            "########################################", width - fill, "", done, total,
            r->rep->added, r->rep->updated, r->rep->failed);
}

/* Frees what a job holds and empties it. Accepts an empty job. */
void crawl_job_clear(struct job *j)
{
    free(j->full);
    free(j->id);
    free(j->buf);
    kb_index_doc_free(j->x);
    memset(j, 0, sizeof *j);
}

/* The analysis side of one changed file (any thread; touches nothing shared but the
 * read-only resources): read, checksum, detect, parse, build the Xapian document. Sets
 * j->kind and what goes with it; never fails as such. */
void crawl_work(struct worker *wk, struct job *j)
{
    struct run *r = wk->r;
    struct kb_doc d;
    kb_doc_init(&d);
    kb_error_clear(&j->fe);
    j->kind = JOB_FAILED;
    int rc = slurp(j->full, r->lim.max_file, &j->buf, &j->len, &j->fe);
    if (rc)
        goto out;
    snprintf(j->sum, sizeof j->sum, "%016llx",
             (unsigned long long)XXH64(j->buf, j->len, 0));
    if (j->old_sum[0] && strcmp(j->old_sum, j->sum) == 0) {
        j->kind = JOB_TOUCHED; /* same content as indexed: only touched */
        goto out;
    }
    j->fmt = kb_format_detect(j->full, j->buf, j->len, &j->fe);
    if (j->fmt == KB_FMT_UNKNOWN) {
        rc = kb_error_set(&j->fe, KB_EUNSUPPORTED, "unsupported content");
        goto out;
    }
    if (j->fmt == KB_FMT_JSONL) {
        j->kind = JOB_JSONL; /* many documents: stored by the main thread as it reads */
        return;
    }
    if ((rc = kb_read_document(j->fmt, j->buf, j->len, &r->lim, &d, &j->fe)))
        goto out;
    if (kb_doc_set(&d.id, j->id, (size_t)-1) ||
        kb_doc_set(&d.source, j->id, (size_t)-1)) {
        rc = kb_error_set(&j->fe, KB_ENOMEM, "out of memory");
        j->kind = JOB_FATAL;
        goto out;
    }
    memcpy(d.checksum, j->sum, sizeof d.checksum);
    if (j->folder_vis == KB_VIS_MEMBERS) /* the stricter of folder and file wins */
        d.visibility = KB_VIS_MEMBERS;
    d.mtime = (int64_t)j->st.st_mtim.tv_sec;
    d.size = (int64_t)j->st.st_size;
    if (!d.date || !kb_date_valid(d.date)) {
        char date[16];
        struct tm tm;
        time_t t = j->st.st_mtime;
        gmtime_r(&t, &tm);
        strftime(date, sizeof date, "%Y-%m-%d", &tm);
        /* only the file's time: said so, and not used as a publication date */
        kb_doc_set(&d.date, date, (size_t)-1);
        kb_doc_set(&d.date_source, KB_DATE_FILE, (size_t)-1);
    }
    if ((rc = ensure_analysis(wk, &j->fe))) {
        if (rc != KB_ENOMEM)
            j->fe.code = rc = KB_EIO; /* resources missing: no file can work */
        j->kind = JOB_FATAL;
        goto out;
    }
    if ((rc = kb_index_doc_build(&wk->an, &d, &j->x, &j->fe))) {
        j->kind = rc == KB_ENOMEM ? JOB_FATAL : JOB_FAILED;
        rc = rc == KB_ENOMEM ? rc : KB_EPARSE;
        goto out;
    }
    j->kind = JOB_DOC;
    j->doc_vis = d.visibility;
    crawl_copy_trunc(j->lang, sizeof j->lang, d.lang ? d.lang : "?");
    if (wk->shard) { /* sharded build: store it here, in this thread's own database */
        rc = kb_index_store(wk->shard, j->id, j->x, 0, &j->fe);
        j->kind = rc ? (kb_index_fatal(rc) ? JOB_FATAL : JOB_FAILED) : JOB_STORED;
        kb_index_doc_free(j->x);
        j->x = NULL;
        /* the shards share the flush threshold, so memory stays what one writer uses */
        size_t every = r->c->flush_threshold / r->threads;
        if (!rc && ++wk->unflushed >= (every ? every : 1)) {
            wk->unflushed = 0;
            if ((rc = kb_index_writer_commit(wk->shard, &j->fe)))
                j->kind = JOB_FATAL;
        }
    }
out:
    j->rc = rc;
    free(j->buf); /* only JSON Lines keep their bytes for the main thread */
    j->buf = NULL;
    kb_doc_release(&d);
}

/* The storing side of one changed file (main thread, in walk order): the document,
 * its manifest entry, or its failure record. Returns KB_OK, or a fatal error (in err)
 * that stops the run. */
int crawl_finish(struct run *r, struct job *j, struct kb_error *err)
{
    struct entry *e = j->e;
    const char *id = j->id;
    json_int_t m = (json_int_t)j->st.st_mtim.tv_sec, s = (json_int_t)j->st.st_size;
    json_int_t ns = (json_int_t)j->st.st_mtim.tv_nsec;
    json_t *state = NULL;
    int rc = j->rc;
    if (j->kind == JOB_FATAL)
        return kb_error_set(err, rc ? rc : KB_EIO, "%s", j->fe.msg);
    if (j->kind == JOB_TOUCHED) {
        /* same content as indexed (only touched): record the new mtime, nothing else */
        json_object_set_new(e->state, "m", json_integer(m));
        json_object_set_new(e->state, "n", json_integer(ns));
        e->m = m;
        e->ns = ns;
        r->rep->unchanged++;
        return manifest_set(r, MANIFEST_PREFIX, id, e->state, err);
    }
    state = json_pack("{s:I, s:I, s:I, s:s}", "m", m, "n", ns, "s", s, "c", j->sum);
    if (state && j->folder_vis == KB_VIS_MEMBERS) /* "v": see crawl_file */
        json_object_set_new(state, "v", json_string("members"));
    if (!state) {
        rc = kb_error_set(err, KB_ENOMEM, "out of memory");
        goto out;
    }
    if (j->kind == JOB_JSONL) {
        struct jsonl_ctx jc = {r, j->folder_vis, id, json_array(), 0, err};
        kb_read_jsonl(j->buf, j->len, &r->lim, jsonl_doc, jsonl_err, &jc);
        if (jc.fatal) {
            json_decref(jc.ids);
            rc = jc.fatal;
            goto out;
        }
        if (e && (rc = delete_ids(r, id, e->state, jc.ids, err)))
            goto out;
        json_object_set_new(state, "ids", jc.ids);
        rc = manifest_set(r, MANIFEST_PREFIX, id, state, err);
        if (!rc && json_object_get(r->failed, id))
            rc = manifest_set(r, KB_META_FAILED_PREFIX, id, NULL, err);
        if (!rc)
            *(e ? &r->rep->updated : &r->rep->added) += 1;
        goto out;
    }
    if (j->kind == JOB_DOC) {
        r->writes++;
        rc = kb_index_store(r->w, id, j->x, e != NULL, &j->fe);
        if (kb_index_fatal(rc)) {
            kb_error_set(err, rc, "%s", j->fe.msg);
            goto out;
        }
    }
    r->writes += j->kind == JOB_STORED;
    if (rc == KB_EBUSY) {
        /* not the file's fault (the PDF helper could not be started): reported in this
         * run, but neither recorded as failed nor dropped, so the next run tries again */
        crawl_add_failure(r, id, j->fe.msg);
        rc = KB_OK;
        goto out;
    }
    if (rc) {
        /* the file failed: record it, and drop what an earlier version indexed */
        const char *why = j->fe.msg;
        json_t *rec =
            json_pack("{s:I, s:I, s:I, s:s}", "m", m, "n", ns, "s", s, "reason", why);
        if (!rec) /* a reason that is not UTF-8: still record the failure */
            rec = json_pack("{s:I, s:I, s:I, s:s}", "m", m, "n", ns, "s", s, "reason",
                            "unreadable (message not UTF-8)");
        crawl_add_failure(r, id, why);
        /* the same failure as recorded (--retry-failed): nothing to write */
        int same = rec && json_equal(rec, json_object_get(r->failed, id));
        rc = same  ? KB_OK
             : rec ? manifest_set(r, KB_META_FAILED_PREFIX, id, rec, err)
                   : kb_error_set(err, KB_ENOMEM, "out of memory");
        json_decref(rec);
        if (!rc && e) {
            rc = delete_ids(r, id, e->state, NULL, err);
            if (!rc)
                rc = manifest_set(r, MANIFEST_PREFIX, id, NULL, err);
        }
        goto out;
    }
    rc = manifest_set(r, MANIFEST_PREFIX, id, state, err);
    if (!rc && json_object_get(r->failed, id))
        rc = manifest_set(r, KB_META_FAILED_PREFIX, id, NULL, err);
    if (!rc)
        *(e ? &r->rep->updated : &r->rep->added) += 1;
    if (r->o->verbose)
        fprintf(stderr, "kb-indexer: indexed '%s' (%s, %s)\n", id, kb_format_name(j->fmt),
                j->lang);
out:
    json_decref(state);
    return rc;
}

/* A file whose name is not valid UTF-8 (id is its escaped stand-in): it cannot be a
 * document id, so it is recorded as failed under that stand-in, which is the same from
 * run to run: an unchanged file is then passed over like any failed file. Returns
 * KB_OK, or a fatal error (in err) from writing the record. */
static int bad_name_file(struct run *r, const char *id, const struct stat *st,
                         struct kb_error *err)
{
    json_int_t m = (json_int_t)st->st_mtim.tv_sec, s = (json_int_t)st->st_size;
    json_int_t ns = (json_int_t)st->st_mtim.tv_nsec;
    static const char why[] = "file name is not valid UTF-8 (shown with \\x escapes): "
                              "rename the file to index it";
    json_t *f = json_object_get(r->failed, id);
    if (f) {
        json_object_set_new(f, "seen", json_true());
        if (!r->o->retry_failed && manifest_int(f, "m", -1) == m &&
            manifest_int(f, "s", -1) == s && manifest_int(f, "n", ns) == ns) {
            r->rep->skipped_failed++;
            return KB_OK;
        }
    }
    crawl_add_failure(r, id, why);
    json_t *rec =
        json_pack("{s:I, s:I, s:I, s:s}", "m", m, "n", ns, "s", s, "reason", why);
    if (!rec)
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    int rc = manifest_set(r, KB_META_FAILED_PREFIX, id, rec, err);
    json_decref(rec);
    return rc;
}

/* One file met by the walk (main thread): skip it when unchanged or failed before
 * as it is, else hand it to the analysis. Returns KB_OK, or a fatal error (I/O on the
 * index, out of memory) that stops the run. */
int crawl_file(struct run *r, const char *full, const char *id, const struct stat *st,
               int folder_vis, int bad_name, struct kb_error *err)
{
    r->rep->seen++;
    progress(r);
    if (bad_name)
        return bad_name_file(r, id, st, err);
    struct entry *e = manifest_find(r, id);
    json_int_t m = (json_int_t)st->st_mtim.tv_sec, s = (json_int_t)st->st_size;
    json_int_t ns = (json_int_t)st->st_mtim.tv_nsec;
    /* the folder's visibility when the file was indexed ("v", absent: public): a
     * .kb-visibility added, changed or removed since reindexes the file unread */
    const char *was = e ? json_string_value(json_object_get(e->state, "v")) : NULL;
    int vis_changed = e && (was ? KB_VIS_MEMBERS : KB_VIS_PUBLIC) != folder_vis;
    if (e) {
        e->seen = 1;
        /* stat only: an unchanged file is never opened. Nanoseconds catch an edit
         * within the same second that keeps the size (when the filesystem has them). */
        if (!vis_changed && e->m == m && e->s == s && (e->ns < 0 || e->ns == ns)) {
            r->rep->unchanged++;
            return KB_OK;
        }
    }
    json_t *f = json_object_get(r->failed, id);
    if (f && !r->o->retry_failed && manifest_int(f, "m", -1) == m &&
        manifest_int(f, "s", -1) == s && manifest_int(f, "n", ns) == ns) {
        r->rep->skipped_failed++;
        return KB_OK;
    }
    struct job j;
    memset(&j, 0, sizeof j);
    j.full = strdup(full);
    j.id = strdup(id);
    j.st = *st;
    j.e = e;
    j.folder_vis = folder_vis;
    const char *old =
        e && !vis_changed ? json_string_value(json_object_get(e->state, "c")) : NULL;
    if (old)
        crawl_copy_trunc(j.old_sum, sizeof j.old_sum, old);
    if (!j.full || !j.id) {
        crawl_job_clear(&j);
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    }
    return pool_submit(r, &j, err);
}

static json_t *report_core_json(const struct kb_run_report *rep)
{
    json_t *fails = json_array();
    for (size_t i = 0; i < rep->n_failures; i++) {
        json_t *one = json_pack("{s:s, s:s}", "path", rep->failures[i].path, "reason",
                                rep->failures[i].reason);
        if (!one) /* not UTF-8: keep the count right rather than lose the report */
            one = json_pack("{s:s, s:s}", "path", "(name not UTF-8)", "reason",
                            "(not UTF-8)");
        json_array_append_new(fails, one);
    }
    time_t t = time(NULL);
    struct tm tm;
    char when[32];
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:b, s:s, s:s, s:o}",
                     "added", (json_int_t)rep->added, "updated", (json_int_t)rep->updated,
                     "deleted", (json_int_t)rep->deleted, "unchanged",
                     (json_int_t)rep->unchanged, "failed", (json_int_t)rep->failed,
                     "skipped_failed", (json_int_t)rep->skipped_failed, "seconds",
                     rep->seconds, "revision", (json_int_t)rep->revision, "documents",
                     (json_int_t)rep->docs, "deletions_refused", rep->deletions_refused,
                     "generation", rep->generation, "finished", when, "failures", fails);
}

json_t *kb_run_report_json(const struct kb_run_report *rep)
{
    json_t *o = report_core_json(rep);
    if (!o)
        return NULL;
    /* every file that still fails (remembered and skipped ones too): "failures" holds
     * only the files this run tried */
    json_t *failing = json_array();
    for (size_t i = 0; i < rep->n_failing; i++) {
        json_t *one = json_pack("{s:s, s:s}", "path", rep->failing[i].path, "reason",
                                rep->failing[i].reason);
        if (!one)
            one = json_pack("{s:s, s:s}", "path", "(name not UTF-8)", "reason",
                            "(not UTF-8)");
        json_array_append_new(failing, one);
    }
    json_object_set_new(o, "failing", failing);
    json_object_set_new(o, "failing_count",
                        json_integer((json_int_t)rep->n_failing_total));
    return o;
}

static void run_release(struct run *r)
{
    for (size_t i = 0; i < r->n_e; i++) {
        free(r->e[i].path);
        json_decref(r->e[i].state);
    }
    free(r->e);
    json_decref(r->failed);
    json_decref(r->failing);
    pool_stop(r);
    if (r->main_w.an_ready)
        kb_analysis_release(&r->main_w.an);
    if (r->res_state > 0)
        kb_resources_release(&r->res);
    pthread_mutex_destroy(&r->res_mu);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The files whose failure record the run leaves in the index (tried again and failed,
 * or skipped as remembered), in path order, into the report. */
static void report_failing(struct run *r)
{
    size_t n = json_object_size(r->failing), k = 0;
    const char **paths = n ? malloc(n * sizeof *paths) : NULL;
    const char *key;
    json_t *v;
    r->rep->n_failing_total = n;
    r->rep->n_failing = 0;
    if (!paths)
        return;
    json_object_foreach(r->failing, key, v)
    {
        paths[k++] = key;
    }
    qsort(paths, k, sizeof *paths, cmp_str);
    for (size_t i = 0; i < k && r->rep->n_failing < KB_RUN_MAX_FAILURES; i++) {
        const char *why = json_string_value(
            json_object_get(json_object_get(r->failing, paths[i]), "reason"));
        size_t j = r->rep->n_failing++;
        crawl_copy_trunc(r->rep->failing[j].path, sizeof r->rep->failing[j].path,
                         paths[i]);
        crawl_copy_trunc(r->rep->failing[j].reason, sizeof r->rep->failing[j].reason,
                         why ? why : "");
    }
    free(paths);
}

int kb_index_run(const struct kb_config *c, const struct kb_run_opts *o,
                 struct kb_run_report *rep, struct kb_error *err)
{
    struct run r;
    memset(&r, 0, sizeof r);
    memset(rep, 0, sizeof *rep);
    r.c = c;
    r.o = o;
    r.rep = rep;
    r.tty = isatty(STDERR_FILENO);
    pthread_mutex_init(&r.res_mu, NULL);
    r.main_w.r = &r;
    r.threads = c->threads;
    if (r.threads == 0) { /* one per core */
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        r.threads = n > 0 ? (size_t)n : 1;
    }
    if (r.threads > KB_MAX_SHARDS)
        r.threads = KB_MAX_SHARDS;
    double t0 = now_s();
    int exit_code = KB_EXIT_FATAL, lock_fd = -1, rc;
    struct kb_error e;
    char gen_dir[1200] = "", build_dir[1200] = "";
    int gen = 0;
    struct kb_index_space *space = NULL; /* the committed tables' sizes (core/index.h) */

    kb_read_limits_default(&r.lim);
    r.lim.max_file = c->max_file_mb << 20;
    r.lim.max_text = c->max_text_mb << 20;
    r.lim.max_seconds = c->file_seconds;
    r.failed = json_object();
    r.failing = json_object();

    if (kb_index_mkdir(c->index) < 0) {
        kb_error_set(err, KB_EIO, "cannot create index folder '%s': %s", c->index,
                     strerror(errno));
        goto out;
    }
    if ((lock_fd = kb_index_lock(c->index, err)) < 0) {
        if (err->code == KB_ELOCKED)
            exit_code = KB_EXIT_LOCKED;
        goto out;
    }
    gen = kb_index_generation(c->index);
    kb_index_remove_leftovers(c->index, gen > 0 ? gen : 0);
    gen = kb_index_generation(c->index); /* a killed switch may have been finished */
    int have_gen = gen > 0;
    int old_gen = have_gen ? gen : 0;
    size_t loc_shards = kb_index_shards(c->index);
    if (have_gen && !o->full && loc_shards != c->shards) {
        kb_error_set(err, KB_EINVAL,
                     "the index '%s' has %zu shard%s and this run asks for %zu: run with "
                     "--full to rebuild it with %zu, or set shards = %zu",
                     c->index, loc_shards, loc_shards == 1 ? "" : "s", c->shards,
                     c->shards, loc_shards);
        exit_code = KB_EXIT_USAGE;
        goto out;
    }
    if (have_gen) {
        /* a run killed after it filled the disk: give its space back now */
        long long freed = kb_index_space_recover(c->index);
        if (freed > 0)
            fprintf(stderr, "kb-indexer: gave back %lld bytes left by a failed run\n",
                    freed);
    }
    if (!have_gen || o->full) {
        int next = gen + 1;
        kb_index_gen_path(c->index, next, gen_dir, sizeof gen_dir);
        kb_index_build_path(c->index, next, 0, build_dir, sizeof build_dir);
        kb_index_remove_tree(build_dir);
        kb_index_remove_tree(gen_dir);
        kb_index_gen_name(next, rep->generation, sizeof rep->generation);
        gen = next;
        r.build_dir = build_dir;
        r.sharded = r.threads > 1;
        rc = kb_index_writer_open_build(c->index, c->shards, gen, 0,
                                        KB_INDEX_CREATE | KB_INDEX_NO_SYNC, &r.w, err);
    } else {
        kb_index_gen_path(c->index, gen, gen_dir, sizeof gen_dir);
        kb_index_gen_name(gen, rep->generation, sizeof rep->generation);
        /* kb-server's single writer holds the Xapian lock for one short batch at a
         * time (docs/writes.md): wait for it rather than fail the nightly run. Two
         * indexers are still kept apart at once by the location's lock above. */
        rc = kb_index_writer_open_location(c->index, KB_INDEX_CREATE | KB_INDEX_WAIT_LOCK,
                                           &r.w, err);
    }
    r.gen = gen;
    if (rc) {
        exit_code = rc == KB_ELOCKED ? KB_EXIT_LOCKED : KB_EXIT_FATAL;
        goto out;
    }
    char *schema = NULL;
    kb_error_clear(&e);
    rc = kb_index_writer_get_meta(r.w, KB_META_SCHEMA, &schema, &e);
    if (rc == KB_OK && strcmp(schema, KB_SCHEMA_VERSION) != 0) {
        kb_error_set(
            err, KB_EINVAL,
            "the index was built with schema %s, this indexer writes %s: run with --full",
            schema, KB_SCHEMA_VERSION);
        free(schema);
        exit_code = KB_EXIT_USAGE;
        goto out;
    }
    free(schema);

    if (kb_index_writer_for_each_meta(r.w, MANIFEST_PREFIX, manifest_load_cb, &r, err) ||
        kb_index_writer_for_each_meta(r.w, KB_META_FAILED_PREFIX, manifest_load_failed_cb,
                                      &r, err))
        goto out;
    if (r.n_e) /* qsort and bsearch must not see NULL, even with 0 items */
        qsort(r.e, r.n_e, sizeof *r.e, manifest_cmp);
    unsigned long base_rev = 0, rev_base = 0; /* Xapian's, and KB_META_REV_BASE */
    kb_index_writer_revision(r.w, &base_rev, &e);
    char *rb = NULL;
    if (!build_dir[0] &&
        kb_index_writer_get_meta(r.w, KB_META_REV_BASE, &rb, &e) == KB_OK)
        rev_base = strtoul(rb, NULL, 10);
    free(rb);
    if (!build_dir[0]) /* what the committed tables take, to give back on failure */
        space = kb_index_space_take(r.w, c->index, 1);

    /* Everything from here to commit is one transaction: readers see all or nothing,
     * and a run killed at any point leaves the previous revision as it was. */
    if (kb_index_writer_begin(r.w, err))
        goto out;
    /* --retry-failed: remembered failures are tried again by the walk; a record
     * goes when its file indexes, is rewritten only when the failure changed, and goes
     * with its file. A retry that changes nothing makes no new revision. */
    if (r.tty && o->progress) /* the total for the bar costs a second walk: only then */
        for (size_t i = 0; i < c->n_sources; i++)
            walk_folder(&r, c->sources[i], "", 0, KB_VIS_PUBLIC, 1, 0, NULL);
    size_t empty_sources = 0;
    for (size_t i = 0; i < c->n_sources; i++) {
        size_t before = rep->seen;
        struct kb_error we;
        kb_error_clear(&we);
        rc = walk_folder(&r, c->sources[i], "", 0, KB_VIS_PUBLIC, 0, 0, &we);
        if (rc == KB_ENOTFOUND) {
            fprintf(stderr, "kb-indexer: %s\n", we.msg);
            empty_sources++;
            continue;
        }
        if (rc) {
            kb_error_set(err, rc, "%s", we.msg);
            goto out;
        }
        if (rep->seen == before)
            empty_sources++;
    }
    if ((rc = pool_drain(&r, err)) ||
        (rc = pool_shards_finish(&r, err))) /* the last files */
        goto out;
    if (r.tty && o->progress)
        fputc('\n', stderr);

    /* Deletions: files known before and not seen now. */
    size_t unseen = 0;
    for (size_t i = 0; i < r.n_e; i++)
        unseen += !r.e[i].seen;
    if (unseen && !o->no_delete) {
        if ((empty_sources || unseen == r.n_e) && !o->force_delete) {
            fprintf(
                stderr,
                "kb-indexer: refusing to delete %zu documents: %s (use --force-delete if "
                "this is intended)\n",
                unseen,
                empty_sources ? "a source folder is missing or empty"
                              : "every known file has disappeared");
            rep->deletions_refused = 1;
        } else {
            for (size_t i = 0; i < r.n_e; i++) {
                if (r.e[i].seen)
                    continue;
                if (delete_ids(&r, r.e[i].path, r.e[i].state, NULL, err) ||
                    manifest_set(&r, MANIFEST_PREFIX, r.e[i].path, NULL, err))
                    goto out;
            }
        }
    }
    /* Failure records of files that are gone. */
    {
        const char *k;
        json_t *v;
        json_object_foreach(r.failed, k, v)
        {
            if (!manifest_find(&r, k) && !json_object_get(v, "seen")) {
                char full[4096];
                int gone = 1;
                for (size_t i = 0; i < c->n_sources && gone; i++) {
                    struct stat st;
                    snprintf(full, sizeof full, "%s/%s", c->sources[i], k);
                    /* only a file known to be absent: one behind an unreadable
                     * folder (EACCES) keeps its record */
                    gone = stat(full, &st) != 0 && (errno == ENOENT || errno == ENOTDIR);
                }
                if (gone && !o->no_delete &&
                    manifest_set(&r, KB_META_FAILED_PREFIX, k, NULL, err))
                    goto out;
            }
        }
    }

    report_failing(&r);
    kb_error_clear(&e);
    kb_index_writer_doc_count(r.w, &rep->docs, &e);
    rep->docs += r.shard_docs;
    if (!build_dir[0] && r.writes == 0) {
        /* Nothing changed: leave the index untouched. No new revision, no fsync (the
         * largest cost of a no-op run), readers need not reopen; kb:last_run keeps the
         * last run that changed something. The transaction is cancelled at out:. */
        rep->revision = rev_base + base_rev;
        rep->seconds = now_s() - t0;
        exit_code = rep->failed || rep->deletions_refused ? KB_EXIT_FAILED : KB_EXIT_OK;
        goto out;
    }
    if (kb_index_writer_flush_spelling(r.w, err)) /* the run's words, once, at the end */
        goto out;
    if (build_dir[0] && old_gen) {
        /* a new generation goes on from the last revision of the one it replaces, read
         * as late as possible (API writes may still commit to it) */
        char num[32];
        rev_base = kb_index_generation_revision(c->index, old_gen);
        snprintf(num, sizeof num, "%lu", rev_base);
        if (rev_base &&
            kb_index_writer_set_meta(r.w, KB_META_REV_BASE, num, strlen(num), err))
            goto out;
    }
    /* what the commit below creates (checked after it) */
    rep->revision = rev_base + base_rev + 1;
    rep->seconds = now_s() - t0;
    json_t *report = kb_run_report_json(rep);
    if (manifest_set(&r, KB_META_LAST_RUN, "", report, err)) {
        json_decref(report);
        goto out;
    }
    json_decref(report);
    if (kb_index_writer_set_meta(r.w, KB_META_SCHEMA, KB_SCHEMA_VERSION,
                                 strlen(KB_SCHEMA_VERSION), err) ||
        kb_index_writer_commit(r.w, err))
        goto out;
    kb_index_writer_revision(r.w, &rep->revision, &e);
    rep->revision += rev_base;
    rc = kb_index_writer_close(r.w, err);
    r.w = NULL;
    if (rc)
        goto out;
    if (build_dir[0]) {
        /* new generation: compact it (and the threads' shards) into place, in every
         * shard of the location, then switch the stubs (core/index.h) */
        size_t n_slots = r.pool_ready ? r.pool.n_workers : 0;
        if (n_slots > KB_MAX_SHARDS)
            n_slots = KB_MAX_SHARDS;
        if (kb_index_finish_build(c->index, c->shards, gen, n_slots, "kb-indexer", err))
            goto out;
        /* compaction starts the new generation at revision 1 */
        rep->revision = rev_base + 1;
        build_dir[0] = '\0';
    }
    rep->seconds = now_s() - t0;
    exit_code = rep->failed || rep->deletions_refused ? KB_EXIT_FAILED : KB_EXIT_OK;
out:
    kb_index_writer_free(r.w); /* cancels the transaction: nothing committed */
    if (exit_code == KB_EXIT_FATAL && space) {
        long long freed = kb_index_space_restore(space);
        if (freed > 0)
            fprintf(stderr, "kb-indexer: gave back %lld bytes written by this run\n",
                    freed);
    }
    kb_index_space_free(space); /* and its notes */
    if (exit_code == KB_EXIT_FATAL && err && err->code == KB_OK)
        kb_error_set(err, KB_EINDEX, "indexing failed");
    run_release(&r); /* closes the shards, if any */
    if (build_dir[0])
        kb_index_remove_build(c->index, gen, r.threads);
    kb_index_unlock(lock_fd);
    return exit_code;
}
