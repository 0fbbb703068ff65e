/* SPDX-License-Identifier: MIT */
/*
 * spelling.h - corrections of a query's words (search.c): "did you mean" and the near
 * ones that typo tolerance searches in the same request.
 */
#ifndef KB_SPELLING_H
#define KB_SPELLING_H

#include "searcher.h"

/* "Did you mean": the query as typed, each word the index does not hold replaced by a
 * correction: one that completes a thesaurus label with the words around it, or else
 * the spelling dictionary's, unless that is the same word inflected. Words the index
 * knows, operators, field names, the values of filter fields, numbers, elided articles
 * and wildcards stay as typed, so correct input never gets a suggestion. With
 * `known_too` (typo tolerance, for a query that found little), a word the index holds
 * is corrected too, by the spelling dictionary only and only to a word found in more
 * documents. NULL: none. *typo (when typo is not NULL) gets the corrections that typo
 * tolerance searches: only those within a word's typo distance of the word typed (NULL:
 * none). *n_known (when not NULL) gets the number of known words that typo tolerance
 * could correct. Results are malloc'ed. */
char *kb_spelling_did_you_mean(struct kb_searcher *sc, const char *q, int known_too,
                               char **typo, size_t *n_known);

#endif
