/* SPDX-License-Identifier: MIT */
/*
 * search.c - see search_http.h. Parameter rules (all limits from the configuration):
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
#include "search_http.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* --- rendering
 * ---------------------------------------------------------------------------- */

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

json_t *kb_search_hit_json(const json_t *meta)
{
    return meta ? hit_from_meta(meta) : json_object();
}

size_t kb_search_mark_partial(struct kb_worker *w, json_t *o, struct kb_resp *resp)
{
    const char *missing[64];
    size_t n = kb_searcher_missing(&w->s, missing, 64);
    if (!n)
        return 0;
    json_t *m = json_array();
    struct kb_buf h;
    kb_buf_init(&h, 64);
    for (size_t i = 0; i < n && i < 64; i++) {
        json_array_append_new(m, json_string(missing[i]));
        if (h.len + strlen(missing[i]) + 2 < sizeof resp->missing_shards) {
            kb_buf_adds(&h, h.len ? ", " : "");
            kb_buf_adds(&h, missing[i]);
        }
    }
    if (o) {
        json_object_set_new(o, "partial", json_true());
        json_object_set_new(o, "missing_shards", m);
    } else {
        json_decref(m);
    }
    if (resp && h.len)
        snprintf(resp->missing_shards, sizeof resp->missing_shards, "%s", kb_buf_str(&h));
    kb_buf_release(&h);
    return n;
}

int kb_search_run(struct kb_server *srv, struct kb_worker *w,
                  const struct kb_search_params *p, json_t **out, struct kb_error *err)
{
    double t0 = kb_now();
    struct kb_search_result r;
    int rc = kb_search_exec(&w->s, p, &r, err);
    if (rc) {
        kb_search_result_release(&r);
        return rc;
    }
    (void)srv;
    json_t *o = json_object();
    json_object_set_new(o, "total", json_integer((json_int_t)r.total));
    json_object_set_new(o, "total_exact", json_boolean(r.total_exact));
    json_object_set_new(o, "timed_out", json_boolean(r.timed_out));
    kb_search_mark_partial(w, o, NULL);
    json_object_set_new(o, "offset", json_integer((json_int_t)p->offset));
    json_object_set_new(o, "limit", json_integer((json_int_t)p->limit));
    json_t *hits = json_array();
    for (size_t i = 0; i < r.n_hits; i++) {
        const struct kb_search_hit *h = &r.hits[i];
        json_t *hit = kb_search_hit_json(h->meta);
        json_object_set_new(hit, "score", json_real(h->score));
        if (h->duplicates)
            json_object_set_new(hit, "duplicates", json_integer(h->duplicates));
        if (p->snippets) {
            json_object_set_new(hit, "snippet",
                                json_string(h->snippet ? h->snippet : ""));
            if (h->page)
                json_object_set_new(hit, "page", json_integer(h->page));
            if (h->title_highlight)
                json_object_set_new(hit, "title_highlight",
                                    json_string(h->title_highlight));
        }
        json_array_append_new(hits, hit);
    }
    json_object_set_new(o, "hits", hits);
    if (r.n_facets) {
        json_t *fo = json_object();
        for (size_t i = 0; i < r.n_facets; i++) {
            json_t *arr = json_array();
            for (size_t j = 0; j < r.facets[i].n; j++)
                json_array_append_new(arr, json_pack("{s:s, s:I}", "value",
                                                     r.facets[i].v[j].value, "count",
                                                     (json_int_t)r.facets[i].v[j].count));
            json_object_set_new(fo, r.facets[i].name, arr);
        }
        json_object_set_new(o, "facets", fo);
    }
    w->rev = r.revision;
    w->rev_read = 1;
    const char *raw = p->q ? p->q : "";
    json_object_set_new(o, "suggestion",
                        r.suggestion ? json_string(r.suggestion) : json_null());
    json_object_set_new(o, "query", json_string(raw));
    if (r.corrected) /* the query searched, beside the query as typed */
        json_object_set_new(o, "corrected", json_string(r.corrected));
    json_object_set_new(o, "relaxed", json_boolean(r.relaxed));
    json_object_set_new(o, "revision", json_integer((json_int_t)r.revision));
    json_object_set_new(o, "took_ms", json_real((kb_now() - t0) * 1000.0));
    kb_search_result_release(&r);
    *out = o;
    return KB_OK;
}
