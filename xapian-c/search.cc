// SPDX-License-Identifier: MIT
//
// search.cc - xap_search and xap_similar: a request parsed per language branch, widened,
// re-ranked and run.

#include "internal.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

} // namespace

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
