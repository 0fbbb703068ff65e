// SPDX-License-Identifier: MIT
//
// query.cc - queries (xap_query) and query parsers (xap_parser): Xapian's Query and
// QueryParser as the caller sets them up. No prefix, field or language is known here: the
// caller passes them in.

#include "internal.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace
{
xap_query *wrap(Xapian::Query q)
{
    return new xap_query{std::move(q)};
}

bool to_xapian(enum xap_op op, Xapian::Query::op *out)
{
    switch (op) {
    case XAP_OP_AND:
        *out = Xapian::Query::OP_AND;
        return true;
    case XAP_OP_OR:
        *out = Xapian::Query::OP_OR;
        return true;
    case XAP_OP_AND_NOT:
        *out = Xapian::Query::OP_AND_NOT;
        return true;
    case XAP_OP_XOR:
        *out = Xapian::Query::OP_XOR;
        return true;
    case XAP_OP_AND_MAYBE:
        *out = Xapian::Query::OP_AND_MAYBE;
        return true;
    case XAP_OP_FILTER:
        *out = Xapian::Query::OP_FILTER;
        return true;
    case XAP_OP_NEAR:
        *out = Xapian::Query::OP_NEAR;
        return true;
    case XAP_OP_PHRASE:
        *out = Xapian::Query::OP_PHRASE;
        return true;
    case XAP_OP_ELITE_SET:
        *out = Xapian::Query::OP_ELITE_SET;
        return true;
    case XAP_OP_SYNONYM:
        *out = Xapian::Query::OP_SYNONYM;
        return true;
    case XAP_OP_MAX:
        *out = Xapian::Query::OP_MAX;
        return true;
    default:
        return false;
    }
}

unsigned qp_flags(unsigned f)
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

// "name:value" handed to the caller's function.
class CallbackField : public Xapian::FieldProcessor
{
  public:
    CallbackField(xap_field_fn fn, void *ctx) : fn_(fn), ctx_(ctx)
    {
    }
    Xapian::Query operator()(const std::string &v) override
    {
        std::unique_ptr<xap_query> q(fn_(v.data(), v.size(), ctx_));
        return q ? q->q : Xapian::Query();
    }

  private:
    xap_field_fn fn_;
    void *ctx_;
};

// A word that any of several stop lists holds.
class UnionStopper : public Xapian::Stopper
{
  public:
    bool operator()(const std::string &w) const override
    {
        for (const Xapian::SimpleStopper *s : lists)
            if ((*s)(w))
                return true;
        return false;
    }
    std::vector<const Xapian::SimpleStopper *> lists;
};
} // namespace

struct xap_parser {
    Xapian::QueryParser qp;
    UnionStopper stop;
    std::string corrected;
    // With a reader, wildcards are expanded here (expand_wildcards) with these caps
    const xap_reader *reader = nullptr;
    size_t max_wild = 0, max_partial = 0;
    int mode_wild = 0, mode_partial = 0;
};

// ------------------------------------------------------------------------------------
// Queries

extern "C" void xap_query_free(xap_query *q)
{
    delete q;
}

extern "C" xap_query *xap_query_term(const char *term, size_t len, unsigned wqf,
                                     xap_error *err)
{
    if (!term && len) {
        bad_arg(err, "xap_query_term: NULL term");
        return nullptr;
    }
    try {
        return wrap(Xapian::Query(std::string(term ? term : "", len), wqf ? wqf : 1));
    } catch (...) {
        fail(err);
        return nullptr;
    }
}

extern "C" xap_query *xap_query_match_all(xap_error *err)
{
    try {
        // a new match-all query: the static Query::MatchAll has a plain, not atomic,
        // reference count, and worker threads copying it at once corrupted it (a crash
        // in Enquire::set_query under concurrent suggest)
        return wrap(Xapian::Query(std::string()));
    } catch (...) {
        fail(err);
        return nullptr;
    }
}

extern "C" xap_query *xap_query_match_nothing(xap_error *err)
{
    try {
        return wrap(Xapian::Query());
    } catch (...) {
        fail(err);
        return nullptr;
    }
}

extern "C" xap_query *xap_query_combine(enum xap_op op, xap_query *const *subs, size_t n,
                                        unsigned param, xap_error *err)
{
    Xapian::Query::op xop;
    if (!to_xapian(op, &xop) || (n && !subs)) {
        bad_arg(err, "xap_query_combine: bad operator or NULL subqueries");
        return nullptr;
    }
    try {
        std::vector<Xapian::Query> v;
        v.reserve(n);
        for (size_t i = 0; i < n; i++)
            v.push_back(subs[i] ? subs[i]->q : Xapian::Query());
        return wrap(Xapian::Query(xop, v.begin(), v.end(), param));
    } catch (...) {
        fail(err);
        return nullptr;
    }
}

extern "C" xap_query *xap_query_pair(enum xap_op op, const xap_query *a,
                                     const xap_query *b, xap_error *err)
{
    Xapian::Query::op xop;
    if (!to_xapian(op, &xop) || !a || !b) {
        bad_arg(err, "xap_query_pair: bad operator or NULL subquery");
        return nullptr;
    }
    try {
        return wrap(Xapian::Query(xop, a->q, b->q));
    } catch (...) {
        fail(err);
        return nullptr;
    }
}

extern "C" xap_query *xap_query_scale(const xap_query *q, double factor, xap_error *err)
{
    if (!q || !(factor >= 0)) {
        bad_arg(err, "xap_query_scale: NULL query or negative factor");
        return nullptr;
    }
    try {
        return wrap(Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q->q, factor));
    } catch (...) {
        fail(err);
        return nullptr;
    }
}

extern "C" xap_query *xap_query_value_range(unsigned slot, const char *lo, size_t lo_len,
                                            int has_lo, const char *hi, size_t hi_len,
                                            int has_hi, xap_error *err)
{
    if ((has_lo && !lo && lo_len) || (has_hi && !hi && hi_len) || (!has_lo && !has_hi)) {
        bad_arg(err, "xap_query_value_range: no bound or NULL bound");
        return nullptr;
    }
    try {
        std::string l(has_lo && lo ? lo : "", has_lo ? lo_len : 0),
            h(has_hi && hi ? hi : "", has_hi ? hi_len : 0);
        if (has_lo && has_hi)
            return wrap(Xapian::Query(Xapian::Query::OP_VALUE_RANGE, slot, l, h));
        if (has_lo)
            return wrap(Xapian::Query(Xapian::Query::OP_VALUE_GE, slot, l));
        return wrap(Xapian::Query(Xapian::Query::OP_VALUE_LE, slot, h));
    } catch (...) {
        fail(err);
        return nullptr;
    }
}

extern "C" xap_query *xap_query_fixed_weight(double w, xap_error *err)
{
    try {
        return wrap(Xapian::Query((new Xapian::FixedWeightPostingSource(w))->release()));
    } catch (...) {
        fail(err);
        return nullptr;
    }
}

extern "C" xap_query *xap_query_copy(const xap_query *q, xap_error *err)
{
    if (!q) {
        bad_arg(err, "xap_query_copy: NULL query");
        return nullptr;
    }
    try {
        return wrap(q->q);
    } catch (...) {
        fail(err);
        return nullptr;
    }
}

extern "C" enum xap_op xap_query_op(const xap_query *q)
{
    if (!q)
        return XAP_OP_MATCH_NOTHING;
    switch (q->q.get_type()) {
    case Xapian::Query::LEAF_TERM:
        return XAP_OP_TERM;
    case Xapian::Query::LEAF_MATCH_ALL:
        return XAP_OP_MATCH_ALL;
    case Xapian::Query::LEAF_MATCH_NOTHING:
        return XAP_OP_MATCH_NOTHING;
    case Xapian::Query::OP_AND:
        return XAP_OP_AND;
    case Xapian::Query::OP_OR:
        return XAP_OP_OR;
    case Xapian::Query::OP_AND_NOT:
        return XAP_OP_AND_NOT;
    case Xapian::Query::OP_XOR:
        return XAP_OP_XOR;
    case Xapian::Query::OP_AND_MAYBE:
        return XAP_OP_AND_MAYBE;
    case Xapian::Query::OP_FILTER:
        return XAP_OP_FILTER;
    case Xapian::Query::OP_NEAR:
        return XAP_OP_NEAR;
    case Xapian::Query::OP_PHRASE:
        return XAP_OP_PHRASE;
    case Xapian::Query::OP_SCALE_WEIGHT:
        return XAP_OP_SCALE_WEIGHT;
    case Xapian::Query::OP_ELITE_SET:
        return XAP_OP_ELITE_SET;
    case Xapian::Query::OP_SYNONYM:
        return XAP_OP_SYNONYM;
    case Xapian::Query::OP_MAX:
        return XAP_OP_MAX;
    case Xapian::Query::OP_WILDCARD:
        return XAP_OP_WILDCARD;
    case Xapian::Query::OP_VALUE_RANGE:
    case Xapian::Query::OP_VALUE_GE:
    case Xapian::Query::OP_VALUE_LE:
        return XAP_OP_VALUE_RANGE;
    default:
        return XAP_OP_OTHER;
    }
}

extern "C" size_t xap_query_n_sub(const xap_query *q)
{
    return q ? q->q.get_num_subqueries() : 0;
}

extern "C" xap_query *xap_query_sub(const xap_query *q, size_t i, xap_error *err)
{
    if (!q || i >= q->q.get_num_subqueries()) {
        bad_arg(err, "xap_query_sub: no such subquery");
        return nullptr;
    }
    try {
        return wrap(q->q.get_subquery(i));
    } catch (...) {
        fail(err);
        return nullptr;
    }
}

extern "C" size_t xap_query_describe(const xap_query *q, char *buf, size_t cap)
{
    try {
        std::string d = q ? q->q.get_description() : std::string();
        if (buf && cap)
            copy_str(buf, cap, d);
        return d.size();
    } catch (...) {
        if (buf && cap)
            buf[0] = '\0';
        return 0;
    }
}

extern "C" int xap_query_for_each_term(const xap_query *q, xap_term_fn fn, void *ctx,
                                       xap_error *err)
{
    if (!q || !fn)
        return bad_arg(err, "xap_query_for_each_term: NULL argument");
    try {
        for (Xapian::TermIterator t = q->q.get_unique_terms_begin();
             t != q->q.get_unique_terms_end(); ++t) {
            const std::string &w = *t;
            int rc = fn(w.data(), w.size(), 0, ctx);
            if (rc)
                return rc;
        }
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

// ------------------------------------------------------------------------------------
// Parsers

extern "C" int xap_parser_new(xap_reader *r, xap_parser **out, xap_error *err)
{
    if (!out)
        return bad_arg(err, "xap_parser_new: NULL argument");
    try {
        std::unique_ptr<xap_parser> p(new xap_parser);
        if (r)
            p->qp.set_database(r->has_lex ? r->lex : r->db); // spelling, synonyms
        p->reader = r;
        *out = p.release();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" void xap_parser_free(xap_parser *p)
{
    delete p;
}

extern "C" void xap_parser_set_default_and(xap_parser *p, int and_)
{
    if (p)
        p->qp.set_default_op(and_ ? Xapian::Query::OP_AND : Xapian::Query::OP_OR);
}

extern "C" int xap_parser_add_prefix(xap_parser *p, const char *name, const char *prefix,
                                     int boolean, xap_error *err)
{
    if (!p || !name || !prefix)
        return bad_arg(err, "xap_parser_add_prefix: NULL argument");
    try {
        if (boolean)
            p->qp.add_boolean_prefix(name, prefix);
        else
            p->qp.add_prefix(name, prefix);
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_parser_add_field_fn(xap_parser *p, const char *name, xap_field_fn fn,
                                       void *ctx, xap_error *err)
{
    if (!p || !name || !*name || !fn)
        return bad_arg(err, "xap_parser_add_field_fn: NULL argument");
    try {
        p->qp.add_prefix(name, (new CallbackField(fn, ctx))->release());
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_parser_set_max_expansion(xap_parser *p, unsigned which, size_t max,
                                            enum xap_expand_limit limit, xap_error *err)
{
    if (!p)
        return bad_arg(err, "xap_parser_set_max_expansion: NULL parser");
    try {
        int mode = limit == XAP_EXPAND_FIRST ? Xapian::Query::WILDCARD_LIMIT_FIRST
                   : limit == XAP_EXPAND_MOST_FREQUENT
                       ? Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT
                       : Xapian::Query::WILDCARD_LIMIT_ERROR;
        p->qp.set_max_expansion(static_cast<Xapian::termcount>(max), mode,
                                qp_flags(which));
        if (which & XAP_QP_WILDCARD) {
            p->max_wild = max;
            p->mode_wild = mode;
        }
        if (which & XAP_QP_PARTIAL) {
            p->max_partial = max;
            p->mode_partial = mode;
        }
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_parser_set_stemmer(xap_parser *p, const xap_analyzer *a,
                                      xap_error *err)
{
    if (!p)
        return bad_arg(err, "xap_parser_set_stemmer: NULL parser");
    try {
        p->qp.set_stemmer(a ? a->stem : Xapian::Stem());
        p->qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" int xap_parser_set_stoppers(xap_parser *p, const xap_analyzer *const *a,
                                       size_t n, xap_error *err)
{
    if (!p || (n && !a))
        return bad_arg(err, "xap_parser_set_stoppers: NULL argument");
    try {
        p->stop.lists.clear();
        for (size_t i = 0; i < n; i++)
            if (a[i] && a[i]->has_stop)
                p->stop.lists.push_back(&a[i]->stopper);
        p->qp.set_stopper(&p->stop);
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

namespace
{
// A wildcard (or the partial last word) as the OP_SYNONYM of the terms it stands for,
// read from the whole database's term list with the parser's cap: over shards,
// Xapian expands each shard's wildcard against that shard alone (other weights, and
// the cap counted per shard); the explicit synonym weighs the same over one database
// or over shards, local or remote. Done for every reader, so that both agree.
Xapian::Query expand_one(const Xapian::Database &db, const std::string &pattern,
                         size_t max, int mode)
{
    std::vector<std::pair<std::string, Xapian::doccount>> terms;
    for (Xapian::TermIterator t = db.allterms_begin(pattern);
         t != db.allterms_end(pattern); ++t) {
        terms.emplace_back(*t, t.get_termfreq());
        if (max && terms.size() > max &&
            mode != Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT)
            break;
    }
    if (max && terms.size() > max) {
        if (mode == Xapian::Query::WILDCARD_LIMIT_ERROR)
            throw Xapian::WildcardError("Wildcard " + pattern +
                                        "* expands to more than " + std::to_string(max) +
                                        " terms");
        if (mode == Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT) {
            std::stable_sort(terms.begin(), terms.end(),
                             [](const std::pair<std::string, Xapian::doccount> &a,
                                const std::pair<std::string, Xapian::doccount> &b) {
                                 return a.second > b.second;
                             });
            terms.resize(max);
            std::sort(terms.begin(), terms.end());
        } else {
            terms.resize(max);
        }
    }
    std::vector<Xapian::Query> subs;
    for (auto &t : terms)
        subs.emplace_back(t.first);
    return Xapian::Query(Xapian::Query::OP_SYNONYM, subs.begin(), subs.end());
}

// q with its wildcards expanded (expand_one), rebuilt through the operators that take
// no parameter; a wildcard under any other operator is left to Xapian.
Xapian::Query expand_wildcards(const Xapian::Database &db, const Xapian::Query &q,
                               size_t max, int mode)
{
    const std::string mark = "Query(WILDCARD SYNONYM ";
    switch (q.get_type()) {
    case Xapian::Query::OP_WILDCARD: {
        std::string d = q.get_description();
        if (d.compare(0, mark.size(), mark) != 0 || d.back() != ')')
            return q;
        return expand_one(db, d.substr(mark.size(), d.size() - mark.size() - 1), max,
                          mode);
    }
    case Xapian::Query::OP_AND:
    case Xapian::Query::OP_OR:
    case Xapian::Query::OP_AND_NOT:
    case Xapian::Query::OP_XOR:
    case Xapian::Query::OP_AND_MAYBE:
    case Xapian::Query::OP_FILTER:
    case Xapian::Query::OP_SYNONYM:
    case Xapian::Query::OP_MAX: {
        std::vector<Xapian::Query> subs;
        bool changed = false;
        for (size_t i = 0; i < q.get_num_subqueries(); i++) {
            Xapian::Query s = q.get_subquery(i);
            Xapian::Query e = expand_wildcards(db, s, max, mode);
            changed = changed || e.get_description() != s.get_description();
            subs.push_back(e);
        }
        if (!changed)
            return q;
        return Xapian::Query(q.get_type(), subs.begin(), subs.end());
    }
    default:
        return q;
    }
}
} // namespace

extern "C" int xap_parser_parse(xap_parser *p, const char *query, unsigned flags,
                                xap_query **out, xap_error *err)
{
    if (!p || !query || !out)
        return bad_arg(err, "xap_parser_parse: NULL argument");
    try {
        std::unique_ptr<xap_query> q(new xap_query);
        unsigned f = qp_flags(flags);
        q->q = p->qp.parse_query(query, f);
        if (p->reader && (f & (Xapian::QueryParser::FLAG_WILDCARD |
                               Xapian::QueryParser::FLAG_PARTIAL))) {
            bool wild = (f & Xapian::QueryParser::FLAG_WILDCARD) != 0;
            q->q =
                expand_wildcards(p->reader->db, q->q, wild ? p->max_wild : p->max_partial,
                                 wild ? p->mode_wild : p->mode_partial);
        }
        if (f & Xapian::QueryParser::FLAG_SPELLING_CORRECTION)
            p->corrected = p->qp.get_corrected_query_string();
        else
            p->corrected.clear();
        *out = q.release();
        return XAP_OK;
    } catch (...) {
        return fail(err);
    }
}

extern "C" const char *xap_parser_corrected(const xap_parser *p)
{
    return p ? p->corrected.c_str() : "";
}
