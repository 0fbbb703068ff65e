/* SPDX-License-Identifier: MIT */
/*
 * xerror.h - the one mapping from a Xapian failure (an XAP_E_* code and its struct
 * xap_error) to a kb_status. The same Xapian code means different things on the two
 * sides of the index: a reader (a search, a document fetch) that cannot read is a
 * temporary state the client retries (KB_EBUSY, 503); a writer (the indexer, the
 * server's writer) that cannot write must stop and keep nothing (KB_EIO), or give back
 * space (KB_ENOSPC, a full disk).
 */
#ifndef KB_XERROR_H
#define KB_XERROR_H

#include "error.h"
#include "xapian_c.h"

enum kb_xerror_side {
    KB_XERR_READ, /* a reader: damaged, vanished or modified index -> KB_EBUSY */
    KB_XERR_WRITE /* a writer: full disk -> KB_ENOSPC, database failure -> KB_EIO */
};

/* 1 when a Xapian failure is the disk (or the file size limit) being full. */
int kb_xerror_disk_full(const struct xap_error *xe);

/* The kb_status of Xapian code xrc (xe: its message, for the disk-full test; may be
 * NULL) on `side`. */
int kb_xerror_code(int xrc, const struct xap_error *xe, enum kb_xerror_side side);

/* Records the failure in err and returns its kb_status. Messages: "<what>: <xapian
 * message>" ("disk full: <what>: ..." for a full disk on the write side; "the index
 * cannot be read: ..." for a damaged index on the read side); `what` may be NULL. */
int kb_xerror_set(struct kb_error *err, int xrc, const struct xap_error *xe,
                  enum kb_xerror_side side, const char *what);

#endif
