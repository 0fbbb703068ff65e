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
 *   prefer_lang  fr | it | en: documents in that language gain a small share of the top
 *             score (a boost among near-equals, never a filter); relevance order only
 *   correct   true | false (default true): typo tolerance (typo_tolerance in the
 *             configuration): the corrections of misspelled words are searched too,
 *             weighed below the words as typed, and "corrected" gives the query searched
 * A query the parser rejects is retried as plain words (no operators), so natural
 * language never fails; "relaxed": true in the response says so.
 * Clients without the members scope search with the filter XVpublic (schema.h), so
 * member-only documents are absent from their hits, totals, facet counts and feedback.
 */
#include "search.h"
#include "query.h"
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
    if (!strcmp(k, "lang")) {
        /* a language we do not index is a mistake, not a filter that finds nothing */
        size_t first = p->n_langs;
        int rc = add_values(p->langs, &p->n_langs, v, k, err);
        for (size_t i = first; !rc && i < p->n_langs; i++) {
            int l = kb_lang_from_code(p->langs[i]);
            if (l < 0)
                return kb_error_set(err, KB_EINVAL, "'lang' must be fr, it or en");
            free(p->langs[i]);
            if (!(p->langs[i] = strdup(kb_lang_code(l))))
                rc = kb_error_set(err, KB_ENOMEM, "out of memory");
        }
        return rc;
    }
    if (!strcmp(k, "topic"))
        return add_values(p->topics, &p->n_topics, v, k, err);
    if (!strcmp(k, "org"))
        return add_values(p->orgs, &p->n_orgs, v, k, err);
    if (!strcmp(k, "type"))
        return add_values(p->types, &p->n_types, v, k, err);
    if (!strcmp(k, "prefer_lang")) {
        if (strcmp(v, "fr") && strcmp(v, "it") && strcmp(v, "en") && *v)
            return kb_error_set(err, KB_EINVAL, "'prefer_lang' must be fr, it or en");
        snprintf(p->prefer_lang, sizeof p->prefer_lang, "%s", v);
        return KB_OK;
    }
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
        /* not a number (or negative): invalid_parameter, as for page=0; a number past
         * the limit: page_too_large */
        if (parse_uint(v, (size_t)-1, size, k, NULL))
            return kb_error_set(err, KB_EINVAL,
                                "'%s' must be a whole number from 0 to %zu", k,
                                cfg->max_page_size);
        if (*size > cfg->max_page_size) {
            p->err_code = "page_too_large";
            return kb_error_set(err, KB_EINVAL, "'%s' must be from 0 to %zu", k,
                                cfg->max_page_size);
        }
        return KB_OK;
    }
    if (!strcmp(k, "offset")) {
        if (parse_uint(v, (size_t)-1, &p->offset, k, NULL))
            return kb_error_set(err, KB_EINVAL,
                                "'offset' must be a whole number from 0 to %zu",
                                cfg->max_offset);
        if (p->offset > cfg->max_offset) {
            p->err_code = "offset_too_deep";
            return kb_error_set(err, KB_EINVAL, "'offset' must be from 0 to %zu",
                                cfg->max_offset);
        }
        return KB_OK;
    }
    if (!strcmp(k, "facets"))
        return parse_facets(v, &p->facets, err);
    if (!strcmp(k, "snippets"))
        return parse_bool(v, &p->snippets, k, err);
    if (!strcmp(k, "collapse"))
        return parse_bool(v, &p->collapse, k, err);
    if (!strcmp(k, "typing"))
        return parse_bool(v, &p->typing, k, err);
    if (!strcmp(k, "correct"))
        return parse_bool(v, &p->correct, k, err);
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

/* A hit (new reference) from the metadata object d (borrowed). */
static json_t *hit_from_meta(const json_t *d)
{
    const char *id = json_string_value(json_object_get(d, "id"));
    const char *title = json_string_value(json_object_get(d, "title"));
    json_t *hit = json_object();
    json_object_set(hit, "id", json_object_get(d, "id"));
    json_object_set_new(hit, "title", json_string(title ? title : ""));
    struct kb_buf url;
    kb_buf_init(&url, 4096);
    kb_buf_adds(&url, "/api/v1/documents/");
    kb_url_path_encode(&url, id);
    json_object_set_new(hit, "url", json_string(kb_buf_str(&url)));
    kb_buf_release(&url);
    static const char *copy[] = {"lang", "date", "org", "type", "format", "source"};
    for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++) {
        json_t *v = json_object_get(d, copy[i]);
        json_object_set(hit, copy[i], v ? v : json_null());
    }
    /* where the date comes from; "file": only the file's time, not a publication date */
    if (json_is_string(json_object_get(d, "date"))) {
        json_t *src = json_object_get(d, "date_source");
        json_object_set_new(
            hit, "date_source",
            json_string(json_is_string(src) ? json_string_value(src) : "metadata"));
    }
    json_t *topics = json_object_get(d, "topics");
    json_object_set(hit, "topics", topics ? topics : json_array());
    const char *vis = json_string_value(json_object_get(d, "visibility"));
    json_object_set_new(hit, "visibility", json_string(vis ? vis : "public"));
    json_t *group = json_object_get(d, "translation_of"); /* versions of one brief */
    if (json_is_string(group))
        json_object_set(hit, "translation_of", group);
    return hit;
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

static int count_visible(struct kb_worker *w, int members, unsigned *docs,
                         unsigned per_lang[KB_LANG_COUNT], struct xap_error *xe)
{
    unsigned hidden = 0;
    int rc = xap_reader_doc_count(w->reader, docs, xe);
    if (!rc && !members)
        rc = xap_reader_term_freq(w->reader, KB_TERM_MEMBERS, strlen(KB_TERM_MEMBERS),
                                  &hidden, xe);
    for (int l = 0; l < KB_LANG_COUNT; l++)
        per_lang[l] = 0;
    if (rc)
        return rc;
    if (members || !hidden) { /* nothing to hide: the index's own counts */
        for (int l = 0; l < KB_LANG_COUNT && !rc; l++) {
            char term[16];
            snprintf(term, sizeof term, KB_PFX_LANG "%s", kb_lang_code(l));
            rc = xap_reader_term_freq(w->reader, term, strlen(term), &per_lang[l], xe);
        }
        if (!members) { /* an index without visibility terms shows nothing */
            unsigned pub = 0;
            if (!rc)
                rc = xap_reader_term_freq(w->reader, KB_TERM_PUBLIC,
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
    rc = kb_query_run(w->reader, &sr, &res, xe);
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

int kb_search_count_visible(struct kb_worker *w, int members, unsigned *docs,
                            unsigned per_lang[KB_LANG_COUNT], struct xap_error *xe)
{
    int rc = count_visible(w, members, docs, per_lang, xe);
    if (rc) { /* never a half-done count: the index's total would count hidden ones */
        *docs = 0;
        for (int l = 0; l < KB_LANG_COUNT; l++)
            per_lang[l] = 0;
    }
    return rc;
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

/* A snippet keeps the text's line breaks, which HTML shows as spaces: a heading would
 * run into its paragraph. A blank line (a new paragraph or page) becomes " — ", a single
 * line break (a wrapped line) a space; breaks at either end or beside "…" are dropped.
 * Returns the new text as a JSON string (new reference). */
static json_t *snippet_breaks(const char *s)
{
    static const char ell[] = "\xe2\x80\xa6"; /* … */
    struct kb_buf b;
    kb_buf_init(&b, 2 * strlen(s) + 16);
    for (const char *i = s; *i;) {
        if (*i != '\n' && *i != '\r' && *i != '\f') {
            kb_buf_addc(&b, *i++);
            continue;
        }
        int nl = 0, para = 0;
        while (*i == '\n' || *i == '\r' || *i == '\f' || *i == ' ' || *i == '\t') {
            nl += *i == '\n';
            para |= *i == '\f';
            i++;
        }
        para |= nl >= 2;
        if (!b.len || !*i || (b.len >= 3 && !memcmp(b.data + b.len - 3, ell, 3)) ||
            !strncmp(i, ell, 3))
            continue;
        kb_buf_adds(&b, para ? " \xe2\x80\x94 " : " "); /* " — " */
    }
    json_t *out = json_string(b.len ? kb_buf_str(&b) : "");
    kb_buf_release(&b);
    return out;
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
    json_t *out = snippet_breaks(snip ? snip : "");
    free(snip);
    return out;
}

/* The title with its matching words in <mark> (HTML-escaped), or NULL when no query
 * word is in it. */
static json_t *title_highlight(const xap_result *res, struct kb_worker *w,
                               const json_t *d)
{
    const char *title = json_string_value(json_object_get(d, "title"));
    if (!title || !*title)
        return NULL;
    int l = kb_lang_from_code(json_string_value(json_object_get(d, "lang")));
    xap_analyzer *an = w->an.an[l >= 0 ? l : KB_LANG_EN];
    size_t len = strlen(title);
    char *h = xap_result_snippet(res, w->reader, an, title, len, len + 16, "<mark>",
                                 "</mark>", 1, NULL);
    json_t *out = h && strstr(h, "<mark>") ? json_string(h) : NULL;
    free(h);
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

/* Is the folded word a term of the index? */
static int word_known(struct kb_worker *w, const char *word, size_t len)
{
    struct xap_error xe = {0};
    unsigned freq = 0;
    return xap_reader_term_freq(w->reader, word, len, &freq, &xe) == XAP_OK && freq;
}

/* Do two folded words share a stem in one of our languages ("hydrogens", "hydrogen")? */
static int same_stem(struct kb_worker *w, const char *a, const char *b)
{
    struct xap_error xe = {0};
    for (int l = 0; l < KB_LANG_COUNT; l++) {
        char sa[128], sb[128];
        int na = xap_analyzer_stem(w->an.an[l], a, strlen(a), sa, sizeof sa, &xe);
        int nb = xap_analyzer_stem(w->an.an[l], b, strlen(b), sb, sizeof sb, &xe);
        if (na > 0 && na == nb && !strcmp(sa, sb))
            return 1;
    }
    return 0;
}

/* Edits (insertion, deletion, substitution, or transposition of neighbours) between
 * two folded words of at most 64 bytes. */
static size_t edit_distance(const char *a, size_t an, const char *b, size_t bn)
{
    size_t d[66][66];
    if (an > 64 || bn > 64)
        return (size_t)-1;
    for (size_t i = 0; i <= an; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= bn; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= an; i++)
        for (size_t j = 1; j <= bn; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[an][bn];
}

/* Typo tolerance searches a correction at most this many edits from a word of n folded
 * bytes, as Meilisearch does: none under 5 bytes ("wish" is not "with"), one, two from 9
 * bytes on; "did you mean" offers the spelling dictionary's other ones too ("nothing" ->
 * "potting"). */
static size_t typo_edits(size_t n)
{
    return n < 5 ? 0 : n < 9 ? 1 : 2;
}

/* Appends a correction in the case of the word typed: capitals for a word in capitals
 * (so that a query in capitals stays one, whose AND and OR are words), a capital first
 * letter for a capitalised word. */
static void add_in_case(struct kb_buf *b, const char *typed, size_t n, const char *sug)
{
    int upper = 0, lower = 0;
    for (size_t i = 0; i < n; i++) {
        upper |= isupper((unsigned char)typed[i]) != 0;
        lower |= islower((unsigned char)typed[i]) != 0;
    }
    for (size_t i = 0; sug[i]; i++) {
        char c = sug[i];
        if (upper && (!lower || i == 0) && c >= 'a' && c <= 'z' &&
            (!lower || isupper((unsigned char)typed[0])))
            c = (char)(c - 'a' + 'A');
        kb_buf_addc(b, c);
    }
}

/* Does the folded word a index more documents than the folded word b? */
static int more_frequent(struct kb_worker *w, const char *a, const char *b, size_t bn)
{
    struct xap_error xe = {0};
    unsigned fa = 0, fb = 0;
    return !xap_reader_term_freq(w->reader, a, strlen(a), &fa, &xe) &&
           !xap_reader_term_freq(w->reader, b, bn, &fb, &xe) && fa > fb;
}

static int is_query_operator(const char *s, size_t n)
{
    static const char *const ops[] = {"AND", "OR", "NOT", "XOR", "NEAR", "ADJ"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strlen(ops[i]) == n && !memcmp(ops[i], s, n))
            return 1;
    return 0;
}

#define DYM_MAX_WORDS 32
/* Words edited letter by letter (some 50 index lookups per letter): at most this long,
 * and at most DYM_MAX_EDITED of them in a query, so a long query of unknown words costs
 * little more than a short one. */
#define DYM_MAX_EDIT_LEN 24
#define DYM_MAX_EDITED   4

struct dym_word {
    size_t start, len; /* in the query as typed */
    int keep;
    char folded[64];
    size_t fn;
};

/* Does putting `cand` in place of word i complete a thesaurus label with its
 * neighbours ("fuel cel" -> "fuel cell")? */
static int completes_label(const struct kb_thesaurus *t, const struct dym_word *v,
                           size_t n, size_t i, const char *cand)
{
    const char *tok[DYM_MAX_WORDS];
    size_t len[DYM_MAX_WORDS];
    for (size_t k = 0; k < n; k++) {
        tok[k] = k == i ? cand : v[k].folded;
        len[k] = k == i ? strlen(cand) : v[k].fn;
    }
    for (size_t from = i >= 4 ? i - 4 : 0; from <= i; from++) {
        size_t concept;
        size_t got = kb_thesaurus_lookup(t, tok + from, len + from, n - from, &concept);
        if (got > 1 && from + got > i)
            return 1;
    }
    return 0;
}

/* A correction of word i that completes a label, among the words one edit away that the
 * index holds; writes it to out (cap bytes). */
static int label_correction(struct kb_worker *w, const struct kb_thesaurus *t,
                            const struct dym_word *v, size_t n, size_t i, char *out,
                            size_t cap)
{
    const char *word = v[i].folded;
    size_t len = v[i].fn;
    char c[72];
    if (len > DYM_MAX_EDIT_LEN || len < 2)
        return 0;
    unsigned best = 0;
    for (int kind = 0; kind < 4; kind++) { /* delete, transpose, replace, insert */
        size_t positions = kind == 3 ? len + 1 : len;
        for (size_t p = 0; p < positions; p++) {
            for (char ch = 'a'; ch <= 'z'; ch++) {
                if (kind < 2 && ch > 'a')
                    break; /* deletions and transpositions take no letter */
                size_t cl = 0;
                if (kind == 0) {
                    memcpy(c, word, p);
                    memcpy(c + p, word + p + 1, len - p - 1);
                    cl = len - 1;
                } else if (kind == 1) {
                    if (p + 1 >= len)
                        continue;
                    memcpy(c, word, len);
                    c[p] = word[p + 1];
                    c[p + 1] = word[p];
                    cl = len;
                } else if (kind == 2) {
                    if (word[p] == ch)
                        continue;
                    memcpy(c, word, len);
                    c[p] = ch;
                    cl = len;
                } else {
                    memcpy(c, word, p);
                    c[p] = ch;
                    memcpy(c + p + 1, word + p, len - p);
                    cl = len + 1;
                }
                c[cl] = '\0';
                struct xap_error xe = {0};
                unsigned freq = 0;
                if (xap_reader_term_freq(w->reader, c, cl, &freq, &xe) || freq <= best ||
                    !completes_label(t, v, n, i, c) || cl >= cap)
                    continue;
                best = freq;
                memcpy(out, c, cl + 1);
            }
        }
    }
    return best > 0;
}

/* "Did you mean": the query as typed, each word the index does not hold replaced by a
 * correction: one that completes a thesaurus label with the words around it, or else
 * the spelling dictionary's, unless that is the same word inflected. Words the index
 * knows, operators, field names, the values of filter fields, numbers, elided articles
 * and wildcards stay as typed, so correct input never gets a suggestion. With
 * `known_too` (typo tolerance, for a query that found little), a word the index holds
 * is corrected too, by the spelling dictionary only and only to a word found in more
 * documents. NULL: none. *typo (when typo is not NULL) gets the corrections that typo
 * tolerance searches: only those within typo_edits() of the word typed (NULL: none).
 * *n_known (when not NULL) gets the number of known words that typo tolerance could
 * correct. */
static char *did_you_mean(struct kb_server *srv, struct kb_worker *w, const char *q,
                          int known_too, char **typo, size_t *n_known)
{
    struct dym_word v[DYM_MAX_WORDS];
    int known[DYM_MAX_WORDS];
    size_t nw = 0, n = strlen(q);
    for (size_t i = 0; i < n && nw < DYM_MAX_WORDS;) {
        unsigned char c = (unsigned char)q[i];
        if (!(isalnum(c) || c >= 128)) {
            i++;
            continue;
        }
        size_t j = i;
        int digit = 0;
        while (j < n && (isalnum((unsigned char)q[j]) || (unsigned char)q[j] >= 128)) {
            digit |= isdigit((unsigned char)q[j]);
            j++;
        }
        struct dym_word *d = &v[nw++];
        d->start = i;
        d->len = j - i;
        char after = j < n ? q[j] : ' ';
        const char *fld = NULL;
        size_t fl = 0;
        if (i && q[i - 1] == ':') { /* the field of a value */
            size_t k = i - 1;
            while (k && isalpha((unsigned char)q[k - 1]))
                k--;
            fld = q + k;
            fl = i - 1 - k;
        }
        d->fn = kb_text_fold_word(q + i, d->len, d->folded, sizeof d->folded - 1);
        d->folded[d->fn] = '\0';
        d->keep = digit || after == ':' || after == '*' ||
                  is_query_operator(q + i, d->len) ||
                  (fld && fl == 4 &&
                   (!memcmp(fld, "lang", 4) || !memcmp(fld, "type", 4) ||
                    !memcmp(fld, "year", 4))) ||
                  (fld && fl == 5 && !memcmp(fld, "topic", 5)) || d->fn < 3 ||
                  d->fn >= sizeof d->folded - 1 ||
                  /* an elided article ("l'", "dell'") is kept as typed */
                  ((after == '\'' || (unsigned char)after == 0xE2) &&
                   kb_text_is_elision(d->folded, d->fn));
        known[nw - 1] = !d->keep && word_known(w, d->folded, d->fn);
        if (n_known && known[nw - 1] && typo_edits(d->fn))
            (*n_known)++;
        if (known[nw - 1] && !known_too)
            d->keep = 1;
        i = j;
    }
    struct kb_buf out, tol;
    kb_buf_init(&out, n * 2 + 64);
    kb_buf_init(&tol, n * 2 + 64);
    int changed = 0, tol_changed = 0;
    size_t at = 0, tol_at = 0;
    size_t edited = 0;
    for (size_t k = 0; k < nw; k++) {
        char sug[64] = "";
        struct xap_error xe = {0};
        if (v[k].keep)
            continue;
        if (!(!known[k] && edited++ < DYM_MAX_EDITED &&
              label_correction(w, srv->res.thes, v, nw, k, sug, sizeof sug)) &&
            (xap_reader_spell(w->reader, v[k].folded, v[k].fn, sug, sizeof sug, &xe) ||
             !sug[0] || !strcmp(sug, v[k].folded) || same_stem(w, sug, v[k].folded) ||
             (known[k] && !more_frequent(w, sug, v[k].folded, v[k].fn))))
            continue;
        kb_buf_add(&out, q + at, v[k].start - at);
        add_in_case(&out, q + v[k].start, v[k].len, sug);
        at = v[k].start + v[k].len;
        changed = 1;
        if (edit_distance(v[k].folded, v[k].fn, sug, strlen(sug)) <=
            typo_edits(v[k].fn)) {
            kb_buf_add(&tol, q + tol_at, v[k].start - tol_at);
            add_in_case(&tol, q + v[k].start, v[k].len, sug);
            tol_at = v[k].start + v[k].len;
            tol_changed = 1;
        }
    }
    kb_buf_add(&out, q + at, n - at);
    kb_buf_add(&tol, q + tol_at, n - tol_at);
    char *r = changed ? kb_buf_steal(&out) : NULL;
    if (typo)
        *typo = tol_changed ? kb_buf_steal(&tol) : NULL;
    kb_buf_release(&out);
    kb_buf_release(&tol);
    return r;
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
static int run_once(struct kb_server *srv, struct kb_worker *w,
                    const struct kb_search_params *p, const struct kb_query *q,
                    const struct kb_query *aq, const char *qtext, unsigned qp_flags,
                    json_t **out, struct xap_error *xe)
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
        alt.max_wildcard = srv->cfg.max_wildcard;
        req.alt = &alt;
        req.alt_scale = KB_TYPO_SCALE;
    }
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
    req.collapse_slot = p->collapse ? KB_SLOT_CHECKSUM : -1;
    req.group_prefix = KB_PFX_GROUP; /* translations rise together */
    req.group_share = srv->cfg.translation_share;
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
    if (!p->members) /* the one door for hits, totals, facets and feedback */
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
    unsigned docs = 0;
    xap_reader_doc_count(w->reader, &docs, xe);
    /* exact totals and facet counts: look at every match (bounded by the time limit);
     * a knowledge base of up to KB_EXACT_DOCS documents always gets exact totals */
    int all = nf || docs <= KB_EXACT_DOCS;
    req.check_at_least = all ? docs : p->offset + p->limit + 1;

    xap_result *res = NULL;
    double t_search = kb_now();
    int rc = kb_query_run(w->reader, &req, &res, xe);
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
            json_t *th = d && qtext[0] ? title_highlight(res, w, d) : NULL;
            if (th)
                json_object_set_new(hit, "title_highlight", th);
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
    xap_result_free(res);
    *out = o;
    return XAP_OK;
}

/* Runs q (and aq, the corrected query, when not NULL), retried as plain words when the
 * parser rejects it and once across a concurrent commit. */
static int run_query(struct kb_server *srv, struct kb_worker *w,
                     const struct kb_search_params *p, const struct kb_query *q,
                     const struct kb_query *aq, json_t **out, int *relaxed,
                     struct xap_error *xe)
{
    unsigned flags = XAP_QP_DEFAULT | XAP_QP_WILDCARD | XAP_QP_PURE_NOT;
    int rc = XAP_OK;
    *relaxed = q->relaxed_case;
    for (int attempt = 0; attempt < 3; attempt++) {
        memset(xe, 0, sizeof *xe);
        rc = run_once(srv, w, p, q, aq, q->text, flags, out, xe);
        unsigned plain = 0;
        if (rc == XAP_E_QUERY_SYNTAX && flags != plain) {
            /* forgiving: stray operators or quotes are read as plain words */
            flags = plain;
            *relaxed = 1;
            continue;
        }
        if (rc && attempt < 2 && kb_worker_recover(srv, w, rc))
            continue;
        break;
    }
    return rc;
}

int kb_search_run(struct kb_server *srv, struct kb_worker *w,
                  const struct kb_search_params *p, json_t **out, struct kb_error *err)
{
    double t0 = kb_now();
    struct kb_query q, aq;
    const char *raw = p->q ? p->q : "";
    int rc = kb_query_prepare(&srv->res, raw, strlen(raw), &q, err);
    if (rc)
        return rc;
    struct xap_error xe = {0};
    json_t *o = NULL;
    int relaxed = 0;
    /* "did you mean": only words the index does not know are corrected */
    /* typo tolerance: the near ones among those corrections are searched in the same
     * request */
    int tolerant = p->spelling && p->correct && srv->cfg.typo_tolerance && raw[0];
    char *corr = NULL;
    size_t n_known = 0;
    char *sug =
        p->spelling && raw[0] ? did_you_mean(srv, w, raw, 0, &corr, &n_known) : NULL;
    if (!tolerant) {
        free(corr);
        corr = NULL;
    }
    struct kb_error aerr; /* a correction that cannot be prepared is left out */
    kb_error_clear(&aerr);
    if (corr && kb_query_prepare(&srv->res, corr, strlen(corr), &aq, &aerr)) {
        free(corr);
        corr = NULL;
    }
    rc = run_query(srv, w, p, &q, corr ? &aq : NULL, &o, &relaxed, &xe);
    if (!rc && tolerant && !corr && n_known &&
        json_integer_value(json_object_get(o, "total")) < KB_TYPO_FEW_HITS) {
        /* every word known, yet little found: a known word may be a misspelling of a
         * more frequent one; kept only when the corrections find more */
        free(did_you_mean(srv, w, raw, 1, &corr, NULL));
        if (corr && kb_query_prepare(&srv->res, corr, strlen(corr), &aq, &aerr)) {
            free(corr);
            corr = NULL;
        }
        json_t *o2 = NULL;
        int relaxed2 = 0;
        struct xap_error xe2 = {0};
        if (corr && !run_query(srv, w, p, &q, &aq, &o2, &relaxed2, &xe2) &&
            json_integer_value(json_object_get(o2, "total")) >
                json_integer_value(json_object_get(o, "total"))) {
            json_decref(o);
            o = o2;
            relaxed = relaxed2;
        } else {
            json_decref(o2);
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
        free(sug);
        free(corr);
        if (rc == XAP_E_WILDCARD)
            return kb_error_set(err, KB_ETOOBIG,
                                "a wildcard matches more than %zu terms: make it longer",
                                srv->cfg.max_wildcard);
        return kb_from_xap(&xe, err);
    }
    unsigned long rev = 0;
    rev = kb_worker_revision(w);
    json_object_set_new(o, "suggestion", sug ? json_string(sug) : json_null());
    json_object_set_new(o, "query", json_string(raw));
    if (corr) /* the query searched, beside the query as typed */
        json_object_set_new(o, "corrected", json_string(corr));
    json_object_set_new(o, "relaxed", json_boolean(relaxed));
    json_object_set_new(o, "revision", json_integer((json_int_t)rev));
    json_object_set_new(o, "took_ms", json_real((kb_now() - t0) * 1000.0));
    free(sug);
    free(corr);
    *out = o;
    return KB_OK;
}
