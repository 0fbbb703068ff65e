// SPDX-License-Identifier: MIT
//
// writer.cc - the writable database (xap_writer): documents by unique id, transactions,
// metadata, synonyms, spelling, compaction.

#include "internal.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

// ------------------------------------------------------------------------------------
// Writer

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

extern "C" int xap_writer_replace(xap_writer *w, const char *id_term, size_t id_len,
                                  xap_doc *d, unsigned *docid, xap_error *err)
{
    if (!w || !id_term || id_len == 0 || !d)
        return bad_arg(err, "xap_writer_replace: empty id term or NULL argument");
    try {
        std::string term(id_term, id_len);
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
                                            xap_word_pred is_word, xap_error *err)
{
    if (!w || !d || !is_word)
        return bad_arg(err, "xap_writer_add_doc_spellings: NULL argument");
    try {
        for (Xapian::TermIterator t = d->doc.termlist_begin(); t != d->doc.termlist_end();
             ++t) {
            const std::string &term = *t;
            if (!is_word(term.data(), term.size()))
                continue;
            w->db.add_spelling(term, t.get_wdf() ? t.get_wdf() : 1);
        }
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_writer_lookup(xap_writer *w, const char *id_term, size_t id_len,
                                 unsigned *docid, xap_error *err)
{
    if (!w || !id_term || id_len == 0)
        return bad_arg(err, "xap_writer_lookup: empty id term");
    try {
        std::string term(id_term, id_len);
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

extern "C" int xap_writer_delete(xap_writer *w, const char *id_term, size_t id_len,
                                 xap_error *err)
{
    if (!w || !id_term || id_len == 0)
        return bad_arg(err, "xap_writer_delete: empty id term");
    try {
        std::string term(id_term, id_len);
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

extern "C" int xap_writer_for_each_id(xap_writer *w, const char *prefix, xap_id_fn fn,
                                      void *ctx, xap_error *err)
{
    if (!w || !prefix || !fn)
        return bad_arg(err, "xap_writer_for_each_id: NULL argument");
    try {
        const std::string pfx(prefix);
        for (Xapian::TermIterator t = w->db.allterms_begin(pfx);
             t != w->db.allterms_end(pfx); ++t) {
            std::string term = *t;
            Xapian::PostingIterator p = w->db.postlist_begin(term);
            if (p == w->db.postlist_end(term))
                continue;
            int rc = fn(term.data() + pfx.size(), term.size() - pfx.size(), *p, ctx);
            if (rc)
                return rc;
        }
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
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
