/* SPDX-License-Identifier: MIT */
/*
 * xapian_c.h - the project's only door into Xapian 1.4: a small, pure C API.
 *
 * Everything else in the tree is C11 and never includes a Xapian header; every call that
 * crosses into C++ carries the `xap_` prefix so it can be found with grep. The
 * implementation (the .cc files beside it, one per handle) catches every exception
 * (Xapian::Error, std::bad_alloc and anything else) and turns it into a negative `enum
 * xap_code` plus a message in a caller-owned `struct xap_error`; nothing ever unwinds
 * through C frames.
 *
 * Conventions (as leveldb's c.h states its own):
 *  - Fallible functions return XAP_OK (0) or a negative xap_code and fill `err` when it
 * is not NULL. Filling `err` never allocates. On failure no OUT parameter is changed
 * unless said otherwise.
 *  - Strings go in as (pointer, length) pairs unless the name says "cstr" or the
 *    parameter is a NUL-terminated `const char *` (documented per function).
 *  - `_new`/`_open` return a handle the caller frees with the matching `_free`/`_close`;
 *    every `_free` accepts NULL. Pointers returned by getters are borrowed: valid until
 * the handle they came from is freed.
 *  - No handle is thread-safe. Use one reader per thread (Xapian objects share
 *    non-atomic reference counts). Only one process writes a database at a time; Xapian
 *    enforces it with a lock, reported as XAP_E_DB_LOCKED.
 *
 * See ../shared/notes/xapian-1.4.md for what Xapian 1.4.22 does and does not do.
 */
#ifndef KB_XAPIAN_C_H
#define KB_XAPIAN_C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes, one per kind of Xapian failure the callers treat differently. */
enum xap_code {
    XAP_OK = 0,
    XAP_E_DB_MODIFIED = -1,    /* revision discarded while reading: reopen and re-run */
    XAP_E_DB_LOCKED = -2,      /* another writer holds the write lock */
    XAP_E_DB_NOT_FOUND = -3,   /* no database at the path (or the stub's target went) */
    XAP_E_DB_VERSION = -4,     /* database format too old or too new */
    XAP_E_DB_OPENING = -5,     /* could not open (permissions, bad stub line...) */
    XAP_E_DB_CORRUPT = -6,     /* corruption detected: run xapian-check */
    XAP_E_DB_CLOSED = -7,      /* the handle was closed */
    XAP_E_DATABASE = -8,       /* other database or I/O error (disk full...) */
    XAP_E_NET_TIMEOUT = -9,    /* a remote shard timed out */
    XAP_E_NETWORK = -10,       /* a remote shard is unreachable */
    XAP_E_QUERY_SYNTAX = -11,  /* QueryParserError: the message says what is wrong */
    XAP_E_WILDCARD = -12,      /* a wildcard expanded past its limit */
    XAP_E_DOC_NOT_FOUND = -13, /* no such document */
    XAP_E_RANGE = -14,         /* a range error */
    XAP_E_INVALID_ARG = -15,   /* bad argument (term too long, empty metadata key...) */
    XAP_E_INVALID_OP = -16,    /* operation not valid now (commit inside a txn...) */
    XAP_E_UNIMPLEMENTED = -17, /* feature not available with this backend */
    XAP_E_XAPIAN = -18,        /* any other Xapian::Error */
    XAP_E_NOMEM = -19,         /* std::bad_alloc or malloc failure */
    XAP_E_INTERNAL = -20,      /* any other std::exception */
    XAP_E_UNKNOWN = -21,       /* an exception of unknown type */
    XAP_E_NOT_FOUND = -22,     /* lookups: the key, term or uid does not exist */
    XAP_E_TOO_SMALL = -23 /* a caller buffer was too small; *len says what is needed */
};

/* Filled on failure. Fixed buffers: filling it never allocates. */
struct xap_error {
    int code;          /* an enum xap_code */
    char type[40];     /* Xapian's class name, e.g. "DatabaseLockError", or "" */
    char msg[400];     /* human-readable message, truncated to fit */
    char context[160]; /* Xapian's context (e.g. the remote server), or "" */
};

/* A short stable name for a code, e.g. "db_locked". Never NULL. */
const char *xap_code_name(int code);

/* ---------------------------------------------------------------------------------------
 * Analysers: a stemmer and stop-word list for one language, used when building documents
 * and parsing queries. One analyser per thread.
 */
typedef struct xap_analyzer xap_analyzer;

/* Creates an analyser for Snowball language `stem_lang` ("french", "italian", "english",
 * or "none" for no stemming) with the given stop words (NUL-terminated, already in the
 * form the text will have after our normalisation; may be NULL when n_stop is 0).
 * Returns XAP_OK and sets *out, or XAP_E_INVALID_ARG for an unknown language. */
int xap_analyzer_new(const char *stem_lang, const char *const *stop, size_t n_stop,
                     xap_analyzer **out, struct xap_error *err);
void xap_analyzer_free(xap_analyzer *a);

/* Stems one word with the analyser's stemmer into buf (NUL-terminated, truncated to cap).
 * Returns the stem's full length (which may be >= cap), or a negative xap_code. */
int xap_analyzer_stem(xap_analyzer *a, const char *word, size_t len, char *buf,
                      size_t cap, struct xap_error *err);

/* A word normaliser used for snippet highlighting: maps an original-text word (possibly
 * with accents or an elision such as "l'hydrogène") to the form that was indexed
 * ("hydrogene"). Writes at most cap bytes to out and returns the length written.
 * It must not fail; it may return 0 to say "no word". */
typedef size_t (*xap_word_fn)(const char *in, size_t len, char *out, size_t cap);

/* ---------------------------------------------------------------------------------------
 * Documents being built (indexer side).
 */
typedef struct xap_doc xap_doc;

/* A new empty document. Returns NULL only when out of memory. */
xap_doc *xap_doc_new(void);
void xap_doc_free(xap_doc *d);

/* Tokenises `text` (already normalised by the caller) with positions, adding each word
 * unstemmed and its stem as "Z"+stem (Xapian's STEM_SOME) with `prefix` (NULL or "" for
 * the body), stemmed and stop-filtered by `a` (NULL: no stemming). wdf_inc is the weight
 * of each occurrence (e.g. 3 for titles). Positions continue from the previous call. */
int xap_doc_index_text(xap_doc *d, xap_analyzer *a, const char *text, size_t len,
                       unsigned wdf_inc, const char *prefix, struct xap_error *err);
/* Leaves a gap of `n` positions so that phrases do not match across fields. */
int xap_doc_increase_termpos(xap_doc *d, unsigned n, struct xap_error *err);
/* Adds a term with no position: wdf 0 makes it a boolean (filter) term. */
int xap_doc_add_term(xap_doc *d, const char *term, size_t len, unsigned wdf,
                     struct xap_error *err);
/* Sets value slot `slot` to raw bytes. */
int xap_doc_set_value(xap_doc *d, unsigned slot, const char *val, size_t len,
                      struct xap_error *err);
/* Sets value slot `slot` to a number encoded so that byte order is numeric order. */
int xap_doc_set_value_number(xap_doc *d, unsigned slot, double v, struct xap_error *err);
/* Sets the document data (opaque bytes; we store JSON). */
int xap_doc_set_data(xap_doc *d, const char *data, size_t len, struct xap_error *err);
/* Counts the distinct terms so far (for tests and limits). */
size_t xap_doc_term_count(const xap_doc *d);
/* Calls fn(term, len, wdf, ctx) for each distinct term of d in term order. fn returns 0
 * to go on, anything else to stop (that value is then returned). The term is borrowed
 * for the call only. Returns XAP_OK, fn's value, or an XAP_E_* code with err filled. */
typedef int (*xap_term_fn)(const char *term, size_t len, unsigned wdf, void *ctx);
int xap_doc_for_each_term(const xap_doc *d, xap_term_fn fn, void *ctx,
                          struct xap_error *err);

/* ---------------------------------------------------------------------------------------
 * Writable database (the indexer process, or the server's single writer thread).
 */
typedef struct xap_writer xap_writer;

enum xap_open_flags {
    XAP_OPEN_CREATE = 1 << 0,    /* create when missing (else XAP_E_DB_NOT_FOUND) */
    XAP_OPEN_OVERWRITE = 1 << 1, /* start from an empty database */
    XAP_OPEN_NO_SYNC = 1 << 2,   /* no fsync (new generations nobody reads yet) */
    XAP_OPEN_RETRY_LOCK = 1 << 3 /* wait for the write lock instead of failing */
};

/* Opens the glass database in directory `path` for writing. A lock held by another
 * writer gives XAP_E_DB_LOCKED at once (unless XAP_OPEN_RETRY_LOCK). */
int xap_writer_open(const char *path, unsigned flags, xap_writer **out,
                    struct xap_error *err);
/* Commits pending changes, then frees the handle (always, even on failure). An open
 * transaction is cancelled, not committed. Returns the commit's result. NULL is XAP_OK.
 */
int xap_writer_close(xap_writer *w, struct xap_error *err);
/* Frees the handle without committing anything still pending outside a transaction
 * beyond what Xapian's destructor does; for error paths. Accepts NULL. */
void xap_writer_free(xap_writer *w);

int xap_writer_commit(xap_writer *w, struct xap_error *err);
/* Transactions: all-or-nothing groups. With flushed=0 nothing is committed before
 * xap_writer_commit_txn + xap_writer_commit, so readers see one new revision. */
int xap_writer_begin_txn(xap_writer *w, int flushed, struct xap_error *err);
int xap_writer_commit_txn(xap_writer *w, struct xap_error *err);
int xap_writer_cancel_txn(xap_writer *w, struct xap_error *err);

/* Adds or replaces the document indexing `id_term`, the caller's unique-id term (added
 * to the document as a boolean term; core/query.h's kb_query_uid_term makes it). *docid
 * (may be NULL) receives its document number. */
int xap_writer_replace(xap_writer *w, const char *id_term, size_t id_len, xap_doc *d,
                       unsigned *docid, struct xap_error *err);
/* Adds the document's plain words (unprefixed terms of 3+ letters, weighted by their
 * frequency) to the spelling dictionary used for "did you mean". */
typedef int (*xap_word_pred)(const char *term, size_t len);
int xap_writer_add_doc_spellings(xap_writer *w, const xap_doc *d, xap_word_pred is_word,
                                 struct xap_error *err);
/* Deletes the document(s) indexing unique-id term `id_term`. XAP_E_NOT_FOUND when there
 * is none. */
int xap_writer_delete(xap_writer *w, const char *id_term, size_t id_len,
                      struct xap_error *err);
/* Finds the document number for `id_term`: XAP_OK and *docid, or XAP_E_NOT_FOUND. */
int xap_writer_lookup(xap_writer *w, const char *id_term, size_t id_len, unsigned *docid,
                      struct xap_error *err);
/* Reads value `slot` of document `docid` into buf (cap bytes); *len gets its full length.
 * XAP_E_TOO_SMALL when it did not fit, XAP_E_DOC_NOT_FOUND for a missing document. */
int xap_writer_get_value(xap_writer *w, unsigned docid, unsigned slot, char *buf,
                         size_t cap, size_t *len, struct xap_error *err);
/* Calls fn for every term under `prefix` that indexes a document (in term order), with
 * the term less its prefix and the first document's number: the unique ids, when
 * `prefix` is the unique-id prefix. fn returns 0 to go on, anything else to stop (that
 * value is then returned). */
typedef int (*xap_id_fn)(const char *id, size_t len, unsigned docid, void *ctx);
int xap_writer_for_each_id(xap_writer *w, const char *prefix, xap_id_fn fn, void *ctx,
                           struct xap_error *err);

/* User metadata: key/value strings stored with the database and committed with it.
 * Setting an empty value deletes the key. get: XAP_E_NOT_FOUND when unset; returns a
 * malloc'ed NUL-terminated copy in *val (caller frees) and its length in *len. */
int xap_writer_set_meta(xap_writer *w, const char *key, const char *val, size_t len,
                        struct xap_error *err);
int xap_writer_get_meta(xap_writer *w, const char *key, char **val, size_t *len,
                        struct xap_error *err);
/* Calls fn(key, value) for every metadata key starting with `prefix`. */
typedef int (*xap_meta_fn)(const char *key, const char *val, size_t len, void *ctx);
int xap_writer_for_each_meta(xap_writer *w, const char *prefix, xap_meta_fn fn, void *ctx,
                             struct xap_error *err);

/* Synonyms (used by queries parsed with XAP_QP_SYNONYM) and the spelling dictionary. */
int xap_writer_add_synonym(xap_writer *w, const char *term, const char *synonym,
                           struct xap_error *err);
int xap_writer_clear_synonyms(xap_writer *w, const char *term, struct xap_error *err);
int xap_writer_add_spelling(xap_writer *w, const char *word, size_t len, unsigned inc,
                            struct xap_error *err);
/* Lowers a word's spelling frequency by dec; the word leaves the dictionary at zero. */
int xap_writer_remove_spelling(xap_writer *w, const char *word, size_t len, unsigned dec,
                               struct xap_error *err);
/* Calls fn(term, len, wdf, ctx) for every term of stored document `docid`, in term
 * order (XAP_E_DOC_NOT_FOUND when there is none). fn returns 0 to go on, anything else
 * to stop (that value is then returned). An indexer uses it to know the words a
 * replaced or deleted document takes out of the spelling dictionary. */
int xap_writer_for_each_doc_term(xap_writer *w, unsigned docid, xap_term_fn fn, void *ctx,
                                 struct xap_error *err);

int xap_writer_doc_count(xap_writer *w, unsigned *count, struct xap_error *err);
int xap_writer_revision(xap_writer *w, unsigned long *rev, struct xap_error *err);

/* Compacts database `src` into a new database directory `dst` (which must not exist). */
int xap_compact(const char *src, const char *dst, struct xap_error *err);
/* Merges n databases into one new compacted database `dst` (which must not exist):
 * their documents are renumbered to follow one another in the order given, spelling
 * frequencies are summed, and a metadata key set in several keeps the first value.
 * A sharded build (the indexer's threads each writing a database) ends with this. */
int xap_compact_many(const char *const *srcs, size_t n, const char *dst,
                     struct xap_error *err);

/* ---------------------------------------------------------------------------------------
 * Reader (one per server worker thread).
 */
typedef struct xap_reader xap_reader;

/* Opens `path` for reading: a database directory or a stub file (e.g. "auto gen-3",
 * or "remote ..." lines). XAP_E_DB_NOT_FOUND when nothing is there. */
int xap_reader_open(const char *path, xap_reader **out, struct xap_error *err);
void xap_reader_close(xap_reader *r);

/* One database of a reader over several (shards): a local database or stub `path`, or a
 * remote one served by xapian-tcpsrv at host:port, each call on it limited to
 * timeout_ms and its connection to connect_timeout_ms (0: 10 s, and timeout_ms). */
struct xap_shard {
    const char *path;
    const char *host;
    unsigned port;
    unsigned timeout_ms, connect_timeout_ms;
};
/* Opens shards s[0..n) as one database, each with a handle of its own. A shard that
 * cannot be opened is left out (down, xap_reader_shard_error says why): the reader
 * searches those that are up, and its caller decides what that is worth. */
int xap_reader_open_shards(const struct xap_shard *s, size_t n, xap_reader **out,
                           struct xap_error *err);
/* The reader's shards (0 for a reader opened from a path): name ("host:port" or path),
 * up or not, and the last failure of a shard that is down. */
size_t xap_reader_shard_count(const xap_reader *r);
const char *xap_reader_shard_name(const xap_reader *r, size_t i);
int xap_reader_shard_up(const xap_reader *r, size_t i);
const char *xap_reader_shard_error(const xap_reader *r, size_t i);
/* 1 when shard i is down after a call of ours timed out on it (the shard may hang: a
 * new connection may wait as long), 0 otherwise. */
int xap_reader_shard_hung(const xap_reader *r, size_t i);
/* After a call on r failed (on this thread): the shard Xapian named in the error's
 * context, or -1; *timed_out (may be NULL) is 1 when our call timed out waiting for it
 * (a timeout the server sent back, as after its idle timeout, is 0). */
long xap_reader_failed_shard(const xap_reader *r, int *timed_out);
/* Shard i with a fresh handle (a new connection): up again, or down with its error
 * (returned) and left out. */
int xap_reader_shard_reopen(xap_reader *r, size_t i, struct xap_error *err);
/* Leaves shard i out (its handle dropped, `why` kept as its error). */
void xap_reader_shard_drop(xap_reader *r, size_t i, const char *why);
/* A second database the reader takes spelling suggestions, the parser's spelling and
 * synonyms, metadata and the revision from (NULL or "": the reader's own); refreshed
 * with the reader. */
int xap_reader_set_lexicon(xap_reader *r, const char *path, struct xap_error *err);

/* Makes the reader see the newest committed revision. If `path` is a stub file whose
 * content or identity changed since it was opened (a new generation), the database is
 * opened afresh from the path. *changed (may be NULL) is 1 when the revision may have
 * changed. On failure the reader keeps serving what it had. Over shards, each shard up
 * is reopened and one that fails is left out (down). */
int xap_reader_refresh(xap_reader *r, int *changed, struct xap_error *err);

/* Keeps a named analyser with the reader (e.g. one per language, named by its code) for
 * whoever builds queries on this reader; the binding itself does not use them. `a` is
 * borrowed and must outlive the reader. xap_reader_lang gives back entry i (in the order
 * added): XAP_OK, or XAP_E_INVALID_ARG past the end. */
int xap_reader_add_lang(xap_reader *r, const char *code, xap_analyzer *a,
                        struct xap_error *err);
size_t xap_reader_lang_count(const xap_reader *r);
int xap_reader_lang(const xap_reader *r, size_t i, const char **code, xap_analyzer **a);
/* Sets the normaliser used for highlighting snippets (see xap_word_fn). */
void xap_reader_set_word_fn(xap_reader *r, xap_word_fn fn);

int xap_reader_doc_count(xap_reader *r, unsigned *count, struct xap_error *err);
int xap_reader_revision(xap_reader *r, unsigned long *rev, struct xap_error *err);
/* The database's UUID into buf (at least 37 bytes). */
int xap_reader_uuid(xap_reader *r, char *buf, size_t cap, struct xap_error *err);
/* As xap_writer_get_meta. */
int xap_reader_get_meta(xap_reader *r, const char *key, char **val, size_t *len,
                        struct xap_error *err);
/* Number of documents indexing `term` (0 when absent). */
int xap_reader_term_freq(xap_reader *r, const char *term, size_t len, unsigned *freq,
                         struct xap_error *err);
/* Number of documents indexing `term` and at least one of filter[0..n) (e.g. language
 * terms): which languages a word is written in. */
int xap_reader_term_freq_in(xap_reader *r, const char *term, size_t len,
                            const char *const *filter, size_t n, unsigned *freq,
                            struct xap_error *err);
/* The stored data of the first document (lowest number) indexing `term` (a unique-id
 * term, say): a malloc'ed copy in *data (caller frees); XAP_E_NOT_FOUND when no document
 * does. */
int xap_reader_term_doc_data(xap_reader *r, const char *term, size_t len, char **data,
                             size_t *data_len, struct xap_error *err);
/* Calls fn(term, freq) for terms starting with `prefix` in term order, at most `max`
 * calls; fn returns non-zero to stop. For search-as-you-type completion. */
typedef int (*xap_term_fn)(const char *term, size_t len, unsigned freq, void *ctx);
int xap_reader_for_each_term(xap_reader *r, const char *prefix, size_t prefix_len,
                             size_t max, xap_term_fn fn, void *ctx,
                             struct xap_error *err);
/* Spelling suggestion for one word (folded form): writes a NUL-terminated word into buf,
 * or an empty string when there is none. */
int xap_reader_spell(xap_reader *r, const char *word, size_t len, char *buf, size_t cap,
                     struct xap_error *err);
/* The first document (lowest number) indexing `term`: XAP_OK and *docid, or
 * XAP_E_NOT_FOUND. */
int xap_reader_term_docid(xap_reader *r, const char *term, size_t len, unsigned *docid,
                          struct xap_error *err);
/* Calls fn(term, len, wdf, ctx) for the terms of document `docid` in term order, from
 * the first term >= `from` (NULL or "": from the first). fn returns 0 to go on, anything
 * else to stop (that value is then returned). XAP_E_DOC_NOT_FOUND when there is none. */
int xap_reader_for_each_doc_term(xap_reader *r, unsigned docid, const char *from,
                                 xap_term_fn fn, void *ctx, struct xap_error *err);
/* A term predicate: 1 to keep `term`, 0 to leave it (e.g. "terms under this prefix"). */
typedef int (*xap_term_pred)(const char *term, size_t len, void *ctx);
/* Relevance feedback from documents docids[0..n) (Xapian's RSet -> ESet): calls fn(term,
 * len, 0, ctx) for at most `max` expand terms that `keep` (NULL: all) accepts, best
 * first. fn returns non-zero to stop. */
int xap_reader_expand(xap_reader *r, const unsigned *docids, size_t n, size_t max,
                      xap_term_pred keep, void *keep_ctx, xap_term_fn fn, void *ctx,
                      struct xap_error *err);

/* ---------------------------------------------------------------------------------------
 * Searching: plain data the caller describes a search with. xap_field, xap_facet,
 * xap_sort and xap_weighting are read by the parser and xap_enquire_run below;
 * xap_term_group and xap_range are read by the caller's own query building
 * (core/query.h).
 */

/* Query parser features (Xapian's QueryParser flags), chosen by the caller. */
enum xap_qp_flags {
    XAP_QP_BOOLEAN = 1 << 0,       /* AND OR NOT XOR and brackets */
    XAP_QP_PHRASE = 1 << 1,        /* "quoted phrases" */
    XAP_QP_LOVEHATE = 1 << 2,      /* +must -mustnot */
    XAP_QP_WILDCARD = 1 << 3,      /* trailing * */
    XAP_QP_PARTIAL = 1 << 4,       /* last word is a prefix (search-as-you-type) */
    XAP_QP_SPELLING = 1 << 5,      /* compute a corrected query string */
    XAP_QP_SYNONYM = 1 << 6,       /* ~term expands synonyms */
    XAP_QP_AUTO_SYNONYMS = 1 << 7, /* every term expands synonyms */
    XAP_QP_PURE_NOT = 1 << 8,      /* NOT x alone */
    XAP_QP_NEAR = 1 << 9,          /* NEAR and ADJ (part of Xapian's default) */
    XAP_QP_DEFAULT = XAP_QP_BOOLEAN | XAP_QP_PHRASE | XAP_QP_LOVEHATE | XAP_QP_NEAR
};

/* A field name usable in the query string, e.g. {"title", "S", 0}: "title:hydrogen". */
struct xap_field {
    const char *name;
    const char *prefix;
    int boolean; /* 1: the value is a filter term (prefix+value), not free text */
};

/* Documents must carry at least one of these terms (an OR group); groups are ANDed. */
struct xap_term_group {
    const char *const *terms;
    size_t n;
};

/* Documents whose value `slot` (a number from xap_doc_set_value_number) is in range. */
struct xap_range {
    unsigned slot;
    double lo, hi;
    int has_lo, has_hi;
};

/* Count values of `slot` among all matches; `sep` != 0 means the slot holds several
 * values separated by that byte (e.g. topics), each counted. */
struct xap_facet {
    unsigned slot;
    char sep;
};

enum xap_sort { XAP_SORT_RELEVANCE = 0, XAP_SORT_VALUE_ASC, XAP_SORT_VALUE_DESC };

/* Ranking models: Okapi BM25, or the divergence-from-randomness model BB2 (Bose-Einstein,
 * Bernoulli after-effect, length normalisation 2), which has one parameter, c. */
enum xap_weighting { XAP_WEIGHT_BM25 = 0, XAP_WEIGHT_BB2 };

/* ---------------------------------------------------------------------------------------
 * Queries: Xapian::Query objects built by the caller. A handle is owned by the caller
 * and freed with xap_query_free (NULL accepted); combining copies the subqueries, which
 * stay the caller's. Like every handle, a query belongs to one thread: Xapian's query
 * objects share non-atomic reference counts, so never hand one (or a query built from
 * it) to another thread. Constructors return NULL on failure (out of memory) and fill
 * err.
 */
typedef struct xap_query xap_query;

/* Query operators (Xapian's Query::op), and the kinds of leaf xap_query_op reports. */
enum xap_op {
    XAP_OP_AND = 0,
    XAP_OP_OR,
    XAP_OP_AND_NOT,
    XAP_OP_XOR,
    XAP_OP_AND_MAYBE,
    XAP_OP_FILTER,
    XAP_OP_NEAR,
    XAP_OP_PHRASE,
    XAP_OP_SCALE_WEIGHT,
    XAP_OP_ELITE_SET,
    XAP_OP_SYNONYM,
    XAP_OP_MAX,
    XAP_OP_WILDCARD,
    XAP_OP_VALUE_RANGE, /* also VALUE_GE and VALUE_LE */
    XAP_OP_TERM,        /* leaves */
    XAP_OP_MATCH_ALL,
    XAP_OP_MATCH_NOTHING, /* the empty query */
    XAP_OP_OTHER          /* a posting source, and anything else */
};

void xap_query_free(xap_query *q);
/* The documents indexing `term`, weighted with query frequency wqf (0 counts as 1). */
xap_query *xap_query_term(const char *term, size_t len, unsigned wqf,
                          struct xap_error *err);
/* Every document (a new object each time: see the thread rule above). */
xap_query *xap_query_match_all(struct xap_error *err);
/* The empty query: matches nothing, and combining operators drop it. */
xap_query *xap_query_match_nothing(struct xap_error *err);
/* op over subs[0..n) (borrowed). `param` is ELITE_SET's set size or NEAR/PHRASE's
 * window (0: Xapian's default). XAP_OP_SCALE_WEIGHT and the leaf kinds are refused
 * (XAP_E_INVALID_ARG). One subquery stands for itself, as in Xapian. */
xap_query *xap_query_combine(enum xap_op op, xap_query *const *subs, size_t n,
                             unsigned param, struct xap_error *err);
/* As xap_query_combine for two subqueries. */
xap_query *xap_query_pair(enum xap_op op, const xap_query *a, const xap_query *b,
                          struct xap_error *err);
/* `q` with its weights multiplied by factor (>= 0). */
xap_query *xap_query_scale(const xap_query *q, double factor, struct xap_error *err);
/* Documents whose value `slot` lies in [lo, hi] (bytewise; e.g. xap_sortable_serialise
 * encodings); has_lo / has_hi 0 leaves that side open. */
xap_query *xap_query_value_range(unsigned slot, const char *lo, size_t lo_len, int has_lo,
                                 const char *hi, size_t hi_len, int has_hi,
                                 struct xap_error *err);
/* Every document, each with the same fixed weight w (Xapian's FixedWeightPostingSource):
 * FILTER it by a term to give that term's documents a weight of their own. */
xap_query *xap_query_fixed_weight(double w, struct xap_error *err);
/* A copy of q (an own handle on the same query). */
xap_query *xap_query_copy(const xap_query *q, struct xap_error *err);

/* Reading a query's shape: its operator or leaf kind, its subqueries (sub returns a new
 * handle, NULL past the end or on failure), and its description (Xapian's
 * get_description: into buf, NUL-terminated and truncated to cap; returns the full
 * length). A weight scaled to zero, as the parser makes of a boolean "field:value", is
 * described as "Query(0 * ...)". */
enum xap_op xap_query_op(const xap_query *q);
size_t xap_query_n_sub(const xap_query *q);
xap_query *xap_query_sub(const xap_query *q, size_t i, struct xap_error *err);
size_t xap_query_describe(const xap_query *q, char *buf, size_t cap);
/* Calls fn(term, len, 0, ctx) for each distinct term of q in term order; fn's non-zero
 * stops the walk and is returned. */
int xap_query_for_each_term(const xap_query *q, xap_term_fn fn, void *ctx,
                            struct xap_error *err);

/* ---------------------------------------------------------------------------------------
 * Query parsers: Xapian's QueryParser, set up by the caller, for one thread.
 */
typedef struct xap_parser xap_parser;

/* How a wildcard or partial word that expands to too many terms is treated. */
enum xap_expand_limit {
    XAP_EXPAND_ERROR = 0,    /* the match fails with XAP_E_WILDCARD */
    XAP_EXPAND_FIRST,        /* the first terms in term order */
    XAP_EXPAND_MOST_FREQUENT /* the most frequent terms */
};

/* A new parser. With a reader, it uses the reader's database (its lexicon when it has
 * one) for spelling correction and synonyms (the reader must outlive the parser); NULL:
 * none. Default operator OR, no stemmer, no stop list. */
int xap_parser_new(xap_reader *r, xap_parser **out, struct xap_error *err);
void xap_parser_free(xap_parser *p);
/* 1: words are ANDed by default; 0: ORed. */
void xap_parser_set_default_and(xap_parser *p, int and_);
/* A field usable in the query string: "name:value" searches value under `prefix` as
 * free text, or (boolean) filters on the term prefix+value. */
int xap_parser_add_prefix(xap_parser *p, const char *name, const char *prefix,
                          int boolean, struct xap_error *err);
/* A field whose values the caller turns into queries: "name:value" becomes fn(value, len,
 * ctx), which returns a new query that the parser takes over, or NULL for the empty
 * query. ctx must outlive the parser's last parse. */
typedef xap_query *(*xap_field_fn)(const char *value, size_t len, void *ctx);
int xap_parser_add_field_fn(xap_parser *p, const char *name, xap_field_fn fn, void *ctx,
                            struct xap_error *err);
/* Caps the expansion of wildcards (which = XAP_QP_WILDCARD) or of the partial last word
 * (XAP_QP_PARTIAL) at max terms (0: no cap), treated as `limit` says. */
int xap_parser_set_max_expansion(xap_parser *p, unsigned which, size_t max,
                                 enum xap_expand_limit limit, struct xap_error *err);
/* Stems words with a's stemmer, Xapian's STEM_SOME strategy (the stemmed form "Z"+stem,
 * except for capitalised words, phrases and fields). NULL: no stemming. `a` is borrowed:
 * it must outlive the parser. */
int xap_parser_set_stemmer(xap_parser *p, const xap_analyzer *a, struct xap_error *err);
/* Drops the stop words of any of the analysers a[0..n) (those without a stop list count
 * for nothing). The analysers are borrowed: they must outlive the parser. */
int xap_parser_set_stoppers(xap_parser *p, const xap_analyzer *const *a, size_t n,
                            struct xap_error *err);
/* Parses `query` (UTF-8, NUL-terminated) with features `flags` (enum xap_qp_flags) into a
 * new query in *out. Bad syntax is XAP_E_QUERY_SYNTAX with the parser's message. */
int xap_parser_parse(xap_parser *p, const char *query, unsigned flags, xap_query **out,
                     struct xap_error *err);
/* The last parse's spelling correction (with XAP_QP_SPELLING), "" when none. Borrowed:
 * valid until the next parse or the parser's end. */
const char *xap_parser_corrected(const xap_parser *p);

/* 1 when `word` is on the analyser's stop list (0 without one). */
int xap_analyzer_is_stop(const xap_analyzer *a, const char *word, size_t len);
/* 1 when the analyser has a stop list. */
int xap_analyzer_has_stop(const xap_analyzer *a);

/* ---------------------------------------------------------------------------------------
 * Running a query (Xapian's Enquire and MSet): the ranking model, order, collapsing,
 * facet counting (value-count match spies) and limits come in as data.
 */
struct xap_enquire_opts {
    enum xap_weighting weighting; /* ranking model (default BM25) */
    double bm25_k1, bm25_b;       /* 0, 0: Xapian's defaults (1, 0.5) */
    double bb2_c;                 /* BB2's parameter c (0: Xapian's 1.0) */
    enum xap_sort sort;
    unsigned sort_slot;
    int collapse_slot;     /* -1: no collapsing */
    size_t check_at_least; /* 0: Xapian's estimate; >= doc count makes counts exact */
    double time_limit;     /* seconds; 0: none */
    const struct xap_facet *facets;
    size_t n_facets;
    /* 1: hits carry their number and weight only: no document is read (data, values),
     * for a pass whose scores or documents the caller reads itself */
    int ids_only;
    /* >= 0: a hit's data (xap_hit.data) is this value slot when its document has it,
     * and the document data is not read (xap_result_hit_data reads it when asked);
     * otherwise, or -1 (the default), the document data. */
    int data_slot;
};

/* Defaults: BM25 with Xapian's parameters, relevance order, no collapse, no facets. */
void xap_enquire_opts_init(struct xap_enquire_opts *o);

typedef struct xap_result xap_result;

/* Runs `q` on the reader and copies what the caller will read into *out (freed with
 * xap_result_free): hits offset..offset+limit with their data and the values of the
 * facet and sort slots, the facet counts and the estimates. XAP_E_DB_MODIFIED means the
 * revision moved under us: xap_reader_refresh and run again. */
int xap_enquire_run(xap_reader *r, const xap_query *q, const struct xap_enquire_opts *o,
                    size_t offset, size_t limit, xap_result **out, struct xap_error *err);
void xap_result_free(xap_result *res);

/* What a result carries for its reader besides the match: the spelling correction to
 * report (xap_result_corrected), and the query snippets highlight (a copy is kept;
 * NULL: the query that was run). */
int xap_result_set_corrected(xap_result *res, const char *corrected,
                             struct xap_error *err);
int xap_result_set_snippet_query(xap_result *res, const xap_query *q,
                                 struct xap_error *err);
/* How a snippet weighs the query's words when it picks its window. XAP_SNIP_MATCH (the
 * default): the match's own maximum weights, which Xapian bounds from each database's
 * statistics (wdf and length bounds), so that the same documents split into shards may
 * pick another window. XAP_SNIP_IDF: each word's inverse document frequency over all
 * the databases (TfIdfWeight "btn"), the same however the documents are split; it
 * costs one empty match of the snippet query, made by the first snippet asked for. */
enum { XAP_SNIP_MATCH = 0, XAP_SNIP_IDF = 1 };
int xap_result_set_snippet_weights(xap_result *res, int how, struct xap_error *err);

/* Estimates of the number of matches. Exact when lower == upper. */
void xap_result_counts(const xap_result *res, size_t *lower, size_t *estimate,
                       size_t *upper);
/* Number of hits in this page. */
size_t xap_result_size(const xap_result *res);
/* The parsed query's description (for debugging) and the spelling correction ("" when
 * none). Borrowed. */
const char *xap_result_query_desc(const xap_result *res);
const char *xap_result_corrected(const xap_result *res);

/* Hit i (0 <= i < size): document number, BM25 weight, number of documents collapsed
 * into it, and borrowed data bytes. */
struct xap_hit {
    unsigned docid;
    double weight;
    unsigned collapsed;
    const char *data;
    size_t data_len;
};
int xap_result_hit(const xap_result *res, size_t i, struct xap_hit *out);
/* Hit i's document data (Xapian's, whatever the options' data_slot), malloc'ed into
 * *data (*len bytes; caller frees). */
int xap_result_hit_data(const xap_result *res, size_t i, char **data, size_t *len,
                        struct xap_error *err);
/* How many times a hit's document data has been read (xap_enquire_run without a
 * data_slot value, xap_result_hit_data), in this process: lets tests check that a
 * search without snippets leaves the stored body alone. */
unsigned long xap_debug_data_reads(void);
/* Value `slot` of hit i (fetched when asked for in the options' facets or sort);
 * borrowed. */
const char *xap_result_hit_value(const xap_result *res, size_t i, unsigned slot,
                                 size_t *len);

/* Facet f (in the order of the options' facets): number of distinct values, and value j
 * with its count, most frequent first (ties by value). */
size_t xap_result_facet_size(const xap_result *res, size_t f);
int xap_result_facet_value(const xap_result *res, size_t f, size_t j, const char **val,
                           size_t *len, size_t *count);

/* A highlighted snippet of `text` (the original text of a hit) for this result's query,
 * at most `max_chars` characters, words wrapped in hi_start/hi_end, HTML-escaped. A
 * text longer than XAP_SNIPPET_WHOLE bytes is not read whole: the snippet is made from
 * its first XAP_SNIPPET_HEAD bytes and a window around the first occurrence of each
 * query word (found by a folding byte scan, checked by the stemmer), so its cost does
 * not grow with the document's size beyond that scan.
 * `a` (may be NULL) stems words like the hit's language did; the reader's word_fn
 * folds them first. Returns a malloc'ed string (caller frees) or NULL on failure; with
 * only_if_match, "" when no query term occurs in `text`. */
char *xap_result_snippet(const xap_result *res, xap_reader *r, xap_analyzer *a,
                         const char *text, size_t len, size_t max_chars,
                         const char *hi_start, const char *hi_end, int only_if_match,
                         struct xap_error *err);
#define XAP_SNIPPET_WHOLE (64u * 1024u)
#define XAP_SNIPPET_HEAD  (16u * 1024u)
/* The byte offset in `text` of the first word that matches one of the result's query
 * words (found as xap_result_snippet finds them in a long text), or (size_t)-1. */
size_t xap_result_first_match(const xap_result *res, xap_reader *r, xap_analyzer *a,
                              const char *text, size_t len);

/* ---------------------------------------------------------------------------------------
 * Small helpers.
 */
/* Encodes a number for a value slot as Xapian's sortable_serialise does; returns the
 * length written into buf (at most 9 bytes; cap must be >= 9). */
size_t xap_sortable_serialise(double v, char *buf, size_t cap);
double xap_sortable_unserialise(const char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* KB_XAPIAN_C_H */
