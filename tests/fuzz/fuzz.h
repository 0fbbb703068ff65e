/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - what the reader fuzz targets share: tight limits (so that one input never
 * costs more than a few MiB or seconds) and the property every reader must keep on
 * success, checked with abort() so that libFuzzer and the replay both report it: every
 * string of the document is valid UTF-8 without control characters, the body within
 * max_text.
 */
#ifndef KB_FUZZ_H
#define KB_FUZZ_H

#include "../clean_text.h"
#include "reader.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_limits(struct kb_read_limits *l)
{
    kb_read_limits_default(l);
    l->max_text = 1u << 20;
    l->max_unzipped = 8u << 20;
    l->max_seconds = 5.0;
}

static inline void fuzz_utf8(const char *s)
{
    if (!kb_test_clean_text(s))
        abort();
}

static inline void fuzz_check_doc(const struct kb_doc *d, const struct kb_read_limits *l)
{
    const char *f[] = {d->title, d->abstract, d->body, d->lang, d->date, d->org, d->type};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        fuzz_utf8(f[i]);
    for (size_t i = 0; i < d->topics.n; i++)
        fuzz_utf8(d->topics.v[i]);
    for (size_t i = 0; i < d->authors.n; i++)
        fuzz_utf8(d->authors.v[i]);
    if (d->body && strlen(d->body) > l->max_text)
        abort();
    if (d->date && !kb_date_valid(d->date))
        abort();
    if (d->lang && strcmp(d->lang, "fr") && strcmp(d->lang, "it") &&
        strcmp(d->lang, "en"))
        abort();
}

/* One reader over one input, with the checks above. */
static inline int fuzz_reader(enum kb_format f, const uint8_t *data, size_t size)
{
    struct kb_read_limits l;
    struct kb_doc d;
    struct kb_error err;
    fuzz_limits(&l);
    kb_doc_init(&d);
    kb_error_clear(&err);
    int rc = kb_read_document(f, (const char *)data, size, &l, &d, &err);
    if (rc > 0 || (rc < 0 && err.msg[0] == '\0'))
        abort();
    if (rc == 0)
        fuzz_check_doc(&d, &l);
    kb_doc_release(&d);
    return 0;
}

#endif
