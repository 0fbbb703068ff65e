/* SPDX-License-Identifier: MIT */
/* buf.c - see buf.h. */
#include "buf.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kb_buf_init(struct kb_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void kb_buf_release(struct kb_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void kb_buf_reset(struct kb_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int grow(struct kb_buf *b, size_t need)
{
    if (need > b->max || need < b->len)
        return KB_ETOOBIG;
    if (need + 1 <= b->cap)
        return KB_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need + 1)
        cap = cap > ((size_t)-1) / 2 ? need + 1 : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return KB_ENOMEM;
    b->data = p;
    b->cap = cap;
    return KB_OK;
}

int kb_buf_add(struct kb_buf *b, const void *p, size_t n)
{
    if (n > b->max - b->len && b->len <= b->max)
        return KB_ETOOBIG;
    int rc = grow(b, b->len + n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return KB_OK;
}

int kb_buf_addc(struct kb_buf *b, char c)
{
    return kb_buf_add(b, &c, 1);
}

int kb_buf_adds(struct kb_buf *b, const char *s)
{
    return kb_buf_add(b, s, strlen(s));
}

int kb_buf_vprintf(struct kb_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return KB_EINVAL;
    if ((size_t)n > b->max - b->len)
        return KB_ETOOBIG;
    int rc = grow(b, b->len + (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return KB_OK;
}

int kb_buf_printf(struct kb_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = kb_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *kb_buf_steal(struct kb_buf *b)
{
    char *p = b->data;
    if (!p)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

const char *kb_buf_str(const struct kb_buf *b)
{
    return b->data ? b->data : "";
}
