/* SPDX-License-Identifier: MIT */
/*
 * format.h - the document formats the knowledge base indexes: the enum, each format's
 * short name ("html", "pdf") and the file-name extensions that mean it. This is data
 * only, with no parser behind it, so that a program that only needs to name a format
 * (kb-server serving a file) does not link the readers' libraries; the readers and their
 * dispatch are in indexer/reader.h.
 */
#ifndef KB_FORMAT_H
#define KB_FORMAT_H

enum kb_format {
    KB_FMT_UNKNOWN = 0,
    KB_FMT_TEXT,
    KB_FMT_MARKDOWN,
    KB_FMT_HTML,
    KB_FMT_XML,
    KB_FMT_PDF,
    KB_FMT_DOCX,
    KB_FMT_ODT,
    KB_FMT_JSONL
};

/* The short name of f ("txt", "md", "html", "xml", "pdf", "docx", "odt", "jsonl"; it is
 * the "format" field of a document), "unknown" for anything else. */
const char *kb_format_name(enum kb_format f);
/* The format of a file name's extension alone ("a/b/report.HTM" is html), KB_FMT_UNKNOWN
 * when it has none of ours. A leading dot is not an extension (".md"). */
enum kb_format kb_format_from_name(const char *name);

#endif
