/* SPDX-License-Identifier: MIT */
/*
 * snippet.c - see snippet.h: a hit's highlighted snippet (its first matching page for
 * paged documents) and its title's highlighted words.
 */
#include "snippet.h"
#include "buf.h"

#include <stdlib.h>
#include <string.h>

/* A snippet keeps the text's line breaks, which HTML shows as spaces: a heading would
 * run into its paragraph. A blank line (a new paragraph or page) becomes " — ", a single
 * line break (a wrapped line) a space; breaks at either end or beside "…" are dropped.
 * Returns the new text (malloc'ed; NULL when out of memory). */
static char *snippet_breaks(const char *s)
{
    static const char ell[] = "\xe2\x80\xa6"; /* … */
    struct kb_buf b;
    kb_buf_init(&b, 2 * strlen(s) + 16);
    for (const char *i = s; *i;) {
        if (*i != '\n' && *i != '\r' && *i != '\f') {
            kb_buf_addc(&b, *i++);
            continue;
        }
        int nl = 0, para = 0;
        while (*i == '\n' || *i == '\r' || *i == '\f' || *i == ' ' || *i == '\t') {
            nl += *i == '\n';
            para |= *i == '\f';
            i++;
        }
        para |= nl >= 2;
        if (!b.len || !*i || (b.len >= 3 && !memcmp(b.data + b.len - 3, ell, 3)) ||
            !strncmp(i, ell, 3))
            continue;
        kb_buf_adds(&b, para ? " \xe2\x80\x94 " : " "); /* " — " */
    }
    char *out = strdup(b.len ? kb_buf_str(&b) : "");
    kb_buf_release(&b);
    return out;
}

/* The snippet of a hit from its metadata d (borrowed) and body text (borrowed; NULL:
 * d's "body"); for paged documents also the first page that matches. */
char *kb_snippet_for(const xap_result *res, struct kb_searcher *sc, const json_t *d,
                     const char *body, size_t blen, int *page)
{
    if (!body) {
        body = json_string_value(json_object_get(d, "body"));
        blen = body ? json_string_length(json_object_get(d, "body")) : 0;
    }
    const char *lang = json_string_value(json_object_get(d, "lang"));
    int l = kb_lang_from_code(lang);
    xap_analyzer *an = sc->an.an[l >= 0 ? l : KB_LANG_EN];
    char *snip = NULL;
    *page = 0;
    if (body) {
        json_int_t pages = json_integer_value(json_object_get(d, "pages"));
        if (pages > 1 && blen > XAP_SNIPPET_WHOLE) {
            /* a long document: its pages are not each tried in turn (the cost would
             * grow with its size); the page of the first matching word is the one */
            size_t at = xap_result_first_match(res, sc->reader, an, body, blen);
            if (at != (size_t)-1) {
                const char *s = body;
                int pg = 1;
                for (const char *f; (f = memchr(s, '\f', (size_t)(body + at - s)));
                     s = f + 1)
                    pg++;
                const char *e = memchr(body + at, '\f', blen - at);
                size_t n = e ? (size_t)(e - s) : (size_t)(body + blen - s);
                char *c = xap_result_snippet(res, sc->reader, an, s, n, 240, "<mark>",
                                             "</mark>", 1, NULL);
                if (c && *c) {
                    snip = c;
                    *page = pg;
                } else {
                    free(c);
                }
            }
        } else if (pages > 1 && memchr(body, '\f', blen)) {
            const char *s = body, *end = body + blen;
            for (int pg = 1; s && !snip; pg++) {
                const char *e = memchr(s, '\f', (size_t)(end - s));
                size_t n = e ? (size_t)(e - s) : (size_t)(end - s);
                char *c = xap_result_snippet(res, sc->reader, an, s, n, 240, "<mark>",
                                             "</mark>", 1, NULL);
                if (c && *c) {
                    snip = c;
                    *page = pg;
                } else {
                    free(c);
                }
                s = e ? e + 1 : NULL;
            }
        }
        if (!snip)
            snip = xap_result_snippet(res, sc->reader, an, body, blen, 240, "<mark>",
                                      "</mark>", 0, NULL);
    }
    char *out = snippet_breaks(snip ? snip : "");
    free(snip);
    return out;
}

/* The title with its matching words in <mark> (HTML-escaped), or NULL when no query
 * word is in it. */
char *kb_snippet_title(const xap_result *res, struct kb_searcher *sc, const json_t *d)
{
    const char *title = json_string_value(json_object_get(d, "title"));
    if (!title || !*title)
        return NULL;
    int l = kb_lang_from_code(json_string_value(json_object_get(d, "lang")));
    xap_analyzer *an = sc->an.an[l >= 0 ? l : KB_LANG_EN];
    size_t len = strlen(title);
    char *h = xap_result_snippet(res, sc->reader, an, title, len, len + 16, "<mark>",
                                 "</mark>", 1, NULL);
    if (h && !strstr(h, "<mark>")) {
        free(h);
        h = NULL;
    }
    return h;
}
