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
    char *text;      /* normalised query string (malloc'ed) */
    char **concepts; /* "XC<id>" terms of thesaurus concepts found in the query */
    size_t n_concepts;
    int relaxed_case; /* 1 when an all-capitals query was treated as plain words */
};

/* Normalises `q` for parsing (elisions, accents, units, case; an all-capitals query has
 * its operators lower-cased too, as it is shouting, not syntax) and finds its concepts.
 * On error (in err: too long, out of memory) nothing is left to release. */
int kb_query_prepare(const struct kb_resources *res, const char *q, size_t len,
                     struct kb_query *out, struct kb_error *err);
void kb_query_release(struct kb_query *q);

/* The word normaliser for snippets (see xap_word_fn). */
size_t kb_analysis_word_fn(const char *in, size_t len, char *out, size_t cap);

#endif
