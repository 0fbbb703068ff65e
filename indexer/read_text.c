/* SPDX-License-Identifier: MIT */
/*
 * read_text.c - plain-text briefs: whatever the encoding (kb_to_utf8), the first
 * non-empty line is the title and the rest is the body. Plain text carries no other
 * metadata; the indexer guesses the language later.
 */
#include "reader_priv.h"

#include <stdlib.h>
#include <string.h>

int kb_read_text(const char *buf, size_t len, const struct kb_read_limits *lim,
                 struct kb_doc *d, struct kb_error *err)
{
    struct kb_read_limits tmp;
    char *text = NULL;
    size_t n = 0;
    int rc;
    lim = kb_rd_limits(lim, &tmp);
    if (len > lim->max_file) {
        rc = kb_error_set(err, KB_ETOOBIG,
                          "txt: file of %zu bytes is over the %zu-byte limit", len,
                          lim->max_file);
        goto out;
    }
    rc = kb_to_utf8(buf, len, lim->max_text, &text, &n, err);
    if (rc)
        goto out;
    /* skip blank lines, then the title is the line up to the next newline */
    const char *p = text, *end = text + n;
    while (p < end && strchr(" \t\r\n\f", *p))
        p++;
    const char *eol = p;
    while (eol < end && *eol != '\n' && *eol != '\r' && *eol != '\f')
        eol++;
    if (eol > p && (rc = kb_doc_set(&d->title, p, (size_t)(eol - p))))
        goto oom;
    if (eol < end && (rc = kb_doc_set(&d->body, eol, (size_t)(end - eol))))
        goto oom;
    rc = kb_rd_finish(d, lim, "txt", err);
    goto out;
oom:
    kb_error_set(err, rc, "txt: out of memory");
out:
    free(text);
    return rc;
}
