/* SPDX-License-Identifier: MIT */
/*
 * reader.h - document readers: one per format, each turning the bytes of one file into a
 * struct kb_doc (title, body and whatever metadata the format carries). Readers work on a
 * buffer, never on a path, so that they can be fuzzed and fed from anywhere; they never
 * touch the index. A reader that fails leaves a message in `err` naming the cause
 * ("xml: element 'abstract' missing (line 4)", "pdf: not a PDF (truncated?)"); the
 * caller records the file as failed and goes on with the next one.
 *
 * Limits (struct kb_read_limits) bound what a hostile file can cost: bytes read, text
 * extracted, expanded bytes inside zip containers, nesting, time.
 */
#ifndef KB_READER_H
#define KB_READER_H

#include "doc.h"
#include "error.h"
#include "format.h" /* enum kb_format, kb_format_name, kb_format_from_name */

#include <stddef.h>

struct kb_read_limits {
    size_t max_file;     /* bytes of input accepted (default 64 MiB) */
    size_t max_text;     /* bytes of extracted text kept (default 8 MiB); longer is cut */
    size_t max_unzipped; /* bytes inflated from a zip member (default 64 MiB) */
    double max_seconds;  /* wall-clock budget per file (default 30 s) */
};

/* Fills the defaults above. */
void kb_read_limits_default(struct kb_read_limits *l);

/* The format of a file from its name (extension) and its first bytes (libmagic checks
 * that the content agrees: a binary file named .html is KB_FMT_UNKNOWN with a reason). */
enum kb_format kb_format_detect(const char *name, const char *buf, size_t len,
                                struct kb_error *err);

/* Reads one document of format `f` from buf into d (initialised by the caller). Sets
 * d->format and whatever fields the format provides; leaves d->id, d->source and
 * d->checksum to the caller. Returns 0 or a negative KB_E* with err filled. Not for
 * KB_FMT_JSONL (many documents): see kb_read_jsonl. This is the readers' one door: it
 * finds the format's reader in one table (reader.c), checks the input against the
 * limits (a buffer, at most max_file bytes) before the reader runs, and ends every
 * reader with the same clean-up (kb_rd_finish: text cut to max_text). */
int kb_read_document(enum kb_format f, const char *buf, size_t len,
                     const struct kb_read_limits *lim, struct kb_doc *d,
                     struct kb_error *err);

/* kb_read_document for one format each (same contract: they go through it). */
int kb_read_text(const char *buf, size_t len, const struct kb_read_limits *lim,
                 struct kb_doc *d, struct kb_error *err);
int kb_read_markdown(const char *buf, size_t len, const struct kb_read_limits *lim,
                     struct kb_doc *d, struct kb_error *err);
int kb_read_html(const char *buf, size_t len, const struct kb_read_limits *lim,
                 struct kb_doc *d, struct kb_error *err);
int kb_read_xml(const char *buf, size_t len, const struct kb_read_limits *lim,
                struct kb_doc *d, struct kb_error *err);
int kb_read_pdf(const char *buf, size_t len, const struct kb_read_limits *lim,
                struct kb_doc *d, struct kb_error *err);
int kb_read_docx(const char *buf, size_t len, const struct kb_read_limits *lim,
                 struct kb_doc *d, struct kb_error *err);
int kb_read_odt(const char *buf, size_t len, const struct kb_read_limits *lim,
                struct kb_doc *d, struct kb_error *err);

/* JSON Lines: calls fn once per line holding a valid document (d is released after the
 * call; fn may steal fields by setting them to NULL), and err_fn (may be NULL) once per
 * bad line with its 1-based number and reason; bad lines never stop the rest. Returns
 * the number of bad lines, or a negative KB_E* when fn returned one (that stops). */
typedef int (*kb_jsonl_doc_fn)(struct kb_doc *d, size_t line, void *ctx);
typedef void (*kb_jsonl_err_fn)(size_t line, const char *reason, void *ctx);
int kb_read_jsonl(const char *buf, size_t len, const struct kb_read_limits *lim,
                  kb_jsonl_doc_fn fn, kb_jsonl_err_fn err_fn, void *ctx);

/* Converts text of unknown encoding to valid UTF-8 in *out (malloc'ed, NUL-terminated,
 * caller frees): a UTF-8 or UTF-16 BOM decides; otherwise valid UTF-8 stays as is, and
 * anything else is detected with uchardet (Latin-1 / Windows-1252 and friends) and
 * converted with iconv. Invalid sequences become U+FFFD; NUL and control characters
 * other than \t \n \r \f are dropped as such but leave a space, so that the words
 * around them stay apart. At most `max` output bytes. */
int kb_to_utf8(const char *buf, size_t len, size_t max, char **out, size_t *out_len,
               struct kb_error *err);

#endif
