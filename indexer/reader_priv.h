/* SPDX-License-Identifier: MIT */
/*
 * reader_priv.h - what the document readers share and nobody else needs: a capped text
 * accumulator that truncates instead of failing, the final normalisation pass every
 * reader ends with (valid UTF-8, whitespace collapsed, lang and date checked, text cut to
 * max_text), and the libxml2 helpers used by the XML, HTML, PDF (XMP) and office readers
 * (per-call error capture, text of a subtree with a depth guard). Not installed, not part
 * of the indexer's API: only indexer/read_*.c, reader.c, format.c and encoding.c include
 * it.
 */
#ifndef KB_READER_PRIV_H
#define KB_READER_PRIV_H

#include "buf.h"
#include "reader.h"

#include <libxml/tree.h>
#include <stddef.h>

#define KB_RD_MAX_DEPTH    256   /* elements deeper than this are ignored */
#define KB_RD_MAX_FIELD    4096  /* bytes kept of a one-line metadata field */
#define KB_RD_MAX_ABSTRACT 65536 /* bytes kept of an abstract */
#define KB_RD_MAX_ITEM     256   /* bytes kept of one topic or author */

/* One format's reader, as the dispatch table of reader.c calls it: buf is never NULL,
 * len is at most lim->max_file, lim is never NULL (the dispatch checked and filled
 * them). It finds the document's fields in the bytes and leaves the rest to the
 * dispatch, which ends every successful read with kb_rd_finish. Returns 0 or a negative
 * KB_E* with err filled (prefixed with the format's name). */
typedef int (*kb_rd_reader)(const char *buf, size_t len, const struct kb_read_limits *lim,
                            struct kb_doc *d, struct kb_error *err);
int kb_rd_text(const char *buf, size_t len, const struct kb_read_limits *lim,
               struct kb_doc *d, struct kb_error *err);
int kb_rd_markdown(const char *buf, size_t len, const struct kb_read_limits *lim,
                   struct kb_doc *d, struct kb_error *err);
int kb_rd_html(const char *buf, size_t len, const struct kb_read_limits *lim,
               struct kb_doc *d, struct kb_error *err);
int kb_rd_xml(const char *buf, size_t len, const struct kb_read_limits *lim,
              struct kb_doc *d, struct kb_error *err);
int kb_rd_docx(const char *buf, size_t len, const struct kb_read_limits *lim,
               struct kb_doc *d, struct kb_error *err);
int kb_rd_odt(const char *buf, size_t len, const struct kb_read_limits *lim,
              struct kb_doc *d, struct kb_error *err);
/* read_pdf.c (poppler), only in programs that link kb_pdf: a weak reference in
 * reader.c, which sends PDFs to the kb-pdftext helper process when it is NULL. */
int kb_rd_pdf(const char *buf, size_t len, const struct kb_read_limits *lim,
              struct kb_doc *d, struct kb_error *err);

/* A text accumulator capped at `max` bytes: appending past the cap keeps what fits (cut
 * at a UTF-8 boundary) and sets `full`, so that readers can stop early. */
struct kb_text {
    struct kb_buf b;
    int full;
};

void kb_text_init(struct kb_text *t, size_t max);
void kb_text_release(struct kb_text *t);
/* Appends n bytes; returns 0 (also when truncated) or KB_ENOMEM. */
int kb_text_add(struct kb_text *t, const char *s, size_t n);
int kb_text_adds(struct kb_text *t, const char *s);
/* Ends the current line: makes the text end with at least n '\n' (nothing while empty).
 */
int kb_text_newlines(struct kb_text *t, int n);

/* Wall-clock seconds from an arbitrary origin (CLOCK_MONOTONIC). */
double kb_rd_now(void);
/* The limits to use: lim, or the defaults when lim is NULL (copied into *tmp). */
const struct kb_read_limits *kb_rd_limits(const struct kb_read_limits *lim,
                                          struct kb_read_limits *tmp);
/* Sets *dst to a copy of s when s holds anything but whitespace and *dst is still NULL
 * (the first source of a field wins). Returns 0 or KB_ENOMEM. */
int kb_rd_set(char **dst, const char *s);
/* A visibility found in a file's metadata (front matter, XML element, office property,
 * PDF keyword): "members" (or any value that is not "public": a typo never publishes a
 * document) makes d member-only; "public" or blank leaves it as it is, so the stricter
 * of several sources wins. Never fails. */
void kb_rd_visibility(struct kb_doc *d, const char *s);
/* Adds each item of s split on any of `seps` (trimmed, empty ones skipped). */
int kb_rd_add_split(struct kb_strlist *l, const char *s, const char *seps);
/* The ending of every reader (the dispatch calls it): d->format = fmt, then every string
 * normalised (valid UTF-8, whitespace collapsed, one-line fields on one line and capped),
 * lang kept only when fr/it/en (region stripped), date only when valid (first 10
 * characters), the body cut to lim->max_text. Returns 0 or KB_ENOMEM with err filled. */
int kb_rd_finish(struct kb_doc *d, const struct kb_read_limits *lim, const char *fmt,
                 struct kb_error *err);
/* "fr-FR" -> "fr"; NULL unless the result is fr, it or en. Writes into out[3]. */
const char *kb_rd_lang(const char *s, char out[3]);

/* encoding.c: copies s to out as valid UTF-8: invalid sequences become U+FFFD, a run of
 * NUL and control characters other than \t \n \r \f becomes one space; stops before
 * exceeding max bytes (at a character boundary). Returns 0 or KB_ENOMEM. */
int kb_utf8_sanitize(const char *s, size_t n, size_t max, struct kb_buf *out);
/* Makes the NUL-terminated msg valid UTF-8 in place (invalid bytes and control
 * characters become '?', a character cut at the end is removed): error messages quote
 * file names and document bytes, and end up in JSON. */
void kb_utf8_fix_msg(char *msg);
/* Length of the longest prefix of s[0..n) that ends at a UTF-8 character boundary and is
 * at most max bytes. */
size_t kb_utf8_cut(const char *s, size_t n, size_t max);

/* read_xml.c: parses XML (html = 0) or HTML (html = 1) from memory with NONET, without
 * entity expansion, errors captured per call (never printed). On failure returns NULL and
 * fills err with "<what>: line N: <libxml2 message>". encoding may be NULL. */
xmlDocPtr kb_xml_parse(const char *buf, size_t len, int html, const char *encoding,
                       const char *what, struct kb_error *err);
/* Appends the text of node's children (text and CDATA only, no entity references, at most
 * KB_RD_MAX_DEPTH levels) to t; flat turns line breaks and tabs into spaces. node may be
 * an xmlAttr cast to xmlNode. */
int kb_xml_text(const xmlNode *node, struct kb_text *t, int flat);
/* Appends s to t with line breaks and tabs turned into spaces. */
int kb_text_add_flat(struct kb_text *t, const char *s);
/* The text of node's subtree as a malloc'ed string capped at max bytes (NULL when out of
 * memory). */
char *kb_xml_text_dup(const xmlNode *node, size_t max);
/* node is an element named `name` (local name) whose namespace URI is ns (NULL: any). */
int kb_xml_is(const xmlNode *node, const char *ns, const char *name);
/* The value of attribute `name` (any namespace when ns is NULL), malloc'ed, or NULL. */
char *kb_xml_attr(const xmlNode *node, const char *ns, const char *name);

#endif
