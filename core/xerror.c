/* SPDX-License-Identifier: MIT */
/*
 * xerror.c - see xerror.h: Xapian failures as kb_status, in one place.
 */
#include "xerror.h"

#include <string.h>

/* Xapian 1.4 reports a failed write as DatabaseError "Error writing block" with errno's
 * text appended by xapian-c, e.g. "(No space left on device)" or, under RLIMIT_FSIZE
 * with SIGXFSZ ignored, "(File too large)". */
int kb_xerror_disk_full(const struct xap_error *xe)
{
    static const char *const marks[] = {"No space left", "File too large",
                                        "Disk quota exceeded", "ENOSPC", "EFBIG"};
    if (!xe)
        return 0;
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (strstr(xe->msg, marks[i]) || strstr(xe->context, marks[i]))
            return 1;
    return 0;
}

/* A writer: KB_ENOSPC for a full disk, KB_EIO for any other database or I/O failure
 * (both end a run), KB_EINVAL for a bad argument (one document's problem). */
static int write_code(int xrc, const struct xap_error *xe)
{
    if (kb_xerror_disk_full(xe))
        return KB_ENOSPC;
    switch (xrc) {
    case XAP_E_DB_LOCKED:
        return KB_ELOCKED;
    case XAP_E_NOMEM:
        return KB_ENOMEM;
    case XAP_E_INVALID_ARG:
        return KB_EINVAL;
    case XAP_E_DATABASE:
    case XAP_E_DB_CORRUPT:
    case XAP_E_DB_CLOSED:
    case XAP_E_DB_OPENING:
    case XAP_E_DB_NOT_FOUND:
        return KB_EIO;
    default:
        return KB_EINDEX;
    }
}

/* A reader: a damaged, vanished or half-replaced index is KB_EBUSY (503, not 500). */
static int read_code(int xrc)
{
    switch (xrc) {
    case XAP_E_QUERY_SYNTAX:
    case XAP_E_RANGE:
    case XAP_E_INVALID_ARG:
        return KB_EINVAL;
    case XAP_E_WILDCARD:
        return KB_ETOOBIG;
    case XAP_E_NOT_FOUND:
    case XAP_E_DOC_NOT_FOUND:
        return KB_ENOTFOUND;
    case XAP_E_NOMEM:
        return KB_ENOMEM;
    case XAP_E_DB_LOCKED:
        return KB_ELOCKED;
    case XAP_E_DB_MODIFIED:
    case XAP_E_DB_NOT_FOUND:
    case XAP_E_DB_OPENING:
    case XAP_E_DB_CLOSED:
    case XAP_E_NETWORK:
    case XAP_E_NET_TIMEOUT:
    case XAP_E_DB_CORRUPT:
    case XAP_E_DATABASE: /* a reader's I/O error: a damaged or half-replaced index */
        return KB_EBUSY;
    default:
        return KB_EINDEX;
    }
}

int kb_xerror_code(int xrc, const struct xap_error *xe, enum kb_xerror_side side)
{
    return side == KB_XERR_WRITE ? write_code(xrc, xe) : read_code(xrc);
}

int kb_xerror_set(struct kb_error *err, int xrc, const struct xap_error *xe,
                  enum kb_xerror_side side, const char *what)
{
    int code = kb_xerror_code(xrc, xe, side);
    const char *msg = xe ? xe->msg : "";
    if (side == KB_XERR_READ && (xrc == XAP_E_DB_CORRUPT || xrc == XAP_E_DATABASE))
        return kb_error_set(err, code, "the index cannot be read: %s", msg);
    if (!what)
        return kb_error_set(err, code, "%s", msg);
    if (code == KB_ENOSPC)
        return kb_error_set(err, code, "disk full: %s: %s", what, msg);
    return kb_error_set(err, code, "%s: %s", what, msg);
}
