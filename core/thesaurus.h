/* SPDX-License-Identifier: MIT */
/*
 * thesaurus.h - the FR/IT/EN powertrain thesaurus (schemas/thesaurus.json): concepts with
 * labels in three languages and acronyms, each belonging to topics. At index time the
 * concepts found in a document become weighted terms (XC<id>) and assign its topics; at
 * query time the concepts found in the query are added to it, so that "pile à
 * combustible" finds "cella a combustibile" and "fuel cell", and "PHEV" finds "hybride
 * rechargeable". Labels match as token sequences of normalised text (kb_text_normalize);
 * acronyms match case-sensitively in original text, and in any case in queries.
 * Loaded once, read-only afterwards: safe to share between threads.
 */
#ifndef KB_THESAURUS_H
#define KB_THESAURUS_H

#include "error.h"

#include <stddef.h>

struct kb_thesaurus;

/* Loads and checks a thesaurus file. NULL on failure with err saying why. */
struct kb_thesaurus *kb_thesaurus_load(const char *path, struct kb_error *err);
void kb_thesaurus_free(struct kb_thesaurus *t);

size_t kb_thesaurus_concepts(const struct kb_thesaurus *t);
const char *kb_thesaurus_concept_id(const struct kb_thesaurus *t, size_t i);
/* First label of concept i in language code ("fr"...), or its id. */
const char *kb_thesaurus_concept_label(const struct kb_thesaurus *t, size_t i,
                                       const char *lang);
/* Topics of concept i (borrowed ids). */
size_t kb_thesaurus_concept_topics(const struct kb_thesaurus *t, size_t i,
                                   const char **out, size_t cap);
/* Index of a concept id, or -1. */
long kb_thesaurus_find(const struct kb_thesaurus *t, const char *id);

size_t kb_thesaurus_topics(const struct kb_thesaurus *t);
const char *kb_thesaurus_topic_id(const struct kb_thesaurus *t, size_t i);
/* Label of a topic id in a language, or NULL for an unknown topic. */
const char *kb_thesaurus_topic_label(const struct kb_thesaurus *t, const char *id,
                                     const char *lang);

/* Counts concept occurrences: labels in `norm` (normalised text) and acronyms in `orig`
 * (original text; NULL to skip; case-insensitive when `any_case`). counts has one slot
 * per concept and is added to; a concept found also counts for its broader concepts. */
void kb_thesaurus_match(const struct kb_thesaurus *t, const char *norm, size_t norm_len,
                        const char *orig, size_t orig_len, int any_case,
                        unsigned *counts);

/* The concept named at the start of a token sequence (tokens of normalised text, as the
 * query side cuts them): the longest label whose tokens are tok[0..k), or else an acronym
 * equal to tok[0] in any case. Returns k (0: none) and sets *concept. */
size_t kb_thesaurus_lookup(const struct kb_thesaurus *t, const char *const *tok,
                           const size_t *len, size_t n, size_t *concept);
/* Calls fn(word, len, ctx) for the next word of every label that starts with the
 * tokens tok[0..n) (n >= 1; elided articles of labels optional) and whose next word
 * starts with prefix[0..plen): "pile a" + "c" -> "combustible". fn returns non-zero to
 * stop. For search-as-you-type. */
typedef int (*kb_thesaurus_word_fn)(const char *word, size_t len, void *ctx);
void kb_thesaurus_continue(const struct kb_thesaurus *t, const char *const *tok,
                           const size_t *len, size_t n, const char *prefix, size_t plen,
                           kb_thesaurus_word_fn fn, void *ctx);
/* The broader concept of concept i, or -1. */
long kb_thesaurus_broader(const struct kb_thesaurus *t, size_t i);

#endif
