/* SPDX-License-Identifier: MIT */
/*
 * feedback.c - pseudo-relevance feedback (see feedback.h): `q` re-weighted by a relevance
 * model of the first pass's top documents (Lavrenko and Croft's RM1, as RM3 uses it).
 * Against Xapian's ESet it weighs words by how much of the top documents they make up,
 * not by how rare they are, and a word in one document of three no longer outweighs the
 * topic's words (bench/relevance/README.md).
 */
#include "feedback.h"

#include <stdlib.h>
#include <string.h>

#include "query_priv.h"

/* One term of one top document: its share of the model, P(w | d) * score(d) / total. */
struct part {
    size_t off, len;  /* the term in the arena */
    const char *term; /* arena + off, once the arena stops moving */
    size_t doc;       /* the top document's rank, for summing in rank order */
    double share;
};

struct model {
    char *arena;
    size_t used, cap;
    struct part *parts;
    size_t n, n_cap;
    /* the current document's terms (wdf in `share` until its length is known) */
    size_t doc_first;
    double doc_len;
    const char *also; /* feedback_prefix, "" for none */
    size_t also_len;
    int nomem;
};

/* Feedback terms: stemmed words of the body namespace ("Z" + a lower-case letter), and
 * terms under `also` (the caller's language-neutral concepts). */
static int feedback_term(const struct model *m, const char *t, size_t len)
{
    if (m->also_len && len > m->also_len && !memcmp(t, m->also, m->also_len))
        return 1;
    return len > 3 && t[0] == 'Z' && t[1] >= 'a' && t[1] <= 'z';
}

static int collect(const char *t, size_t len, unsigned wdf, void *ctx)
{
    struct model *m = ctx;
    if (!feedback_term(m, t, len))
        return 0;
    if (m->used + len > m->cap) {
        size_t cap = (m->cap ? m->cap * 2 : 4096) + len;
        char *a = realloc(m->arena, cap);
        if (!a)
            goto nomem;
        m->arena = a;
        m->cap = cap;
    }
    if (m->n == m->n_cap) {
        size_t cap = m->n_cap ? m->n_cap * 2 : 256;
        struct part *p = realloc(m->parts, cap * sizeof *p);
        if (!p)
            goto nomem;
        m->parts = p;
        m->n_cap = cap;
    }
    memcpy(m->arena + m->used, t, len);
    m->parts[m->n++] = (struct part){m->used, len, NULL, 0, (double)wdf};
    m->used += len;
    m->doc_len += wdf;
    return 0;
nomem:
    m->nomem = 1;
    return 1;
}

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al < bl ? -1 : al > bl);
}

/* By term, then by the document's rank. */
static int by_term(const void *x, const void *y)
{
    const struct part *a = x, *b = y;
    int c = cmp_bytes(a->term, a->len, b->term, b->len);
    return c ? c : (a->doc > b->doc) - (a->doc < b->doc);
}

/* Heaviest first, then by term. */
static int by_share(const void *x, const void *y)
{
    const struct part *a = x, *b = y;
    if (a->share != b->share)
        return a->share > b->share ? -1 : 1;
    return cmp_bytes(a->term, a->len, b->term, b->len);
}

int kb_feedback_expand(xap_reader *r, const struct kb_query_spec *spec, xap_query **q,
                       int *expanded, struct xap_error *err)
{
    struct xap_enquire_opts o;
    struct model m = {0};
    xap_query *rq = NULL, *ex = NULL, *scaled = NULL, *out = NULL;
    xap_query **terms = NULL;
    xap_result *top = NULL;
    size_t nt = 0;
    *expanded = 0;
    m.also = spec->feedback_prefix ? spec->feedback_prefix : "";
    m.also_len = strlen(m.also);
    int rc = kb_query_restrict(spec, *q, &rq, err);
    kb_query_pass_opts(spec, &o);
    if (!rc)
        rc = xap_enquire_run(r, rq, &o, 0, spec->feedback_docs, &top, err);
    if (rc)
        goto out;
    size_t n_top = xap_result_size(top);
    double total = 0;
    for (size_t i = 0; i < n_top; i++) {
        struct xap_hit h;
        xap_result_hit(top, i, &h);
        total += h.weight;
    }
    if (!n_top || total <= 0)
        goto out;
    /* P(w | R) = sum over the top documents d of P(w | d) * score(d) / sum of scores;
     * concepts count as words, so that the model also lifts briefs on the same topic in
     * another language (stemmed words only lift their own language) */
    for (size_t i = 0; i < n_top; i++) {
        struct xap_hit h;
        xap_result_hit(top, i, &h);
        m.doc_first = m.n;
        m.doc_len = 0;
        rc = xap_reader_for_each_doc_term(r, h.docid, NULL, collect, &m, err);
        if (m.nomem) {
            rc = kb_query_nomem(err);
            goto out;
        }
        if (rc)
            goto out;
        for (size_t k = m.doc_first; k < m.n; k++) {
            m.parts[k].doc = i;
            m.parts[k].share = (h.weight / total) * (m.parts[k].share / m.doc_len);
        }
    }
    /* one entry per term, its shares summed in rank order */
    for (size_t k = 0; k < m.n; k++)
        m.parts[k].term = m.arena + m.parts[k].off;
    if (m.n)
        qsort(m.parts, m.n, sizeof *m.parts, by_term);
    size_t n_model = 0;
    for (size_t k = 0; k < m.n; k++) {
        struct part *p = &m.parts[k];
        if (n_model && !cmp_bytes(m.parts[n_model - 1].term, m.parts[n_model - 1].len,
                                  p->term, p->len)) {
            m.parts[n_model - 1].share += p->share;
            continue;
        }
        double share = p->share;
        m.parts[n_model] = *p;
        m.parts[n_model].share = 0.0;
        m.parts[n_model].share += share;
        n_model++;
    }
    if (n_model)
        qsort(m.parts, n_model, sizeof *m.parts, by_share);
    /* a word in a large share of the documents says little about the topic (and a
     * model without idf would pick "vehicle" for every query of our corpus) */
    double max_df = spec->feedback_max_df > 0 ? spec->feedback_max_df : 0.2;
    unsigned docs = 0;
    if ((rc = xap_reader_doc_count(r, &docs, err)))
        goto out;
    double max_freq = max_df * docs;
    size_t want = spec->feedback_terms ? spec->feedback_terms : 40;
    if (!(terms = calloc(want, sizeof *terms))) {
        rc = kb_query_nomem(err);
        goto out;
    }
    double best = 0;
    for (size_t k = 0; k < n_model && nt < want; k++) {
        const struct part *c = &m.parts[k];
        unsigned freq = 0;
        if ((rc = xap_reader_term_freq(r, c->term, c->len, &freq, err)))
            goto out;
        if (freq > max_freq)
            continue;
        if (best <= 0)
            best = c->share;
        xap_query *t = xap_query_term(c->term, c->len, 1, err);
        terms[nt] = t ? xap_query_scale(t, c->share / best, err) : NULL;
        xap_query_free(t);
        if (!terms[nt])
            goto fail;
        nt++;
    }
    if (!nt)
        goto out;
    double w = spec->feedback_weight > 0 ? spec->feedback_weight : 0.4;
    /* AND_MAYBE: the expand terms only re-rank what the query matches, so fields,
     * filters and NOT in the query keep their meaning and the totals do not change */
    if (!(ex = xap_query_combine(XAP_OP_OR, terms, nt, 0, err)) ||
        !(scaled = xap_query_scale(ex, w, err)) ||
        !(out = xap_query_pair(XAP_OP_AND_MAYBE, *q, scaled, err)))
        goto fail;
    xap_query_free(*q);
    *q = out;
    *expanded = 1;
    goto out;
fail:
    rc = err && err->code ? err->code : kb_query_nomem(err);
out:
    if (terms) {
        for (size_t k = 0; k < nt; k++)
            xap_query_free(terms[k]);
        free(terms);
    }
    xap_query_free(rq);
    xap_query_free(ex);
    xap_query_free(scaled);
    xap_result_free(top);
    free(m.arena);
    free(m.parts);
    return rc;
}
