/* SPDX-License-Identifier: MIT */
/*
 * layout.h - reading an index location. A location is a directory holding a stub file
 * XAPIANDB ("auto gen-N") and the generations gen-N/ it names; a plain Xapian database
 * (a snapshot made by hand, a test index) is accepted too. kb-indexer writes and switches
 * the stub (indexer/crawl.c); everything that only needs to know which database is
 * current reads it here.
 */
#ifndef KB_LAYOUT_H
#define KB_LAYOUT_H

#include <stddef.h>

/* The generation N the stub of `index` names ("auto gen-N"), or 0 when there is no
 * stub or it names none. */
int kb_layout_generation(const char *index);

/* The database that `index` means now, into buf[0..cap): index/gen-N named by the stub,
 * else `index` itself when it is a glass database or a stub file of its own. Returns 0,
 * or -1 when there is no index there (yet). */
int kb_layout_current_db(const char *index, char *buf, size_t cap);

#endif
