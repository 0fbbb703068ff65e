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

struct store_ctx {
    const char *store;
    struct kb_snapshot_report *rep;
    struct kb_error *err;
};

/* kb_index_data_fn: one document of the snapshot; an API one gets its store file. */
static int store_doc(const char *data, size_t len, void *ctx)
{
    struct store_ctx *c = ctx;
    const char *nul = memchr(data, '\0', len);
    size_t mlen = nul ? (size_t)(nul - data) : len;
    json_t *doc = json_loadb(data, mlen, 0, NULL);
    const char *id = json_string_value(json_object_get(doc, "id"));
    const char *fmt = json_string_value(json_object_get(doc, "format"));
    if (!id || !fmt || strcmp(fmt, "api")) {
        json_decref(doc);
        return KB_OK;
    }
    if (nul) /* data is metadata, NUL, body (core/analysis.c) */
        json_object_set_new(doc, "body",
                            json_stringn(nul + 1, len - (size_t)(nul + 1 - data)));
    json_t *line = json_pack("{s:I, s:s, s:s, s:O}", "seq", (json_int_t)c->rep->api_seq,
                             "op", "put", "id", id, "doc", doc);
    char *s = line ? json_dumps(line, JSON_COMPACT) : NULL;
    char name[64], path[1400];
    store_name(id, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", c->store, name);
    int bad = !s || write_file(path, s);
    free(s);
    json_decref(line);
    json_decref(doc);
    if (bad)
        return kb_error_set(c->err, KB_EIO, "cannot write '%s': %s", path,
                            strerror(errno));
    c->rep->api_docs++;
    return KB_OK;
}

/* Rebuilds the API store of the snapshot at `snap` from its own documents. */
static int rebuild_store(const char *snap, const char *store,
                         struct kb_snapshot_report *rep, struct kb_error *err)
{
    struct kb_index_reader *r = NULL;
    struct kb_error e;
    char *meta = NULL;
    int rc = KB_OK;
    kb_error_clear(&e);
    if (kb_index_reader_open(snap, &r, &e) ||
        kb_index_reader_doc_count(r, &rep->docs, &e)) {
        rc = kb_error_set(err, KB_EINDEX, "cannot open the snapshot '%s': %s", snap,
                          e.msg);
        goto out;
    }
    if (kb_index_reader_get_meta(r, META_API_SEQ, &meta, &e) == KB_OK)
        rep->api_seq = strtoull(meta, NULL, 10);
    kb_error_clear(&e);
    struct store_ctx c = {store, rep, err};
    if ((rc = kb_index_reader_for_each_doc(r, store_doc, &c, &e))) {
        if (err->code == KB_OK)
            kb_error_set(err, KB_EINDEX, "cannot list the snapshot's documents: %s",
                         e.msg);
        rc = err->code;
        goto out;
    }
    char path[1400], num[32];
    snprintf(path, sizeof path, "%s/.seq", store);
    snprintf(num, sizeof num, "%llu\n", rep->api_seq);
    if (rep->api_seq && write_file(path, num))
        rc = kb_error_set(err, KB_EIO, "cannot write '%s': %s", path, strerror(errno));
out:
    free(meta);
    kb_index_reader_close(r);
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

int kb_snapshot(const char *index, const char *dir, struct kb_snapshot_report *rep,
                struct kb_error *err)
{
    char tmp[1200], gen[1300], store[1300], db[1200], db2[1200];
    struct stat st;
    struct kb_error e;
    int code = KB_EXIT_FATAL, rc;
    /* after a copy overtaken by commits: the write lock, held so that the server's
     * writer keeps new writes in its journal (still accepted, 202) and no nightly run
     * starts until the copy is made; nothing is written through it */
    struct kb_index_writer *paused = NULL;
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
    if (kb_index_shards(index) >= 2) { /* one compacted copy would lose the lexicon */
        kb_error_set(err, KB_EUNSUPPORTED,
                     "'%s' is sharded: --snapshot copies an unsharded index only (copy "
                     "each shard and the lexicon with xapian-replicate instead)",
                     index);
        return KB_EXIT_USAGE;
    }
    if (!kb_index_check_available()) {
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
    kb_index_remove_tree(tmp); /* what a killed snapshot left */
    kb_index_gen_path(tmp, 1, gen, sizeof gen);
    snprintf(store, sizeof store, "%s/api-docs", tmp);
    for (int attempt = 1;; attempt++) {
        if (mkdir(tmp, 0755) < 0) {
            kb_error_set(err, KB_EIO, "cannot create '%s': %s", tmp, strerror(errno));
            tmp[0] = '\0'; /* not ours */
            goto out;
        }
        struct kb_index_reader *r = NULL;
        kb_error_clear(&e);
        if (kb_index_reader_open(db, &r, &e) == KB_OK)
            kb_index_reader_revision(r, &rep->src_revision, &e);
        kb_index_reader_close(r);
        kb_error_clear(&e);
        const char *src = db;
        rc = kb_index_compact(&src, 1, gen, &e);
        int moved =
            kb_index_current_db(index, db2, sizeof db2) < 0 || strcmp(db, db2) != 0;
        if (!rc && !moved)
            break;
        kb_index_remove_tree(tmp);
        if (moved) { /* a new generation: the pause (if any) held the old one */
            kb_index_writer_free(paused);
            paused = NULL;
        } else if (!paused) { /* commits overtook the copy: hold them in the journal */
            paused = kb_index_writer_hold(db);
        }
        /* a live database may change under the copy whatever the error says (Xapian
         * reports a discarded revision in more than one way): try again, the writers
         * paused from the second attempt on */
        if (attempt == MAX_TRIES) {
            kb_error_set(err, KB_EINDEX, "cannot copy '%s': %s", db,
                         rc ? e.msg : "the generation kept changing");
            goto out;
        }
        if (moved && kb_index_current_db(index, db, sizeof db) < 0) {
            kb_error_set(err, KB_ENOTFOUND, "the index at '%s' went away", index);
            goto out;
        }
    }
    kb_index_writer_free(paused); /* the copy is made: writes may go on */
    paused = NULL;
    snprintf(rep->src_db, sizeof rep->src_db, "%s", db);
    if (kb_index_switch(tmp, 1, "kb-indexer --snapshot", err))
        goto out;
    if (mkdir(store, 0755) < 0) {
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
    if ((rc = kb_index_check(gen, err))) {
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
    kb_index_writer_free(paused);
    if (tmp[0])
        kb_index_remove_tree(tmp);
    rep->seconds = now_s() - t0;
    return code;
}
