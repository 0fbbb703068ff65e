// SPDX-License-Identifier: MIT
//
// doc.cc - documents being built (xap_doc), and the sortable encoding of numbers
// for value slots.

#include "internal.h"

#include <algorithm>
#include <cstring>

// ------------------------------------------------------------------------------------
// Documents

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
