/* SPDX-License-Identifier: MIT */
/*
 * search.c - see search.h. Parameter rules (all limits from the configuration):
 *   q         any text up to max_query_bytes; "" lists everything (newest first)
 *   lang, topic, org, type   comma-separated or repeated; values ORed, fields ANDed
 *   from, to  YYYY or YYYY-MM-DD (inclusive)
 *   sort      relevance | newest | oldest
 *   page+size or offset+limit; size/limit <= max_page_size; offset <= max_offset
 *   facets    true | false | comma list of lang,topic,year,org,type
 *   snippets  true | false (default true)
 * A query the parser rejects is retried as plain words (no operators), so natural
 * language never fails; "relaxed": true in the response says so.
 */
#include "search.h"
#include "schema.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kb_search_params_init(struct kb_search_params *p)
{
    memset(p, 0, sizeof *p);
    p->limit = 10;
    p->snippets = 1;
    p->collapse = 1;
    p->spelling = 1;
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

/* Appends the comma-separated values of s to a list. */
static int add_values(char **v, size_t *n, const char *s, const char *name,
                      struct kb_error *err)
{
    while (s && *s) {
        size_t len = strcspn(s, ",");
        while (len && isspace((unsigned char)*s)) {
            s++;
            len--;
        }
        size_t l2 = len;
        while (l2 && isspace((unsigned char)s[l2 - 1]))
            l2--;
        if (l2) {
            if (*n >= KB_SEARCH_MAX_VALUES)
                return kb_error_set(err, KB_EINVAL, "'%s' takes at most %d values", name,
                                    KB_SEARCH_MAX_VALUES);
            if (l2 > 200)
                return kb_error_set(err, KB_EINVAL,
                                    "a '%s' value is longer than 200 bytes", name);
            v[*n] = strndup(s, l2);
            if (!v[*n])
                return kb_error_set(err, KB_ENOMEM, "out of memory");
            (*n)++;
        }
        s += len;
        if (*s == ',')
            s++;
    }
    return KB_OK;
}

static int parse_uint(const char *s, size_t max, size_t *out, const char *name,
                      struct kb_error *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || v > max)
        return kb_error_set(err, KB_EINVAL, "'%s' must be a whole number from 0 to %zu",
                            name, max);
    *out = (size_t)v;
    return KB_OK;
}

static int parse_bool(const char *s, int *out, const char *name, struct kb_error *err)
{
    if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes"))
        *out = 1;
    else if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no"))
        *out = 0;
    else
        return kb_error_set(err, KB_EINVAL, "'%s' must be true or false", name);
    return KB_OK;
}

/* YYYY or YYYY-MM-DD -> YYYYMMDD; end of period when `upper`. */
static int parse_date(const char *s, int upper, double *out, const char *name,
                      struct kb_error *err)
{
    if (strlen(s) == 4 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
        isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3])) {
        *out = atof(s) * 10000 + (upper ? 1231 : 101);
        return KB_OK;
    }
    if (kb_date_valid(s)) {
        *out = kb_date_number(s);
        return KB_OK;
    }
    return kb_error_set(err, KB_EINVAL, "'%s' must be YYYY or YYYY-MM-DD", name);
}

static int parse_facets(const char *s, int *out, struct kb_error *err)
{
    int b;
    if (parse_bool(s, &b, "facets", NULL) == KB_OK) {
        *out = b ? KB_FACET_ALL : 0;
        return KB_OK;
    }
    static const struct {
        const char *name;
        int bit;
    } tab[] = {{"lang", KB_FACET_LANG},
               {"topic", KB_FACET_TOPIC},
               {"year", KB_FACET_YEAR},
               {"org", KB_FACET_ORG},
               {"type", KB_FACET_TYPE}};
    *out = 0;
    while (*s) {
        size_t len = strcspn(s, ",");
        size_t i;
        for (i = 0; i < 5; i++)
            if (strlen(tab[i].name) == len && !strncmp(s, tab[i].name, len))
                break;
        if (i == 5)
            return kb_error_set(
                err, KB_EINVAL,
                "'facets' must be true, false or a list of lang, topic, year, "
                "org, type");
        *out |= tab[i].bit;
        s += len;
        if (*s == ',')
            s++;
    }
    return KB_OK;
}

/* One named parameter, whatever its source. */
static int set_param(struct kb_search_params *p, const char *k, const char *v,
                     const struct kb_config *cfg, size_t *page, size_t *size,
                     int *has_page, struct kb_error *err)
{
    /* a query string may carry any byte (%FF), in names too; JSON bodies are already
     * checked. (A name that is not UTF-8 must not reach the error message: JSON.) */
    if (!kb_utf8_valid(k, strlen(k))) {
        p->err_code = "unknown_parameter";
        return kb_error_set(err, KB_EINVAL, "a parameter name is not valid UTF-8");
    }
    if (!kb_utf8_valid(v, strlen(v)))
        return kb_error_set(err, KB_EINVAL, "'%s' is not valid UTF-8", k);
    if (!strcmp(k, "q")) {
        if (strlen(v) > cfg->max_query_bytes) {
            p->err_code = "query_too_long";
            return kb_error_set(err, KB_ETOOBIG, "'q' is longer than %zu bytes",
                                cfg->max_query_bytes);
        }
        free(p->q);
        p->q = strdup(v);
        return p->q ? KB_OK : kb_error_set(err, KB_ENOMEM, "out of memory");
    }
    if (!strcmp(k, "lang"))
        return add_values(p->langs, &p->n_langs, v, k, err);
    if (!strcmp(k, "topic"))
        return add_values(p->topics, &p->n_topics, v, k, err);
    if (!strcmp(k, "org"))
        return add_values(p->orgs, &p->n_orgs, v, k, err);
    if (!strcmp(k, "type"))
        return add_values(p->types, &p->n_types, v, k, err);
    if (!strcmp(k, "from"))
        return parse_date(v, 0, &p->date_from, k, err);
    if (!strcmp(k, "to"))
        return parse_date(v, 1, &p->date_to, k, err);
    if (!strcmp(k, "sort")) {
        if (!strcmp(v, "relevance"))
            p->sort = KB_SORT_RELEVANCE;
        else if (!strcmp(v, "newest"))
            p->sort = KB_SORT_NEWEST;
        else if (!strcmp(v, "oldest"))
            p->sort = KB_SORT_OLDEST;
        else
            return kb_error_set(err, KB_EINVAL,
                                "'sort' must be relevance, newest or oldest");
        return KB_OK;
    }
    if (!strcmp(k, "page")) {
        *has_page = 1;
        int rc = parse_uint(v, 1000000, page, k, err);
        if (!rc && *page == 0)
            rc = kb_error_set(err, KB_EINVAL, "'page' starts at 1");
        return rc;
    }
    if (!strcmp(k, "size") || !strcmp(k, "limit")) {
        if (!strcmp(k, "size"))
            *has_page = 1;
        int rc = parse_uint(v, cfg->max_page_size, size, k, err);
        if (rc) {
            kb_error_clear(err);
            p->err_code = "page_too_large";
            return kb_error_set(err, KB_EINVAL, "'%s' must be from 0 to %zu", k,
                                cfg->max_page_size);
        }
        return KB_OK;
    }
    if (!strcmp(k, "offset")) {
        int rc = parse_uint(v, cfg->max_offset, &p->offset, k, err);
        if (rc)
            p->err_code = "offset_too_deep";
        return rc;
    }
    if (!strcmp(k, "facets"))
        return parse_facets(v, &p->facets, err);
    if (!strcmp(k, "snippets"))
        return parse_bool(v, &p->snippets, k, err);
    if (!strcmp(k, "collapse"))
        return parse_bool(v, &p->collapse, k, err);
    p->err_code = "unknown_parameter";
    return kb_error_set(err, KB_EINVAL, "unknown parameter '%s'", k);
}

struct qctx {
    struct kb_search_params *p;
    const struct kb_config *cfg;
    size_t page, size;
    int has_page;
    struct kb_error *err;
    int rc;
};

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind, const char *k,
                                const char *v)
{
    struct qctx *c = cls;
    (void)kind;
    if (c->rc)
        return MHD_NO;
    c->rc =
        set_param(c->p, k, v ? v : "", c->cfg, &c->page, &c->size, &c->has_page, c->err);
    return c->rc ? MHD_NO : MHD_YES;
}

static void finish_paging(struct qctx *c)
{
    if (c->has_page)
        c->p->offset = (c->page ? c->page - 1 : 0) * c->size;
    c->p->limit = c->size;
    if (c->p->offset > c->cfg->max_offset && !c->rc)
        c->p->err_code = "offset_too_deep";
    if (c->p->offset > c->cfg->max_offset)
        c->rc = kb_error_set(c->err, KB_EINVAL, "results deeper than %zu are not served",
                             c->cfg->max_offset);
}

int kb_search_params_from_query(struct kb_search_params *p, const struct kb_req *req,
                                struct kb_error *err)
{
    struct qctx c = {p, &req->srv->cfg, 1, 10, 0, err, 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, each_arg, &c);
    if (!c.rc)
        finish_paging(&c);
    return c.rc;
}

int kb_search_params_from_pairs(struct kb_search_params *p, const char *const *kv,
                                size_t n, const struct kb_config *cfg,
                                struct kb_error *err)
{
    struct qctx c = {p, cfg, 1, 10, 0, err, 0};
    for (size_t i = 0; i < n && !c.rc; i++)
        each_arg(&c, MHD_GET_ARGUMENT_KIND, kv[2 * i], kv[2 * i + 1]);
    if (!c.rc)
        finish_paging(&c);
    return c.rc;
}

int kb_search_params_from_json(struct kb_search_params *p, const json_t *o,
                               const struct kb_config *cfg, struct kb_error *err)
{
    if (!json_is_object(o))
        return kb_error_set(err, KB_EPARSE, "the request body must be a JSON object");
    struct qctx c = {p, cfg, 1, 10, 0, err, 0};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        char num[64];
        const char *s = NULL;
        if (json_is_string(v)) {
            s = json_string_value(v);
        } else if (json_is_integer(v)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            s = num;
        } else if (json_is_boolean(v)) {
            s = json_is_true(v) ? "true" : "false";
        } else if (json_is_array(v)) {
            size_t i;
            json_t *it;
            json_array_foreach(v, i, it)
            {
                if (!json_is_string(it)) {
                    c.rc = kb_error_set(err, KB_EINVAL, "'%s' must hold strings", k);
                    break;
                }
                if ((c.rc = set_param(p, k, json_string_value(it), cfg, &c.page, &c.size,
                                      &c.has_page, err)))
                    break;
            }
            if (c.rc)
                return c.rc;
            continue;
        } else {
            return kb_error_set(err, KB_EINVAL, "'%s' has the wrong type", k);
        }
        if ((c.rc = set_param(p, k, s, cfg, &c.page, &c.size, &c.has_page, err)))
            return c.rc;
    }
    finish_paging(&c);
    return c.rc;
}

/* --- running
 * ---------------------------------------------------------------------------- */

/* "Did you mean" is computed and shown only below this many matches: Xapian also
 * proposes more frequent neighbours of correctly spelt words. */
#define KB_SUGGEST_BELOW 3
/* Pseudo-relevance feedback only for queries of at least this many distinct words: on
 * one word it mostly pulls in the top documents' language (bench/relevance/README.md),
 * and it costs a first pass and an ESet. */
#define KB_FEEDBACK_MIN_WORDS 2

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

/* A hit (new reference) from the metadata object d (borrowed). */
static json_t *hit_from_meta(const json_t *d)
{
    const char *id = json_string_value(json_object_get(d, "id"));
    const char *title = json_string_value(json_object_get(d, "title"));
    json_t *hit = json_object();
    json_object_set(hit, "id", json_object_get(d, "id"));
    json_object_set_new(hit, "title", json_string(title ? title : ""));
    char url[600];
    snprintf(url, sizeof url, "/api/v1/documents/%s", id ? id : "");
    json_object_set_new(hit, "url", json_string(url));
    static const char *copy[] = {"lang", "date", "org", "type", "format", "source"};
    for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++) {
        json_t *v = json_object_get(d, copy[i]);
        json_object_set(hit, copy[i], v ? v : json_null());
    }
    json_t *topics = json_object_get(d, "topics");
    json_object_set(hit, "topics", topics ? topics : json_array());
    return hit;
}

json_t *kb_search_hit_json(const char *data, size_t len)
{
    size_t mlen, blen;
    const char *body;
    kb_search_data_split(data, len, &mlen, &body, &blen);
    json_t *d = json_loadb(data, mlen, 0, NULL);
    if (!d)
        return json_object();
    json_t *hit = hit_from_meta(d);
    json_decref(d);
    return hit;
}

/* The snippet of a hit from its metadata d (borrowed) and body text (borrowed; NULL:
 * d's "body"); for paged documents also the first page that matches. */
static json_t *snippet_for(const xap_result *res, struct kb_worker *w, const json_t *d,
                           const char *body, size_t blen, int *page)
{
    if (!body) {
        body = json_string_value(json_object_get(d, "body"));
        blen = body ? json_string_length(json_object_get(d, "body")) : 0;
    }
    const char *lang = json_string_value(json_object_get(d, "lang"));
    int l = kb_lang_from_code(lang);
    xap_analyzer *an = w->an.an[l >= 0 ? l : KB_LANG_EN];
    char *snip = NULL;
    *page = 0;
    if (body) {
        json_int_t pages = json_integer_value(json_object_get(d, "pages"));
        if (pages > 1 && memchr(body, '\f', blen)) {
            const char *s = body, *end = body + blen;
            for (int pg = 1; s && !snip; pg++) {
                const char *e = memchr(s, '\f', (size_t)(end - s));
                size_t n = e ? (size_t)(e - s) : (size_t)(end - s);
                char *c = xap_result_snippet(res, w->reader, an, s, n, 240, "<mark>",
                                             "</mark>", 1, NULL);
                if (c && *c) {
                    snip = c;
                    *page = pg;
                } else {
                    free(c);
                }
                s = e ? e + 1 : NULL;
            }
        }
        if (!snip)
            snip = xap_result_snippet(res, w->reader, an, body, blen, 240, "<mark>",
                                      "</mark>", 0, NULL);
    }
    json_t *out = json_string(snip ? snip : "");
    free(snip);
    return out;
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

static int run_once(struct kb_server *srv, struct kb_worker *w,
                    const struct kb_search_params *p, const struct kb_query *q,
                    const char *qtext, unsigned qp_flags, json_t **out,
                    struct xap_error *xe)
{
    struct xap_search_req req;
    xap_search_req_init(&req);
    req.query = qtext;
    req.qp_flags = qp_flags;
    req.fields = fields;
    req.n_fields = sizeof fields / sizeof fields[0];
    /* concepts widen the query across languages; the wrapper keeps them inside the
     * query's NOTs and filters */
    req.extra_terms = (const char *const *)q->concepts;
    req.n_extra = p->no_expansion ? 0 : q->n_concepts;
    req.extra_scale = 0.5;
    req.offset = p->offset;
    req.limit = p->limit;
    req.max_wildcard = srv->cfg.max_wildcard;
    req.time_limit = srv->cfg.query_seconds;
    req.bm25_k1 = srv->cfg.bm25_k1; /* ranking settings: bench/relevance */
    req.bm25_b = srv->cfg.bm25_b;
    req.weighting = srv->cfg.ranking == KB_RANK_BM25 ? XAP_WEIGHT_BM25 : XAP_WEIGHT_BB2;
    req.bb2_c = srv->cfg.bb2_c;
    req.feedback_docs = p->no_expansion ? 0 : srv->cfg.feedback_docs;
    req.feedback_terms = srv->cfg.feedback_terms;
    req.feedback_weight = srv->cfg.feedback_weight;
    req.feedback_max_df = srv->cfg.feedback_max_df;
    req.feedback_prefix = KB_PFX_CONCEPT;
    req.feedback_min_words = KB_FEEDBACK_MIN_WORDS;
    req.spelling_below = KB_SUGGEST_BELOW;
    req.collapse_slot = p->collapse ? KB_SLOT_CHECKSUM : -1;
    int empty = !qtext[0];
    if (p->sort == KB_SORT_NEWEST || (empty && p->sort == KB_SORT_RELEVANCE)) {
        req.sort = XAP_SORT_VALUE_DESC;
        req.sort_slot = KB_SLOT_DATE;
    } else if (p->sort == KB_SORT_OLDEST) {
        req.sort = XAP_SORT_VALUE_ASC;
        req.sort_slot = KB_SLOT_DATE;
    }

    char *terms[4 * KB_SEARCH_MAX_VALUES];
    size_t nt = 0;
    struct xap_term_group groups[4];
    size_t ng = 0;
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
    unsigned docs = 0;
    xap_reader_doc_count(w->reader, &docs, xe);
    /* exact totals and facet counts: look at every match (bounded by the time limit);
     * a knowledge base of up to KB_EXACT_DOCS documents always gets exact totals */
    int all = nf || docs <= KB_EXACT_DOCS;
    req.check_at_least = all ? docs : p->offset + p->limit + 1;

    xap_result *res = NULL;
    double t_search = kb_now();
    int rc = xap_search(w->reader, &req, &res, xe);
    /* Xapian's time limit stops the match quietly: notice it by the clock */
    int timed_out = !rc && req.time_limit > 0 && kb_now() - t_search >= req.time_limit;
    for (size_t i = 0; i < nt; i++)
        free(terms[i]);
    if (rc)
        return rc;

    json_t *o = json_object();
    size_t lower, est, upper;
    xap_result_counts(res, &lower, &est, &upper);
    /* every match seen: the lower bound is exact, even with collapsing (whose upper
     * bound still counts the collapsed duplicates) */
    int exact = (all && !timed_out) || lower == upper;
    json_object_set_new(o, "total",
                        json_integer((json_int_t)(all && exact ? lower : est)));
    json_object_set_new(o, "total_exact", json_boolean(exact));
    json_object_set_new(o, "timed_out", json_boolean(timed_out));
    json_object_set_new(o, "offset", json_integer((json_int_t)p->offset));
    json_object_set_new(o, "limit", json_integer((json_int_t)p->limit));
    json_t *hits = json_array();
    for (size_t i = 0; i < xap_result_size(res); i++) {
        struct xap_hit h;
        xap_result_hit(res, i, &h);
        /* only the metadata is decoded: the body is read as is, for snippets */
        size_t mlen, blen;
        const char *body;
        kb_search_data_split(h.data, h.data_len, &mlen, &body, &blen);
        json_t *d = json_loadb(h.data, mlen, 0, NULL);
        json_t *hit = d ? hit_from_meta(d) : json_object();
        json_object_set_new(hit, "score", json_real(h.weight));
        if (h.collapsed)
            json_object_set_new(hit, "duplicates", json_integer(h.collapsed));
        if (p->snippets) {
            int page = 0;
            json_object_set_new(hit, "snippet",
                                snippet_for(res, w, d, body, blen, &page));
            if (page)
                json_object_set_new(hit, "page", json_integer(page));
        }
        json_decref(d);
        json_array_append_new(hits, hit);
    }
    json_object_set_new(o, "hits", hits);
    if (nf) {
        json_t *fo = json_object();
        size_t k = 0;
        for (size_t i = 0; i < 5; i++) {
            if (!(p->facets & facet_tab[i].bit))
                continue;
            json_t *arr = json_array();
            for (size_t j = 0; j < xap_result_facet_size(res, k); j++) {
                const char *val;
                size_t len, count;
                xap_result_facet_value(res, k, j, &val, &len, &count);
                json_array_append_new(arr, json_pack("{s:s%, s:I}", "value", val, len,
                                                     "count", (json_int_t)count));
            }
            json_object_set_new(fo, facet_tab[i].name, arr);
            k++;
        }
        json_object_set_new(o, "facets", fo);
    }
    /* "did you mean" only when the query found little: Xapian also proposes more
     * frequent neighbours of correctly spelt words */
    const char *corr = xap_result_corrected(res);
    int few = est < KB_SUGGEST_BELOW;
    json_object_set_new(o, "suggestion",
                        few && corr && *corr ? json_string(corr) : json_null());
    xap_result_free(res);
    *out = o;
    return XAP_OK;
}

int kb_search_run(struct kb_server *srv, struct kb_worker *w,
                  const struct kb_search_params *p, json_t **out, struct kb_error *err)
{
    double t0 = kb_now();
    struct kb_query q;
    const char *raw = p->q ? p->q : "";
    int rc = kb_query_prepare(&srv->res, raw, strlen(raw), &q, err);
    if (rc)
        return rc;
    unsigned flags = XAP_QP_DEFAULT | XAP_QP_WILDCARD | XAP_QP_PURE_NOT;
    if (p->spelling)
        flags |= XAP_QP_SPELLING;
    struct xap_error xe = {0};
    json_t *o = NULL;
    int relaxed = q.relaxed_case;
    for (int attempt = 0; attempt < 3; attempt++) {
        memset(&xe, 0, sizeof xe);
        rc = run_once(srv, w, p, &q, q.text, flags, &o, &xe);
        unsigned plain = p->spelling ? XAP_QP_SPELLING : 0;
        if (rc == XAP_E_QUERY_SYNTAX && flags != plain) {
            /* forgiving: stray operators or quotes are read as plain words */
            flags = plain;
            relaxed = 1;
            continue;
        }
        if (rc && attempt < 2 && kb_worker_recover(srv, w, rc))
            continue;
        break;
    }
    kb_query_release(&q);
    if (rc) {
        if (rc == XAP_E_WILDCARD)
            return kb_error_set(err, KB_ETOOBIG,
                                "a wildcard matches more than %zu terms: make it longer",
                                srv->cfg.max_wildcard);
        return kb_from_xap(&xe, err);
    }
    unsigned long rev = 0;
    xap_reader_revision(w->reader, &rev, &xe);
    json_object_set_new(o, "query", json_string(raw));
    json_object_set_new(o, "relaxed", json_boolean(relaxed));
    json_object_set_new(o, "revision", json_integer((json_int_t)rev));
    json_object_set_new(o, "took_ms", json_real((kb_now() - t0) * 1000.0));
    *out = o;
    return KB_OK;
}
