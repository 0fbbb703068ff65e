// SPDX-License-Identifier: MIT
//
// internal.h - what the binding's files share and the C side never sees: the handles'
// C++ layouts and the error helpers. Only files of xapian-c/ include it; it is the only
// header besides <xapian.h> they need.
#ifndef KB_XAPIAN_C_INTERNAL_H
#define KB_XAPIAN_C_INTERNAL_H

#include "xapian_c.h"

#include <xapian.h>

#include <sys/types.h>

#include <atomic>
#include <string>
#include <utility>
#include <vector>

// ------------------------------------------------------------------------------------
// Errors (error.cc). fail() is called only inside a catch block: it classifies the
// exception being handled, fills `e` (first error wins) and returns its code.

void copy_str(char *dst, size_t cap, const std::string &src) noexcept;
void copy_cstr(char *dst, size_t cap, const char *src) noexcept;
int fill_plain(xap_error *e, int code, const char *msg) noexcept;
int fail(xap_error *e) noexcept;
int bad_arg(xap_error *e, const char *msg) noexcept;
// The context of the calling thread's last Xapian failure (e.g. "remote:tcp(h:p)").
const char *last_error_context() noexcept;
// Whether that failure was a timeout of this side's call (not one the server sent back).
bool last_error_timed_out() noexcept;
bool timed_out_here(const Xapian::Error &x) noexcept;
// A malloc'ed NUL-terminated copy, or NULL.
char *dup_bytes(const std::string &s) noexcept;

// Calls fn(term, len, wdf, ctx) for each term of [t, end); fn's non-zero ends the walk
// (doc.cc).
int each_term(Xapian::TermIterator t, const Xapian::TermIterator &end, xap_term_fn fn,
              void *ctx);

// A metadata value as a malloc'ed copy (writer and reader alike).
template <class Db>
int get_meta(Db &db, const char *key, char **val, size_t *len, xap_error *err)
{
    if (!key || !*key || !val)
        return bad_arg(err, "metadata: empty key");
    std::string v = db.get_metadata(key);
    if (v.empty())
        return fill_plain(err, XAP_E_NOT_FOUND, "no such metadata key");
    char *p = dup_bytes(v);
    if (!p)
        return fill_plain(err, XAP_E_NOMEM, "out of memory");
    *val = p;
    if (len)
        *len = v.size();
    return XAP_OK;
}

// ------------------------------------------------------------------------------------
// Handles

struct xap_analyzer {
    Xapian::Stem stem;
    Xapian::SimpleStopper stopper;
    bool has_stop = false;
};

struct xap_doc {
    Xapian::Document doc;
    Xapian::TermGenerator tg;
    xap_doc()
    {
        tg.set_document(doc);
    }
};

struct xap_writer {
    Xapian::WritableDatabase db;
    bool in_txn = false;
};

struct Lang {
    std::string code;
    xap_analyzer *a;
};

// Which stub file a reader's path meant when it was opened (reader.cc).
struct StubId {
    bool is_file = false;
    dev_t dev = 0;
    ino_t ino = 0;
    long long mtime_ns = 0;
    off_t size = 0;
};

// One database of a reader opened over several (xap_reader_open_shards): a local path or
// an endpoint of xapian-tcpsrv, with its own handle so that it can be named, left out
// and reconnected alone.
struct Shard {
    std::string name; // "host:port" or the path
    std::string path; // local; "" for a remote one
    std::string host;
    unsigned port = 0, timeout_ms = 0, connect_ms = 0;
    Xapian::Database db;
    bool up = false;
    bool hung = false; // down after a timeout of ours: it may hang the next call too
    std::string error; // why it is down
};

struct xap_reader {
    std::string path;
    Xapian::Database db; // what is searched: the database, or the shards that are up
    StubId stub;
    std::vector<Shard> shards; // empty: db is opened from path
    size_t n_remote = 0;
    Xapian::Database lex; // spelling, synonyms, metadata and revision, when has_lex
    bool has_lex = false;
    std::vector<Lang> langs;
    xap_word_fn word_fn = nullptr;
};

struct xap_query {
    Xapian::Query q;
};

struct Facet {
    std::vector<std::pair<std::string, size_t>> values;
};

// xap_debug_data_reads' counter (result.cc)
extern std::atomic<unsigned long> xap_data_reads;

struct Hit {
    xap_hit h;
    std::string data;
    std::vector<std::pair<unsigned, std::string>> values;
};

struct xap_result {
    Xapian::MSet mset;
    // With feedback: an empty MSet of the query as typed, so that snippets highlight the
    // user's words and not the expand terms; made by the first snippet asked for
    Xapian::Query typed;
    mutable Xapian::MSet snip_mset;
    bool has_snip = false;
    bool snip_idf = false; // xap_result_set_snippet_weights(XAP_SNIP_IDF)
    mutable bool snip_ready = false;
    size_t lower = 0, estimate = 0, upper = 0;
    Xapian::Query query;      // the query that was run
    mutable std::string desc; // its description, made when first asked for
    mutable bool desc_ready = false;
    std::string corrected;
    std::vector<Hit> hits;
    std::vector<Facet> facets;
};

#endif
