/* SPDX-License-Identifier: MIT */
/* error.c - see error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

void kb_error_clear(struct kb_error *e)
{
    if (e) {
        e->code = KB_OK;
        e->msg[0] = '\0';
    }
}

int kb_error_set(struct kb_error *e, int code, const char *fmt, ...)
{
    if (!e || e->code != KB_OK)
        return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof e->msg) {
        /* cut: never in the middle of a UTF-8 character (messages end up in JSON) */
        size_t k = sizeof e->msg - 1;
        while (k > 0 && ((unsigned char)e->msg[k - 1] & 0xC0) == 0x80)
            k--;
        if (k > 0 && ((unsigned char)e->msg[k - 1] & 0x80))
            k--; /* the lead byte of the cut character */
        e->msg[k] = '\0';
    }
    return code;
}

const char *kb_status_name(int code)
{
    switch (code) {
    case KB_OK:
        return "ok";
    case KB_ENOMEM:
        return "out_of_memory";
    case KB_EINVAL:
        return "invalid";
    case KB_EIO:
        return "io_error";
    case KB_ETOOBIG:
        return "too_big";
    case KB_EPARSE:
        return "parse_error";
    case KB_ENOTFOUND:
        return "not_found";
    case KB_ELOCKED:
        return "locked";
    case KB_EINDEX:
        return "index_error";
    case KB_ETIMEOUT:
        return "timeout";
    case KB_EUNSUPPORTED:
        return "unsupported";
    case KB_ECONFLICT:
        return "conflict";
    case KB_EAUTH:
        return "unauthorized";
    case KB_EFORBIDDEN:
        return "forbidden";
    case KB_EBUSY:
        return "busy";
    case KB_ENOSPC:
        return "no_space";
    default:
        return "unknown";
    }
}
