// SPDX-License-Identifier: MIT
//
// xapian_c.cc - the implementation of xapian_c.h: the only file in the tree that includes
// <xapian.h>. Every exported function is `noexcept` and wraps its body in
// `try { ... } catch (...) { return fail(err); }`; fail() rethrows and maps each Xapian
// exception class (most derived first), std::bad_alloc and anything else to an xap_code.
// Results are copied into plain structures before they cross into C.

#include "xapian_c.h"

#include <xapian.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

// ------------------------------------------------------------------------------------
// Errors

static void copy_str(char *dst, size_t cap, const std::string &src) noexcept
{
    size_t n = std::min(src.size(), cap - 1);
    std::memcpy(dst, src.data(), n);
    dst[n] = '\0';
}

static void copy_cstr(char *dst, size_t cap, const char *src) noexcept
{
    size_t n = std::min(std::strlen(src), cap - 1);
    std::memcpy(dst, src, n);
    dst[n] = '\0';
}

static int fill_plain(xap_error *e, int code, const char *msg) noexcept
{
    if (e && e->code == XAP_OK) {
        e->code = code;
        e->type[0] = '\0';
        e->context[0] = '\0';
        copy_cstr(e->msg, sizeof e->msg, msg);
    }
    return code;
}

static int fill(xap_error *e, int code, const Xapian::Error &x) noexcept
{
    if (e && e->code == XAP_OK) {
        e->code = code;
        copy_cstr(e->type, sizeof e->type, x.get_type());
        copy_str(e->msg, sizeof e->msg, x.get_msg());
        copy_str(e->context, sizeof e->context, x.get_context());
        try {
            const char *es = x.get_error_string();
            if (es && *es) {
                size_t used = std::strlen(e->msg);
                std::snprintf(e->msg + used, sizeof e->msg - used, " (%s)", es);
            }
        } catch (...) {
        }
    }
    return code;
}

// Called only inside a catch block: classifies the exception being handled.
static int fail(xap_error *e) noexcept
{
    try {
        throw;
    } catch (const Xapian::DatabaseModifiedError &x) {
        return fill(e, XAP_E_DB_MODIFIED, x);
    } catch (const Xapian::DatabaseLockError &x) {
        return fill(e, XAP_E_DB_LOCKED, x);
    } catch (const Xapian::DatabaseNotFoundError &x) {
        return fill(e, XAP_E_DB_NOT_FOUND, x);
    } catch (const Xapian::DatabaseVersionError &x) {
        return fill(e, XAP_E_DB_VERSION, x);
    } catch (const Xapian::DatabaseOpeningError &x) {
        return fill(e, XAP_E_DB_OPENING, x);
    } catch (const Xapian::DatabaseCorruptError &x) {
        return fill(e, XAP_E_DB_CORRUPT, x);
    } catch (const Xapian::DatabaseClosedError &x) {
        return fill(e, XAP_E_DB_CLOSED, x);
    } catch (const Xapian::DatabaseError &x) {
        return fill(e, XAP_E_DATABASE, x);
    } catch (const Xapian::NetworkTimeoutError &x) {
        return fill(e, XAP_E_NET_TIMEOUT, x);
    } catch (const Xapian::NetworkError &x) {
        return fill(e, XAP_E_NETWORK, x);
    } catch (const Xapian::QueryParserError &x) {
        return fill(e, XAP_E_QUERY_SYNTAX, x);
    } catch (const Xapian::WildcardError &x) {
        return fill(e, XAP_E_WILDCARD, x);
    } catch (const Xapian::DocNotFoundError &x) {
        return fill(e, XAP_E_DOC_NOT_FOUND, x);
    } catch (const Xapian::RangeError &x) {
        return fill(e, XAP_E_RANGE, x);
    } catch (const Xapian::InvalidArgumentError &x) {
        return fill(e, XAP_E_INVALID_ARG, x);
    } catch (const Xapian::InvalidOperationError &x) {
        return fill(e, XAP_E_INVALID_OP, x);
    } catch (const Xapian::UnimplementedError &x) {
        return fill(e, XAP_E_UNIMPLEMENTED, x);
    } catch (const Xapian::FeatureUnavailableError &x) {
        return fill(e, XAP_E_UNIMPLEMENTED, x);
    } catch (const Xapian::Error &x) {
        return fill(e, XAP_E_XAPIAN, x);
    } catch (const std::bad_alloc &) {
        return fill_plain(e, XAP_E_NOMEM, "out of memory");
    } catch (const std::exception &x) {
        return fill_plain(e, XAP_E_INTERNAL, x.what());
    } catch (...) {
        return fill_plain(e, XAP_E_UNKNOWN, "unknown C++ exception");
    }
}

static int bad_arg(xap_error *e, const char *msg) noexcept
{
    return fill_plain(e, XAP_E_INVALID_ARG, msg);
}

extern "C" const char *xap_code_name(int code)
{
    switch (code) {
    case XAP_OK:
        return "ok";
    case XAP_E_DB_MODIFIED:
        return "db_modified";
    case XAP_E_DB_LOCKED:
        return "db_locked";
    case XAP_E_DB_NOT_FOUND:
        return "db_not_found";
    case XAP_E_DB_VERSION:
        return "db_version";
    case XAP_E_DB_OPENING:
        return "db_opening";
    case XAP_E_DB_CORRUPT:
        return "db_corrupt";
    case XAP_E_DB_CLOSED:
        return "db_closed";
    case XAP_E_DATABASE:
        return "database";
    case XAP_E_NET_TIMEOUT:
        return "network_timeout";
    case XAP_E_NETWORK:
        return "network";
    case XAP_E_QUERY_SYNTAX:
        return "query_syntax";
    case XAP_E_WILDCARD:
        return "wildcard";
    case XAP_E_DOC_NOT_FOUND:
        return "doc_not_found";
    case XAP_E_RANGE:
        return "range";
    case XAP_E_INVALID_ARG:
        return "invalid_argument";
    case XAP_E_INVALID_OP:
        return "invalid_operation";
    case XAP_E_UNIMPLEMENTED:
        return "unimplemented";
    case XAP_E_XAPIAN:
        return "xapian";
    case XAP_E_NOMEM:
        return "out_of_memory";
    case XAP_E_INTERNAL:
        return "internal";
    case XAP_E_UNKNOWN:
        return "unknown";
    case XAP_E_NOT_FOUND:
        return "not_found";
    case XAP_E_TOO_SMALL:
        return "too_small";
    default:
        return "unknown";
    }
}

// Returns a malloc'ed NUL-terminated copy, or NULL.
static char *dup_bytes(const std::string &s) noexcept
{
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (p) {
        std::memcpy(p, s.data(), s.size());
        p[s.size()] = '\0';
    }
    return p;
}

// The unique-id term: "Q"+uid, hashed past Xapian's safe term length.
static std::string uid_term(const char *uid, size_t len)
{
    std::string t("Q");
    if (len + 1 <= 240) {
        t.append(uid, len);
        return t;
    }
    uint64_t h = 1469598103934665603ULL; // FNV-1a 64
    for (size_t i = 0; i < len; i++) {
        h ^= static_cast<unsigned char>(uid[i]);
        h *= 1099511628211ULL;
    }
    char hex[20];
    std::snprintf(hex, sizeof hex, ":%016llx", static_cast<unsigned long long>(h));
    t.append(uid, 200);
    t.append(hex);
    return t;
}

// ------------------------------------------------------------------------------------
// Analysers

struct xap_analyzer {
    Xapian::Stem stem;
    Xapian::SimpleStopper stopper;
    bool has_stop = false;
};

extern "C" int xap_analyzer_new(const char *stem_lang, const char *const *stop,
                                size_t n_stop, xap_analyzer **out, xap_error *err)
{
    if (!stem_lang || !out)
        return bad_arg(err, "xap_analyzer_new: NULL argument");
    try {
        std::unique_ptr<xap_analyzer> a(new xap_analyzer);
        a->stem = Xapian::Stem(stem_lang);
        for (size_t i = 0; i < n_stop; i++) {
            if (stop[i] && *stop[i]) {
                a->stopper.add(stop[i]);
                a->has_stop = true;
            }
        }
        *out = a.release();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" void xap_analyzer_free(xap_analyzer *a)
{
    delete a;
}

extern "C" int xap_analyzer_stem(xap_analyzer *a, const char *word, size_t len, char *buf,
                                 size_t cap, xap_error *err)
{
    if (!a || !word || !buf || cap == 0)
        return bad_arg(err, "xap_analyzer_stem: NULL argument");
    try {
        std::string s = a->stem(std::string(word, len));
        copy_str(buf, cap, s);
        return static_cast<int>(std::min<size_t>(s.size(), 1u << 30));
    } catch (...) {
        return fail(err);
    }
}

// ------------------------------------------------------------------------------------
// Documents

struct xap_doc {
    Xapian::Document doc;
    Xapian::TermGenerator tg;
    xap_doc()
    {
        tg.set_document(doc);
    }
};

extern "C" xap_doc *xap_doc_new(void)
{
    try {
        return new xap_doc;
    } catch (...) {
        return nullptr;
    }
}

extern "C" void xap_doc_free(xap_doc *d)
{
    delete d;
}

extern "C" int xap_doc_index_text(xap_doc *d, xap_analyzer *a, const char *text,
                                  size_t len, unsigned wdf_inc, const char *prefix,
                                  xap_error *err)
{
    if (!d || (!text && len))
        return bad_arg(err, "xap_doc_index_text: NULL argument");
    try {
        if (a) {
            d->tg.set_stemmer(a->stem);
            d->tg.set_stopper(a->has_stop ? &a->stopper : nullptr);
        } else {
            d->tg.set_stemmer(Xapian::Stem());
            d->tg.set_stopper(nullptr);
        }
        d->tg.index_text(Xapian::Utf8Iterator(text, len), wdf_inc ? wdf_inc : 1,
                         prefix ? prefix : "");
        d->tg.set_stopper(nullptr); // the analyser may be freed before the document
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_doc_increase_termpos(xap_doc *d, unsigned n, xap_error *err)
{
    if (!d)
        return bad_arg(err, "xap_doc_increase_termpos: NULL document");
    try {
        d->tg.increase_termpos(n);
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_doc_add_term(xap_doc *d, const char *term, size_t len, unsigned wdf,
                                xap_error *err)
{
    if (!d || !term || len == 0)
        return bad_arg(err, "xap_doc_add_term: empty term");
    if (len > 245)
        return bad_arg(err, "xap_doc_add_term: term too long (> 245 bytes)");
    try {
        if (wdf == 0)
            d->doc.add_boolean_term(std::string(term, len));
        else
            d->doc.add_term(std::string(term, len), wdf);
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_doc_set_value(xap_doc *d, unsigned slot, const char *val, size_t len,
                                 xap_error *err)
{
    if (!d || (!val && len))
        return bad_arg(err, "xap_doc_set_value: NULL argument");
    if (slot == Xapian::BAD_VALUENO)
        return bad_arg(err, "xap_doc_set_value: bad slot");
    try {
        d->doc.add_value(slot, std::string(val ? val : "", len));
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_doc_set_value_number(xap_doc *d, unsigned slot, double v,
                                        xap_error *err)
{
    if (!d)
        return bad_arg(err, "xap_doc_set_value_number: NULL document");
    if (slot == Xapian::BAD_VALUENO)
        return bad_arg(err, "xap_doc_set_value_number: bad slot");
    try {
        d->doc.add_value(slot, Xapian::sortable_serialise(v));
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_doc_set_data(xap_doc *d, const char *data, size_t len, xap_error *err)
{
    if (!d || (!data && len))
        return bad_arg(err, "xap_doc_set_data: NULL argument");
    try {
        d->doc.set_data(std::string(data ? data : "", len));
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" size_t xap_doc_term_count(const xap_doc *d)
{
    try {
        return d ? d->doc.termlist_count() : 0;
    } catch (...) {
        return 0;
    }
}

namespace
{
// Calls fn(term, len, wdf, ctx) for each term of [t, end); fn's non-zero ends the walk.
int each_term(Xapian::TermIterator t, const Xapian::TermIterator &end, xap_term_fn fn,
              void *ctx)
{
    for (; t != end; ++t) {
        const std::string term = *t;
        int rc = fn(term.data(), term.size(), t.get_wdf(), ctx);
        if (rc)
            return rc;
    }
    return XAP_OK;
}
} // namespace

extern "C" int xap_is_spelling_word(const char *term, size_t len)
{
    return term && len >= 3 && len <= 40 && term[0] >= 'a' && term[0] <= 'z';
}

extern "C" int xap_doc_for_each_term(const xap_doc *d, xap_term_fn fn, void *ctx,
                                     xap_error *err)
{
    if (!d || !fn)
        return bad_arg(err, "xap_doc_for_each_term: NULL argument");
    try {
        return each_term(d->doc.termlist_begin(), d->doc.termlist_end(), fn, ctx);
    } catch (...) {
        return fail(err);
    }
}

// ------------------------------------------------------------------------------------
// Writer

struct xap_writer {
    Xapian::WritableDatabase db;
    bool in_txn = false;
};

extern "C" int xap_writer_open(const char *path, unsigned flags, xap_writer **out,
                               xap_error *err)
{
    if (!path || !*path || !out)
        return bad_arg(err, "xap_writer_open: empty path");
    try {
        int action = Xapian::DB_OPEN;
        if (flags & XAP_OPEN_OVERWRITE)
            action = Xapian::DB_CREATE_OR_OVERWRITE;
        else if (flags & XAP_OPEN_CREATE)
            action = Xapian::DB_CREATE_OR_OPEN;
        if (flags & XAP_OPEN_NO_SYNC)
            action |= Xapian::DB_NO_SYNC;
        if (flags & XAP_OPEN_RETRY_LOCK)
            action |= Xapian::DB_RETRY_LOCK;
        std::unique_ptr<xap_writer> w(new xap_writer);
        w->db = Xapian::WritableDatabase(path, action | Xapian::DB_BACKEND_GLASS);
        *out = w.release();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_close(xap_writer *w, xap_error *err)
{
    if (!w)
        return XAP_OK;
    int rc = XAP_OK;
    try {
        if (w->in_txn) {
            w->db.cancel_transaction();
            w->in_txn = false;
        }
        w->db.commit();
        w->db.close();
    } catch (...) {
        rc = fail(err);
    }
    delete w;
    return rc;
}

extern "C" void xap_writer_free(xap_writer *w)
{
    if (!w)
        return;
    try {
        if (w->in_txn)
            w->db.cancel_transaction();
        w->db.close();
    } catch (...) {
    }
    delete w;
}

extern "C" int xap_writer_commit(xap_writer *w, xap_error *err)
{
    if (!w)
        return bad_arg(err, "xap_writer_commit: NULL writer");
    try {
        w->db.commit();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_begin_txn(xap_writer *w, int flushed, xap_error *err)
{
    if (!w)
        return bad_arg(err, "xap_writer_begin_txn: NULL writer");
    try {
        w->db.begin_transaction(flushed != 0);
        w->in_txn = true;
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_commit_txn(xap_writer *w, xap_error *err)
{
    if (!w)
        return bad_arg(err, "xap_writer_commit_txn: NULL writer");
    try {
        w->db.commit_transaction();
        w->in_txn = false;
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_cancel_txn(xap_writer *w, xap_error *err)
{
    if (!w)
        return bad_arg(err, "xap_writer_cancel_txn: NULL writer");
    try {
        w->db.cancel_transaction();
        w->in_txn = false;
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_replace(xap_writer *w, const char *uid, size_t uid_len,
                                  xap_doc *d, unsigned *docid, xap_error *err)
{
    if (!w || !uid || uid_len == 0 || !d)
        return bad_arg(err, "xap_writer_replace: empty uid or NULL argument");
    try {
        std::string term = uid_term(uid, uid_len);
        d->doc.add_boolean_term(term);
        Xapian::docid id = w->db.replace_document(term, d->doc);
        if (docid)
            *docid = id;
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_add_doc_spellings(xap_writer *w, const xap_doc *d,
                                            xap_error *err)
{
    if (!w || !d)
        return bad_arg(err, "xap_writer_add_doc_spellings: NULL argument");
    try {
        for (Xapian::TermIterator t = d->doc.termlist_begin(); t != d->doc.termlist_end();
             ++t) {
            const std::string &term = *t;
            if (!xap_is_spelling_word(term.data(), term.size()))
                continue;
            w->db.add_spelling(term, t.get_wdf() ? t.get_wdf() : 1);
        }
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_lookup(xap_writer *w, const char *uid, size_t uid_len,
                                 unsigned *docid, xap_error *err)
{
    if (!w || !uid || uid_len == 0)
        return bad_arg(err, "xap_writer_lookup: empty uid");
    try {
        std::string term = uid_term(uid, uid_len);
        Xapian::PostingIterator p = w->db.postlist_begin(term);
        if (p == w->db.postlist_end(term))
            return fill_plain(err, XAP_E_NOT_FOUND, "no document with this id");
        if (docid)
            *docid = *p;
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_delete(xap_writer *w, const char *uid, size_t uid_len,
                                 xap_error *err)
{
    if (!w || !uid || uid_len == 0)
        return bad_arg(err, "xap_writer_delete: empty uid");
    try {
        std::string term = uid_term(uid, uid_len);
        if (w->db.get_termfreq(term) == 0)
            return fill_plain(err, XAP_E_NOT_FOUND, "no document with this id");
        w->db.delete_document(term);
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_get_value(xap_writer *w, unsigned docid, unsigned slot,
                                    char *buf, size_t cap, size_t *len, xap_error *err)
{
    if (!w || (!buf && cap))
        return bad_arg(err, "xap_writer_get_value: NULL argument");
    try {
        std::string v = w->db.get_document(docid).get_value(slot);
        if (len)
            *len = v.size();
        if (v.size() > cap)
            return fill_plain(err, XAP_E_TOO_SMALL, "value larger than the buffer");
        if (v.size())
            std::memcpy(buf, v.data(), v.size());
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_for_each_uid(xap_writer *w, xap_uid_fn fn, void *ctx,
                                       xap_error *err)
{
    if (!w || !fn)
        return bad_arg(err, "xap_writer_for_each_uid: NULL argument");
    try {
        for (Xapian::TermIterator t = w->db.allterms_begin("Q");
             t != w->db.allterms_end("Q"); ++t) {
            std::string term = *t;
            Xapian::PostingIterator p = w->db.postlist_begin(term);
            if (p == w->db.postlist_end(term))
                continue;
            int rc = fn(term.data() + 1, term.size() - 1, *p, ctx);
            if (rc)
                return rc;
        }
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

template <class Db>
static int get_meta(Db &db, const char *key, char **val, size_t *len, xap_error *err)
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

extern "C" int xap_writer_set_meta(xap_writer *w, const char *key, const char *val,
                                   size_t len, xap_error *err)
{
    if (!w || !key || !*key || (!val && len))
        return bad_arg(err, "xap_writer_set_meta: empty key");
    try {
        w->db.set_metadata(key, std::string(val ? val : "", len));
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_get_meta(xap_writer *w, const char *key, char **val,
                                   size_t *len, xap_error *err)
{
    if (!w)
        return bad_arg(err, "xap_writer_get_meta: NULL writer");
    try {
        return get_meta(w->db, key, val, len, err);
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_for_each_meta(xap_writer *w, const char *prefix, xap_meta_fn fn,
                                        void *ctx, xap_error *err)
{
    if (!w || !fn)
        return bad_arg(err, "xap_writer_for_each_meta: NULL argument");
    try {
        std::string pfx(prefix ? prefix : "");
        // Collect first: the callback may set or delete keys.
        std::vector<std::pair<std::string, std::string>> kv;
        for (Xapian::TermIterator k = w->db.metadata_keys_begin(pfx);
             k != w->db.metadata_keys_end(pfx); ++k)
            kv.emplace_back(*k, w->db.get_metadata(*k));
        for (auto &p : kv) {
            int rc = fn(p.first.c_str(), p.second.c_str(), p.second.size(), ctx);
            if (rc)
                return rc;
        }
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_add_synonym(xap_writer *w, const char *term,
                                      const char *synonym, xap_error *err)
{
    if (!w || !term || !*term || !synonym || !*synonym)
        return bad_arg(err, "xap_writer_add_synonym: empty term");
    try {
        w->db.add_synonym(term, synonym);
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_clear_synonyms(xap_writer *w, const char *term, xap_error *err)
{
    if (!w || !term || !*term)
        return bad_arg(err, "xap_writer_clear_synonyms: empty term");
    try {
        w->db.clear_synonyms(term);
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

namespace
{
// Raises (add) or lowers a spelling word's frequency by n (0 counts as 1).
int spelling_change(xap_writer *w, const char *word, size_t len, unsigned n, bool add,
                    xap_error *err)
{
    if (!w || !word || len == 0)
        return bad_arg(err, "xap_writer spelling: empty word");
    try {
        if (add)
            w->db.add_spelling(std::string(word, len), n ? n : 1);
        else
            w->db.remove_spelling(std::string(word, len), n ? n : 1);
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}
} // namespace

extern "C" int xap_writer_add_spelling(xap_writer *w, const char *word, size_t len,
                                       unsigned inc, xap_error *err)
{
    return spelling_change(w, word, len, inc, true, err);
}

extern "C" int xap_writer_remove_spelling(xap_writer *w, const char *word, size_t len,
                                          unsigned dec, xap_error *err)
{
    return spelling_change(w, word, len, dec, false, err);
}

extern "C" int xap_writer_for_each_doc_term(xap_writer *w, unsigned docid, xap_term_fn fn,
                                            void *ctx, xap_error *err)
{
    if (!w || !fn || docid == 0)
        return bad_arg(err, "xap_writer_for_each_doc_term: NULL argument or docid 0");
    try {
        return each_term(w->db.termlist_begin(docid), w->db.termlist_end(docid), fn, ctx);
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_doc_count(xap_writer *w, unsigned *count, xap_error *err)
{
    if (!w || !count)
        return bad_arg(err, "xap_writer_doc_count: NULL argument");
    try {
        *count = w->db.get_doccount();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_revision(xap_writer *w, unsigned long *rev, xap_error *err)
{
    if (!w || !rev)
        return bad_arg(err, "xap_writer_revision: NULL argument");
    try {
        *rev = w->db.get_revision();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_compact(const char *src, const char *dst, xap_error *err)
{
    return xap_compact_many(&src, 1, dst, err);
}

extern "C" int xap_compact_many(const char *const *srcs, size_t n, const char *dst,
                                xap_error *err)
{
    if (!srcs || n == 0 || !dst || !*dst)
        return bad_arg(err, "xap_compact: no source or empty path");
    for (size_t i = 0; i < n; i++)
        if (!srcs[i] || !*srcs[i])
            return bad_arg(err, "xap_compact: empty path");
    try {
        struct stat st;
        if (stat(dst, &st) == 0)
            return bad_arg(err, "xap_compact: destination exists");
        Xapian::Database db;
        for (size_t i = 0; i < n; i++)
            db.add_database(Xapian::Database(srcs[i]));
        // Document numbers are renumbered to follow one another in source order; the
        // spelling frequencies of a word in several sources are summed; metadata keys
        // found in several sources keep the first source's value.
        db.compact(dst);
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

// ------------------------------------------------------------------------------------
// Reader

namespace
{
struct Lang {
    std::string code;
    xap_analyzer *a;
};

struct StubId {
    bool is_file = false;
    dev_t dev = 0;
    ino_t ino = 0;
    long long mtime_ns = 0;
    off_t size = 0;
};

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

struct xap_reader {
    std::string path;
    Xapian::Database db;
    StubId stub;
    std::vector<Lang> langs;
    xap_word_fn word_fn = nullptr;
};

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

extern "C" int xap_reader_refresh(xap_reader *r, int *changed, xap_error *err)
{
    if (!r)
        return bad_arg(err, "xap_reader_refresh: NULL reader");
    try {
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
        *rev = r->db.get_revision();
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
        return get_meta(r->db, key, val, len, err);
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

extern "C" int xap_reader_get_data(xap_reader *r, const char *uid, size_t uid_len,
                                   char **data, size_t *len, xap_error *err)
{
    if (!r || !uid || uid_len == 0 || !data)
        return bad_arg(err, "xap_reader_get_data: empty uid");
    try {
        return first_doc_data(r, uid_term(uid, uid_len), "no document with this id", data,
                              len, err);
    } catch (...) {
        return fail(err);
    }
}

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
        copy_str(buf, cap, r->db.get_spelling_suggestion(std::string(word, len)));
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

// ------------------------------------------------------------------------------------
// Searching

namespace
{
// Counts each of several values held in one slot, separated by `sep` (e.g. topics).
class MultiValueSpy : public Xapian::MatchSpy
{
  public:
    MultiValueSpy(Xapian::valueno slot, char sep) : slot_(slot), sep_(sep)
    {
    }
    void operator()(const Xapian::Document &doc, double) override
    {
        std::string v = doc.get_value(slot_);
        size_t start = 0;
        while (start < v.size()) {
            size_t end = v.find(sep_, start);
            if (end == std::string::npos)
                end = v.size();
            if (end > start)
                ++counts[v.substr(start, end - start)];
            start = end + 1;
        }
    }
    std::string name() const override
    {
        return "KbMultiValueSpy";
    }
    std::map<std::string, size_t> counts;

  private:
    Xapian::valueno slot_;
    char sep_;
};

// A stemmer for snippets: folds the original word like the indexer did, then stems. A
// stop word of the hit's language stems to nothing, so it is never highlighted (an
// Italian "della" would otherwise meet the stem of a word of another language's branch).
class FoldStem : public Xapian::StemImplementation
{
  public:
    FoldStem(xap_word_fn fn, const Xapian::Stem &stem, const Xapian::Stopper *stop)
        : fn_(fn), stem_(stem), stop_(stop)
    {
    }
    std::string operator()(const std::string &word) override
    {
        std::string w = word;
        if (fn_) {
            char buf[256];
            size_t n = fn_(word.data(), word.size(), buf, sizeof buf);
            w.assign(buf, std::min(n, sizeof buf));
        }
        if (stop_ && (*stop_)(w))
            return std::string();
        return stem_(w);
    }
    std::string get_description() const override
    {
        return "kb-fold";
    }

  private:
    xap_word_fn fn_;
    Xapian::Stem stem_;
    const Xapian::Stopper *stop_;
};

struct Facet {
    std::vector<std::pair<std::string, size_t>> values;
};

struct Hit {
    xap_hit h;
    std::string data;
    std::vector<std::pair<unsigned, std::string>> values;
};
} // namespace

struct xap_result {
    Xapian::MSet mset;
    // With feedback: an empty MSet of the query as typed, so that snippets highlight the
    // user's words and not the expand terms; made by the first snippet asked for
    Xapian::Query typed;
    mutable Xapian::MSet snip_mset;
    bool has_snip = false;
    mutable bool snip_ready = false;
    size_t lower = 0, estimate = 0, upper = 0;
    std::string desc, corrected;
    std::vector<Hit> hits;
    std::vector<Facet> facets;
};

extern "C" void xap_search_req_init(xap_search_req *req)
{
    std::memset(req, 0, sizeof *req);
    req->query = "";
    req->qp_flags = XAP_QP_DEFAULT;
    req->limit = 10;
    req->collapse_slot = -1;
    req->extra_scale = 1.0;
}

static unsigned qp_flags(unsigned f)
{
    unsigned x = 0;
    if (f & XAP_QP_BOOLEAN)
        x |= Xapian::QueryParser::FLAG_BOOLEAN;
    if (f & XAP_QP_PHRASE)
        x |= Xapian::QueryParser::FLAG_PHRASE;
    if (f & XAP_QP_LOVEHATE)
        x |= Xapian::QueryParser::FLAG_LOVEHATE;
    if (f & XAP_QP_WILDCARD)
        x |= Xapian::QueryParser::FLAG_WILDCARD;
    if (f & XAP_QP_PARTIAL)
        x |= Xapian::QueryParser::FLAG_PARTIAL;
    if (f & XAP_QP_SPELLING)
        x |= Xapian::QueryParser::FLAG_SPELLING_CORRECTION;
    if (f & XAP_QP_SYNONYM)
        x |= Xapian::QueryParser::FLAG_SYNONYM;
    if (f & XAP_QP_AUTO_SYNONYMS)
        x |= Xapian::QueryParser::FLAG_AUTO_SYNONYMS;
    if (f & XAP_QP_PURE_NOT)
        x |= Xapian::QueryParser::FLAG_PURE_NOT;
    return x;
}

static bool lang_selected(const xap_search_req *req, const std::string &code)
{
    if (!req->langs || req->n_langs == 0)
        return true;
    for (size_t i = 0; i < req->n_langs; i++)
        if (req->langs[i] && code == req->langs[i])
            return true;
    return false;
}

namespace
{
// "<concept_field>:N" -> the request's concept_terms[N], weighted and scaled.
class ConceptField : public Xapian::FieldProcessor
{
  public:
    explicit ConceptField(const xap_search_req *req) : req_(req)
    {
    }
    Xapian::Query operator()(const std::string &v) override
    {
        size_t n = 0;
        if (v.empty() || v.size() > 6 ||
            v.find_first_not_of("0123456789") != std::string::npos)
            return Xapian::Query();
        n = static_cast<size_t>(std::stoul(v));
        if (n >= req_->n_concept_terms || !req_->concept_terms[n] ||
            !*req_->concept_terms[n])
            return Xapian::Query();
        Xapian::Query t(req_->concept_terms[n]);
        double scale = req_->concept_scales ? req_->concept_scales[n] : req_->extra_scale;
        if (scale > 0 && scale != 1.0)
            t = Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, t, scale);
        return t;
    }

  private:
    const xap_search_req *req_;
};
} // namespace

static void setup_parser(Xapian::QueryParser &qp, xap_reader *r,
                         const xap_search_req *req)
{
    qp.set_database(r->db);
    qp.set_default_op(req->default_and ? Xapian::Query::OP_AND : Xapian::Query::OP_OR);
    for (size_t i = 0; i < req->n_fields; i++) {
        const xap_field &f = req->fields[i];
        if (!f.name || !f.prefix)
            continue;
        if (f.boolean)
            qp.add_boolean_prefix(f.name, f.prefix);
        else
            qp.add_prefix(f.name, f.prefix);
    }
    if (req->concept_field && *req->concept_field)
        qp.add_prefix(req->concept_field, (new ConceptField(req))->release());
    Xapian::termcount cap =
        req->max_wildcard ? static_cast<Xapian::termcount>(req->max_wildcard) : 0;
    qp.set_max_expansion(cap, Xapian::Query::WILDCARD_LIMIT_ERROR,
                         Xapian::QueryParser::FLAG_WILDCARD);
    qp.set_max_expansion(cap ? cap : 100, Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT,
                         Xapian::QueryParser::FLAG_PARTIAL);
}

// Is `q` a plain OR of words (terms, wildcards, weighted terms, and phrases or NEAR
// among other alternatives), which extra terms may join without letting in what the
// query as typed leaves out? An AND, a NOT, a filter, a boolean "field:value" term (which
// the parser wraps in a zero weight), or a phrase or NEAR on its own is not.
static bool disjunctive(const Xapian::Query &q, bool top = true)
{
    switch (q.get_type()) {
    case Xapian::Query::LEAF_TERM:
    case Xapian::Query::OP_WILDCARD:
        return true;
    case Xapian::Query::OP_PHRASE:
    case Xapian::Query::OP_NEAR:
        return !top;
    case Xapian::Query::OP_OR:
    case Xapian::Query::OP_SYNONYM:
    case Xapian::Query::OP_MAX:
        top = false;
        break;
    case Xapian::Query::OP_SCALE_WEIGHT:
        if (q.get_description().compare(0, 9, "Query(0 *") == 0)
            return false;
        break;
    default:
        return false;
    }
    for (size_t i = 0; i < q.get_num_subqueries(); i++)
        if (!disjunctive(q.get_subquery(i), top))
            return false;
    return true;
}

// `q` widened by `ex` inside its filters and NOTs: FILTER and AND_NOT keep their
// restricting operands, and `ex` is ORed into the positive one when that is a plain OR
// of words; otherwise (or when `may_add` is false) `ex` only re-ranks it
// (OP_AND_MAYBE), so the expansion never lets in a document that the query as typed
// leaves out.
static Xapian::Query widen(const Xapian::Query &q, const Xapian::Query &ex, bool may_add)
{
    Xapian::Query::op t = q.get_type();
    if ((t == Xapian::Query::OP_FILTER || t == Xapian::Query::OP_AND_NOT) &&
        q.get_num_subqueries() >= 2) {
        std::vector<Xapian::Query> subs;
        subs.push_back(widen(q.get_subquery(0), ex, may_add));
        for (size_t i = 1; i < q.get_num_subqueries(); i++)
            subs.push_back(q.get_subquery(i));
        return Xapian::Query(t, subs.begin(), subs.end());
    }
    if (may_add && disjunctive(q))
        return Xapian::Query(Xapian::Query::OP_OR, q, ex);
    return Xapian::Query(Xapian::Query::OP_AND_MAYBE, q, ex);
}

// The thesaurus terms of a request as one weighted query (empty when none).
static Xapian::Query extra_query(const xap_search_req *req)
{
    std::vector<Xapian::Query> extra;
    for (size_t i = 0; i < req->n_extra; i++)
        if (req->extra_terms && req->extra_terms[i] && *req->extra_terms[i])
            extra.emplace_back(req->extra_terms[i]);
    if (extra.empty())
        return Xapian::Query();
    Xapian::Query ex(Xapian::Query::OP_OR, extra.begin(), extra.end());
    if (req->extra_scale > 0 && req->extra_scale != 1.0)
        ex = Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, ex, req->extra_scale);
    return ex;
}

// Distinct words (unprefixed terms) of a parsed query.
static size_t count_words(const Xapian::Query &q)
{
    size_t n = 0;
    for (Xapian::TermIterator t = q.get_unique_terms_begin();
         t != q.get_unique_terms_end(); ++t) {
        const std::string &w = *t;
        if (!w.empty() && (w[0] == 'Z' ? w.size() > 1 && w[1] >= 'a' && w[1] <= 'z'
                                       : !(w[0] >= 'A' && w[0] <= 'Z')))
            n++;
    }
    return n;
}

namespace
{
// A word that either stop list holds: a branch's own, or the query language's.
class EitherStopper : public Xapian::Stopper
{
  public:
    EitherStopper(const Xapian::SimpleStopper *a, const Xapian::SimpleStopper *b)
        : a_(a), b_(b)
    {
    }
    bool operator()(const std::string &w) const override
    {
        return (a_ && (*a_)(w)) || (b_ && (*b_)(w));
    }

  private:
    const Xapian::SimpleStopper *a_, *b_;
};
} // namespace

// The language a query is written in, told by its function words: the one whose stop
// list alone holds at least two of the query's distinct words, and more of them than any
// other list alone holds (a word on several lists, such as "a" or "in", tells nothing).
// NULL when none stands out, as for a few content words ("electric car", "AI battery").
static const Lang *query_language(xap_reader *r, const xap_search_req *req, const char *q,
                                  unsigned flags)
{
    Xapian::QueryParser qp; // no stemmer and no stop list: the words as typed
    setup_parser(qp, r, req);
    Xapian::Query plain = qp.parse_query(
        q, flags & ~static_cast<unsigned>(Xapian::QueryParser::FLAG_SPELLING_CORRECTION));
    std::vector<size_t> own(r->langs.size(), 0);
    for (Xapian::TermIterator t = plain.get_unique_terms_begin();
         t != plain.get_unique_terms_end(); ++t) {
        const std::string &w = *t;
        if (w.empty() || (w[0] >= 'A' && w[0] <= 'Z'))
            continue; // a field's or a filter's term
        size_t lists = 0, which = 0;
        for (size_t i = 0; i < r->langs.size(); i++)
            if (r->langs[i].a->has_stop && r->langs[i].a->stopper(w)) {
                lists++;
                which = i;
            }
        if (lists == 1)
            own[which]++;
    }
    size_t best = 0, second = 0;
    const Lang *lang = nullptr;
    for (size_t i = 0; i < own.size(); i++) {
        if (own[i] > best) {
            second = best;
            best = own[i];
            lang = &r->langs[i];
        } else if (own[i] > second) {
            second = own[i];
        }
    }
    return best >= 2 && best > second ? lang : nullptr;
}

// The user's query: one parse per language branch, each restricted to its language, with
// the thesaurus terms `ex` (may be empty) widening each branch inside its filters.
// Each branch drops its language's stop words and those of the language the query is
// written in: English function words are not stop words for French, but "the" and "of"
// typed in an English query say nothing about a French brief (and, rare among French
// words, they would rank one that quotes an English title first).
// *words: distinct words of the first branch.
static Xapian::Query parse_user_query(xap_reader *r, const xap_search_req *req,
                                      unsigned flags, const Xapian::Query &ex,
                                      std::string &corrected, size_t *words)
{
    const char *q = req->query ? req->query : "";
    *words = 0;
    if (!*q) // a new match-all query: the static Query::MatchAll has a plain, not atomic,
             // reference count, and worker threads copying it at once corrupted it
             // (a crash in Enquire::set_query under concurrent suggest)
        return Xapian::Query(std::string());
    std::vector<Xapian::Query> branches;
    bool spelled = false;
    const Lang *typed_in =
        r->langs.size() > 1 ? query_language(r, req, q, flags) : nullptr;
    for (const Lang &l : r->langs) {
        if (!lang_selected(req, l.code))
            continue;
        EitherStopper stop(l.a->has_stop ? &l.a->stopper : nullptr,
                           typed_in && typed_in != &l && typed_in->a->has_stop
                               ? &typed_in->a->stopper
                               : nullptr);
        Xapian::QueryParser qp;
        setup_parser(qp, r, req);
        qp.set_stemmer(l.a->stem);
        qp.set_stopper(&stop);
        qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
        unsigned f = flags;
        if (spelled)
            f &= ~static_cast<unsigned>(Xapian::QueryParser::FLAG_SPELLING_CORRECTION);
        Xapian::Query parsed = qp.parse_query(q, f);
        if (!spelled && (f & Xapian::QueryParser::FLAG_SPELLING_CORRECTION))
            corrected = qp.get_corrected_query_string();
        if (branches.empty())
            *words = count_words(parsed);
        spelled = true;
        if (!ex.empty())
            parsed = widen(parsed, ex, true);
        branches.emplace_back(Xapian::Query::OP_FILTER, parsed,
                              Xapian::Query("L" + l.code));
    }
    if (branches.empty()) {
        Xapian::QueryParser qp;
        setup_parser(qp, r, req);
        Xapian::Query parsed = qp.parse_query(q, flags);
        if (flags & Xapian::QueryParser::FLAG_SPELLING_CORRECTION)
            corrected = qp.get_corrected_query_string();
        *words = count_words(parsed);
        return ex.empty() ? parsed : widen(parsed, ex, true);
    }
    return Xapian::Query(Xapian::Query::OP_OR, branches.begin(), branches.end());
}

// Filters, ranges and exclusions around a query.
static Xapian::Query restrict_query(Xapian::Query q, const xap_search_req *req)
{
    std::vector<Xapian::Query> filters;
    for (size_t g = 0; g < req->n_filters; g++) {
        const xap_term_group &grp = req->filters[g];
        std::vector<Xapian::Query> terms;
        for (size_t i = 0; i < grp.n; i++)
            if (grp.terms[i])
                terms.emplace_back(grp.terms[i]);
        if (terms.empty())
            continue;
        filters.emplace_back(Xapian::Query::OP_OR, terms.begin(), terms.end());
    }
    for (size_t i = 0; i < req->n_ranges; i++) {
        const xap_range &rg = req->ranges[i];
        std::string lo = Xapian::sortable_serialise(rg.lo),
                    hi = Xapian::sortable_serialise(rg.hi);
        if (rg.has_lo && rg.has_hi)
            filters.emplace_back(Xapian::Query::OP_VALUE_RANGE, rg.slot, lo, hi);
        else if (rg.has_lo)
            filters.emplace_back(Xapian::Query::OP_VALUE_GE, rg.slot, lo);
        else if (rg.has_hi)
            filters.emplace_back(Xapian::Query::OP_VALUE_LE, rg.slot, hi);
    }
    if (!filters.empty())
        q = Xapian::Query(
            Xapian::Query::OP_FILTER, q,
            Xapian::Query(Xapian::Query::OP_AND, filters.begin(), filters.end()));
    if (req->n_exclude) {
        std::vector<Xapian::Query> ex;
        for (size_t i = 0; i < req->n_exclude; i++)
            if (req->exclude_uids[i] && *req->exclude_uids[i])
                ex.emplace_back(
                    uid_term(req->exclude_uids[i], std::strlen(req->exclude_uids[i])));
        if (!ex.empty())
            q = Xapian::Query(Xapian::Query::OP_AND_NOT, q,
                              Xapian::Query(Xapian::Query::OP_OR, ex.begin(), ex.end()));
    }
    return q;
}

// The weighting scheme a request asks for.
static void set_weighting(Xapian::Enquire &enq, const xap_search_req *req)
{
    if (req->weighting == XAP_WEIGHT_BB2)
        enq.set_weighting_scheme(Xapian::BB2Weight(req->bb2_c > 0 ? req->bb2_c : 1.0));
    else if (req->bm25_k1 > 0 || req->bm25_b > 0)
        enq.set_weighting_scheme(
            Xapian::BM25Weight(req->bm25_k1 > 0 ? req->bm25_k1 : 1.0, 0, 1,
                               req->bm25_b > 0 ? req->bm25_b : 0.5, 0.5));
}

namespace
{
// Feedback terms: stemmed words of the body namespace ("Z" + a lower-case letter), and
// terms under `also` (the caller's language-neutral concepts; empty: none).
class FeedbackDecider : public Xapian::ExpandDecider
{
  public:
    explicit FeedbackDecider(const char *also) : also_(also ? also : "")
    {
    }
    bool operator()(const std::string &t) const override
    {
        if (!also_.empty() && t.size() > also_.size() &&
            t.compare(0, also_.size(), also_) == 0)
            return true;
        return t.size() > 3 && t[0] == 'Z' && t[1] >= 'a' && t[1] <= 'z';
    }

  private:
    std::string also_;
};
} // namespace

// Pseudo-relevance feedback (see xap_search_req): `q` re-weighted by a relevance model
// of the first pass's top documents (Lavrenko and Croft's RM1, as RM3 uses it), or `q`
// unchanged when there is nothing to add. Against Xapian's ESet it weighs words by how
// much of the top documents they make up, not by how rare they are, and a word in one
// document of three no longer outweighs the topic's words (bench/relevance/README.md).
static Xapian::Query expand_query(xap_reader *r, const Xapian::Query &q,
                                  const xap_search_req *req)
{
    Xapian::Enquire enq(r->db);
    enq.set_query(restrict_query(q, req));
    set_weighting(enq, req);
    Xapian::MSet top = enq.get_mset(0, static_cast<Xapian::doccount>(req->feedback_docs));
    double total = 0;
    for (Xapian::MSetIterator m = top.begin(); m != top.end(); ++m)
        total += m.get_weight();
    if (top.empty() || total <= 0)
        return q;
    // P(w | R) = sum over the top documents d of P(w | d) * score(d) / sum of scores;
    // concepts count as words, so that the model also lifts briefs on the same topic in
    // another language (stemmed words only lift their own language)
    FeedbackDecider decider(req->feedback_prefix);
    std::map<std::string, double> model;
    std::vector<std::pair<std::string, Xapian::termcount>> words;
    for (Xapian::MSetIterator m = top.begin(); m != top.end(); ++m) {
        words.clear();
        double len = 0;
        for (Xapian::TermIterator t = r->db.termlist_begin(*m);
             t != r->db.termlist_end(*m); ++t)
            if (decider(*t)) {
                words.emplace_back(*t, t.get_wdf());
                len += t.get_wdf();
            }
        for (const auto &w : words)
            model[w.first] += (m.get_weight() / total) * (w.second / len);
    }
    std::vector<std::pair<double, const std::string *>> ranked;
    for (const auto &kv : model)
        ranked.emplace_back(kv.second, &kv.first);
    std::sort(ranked.begin(), ranked.end(),
              [](const std::pair<double, const std::string *> &a,
                 const std::pair<double, const std::string *> &b) {
                  return a.first != b.first ? a.first > b.first : *a.second < *b.second;
              });
    // a word in a large share of the documents says little about the topic (and a
    // model without idf would pick "vehicle" for every query of our corpus)
    double max_df = req->feedback_max_df > 0 ? req->feedback_max_df : 0.2;
    double max_freq = max_df * r->db.get_doccount();
    size_t want = req->feedback_terms ? req->feedback_terms : 40;
    std::vector<Xapian::Query> terms;
    double best = 0;
    for (const auto &c : ranked) {
        if (terms.size() >= want)
            break;
        if (r->db.get_termfreq(*c.second) > max_freq)
            continue;
        if (best <= 0)
            best = c.first;
        terms.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(*c.second),
                           c.first / best);
    }
    if (terms.empty())
        return q;
    Xapian::Query ex(Xapian::Query::OP_OR, terms.begin(), terms.end());
    double w = req->feedback_weight > 0 ? req->feedback_weight : 0.4;
    // AND_MAYBE: the expand terms only re-rank what the query matches, so fields,
    // filters and NOT in the query keep their meaning and the totals do not change
    return Xapian::Query(Xapian::Query::OP_AND_MAYBE, q,
                         Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, ex, w));
}

// `q` with documents indexing req->boost_term lifted by boost_share of q's top score
// (a fixed weight filtered by the term, AND_MAYBE: it only re-ranks q's matches).
static Xapian::Query boost_query(xap_reader *r, const Xapian::Query &q,
                                 const xap_search_req *req)
{
    Xapian::Enquire enq(r->db);
    enq.set_query(q);
    set_weighting(enq, req);
    Xapian::MSet top = enq.get_mset(0, 1);
    double w = top.empty() ? 0 : top.begin().get_weight() * req->boost_share;
    if (w <= 0)
        return q;
    Xapian::Query fixed((new Xapian::FixedWeightPostingSource(w))->release());
    return Xapian::Query(
        Xapian::Query::OP_AND_MAYBE, q,
        Xapian::Query(Xapian::Query::OP_FILTER, fixed, Xapian::Query(req->boost_term)));
}

// The first term of document `did` under `prefix` (and longer than it), or "".
static std::string first_term(xap_reader *r, Xapian::docid did, const std::string &prefix)
{
    Xapian::TermIterator t = r->db.termlist_begin(did);
    t.skip_to(prefix);
    if (t == r->db.termlist_end(did) || (*t).size() <= prefix.size() ||
        (*t).compare(0, prefix.size(), prefix) != 0)
        return std::string();
    return *t;
}

// `q` with the versions of the top documents' groups lifted next to them (see
// xap_search_req.group_prefix): the best document of each group among the top
// group_docs is its leader; every other version that `q` matches gains a fixed weight
// that closes group_share of the gap between its score and the leader's, less a hair per
// version so that, at share 1, the versions follow their leader in their own order. The
// leaders keep their scores, so a document gains nothing for having translations.
static Xapian::Query group_query(xap_reader *r, const Xapian::Query &q,
                                 const xap_search_req *req)
{
    const std::string prefix(req->group_prefix);
    if (r->db.allterms_begin(prefix) == r->db.allterms_end(prefix))
        return q; // no document declares its versions: skip the passes
    Xapian::Enquire enq(r->db);
    enq.set_query(q);
    set_weighting(enq, req);
    Xapian::MSet top = enq.get_mset(
        0, static_cast<Xapian::doccount>(req->group_docs ? req->group_docs : 3));
    struct Leader {
        Xapian::docid did;
        double score;
        size_t lifted;
    };
    std::map<std::string, Leader> leaders;
    std::vector<Xapian::Query> groups;
    for (Xapian::MSetIterator m = top.begin(); m != top.end(); ++m) {
        std::string g = first_term(r, *m, prefix);
        if (!g.empty() && leaders.find(g) == leaders.end() && m.get_weight() > 0) {
            leaders[g] = Leader{*m, m.get_weight(), 0};
            groups.emplace_back(g);
        }
    }
    if (groups.empty())
        return q;
    // the versions that q matches, best first, with their own scores
    enq.set_query(
        Xapian::Query(Xapian::Query::OP_FILTER, q,
                      Xapian::Query(Xapian::Query::OP_OR, groups.begin(), groups.end())));
    Xapian::MSet versions = enq.get_mset(0, 100);
    std::vector<Xapian::Query> lifts;
    for (Xapian::MSetIterator m = versions.begin(); m != versions.end(); ++m) {
        auto l = leaders.find(first_term(r, *m, prefix));
        if (l == leaders.end() || l->second.did == *m)
            continue;
        Leader &lead = l->second;
        double gap = lead.score - m.get_weight();
        double w = req->group_share * gap - lead.score * 1e-6 * double(++lead.lifted);
        std::string uid = first_term(r, *m, "Q");
        if (w <= 0 || uid.empty())
            continue;
        Xapian::Query fixed((new Xapian::FixedWeightPostingSource(w))->release());
        lifts.emplace_back(Xapian::Query::OP_FILTER, fixed, Xapian::Query(uid));
    }
    if (lifts.empty())
        return q;
    return Xapian::Query(Xapian::Query::OP_AND_MAYBE, q,
                         Xapian::Query(Xapian::Query::OP_OR, lifts.begin(), lifts.end()));
}

// Runs `q` and copies everything the caller reads into a new result.
static xap_result *run_query(xap_reader *r, const Xapian::Query &q,
                             const xap_search_req *req, std::string corrected)
{
    Xapian::Enquire enq(r->db);
    enq.set_query(q);
    set_weighting(enq, req);
    if (req->sort == XAP_SORT_VALUE_ASC)
        enq.set_sort_by_value_then_relevance(req->sort_slot, false);
    else if (req->sort == XAP_SORT_VALUE_DESC)
        enq.set_sort_by_value_then_relevance(req->sort_slot, true);
    if (req->collapse_slot >= 0)
        enq.set_collapse_key(static_cast<Xapian::valueno>(req->collapse_slot));
    if (req->time_limit > 0)
        enq.set_time_limit(req->time_limit);

    std::vector<std::unique_ptr<Xapian::ValueCountMatchSpy>> single;
    std::vector<std::unique_ptr<MultiValueSpy>> multi;
    std::vector<std::pair<int, size_t>> spy_of; // (kind, index) per facet
    for (size_t f = 0; f < req->n_facets; f++) {
        if (req->facets[f].sep) {
            multi.emplace_back(
                new MultiValueSpy(req->facets[f].slot, req->facets[f].sep));
            enq.add_matchspy(multi.back().get());
            spy_of.emplace_back(1, multi.size() - 1);
        } else {
            single.emplace_back(new Xapian::ValueCountMatchSpy(req->facets[f].slot));
            enq.add_matchspy(single.back().get());
            spy_of.emplace_back(0, single.size() - 1);
        }
    }

    Xapian::doccount check =
        static_cast<Xapian::doccount>(std::min<size_t>(req->check_at_least, 0xffffffffu));
    std::unique_ptr<xap_result> res(new xap_result);
    res->mset = enq.get_mset(static_cast<Xapian::doccount>(req->offset),
                             static_cast<Xapian::doccount>(req->limit), check);
    res->lower = res->mset.get_matches_lower_bound();
    res->estimate = res->mset.get_matches_estimated();
    res->upper = res->mset.get_matches_upper_bound();
    res->desc = q.get_description();
    res->corrected = std::move(corrected);
    // MSet::fetch() with no arguments segfaulted in Enquire::Internal::request_doc for
    // every get_mset with offset > 0 (seen with 1.4.22, paging in /api/v1/search); the
    // iterator form fetches the same page and does not.
    if (res->mset.size())
        res->mset.fetch(res->mset.begin(), res->mset.end());
    // only the values asked for: reading every slot of every hit cost ~7 % of a search
    std::vector<unsigned> slots;
    for (size_t f = 0; f < req->n_facets; f++)
        slots.push_back(req->facets[f].slot);
    if (req->sort != XAP_SORT_RELEVANCE)
        slots.push_back(req->sort_slot);
    for (Xapian::MSetIterator m = res->mset.begin(); m != res->mset.end(); ++m) {
        Hit hit;
        Xapian::Document doc = m.get_document();
        hit.data = doc.get_data();
        for (unsigned slot : slots) {
            std::string v = doc.get_value(slot);
            if (!v.empty())
                hit.values.emplace_back(slot, std::move(v));
        }
        hit.h.docid = *m;
        hit.h.weight = m.get_weight();
        hit.h.collapsed = m.get_collapse_count();
        res->hits.push_back(std::move(hit));
    }
    for (Hit &h : res->hits) {
        h.h.data = h.data.data();
        h.h.data_len = h.data.size();
    }
    for (auto &s : spy_of) {
        Facet fc;
        if (s.first == 0) {
            auto &spy = *single[s.second];
            for (Xapian::TermIterator t = spy.values_begin(); t != spy.values_end(); ++t)
                fc.values.emplace_back(*t, t.get_termfreq());
        } else {
            for (auto &kv : multi[s.second]->counts)
                fc.values.emplace_back(kv.first, kv.second);
        }
        std::stable_sort(
            fc.values.begin(), fc.values.end(),
            [](const std::pair<std::string, size_t> &a,
               const std::pair<std::string, size_t> &b) { return a.second > b.second; });
        res->facets.push_back(std::move(fc));
    }
    return res.release();
}

extern "C" int xap_search(xap_reader *r, const xap_search_req *req, xap_result **out,
                          xap_error *err)
{
    if (!r || !req || !out)
        return bad_arg(err, "xap_search: NULL argument");
    try {
        const unsigned spell = Xapian::QueryParser::FLAG_SPELLING_CORRECTION;
        unsigned flags = qp_flags(req->qp_flags);
        // the correction costs a spelling-table walk per word: put it off until the
        // match shows whether it can matter
        bool spell_later = (flags & spell) && req->spelling_below > 0;
        if (spell_later)
            flags &= ~spell;
        bool typed_query = req->query && *req->query;
        Xapian::Query ex = typed_query ? extra_query(req) : Xapian::Query();
        std::string corrected;
        size_t words = 0;
        Xapian::Query q = parse_user_query(r, req, flags, ex, corrected, &words);
        if (req->alt && req->alt->query && *req->alt->query && typed_query) {
            // the corrected query, weighed below the query as typed
            std::string unused;
            size_t alt_words = 0;
            Xapian::Query alt =
                parse_user_query(r, req->alt, qp_flags(req->alt->qp_flags),
                                 extra_query(req->alt), unused, &alt_words);
            double s = req->alt_scale > 0 && req->alt_scale <= 1 ? req->alt_scale : 1.0;
            if (s != 1.0)
                alt = Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, alt, s);
            q = Xapian::Query(Xapian::Query::OP_OR, q, alt);
            words = std::max(words, alt_words);
        }
        Xapian::Query typed = restrict_query(q, req);
        bool expanded = false;
        if (req->feedback_docs && req->sort == XAP_SORT_RELEVANCE && typed_query &&
            words >= req->feedback_min_words) {
            Xapian::Query fb = expand_query(r, q, req);
            expanded = fb.get_description() != q.get_description();
            q = fb;
        }
        q = expanded ? restrict_query(q, req) : typed;
        if (req->boost_term && *req->boost_term && req->boost_share > 0 &&
            req->sort == XAP_SORT_RELEVANCE && typed_query)
            q = boost_query(r, q, req);
        if (req->group_prefix && *req->group_prefix && req->group_share > 0 &&
            req->sort == XAP_SORT_RELEVANCE && typed_query)
            q = group_query(r, q, req);
        std::unique_ptr<xap_result> res(run_query(r, q, req, corrected));
        if (spell_later && res->estimate < req->spelling_below) {
            std::string c;
            size_t n;
            parse_user_query(r, req, flags | spell, Xapian::Query(), c, &n);
            res->corrected = c;
        }
        if (expanded) {
            res->typed = typed;
            res->has_snip = true;
        }
        *out = res.release();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

namespace
{
// Expand terms worth a "more like this" query: stems and concepts, not ids or filters.
class MltDecider : public Xapian::ExpandDecider
{
  public:
    bool operator()(const std::string &t) const override
    {
        if (t.size() < 4)
            return false;
        if (t[0] == 'Z')
            return t[1] >= 'a' && t[1] <= 'z';
        return t.compare(0, 2, "XC") == 0;
    }
};
} // namespace

extern "C" int xap_similar(xap_reader *r, const char *uid, size_t uid_len, size_t n_terms,
                           const xap_search_req *req, xap_result **out, xap_error *err)
{
    if (!r || !uid || uid_len == 0 || !req || !out)
        return bad_arg(err, "xap_similar: NULL argument");
    try {
        std::string term = uid_term(uid, uid_len);
        Xapian::PostingIterator p = r->db.postlist_begin(term);
        if (p == r->db.postlist_end(term))
            return fill_plain(err, XAP_E_NOT_FOUND, "no document with this id");
        Xapian::RSet rset;
        rset.add_document(*p);
        Xapian::Enquire enq(r->db);
        MltDecider decider;
        // A one-document RSet ranks the document's rarest words first, and a word no
        // other document has cannot find anything: ask for more, keep the shared ones.
        size_t want = n_terms ? n_terms : 40;
        Xapian::ESet eset =
            enq.get_eset(static_cast<Xapian::termcount>(want * 5), rset, &decider);
        std::vector<Xapian::Query> terms;
        for (Xapian::ESetIterator e = eset.begin();
             e != eset.end() && terms.size() < want; ++e)
            if (r->db.get_termfreq(*e) >= 2)
                terms.emplace_back(*e);
        Xapian::Query q = terms.empty() ? Xapian::Query()
                                        : Xapian::Query(Xapian::Query::OP_ELITE_SET,
                                                        terms.begin(), terms.end(), 20);
        q = Xapian::Query(Xapian::Query::OP_AND_NOT, q, Xapian::Query(term));
        q = restrict_query(q, req);
        *out = run_query(r, q, req, std::string());
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" void xap_result_free(xap_result *res)
{
    delete res;
}

extern "C" void xap_result_counts(const xap_result *res, size_t *lower, size_t *estimate,
                                  size_t *upper)
{
    if (lower)
        *lower = res ? res->lower : 0;
    if (estimate)
        *estimate = res ? res->estimate : 0;
    if (upper)
        *upper = res ? res->upper : 0;
}

extern "C" size_t xap_result_size(const xap_result *res)
{
    return res ? res->hits.size() : 0;
}

extern "C" const char *xap_result_query_desc(const xap_result *res)
{
    return res ? res->desc.c_str() : "";
}

extern "C" const char *xap_result_corrected(const xap_result *res)
{
    return res ? res->corrected.c_str() : "";
}

extern "C" int xap_result_hit(const xap_result *res, size_t i, xap_hit *out)
{
    if (!res || !out || i >= res->hits.size())
        return XAP_E_INVALID_ARG;
    *out = res->hits[i].h;
    return XAP_OK;
}

extern "C" const char *xap_result_hit_value(const xap_result *res, size_t i,
                                            unsigned slot, size_t *len)
{
    if (!res || i >= res->hits.size())
        return nullptr;
    for (const auto &v : res->hits[i].values) {
        if (v.first == slot) {
            if (len)
                *len = v.second.size();
            return v.second.c_str();
        }
    }
    return nullptr;
}

extern "C" size_t xap_result_facet_size(const xap_result *res, size_t f)
{
    if (!res || f >= res->facets.size())
        return 0;
    return res->facets[f].values.size();
}

extern "C" int xap_result_facet_value(const xap_result *res, size_t f, size_t j,
                                      const char **val, size_t *len, size_t *count)
{
    if (!res || f >= res->facets.size() || j >= res->facets[f].values.size())
        return XAP_E_INVALID_ARG;
    const auto &v = res->facets[f].values[j];
    if (val)
        *val = v.first.c_str();
    if (len)
        *len = v.first.size();
    if (count)
        *count = v.second;
    return XAP_OK;
}

extern "C" char *xap_result_snippet(const xap_result *res, xap_reader *r, xap_analyzer *a,
                                    const char *text, size_t len, size_t max_chars,
                                    const char *hi_start, const char *hi_end,
                                    int only_if_match, xap_error *err)
{
    if (!res || !text) {
        bad_arg(err, "xap_result_snippet: NULL argument");
        return nullptr;
    }
    try {
        Xapian::Stem stem(new FoldStem(r ? r->word_fn : nullptr,
                                       a ? a->stem : Xapian::Stem(),
                                       a && a->has_stop ? &a->stopper : nullptr));
        unsigned flags = 0;
        if (only_if_match)
            flags |= Xapian::MSet::SNIPPET_EMPTY_WITHOUT_MATCH;
        if (res->has_snip && !res->snip_ready && r) {
            Xapian::Enquire enq(r->db);
            enq.set_query(res->typed);
            res->snip_mset = enq.get_mset(0, 0);
            res->snip_ready = true;
        }
        const Xapian::MSet &ms = res->snip_ready ? res->snip_mset : res->mset;
        std::string s =
            ms.snippet(std::string(text, len), max_chars ? max_chars : 300, stem, flags,
                       hi_start ? hi_start : "<mark>", hi_end ? hi_end : "</mark>", "…");
        char *p = dup_bytes(s);
        if (!p)
            fill_plain(err, XAP_E_NOMEM, "out of memory");
        return p;
    } catch (...) {
        fail(err);
        return nullptr;
    }
}

extern "C" size_t xap_sortable_serialise(double v, char *buf, size_t cap)
{
    try {
        std::string s = Xapian::sortable_serialise(v);
        size_t n = std::min(s.size(), cap);
        std::memcpy(buf, s.data(), n);
        return n;
    } catch (...) {
        return 0;
    }
}

extern "C" double xap_sortable_unserialise(const char *buf, size_t len)
{
    try {
        return Xapian::sortable_unserialise(std::string(buf, len));
    } catch (...) {
        return 0.0;
    }
}
