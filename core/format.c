/* SPDX-License-Identifier: MIT */
/*
 * format.c - one table of the formats: each one's short name and its extensions. The
 * readers' dispatch (indexer/reader.c) takes its names from here.
 */
#include "format.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

static const struct {
    enum kb_format f;
    const char *name;
    const char *exts[4]; /* NULL-terminated */
} formats[] = {
    {KB_FMT_TEXT, "txt", {"txt", "text", NULL}},
    {KB_FMT_MARKDOWN, "md", {"md", "markdown", NULL}},
    {KB_FMT_HTML, "html", {"html", "htm", "xhtml", NULL}},
    {KB_FMT_XML, "xml", {"xml", NULL}},
    {KB_FMT_PDF, "pdf", {"pdf", NULL}},
    {KB_FMT_DOCX, "docx", {"docx", NULL}},
    {KB_FMT_ODT, "odt", {"odt", NULL}},
    {KB_FMT_JSONL, "jsonl", {"jsonl", NULL}},
};

#define NFORMATS (sizeof formats / sizeof formats[0])

const char *kb_format_name(enum kb_format f)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (formats[i].f == f)
            return formats[i].name;
    return "unknown";
}

enum kb_format kb_format_from_name(const char *name)
{
    if (!name)
        return KB_FMT_UNKNOWN;
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return KB_FMT_UNKNOWN;
    for (size_t i = 0; i < NFORMATS; i++)
        for (const char *const *e = formats[i].exts; *e; e++)
            if (strcasecmp(dot + 1, *e) == 0)
                return formats[i].f;
    return KB_FMT_UNKNOWN;
}
