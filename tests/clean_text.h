/* SPDX-License-Identifier: MIT */
/*
 * clean_text.h - what every reader promises of the text it hands out, checked by the
 * reader unit tests and by the fuzz targets alike: valid UTF-8 (core's kb_utf8_valid)
 * and no control character other than tab, newline, carriage return and form feed.
 */
#ifndef KB_TEST_CLEAN_TEXT_H
#define KB_TEST_CLEAN_TEXT_H

#include "text.h"

#include <string.h>

/* 1 when s is clean text (NULL counts as clean: an absent field). */
static inline int kb_test_clean_text(const char *s)
{
    if (!s)
        return 1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r' && *p != '\f')
            return 0;
    return kb_utf8_valid(s, strlen(s));
}

#endif
