// SPDX-License-Identifier: MIT
//
// reader.cc - a database opened for reading (xap_reader): opening and refreshing
// (following a stub file to a new generation), statistics, metadata, terms, stored data,
// spelling.

#include "internal.h"

#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

// ------------------------------------------------------------------------------------
// Reader

namespace
{
// The stub that decides which database `path` means: the file itself, or a directory's
// XAPIANDB stub (how generations and replicas are switched).
StubId stub_id(const std::string &path)
{
    StubId id;
    struct stat st;
    if (stat(path.c_str(), &st) != 0)
        return id;
    if (S_ISDIR(st.st_mode) && stat((path + "/XAPIANDB").c_str(), &st) != 0)
        return id;
    if (S_ISREG(st.st_mode)) {
        id.is_file = true;
        id.dev = st.st_dev;
        id.ino = st.st_ino;
        id.mtime_ns =
            static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
        id.size = st.st_size;
    }
    return id;
}

bool same_stub(const StubId &a, const StubId &b)
{
    return a.is_file == b.is_file && a.dev == b.dev && a.ino == b.ino &&
           a.mtime_ns == b.mtime_ns && a.size == b.size;
}
} // namespace

extern "C" int xap_reader_open(const char *path, xap_reader **out, xap_error *err)
{
    if (!path || !*path || !out)
        return bad_arg(err, "xap_reader_open: empty path");
    try {
        std::unique_ptr<xap_reader> r(new xap_reader);
        r->path = path;
        r->stub = stub_id(r->path);
        r->db = Xapian::Database(r->path);
        *out = r.release();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" void xap_reader_close(xap_reader *r)
{
    delete r;
}

namespace
{
// A fresh handle on shard s (a new connection for a remote one: a handle that timed out
// is never used again, every later call would wait as long).
void open_shard(Shard &s)
{
    if (s.path.empty())
        s.db = Xapian::Remote::open(s.host, s.port, s.timeout_ms, s.connect_ms);
    else
        s.db = Xapian::Database(s.path);
    s.up = true;
    s.hung = false;
    s.error.clear();
}

// The database searched: the shards that are up, in their order.
void combine(xap_reader *r)
{
    Xapian::Database all;
    for (Shard &s : r->shards)
        if (s.up)
            all.add_database(s.db);
    r->db = all;
}

void shard_down(Shard &s, const std::string &why, bool hung)
{
    s.db = Xapian::Database();
    s.up = false;
    s.hung = hung;
    s.error = why;
}

// Each shard up moved to its newest revision; one that fails is left out (its error
// kept) and one that was replaced under us (a full replica copy) opened afresh.
void refresh_shards(xap_reader *r, int *changed)
{
    bool moved = false, gone = false;
    for (Shard &s : r->shards) {
        if (!s.up)
            continue;
        try {
            try {
                if (s.db.reopen())
                    moved = true;
            } catch (const Xapian::DatabaseNotFoundError &) {
                open_shard(s);
                moved = gone = true;
            } catch (const Xapian::DatabaseOpeningError &) {
                open_shard(s);
                moved = gone = true;
            }
        } catch (const Xapian::Error &e) {
            shard_down(s, e.get_description(), timed_out_here(e));
            moved = gone = true;
        }
    }
    if (gone)
        combine(r);
    if (r->has_lex && r->lex.reopen())
        moved = true;
    if (changed)
        *changed = moved ? 1 : 0;
}
} // namespace

extern "C" int xap_reader_open_shards(const struct xap_shard *spec, size_t n,
                                      xap_reader **out, xap_error *err)
{
    if (!spec || n == 0 || !out)
        return bad_arg(err, "xap_reader_open_shards: no shard");
    try {
        std::unique_ptr<xap_reader> r(new xap_reader);
        for (size_t i = 0; i < n; i++) {
            Shard s;
            if (spec[i].host && *spec[i].host) {
                s.host = spec[i].host;
                s.port = spec[i].port;
                s.timeout_ms = spec[i].timeout_ms ? spec[i].timeout_ms : 10000;
                s.connect_ms = spec[i].connect_timeout_ms ? spec[i].connect_timeout_ms
                                                          : s.timeout_ms;
                s.name = s.host + ":" + std::to_string(s.port);
                r->n_remote++;
            } else if (spec[i].path && *spec[i].path) {
                s.path = s.name = spec[i].path;
            } else {
                return bad_arg(err,
                               "xap_reader_open_shards: a shard without path or host");
            }
            try {
                open_shard(s);
            } catch (const Xapian::Error &e) {
                shard_down(s, e.get_description(), timed_out_here(e));
            }
            r->shards.push_back(std::move(s));
        }
        r->path = r->shards[0].name;
        combine(r.get());
        *out = r.release();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" size_t xap_reader_shard_count(const xap_reader *r)
{
    return r ? r->shards.size() : 0;
}

extern "C" const char *xap_reader_shard_name(const xap_reader *r, size_t i)
{
    return r && i < r->shards.size() ? r->shards[i].name.c_str() : "";
}

extern "C" int xap_reader_shard_up(const xap_reader *r, size_t i)
{
    return r && i < r->shards.size() && r->shards[i].up;
}

extern "C" const char *xap_reader_shard_error(const xap_reader *r, size_t i)
{
    return r && i < r->shards.size() ? r->shards[i].error.c_str() : "";
}

extern "C" int xap_reader_shard_hung(const xap_reader *r, size_t i)
{
    return r && i < r->shards.size() && !r->shards[i].up && r->shards[i].hung;
}

extern "C" long xap_reader_failed_shard(const xap_reader *r, int *timed_out)
{
    if (timed_out)
        *timed_out = last_error_timed_out() ? 1 : 0;
    if (!r)
        return -1;
    std::string ctx = last_error_context();
    for (size_t i = 0; i < r->shards.size(); i++) {
        const Shard &s = r->shards[i];
        if (s.path.empty() ? ctx.find("(" + s.name + ")") != std::string::npos
                           : ctx.find(s.path) != std::string::npos)
            return static_cast<long>(i);
    }
    return -1;
}

extern "C" int xap_reader_shard_reopen(xap_reader *r, size_t i, xap_error *err)
{
    if (!r || i >= r->shards.size())
        return bad_arg(err, "xap_reader_shard_reopen: no such shard");
    Shard &s = r->shards[i];
    int rc = XAP_OK;
    try {
        open_shard(s);
    } catch (const Xapian::Error &e) {
        shard_down(s, e.get_description(), timed_out_here(e));
        rc = fail(err);
    } catch (...) {
        rc = fail(err);
    }
    try {
        combine(r);
    } catch (...) {
        return fail(err);
    }
    return rc;
}

extern "C" void xap_reader_shard_drop(xap_reader *r, size_t i, const char *why)
{
    if (!r || i >= r->shards.size())
        return;
    try {
        shard_down(r->shards[i], why ? why : "left out", false);
        combine(r);
    } catch (...) {
    }
}

extern "C" int xap_reader_set_lexicon(xap_reader *r, const char *path, xap_error *err)
{
    if (!r)
        return bad_arg(err, "xap_reader_set_lexicon: NULL reader");
    try {
        if (!path || !*path) {
            r->lex = Xapian::Database();
            r->has_lex = false;
            return XAP_OK;
        }
        r->lex = Xapian::Database(path);
        r->has_lex = true;
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_reader_refresh(xap_reader *r, int *changed, xap_error *err)
{
    if (!r)
        return bad_arg(err, "xap_reader_refresh: NULL reader");
    try {
        if (!r->shards.empty()) {
            refresh_shards(r, changed);
            return XAP_OK;
        }
        StubId now = stub_id(r->path);
        bool moved;
        if (!same_stub(now, r->stub)) {
            // A new generation: open afresh, keep the old handle on failure.
            Xapian::Database fresh(r->path);
            r->db = fresh;
            r->stub = now;
            moved = true;
        } else {
            try {
                moved = r->db.reopen();
            } catch (const Xapian::DatabaseOpeningError &) {
                r->db = Xapian::Database(r->path);
                moved = true;
            }
        }
        if (r->has_lex && r->lex.reopen())
            moved = true;
        if (changed)
            *changed = moved ? 1 : 0;
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_reader_add_lang(xap_reader *r, const char *code, xap_analyzer *a,
                                   xap_error *err)
{
    if (!r || !code || !*code || !a)
        return bad_arg(err, "xap_reader_add_lang: NULL argument");
    try {
        r->langs.push_back(Lang{code, a});
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" void xap_reader_set_word_fn(xap_reader *r, xap_word_fn fn)
{
    if (r)
        r->word_fn = fn;
}

extern "C" int xap_reader_doc_count(xap_reader *r, unsigned *count, xap_error *err)
{
    if (!r || !count)
        return bad_arg(err, "xap_reader_doc_count: NULL argument");
    try {
        *count = r->db.get_doccount();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_reader_revision(xap_reader *r, unsigned long *rev, xap_error *err)
{
    if (!r || !rev)
        return bad_arg(err, "xap_reader_revision: NULL argument");
    try {
        *rev = (r->has_lex ? r->lex : r->db).get_revision();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_reader_uuid(xap_reader *r, char *buf, size_t cap, xap_error *err)
{
    if (!r || !buf || cap < 37)
        return bad_arg(err, "xap_reader_uuid: buffer too small");
    try {
        copy_str(buf, cap, r->db.get_uuid());
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_reader_get_meta(xap_reader *r, const char *key, char **val,
                                   size_t *len, xap_error *err)
{
    if (!r)
        return bad_arg(err, "xap_reader_get_meta: NULL reader");
    try {
        return get_meta(r->has_lex ? r->lex : r->db, key, val, len, err);
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_reader_term_freq(xap_reader *r, const char *term, size_t len,
                                    unsigned *freq, xap_error *err)
{
    if (!r || !term || !freq)
        return bad_arg(err, "xap_reader_term_freq: NULL argument");
    try {
        *freq = r->db.get_termfreq(std::string(term, len));
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_reader_term_freq_in(xap_reader *r, const char *term, size_t len,
                                       const char *const *filter, size_t n,
                                       unsigned *freq, xap_error *err)
{
    if (!r || !term || !freq || (n && !filter))
        return bad_arg(err, "xap_reader_term_freq_in: NULL argument");
    try {
        std::vector<Xapian::Query> f;
        for (size_t i = 0; i < n; i++)
            if (filter[i])
                f.emplace_back(filter[i]);
        Xapian::Query q(std::string(term, len));
        if (!f.empty())
            q = Xapian::Query(Xapian::Query::OP_FILTER, q,
                              Xapian::Query(Xapian::Query::OP_OR, f.begin(), f.end()));
        Xapian::Enquire enq(r->db);
        enq.set_query(q);
        enq.set_weighting_scheme(Xapian::BoolWeight());
        Xapian::MSet m = enq.get_mset(0, 0, r->db.get_doccount());
        *freq = m.get_matches_lower_bound();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

namespace
{
// The stored data of the first document indexing `term` (a malloc'ed copy in *data).
int first_doc_data(xap_reader *r, const std::string &term, const char *missing,
                   char **data, size_t *len, xap_error *err)
{
    try {
        Xapian::PostingIterator p = r->db.postlist_begin(term);
        if (p == r->db.postlist_end(term))
            return fill_plain(err, XAP_E_NOT_FOUND, missing);
        std::string d = r->db.get_document(*p).get_data();
        char *copy = dup_bytes(d);
        if (!copy)
            return fill_plain(err, XAP_E_NOMEM, "out of memory");
        *data = copy;
        if (len)
            *len = d.size();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}
} // namespace

extern "C" int xap_reader_term_doc_data(xap_reader *r, const char *term, size_t len,
                                        char **data, size_t *data_len, xap_error *err)
{
    if (!r || !term || len == 0 || !data)
        return bad_arg(err, "xap_reader_term_doc_data: empty term");
    try {
        return first_doc_data(r, std::string(term, len), "no document has this term",
                              data, data_len, err);
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_reader_for_each_term(xap_reader *r, const char *prefix,
                                        size_t prefix_len, size_t max, xap_term_fn fn,
                                        void *ctx, xap_error *err)
{
    if (!r || !fn || (!prefix && prefix_len))
        return bad_arg(err, "xap_reader_for_each_term: NULL argument");
    try {
        std::string pfx(prefix ? prefix : "", prefix_len);
        size_t n = 0;
        for (Xapian::TermIterator t = r->db.allterms_begin(pfx);
             t != r->db.allterms_end(pfx) && n < max; ++t, ++n) {
            std::string term = *t;
            int rc = fn(term.data(), term.size(), t.get_termfreq(), ctx);
            if (rc)
                return rc;
        }
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_reader_spell(xap_reader *r, const char *word, size_t len, char *buf,
                                size_t cap, xap_error *err)
{
    if (!r || !word || !buf || cap == 0)
        return bad_arg(err, "xap_reader_spell: NULL argument");
    try {
        const Xapian::Database &db = r->has_lex ? r->lex : r->db;
        copy_str(buf, cap, db.get_spelling_suggestion(std::string(word, len)));
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" size_t xap_reader_lang_count(const xap_reader *r)
{
    return r ? r->langs.size() : 0;
}

extern "C" int xap_reader_lang(const xap_reader *r, size_t i, const char **code,
                               xap_analyzer **a)
{
    if (!r || i >= r->langs.size())
        return XAP_E_INVALID_ARG;
    if (code)
        *code = r->langs[i].code.c_str();
    if (a)
        *a = r->langs[i].a;
    return XAP_OK;
}

extern "C" int xap_reader_term_docid(xap_reader *r, const char *term, size_t len,
                                     unsigned *docid, xap_error *err)
{
    if (!r || !term || len == 0)
        return bad_arg(err, "xap_reader_term_docid: empty term");
    try {
        std::string t(term, len);
        Xapian::PostingIterator p = r->db.postlist_begin(t);
        if (p == r->db.postlist_end(t))
            return fill_plain(err, XAP_E_NOT_FOUND, "no document has this term");
        if (docid)
            *docid = *p;
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_reader_for_each_doc_term(xap_reader *r, unsigned docid,
                                            const char *from, xap_term_fn fn, void *ctx,
                                            xap_error *err)
{
    if (!r || !fn || docid == 0)
        return bad_arg(err, "xap_reader_for_each_doc_term: NULL argument or docid 0");
    try {
        Xapian::TermIterator t = r->db.termlist_begin(docid);
        if (from && *from)
            t.skip_to(from);
        return each_term(t, r->db.termlist_end(docid), fn, ctx);
    } catch (...) {
        return fail(err);
    }
}

namespace
{
// The caller's term predicate as Xapian's ExpandDecider.
class PredDecider : public Xapian::ExpandDecider
{
  public:
    PredDecider(xap_term_pred fn, void *ctx) : fn_(fn), ctx_(ctx)
    {
    }
    bool operator()(const std::string &t) const override
    {
        return fn_(t.data(), t.size(), ctx_) != 0;
    }

  private:
    xap_term_pred fn_;
    void *ctx_;
};
} // namespace

extern "C" int xap_reader_expand(xap_reader *r, const unsigned *docids, size_t n,
                                 size_t max, xap_term_pred keep, void *keep_ctx,
                                 xap_term_fn fn, void *ctx, xap_error *err)
{
    if (!r || (n && !docids) || !fn)
        return bad_arg(err, "xap_reader_expand: NULL argument");
    try {
        Xapian::RSet rset;
        for (size_t i = 0; i < n; i++)
            rset.add_document(docids[i]);
        Xapian::Enquire enq(r->db);
        PredDecider decider(keep, keep_ctx);
        // Exact term frequencies: over several databases (shards) Xapian otherwise
        // estimates them from the sub-database that holds the documents, and the set
        // would depend on how the documents are split.
        Xapian::ESet eset =
            enq.get_eset(static_cast<Xapian::termcount>(max), rset,
                         Xapian::Enquire::USE_EXACT_TERMFREQ, keep ? &decider : nullptr);
        for (Xapian::ESetIterator e = eset.begin(); e != eset.end(); ++e) {
            const std::string &t = *e;
            int rc = fn(t.data(), t.size(), 0, ctx);
            if (rc)
                return rc;
        }
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}
