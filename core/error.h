/* SPDX-License-Identifier: MIT */
/*
 * error.h - the one error type of the C code: a status code from one enum plus a fixed
 * message buffer. Functions that can fail return 0 or a negative KB_E* code, or NULL, and
 * fill a caller-owned `struct kb_error` when given one. Filling it never allocates, and
 * the first error recorded wins (later ones do not overwrite it), as jansson's
 * json_error_t does.
 */
#ifndef KB_ERROR_H
#define KB_ERROR_H

#include <stddef.h>

enum kb_status {
    KB_OK = 0,
    KB_ENOMEM = -1,        /* out of memory */
    KB_EINVAL = -2,        /* invalid argument or input */
    KB_EIO = -3,           /* input/output error (errno in the message) */
    KB_ETOOBIG = -4,       /* over a configured limit */
    KB_EPARSE = -5,        /* malformed input (document, JSON, query...) */
    KB_ENOTFOUND = -6,     /* no such document, file or key */
    KB_ELOCKED = -7,       /* another writer holds the index */
    KB_EINDEX = -8,        /* the search engine failed (see message) */
    KB_ETIMEOUT = -9,      /* a time limit ran out */
    KB_EUNSUPPORTED = -10, /* a format or feature we do not handle */
    KB_ECONFLICT = -11,    /* the state changed under us (retry) */
    KB_EAUTH = -12,        /* missing or wrong credentials */
    KB_EFORBIDDEN = -13,   /* credentials without the right scope */
    KB_EBUSY = -14,        /* temporarily unavailable (retry later) */
    KB_ENOSPC = -15        /* disk full or file size limit */
};

struct kb_error {
    int code;      /* an enum kb_status; KB_OK while nothing failed */
    char msg[512]; /* lowercase, what failed first, subject in quotes */
};

/* Clears e (may be NULL). */
void kb_error_clear(struct kb_error *e);
/* Records code and a printf-style message unless e already holds an error. Returns code,
 * so that `return kb_error_set(e, KB_EINVAL, "...")` reads naturally. e may be NULL. */
int kb_error_set(struct kb_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A short stable name for a status: "out_of_memory", "invalid", ... Never NULL. */
const char *kb_status_name(int code);

#endif
