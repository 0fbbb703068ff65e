/* SPDX-License-Identifier: MIT */
/*
 * search.h - a search request as a plain struct, run on a thread's searcher
 * (searcher.h) into results: query preparation with the thesaurus's concepts, language
 * branches, feedback, filters (and the visibility filter for clients without the members
 * scope), facets, collapsing, sorting, "did you mean" and typo tolerance (spelling.h),
 * snippets and title highlighting (snippet.h). Also a document by id and documents like
 * one (similar), and the counts of documents a client can see. Programs fill the request
 * (kb-server from a query string or a JSON body, server/search.c) and render the results.
 */
#ifndef KB_SEARCH_H
#define KB_SEARCH_H

#include "searcher.h"

#include <jansson.h>

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
#define KB_FACET_COUNT 5

void kb_search_params_init(struct kb_search_params *p);
void kb_search_params_release(struct kb_search_params *p);

/* One hit. */
struct kb_search_hit {
    json_t *meta; /* the stored metadata object (owned), NULL when it is not JSON */
    double score;
    unsigned duplicates;   /* documents of the same content collapsed into it */
    char *snippet;         /* highlighted text (owned); NULL without snippets */
    int page;              /* the first page that matches (paged documents), else 0 */
    char *title_highlight; /* the title with its query words in <mark>, or NULL */
};

struct kb_search_facet_value {
    char *value; /* owned */
    size_t count;
};

struct kb_search_facet {
    const char *name; /* "lang", "topic", "year", "org", "type" */
    struct kb_search_facet_value *v;
    size_t n;
};

struct kb_search_result {
    size_t total;
    int total_exact, timed_out;
    struct kb_search_hit *hits;
    size_t n_hits;
    struct kb_search_facet facets[KB_FACET_COUNT]; /* those asked for, in enum order */
    size_t n_facets;
    char *suggestion; /* "did you mean" (owned), or NULL */
    char *corrected;  /* the corrected query searched beside the query (owned), or NULL */
    int relaxed;      /* 1: read as plain words (the parser rejected the operators) */
    unsigned long revision;
};

void kb_search_result_release(struct kb_search_result *r);

/* Runs the search into *out (released with kb_search_result_release, also on failure).
 * Retries once across a concurrent commit. KB_ETOOBIG for a wildcard too broad. */
int kb_search_exec(struct kb_searcher *s, const struct kb_search_params *p,
                   struct kb_search_result *out, struct kb_error *err);

/* Documents like `id` (relevance feedback on its terms), the document itself left out,
 * collapsed, public ones only unless `members`: total (an estimate), total_exact and
 * hits (metadata and score). KB_ENOTFOUND for an unknown id. */
int kb_search_similar(struct kb_searcher *s, const char *id, size_t offset, size_t limit,
                      int members, struct kb_search_result *out, struct kb_error *err);

/* The stored JSON of document `id` (with "body" when with_body) into *out (new
 * reference): KB_OK, KB_ENOTFOUND (also for a member-only document unless `members`),
 * or an engine error. */
int kb_search_document(struct kb_searcher *s, const char *id, int with_body, int members,
                       json_t **out, struct kb_error *err);
/* 1 when the index holds document `id` and a client with `members` may see it; 0 when
 * not; -1 when the index cannot be read. */
int kb_search_document_visible(struct kb_searcher *s, const char *id, int members);

/* 1 when a document's stored data may be shown to a client: every document for members,
 * else only one whose metadata says "visibility": "public" (data without it, or that is
 * not JSON, is not shown: fail closed). */
int kb_search_data_visible(const char *data, size_t len, int members);
/* Documents a client can see, in all and per language (kb_lang order): the index's
 * counts for members, else those of public documents only. Retried once across a
 * concurrent commit; on failure (an engine error in err) every count is 0. */
int kb_search_count_visible(struct kb_searcher *s, int members, unsigned *docs,
                            unsigned per_lang[KB_LANG_COUNT], struct kb_error *err);

/* A document's stored data (written by core/analysis.c kb_analysis_build) is its
 * metadata as a JSON object, one NUL byte, then the body text as is, so that a hit is
 * read without decoding a body that can be megabytes. A search's hits read the metadata
 * alone from KB_SLOT_META (core/schema.h; no NUL, no body) when the document has it. Data
 * written before this framing is one JSON object with "body" last; both are read. Splits
 * `data`: *meta_len bytes of JSON at data; *body (borrowed from data, not NUL-terminated)
 * and *body_len, or NULL and 0 for the old form. */
void kb_search_data_split(const char *data, size_t len, size_t *meta_len,
                          const char **body, size_t *body_len);
/* The stored document as one JSON object with "body" last when with_body (new
 * reference), or NULL when the data is not JSON. */
json_t *kb_search_data_json(const char *data, size_t len, int with_body);

#endif
