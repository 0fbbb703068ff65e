/* SPDX-License-Identifier: MIT */
/*
 * space.h - giving back the disk space of a failed write to a Xapian database.
 *
 * A writer (a kb-indexer run, kb-server's API writer) puts its new blocks into the
 * database's table files before the commit. When the commit fails (a full disk), the
 * committed revision stays as it was, but the files keep the blocks that were appended,
 * so the disk stays full for every other program and for the next writes too. So a
 * writer notes the size of each table file once it holds the Xapian write lock (these
 * are the committed tables: kb_space_take), and after a failed commit opens the database
 * again (taking the lock again, so no one else is writing), checks that the revision is
 * still the one it noted, and cuts each file back to its size (kb_space_restore).
 * Blocks past those sizes belong to no committed revision, so readers lose nothing. The
 * note can be kept in a small file (kb_space_save / kb_space_load) so that the next
 * writer gives back the space of one that was killed.
 */
#ifndef KB_SPACE_H
#define KB_SPACE_H

#include <stddef.h>

#define KB_SPACE_MAX_TABLES 16

struct kb_space {
    int gen;           /* the caller's generation number (kept, not interpreted) */
    unsigned long rev; /* the revision the sizes belong to */
    size_t n;          /* 0: nothing noted, kb_space_restore does nothing */
    char name[KB_SPACE_MAX_TABLES][64];
    long long size[KB_SPACE_MAX_TABLES];
};

/* Notes the size of each table file (*.glass) of the database in db_dir, at revision
 * rev. Call it with the write lock held. */
void kb_space_take(struct kb_space *s, const char *db_dir, int gen, unsigned long rev);
/* Keeps s in the file at path (written to path.tmp, then renamed). Best effort: on a
 * full disk it may not be written, which only loses the clean-up after a crash. */
void kb_space_save(const struct kb_space *s, const char *path);
/* Reads what kb_space_save wrote. Returns 0, or -1 when there is no usable file. */
int kb_space_load(struct kb_space *s, const char *path);
/* Cuts the table files of db_dir back to the sizes in s, if the database is still at
 * revision s->rev; holds the write lock meanwhile and does nothing when another writer
 * has it. Returns the number of bytes given back (0 when nothing was done). */
long long kb_space_restore(const struct kb_space *s, const char *db_dir);

#endif
