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
    const unsigned char *p = (const unsigned char *)s;
    while (p && *p) {
        int k = *p < 0x80             ? 1
                : (*p & 0xE0) == 0xC0 ? 2
                : (*p & 0xF0) == 0xE0 ? 3
                : (*p & 0xF8) == 0xF0 ? 4
                                      : 0;
        if (!k || (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r' && *p != '\f'))
            abort();
        for (int i = 1; i < k; i++)
            if ((p[i] & 0xC0) != 0x80)
                abort();
        p += k;
    }
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
