/* SPDX-License-Identifier: MIT */
/*
 * search.h - a search request independent of HTTP: the parameters (from a query string
 * or a JSON body), their validation against the configured limits, and running them on a
 * worker's reader into the response JSON. The HTTP route, the Atom feed and the
 * in-process benchmark all go through kb_search_run.
 */
#ifndef KB_SEARCH_H
#define KB_SEARCH_H

#include "server.h"

#define KB_SEARCH_MAX_VALUES 16

struct kb_search_params {
    char *q;                           /* raw query, owned */
    char *langs[KB_SEARCH_MAX_VALUES]; /* filters, owned */
    size_t n_langs;
    char *topics[KB_SEARCH_MAX_VALUES];
    size_t n_topics;
    char *orgs[KB_SEARCH_MAX_VALUES];
    size_t n_orgs;
    char *types[KB_SEARCH_MAX_VALUES];
    size_t n_types;
    double date_from, date_to; /* YYYYMMDD, 0 = open */
    enum { KB_SORT_RELEVANCE, KB_SORT_NEWEST, KB_SORT_OLDEST } sort;
    size_t offset, limit;
    int facets;           /* bit per facet: lang, topic, year, org, type */
    int snippets;         /* 1: compute highlighted snippets */
    int collapse;         /* 1: collapse duplicate content (default) */
    int spelling;         /* 1: suggest a correction */
    const char *err_code; /* OUT: stable error code when parsing failed (static string) */
    int no_expansion;     /* 1: no thesaurus or feedback terms (the query as typed) */
    int members; /* 1: member-only documents too; set by the route from the request
                  * (kb_req_members), never from a parameter */
    char
        prefer_lang[3]; /* "fr", "it", "en": a small boost for documents in it; "" none */
    int typing;         /* 1: search-as-you-type, not counted in query analytics */
    int correct; /* 1 (default): typo tolerance, when the configuration allows it (the
                  * corrections of misspelled words are searched too); 0: as typed */
};

/* Up to this many documents, totals are always exact (every match is counted). */
#define KB_EXACT_DOCS 20000

enum {
    KB_FACET_LANG = 1,
    KB_FACET_TOPIC = 2,
    KB_FACET_YEAR = 4,
    KB_FACET_ORG = 8,
    KB_FACET_TYPE = 16,
    KB_FACET_ALL = 31
};

void kb_search_params_init(struct kb_search_params *p);
void kb_search_params_release(struct kb_search_params *p);
/* From the request's query string (GET). 400-class errors name the parameter. */
int kb_search_params_from_query(struct kb_search_params *p, const struct kb_req *req,
                                struct kb_error *err);
/* From n decoded key/value pairs (kv[2i], kv[2i+1]; a value may be NULL), exactly as
 * kb_search_params_from_query takes them from libmicrohttpd: the fuzz target's door. */
int kb_search_params_from_pairs(struct kb_search_params *p, const char *const *kv,
                                size_t n, const struct kb_config *cfg,
                                struct kb_error *err);
/* From a JSON object (POST), same names and rules. */
int kb_search_params_from_json(struct kb_search_params *p, const json_t *o,
                               const struct kb_config *cfg, struct kb_error *err);

/* Runs the search; *out is the response object (new reference). Retries once across a
 * concurrent commit. */
int kb_search_run(struct kb_server *srv, struct kb_worker *w,
                  const struct kb_search_params *p, json_t **out, struct kb_error *err);

/* 1 when a document's stored data may be shown to a client: every document for members,
 * else only one whose metadata says "visibility": "public" (data without it, or that is
 * not JSON, is not shown: fail closed). */
int kb_search_data_visible(const char *data, size_t len, int members);
/* Documents a client can see, in all and per language (kb_lang order): the index's
 * counts for members, else those of public documents only. Returns an xap_code; on
 * failure every count is 0. */
int kb_search_count_visible(struct kb_worker *w, int members, unsigned *docs,
                            unsigned per_lang[KB_LANG_COUNT], struct xap_error *xe);

/* A hit as JSON from a document's stored data (new reference), without snippet. */
json_t *kb_search_hit_json(const char *data, size_t len);

/* A document's stored data (written by core/analysis.c kb_analysis_build) is its
 * metadata as a JSON object, one NUL byte, then the body text as is, so that a hit is
 * read without decoding a body that can be megabytes. Data written before this framing
 * is one JSON object with "body" last; both are read. Splits `data`: *meta_len bytes of
 * JSON at data; *body (borrowed from data, not NUL-terminated) and *body_len, or NULL
 * and 0 for the old form. */
void kb_search_data_split(const char *data, size_t len, size_t *meta_len,
                          const char **body, size_t *body_len);
/* The stored document as one JSON object with "body" last when with_body (new
 * reference), or NULL when the data is not JSON. */
json_t *kb_search_data_json(const char *data, size_t len, int with_body);

#endif
