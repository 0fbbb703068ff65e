/* SPDX-License-Identifier: MIT */
/*
 * index.c - see index.h: the index location's layout, and the one place where documents
 * are stored and deleted with the spelling dictionary counted net.
 */
#include "index.h"
#include "analysis.h"
#include "query.h"
#include "schema.h"
#include "space.h"
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
#define STUB        "XAPIANDB"     /* "auto gen-N": Xapian follows it */
#define GEN_FMT     "gen-%d"       /* a generation */
#define BUILD_SFX   ".build"       /* gen-N.build, gen-N.build.K: a new one being made */
#define LOCK_FILE   "indexer.lock" /* flock: one indexer (or first creation) at once */
#define GLASS_TAG   "iamglass"     /* a glass database's own marker file */
#define REPLICA_TAG "Xapian::DatabaseReplica" /* in the stub xapian-replicate writes */
/* A sharded location (N >= 2): shardNN/ and lexicon/ are location-like folders of
 * their own (stub, generations, builds); the top stub lists "auto shardNN". */
#define SHARD_FMT       "shard%02zu"
#define SHARD_PFX       "shard"
#define LEXICON         "lexicon"
#define ROUTE_HASH      "xxh64"     /* documents go to shard XXH64(id, seed 0) % N */
#define META_SHARDS     "kb:shards" /* in the lexicon: "N xxh64" */
#define META_SHARD_REVS "kb:shard_revisions" /* in the lexicon: each shard's revision */

/* ======================================================================================
 * The location
 */

static void part_path(const char *index, size_t part, size_t n, char *buf, size_t cap)
{
    if (part < n)
        snprintf(buf, cap, "%s/" SHARD_FMT, index, part);
    else
        snprintf(buf, cap, "%s/" LEXICON, index);
}

/* Reads the top stub: the number of "auto shard..." lines (0: none), and in *explicit
 * 1 when they name generations ("auto shardNN/gen-K": a --full switch under way). */
static size_t top_shards(const char *index, int *explicit_gen)
{
    char stub[1200], line[256];
    size_t n = 0;
    int g = 0;
    snprintf(stub, sizeof stub, "%s/" STUB, index);
    FILE *f = fopen(stub, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        size_t k = 0;
        int gen = 0;
        if (strncmp(line, "auto " SHARD_PFX, 10) != 0)
            continue;
        n++;
        if (sscanf(line, "auto " SHARD_FMT "/" GEN_FMT, &k, &gen) == 2)
            g = gen;
    }
    fclose(f);
    if (explicit_gen)
        *explicit_gen = g;
    return n;
}

size_t kb_index_shards(const char *index)
{
    size_t n = top_shards(index, NULL);
    return n >= 2 ? n : 1;
}

size_t kb_index_shard_of(const char *id, size_t n)
{
    return n >= 2 ? (size_t)(XXH64(id, strlen(id), 0) % n) : 0;
}

const char *kb_index_route_hash(void)
{
    return ROUTE_HASH;
}

void kb_index_lexicon_path(const char *index, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/" LEXICON, index);
}

void kb_index_shard_path(const char *index, size_t shard, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/" SHARD_FMT, index, shard);
}

static int stub_generation(const char *index)
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

int kb_index_generation(const char *index)
{
    char lex[1200];
    if (kb_index_shards(index) < 2)
        return stub_generation(index);
    kb_index_lexicon_path(index, lex, sizeof lex);
    return stub_generation(lex);
}

int kb_index_current_db(const char *index, char *buf, size_t cap)
{
    char probe[1200];
    struct stat st;
    if (kb_index_shards(index) >= 2) { /* the top stub combines the shards */
        snprintf(buf, cap, "%s", index);
        return 0;
    }
    int gen = stub_generation(index);
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

/* Calls fn(path, ctx) for each part folder of a sharded layout found in `index`
 * (shardNN/ and lexicon/), whether or not the top stub lists it. */
static void for_each_part(const char *index, void (*fn)(const char *path, void *ctx),
                          void *ctx)
{
    DIR *d = opendir(index);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t k = 0;
        int n = 0;
        int part =
            !strcmp(de->d_name, LEXICON) ||
            (sscanf(de->d_name, SHARD_FMT "%n", &k, &n) == 1 && de->d_name[n] == '\0');
        if (!part)
            continue;
        char p[1400];
        snprintf(p, sizeof p, "%s/%s", index, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            fn(p, ctx);
    }
    closedir(d);
}

struct build_ctx {
    int gen;
    size_t n;
};

static void remove_build_one(const char *dir, int gen, size_t n_shards)
{
    char p[1300];
    for (size_t i = 0; i <= n_shards; i++) {
        kb_index_build_path(dir, gen, i, p, sizeof p);
        kb_index_remove_tree(p);
    }
}

static void remove_build_part(const char *path, void *ctx)
{
    const struct build_ctx *b = ctx;
    remove_build_one(path, b->gen, b->n);
}

void kb_index_remove_build(const char *index, int gen, size_t n_shards)
{
    struct build_ctx b = {gen, n_shards};
    remove_build_one(index, gen, n_shards);
    for_each_part(index, remove_build_part, &b);
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

/* Replaces the stub of `index` by `body` atomically (a new file renamed over the old
 * one, fsync'ed, and the folder too). */
static int write_stub(const char *index, const char *body, struct kb_error *err)
{
    char tmp[1200], stub[1200];
    snprintf(tmp, sizeof tmp, "%s/" STUB ".tmp", index);
    snprintf(stub, sizeof stub, "%s/" STUB, index);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return kb_error_set(err, KB_EIO, "cannot write '%s': %s", tmp, strerror(errno));
    int ok = fputs(body, f) >= 0;
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

int kb_index_switch(const char *index, int gen, const char *who, struct kb_error *err)
{
    char body[400];
    snprintf(body, sizeof body,
             "# written by %s: the current generation\nauto " GEN_FMT "\n", who, gen);
    return write_stub(index, body, err);
}

/* The top stub of a sharded location: every shard's current generation (`gen` > 0:
 * "auto shardNN/gen-K", one switch for a reader of the top stub) or every shard's own
 * stub (gen 0: "auto shardNN"). */
static int write_top_stub(const char *index, size_t n, int gen, const char *who,
                          struct kb_error *err)
{
    char body[64 * 40 + 200];
    size_t o = (size_t)snprintf(body, sizeof body, "# written by %s: the shards\n", who);
    for (size_t i = 0; i < n && o < sizeof body; i++) {
        if (gen > 0)
            o += (size_t)snprintf(body + o, sizeof body - o,
                                  "auto " SHARD_FMT "/" GEN_FMT "\n", i, gen);
        else
            o += (size_t)snprintf(body + o, sizeof body - o, "auto " SHARD_FMT "\n", i);
    }
    return write_stub(index, body, err);
}

static void prune_one(const char *index, int gen)
{
    for (int g = gen - 2; g > 0 && g >= gen - 10; g--)
        kb_index_remove_generation(index, g);
}

static void prune_part(const char *path, void *ctx)
{
    (void)ctx;
    int g = stub_generation(path);
    if (g > 0)
        prune_one(path, g);
}

void kb_index_prune(const char *index, int gen)
{
    prune_one(index, gen);
    if (kb_index_shards(index) >= 2)
        for_each_part(index, prune_part, NULL);
}

static void remove_leftovers_one(const char *index, int current)
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

struct leftover_ctx {
    const char *index;
    size_t n; /* the location's shards (1: unsharded: every part is a leftover) */
};

static void remove_leftovers_part(const char *path, void *ctx)
{
    const struct leftover_ctx *l = ctx;
    const char *name = strrchr(path, '/') + 1;
    size_t k = 0;
    int listed = l->n >= 2 && (!strcmp(name, LEXICON) ||
                               (sscanf(name, SHARD_FMT, &k) == 1 && k < l->n));
    if (!listed) { /* a half-built or abandoned layout */
        kb_index_remove_tree(path);
        return;
    }
    remove_leftovers_one(path, stub_generation(path));
}

/* A --full switch of a sharded location killed between its first and its last stub:
 * every part's generation `gen` was complete before the first one, so finish it. */
static void finish_switch(const char *index, size_t n, int gen)
{
    char p[1300], g[1400];
    struct kb_error e;
    for (size_t i = 0; i <= n; i++) {
        part_path(index, i, n, p, sizeof p);
        kb_index_gen_path(p, gen, g, sizeof g);
        if (access(g, F_OK) == 0 && stub_generation(p) != gen)
            kb_index_switch(p, gen, "kb-indexer (finishing a switch)", &e);
    }
    write_top_stub(index, n, 0, "kb-indexer", &e);
}

void kb_index_remove_leftovers(const char *index, int current)
{
    int explicit_gen = 0;
    size_t n = top_shards(index, &explicit_gen);
    struct leftover_ctx l = {index, n >= 2 ? n : 1};
    if (n >= 2 && explicit_gen > 0)
        finish_switch(index, n, explicit_gen);
    remove_leftovers_one(index, current);
    for_each_part(index, remove_leftovers_part, &l);
}

unsigned long kb_index_generation_revision(const char *index, int gen)
{
    char path[1300], lex[1200];
    if (kb_index_shards(index) >= 2) {
        kb_index_lexicon_path(index, lex, sizeof lex);
        kb_index_gen_path(lex, gen, path, sizeof path);
    } else {
        kb_index_gen_path(index, gen, path, sizeof path);
    }
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

int kb_index_writable(const char *index, struct kb_error *err)
{
    struct stat st;
    char stub[1300], line[256];
    if (stat(index, &st) == 0 && !S_ISDIR(st.st_mode))
        return kb_error_set(err, KB_EINVAL,
                            "'%s' is a stub file, not a local index location: API writes "
                            "go to the indexing host",
                            index);
    snprintf(stub, sizeof stub, "%s/" STUB, index);
    FILE *f = fopen(stub, "r");
    int replica = 0;
    while (f && !replica && fgets(line, sizeof line, f))
        replica = strstr(line, REPLICA_TAG) != NULL || !strncmp(line, "remote", 6);
    if (f)
        fclose(f);
    if (replica)
        return kb_error_set(err, KB_EINVAL,
                            "'%s' is a replica or lists remote shards: API writes go to "
                            "the indexing host",
                            index);
    return KB_OK;
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

int kb_index_spelling_word(const char *term, size_t len)
{
    return term && len >= 3 && len <= 40 && term[0] >= 'a' && term[0] <= 'z';
}

/* Adds sign * (wdf or 1) to the count of a spelling word (kb_index_spelling_word); other
 * terms are passed over. Returns 0, or 1 out of memory (a xap_term_fn's stop). */
static int spell_count(struct spell_map *m, const char *term, size_t len, unsigned wdf,
                       int sign)
{
    if (!kb_index_spelling_word(term, len))
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
    xap_writer *x; /* the only database; or, sharded, the lexicon */
    struct spell_map spell;
    int in_txn;
    size_t n_shards;    /* 0: unsharded; else documents go to shard[route(id)] */
    xap_writer **shard; /* n_shards writers */
    int stamp; /* a location's writer: each commit records the shards' revisions */
};

/* The database that holds (or will hold) document `id`. */
static xap_writer *doc_writer(const struct kb_index_writer *w, const char *id)
{
    return w->n_shards ? w->shard[kb_index_shard_of(id, w->n_shards)] : w->x;
}

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

static int open_one(const char *db, unsigned flags, xap_writer **out,
                    struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = xap_writer_open(db, xap_flags(flags), out, &xe);
    if (rc) {
        char what[1300];
        snprintf(what, sizeof what, "cannot open '%s' for writing", db);
        return werr(err, rc, &xe, what);
    }
    return KB_OK;
}

/* A writer over parts[0..n) (the shards) and parts[n] (the lexicon). */
static int open_parts(char (*parts)[1400], size_t n, unsigned flags,
                      struct kb_index_writer **out, struct kb_error *err)
{
    struct kb_index_writer *w = calloc(1, sizeof *w);
    int rc = KB_OK;
    *out = NULL;
    if (!w || !(w->shard = calloc(n, sizeof *w->shard))) {
        free(w);
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    }
    w->n_shards = n;
    /* always in this order (shards, then the lexicon), so two writers never wait for
     * each other */
    for (size_t i = 0; i < n && !rc; i++)
        rc = open_one(parts[i], flags, &w->shard[i], err);
    if (!rc)
        rc = open_one(parts[n], flags, &w->x, err);
    if (rc) {
        kb_index_writer_free(w);
        return rc;
    }
    *out = w;
    return KB_OK;
}

int kb_index_writer_open_location(const char *index, unsigned flags,
                                  struct kb_index_writer **out, struct kb_error *err)
{
    size_t n = kb_index_shards(index);
    char db[1300];
    *out = NULL;
    if (n < 2) {
        if (kb_index_current_db(index, db, sizeof db) < 0)
            return kb_error_set(err, KB_ENOTFOUND, "no index at '%s'", index);
        return kb_index_writer_open(db, flags, out, err);
    }
    char(*parts)[1400] = calloc(n + 1, sizeof *parts);
    if (!parts)
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    int rc = KB_OK;
    for (size_t i = 0; i <= n && !rc; i++) {
        part_path(index, i, n, db, sizeof db);
        int g = stub_generation(db);
        if (g <= 0)
            rc = kb_error_set(err, KB_EIO, "the sharded index '%s' has no '%s'", index,
                              db);
        else
            kb_index_gen_path(db, g, parts[i], sizeof parts[i]);
    }
    if (!rc)
        rc = open_parts(parts, n, flags, out, err);
    free(parts);
    if (!rc)
        (*out)->stamp = 1;
    return rc;
}

int kb_index_writer_open_build(const char *index, size_t n, int gen, size_t slot,
                               unsigned flags, struct kb_index_writer **out,
                               struct kb_error *err)
{
    char p[1300];
    *out = NULL;
    if (n < 2) {
        kb_index_build_path(index, gen, slot, p, sizeof p);
        return kb_index_writer_open(p, flags, out, err);
    }
    char(*parts)[1400] = calloc(n + 1, sizeof *parts);
    if (!parts)
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    int rc = KB_OK;
    for (size_t i = 0; i <= n && !rc; i++) {
        part_path(index, i, n, p, sizeof p);
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            rc = kb_error_set(err, KB_EIO, "cannot create '%s': %s", p, strerror(errno));
        kb_index_build_path(p, gen, slot, parts[i], sizeof parts[i]);
    }
    if (!rc)
        rc = open_parts(parts, n, flags, out, err);
    free(parts);
    return rc;
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
    int rc = w->n_shards ? kb_index_writer_commit(w, err) : KB_OK;
    struct xap_error xe = {0};
    int xrc = XAP_OK;
    for (size_t i = 0; i < w->n_shards; i++) {
        xap_writer_free(w->shard[i]); /* committed above */
        w->shard[i] = NULL;
    }
    if (!rc)
        xrc = xap_writer_close(w->x, &xe); /* commits */
    else
        xap_writer_free(w->x);
    w->x = NULL;
    kb_index_writer_free(w);
    if (rc)
        return rc;
    return xrc ? werr(err, xrc, &xe, "cannot commit") : KB_OK;
}

void kb_index_writer_free(struct kb_index_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_shards; i++)
        xap_writer_free(w->shard[i]); /* cancels an open transaction */
    free(w->shard);
    xap_writer_free(w->x);
    spell_clear(&w->spell);
    free(w);
}

int kb_index_writer_begin(struct kb_index_writer *w, struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = XAP_OK;
    for (size_t i = 0; i < w->n_shards && !rc; i++)
        rc = xap_writer_begin_txn(w->shard[i], 0, &xe);
    if (!rc)
        rc = xap_writer_begin_txn(w->x, 0, &xe);
    if (rc)
        return werr(err, rc, &xe, "cannot start a transaction");
    w->in_txn = 1;
    return KB_OK;
}

/* Sets key to val unless it holds it already (a write, even of the same value, would
 * make a new revision). */
static int set_meta_changed(xap_writer *x, const char *key, const char *val,
                            struct xap_error *xe)
{
    char *old = NULL;
    int rc = xap_writer_get_meta(x, key, &old, NULL, xe);
    int same = rc == XAP_OK && strcmp(old, val) == 0;
    free(old);
    if (rc && rc != XAP_E_NOT_FOUND)
        return rc;
    memset(xe, 0, sizeof *xe);
    return same ? XAP_OK : xap_writer_set_meta(x, key, val, strlen(val), xe);
}

static int commit_one(xap_writer *x, int in_txn, struct xap_error *xe)
{
    int rc = in_txn ? xap_writer_commit_txn(x, xe) : XAP_OK;
    return rc ? rc : xap_writer_commit(x, xe);
}

int kb_index_writer_commit(struct kb_index_writer *w, struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = XAP_OK, in_txn = w->in_txn;
    char revs[64 * 24] = "";
    size_t o = 0;
    w->in_txn = 0;
    /* the shards one by one, the lexicon last: its revision is the location's */
    for (size_t i = 0; i < w->n_shards && !rc; i++) {
        unsigned long r = 0;
        rc = commit_one(w->shard[i], in_txn, &xe);
        if (!rc && w->stamp && !xap_writer_revision(w->shard[i], &r, &xe) &&
            o < sizeof revs)
            o += (size_t)snprintf(revs + o, sizeof revs - o, "%s%lu", i ? " " : "", r);
    }
    if (!rc && w->stamp)
        rc = set_meta_changed(w->x, META_SHARD_REVS, revs, &xe);
    if (!rc && w->n_shards) {
        char shape[64];
        snprintf(shape, sizeof shape, "%zu " ROUTE_HASH, w->n_shards);
        rc = set_meta_changed(w->x, META_SHARDS, shape, &xe);
    }
    if (!rc)
        rc = commit_one(w->x, in_txn, &xe);
    return rc ? werr(err, rc, &xe, "cannot commit") : KB_OK;
}

int kb_index_writer_revision(struct kb_index_writer *w, unsigned long *rev,
                             struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = xap_writer_revision(w->x, rev, &xe);
    return rc ? werr(err, rc, &xe, "cannot read the revision") : KB_OK;
}

/* ---------------------------------------------------------------------------------------
 * The disk space of a failed write, for every database of a location (core/space.h)
 */

#define SIZES_NOTE "indexer.sizes" /* unsharded: this file; sharded: .K for part K */

struct kb_index_space {
    size_t n; /* databases noted: the one database, or the shards and the lexicon */
    int keep; /* the notes are kept in files */
    struct {
        struct kb_space sizes;
        char db[1400];   /* the database's folder */
        char note[1320]; /* its note file */
    } part[];
};

/* Part k of a location of n shards (n < 2: the one database, k = 0): its current
 * database folder and note file. Returns the part's generation, or -1 when it has
 * none. */
static int space_part(const char *index, size_t n, size_t k, char *db, size_t dcap,
                      char *note, size_t ncap)
{
    char p[1300];
    int g;
    if (n < 2) {
        snprintf(p, sizeof p, "%s", index);
        snprintf(note, ncap, "%s/" SIZES_NOTE, index);
    } else {
        part_path(index, k, n, p, sizeof p);
        snprintf(note, ncap, "%s/" SIZES_NOTE ".%zu", index, k);
    }
    if ((g = stub_generation(p)) <= 0)
        return -1;
    kb_index_gen_path(p, g, db, dcap);
    return g;
}

struct kb_index_space *kb_index_space_take(struct kb_index_writer *w, const char *index,
                                           int keep_note)
{
    size_t n = w ? w->n_shards : 0, parts = n ? n + 1 : 1;
    struct kb_index_space *s = w && n <= KB_INDEX_MAX_SHARDS
                                   ? calloc(1, sizeof *s + parts * sizeof s->part[0])
                                   : NULL;
    if (!s)
        return NULL;
    s->keep = keep_note;
    s->n = parts;
    for (size_t k = 0; k < s->n; k++) {
        xap_writer *x = k < n ? w->shard[k] : w->x;
        struct xap_error xe = {0};
        unsigned long rev = 0;
        int g = space_part(index, n, k, s->part[k].db, sizeof s->part[k].db,
                           s->part[k].note, sizeof s->part[k].note);
        if (g < 0 || xap_writer_revision(x, &rev, &xe))
            continue; /* nothing noted for it: never cut */
        kb_space_take(&s->part[k].sizes, s->part[k].db, g, rev);
        if (keep_note)
            kb_space_save(&s->part[k].sizes, s->part[k].note);
    }
    return s;
}

long long kb_index_space_restore(const struct kb_index_space *s)
{
    long long freed = 0;
    for (size_t k = 0; s && k < s->n; k++)
        freed += kb_space_restore(&s->part[k].sizes, s->part[k].db);
    return freed;
}

void kb_index_space_free(struct kb_index_space *s)
{
    for (size_t k = 0; s && s->keep && k < s->n; k++)
        unlink(s->part[k].note);
    free(s);
}

long long kb_index_space_recover(const char *index)
{
    size_t n = kb_index_shards(index);
    long long freed = 0;
    char db[1400], note[1320];
    struct kb_space sp;
    for (size_t k = 0; k < (n < 2 ? 1 : n + 1); k++) {
        int g = space_part(index, n, k, db, sizeof db, note, sizeof note);
        if (g > 0 && kb_space_load(&sp, note) == 0 && sp.gen == g)
            freed += kb_space_restore(&sp, db);
        unlink(note);
    }
    /* the notes of another layout (a --full run changed the number of shards) */
    snprintf(note, sizeof note, "%s/" SIZES_NOTE, index);
    if (n >= 2)
        unlink(note);
    for (size_t k = n < 2 ? 0 : n + 1; k <= KB_INDEX_MAX_SHARDS; k++) {
        snprintf(note, sizeof note, "%s/" SIZES_NOTE ".%zu", index, k);
        unlink(note);
    }
    return freed;
}

int kb_index_writer_doc_count(struct kb_index_writer *w, unsigned *n,
                              struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = XAP_OK;
    *n = 0;
    if (!w->n_shards)
        rc = xap_writer_doc_count(w->x, n, &xe);
    for (size_t i = 0; i < w->n_shards && !rc; i++) {
        unsigned k = 0;
        rc = xap_writer_doc_count(w->shard[i], &k, &xe);
        *n += k;
    }
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
    char term[KB_UID_TERM_MAX];
    size_t tl = kb_query_uid_term(KB_PFX_UID, uid, strlen(uid), term, sizeof term);
    xap_writer *dw = doc_writer(w, uid);
    int rc = xap_writer_lookup(dw, term, tl, &docid, &xe);
    if (rc == XAP_E_NOT_FOUND)
        return KB_OK;
    char vis[16];
    size_t vlen = 0;
    if (!rc &&
        xap_writer_get_value(dw, docid, KB_SLOT_VISIBILITY, vis, sizeof vis, &vlen,
                             &xe) == XAP_OK &&
        vlen == 7 && !memcmp(vis, "members", 7))
        return KB_OK; /* a member-only document gave the dictionary no words */
    memset(&xe, 0, sizeof xe);
    if (!rc)
        rc = xap_writer_for_each_doc_term(dw, docid, spell_term_out, &w->spell, &xe);
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
    char term[KB_UID_TERM_MAX];
    size_t tl = kb_query_uid_term(KB_PFX_UID, id, strlen(id), term, sizeof term);
    rc = xap_writer_replace(doc_writer(w, id), term, tl, doc->x, NULL, &xe);
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
    char term[KB_UID_TERM_MAX];
    size_t tl = kb_query_uid_term(KB_PFX_UID, id, strlen(id), term, sizeof term);
    rc = xap_writer_delete(doc_writer(w, id), term, tl, &xe);
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

/* Compacts part `dir`'s build of generation gen (slots 0..n_slots) into dir/gen-K. */
static int compact_part(const char *dir, int gen, size_t n_slots, struct kb_error *err)
{
    char(*p)[1300] = calloc(n_slots + 1, sizeof *p);
    const char **srcs = calloc(n_slots + 1, sizeof *srcs);
    char dst[1300];
    int rc = KB_OK;
    if (!p || !srcs) {
        rc = kb_error_set(err, KB_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i <= n_slots; i++) {
        kb_index_build_path(dir, gen, i, p[i], sizeof p[i]);
        srcs[i] = p[i];
    }
    kb_index_gen_path(dir, gen, dst, sizeof dst);
    kb_index_remove_tree(dst);
    if ((rc = kb_index_compact(srcs, n_slots + 1, dst, err)))
        kb_index_remove_tree(dst);
out:
    free(p);
    free(srcs);
    return rc;
}

struct stale_ctx {
    size_t n; /* parts shard00..shard(n-1) and the lexicon stay (n < 2: none) */
};

static void remove_stale_part(const char *path, void *ctx)
{
    const struct stale_ctx *sc = ctx;
    const char *name = strrchr(path, '/') + 1;
    size_t k = 0;
    if (sc->n >= 2 &&
        (!strcmp(name, LEXICON) || (sscanf(name, SHARD_FMT, &k) == 1 && k < sc->n)))
        return;
    kb_index_remove_tree(path);
}

int kb_index_finish_build(const char *index, size_t n, int gen, size_t n_slots,
                          const char *who, struct kb_error *err)
{
    char p[1300];
    int rc = KB_OK;
    struct stale_ctx sc = {n};
    if (n < 2) {
        if ((rc = compact_part(index, gen, n_slots, err)))
            return rc;
        kb_index_remove_build(index, gen, n_slots);
        if ((rc = kb_index_switch(index, gen, who, err)))
            return rc;
        kb_index_prune(index, gen);
        for_each_part(index, remove_stale_part, &sc); /* a sharded layout before */
        return KB_OK;
    }
    for (size_t i = 0; i <= n && !rc; i++) {
        part_path(index, i, n, p, sizeof p);
        rc = compact_part(p, gen, n_slots, err);
    }
    kb_index_remove_build(index, gen, n_slots);
    if (rc)
        return rc;
    /* 1. readers of the top stub switch to every new shard at once; 2. each shard's own
     * stub (replicas and tcpsrv follow these), 3. the lexicon last (the location's
     * revision), 4. the top stub back to the shards' own stubs */
    if ((rc = write_top_stub(index, n, gen, who, err)))
        return rc;
    for (size_t i = 0; i <= n && !rc; i++) {
        part_path(index, i, n, p, sizeof p);
        rc = kb_index_switch(p, gen, who, err);
    }
    if (rc || (rc = write_top_stub(index, n, 0, who, err)))
        return rc;
    kb_index_prune(index, gen);
    for_each_part(index, remove_stale_part, &sc); /* shards of a larger N before */
    return KB_OK;
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
    int rc = xap_reader_for_each_term(r->x, KB_PFX_UID, strlen(KB_PFX_UID), (size_t)-1,
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
