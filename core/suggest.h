/* SPDX-License-Identifier: MIT */
/*
 * suggest.h - search-as-you-type. The input is folded like indexed text; its last word
 * is completed from the index's terms (labels of the thesaurus that the words before it
 * begin first, then the most frequent), each completion shown as members write it
 * ("hydrogène", from the text of a document that holds it) after the input as typed;
 * and titles matching the whole input (last word as a prefix) are listed.
 *
 * Member-only documents. Xapian's term list and spelling dictionary are global to the
 * index, so a word that only member-only documents hold would leak through them. Two
 * doors, closed differently:
 *  - "Did you mean" (spelling.c) reads the spelling dictionary, and member-only
 *    documents never put words in it (indexer/crawl.c, server/writer.c): members get no
 *    corrections towards words only member-only documents hold. A second, per-viewer
 *    dictionary would give them those, at the cost of a second table to keep net on
 *    every run; a correction is a convenience, so we chose the one table.
 *  - Completions read the term list. For a client without the members scope, when the
 *    index has member-only documents, each candidate is checked with a filtered query
 *    (the term AND XVpublic): a candidate no public document holds is dropped, the
 *    frequency shown is the number of public documents that hold it, and its surface
 *    form comes from one of them. That costs one small query per completion shown (at
 *    most KB_SUGGEST_MAX_CHECKED per keystroke), and nothing when no document is
 *    member-only. What is left: candidates are still taken in the order of their
 *    frequency over all documents, which a client cannot tell from the answer.
 */
#ifndef KB_SUGGEST_H
#define KB_SUGGEST_H

#include "searcher.h"

#include <jansson.h>

#define KB_SUGGEST_MAX 20 /* completions and titles at most */

struct kb_suggest_completion {
    char *text; /* the input as typed up to its last word, then the completion (owned) */
    char *term; /* the index term completed to (owned) */
    unsigned freq;
};

struct kb_suggest_result {
    struct kb_suggest_completion *comps;
    size_t n_comps;
    json_t **titles; /* the stored metadata of matching documents (owned references) */
    size_t n_titles;
    int cacheable; /* 0: the title search failed, the answer is not worth keeping */
};

/* Suggestions for input `q` (valid UTF-8), at most `limit` (1..KB_SUGGEST_MAX) of
 * each, public documents only unless `members`. KB_EINVAL when q cannot be normalised.
 * *out is released with kb_suggest_result_release (also on failure). */
int kb_suggest_run(struct kb_searcher *sc, const char *q, size_t limit, int members,
                   struct kb_suggest_result *out, struct kb_error *err);
void kb_suggest_result_release(struct kb_suggest_result *r);

#endif
