/* SPDX-License-Identifier: MIT */
/*
 * search.c - see search.h. A query the parser rejects is retried as plain words (no
 * operators), so natural language never fails; the result says so (relaxed). Clients
 * without the members scope search with the filter XVpublic (schema.h), so member-only
 * documents are absent from their hits, totals, facet counts and feedback.
 */
#include "query.h"
#include "search.h"
#include "schema.h"
#include "snippet.h"
#include "spelling.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds from a monotonic clock. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void kb_search_params_init(struct kb_search_params *p)
{
    memset(p, 0, sizeof *p);
    p->limit = 10;
    p->snippets = 1;
    p->collapse = 1;
    p->spelling = 1;
    p->correct = 1;
}

static void free_list(char **v, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free(v[i]);
    *n = 0;
}

void kb_search_params_release(struct kb_search_params *p)
{
    free(p->q);
    free_list(p->langs, &p->n_langs);
    free_list(p->topics, &p->n_topics);
    free_list(p->orgs, &p->n_orgs);
    free_list(p->types, &p->n_types);
    kb_search_params_init(p);
}

/* Pseudo-relevance feedback only for queries of at least this many distinct words: on
 * one word it mostly pulls in the top documents' language (bench/relevance/README.md),
 * and it costs a first pass and an ESet. */
#define KB_FEEDBACK_MIN_WORDS 2
/* prefer_lang: documents in the reader's language gain this share of the top score, so
 * that they lead among near-equals (single-word scores of a topic's briefs lie within
 * some 15 % of each other) without passing clearly better matches. On the corpus
 * collection, whose judgements ignore language, sending each query's language costs MAP
 * 0.654 -> 0.609 (0.634 at 0.05, 0.642 at 0.03; run.py --prefer-lang); without the
 * parameter nothing changes. Since concepts widen each word in place, the briefs of one
 * topic score closer across languages: 0.1 left English briefs second for "hydrogène"
 * in the French interface, 0.15 gives its first four to French briefs. */
#define KB_PREFER_LANG_SHARE 0.15
/* Typo tolerance: the corrected query's share of the weight, so that a document that
 * matches the words as typed ranks above one that matches only their corrections
 * (bench/relevance/README.md, "Typo tolerance"). */
#define KB_TYPO_SCALE 0.5
/* A query whose words are all known is corrected only when it finds fewer hits. */
#define KB_TYPO_FEW_HITS 3
/* At most this many concepts, and as many broader ones, widen a query. */
#define KB_SEARCH_MAX_EXTRA 64
/* The weight of a concept next to the words that name it: one word, and a label of
 * several words, which names the concept far more surely than any of its words (a French
 * "combustible" alone is any fuel), and whose concept term, found in every brief that
 * mentions it, has a low idf. On the corpus collection (bench/relevance/README.md), MAP
 * 0.65 with 0.5 / 0.5 (the earlier weight), 0.73 with 1 / 1, 0.83 with 1 / 10; NPL does
 * not move (its queries name few concepts). */
#define KB_CONCEPT_SCALE       1.0
#define KB_CONCEPT_SCALE_LABEL 10.0

static const struct xap_field fields[] = {
    {"title", KB_PFX_TITLE, 0},  {"author", KB_PFX_AUTHOR, 0},
    {"org", KB_PFX_ORG_TEXT, 0}, {"lang", KB_PFX_LANG, 1},
    {"topic", KB_PFX_TOPIC, 1},  {"type", KB_PFX_TYPE, 1},
    {"year", KB_PFX_YEAR, 1},    {"abstract", KB_PFX_ABSTRACT, 0},
};

void kb_search_data_split(const char *data, size_t len, size_t *meta_len,
                          const char **body, size_t *body_len)
{
    const char *nul = data ? memchr(data, '\0', len) : NULL;
    *meta_len = nul ? (size_t)(nul - data) : len;
    *body = nul ? nul + 1 : NULL;
    *body_len = nul ? len - *meta_len - 1 : 0;
}

json_t *kb_search_data_json(const char *data, size_t len, int with_body)
{
    size_t mlen, blen;
    const char *body;
    kb_search_data_split(data, len, &mlen, &body, &blen);
    json_t *d = json_loadb(data, mlen, 0, NULL);
    if (!d)
        return NULL;
    if (!with_body)
        json_object_del(d, "body");
    else if (body)
        json_object_set_new(d, "body", json_stringn(body, blen));
    return d;
}

int kb_search_data_visible(const char *data, size_t len, int members)
{
    if (members)
        return 1;
    size_t mlen, blen;
    const char *body;
    kb_search_data_split(data, len, &mlen, &body, &blen);
    json_t *d = data ? json_loadb(data, mlen, 0, NULL) : NULL;
    const char *v = json_string_value(json_object_get(d, "visibility"));
    int ok = v && !strcmp(v, "public");
    json_decref(d);
    return ok;
}

static int count_visible(struct kb_searcher *sc, int members, unsigned *docs,
                         unsigned per_lang[KB_LANG_COUNT], struct xap_error *xe)
{
    unsigned hidden = 0;
    int rc = xap_reader_doc_count(sc->reader, docs, xe);
    if (!rc && !members)
        rc = xap_reader_term_freq(sc->reader, KB_TERM_MEMBERS, strlen(KB_TERM_MEMBERS),
                                  &hidden, xe);
    for (int l = 0; l < KB_LANG_COUNT; l++)
        per_lang[l] = 0;
    if (rc)
        return rc;
    if (members || !hidden) { /* nothing to hide: the index's own counts */
        for (int l = 0; l < KB_LANG_COUNT && !rc; l++) {
            char term[16];
            snprintf(term, sizeof term, KB_PFX_LANG "%s", kb_lang_code(l));
            rc = xap_reader_term_freq(sc->reader, term, strlen(term), &per_lang[l], xe);
        }
        if (!members) { /* an index without visibility terms shows nothing */
            unsigned pub = 0;
            if (!rc)
                rc = xap_reader_term_freq(sc->reader, KB_TERM_PUBLIC,
                                          strlen(KB_TERM_PUBLIC), &pub, xe);
            if (!rc && pub != *docs) {
                members = 0;
                hidden = 1;
            }
        }
        if (rc || members || !hidden)
            return rc;
    }
    /* public documents only: their number, and a language facet over them */
    static const char *const pub[] = {KB_TERM_PUBLIC};
    struct xap_term_group g = {pub, 1};
    struct xap_facet f = {KB_SLOT_LANG, 0};
    struct kb_query_spec sr;
    kb_query_spec_init(&sr);
    sr.query = "";
    sr.filters = &g;
    sr.n_filters = 1;
    sr.facets = &f;
    sr.n_facets = 1;
    sr.limit = 0;
    sr.check_at_least = *docs;
    xap_result *res = NULL;
    rc = kb_query_run(sc->reader, &sr, &res, xe);
    if (rc)
        return rc;
    size_t lower, est, upper;
    xap_result_counts(res, &lower, &est, &upper);
    *docs = (unsigned)lower;
    for (size_t j = 0; j < xap_result_facet_size(res, 0); j++) {
        const char *val;
        size_t len, count;
        xap_result_facet_value(res, 0, j, &val, &len, &count);
        for (int l = 0; l < KB_LANG_COUNT; l++)
            if (strlen(kb_lang_code(l)) == len && !memcmp(val, kb_lang_code(l), len))
                per_lang[l] = (unsigned)count;
    }
    xap_result_free(res);
    return XAP_OK;
}

int kb_search_count_visible(struct kb_searcher *sc, int members, unsigned *docs,
                            unsigned per_lang[KB_LANG_COUNT], struct kb_error *err)
{
    struct xap_error xe = {0};
    int rc = count_visible(sc, members, docs, per_lang, &xe);
    if (rc && kb_searcher_recover(sc, rc)) {
        memset(&xe, 0, sizeof xe);
        rc = count_visible(sc, members, docs, per_lang, &xe);
    }
    if (rc) { /* never a half-done count: the index's total would count hidden ones */
        *docs = 0;
        for (int l = 0; l < KB_LANG_COUNT; l++)
            per_lang[l] = 0;
        return kb_searcher_error(sc, &xe, err);
    }
    return KB_OK;
}

static const struct {
    int bit;
    const char *name;
    unsigned slot;
    char sep;
} facet_tab[] = {{KB_FACET_LANG, "lang", KB_SLOT_LANG, 0},
                 {KB_FACET_TOPIC, "topic", KB_SLOT_TOPICS, KB_MULTI_SEP},
                 {KB_FACET_YEAR, "year", KB_SLOT_YEAR, 0},
                 {KB_FACET_ORG, "org", KB_SLOT_ORG, 0},
                 {KB_FACET_TYPE, "type", KB_SLOT_TYPE, 0}};

/* Builds "prefix+folded value" terms for a filter group. */
static int filter_terms(char **vals, size_t n, const char *prefix, int fold, char **terms,
                        size_t *nt)
{
    for (size_t i = 0; i < n; i++) {
        struct kb_buf b;
        kb_buf_init(&b, 512);
        kb_buf_adds(&b, prefix);
        if (fold)
            kb_text_normalize(vals[i], strlen(vals[i]), 0, &b);
        else
            kb_buf_adds(&b, vals[i]);
        terms[(*nt)++] = kb_buf_steal(&b);
    }
    return KB_OK;
}

/* The query of a request: its text, fields, and the concepts that widen it (extra and
 * scales: room for 2 * KB_SEARCH_MAX_EXTRA and KB_SEARCH_MAX_EXTRA). */
static void set_query(struct kb_query_spec *req, const struct kb_search_params *p,
                      const struct kb_query *q, const char *qtext, unsigned qp_flags,
                      const char **extra, double *scales)
{
    req->query = qtext;
    req->qp_flags = qp_flags;
    req->fields = fields;
    req->n_fields = sizeof fields / sizeof fields[0];
    /* concepts widen the query across languages: with operators, each word that names
     * one is ORed with it in place (q->parse), and its broader concepts only re-rank;
     * as plain words, all are ORed in. The wrapper keeps them inside NOTs and filters. */
    size_t n_extra = 0;
    int operators = (qp_flags & XAP_QP_BOOLEAN) != 0;
    for (size_t i = 0; !operators && i < q->n_concepts && n_extra < KB_SEARCH_MAX_EXTRA;
         i++)
        extra[n_extra++] = q->concepts[i];
    for (size_t i = 0; i < q->n_broader && i < KB_SEARCH_MAX_EXTRA; i++)
        extra[n_extra++] = q->broader[i];
    for (size_t i = 0; i < q->n_concepts && i < KB_SEARCH_MAX_EXTRA; i++)
        scales[i] = q->concept_words[i] >= 2 ? KB_CONCEPT_SCALE_LABEL : KB_CONCEPT_SCALE;
    if (operators) {
        req->query = q->parse;
        req->concept_field = KB_QUERY_CONCEPT_FIELD;
        req->concept_terms = (const char *const *)q->concepts;
        req->concept_scales = scales;
        req->n_concept_terms =
            p->no_expansion ? 0
                            : (q->n_concepts < KB_SEARCH_MAX_EXTRA ? q->n_concepts
                                                                   : KB_SEARCH_MAX_EXTRA);
    }
    req->extra_terms = extra;
    req->n_extra = p->no_expansion ? 0 : n_extra;
    req->extra_scale = KB_CONCEPT_SCALE;
}

/* One search; `aq` (NULL: none) is the query with its misspellings corrected, searched
 * too and weighed below the query as typed (typo tolerance). */
static int run_once(struct kb_searcher *sc, const struct kb_search_params *p,
                    const struct kb_query *q, const struct kb_query *aq,
                    const char *qtext, unsigned qp_flags, struct kb_search_result *out,
                    struct xap_error *xe)
{
    struct kb_query_spec req, alt;
    const char *extra[2 * KB_SEARCH_MAX_EXTRA], *alt_extra[2 * KB_SEARCH_MAX_EXTRA];
    double scales[KB_SEARCH_MAX_EXTRA], alt_scales[KB_SEARCH_MAX_EXTRA];
    kb_query_spec_init(&req);
    set_query(&req, p, q, qtext, qp_flags, extra, scales);
    if (aq) {
        kb_query_spec_init(&alt);
        /* parsed with the same flags: a retry as plain words reads it as plain words */
        set_query(&alt, p, aq, aq->text, qp_flags, alt_extra, alt_scales);
        alt.max_wildcard = sc->cfg->max_wildcard;
        req.alt = &alt;
        req.alt_scale = KB_TYPO_SCALE;
    }
    req.offset = p->offset;
    req.limit = p->limit;
    req.max_wildcard = sc->cfg->max_wildcard;
    req.time_limit = sc->cfg->query_seconds;
    req.bm25_k1 = sc->cfg->bm25_k1; /* ranking settings: bench/relevance */
    req.bm25_b = sc->cfg->bm25_b;
    req.weighting = sc->cfg->ranking == KB_RANK_BM25 ? XAP_WEIGHT_BM25 : XAP_WEIGHT_BB2;
    req.bb2_c = sc->cfg->bb2_c;
    req.feedback_docs = p->no_expansion ? 0 : sc->cfg->feedback_docs;
    req.feedback_terms = sc->cfg->feedback_terms;
    req.feedback_weight = sc->cfg->feedback_weight;
    req.feedback_max_df = sc->cfg->feedback_max_df;
    req.feedback_prefix = KB_PFX_CONCEPT;
    req.feedback_min_words = KB_FEEDBACK_MIN_WORDS;
    req.collapse_slot = p->collapse ? KB_SLOT_CHECKSUM : -1;
    req.group_prefix = KB_PFX_GROUP; /* translations rise together */
    req.group_share = sc->cfg->translation_share;
    int empty = !qtext[0];
    if (p->sort == KB_SORT_NEWEST || (empty && p->sort == KB_SORT_RELEVANCE)) {
        req.sort = XAP_SORT_VALUE_DESC;
        req.sort_slot = KB_SLOT_DATE;
    } else if (p->sort == KB_SORT_OLDEST) {
        /* descending on -date: undated documents (no value) come last, as for newest */
        req.sort = XAP_SORT_VALUE_DESC;
        req.sort_slot = KB_SLOT_DATE_NEG;
    }
    /* the reader's language among near-equals: a boost, never a filter */
    char boost[8];
    if (p->prefer_lang[0]) {
        snprintf(boost, sizeof boost, "%s%s", KB_PFX_LANG, p->prefer_lang);
        req.boost_term = boost;
        req.boost_share = KB_PREFER_LANG_SHARE;
    }

    char *terms[4 * KB_SEARCH_MAX_VALUES];
    size_t nt = 0;
    struct xap_term_group groups[5];
    size_t ng = 0;
    static const char *const public_only[] = {KB_TERM_PUBLIC};
    unsigned docs = 0, pub = 0;
    xap_reader_doc_count(sc->reader, &docs, xe);
    /* the one door for hits, totals, facets and feedback; left out when every document
     * is public, where it only costs the match a posting list to walk */
    if (!p->members && (xap_reader_term_freq(sc->reader, KB_TERM_PUBLIC,
                                             strlen(KB_TERM_PUBLIC), &pub, xe) ||
                        pub != docs))
        groups[ng++] = (struct xap_term_group){public_only, 1};
    struct {
        char **vals;
        size_t n;
        const char *prefix;
        int fold;
    } fl[4] = {{(char **)p->langs, p->n_langs, KB_PFX_LANG, 1},
               {(char **)p->topics, p->n_topics, KB_PFX_TOPIC, 0},
               {(char **)p->orgs, p->n_orgs, KB_PFX_ORG, 1},
               {(char **)p->types, p->n_types, KB_PFX_TYPE, 1}};
    for (int i = 0; i < 4; i++) {
        if (!fl[i].n)
            continue;
        size_t start = nt;
        filter_terms(fl[i].vals, fl[i].n, fl[i].prefix, fl[i].fold, terms, &nt);
        groups[ng].terms = (const char *const *)&terms[start];
        groups[ng].n = nt - start;
        ng++;
    }
    req.filters = groups;
    req.n_filters = ng;
    struct xap_range range = {KB_SLOT_DATE, p->date_from, p->date_to, p->date_from > 0,
                              p->date_to > 0};
    if (range.has_lo || range.has_hi) {
        req.ranges = &range;
        req.n_ranges = 1;
    }
    struct xap_facet facets[5];
    size_t nf = 0;
    for (size_t i = 0; i < 5; i++)
        if (p->facets & facet_tab[i].bit)
            facets[nf++] = (struct xap_facet){facet_tab[i].slot, facet_tab[i].sep};
    req.facets = facets;
    req.n_facets = nf;
    /* exact totals and facet counts: look at every match (bounded by the time limit);
     * a knowledge base of up to KB_EXACT_DOCS documents always gets exact totals */
    int all = nf || (docs <= KB_EXACT_DOCS && !getenv("KBX_NOEXACT"));
    req.check_at_least = all ? docs : p->offset + p->limit + 1;

    xap_result *res = NULL;
    double t_search = now();
    int rc = kb_query_run(sc->reader, &req, &res, xe);
    /* Xapian's time limit stops the match quietly: notice it by the clock */
    int timed_out = !rc && req.time_limit > 0 && now() - t_search >= req.time_limit;
    for (size_t i = 0; i < nt; i++)
        free(terms[i]);
    if (rc)
        return rc;

    size_t lower, est, upper;
    xap_result_counts(res, &lower, &est, &upper);
    /* every match seen: the lower bound is exact, even with collapsing (whose upper
     * bound still counts the collapsed duplicates) */
    int exact = (all && !timed_out) || lower == upper;
    kb_search_result_release(out);
    out->total = all && exact ? lower : est;
    out->total_exact = exact;
    out->timed_out = timed_out;
    size_t n = xap_result_size(res);
    out->hits = n ? calloc(n, sizeof *out->hits) : NULL;
    for (size_t i = 0; out->hits && i < n; i++) {
        struct xap_hit h;
        struct kb_search_hit *hit = &out->hits[out->n_hits++];
        xap_result_hit(res, i, &h);
        /* only the metadata is decoded: the hit's data is the metadata alone
         * (KB_SLOT_META), or metadata NUL body in an index stored before the slot */
        size_t mlen, blen;
        const char *body;
        kb_search_data_split(h.data, h.data_len, &mlen, &body, &blen);
        json_t *d = json_loadb(h.data, mlen, 0, NULL);
        hit->meta = d;
        hit->score = h.weight;
        hit->duplicates = (unsigned)h.collapsed;
        if (!p->snippets)
            continue;
        /* the snippets share the search's time limit: past it, the hits left go without
         * one, and the result says it timed out */
        if (req.time_limit > 0 && now() - t_search >= req.time_limit) {
            out->timed_out = 1;
            continue;
        }
        char *data = NULL;
        size_t len = 0;
        if (!body && !xap_result_hit_data(res, i, &data, &len, NULL)) {
            kb_search_data_split(data, len, &mlen, &body, &blen);
        }
        hit->snippet = kb_snippet_for(res, sc, d, body, blen, &hit->page);
        hit->title_highlight = d && qtext[0] ? kb_snippet_title(res, sc, d) : NULL;
        free(data);
    }
    for (size_t i = 0; i < KB_FACET_COUNT && nf; i++) {
        if (!(p->facets & facet_tab[i].bit))
            continue;
        size_t k = out->n_facets++;
        struct kb_search_facet *f = &out->facets[k];
        f->name = facet_tab[i].name;
        size_t m = xap_result_facet_size(res, k);
        f->v = m ? calloc(m, sizeof *f->v) : NULL;
        for (size_t j = 0; f->v && j < m; j++) {
            const char *val;
            size_t len, count;
            xap_result_facet_value(res, k, j, &val, &len, &count);
            f->v[f->n].value = strndup(val, len);
            f->v[f->n++].count = count;
        }
    }
    xap_result_free(res);
    return XAP_OK;
}

/* Runs q (and aq, the corrected query, when not NULL), retried as plain words when the
 * parser rejects it and once across a concurrent commit. */
static int run_query(struct kb_searcher *sc, const struct kb_search_params *p,
                     const struct kb_query *q, const struct kb_query *aq,
                     struct kb_search_result *out, int *relaxed, struct xap_error *xe)
{
    unsigned flags = XAP_QP_DEFAULT | XAP_QP_WILDCARD | XAP_QP_PURE_NOT;
    int rc = XAP_OK;
    *relaxed = q->relaxed_case;
    for (int attempt = 0; attempt < 3; attempt++) {
        memset(xe, 0, sizeof *xe);
        rc = run_once(sc, p, q, aq, q->text, flags, out, xe);
        unsigned plain = 0;
        if (rc == XAP_E_QUERY_SYNTAX && flags != plain) {
            /* forgiving: stray operators or quotes are read as plain words */
            flags = plain;
            *relaxed = 1;
            continue;
        }
        if (rc && attempt < 2 && kb_searcher_recover(sc, rc))
            continue;
        break;
    }
    return rc;
}

void kb_search_result_release(struct kb_search_result *r)
{
    for (size_t i = 0; i < r->n_hits; i++) {
        json_decref(r->hits[i].meta);
        free(r->hits[i].snippet);
        free(r->hits[i].title_highlight);
    }
    free(r->hits);
    for (size_t i = 0; i < r->n_facets; i++) {
        for (size_t j = 0; j < r->facets[i].n; j++)
            free(r->facets[i].v[j].value);
        free(r->facets[i].v);
    }
    free(r->suggestion);
    free(r->corrected);
    memset(r, 0, sizeof *r);
}

int kb_search_exec(struct kb_searcher *sc, const struct kb_search_params *p,
                   struct kb_search_result *out, struct kb_error *err)
{
    struct kb_query q, aq;
    const char *raw = p->q ? p->q : "";
    memset(out, 0, sizeof *out);
    int rc = kb_query_prepare(sc->res, raw, strlen(raw), &q, err);
    if (rc)
        return rc;
    struct xap_error xe = {0};
    struct kb_search_result o = {0};
    int relaxed = 0;
    /* "did you mean": only words the index does not know are corrected */
    /* typo tolerance: the near ones among those corrections are searched in the same
     * request */
    int tolerant = p->spelling && p->correct && sc->cfg->typo_tolerance && raw[0];
    char *corr = NULL;
    size_t n_known = 0;
    char *sug = p->spelling && raw[0]
                    ? kb_spelling_did_you_mean(sc, raw, 0, &corr, &n_known)
                    : NULL;
    if (!tolerant) {
        free(corr);
        corr = NULL;
    }
    struct kb_error aerr; /* a correction that cannot be prepared is left out */
    kb_error_clear(&aerr);
    if (corr && kb_query_prepare(sc->res, corr, strlen(corr), &aq, &aerr)) {
        free(corr);
        corr = NULL;
    }
    rc = run_query(sc, p, &q, corr ? &aq : NULL, &o, &relaxed, &xe);
    if (!rc && tolerant && !corr && n_known && o.total < KB_TYPO_FEW_HITS) {
        /* every word known, yet little found: a known word may be a misspelling of a
         * more frequent one; kept only when the corrections find more */
        free(kb_spelling_did_you_mean(sc, raw, 1, &corr, NULL));
        if (corr && kb_query_prepare(sc->res, corr, strlen(corr), &aq, &aerr)) {
            free(corr);
            corr = NULL;
        }
        struct kb_search_result o2 = {0};
        int relaxed2 = 0;
        struct xap_error xe2 = {0};
        if (corr && !run_query(sc, p, &q, &aq, &o2, &relaxed2, &xe2) &&
            o2.total > o.total) {
            kb_search_result_release(&o);
            o = o2;
            relaxed = relaxed2;
        } else {
            kb_search_result_release(&o2);
            if (corr)
                kb_query_release(&aq);
            free(corr);
            corr = NULL;
        }
    }
    kb_query_release(&q);
    if (corr)
        kb_query_release(&aq);
    if (rc) {
        kb_search_result_release(&o);
        free(sug);
        free(corr);
        if (rc == XAP_E_WILDCARD)
            return kb_error_set(err, KB_ETOOBIG,
                                "a wildcard matches more than %zu terms: make it longer",
                                sc->cfg->max_wildcard);
        return kb_searcher_error(sc, &xe, err);
    }
    o.revision = kb_searcher_revision(sc);
    o.suggestion = sug;
    o.corrected = corr; /* the query searched, beside the query as typed */
    o.relaxed = relaxed;
    *out = o;
    return KB_OK;
}

/* Document `id`'s stored data (malloc'ed into *data, *len bytes), looked up by its
 * unique-id term; a reader whose revision went away is refreshed and asked again.
 * Returns the binding's code (XAP_E_NOT_FOUND: no such id). */
static int doc_data(struct kb_searcher *sc, const char *id, char **data, size_t *len,
                    struct xap_error *xe)
{
    char term[KB_UID_TERM_MAX];
    size_t tl = kb_query_uid_term(KB_PFX_UID, id, strlen(id), term, sizeof term);
    int rc = xap_reader_term_doc_data(sc->reader, term, tl, data, len, xe);
    if (rc && kb_searcher_recover(sc, rc)) {
        memset(xe, 0, sizeof *xe);
        rc = xap_reader_term_doc_data(sc->reader, term, tl, data, len, xe);
    }
    return rc;
}

int kb_search_document(struct kb_searcher *sc, const char *id, int with_body, int members,
                       json_t **out, struct kb_error *err)
{
    struct xap_error xe = {0};
    char *data = NULL;
    size_t len = 0;
    int rc = doc_data(sc, id, &data, &len, &xe);
    if (rc == XAP_E_NOT_FOUND || rc == XAP_E_DOC_NOT_FOUND)
        return kb_error_set(err, KB_ENOTFOUND, "no document '%s'", id);
    if (rc)
        return kb_searcher_error(sc, &xe, err);
    if (!kb_search_data_visible(data, len, members)) {
        free(data); /* the same answer as for an id that was never indexed */
        return kb_error_set(err, KB_ENOTFOUND, "no document '%s'", id);
    }
    *out = kb_search_data_json(data, len, with_body);
    free(data);
    if (!*out)
        return kb_error_set(err, KB_EINDEX, "the stored data of '%s' is not JSON", id);
    return KB_OK;
}

int kb_search_document_visible(struct kb_searcher *sc, const char *id, int members)
{
    struct xap_error xe = {0};
    char *data = NULL;
    size_t len = 0;
    int rc = doc_data(sc, id, &data, &len, &xe);
    if (!rc && !kb_search_data_visible(data, len, members))
        rc = XAP_E_NOT_FOUND;
    free(data);
    return !rc ? 1 : rc == XAP_E_NOT_FOUND || rc == XAP_E_DOC_NOT_FOUND ? 0 : -1;
}

int kb_search_similar(struct kb_searcher *sc, const char *id, size_t offset, size_t limit,
                      int members, struct kb_search_result *out, struct kb_error *err)
{
    struct xap_error xe = {0};
    xap_result *res = NULL;
    memset(out, 0, sizeof *out);
    static const char *const public_only[] = {KB_TERM_PUBLIC};
    struct xap_term_group pub = {public_only, 1};
    struct kb_query_spec sr;
    kb_query_spec_init(&sr);
    sr.offset = offset;
    sr.limit = limit;
    sr.collapse_slot = KB_SLOT_CHECKSUM;
    sr.time_limit = sc->cfg->query_seconds;
    if (!members) {
        sr.filters = &pub;
        sr.n_filters = 1;
    }
    /* totals as a search gives them: exact up to KB_EXACT_DOCS documents (an estimate
     * would also depend on how the documents are split into shards) */
    unsigned docs = 0;
    xap_reader_doc_count(sc->reader, &docs, &xe);
    memset(&xe, 0, sizeof xe);
    int all = docs <= KB_EXACT_DOCS && !getenv("KBX_NOEXACT");
    sr.check_at_least = all ? docs : offset + limit + 1;
    double t0 = now();
    int rc = kb_query_similar(sc->reader, id, strlen(id), 20, &sr, &res, &xe);
    if (rc && kb_searcher_recover(sc, rc)) {
        memset(&xe, 0, sizeof xe);
        rc = kb_query_similar(sc->reader, id, strlen(id), 20, &sr, &res, &xe);
    }
    if (rc == XAP_E_NOT_FOUND || rc == XAP_E_DOC_NOT_FOUND)
        return kb_error_set(err, KB_ENOTFOUND, "no document '%s'", id);
    if (rc)
        return kb_searcher_error(sc, &xe, err);
    size_t lower, est, upper;
    xap_result_counts(res, &lower, &est, &upper);
    int timed_out = sr.time_limit > 0 && now() - t0 >= sr.time_limit;
    int exact = (all && !timed_out) || lower == upper;
    out->total = all && exact ? lower : est;
    out->total_exact = exact;
    out->timed_out = timed_out;
    size_t n = xap_result_size(res);
    out->hits = n ? calloc(n, sizeof *out->hits) : NULL;
    for (size_t i = 0; out->hits && i < n; i++) {
        struct xap_hit h;
        xap_result_hit(res, i, &h);
        size_t mlen, blen;
        const char *body;
        kb_search_data_split(h.data, h.data_len, &mlen, &body, &blen);
        out->hits[i].meta = json_loadb(h.data, mlen, 0, NULL);
        out->hits[i].score = h.weight;
        out->n_hits++;
    }
    xap_result_free(res);
    out->revision = kb_searcher_revision(sc);
    return KB_OK;
}
