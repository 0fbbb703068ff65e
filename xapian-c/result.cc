// SPDX-License-Identifier: MIT
//
// result.cc - reading a search result (xap_result): counts, hits, facets, and snippets
// highlighted for the result's query.

#include "internal.h"

#include <algorithm>
#include <string>

namespace
{
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

} // namespace

extern "C" void xap_result_free(xap_result *res)
{
    delete res;
}

extern "C" int xap_result_set_corrected(xap_result *res, const char *corrected,
                                        xap_error *err)
{
    if (!res)
        return bad_arg(err, "xap_result_set_corrected: NULL result");
    try {
        res->corrected = corrected ? corrected : "";
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_result_set_snippet_query(xap_result *res, const xap_query *q,
                                            xap_error *err)
{
    if (!res)
        return bad_arg(err, "xap_result_set_snippet_query: NULL result");
    try {
        res->has_snip = q != nullptr;
        res->snip_ready = false;
        res->typed = q ? q->q : Xapian::Query();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
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
    if (!res)
        return "";
    if (!res->desc_ready) {
        try {
            res->desc = res->query.get_description();
        } catch (...) {
            res->desc.clear();
        }
        res->desc_ready = true;
    }
    return res->desc.c_str();
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
