/* SPDX-License-Identifier: MIT */
/*
 * query.c - a search request becomes a ranked result (see query.h): the language
 * branches, concept widening, the typo alternative, filters and exclusions, and the
 * re-ranking passes (feedback.c, and rerank.c for the language boost and the
 * translation groups), built with the binding's plain query primitives.
 */
#include "query.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedback.h"
#include "query_priv.h"
#include "rerank.h"
#include "schema.h"

/* Fills err (first error wins) for a failure of this module's own. */
static int fail_with(struct xap_error *e, int code, const char *msg)
{
    if (e && e->code == XAP_OK) {
        e->code = code;
        e->type[0] = '\0';
        e->context[0] = '\0';
        snprintf(e->msg, sizeof e->msg, "%s", msg);
    }
    return code;
}

int kb_query_nomem(struct xap_error *err)
{
    return fail_with(err, XAP_E_NOMEM, "out of memory");
}

/* The error a NULL from a binding constructor left in err (out of memory when unset). */
static int code_of(struct xap_error *err)
{
    return err && err->code ? err->code : kb_query_nomem(err);
}

void kb_query_spec_init(struct kb_query_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->query = "";
    spec->qp_flags = XAP_QP_DEFAULT;
    spec->limit = 10;
    spec->collapse_slot = -1;
    spec->data_slot = KB_SLOT_META;
    spec->extra_scale = 1.0;
    spec->lang_prefix = KB_PFX_LANG;
    spec->uid_prefix = KB_PFX_UID;
    spec->similar_prefix = KB_PFX_CONCEPT;
}

size_t kb_query_uid_term(const char *prefix, const char *uid, size_t len, char *buf,
                         size_t cap)
{
    size_t plen = prefix ? strlen(prefix) : 0;
    if (plen > 16)
        plen = 16;
    if (cap < KB_UID_TERM_MAX) {
        if (cap)
            buf[0] = '\0';
        return 0;
    }
    if (plen)
        memcpy(buf, prefix, plen);
    if (len + plen <= 240) {
        if (len)
            memcpy(buf + plen, uid, len);
        buf[plen + len] = '\0';
        return plen + len;
    }
    uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)uid[i];
        h *= 1099511628211ULL;
    }
    memcpy(buf + plen, uid, 200);
    int n =
        snprintf(buf + plen + 200, cap - plen - 200, ":%016llx", (unsigned long long)h);
    return plen + 200 + (size_t)(n > 0 ? n : 0);
}

xap_query *kb_query_term(const char *term, struct xap_error *err)
{
    return xap_query_term(term, strlen(term), 1, err);
}

/* The pass options of a request: its ranking model, and nothing else. */
void kb_query_pass_opts(const struct kb_query_spec *spec, struct xap_enquire_opts *o)
{
    xap_enquire_opts_init(o);
    o->weighting = spec->weighting;
    o->bm25_k1 = spec->bm25_k1;
    o->bm25_b = spec->bm25_b;
    o->bb2_c = spec->bb2_c;
    o->ids_only = 1;
}

/* Frees n queries. */
static void free_all(xap_query **q, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xap_query_free(q[i]);
}

/* ---------------------------------------------------------------------------------------
 * Parsing
 */

/* "<concept_field>:N" -> the request's concept_terms[N], weighted and scaled. */
static xap_query *concept_field(const char *v, size_t len, void *ctx)
{
    const struct kb_query_spec *spec = ctx;
    if (len == 0 || len > 6)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return NULL;
        n = n * 10 + (size_t)(v[i] - '0');
    }
    if (n >= spec->n_concept_terms || !spec->concept_terms[n] || !*spec->concept_terms[n])
        return NULL;
    xap_query *t = kb_query_term(spec->concept_terms[n], NULL);
    double scale = spec->concept_scales ? spec->concept_scales[n] : spec->extra_scale;
    if (t && scale > 0 && scale != 1.0) {
        xap_query *s = xap_query_scale(t, scale, NULL);
        xap_query_free(t);
        t = s;
    }
    return t;
}

/* A parser with the request's operator, fields, concept field and expansion caps. */
static int new_parser(xap_reader *r, const struct kb_query_spec *spec, xap_parser **out,
                      struct xap_error *err)
{
    xap_parser *p = NULL;
    int rc = xap_parser_new(r, &p, err);
    if (rc)
        return rc;
    xap_parser_set_default_and(p, spec->default_and);
    for (size_t i = 0; !rc && i < spec->n_fields; i++) {
        const struct xap_field *f = &spec->fields[i];
        if (f->name && f->prefix)
            rc = xap_parser_add_prefix(p, f->name, f->prefix, f->boolean, err);
    }
    if (!rc && spec->concept_field && *spec->concept_field)
        rc = xap_parser_add_field_fn(p, spec->concept_field, concept_field, (void *)spec,
                                     err);
    size_t cap = spec->max_wildcard;
    if (!rc)
        rc = xap_parser_set_max_expansion(p, XAP_QP_WILDCARD, cap, XAP_EXPAND_ERROR, err);
    if (!rc)
        rc = xap_parser_set_max_expansion(p, XAP_QP_PARTIAL, cap ? cap : 100,
                                          XAP_EXPAND_MOST_FREQUENT, err);
    if (rc) {
        xap_parser_free(p);
        return rc;
    }
    *out = p;
    return XAP_OK;
}

static int lang_selected(const struct kb_query_spec *spec, const char *code)
{
    if (!spec->langs || spec->n_langs == 0)
        return 1;
    for (size_t i = 0; i < spec->n_langs; i++)
        if (spec->langs[i] && !strcmp(code, spec->langs[i]))
            return 1;
    return 0;
}

/* Is `q` a plain OR of words (terms, wildcards, weighted terms, and phrases or NEAR
 * among other alternatives), which extra terms may join without letting in what the
 * query as typed leaves out? An AND, a NOT, a filter, a boolean "field:value" term (which
 * the parser wraps in a zero weight), or a phrase or NEAR on its own is not. 1, 0 or a
 * negative xap_code. */
static int disjunctive(const xap_query *q, int top, struct xap_error *err)
{
    char desc[16];
    switch (xap_query_op(q)) {
    case XAP_OP_TERM:
    case XAP_OP_WILDCARD:
        return 1;
    case XAP_OP_PHRASE:
    case XAP_OP_NEAR:
        return !top;
    case XAP_OP_OR:
    case XAP_OP_SYNONYM:
    case XAP_OP_MAX:
        top = 0;
        break;
    case XAP_OP_SCALE_WEIGHT:
        xap_query_describe(q, desc, sizeof desc);
        if (!strncmp(desc, "Query(0 *", 9))
            return 0;
        break;
    default:
        return 0;
    }
    for (size_t i = 0; i < xap_query_n_sub(q); i++) {
        xap_query *sub = xap_query_sub(q, i, err);
        if (!sub)
            return code_of(err);
        int d = disjunctive(sub, top, err);
        xap_query_free(sub);
        if (d <= 0)
            return d;
    }
    return 1;
}

/* `q` widened by `ex` inside its filters and NOTs: FILTER and AND_NOT keep their
 * restricting operands, and `ex` is ORed into the positive one when that is a plain OR
 * of words; otherwise `ex` only re-ranks it (OP_AND_MAYBE), so the expansion never lets
 * in a document that the query as typed leaves out. NULL on failure. */
static xap_query *widen(const xap_query *q, const xap_query *ex, struct xap_error *err)
{
    enum xap_op t = xap_query_op(q);
    size_t n = xap_query_n_sub(q);
    if ((t == XAP_OP_FILTER || t == XAP_OP_AND_NOT) && n >= 2) {
        xap_query **subs = calloc(n, sizeof *subs);
        xap_query *out = NULL, *first = NULL;
        if (!subs) {
            kb_query_nomem(err);
            return NULL;
        }
        first = xap_query_sub(q, 0, err);
        subs[0] = first ? widen(first, ex, err) : NULL;
        xap_query_free(first);
        int ok = subs[0] != NULL;
        for (size_t i = 1; ok && i < n; i++)
            ok = (subs[i] = xap_query_sub(q, i, err)) != NULL;
        if (ok)
            out = xap_query_combine(t, subs, n, 0, err);
        free_all(subs, n);
        free(subs);
        return out;
    }
    int d = disjunctive(q, 1, err);
    if (d < 0)
        return NULL;
    return xap_query_pair(d ? XAP_OP_OR : XAP_OP_AND_MAYBE, q, ex, err);
}

/* The thesaurus terms of a request as one weighted query; *out NULL when none. */
static int extra_query(const struct kb_query_spec *spec, xap_query **out,
                       struct xap_error *err)
{
    *out = NULL;
    if (!spec->n_extra || !spec->extra_terms)
        return XAP_OK;
    xap_query **terms = calloc(spec->n_extra, sizeof *terms);
    if (!terms)
        return kb_query_nomem(err);
    size_t n = 0;
    int rc = XAP_OK;
    for (size_t i = 0; i < spec->n_extra; i++) {
        if (!spec->extra_terms[i] || !*spec->extra_terms[i])
            continue;
        if (!(terms[n] = kb_query_term(spec->extra_terms[i], err))) {
            rc = code_of(err);
            goto out;
        }
        n++;
    }
    if (!n)
        goto out;
    xap_query *ex = xap_query_combine(XAP_OP_OR, terms, n, 0, err);
    if (ex && spec->extra_scale > 0 && spec->extra_scale != 1.0) {
        xap_query *s = xap_query_scale(ex, spec->extra_scale, err);
        xap_query_free(ex);
        ex = s;
    }
    if (!ex)
        rc = code_of(err);
    *out = ex;
out:
    free_all(terms, n);
    free(terms);
    return rc;
}

/* Distinct words (unprefixed terms) of a parsed query. */
static int count_word(const char *w, size_t len, unsigned wdf, void *ctx)
{
    (void)wdf;
    if (len && (w[0] == 'Z' ? len > 1 && w[1] >= 'a' && w[1] <= 'z'
                            : !(w[0] >= 'A' && w[0] <= 'Z')))
        ++*(size_t *)ctx;
    return 0;
}

static int count_words(const xap_query *q, size_t *n, struct xap_error *err)
{
    *n = 0;
    return xap_query_for_each_term(q, count_word, n, err);
}

struct lang_votes {
    xap_reader *r;
    size_t n;
    size_t *own;
};

static int vote_word(const char *w, size_t len, unsigned wdf, void *ctx)
{
    struct lang_votes *v = ctx;
    (void)wdf;
    if (!len || (w[0] >= 'A' && w[0] <= 'Z'))
        return 0; /* a field's or a filter's term */
    size_t lists = 0, which = 0;
    for (size_t i = 0; i < v->n; i++) {
        xap_analyzer *a = NULL;
        xap_reader_lang(v->r, i, NULL, &a);
        if (xap_analyzer_is_stop(a, w, len)) {
            lists++;
            which = i;
        }
    }
    if (lists == 1)
        v->own[which]++;
    return 0;
}

/* The language a query is written in, told by its function words: the one whose stop
 * list alone holds at least two of the query's distinct words, and more of them than any
 * other list alone holds (a word on several lists, such as "a" or "in", tells nothing).
 * *lang -1 when none stands out, as for a few content words ("electric car", "AI
 * battery"). */
static int query_language(xap_reader *r, const struct kb_query_spec *spec, const char *q,
                          unsigned flags, long *lang, struct xap_error *err)
{
    xap_parser *p = NULL; /* no stemmer and no stop list: the words as typed */
    xap_query *plain = NULL;
    struct lang_votes v = {r, xap_reader_lang_count(r), NULL};
    *lang = -1;
    int rc = new_parser(r, spec, &p, err);
    if (!rc)
        rc = xap_parser_parse(p, q, flags & ~(unsigned)XAP_QP_SPELLING, &plain, err);
    if (!rc && !(v.own = calloc(v.n, sizeof *v.own)))
        rc = kb_query_nomem(err);
    if (!rc)
        rc = xap_query_for_each_term(plain, vote_word, &v, err);
    if (!rc) {
        size_t best = 0, second = 0;
        long which = -1;
        for (size_t i = 0; i < v.n; i++) {
            if (v.own[i] > best) {
                second = best;
                best = v.own[i];
                which = (long)i;
            } else if (v.own[i] > second) {
                second = v.own[i];
            }
        }
        if (best >= 2 && best > second)
            *lang = which;
    }
    free(v.own);
    xap_query_free(plain);
    xap_parser_free(p);
    return rc;
}

/* Keeps a malloc'ed copy of the parser's correction in *corrected. */
static int take_corrected(const xap_parser *p, char **corrected, struct xap_error *err)
{
    char *c = strdup(xap_parser_corrected(p));
    if (!c)
        return kb_query_nomem(err);
    free(*corrected);
    *corrected = c;
    return XAP_OK;
}

/* One language branch: `q` parsed with language `i`'s analyser (and the stop words of
 * the language the query is typed in, `typed_in`), widened by `ex`, not yet filtered on
 * its language term (parse_user_query does that). *words (when not NULL): the parse's
 * distinct words; *corrected (when not NULL): its spelling correction. */
static int parse_branch(xap_reader *r, const struct kb_query_spec *spec, size_t i,
                        long typed_in, const char *q, unsigned flags, const xap_query *ex,
                        char **corrected, size_t *words, xap_query **out,
                        struct xap_error *err)
{
    xap_analyzer *a = NULL, *typed = NULL;
    xap_parser *p = NULL;
    xap_query *parsed = NULL, *wide = NULL;
    xap_reader_lang(r, i, NULL, &a);
    const xap_analyzer *stops[2] = {a, NULL};
    size_t n_stops = 1;
    if (typed_in >= 0 && (size_t)typed_in != i) {
        xap_reader_lang(r, (size_t)typed_in, NULL, &typed);
        stops[n_stops++] = typed;
    }
    int rc = new_parser(r, spec, &p, err);
    if (!rc)
        rc = xap_parser_set_stemmer(p, a, err);
    if (!rc)
        rc = xap_parser_set_stoppers(p, stops, n_stops, err);
    if (!rc)
        rc = xap_parser_parse(p, q, flags, &parsed, err);
    if (!rc && corrected)
        rc = take_corrected(p, corrected, err);
    if (!rc && words)
        rc = count_words(parsed, words, err);
    if (!rc && ex && !(wide = widen(parsed, ex, err)))
        rc = code_of(err);
    if (!rc) {
        *out = wide ? wide : parsed;
        if (wide)
            xap_query_free(parsed);
    } else {
        xap_query_free(wide);
        xap_query_free(parsed);
    }
    xap_parser_free(p);
    return rc;
}

/* The description of q, malloc'ed (NULL: out of memory). */
static char *describe(const xap_query *q)
{
    char small[512];
    size_t n = xap_query_describe(q, small, sizeof small);
    char *d = malloc(n + 1);
    if (d && n < sizeof small)
        memcpy(d, small, n + 1);
    else if (d)
        xap_query_describe(q, d, n + 1);
    return d;
}

/* The branches as one query: each filtered on its language term, except that branches
 * that parse alike (words that every language's analyser stems and stops the same way,
 * as names and most technical terms) become one parse filtered on their languages' terms
 * ORed, and not filtered at all when those terms cover every document. A document has
 * one language term (core/analysis.c), so it matches at most one branch either way and
 * gets the same weight (a filter weighs nothing); the match opens each posting list once
 * instead of once per language. */
static int join_branches(xap_reader *r, const char *lpfx, xap_query **body,
                         const size_t *lang, size_t n, xap_query **out,
                         struct xap_error *err)
{
    char **desc = calloc(n, sizeof *desc);
    xap_query **joined = calloc(n, sizeof *joined), **lts = calloc(n, sizeof *lts);
    size_t *group = calloc(n, sizeof *group);
    size_t nj = 0, nl = 0;
    int rc = XAP_OK;
    if (!desc || !joined || !lts || !group)
        rc = kb_query_nomem(err);
    for (size_t i = 0; !rc && i < n; i++) {
        if (n > 1 && !(desc[i] = describe(body[i])))
            rc = kb_query_nomem(err);
        group[i] = i;
        for (size_t j = 0; !rc && j < i; j++)
            if (group[j] == j && !strcmp(desc[i], desc[j])) {
                group[i] = j;
                break;
            }
    }
    unsigned docs = 0;
    if (!rc)
        rc = xap_reader_doc_count(r, &docs, err);
    for (size_t i = 0; !rc && i < n; i++) {
        if (group[i] != i)
            continue;
        nl = 0;
        unsigned long covered = 0;
        for (size_t j = i; !rc && j < n; j++) {
            const char *code = NULL;
            char term[64];
            unsigned freq = 0;
            if (group[j] != i)
                continue;
            xap_reader_lang(r, lang[j], &code, NULL);
            int tl = snprintf(term, sizeof term, "%s%s", lpfx, code);
            if (tl < 0 || (size_t)tl >= sizeof term)
                rc = fail_with(err, XAP_E_INVALID_ARG, "language term too long");
            else if (!(rc = xap_reader_term_freq(r, term, (size_t)tl, &freq, err)) &&
                     !(lts[nl] = kb_query_term(term, err)))
                rc = code_of(err);
            else if (!rc) {
                nl++;
                covered += freq;
            }
        }
        xap_query *f = NULL;
        if (!rc && covered == docs) /* every document: no filter */
            f = NULL;
        else if (!rc && !(f = nl == 1 ? xap_query_copy(lts[0], err)
                                      : xap_query_combine(XAP_OP_OR, lts, nl, 0, err)))
            rc = code_of(err);
        if (!rc && !(joined[nj] = f ? xap_query_pair(XAP_OP_FILTER, body[i], f, err)
                                    : xap_query_copy(body[i], err)))
            rc = code_of(err);
        if (!rc)
            nj++;
        xap_query_free(f);
        free_all(lts, nl);
        nl = 0;
    }
    if (!rc && !(*out = nj == 1 ? xap_query_copy(joined[0], err)
                                : xap_query_combine(XAP_OP_OR, joined, nj, 0, err)))
        rc = code_of(err);
    for (size_t i = 0; desc && i < n; i++)
        free(desc[i]);
    free(desc);
    if (joined)
        free_all(joined, nj);
    free(joined);
    free(lts);
    free(group);
    return rc;
}

/* The user's query: one parse per language branch, each restricted to its language, with
 * the thesaurus terms `ex` (may be NULL) widening each branch inside its filters.
 * Each branch drops its language's stop words and those of the language the query is
 * written in: English function words are not stop words for French, but "the" and "of"
 * typed in an English query say nothing about a French brief (and, rare among French
 * words, they would rank one that quotes an English title first).
 * *corrected: the first branch's correction (with XAP_QP_SPELLING in flags; a malloc'ed
 * string or left as it was); *words: distinct words of the first branch. */
static int parse_user_query(xap_reader *r, const struct kb_query_spec *spec,
                            const char *lpfx, unsigned flags, const xap_query *ex,
                            char **corrected, size_t *words, xap_query **out,
                            struct xap_error *err)
{
    const char *q = spec->query ? spec->query : "";
    *words = 0;
    *out = NULL;
    if (!*q) {
        *out = xap_query_match_all(err);
        return *out ? XAP_OK : code_of(err);
    }
    size_t n_langs = xap_reader_lang_count(r), n = 0;
    long typed_in = -1;
    int rc = XAP_OK;
    xap_query **branches = NULL;
    size_t *lang = NULL;
    if (n_langs > 1)
        rc = query_language(r, spec, q, flags, &typed_in, err);
    if (!rc && n_langs &&
        (!(branches = calloc(n_langs, sizeof *branches)) ||
         !(lang = calloc(n_langs, sizeof *lang))))
        rc = kb_query_nomem(err);
    for (size_t i = 0; !rc && i < n_langs; i++) {
        const char *code = NULL;
        xap_reader_lang(r, i, &code, NULL);
        if (!lang_selected(spec, code))
            continue;
        unsigned f = n ? flags & ~(unsigned)XAP_QP_SPELLING : flags;
        rc = parse_branch(r, spec, i, typed_in, q, f, ex,
                          !n && (f & XAP_QP_SPELLING) ? corrected : NULL,
                          n ? NULL : words, &branches[n], err);
        if (!rc)
            lang[n++] = i;
    }
    if (!rc && n)
        rc = join_branches(r, lpfx, branches, lang, n, out, err);
    free_all(branches, n);
    free(branches);
    free(lang);
    if (rc || n)
        return rc;
    /* no language branch: one parse, neither stemmed nor stopped */
    xap_parser *p = NULL;
    xap_query *parsed = NULL;
    rc = new_parser(r, spec, &p, err);
    if (!rc)
        rc = xap_parser_parse(p, q, flags, &parsed, err);
    if (!rc && (flags & XAP_QP_SPELLING))
        rc = take_corrected(p, corrected, err);
    if (!rc)
        rc = count_words(parsed, words, err);
    if (!rc && ex) {
        if (!(*out = widen(parsed, ex, err)))
            rc = code_of(err);
    } else if (!rc) {
        *out = parsed;
        parsed = NULL;
    }
    xap_query_free(parsed);
    xap_parser_free(p);
    return rc;
}

/* ---------------------------------------------------------------------------------------
 * Filters
 */

/* Filters, ranges and exclusions around `q`, into *out. */
int kb_query_restrict(const struct kb_query_spec *spec, const xap_query *q,
                      xap_query **out, struct xap_error *err)
{
    size_t cap = spec->n_filters + spec->n_ranges, nf = 0, max_terms = 0, nt = 0;
    for (size_t g = 0; g < spec->n_filters; g++)
        max_terms = spec->filters[g].n > max_terms ? spec->filters[g].n : max_terms;
    if (spec->n_exclude > max_terms)
        max_terms = spec->n_exclude;
    xap_query **filters = calloc(cap + 1, sizeof *filters);
    xap_query **terms = calloc(max_terms + 1, sizeof *terms);
    xap_query *cur = NULL, *all = NULL, *next = NULL;
    int rc = XAP_OK;
    *out = NULL;
    if (!filters || !terms) {
        rc = kb_query_nomem(err);
        goto out;
    }
    for (size_t g = 0; g < spec->n_filters; g++) {
        const struct xap_term_group *grp = &spec->filters[g];
        nt = 0;
        for (size_t i = 0; i < grp->n; i++) {
            if (!grp->terms[i])
                continue;
            if (!(terms[nt] = kb_query_term(grp->terms[i], err)))
                goto fail;
            nt++;
        }
        if (nt && !(filters[nf++] = xap_query_combine(XAP_OP_OR, terms, nt, 0, err)))
            goto fail;
        free_all(terms, nt);
        nt = 0;
    }
    for (size_t i = 0; i < spec->n_ranges; i++) {
        const struct xap_range *rg = &spec->ranges[i];
        char lo[16], hi[16];
        size_t lo_len = xap_sortable_serialise(rg->lo, lo, sizeof lo),
               hi_len = xap_sortable_serialise(rg->hi, hi, sizeof hi);
        if (!rg->has_lo && !rg->has_hi)
            continue;
        if (!(filters[nf++] = xap_query_value_range(rg->slot, lo, lo_len, rg->has_lo, hi,
                                                    hi_len, rg->has_hi, err)))
            goto fail;
    }
    if (!(cur = xap_query_copy(q, err)))
        goto fail;
    if (nf) {
        if (!(all = xap_query_combine(XAP_OP_AND, filters, nf, 0, err)) ||
            !(next = xap_query_pair(XAP_OP_FILTER, cur, all, err)))
            goto fail;
        xap_query_free(cur);
        xap_query_free(all);
        cur = next;
        all = next = NULL;
    }
    for (size_t i = 0; i < spec->n_exclude; i++) {
        const char *uid = spec->exclude_uids[i];
        char t[KB_UID_TERM_MAX];
        if (!uid || !*uid)
            continue;
        size_t tl = kb_query_uid_term(spec->uid_prefix, uid, strlen(uid), t, sizeof t);
        if (!(terms[nt] = xap_query_term(t, tl, 1, err)))
            goto fail;
        nt++;
    }
    if (nt) {
        if (!(all = xap_query_combine(XAP_OP_OR, terms, nt, 0, err)) ||
            !(next = xap_query_pair(XAP_OP_AND_NOT, cur, all, err)))
            goto fail;
        xap_query_free(cur);
        cur = next;
        next = NULL;
    }
    *out = cur;
    cur = NULL;
    goto out;
fail:
    rc = code_of(err);
out:
    free_all(terms, nt);
    if (filters)
        free_all(filters, nf);
    free(filters);
    free(terms);
    xap_query_free(cur);
    xap_query_free(all);
    xap_query_free(next);
    return rc;
}

/* The options of the request's own run. */
static void final_opts(const struct kb_query_spec *spec, struct xap_enquire_opts *o)
{
    kb_query_pass_opts(spec, o);
    o->ids_only = 0;
    o->sort = spec->sort;
    o->sort_slot = spec->sort_slot;
    o->collapse_slot = spec->collapse_slot;
    o->data_slot = spec->data_slot;
    o->check_at_least = spec->check_at_least;
    o->time_limit = spec->time_limit;
    o->facets = spec->facets;
    o->n_facets = spec->n_facets;
}

/* ---------------------------------------------------------------------------------------
 * The request
 */

int kb_query_run(xap_reader *r, const struct kb_query_spec *spec, xap_result **out,
                 struct xap_error *err)
{
    if (!r || !spec || !out)
        return fail_with(err, XAP_E_INVALID_ARG, "kb_query_run: NULL argument");
    const char *lpfx = spec->lang_prefix ? spec->lang_prefix : KB_PFX_LANG;
    unsigned flags = spec->qp_flags;
    /* the correction costs a spelling-table walk per word: put it off until the match
     * shows whether it can matter */
    int spell_later = (flags & XAP_QP_SPELLING) && spec->spelling_below > 0;
    if (spell_later)
        flags &= ~(unsigned)XAP_QP_SPELLING;
    int typed_query = spec->query && *spec->query;
    int relevance = spec->sort == XAP_SORT_RELEVANCE;
    char *corrected = NULL;
    size_t words = 0;
    xap_query *ex = NULL, *q = NULL, *typed = NULL, *tmp = NULL;
    xap_result *res = NULL;
    int expanded = 0;
    int rc = typed_query ? extra_query(spec, &ex, err) : XAP_OK;
    if (!rc)
        rc = parse_user_query(r, spec, lpfx, flags, ex, &corrected, &words, &q, err);
    if (!rc && spec->alt && spec->alt->query && *spec->alt->query && typed_query) {
        /* the corrected query, weighed below the query as typed */
        const struct kb_query_spec *alt = spec->alt;
        xap_query *aex = NULL, *aq = NULL, *both = NULL;
        char *unused = NULL;
        size_t alt_words = 0;
        rc = extra_query(alt, &aex, err);
        if (!rc)
            rc = parse_user_query(r, alt, lpfx, alt->qp_flags, aex, &unused, &alt_words,
                                  &aq, err);
        double s = spec->alt_scale > 0 && spec->alt_scale <= 1 ? spec->alt_scale : 1.0;
        if (!rc && s != 1.0) {
            xap_query *scaled = xap_query_scale(aq, s, err);
            xap_query_free(aq);
            if (!(aq = scaled))
                rc = code_of(err);
        }
        if (!rc && !(both = xap_query_pair(XAP_OP_OR, q, aq, err)))
            rc = code_of(err);
        if (!rc) {
            xap_query_free(q);
            q = both;
            words = words > alt_words ? words : alt_words;
        }
        xap_query_free(aex);
        xap_query_free(aq);
        free(unused);
    }
    if (!rc)
        rc = kb_query_restrict(spec, q, &typed, err);
    if (!rc && spec->feedback_docs && relevance && typed_query &&
        words >= spec->feedback_min_words) {
        rc = kb_feedback_expand(r, spec, &q, &expanded, err);
    }
    if (!rc && expanded) {
        rc = kb_query_restrict(spec, q, &tmp, err);
        xap_query_free(q);
        q = tmp;
        tmp = NULL;
    } else if (!rc) {
        xap_query_free(q);
        q = xap_query_copy(typed, err);
        if (!q)
            rc = code_of(err);
    }
    if (!rc && spec->boost_term && *spec->boost_term && spec->boost_share > 0 &&
        relevance && typed_query)
        rc = kb_rerank_boost(r, spec, &q, err);
    if (!rc && spec->group_prefix && *spec->group_prefix && spec->group_share > 0 &&
        relevance && typed_query)
        rc = kb_rerank_groups(r, spec, &q, err);
    struct xap_enquire_opts o;
    final_opts(spec, &o);
    if (!rc)
        rc = xap_enquire_run(r, q, &o, spec->offset, spec->limit, &res, err);
    if (!rc && corrected)
        rc = xap_result_set_corrected(res, corrected, err);
    if (!rc && spell_later) {
        size_t lower, estimate, upper;
        xap_result_counts(res, &lower, &estimate, &upper);
        if (estimate < spec->spelling_below) {
            char *c = NULL;
            size_t n;
            xap_query *unused = NULL;
            rc = parse_user_query(r, spec, lpfx, flags | XAP_QP_SPELLING, NULL, &c, &n,
                                  &unused, err);
            if (!rc)
                rc = xap_result_set_corrected(res, c ? c : "", err);
            xap_query_free(unused);
            free(c);
        }
    }
    if (!rc && expanded)
        rc = xap_result_set_snippet_query(res, typed, err);
    /* snippets weigh words by their idf: the window then never depends on how the
     * documents are split into shards (the match's own bounds do) */
    if (!rc)
        rc = xap_result_set_snippet_weights(res, XAP_SNIP_IDF, err);
    if (rc) {
        xap_result_free(res);
        res = NULL;
    }
    *out = res;
    free(corrected);
    xap_query_free(ex);
    xap_query_free(q);
    xap_query_free(typed);
    return rc;
}

/* ---------------------------------------------------------------------------------------
 * More like this
 */

struct similar_terms {
    xap_reader *r;
    const char *prefix;
    size_t plen, want, n;
    xap_query **terms;
    struct xap_error *err;
    int rc;
};

/* Expand terms worth a "more like this" query: stems and concepts, not ids or filters. */
static int similar_keep(const char *t, size_t len, void *ctx)
{
    const struct similar_terms *s = ctx;
    if (len < 4)
        return 0;
    if (t[0] == 'Z')
        return t[1] >= 'a' && t[1] <= 'z';
    return s->plen && len >= s->plen && !memcmp(t, s->prefix, s->plen);
}

/* A one-document RSet ranks the document's rarest words first, and a word no other
 * document has cannot find anything: keep the shared ones. */
static int similar_take(const char *t, size_t len, unsigned wdf, void *ctx)
{
    struct similar_terms *s = ctx;
    unsigned freq = 0;
    (void)wdf;
    if (s->n >= s->want)
        return 1;
    if ((s->rc = xap_reader_term_freq(s->r, t, len, &freq, s->err)))
        return 1;
    if (freq < 2)
        return 0;
    if (!(s->terms[s->n] = xap_query_term(t, len, 1, s->err))) {
        s->rc = code_of(s->err);
        return 1;
    }
    return ++s->n >= s->want;
}

int kb_query_similar(xap_reader *r, const char *uid, size_t uid_len, size_t n_terms,
                     const struct kb_query_spec *spec, xap_result **out,
                     struct xap_error *err)
{
    if (!r || !uid || uid_len == 0 || !spec || !out)
        return fail_with(err, XAP_E_INVALID_ARG, "kb_query_similar: NULL argument");
    char term[KB_UID_TERM_MAX];
    size_t tl = kb_query_uid_term(spec->uid_prefix, uid, uid_len, term, sizeof term);
    unsigned did = 0;
    struct xap_error local = {0};
    int rc = xap_reader_term_docid(r, term, tl, &did, &local);
    if (rc == XAP_E_NOT_FOUND)
        return fail_with(err, XAP_E_NOT_FOUND, "no document with this id");
    if (rc) {
        if (err && err->code == XAP_OK)
            *err = local;
        return rc;
    }
    struct similar_terms s = {
        r, spec->similar_prefix ? spec->similar_prefix : "", 0, 0, 0, NULL, err, XAP_OK};
    s.plen = strlen(s.prefix);
    s.want = n_terms ? n_terms : 40;
    xap_query *q = NULL, *self = NULL, *not_self = NULL, *restricted = NULL;
    struct xap_enquire_opts o;
    if (!(s.terms = calloc(s.want, sizeof *s.terms)))
        return kb_query_nomem(err);
    rc = xap_reader_expand(r, &did, 1, s.want * 5, similar_keep, &s, similar_take, &s,
                           err);
    if (rc == 1)
        rc = s.rc;
    if (!rc && !(q = s.n ? xap_query_combine(XAP_OP_ELITE_SET, s.terms, s.n, 20, err)
                         : xap_query_match_nothing(err)))
        rc = code_of(err);
    if (!rc && (!(self = xap_query_term(term, tl, 1, err)) ||
                !(not_self = xap_query_pair(XAP_OP_AND_NOT, q, self, err))))
        rc = code_of(err);
    if (!rc)
        rc = kb_query_restrict(spec, not_self, &restricted, err);
    final_opts(spec, &o);
    if (!rc)
        rc = xap_enquire_run(r, restricted, &o, spec->offset, spec->limit, out, err);
    free_all(s.terms, s.n);
    free(s.terms);
    xap_query_free(q);
    xap_query_free(self);
    xap_query_free(not_self);
    xap_query_free(restricted);
    return rc;
}
