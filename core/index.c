/* SPDX-License-Identifier: MIT */
/*
 * index.c - see index.h: the index location's layout, and the one place where documents
 * are stored and deleted with the spelling dictionary counted net.
 */
#include "index.h"
#include "analysis.h"
#include "schema.h"
#include "xapian_c.h"
#include "xerror.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

/* The layout's names: nowhere else. */
#define STUB      "XAPIANDB"     /* "auto gen-N": Xapian follows it */
#define GEN_FMT   "gen-%d"       /* a generation */
#define BUILD_SFX ".build"       /* gen-N.build, gen-N.build.K: a new one being made */
#define LOCK_FILE "indexer.lock" /* flock: one indexer (or first creation) at once */
#define GLASS_TAG "iamglass"     /* a glass database's own marker file */
#define ID_PREFIX "Q"            /* the unique-id term prefix (xapian-c adds it) */

/* ======================================================================================
 * The location
 */

int kb_index_generation(const char *index)
{
    char stub[1200], line[256];
    int gen = 0;
    snprintf(stub, sizeof stub, "%s/" STUB, index);
    FILE *f = fopen(stub, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "auto " GEN_FMT, &gen) == 1)
            break;
    fclose(f);
    return gen > 0 ? gen : 0;
}

int kb_index_current_db(const char *index, char *buf, size_t cap)
{
    char probe[1200];
    struct stat st;
    int gen = kb_index_generation(index);
    if (gen > 0) {
        kb_index_gen_path(index, gen, buf, cap);
        return 0;
    }
    snprintf(probe, sizeof probe, "%s/" GLASS_TAG, index);
    if (access(probe, F_OK) == 0 || (stat(index, &st) == 0 && S_ISREG(st.st_mode))) {
        snprintf(buf, cap, "%s", index);
        return 0;
    }
    return -1;
}

void kb_index_gen_name(int gen, char *buf, size_t cap)
{
    snprintf(buf, cap, GEN_FMT, gen);
}

void kb_index_gen_path(const char *index, int gen, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/" GEN_FMT, index, gen);
}

void kb_index_build_path(const char *index, int gen, size_t shard, char *buf, size_t cap)
{
    if (shard)
        snprintf(buf, cap, "%s/" GEN_FMT BUILD_SFX ".%zu", index, gen, shard);
    else
        snprintf(buf, cap, "%s/" GEN_FMT BUILD_SFX, index, gen);
}

void kb_index_stub_path(const char *index, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/" STUB, index);
}

void kb_index_lexicon_path(const char *index, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/lexicon", index);
}

void kb_index_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[1400];
        snprintf(p, sizeof p, "%s/%s", path, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            kb_index_remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(path);
}

void kb_index_remove_build(const char *index, int gen, size_t n_shards)
{
    char p[1300];
    for (size_t i = 0; i <= n_shards; i++) {
        kb_index_build_path(index, gen, i, p, sizeof p);
        kb_index_remove_tree(p);
    }
}

void kb_index_remove_generation(const char *index, int gen)
{
    char p[1300];
    kb_index_gen_path(index, gen, p, sizeof p);
    kb_index_remove_tree(p);
}

int kb_index_mkdir(const char *path)
{
    char p[1200];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return -1;
        p[i] = c;
    }
    return 0;
}

int kb_index_lock(const char *index, struct kb_error *err)
{
    char lock_path[1200];
    snprintf(lock_path, sizeof lock_path, "%s/" LOCK_FILE, index);
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        return fd;
    if (fd >= 0 && errno == EWOULDBLOCK)
        kb_error_set(err, KB_ELOCKED, "another indexer is running on '%s'", index);
    else
        kb_error_set(err, KB_EIO, "cannot lock '%s': %s", lock_path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

void kb_index_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

int kb_index_switch(const char *index, int gen, const char *who, struct kb_error *err)
{
    char tmp[1200], stub[1200];
    snprintf(tmp, sizeof tmp, "%s/" STUB ".tmp", index);
    snprintf(stub, sizeof stub, "%s/" STUB, index);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return kb_error_set(err, KB_EIO, "cannot write '%s': %s", tmp, strerror(errno));
    int ok = fprintf(f, "# written by %s: the current generation\nauto " GEN_FMT "\n",
                     who, gen) > 0;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, stub) < 0) {
        int e = errno;
        unlink(tmp);
        if (e == ENOSPC || e == EFBIG || e == EDQUOT)
            return kb_error_set(err, KB_ENOSPC, "disk full: cannot switch generation: %s",
                                strerror(e));
        return kb_error_set(err, KB_EIO, "cannot switch generation: %s", strerror(e));
    }
    int dfd = open(index, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return KB_OK;
}

void kb_index_prune(const char *index, int gen)
{
    for (int g = gen - 2; g > 0 && g >= gen - 10; g--)
        kb_index_remove_generation(index, g);
}

void kb_index_remove_leftovers(const char *index, int current)
{
    DIR *d = opendir(index);
    if (!d)
        return;
    struct dirent *de;
    size_t sl = strlen(BUILD_SFX);
    while ((de = readdir(d))) {
        int g = 0, n = 0;
        char p[1400];
        if (sscanf(de->d_name, GEN_FMT "%n", &g, &n) != 1)
            continue;
        int build = strncmp(de->d_name + n, BUILD_SFX, sl) == 0 &&
                    (de->d_name[n + sl] == '\0' || de->d_name[n + sl] == '.');
        if (!build && (de->d_name[n] != '\0' || g <= current))
            continue;
        snprintf(p, sizeof p, "%s/%s", index, de->d_name);
        kb_index_remove_tree(p);
    }
    closedir(d);
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s/" STUB ".tmp", index);
    unlink(tmp);
}

unsigned long kb_index_generation_revision(const char *index, int gen)
{
    char path[1200];
    kb_index_gen_path(index, gen, path, sizeof path);
    struct xap_error xe = {0};
    xap_reader *rd = NULL;
    unsigned long rev = 0;
    char *base = NULL;
    if (xap_reader_open(path, &rd, &xe))
        return 0;
    xap_reader_revision(rd, &rev, &xe);
    if (xap_reader_get_meta(rd, KB_META_REV_BASE, &base, NULL, &xe) == XAP_OK)
        rev += strtoul(base, NULL, 10);
    free(base);
    xap_reader_close(rd);
    return rev;
}

int kb_index_create(const char *index, const char *who, struct kb_error *err)
{
    char gen[1300];
    int rc = KB_OK;
    xap_writer *xw = NULL;
    struct xap_error xe = {0};
    struct kb_error le;
    kb_error_clear(&le);
    if (mkdir(index, 0755) < 0 && errno != EEXIST)
        return kb_error_set(err, KB_EIO, "cannot create '%s': %s", index,
                            strerror(errno));
    int fd = kb_index_lock(index, &le);
    if (fd < 0)
        return kb_error_set(err, KB_ELOCKED, "the indexer is creating the index");
    if (kb_index_current_db(index, gen, sizeof gen) == 0)
        goto out; /* created meanwhile */
    kb_index_gen_path(index, 1, gen, sizeof gen);
    if (xap_writer_open(gen, XAP_OPEN_CREATE, &xw, &xe) || xap_writer_close(xw, &xe)) {
        rc = kb_error_set(err, KB_EINDEX, "cannot create '%s': %s", gen, xe.msg);
        goto out;
    }
    rc = kb_index_switch(index, 1, who, err);
out:
    kb_index_unlock(fd);
    return rc;
}

/* ======================================================================================
 * Spelling words counted over a batch or a run (open addressing on XXH64), added to the
 * index once before the commit instead of one update per word per document: the sums
 * are the same, so is the dictionary. Counts are net: a replaced document takes its old
 * words out, so an edit that adds a line only touches that line's words, and a word
 * edited away leaves the dictionary.
 */

struct spell_slot {
    char *word; /* malloc'ed, NUL-terminated; NULL for an empty slot */
    long long count;
};

struct spell_map {
    struct spell_slot *slot;
    size_t cap, n; /* cap is a power of two */
};

/* Adds inc to the count of word (len bytes). Returns KB_OK or KB_ENOMEM. */
static int spell_add(struct spell_map *m, const char *word, size_t len, long long inc)
{
    if (2 * (m->n + 1) > m->cap) { /* keep the load under one half */
        size_t cap = m->cap ? m->cap * 2 : 4096;
        struct spell_slot *s = calloc(cap, sizeof *s);
        if (!s)
            return KB_ENOMEM;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slot[i].word)
                continue;
            size_t h = (size_t)XXH64(m->slot[i].word, strlen(m->slot[i].word), 0);
            while (s[h & (cap - 1)].word)
                h++;
            s[h & (cap - 1)] = m->slot[i];
        }
        free(m->slot);
        m->slot = s;
        m->cap = cap;
    }
    size_t h = (size_t)XXH64(word, len, 0);
    for (;; h++) {
        struct spell_slot *s = &m->slot[h & (m->cap - 1)];
        if (!s->word) {
            if (!(s->word = malloc(len + 1)))
                return KB_ENOMEM;
            memcpy(s->word, word, len);
            s->word[len] = '\0';
            s->count = inc;
            m->n++;
            return KB_OK;
        }
        if (strncmp(s->word, word, len) == 0 && s->word[len] == '\0') {
            s->count += inc;
            return KB_OK;
        }
    }
}

/* Frees every word; the map is empty and reusable. Accepts an empty map. */
static void spell_clear(struct spell_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slot[i].word);
    free(m->slot);
    memset(m, 0, sizeof *m);
}

/* Adds sign * (wdf or 1) to the count of a spelling word (xap_is_spelling_word); other
 * terms are passed over. Returns 0, or 1 out of memory (a xap_term_fn's stop). */
static int spell_count(struct spell_map *m, const char *term, size_t len, unsigned wdf,
                       int sign)
{
    if (!xap_is_spelling_word(term, len))
        return 0;
    return spell_add(m, term, len, sign * (long long)(wdf ? wdf : 1)) ? 1 : 0;
}

/* xap_term_fn: counts one word of a document being stored. */
static int spell_term(const char *term, size_t len, unsigned wdf, void *ctx)
{
    return spell_count(ctx, term, len, wdf, 1);
}

/* xap_term_fn: takes one word of a stored document about to go back out. */
static int spell_term_out(const char *term, size_t len, unsigned wdf, void *ctx)
{
    return spell_count(ctx, term, len, wdf, -1);
}

/* ======================================================================================
 * Documents and writers
 */

struct kb_index_doc {
    xap_doc *x;
    int members; /* member-only: no words for the shared spelling dictionary */
};

struct kb_index_writer {
    xap_writer *x;
    struct spell_map spell;
    int in_txn;
};

int kb_index_doc_build(struct kb_analysis *a, struct kb_doc *d, struct kb_index_doc **out,
                       struct kb_error *err)
{
    struct kb_index_doc *doc = calloc(1, sizeof *doc);
    *out = NULL;
    if (!doc)
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    int rc = kb_analysis_build(a, d, &doc->x, err);
    if (rc) {
        free(doc);
        return rc;
    }
    doc->members = d->visibility == KB_VIS_MEMBERS;
    *out = doc;
    return KB_OK;
}

void kb_index_doc_free(struct kb_index_doc *doc)
{
    if (!doc)
        return;
    xap_doc_free(doc->x);
    free(doc);
}

int kb_index_fatal(int rc)
{
    return rc == KB_EIO || rc == KB_ENOMEM || rc == KB_ELOCKED || rc == KB_ENOSPC ||
           rc == KB_EINDEX;
}

/* A write-side failure into err (xerror.h). */
static int werr(struct kb_error *err, int xrc, const struct xap_error *xe,
                const char *what)
{
    return kb_xerror_set(err, xrc, xe, KB_XERR_WRITE, what);
}

static unsigned xap_flags(unsigned flags)
{
    return ((flags & KB_INDEX_CREATE) ? XAP_OPEN_CREATE : 0) |
           ((flags & KB_INDEX_NO_SYNC) ? XAP_OPEN_NO_SYNC : 0) |
           ((flags & KB_INDEX_WAIT_LOCK) ? XAP_OPEN_RETRY_LOCK : 0);
}

int kb_index_writer_open(const char *db, unsigned flags, struct kb_index_writer **out,
                         struct kb_error *err)
{
    struct xap_error xe = {0};
    struct kb_index_writer *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w)
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    int rc = xap_writer_open(db, xap_flags(flags), &w->x, &xe);
    if (rc) {
        free(w);
        char what[1300];
        snprintf(what, sizeof what, "cannot open '%s' for writing", db);
        return werr(err, rc, &xe, what);
    }
    *out = w;
    return KB_OK;
}

struct kb_index_writer *kb_index_writer_hold(const char *db)
{
    for (int i = 0; i < 100; i++) {
        struct kb_index_writer *w = NULL;
        struct kb_error e;
        kb_error_clear(&e);
        int rc = kb_index_writer_open(db, 0, &w, &e);
        if (rc == KB_OK)
            return w;
        if (rc != KB_ELOCKED)
            return NULL;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int kb_index_writer_close(struct kb_index_writer *w, struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = xap_writer_close(w->x, &xe); /* commits */
    w->x = NULL;
    spell_clear(&w->spell);
    free(w);
    return rc ? werr(err, rc, &xe, "cannot commit") : KB_OK;
}

void kb_index_writer_free(struct kb_index_writer *w)
{
    if (!w)
        return;
    xap_writer_free(w->x); /* cancels an open transaction */
    spell_clear(&w->spell);
    free(w);
}

int kb_index_writer_begin(struct kb_index_writer *w, struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = xap_writer_begin_txn(w->x, 0, &xe);
    if (rc)
        return werr(err, rc, &xe, "cannot start a transaction");
    w->in_txn = 1;
    return KB_OK;
}

int kb_index_writer_commit(struct kb_index_writer *w, struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = w->in_txn ? xap_writer_commit_txn(w->x, &xe) : XAP_OK;
    w->in_txn = 0;
    if (!rc)
        rc = xap_writer_commit(w->x, &xe);
    return rc ? werr(err, rc, &xe, "cannot commit") : KB_OK;
}

int kb_index_writer_revision(struct kb_index_writer *w, unsigned long *rev,
                             struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = xap_writer_revision(w->x, rev, &xe);
    return rc ? werr(err, rc, &xe, "cannot read the revision") : KB_OK;
}

int kb_index_writer_doc_count(struct kb_index_writer *w, unsigned *n,
                              struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = xap_writer_doc_count(w->x, n, &xe);
    return rc ? werr(err, rc, &xe, "cannot count the documents") : KB_OK;
}

int kb_index_writer_get_meta(struct kb_index_writer *w, const char *key, char **val,
                             struct kb_error *err)
{
    struct xap_error xe = {0};
    *val = NULL;
    int rc = xap_writer_get_meta(w->x, key, val, NULL, &xe);
    if (rc == XAP_E_NOT_FOUND)
        return kb_error_set(err, KB_ENOTFOUND, "'%s' is not set", key);
    return rc ? werr(err, rc, &xe, "cannot read index state") : KB_OK;
}

int kb_index_writer_set_meta(struct kb_index_writer *w, const char *key, const char *val,
                             size_t len, struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = xap_writer_set_meta(w->x, key, val, len, &xe);
    return rc ? werr(err, rc, &xe, "cannot write index state") : KB_OK;
}

int kb_index_writer_for_each_meta(struct kb_index_writer *w, const char *prefix,
                                  kb_index_meta_fn fn, void *ctx, struct kb_error *err)
{
    struct xap_error xe = {0};
    if (xap_writer_for_each_meta(w->x, prefix, fn, ctx, &xe))
        return kb_error_set(err, KB_EINDEX, "cannot read the index state: %s", xe.msg);
    return KB_OK;
}

/* Before document uid of w is replaced or deleted: its words go out of the counts.
 * Nothing when there is no such document, or a member-only one (it gave none). Returns
 * KB_OK or a status (in err) for which kb_index_fatal() holds. */
static int spell_take_out(struct kb_index_writer *w, const char *uid,
                          struct kb_error *err)
{
    struct xap_error xe = {0};
    unsigned docid = 0;
    int rc = xap_writer_lookup(w->x, uid, strlen(uid), &docid, &xe);
    if (rc == XAP_E_NOT_FOUND)
        return KB_OK;
    char vis[16];
    size_t vlen = 0;
    if (!rc &&
        xap_writer_get_value(w->x, docid, KB_SLOT_VISIBILITY, vis, sizeof vis, &vlen,
                             &xe) == XAP_OK &&
        vlen == 7 && !memcmp(vis, "members", 7))
        return KB_OK; /* a member-only document gave the dictionary no words */
    memset(&xe, 0, sizeof xe);
    if (!rc)
        rc = xap_writer_for_each_doc_term(w->x, docid, spell_term_out, &w->spell, &xe);
    if (rc == 1)
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    if (rc) { /* whatever Xapian says, an unreadable index is not this file's fault */
        int code = werr(err, rc, &xe, "cannot read a stored document's terms");
        return kb_index_fatal(code) ? code : (err->code = KB_EIO);
    }
    return KB_OK;
}

int kb_index_store(struct kb_index_writer *w, const char *id,
                   const struct kb_index_doc *doc, int replacing, struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = replacing ? spell_take_out(w, id, err) : KB_OK;
    if (rc)
        return rc;
    rc = xap_writer_replace(w->x, id, strlen(id), doc->x, NULL, &xe);
    if (rc) {
        char what[300];
        snprintf(what, sizeof what, "cannot store '%s'", id);
        return werr(err, rc, &xe, what);
    }
    rc =
        doc->members ? XAP_OK : xap_doc_for_each_term(doc->x, spell_term, &w->spell, &xe);
    if (rc == 1)
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    if (rc)
        return werr(err, rc, &xe, "cannot read a document's terms");
    return KB_OK;
}

int kb_index_delete(struct kb_index_writer *w, const char *id, unsigned flags,
                    int *deleted, struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = (flags & KB_INDEX_KEEP_SPELLING) ? KB_OK : spell_take_out(w, id, err);
    if (deleted)
        *deleted = 0;
    if (rc)
        return rc;
    rc = xap_writer_delete(w->x, id, strlen(id), &xe);
    if (rc == XAP_E_NOT_FOUND)
        return KB_OK;
    if (rc) {
        char what[300];
        snprintf(what, sizeof what, "cannot delete '%s'", id);
        return werr(err, rc, &xe, what);
    }
    if (deleted)
        *deleted = 1;
    return KB_OK;
}

int kb_index_writer_flush_spelling(struct kb_index_writer *w, struct kb_error *err)
{
    struct spell_map *sm = &w->spell;
    int rc = KB_OK;
    for (size_t i = 0; i < sm->cap && !rc; i++) {
        const struct spell_slot *s = &sm->slot[i];
        struct xap_error xe = {0};
        int xrc;
        if (!s->word || s->count == 0)
            continue;
        unsigned n = s->count > 0
                         ? (s->count > UINT_MAX ? UINT_MAX : (unsigned)s->count)
                         : (-s->count > UINT_MAX ? UINT_MAX : (unsigned)-s->count);
        xrc = s->count > 0
                  ? xap_writer_add_spelling(w->x, s->word, strlen(s->word), n, &xe)
                  : xap_writer_remove_spelling(w->x, s->word, strlen(s->word), n, &xe);
        if (xrc)
            rc = werr(err, xrc, &xe, "cannot store the spelling dictionary");
    }
    spell_clear(sm);
    return rc;
}

int kb_index_compact(const char *const *srcs, size_t n, const char *dst,
                     struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc =
        n == 1 ? xap_compact(srcs[0], dst, &xe) : xap_compact_many(srcs, n, dst, &xe);
    return rc ? werr(err, rc, &xe, "cannot compact") : KB_OK;
}

/* ======================================================================================
 * Reading a database as a whole (snapshots)
 */

struct kb_index_reader {
    xap_reader *x;
};

static int rerr(struct kb_error *err, int xrc, const struct xap_error *xe)
{
    return kb_xerror_set(err, xrc, xe, KB_XERR_READ, NULL);
}

int kb_index_reader_open(const char *db, struct kb_index_reader **out,
                         struct kb_error *err)
{
    struct xap_error xe = {0};
    struct kb_index_reader *r = calloc(1, sizeof *r);
    *out = NULL;
    if (!r)
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    int rc = xap_reader_open(db, &r->x, &xe);
    if (rc) {
        free(r);
        return rerr(err, rc, &xe);
    }
    *out = r;
    return KB_OK;
}

void kb_index_reader_close(struct kb_index_reader *r)
{
    if (!r)
        return;
    xap_reader_close(r->x);
    free(r);
}

int kb_index_reader_revision(struct kb_index_reader *r, unsigned long *rev,
                             struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = xap_reader_revision(r->x, rev, &xe);
    return rc ? rerr(err, rc, &xe) : KB_OK;
}

int kb_index_reader_doc_count(struct kb_index_reader *r, unsigned *n,
                              struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = xap_reader_doc_count(r->x, n, &xe);
    return rc ? rerr(err, rc, &xe) : KB_OK;
}

int kb_index_reader_get_meta(struct kb_index_reader *r, const char *key, char **val,
                             struct kb_error *err)
{
    struct xap_error xe = {0};
    *val = NULL;
    int rc = xap_reader_get_meta(r->x, key, val, NULL, &xe);
    return rc ? rerr(err, rc, &xe) : KB_OK;
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

int kb_index_reader_for_each_doc(struct kb_index_reader *r, kb_index_data_fn fn,
                                 void *ctx, struct kb_error *err)
{
    struct xap_error xe = {0};
    struct terms t = {0};
    char *data = NULL;
    int rc = xap_reader_for_each_term(r->x, ID_PREFIX, strlen(ID_PREFIX), (size_t)-1,
                                      collect_term, &t, &xe);
    if (rc)
        rc = rerr(err, rc, &xe);
    for (size_t i = 0; i < t.n && !rc; i++) {
        size_t len = 0;
        free(data);
        data = NULL;
        if (xap_reader_term_doc_data(r->x, t.v[i], strlen(t.v[i]), &data, &len, &xe))
            continue; /* a unique term without a document */
        rc = fn(data, len, ctx);
    }
    for (size_t i = 0; i < t.n; i++)
        free(t.v[i]);
    free(t.v);
    free(data);
    return rc;
}

int kb_index_check_available(void)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        char p[1200];
        snprintf(p, sizeof p, "%.*s/%s", (int)(n ? n : 1), n ? path : ".",
                 "xapian-check");
        if (access(p, X_OK) == 0)
            return 1;
        path += n;
        if (*path == ':')
            path++;
    }
    return 0;
}

int kb_index_check(const char *db, struct kb_error *err)
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
