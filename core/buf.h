/* SPDX-License-Identifier: MIT */
/*
 * buf.h - growable byte buffers with a hard cap set at init (curl's dynbuf "toobig"):
 * the cap is also our input limit, so a hostile input can never make us allocate more
 * than the caller allowed. The content is always NUL-terminated.
 */
#ifndef KB_BUF_H
#define KB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct kb_buf {
    char *data; /* NUL-terminated content, or NULL while empty */
    size_t len; /* bytes used, not counting the NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* hard cap on len */
};

/* Initialises an empty buffer that may grow to `max` bytes. Allocates nothing. */
void kb_buf_init(struct kb_buf *b, size_t max);
/* Frees the content and leaves an empty buffer with the same cap. */
void kb_buf_release(struct kb_buf *b);
/* Empties the buffer, keeping its memory. */
void kb_buf_reset(struct kb_buf *b);
/* Appends; returns 0, KB_ETOOBIG past the cap or KB_ENOMEM (the buffer is unchanged). */
int kb_buf_add(struct kb_buf *b, const void *p, size_t n);
int kb_buf_addc(struct kb_buf *b, char c);
int kb_buf_adds(struct kb_buf *b, const char *s);
int kb_buf_printf(struct kb_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int kb_buf_vprintf(struct kb_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Gives the content to the caller (who frees it) and leaves the buffer empty. Never NULL
 * unless out of memory: an empty buffer yields "". */
char *kb_buf_steal(struct kb_buf *b);
/* "" for an empty buffer, never NULL. */
const char *kb_buf_str(const struct kb_buf *b);

#endif
