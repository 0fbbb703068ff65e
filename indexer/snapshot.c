/* SPDX-License-Identifier: MIT */
/*
 * snapshot.c - see snapshot.h and docs/snapshots.md. Xapian readers never lock, and a
 * compaction reads one revision of its source from start to end, so copying from a
 * reader gives a consistent revision while the nightly indexer or the server's writer
 * commits. Should the revision be recycled under us (two commits during the copy:
 * DatabaseModifiedError) or the generation switched (--full), the copy starts again.
 *
 * The API documents are in that revision already; the server also keeps them in its
 * store (<index>/api-docs/, one file per document) so that a --full rebuild can replay
 * them. The snapshot's store is rebuilt from the copied revision itself, one file per
 * document of format "api" with the revision's kb:api_seq, under the names the server
 * gives them: the store then matches the index exactly, whatever the live store did
 * since. Only when the revision holds no kb:api_seq (a --full switch the writer has not
 * yet replayed the store into) is the live store copied as it is, and the server that
 * opens the snapshot replays it, as the live server would.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "crawl.h"
#include "index.h"
#include "snapshot.h"
#include "xapian_c.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define META_API_SEQ "kb:api_seq"
#define MAX_TRIES    5

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void remove_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int sync_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_F && flag != FTW_DP && flag != FTW_D)
        return 0;
    int fd = open(path, (S_ISDIR(st->st_mode) ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* 1 when `path` is a directory with no entries, 0 when it is anything else. */
static int empty_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *de;
    int empty = 1;
    while (empty && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            empty = 0;
    closedir(d);
    return empty;
}

/* Is `prog` an executable somewhere on PATH? */
static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        char p[1200];
        snprintf(p, sizeof p, "%.*s/%s", (int)(n ? n : 1), n ? path : ".", prog);
        if (access(p, X_OK) == 0)
            return 1;
        path += n;
        if (*path == ':')
            path++;
    }
    return 0;
}

/* Runs xapian-check on db; KB_OK when it passes, else an error with its last words. */
static int run_check(const char *db, struct kb_error *err)
{
    int fds[2];
    if (pipe(fds) < 0)
        return kb_error_set(err, KB_EIO, "cannot run xapian-check: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return kb_error_set(err, KB_EIO, "cannot run xapian-check: %s", strerror(errno));
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        execlp("xapian-check", "xapian-check", db, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char tail[600] = "", chunk[4096];
    size_t tl = 0;
    ssize_t n;
    while ((n = read(fds[0], chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR)) {
        for (ssize_t i = 0; i < n; i++) { /* keep the last bytes */
            if (tl == sizeof tail - 1) {
                memmove(tail, tail + 1, tl - 1);
                tl--;
            }
            tail[tl++] = chunk[i] == '\n' ? ' ' : chunk[i];
        }
    }
    tail[tl] = '\0';
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return KB_OK;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return kb_error_set(err, KB_ENOTFOUND, "xapian-check could not be started");
    return kb_error_set(err, KB_EINDEX, "xapian-check found errors in '%s': ...%s", db,
                        tail);
}

/* Writes s into path (new file), fsync'ed. */
static int write_file(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t len = strlen(s), off = 0;
    while (off < len) {
        ssize_t k = write(fd, s + off, len - off);
        if (k <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)k;
    }
    int rc = fsync(fd);
    return close(fd) < 0 ? -1 : rc;
}

struct terms {
    char **v;
    size_t n, cap;
};

static int collect_term(const char *term, size_t len, unsigned freq, void *ctx)
{
    struct terms *t = ctx;
    (void)freq;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        char **v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return XAP_E_NOMEM;
        t->v = v;
        t->cap = cap;
    }
    if (!(t->v[t->n] = strndup(term, len)))
        return XAP_E_NOMEM;
    t->n++;
    return 0;
}

/* The store file of an API document: BLAKE2b-128 of its id in hex, as the server's
 * writer names it (server/writer.c store_path). */
static void store_name(const char *id, char *buf, size_t cap)
{
    unsigned char h[16];
    char hex[33];
    crypto_generichash(h, sizeof h, (const unsigned char *)id, strlen(id), NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(buf, cap, "%s.json", hex);
}

/* Rebuilds the API store of the snapshot at `snap` from its own documents. */
static int rebuild_store(const char *snap, const char *store,
                         struct kb_snapshot_report *rep, struct kb_error *err)
{
    xap_reader *r = NULL;
    struct xap_error xe = {0};
    struct terms t = {0};
    char *data = NULL, *meta = NULL;
    int rc = KB_OK;
    if (xap_reader_open(snap, &r, &xe) || xap_reader_doc_count(r, &rep->docs, &xe)) {
        rc = kb_error_set(err, KB_EINDEX, "cannot open the snapshot '%s': %s", snap,
                          xe.msg);
        goto out;
    }
    if (xap_reader_get_meta(r, META_API_SEQ, &meta, NULL, &xe) == XAP_OK)
        rep->api_seq = strtoull(meta, NULL, 10);
    memset(&xe, 0, sizeof xe);
    if (xap_reader_for_each_term(r, "Q", 1, (size_t)-1, collect_term, &t, &xe)) {
        rc = kb_error_set(err, KB_EINDEX, "cannot list the snapshot's documents: %s",
                          xe.msg);
        goto out;
    }
    for (size_t i = 0; i < t.n; i++) {
        size_t len = 0;
        free(data);
        data = NULL;
        if (xap_reader_term_doc_data(r, t.v[i], strlen(t.v[i]), &data, &len, &xe))
            continue; /* a unique term without a document */
        const char *nul = memchr(data, '\0', len);
        size_t mlen = nul ? (size_t)(nul - data) : len;
        json_t *doc = json_loadb(data, mlen, 0, NULL);
        const char *id = json_string_value(json_object_get(doc, "id"));
        const char *fmt = json_string_value(json_object_get(doc, "format"));
        if (!id || !fmt || strcmp(fmt, "api")) {
            json_decref(doc);
            continue;
        }
        if (nul) /* data is metadata, NUL, body (core/analysis.c) */
            json_object_set_new(doc, "body",
                                json_stringn(nul + 1, len - (size_t)(nul + 1 - data)));
        json_t *line = json_pack("{s:I, s:s, s:s, s:O}", "seq", (json_int_t)rep->api_seq,
                                 "op", "put", "id", id, "doc", doc);
        char *s = line ? json_dumps(line, JSON_COMPACT) : NULL;
        char name[64], path[1400];
        store_name(id, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", store, name);
        int bad = !s || write_file(path, s);
        free(s);
        json_decref(line);
        json_decref(doc);
        if (bad) {
            rc =
                kb_error_set(err, KB_EIO, "cannot write '%s': %s", path, strerror(errno));
            goto out;
        }
        rep->api_docs++;
    }
    char path[1400], num[32];
    snprintf(path, sizeof path, "%s/.seq", store);
    snprintf(num, sizeof num, "%llu\n", rep->api_seq);
    if (rep->api_seq && write_file(path, num))
        rc = kb_error_set(err, KB_EIO, "cannot write '%s': %s", path, strerror(errno));
out:
    for (size_t i = 0; i < t.n; i++)
        free(t.v[i]);
    free(t.v);
    free(data);
    free(meta);
    xap_reader_close(r);
    return rc;
}

/* Copies the live store's files as they are (no kb:api_seq in the copied revision). */
static int copy_store(const char *from, const char *to, struct kb_error *err)
{
    DIR *d = opendir(from);
    if (!d)
        return KB_OK;
    struct dirent *de;
    int rc = KB_OK;
    while (!rc && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json"))
            continue;
        char src[1400], dst[1400];
        snprintf(src, sizeof src, "%s/%s", from, de->d_name);
        snprintf(dst, sizeof dst, "%s/%s", to, de->d_name);
        json_t *o = json_load_file(src, 0, NULL); /* a file deleted meanwhile: skipped */
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (s && write_file(dst, s))
            rc = kb_error_set(err, KB_EIO, "cannot write '%s': %s", dst, strerror(errno));
        free(s);
        json_decref(o);
    }
    closedir(d);
    return rc;
}

/* After a copy overtaken by commits: holds the write lock of database `db` (waiting up
 * to 10 s), so that the server's writer keeps new writes in its journal (still accepted,
 * 202) and no nightly run starts until the copy is made. Nothing is written through it.
 * Returns the open writer, or NULL (then the next attempt copies without it). */
static xap_writer *pause_writers(const char *db)
{
    for (int i = 0; i < 100; i++) {
        xap_writer *w = NULL;
        struct xap_error xe = {0};
        int rc = xap_writer_open(db, 0, &w, &xe);
        if (rc == XAP_OK)
            return w;
        if (rc != XAP_E_DB_LOCKED)
            return NULL;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int kb_snapshot(const char *index, const char *dir, struct kb_snapshot_report *rep,
                struct kb_error *err)
{
    char tmp[1200], gen[1300], stub[1300], store[1300], db[1200], db2[1200];
    struct stat st;
    struct xap_error xe = {0};
    int code = KB_EXIT_FATAL, rc;
    xap_writer *paused = NULL;
    double t0 = now_s();
    memset(rep, 0, sizeof *rep);
    tmp[0] = '\0';
    if (!dir || !*dir) {
        kb_error_set(err, KB_EINVAL, "--snapshot needs a folder: --snapshot=DIR");
        return KB_EXIT_USAGE;
    }
    if (stat(dir, &st) == 0 && !empty_dir(dir)) {
        kb_error_set(err, KB_EINVAL, "'%s' exists and is not an empty folder", dir);
        return KB_EXIT_USAGE;
    }
    if (kb_index_current_db(index, db, sizeof db) < 0) {
        kb_error_set(err, KB_ENOTFOUND, "no index at '%s'", index);
        return KB_EXIT_USAGE;
    }
    if (!on_path("xapian-check")) {
        kb_error_set(err, KB_ENOTFOUND,
                     "xapian-check is not on PATH (Debian package xapian-tools): the "
                     "snapshot cannot be checked");
        return KB_EXIT_MISSING_TOOL;
    }
    if (sodium_init() < 0) {
        kb_error_set(err, KB_EIO, "libsodium cannot start");
        return KB_EXIT_FATAL;
    }
    if (snprintf(tmp, sizeof tmp, "%s.tmp", dir) >= (int)sizeof tmp) {
        kb_error_set(err, KB_EINVAL, "the path '%s' is too long", dir);
        return KB_EXIT_USAGE;
    }
    remove_tree(tmp); /* what a killed snapshot left */
    snprintf(gen, sizeof gen, "%s/gen-1", tmp);
    snprintf(stub, sizeof stub, "%s/XAPIANDB", tmp);
    snprintf(store, sizeof store, "%s/api-docs", tmp);
    for (int attempt = 1;; attempt++) {
        if (mkdir(tmp, 0755) < 0) {
            kb_error_set(err, KB_EIO, "cannot create '%s': %s", tmp, strerror(errno));
            tmp[0] = '\0'; /* not ours */
            goto out;
        }
        xap_reader *r = NULL;
        memset(&xe, 0, sizeof xe);
        if (xap_reader_open(db, &r, &xe) == XAP_OK)
            xap_reader_revision(r, &rep->src_revision, &xe);
        xap_reader_close(r);
        memset(&xe, 0, sizeof xe);
        rc = xap_compact(db, gen, &xe);
        int moved =
            kb_index_current_db(index, db2, sizeof db2) < 0 || strcmp(db, db2) != 0;
        if (!rc && !moved)
            break;
        remove_tree(tmp);
        if (moved) { /* a new generation: the pause (if any) held the old one */
            xap_writer_free(paused);
            paused = NULL;
        } else if (!paused) { /* commits overtook the copy: hold them in the journal */
            paused = pause_writers(db);
        }
        /* a live database may change under the copy whatever the error says (Xapian
         * reports a discarded revision in more than one way): try again, the writers
         * paused from the second attempt on */
        if (attempt == MAX_TRIES) {
            kb_error_set(err, KB_EINDEX, "cannot copy '%s': %s", db,
                         rc ? xe.msg : "the generation kept changing");
            goto out;
        }
        if (moved && kb_index_current_db(index, db, sizeof db) < 0) {
            kb_error_set(err, KB_ENOTFOUND, "the index at '%s' went away", index);
            goto out;
        }
    }
    xap_writer_free(paused); /* the copy is made: writes may go on */
    paused = NULL;
    snprintf(rep->src_db, sizeof rep->src_db, "%s", db);
    if (write_file(stub, "# written by kb-indexer --snapshot\nauto gen-1\n") ||
        mkdir(store, 0755) < 0) {
        kb_error_set(err, KB_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        goto out;
    }
    if (rebuild_store(tmp, store, rep, err))
        goto out;
    if (!rep->api_seq) {
        char live[1300];
        snprintf(live, sizeof live, "%s/api-docs", index);
        if (copy_store(live, store, err))
            goto out;
    }
    if ((rc = run_check(gen, err))) {
        if (rc == KB_ENOTFOUND)
            code = KB_EXIT_MISSING_TOOL;
        goto out;
    }
    if (nftw(tmp, sync_entry, 16, FTW_PHYS) != 0) {
        kb_error_set(err, KB_EIO, "cannot sync '%s': %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, dir) < 0) {
        kb_error_set(err, KB_EIO, "cannot rename '%s' to '%s': %s", tmp, dir,
                     strerror(errno));
        goto out;
    }
    tmp[0] = '\0';
    code = KB_EXIT_OK;
out:
    xap_writer_free(paused);
    if (tmp[0])
        remove_tree(tmp);
    rep->seconds = now_s() - t0;
    return code;
}
