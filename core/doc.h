/* SPDX-License-Identifier: MIT */
/*
 * doc.h - the document model shared by the indexer and the server: one report as the
 * readers extract it, as the index stores it (JSON in the Xapian document data) and as
 * the API returns it. Strings are owned by the struct (malloc'ed, NUL-terminated, UTF-8);
 * kb_doc_release frees them all.
 */
#ifndef KB_DOC_H
#define KB_DOC_H

#include "error.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define KB_DOC_MAX_LIST 64 /* topics, authors, concepts per document */

/* Who may see a document. Public documents are seen by everyone; member-only documents
 * only by requests that carry the "members" scope (an API key, a session cookie or a
 * trusted Remote-User; server/session.c). The index keeps it as a boolean term and a
 * value (schema.h), so every search filters on it cheaply. */
enum kb_visibility { KB_VIS_PUBLIC = 0, KB_VIS_MEMBERS = 1 };

struct kb_strlist {
    char **v;
    size_t n;
};

struct kb_doc {
    char *id;     /* identity in the index and the API: relative path or JSONL id */
    char *source; /* source path or URL */
    char *title;
    char *abstract; /* description / summary, may be NULL */
    char *body;     /* extracted text; pages separated by '\f' for PDFs */
    char *lang;     /* "fr", "it", "en" */
    char *date;     /* "YYYY-MM-DD" */
    char *org;      /* organisation */
    char *type;     /* brief, report, study, note... */
    char *format;   /* html, xml, md, txt, pdf, docx, odt, jsonl, api */
    struct kb_strlist topics;
    struct kb_strlist authors;
    struct kb_strlist concepts; /* thesaurus concept ids found in the text */
    char checksum[17];          /* xxh64 of the source bytes, hex; "" if unknown */
    int64_t mtime;              /* source modification time (s), 0 if none */
    int64_t size;               /* source size in bytes */
    unsigned pages;             /* number of pages for paged formats, else 0 */
    int visibility;             /* enum kb_visibility (KB_VIS_PUBLIC by default) */
    /* where the date comes from: "metadata" (the format's own fields, the API, JSON
     * Lines), "text" (a date line in the text) or "file" (the file's modification
     * time: not a publication date); NULL is "metadata" when a date is set */
    char *date_source;
    /* the versions of one brief in several languages share this id (front matter or
     * API field "translation_of"), so that search lifts them together; NULL: none */
    char *translation_of;
};

void kb_doc_init(struct kb_doc *d);
void kb_doc_release(struct kb_doc *d);

/* Replaces field *dst with a copy of s (n bytes, or strlen(s) when n is (size_t)-1);
 * s == NULL clears it. Returns 0 or KB_ENOMEM. */
int kb_doc_set(char **dst, const char *s, size_t n);
/* Appends a copy of s to a list unless already present or the list is full. */
int kb_strlist_add(struct kb_strlist *l, const char *s);
int kb_strlist_has(const struct kb_strlist *l, const char *s);
void kb_strlist_clear(struct kb_strlist *l);

/* The document as a JSON object (new reference) with every set field; the body is
 * included only when with_body. Returns NULL when out of memory, or when a field is
 * not valid UTF-8 (check first with kb_doc_check_utf8, which says which). */
json_t *kb_doc_to_json(const struct kb_doc *d, int with_body);
/* json_dumps that fails whole: jansson (2.14) ignores a failed allocation while it
 * writes an object key and returns a text with the key cut short; here every write is
 * checked. Returns a malloc'ed string, or NULL when out of memory. */
char *kb_json_dumps(const json_t *j, size_t flags);
/* Checks that every text field and list item of d is valid UTF-8 (JSON can hold nothing
 * else, so kb_doc_to_json would fail on it). Returns 0, or KB_EPARSE with a message
 * naming the field (its value is not copied into the message). */
int kb_doc_check_utf8(const struct kb_doc *d, struct kb_error *err);
/* Fills d from a JSON object (as produced by kb_doc_to_json, or sent by API clients and
 * JSON Lines files). Checks types and limits: unknown fields are rejected when strict;
 * `id` may be absent (the caller sets it). Returns 0 or KB_EPARSE / KB_ENOMEM with a
 * message naming the field. */
int kb_doc_from_json(struct kb_doc *d, const json_t *o, int strict, struct kb_error *err);

/* "public" / "members" for a visibility. */
const char *kb_visibility_name(int v);
/* Parses s (n bytes, or strlen(s) when n is (size_t)-1): "public" or "members", case and
 * surrounding blanks ignored ("member", "members-only" and "private" are read as
 * members). Returns the enum kb_visibility, or -1 when s is none of these. */
int kb_visibility_parse(const char *s, size_t n);
/* The date_source values. */
#define KB_DATE_METADATA "metadata"
#define KB_DATE_TEXT     "text"
#define KB_DATE_FILE     "file"
/* Is d's date only the file's modification time (date_source "file")? */
int kb_doc_date_is_file(const struct kb_doc *d);

/* A valid ISO date "YYYY-MM-DD" (0 when not)? */
int kb_date_valid(const char *s);
/* Year of a valid date, else 0. */
int kb_date_year(const char *s);
/* Date as a number YYYYMMDD for sorting and ranges, else 0. */
double kb_date_number(const char *s);

#endif
