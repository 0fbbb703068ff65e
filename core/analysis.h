/* SPDX-License-Identifier: MIT */
/*
 * analysis.h - turning a struct kb_doc into a Xapian document, and a query string into
 * what the engine needs, with the same language pipeline on both sides (text.h, lang.h,
 * thesaurus.h). The read-only resources (stop words, thesaurus) are loaded once in a
 * struct kb_resources shared by all threads; each thread has its own struct kb_analysis
 * (Xapian stemmers and the language detector are not thread-safe).
 */
#ifndef KB_ANALYSIS_H
#define KB_ANALYSIS_H

#include "doc.h"
#include "error.h"
#include "lang.h"
#include "thesaurus.h"
#include "xapian_c.h"

struct kb_resources {
    struct kb_stopwords sw[KB_LANG_COUNT];
    struct kb_thesaurus *thes;
    /* Body bytes kept per document (max_text_mb), the rest cut at a character as the
     * indexer's readers cut it; 0 (kb_resources_load's default): no limit. */
    size_t max_text;
};

/* Loads stop words and the thesaurus from kb_data_dir(). */
int kb_resources_load(struct kb_resources *res, struct kb_error *err);
void kb_resources_release(struct kb_resources *res);

struct kb_analysis {
    const struct kb_resources *res; /* borrowed */
    xap_analyzer *an[KB_LANG_COUNT];
    struct kb_langid *langid;
};

int kb_analysis_init(struct kb_analysis *a, const struct kb_resources *res,
                     struct kb_error *err);
void kb_analysis_release(struct kb_analysis *a);

/* Builds the Xapian document for d (language detected when d->lang is unset; d->lang,
 * d->concepts and d->topics are completed in place). *out is freed with xap_doc_free.
 * A field that is not valid UTF-8 is KB_EPARSE (kb_doc_check_utf8). */
int kb_analysis_build(struct kb_analysis *a, struct kb_doc *d, xap_doc **out,
                      struct kb_error *err);

/* A query made ready for the engine. */
struct kb_query {
    char *text;  /* normalised query string (malloc'ed): the words as typed, for
                    spelling and for the forgiving plain-words retry */
    char *parse; /* `text` with each thesaurus word widened in place (malloc'ed): a word
                    or phrase that names a concept becomes "(words OR kbconcept:N)",
                    N indexing `concepts`, so the concept joins that operand only and
                    AND, NOT, +/- keep their meaning (KB_QUERY_CONCEPT_FIELD) */
    char **concepts;       /* "XC<id>" terms of thesaurus concepts found in the query */
    size_t *concept_words; /* per concept: words of the longest query span naming it */
    size_t n_concepts;
    char **broader; /* "XC<id>" terms of the broader concepts of those not negated, for
                       re-ranking only */
    size_t n_broader;
    int relaxed_case; /* 1 when an all-capitals query was treated as plain words */
};

/* The field name that `parse` uses for concepts; the parser must map its value N to
 * concepts[N] (weighted, not a filter). Not a field members can type: like any
 * unknown field, "kbconcept:" in a query is read as a plain word. */
#define KB_QUERY_CONCEPT_FIELD "kbconcept"

/* Normalises `q` for parsing (elisions, accents, units, case; an all-capitals query has
 * its operators lower-cased too, as it is shouting, not syntax), drops elided articles
 * and request preambles, reads an unknown "field:" (or one with no value) as a plain
 * word, and finds its concepts. A word under a field prefix, next to NEAR/ADJ or with
 * a wildcard is not widened: a field restricts to what was typed (stemmed in each
 * language), and NEAR takes words only. On error (in err: too long, out of memory)
 * nothing is left to release.
 */
int kb_query_prepare(const struct kb_resources *res, const char *q, size_t len,
                     struct kb_query *out, struct kb_error *err);
void kb_query_release(struct kb_query *q);

/* The word normaliser for snippets (see xap_word_fn). */
size_t kb_analysis_word_fn(const char *in, size_t len, char *out, size_t cap);

#endif
