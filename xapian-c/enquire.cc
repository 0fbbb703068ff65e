// SPDX-License-Identifier: MIT
//
// enquire.cc - running a query (Xapian's Enquire and MSet) with the ranking model,
// order, collapsing, facet counts and limits the caller gives, into a xap_result.

#include "internal.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace
{
// Adds the counts of a slot holding several values separated by `sep` (e.g. topics),
// counted by a ValueCountMatchSpy as whole strings, to each of the values: exact, and
// built into Xapian, so that it also runs on remote shards.
void split_counts(Xapian::ValueCountMatchSpy &spy, char sep,
                  std::map<std::string, size_t> &counts)
{
    for (Xapian::TermIterator t = spy.values_begin(); t != spy.values_end(); ++t) {
        const std::string v = *t;
        size_t start = 0;
        while (start < v.size()) {
            size_t end = v.find(sep, start);
            if (end == std::string::npos)
                end = v.size();
            if (end > start)
                counts[v.substr(start, end - start)] += t.get_termfreq();
            start = end + 1;
        }
    }
}
} // namespace

extern "C" void xap_enquire_opts_init(xap_enquire_opts *o)
{
    *o = xap_enquire_opts();
    o->weighting = XAP_WEIGHT_BM25;
    o->sort = XAP_SORT_RELEVANCE;
    o->collapse_slot = -1;
    o->data_slot = -1;
}

// The weighting scheme the options ask for.
static void set_weighting(Xapian::Enquire &enq, const xap_enquire_opts *o)
{
    if (o->weighting == XAP_WEIGHT_BB2)
        enq.set_weighting_scheme(Xapian::BB2Weight(o->bb2_c > 0 ? o->bb2_c : 1.0));
    else if (o->bm25_k1 > 0 || o->bm25_b > 0)
        enq.set_weighting_scheme(Xapian::BM25Weight(o->bm25_k1 > 0 ? o->bm25_k1 : 1.0, 0,
                                                    1, o->bm25_b > 0 ? o->bm25_b : 0.5,
                                                    0.5));
}

extern "C" int xap_enquire_run(xap_reader *r, const xap_query *qh,
                               const xap_enquire_opts *o, size_t offset, size_t limit,
                               xap_result **out, xap_error *err)
{
    if (!r || !qh || !o || !out || (o->n_facets && !o->facets))
        return bad_arg(err, "xap_enquire_run: NULL argument");
    try {
        const Xapian::Query &q = qh->q;
        Xapian::Enquire enq(r->db);
        enq.set_query(q);
        set_weighting(enq, o);
        if (o->sort == XAP_SORT_VALUE_ASC)
            enq.set_sort_by_value_then_relevance(o->sort_slot, false);
        else if (o->sort == XAP_SORT_VALUE_DESC)
            enq.set_sort_by_value_then_relevance(o->sort_slot, true);
        if (o->collapse_slot >= 0)
            enq.set_collapse_key(static_cast<Xapian::valueno>(o->collapse_slot));
        if (o->time_limit > 0)
            enq.set_time_limit(o->time_limit);

        std::vector<std::unique_ptr<Xapian::ValueCountMatchSpy>> spies;
        for (size_t f = 0; f < o->n_facets; f++) {
            spies.emplace_back(new Xapian::ValueCountMatchSpy(o->facets[f].slot));
            enq.add_matchspy(spies.back().get());
        }
        // Over two remote shards or more, Xapian's collapse counts are wrong (each
        // shard collapses on its own): the documents of each collapse key are counted
        // by a spy instead (the hit itself plus those collapsed into it).
        std::unique_ptr<Xapian::ValueCountMatchSpy> keys;
        if (o->collapse_slot >= 0 && r->n_remote >= 2) {
            keys.reset(new Xapian::ValueCountMatchSpy(
                static_cast<Xapian::valueno>(o->collapse_slot)));
            enq.add_matchspy(keys.get());
        }

        Xapian::doccount check = static_cast<Xapian::doccount>(
            std::min<size_t>(o->check_at_least, 0xffffffffu));
        std::unique_ptr<xap_result> res(new xap_result);
        res->mset = enq.get_mset(static_cast<Xapian::doccount>(offset),
                                 static_cast<Xapian::doccount>(limit), check);
        res->lower = res->mset.get_matches_lower_bound();
        res->estimate = res->mset.get_matches_estimated();
        res->upper = res->mset.get_matches_upper_bound();
        res->query = q; // described only when asked (xap_result_query_desc)
        std::map<std::string, size_t> key_count;
        if (keys)
            for (Xapian::TermIterator t = keys->values_begin(); t != keys->values_end();
                 ++t)
                key_count[*t] = t.get_termfreq();
        auto collapsed = [&](const Xapian::MSetIterator &m) -> unsigned {
            if (!keys)
                return m.get_collapse_count();
            auto k = key_count.find(m.get_collapse_key());
            return k == key_count.end() || k->second == 0
                       ? 0
                       : static_cast<unsigned>(k->second - 1);
        };
        if (o->ids_only) {
            for (Xapian::MSetIterator m = res->mset.begin(); m != res->mset.end(); ++m) {
                Hit hit;
                hit.h.docid = *m;
                hit.h.weight = m.get_weight();
                hit.h.collapsed = collapsed(m);
                hit.h.data = "";
                hit.h.data_len = 0;
                res->hits.push_back(std::move(hit));
            }
        } else {
            // MSet::fetch() with no arguments segfaulted in
            // Enquire::Internal::request_doc for every get_mset with offset > 0 (seen
            // with 1.4.22, paging in /api/v1/search); the iterator form fetches the same
            // page and does not.
            if (res->mset.size())
                res->mset.fetch(res->mset.begin(), res->mset.end());
            // only the values asked for: reading every slot of every hit cost ~7 % of a
            // search
            std::vector<unsigned> slots;
            for (size_t f = 0; f < o->n_facets; f++)
                slots.push_back(o->facets[f].slot);
            if (o->sort != XAP_SORT_RELEVANCE)
                slots.push_back(o->sort_slot);
            for (Xapian::MSetIterator m = res->mset.begin(); m != res->mset.end(); ++m) {
                Hit hit;
                Xapian::Document doc = m.get_document();
                if (o->data_slot >= 0)
                    hit.data = doc.get_value(static_cast<unsigned>(o->data_slot));
                if (hit.data.empty()) { // no slot asked, or a document stored before it
                    hit.data = doc.get_data();
                    xap_data_reads++;
                }
                for (unsigned slot : slots) {
                    std::string v = doc.get_value(slot);
                    if (!v.empty())
                        hit.values.emplace_back(slot, std::move(v));
                }
                hit.h.docid = *m;
                hit.h.weight = m.get_weight();
                hit.h.collapsed = collapsed(m);
                res->hits.push_back(std::move(hit));
            }
            for (Hit &h : res->hits) {
                h.h.data = h.data.data();
                h.h.data_len = h.data.size();
            }
        }
        for (size_t f = 0; f < o->n_facets; f++) {
            Facet fc;
            auto &spy = *spies[f];
            if (!o->facets[f].sep) {
                for (Xapian::TermIterator t = spy.values_begin(); t != spy.values_end();
                     ++t)
                    fc.values.emplace_back(*t, t.get_termfreq());
            } else {
                std::map<std::string, size_t> counts;
                split_counts(spy, o->facets[f].sep, counts);
                for (auto &kv : counts)
                    fc.values.emplace_back(kv.first, kv.second);
            }
            std::stable_sort(fc.values.begin(), fc.values.end(),
                             [](const std::pair<std::string, size_t> &a,
                                const std::pair<std::string, size_t> &b) {
                                 return a.second > b.second;
                             });
            res->facets.push_back(std::move(fc));
        }
        *out = res.release();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}
