/* SPDX-License-Identifier: MIT */
/*
 * query.h - a search request becomes a ranked result: the project's query policy over
 * the plain Xapian binding (xapian_c.h).
 *
 * The binding parses, combines and runs queries; this module decides what to build: one
 * parse per language branch filtered on the branch's language term, the stop words of
 * the language the query is written in dropped from every branch (told by its function
 * words), thesaurus concepts widening the query inside its filters and NOTs, a typo
 * alternative weighed below the query as typed, pseudo-relevance feedback (a relevance
 * model of a first pass's top documents), the reader's-language boost, translations
 * lifted next to their best version, filters, ranges and exclusions, and "more like
 * this". bench/relevance/README.md has the measurements behind each choice.
 *
 * The language branches are the analysers registered with the reader
 * (xap_reader_add_lang), in that order. Errors are the binding's: functions return
 * XAP_OK or a negative xap_code and fill `err` (first error wins).
 */
#ifndef KB_QUERY_H
#define KB_QUERY_H

#include <stddef.h>

#include "xapian_c.h"

struct kb_query_spec {
    const char *query; /* UTF-8 query string, NUL-terminated; "" matches all documents */
    unsigned qp_flags; /* enum xap_qp_flags */
    int default_and;   /* 1: words are ANDed by default; 0: ORed (ranked) */
    const char *const *langs; /* branches to use (codes given to add_lang); NULL = all */
    size_t n_langs;
    const struct xap_field *fields;
    size_t n_fields;
    const struct xap_term_group *filters;
    size_t n_filters;
    const struct xap_range *ranges;
    size_t n_ranges;
    /* Extra weighted terms (e.g. thesaurus concepts), each scaled: ORed into the
     * positive part of the query, inside its filters and NOTs (a document that a NOT, a
     * "field:value" filter or req->filters leave out stays out), when that part is an
     * OR of words; where it is an AND, a NOT, a filter, or a phrase or NEAR on its own,
     * they only re-rank its matches, so they never turn an AND into an OR. */
    const char *const *extra_terms;
    size_t n_extra;
    double extra_scale;
    /* A field the query string uses for weighted terms in place: "<concept_field>:N"
     * stands for concept_terms[N] scaled by extra_scale (nothing when N is out of
     * range), so a caller can widen one operand ("(battery OR kbconcept:0) AND x")
     * rather than the whole query. NULL: no such field. */
    const char *concept_field;
    const char *const *concept_terms;
    const double *concept_scales; /* per term; NULL: extra_scale for all */
    size_t n_concept_terms;
    const char *const
        *exclude_uids; /* unique ids to leave out (e.g. the source of MLT) */
    size_t n_exclude;
    size_t offset, limit;
    size_t check_at_least; /* 0: Xapian's estimate; >= doc count makes counts exact */
    enum xap_sort sort;
    unsigned sort_slot;
    int collapse_slot; /* -1: no collapsing */
    int data_slot;     /* hits' data: KB_SLOT_META (default), -1 the document data */
    const struct xap_facet *facets;
    size_t n_facets;
    size_t max_wildcard;    /* cap on wildcard/partial expansion (0: Xapian's default) */
    double time_limit;      /* seconds; 0: none */
    double bm25_k1, bm25_b; /* 0, 0: Xapian's defaults (1, 0.5) */
    enum xap_weighting weighting; /* ranking model (default BM25) */
    double bb2_c;                 /* BB2's parameter c (0: Xapian's 1.0) */
    /* Pseudo-relevance feedback, for relevance order with a non-empty query only: a
     * relevance model of the top feedback_docs documents of a first pass (filters
     * applied). Each stemmed word of theirs weighs its share of each document's words,
     * times that document's share of the first-pass scores; the feedback_terms heaviest
     * that index at most feedback_max_df of the documents (0: 0.2) are kept, each
     * weighted relative to the heaviest, and the group, scaled by feedback_weight,
     * re-ranks the query's matches (OP_AND_MAYBE: the match set and totals do not
     * change). feedback_docs 0: off. bench/relevance/README.md has the measurements. */
    size_t feedback_docs, feedback_terms;
    double feedback_weight, feedback_max_df;
    /* Terms under this prefix join the stemmed words in the model (the thesaurus
     * concepts, which are the same in every language); NULL: stemmed words only. */
    const char *feedback_prefix;
    /* Feedback only for queries of at least this many distinct words (0 or 1: all). */
    size_t feedback_min_words;
    /* With XAP_QP_SPELLING: compute the correction only when the match estimate is below
     * this (a second parse after the match); 0: always, while parsing. */
    size_t spelling_below;
    /* Relevance order with a non-empty query: documents indexing boost_term (e.g. a
     * language term) gain boost_share of the top score of a first top-1 pass
     * (OP_AND_MAYBE: the match set and totals do not change). NULL or 0: off. */
    const char *boost_term;
    double boost_share;
    /* Typo tolerance: another request (e.g. the query with its misspelled words
     * corrected), parsed as this one is and ORed into this query with its weight scaled
     * by alt_scale (0 < alt_scale <= 1), inside this request's filters, so that its
     * matches join the results below those of the query as typed. *alt is read for
     * parsing only: its query, qp_flags, default_and, langs, fields, concept_* and
     * extra_* (and max_wildcard). NULL: none. */
    const struct kb_query_spec *alt;
    double alt_scale;
    /* Versions of one document (translations): documents indexing a term under
     * group_prefix (e.g. "XGheat pump 2025") are versions of one brief. Relevance order
     * with a non-empty query: the best document of each group among the top group_docs
     * (0: 3) of the final query leads it, and every other version that the query
     * matches rises by group_share (0-1) of the gap to its leader's score: at 1, right
     * below the leader, in their own order. Leaders keep their scores (a document gains
     * nothing for having versions). OP_AND_MAYBE: the match set and totals do not
     * change. NULL prefix or share 0: off; no pass at all when no document has a group.
     */
    const char *group_prefix;
    size_t group_docs;
    double group_share;
    /* The schema's prefixes the passes need (kb_query_spec_init sets them from
     * schema.h): a language branch keeps the documents indexing lang_prefix + its code;
     * a unique id is the term uid_prefix + uid (kb_query_uid_term: exclude_uids, the
     * group pass, kb_query_similar); similar_prefix marks the terms (the concepts) that
     * join the stemmed words in kb_query_similar's expand set. */
    const char *lang_prefix;
    const char *uid_prefix;
    const char *similar_prefix;
};

/* Initialises a request with defaults: XAP_QP_DEFAULT, OR, limit 10, no collapse,
 * extra_scale 1, and the schema's prefixes. */
void kb_query_spec_init(struct kb_query_spec *spec);

/* Runs a search. Everything the caller will read (hits' data and values, facet counts,
 * estimates, the correction) is fetched inside this call. XAP_E_DB_MODIFIED means the
 * revision moved under us: xap_reader_refresh and call again. Bad syntax is
 * XAP_E_QUERY_SYNTAX with the parser's message. *out is freed with xap_result_free. */
int kb_query_run(xap_reader *r, const struct kb_query_spec *spec, xap_result **out,
                 struct xap_error *err);

/* Documents like the one with unique id `uid` (relevance feedback: its top `n_terms`
 * expand terms, stems and concepts that at least one other document has), honouring
 * spec's filters, offset and limit; the document itself is left out. XAP_E_NOT_FOUND for
 * an unknown uid. */
int kb_query_similar(xap_reader *r, const char *uid, size_t uid_len, size_t n_terms,
                     const struct kb_query_spec *spec, xap_result **out,
                     struct xap_error *err);

/* Room for any unique-id term (prefix of up to 16 bytes). */
#define KB_UID_TERM_MAX 260
/* The unique-id term of `uid`: prefix + uid, or, past Xapian's safe term length (240
 * bytes), prefix + the uid's first 200 bytes + ":" + its 64-bit FNV-1a hash in hex.
 * Writes it NUL-terminated into buf (cap >= KB_UID_TERM_MAX) and returns its length. */
size_t kb_query_uid_term(const char *prefix, const char *uid, size_t len, char *buf,
                         size_t cap);

#endif
