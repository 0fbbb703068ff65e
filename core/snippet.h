/* SPDX-License-Identifier: MIT */
/*
 * snippet.h - the highlighted text of a hit (search.c): words of the query in <mark>,
 * HTML-escaped, line breaks made readable as one line.
 */
#ifndef KB_SNIPPET_H
#define KB_SNIPPET_H

#include "searcher.h"

#include <jansson.h>

/* The snippet (malloc'ed) of a hit from its metadata d (borrowed; may be NULL) and body
 * text (borrowed; NULL: d's "body"); for paged documents also the first page that
 * matches into *page (else 0). */
char *kb_snippet_for(const xap_result *res, struct kb_searcher *sc, const json_t *d,
                     const char *body, size_t blen, int *page);
/* The title with its matching words in <mark> (malloc'ed, HTML-escaped), or NULL when no
 * query word is in it. */
char *kb_snippet_title(const xap_result *res, struct kb_searcher *sc, const json_t *d);

#endif
