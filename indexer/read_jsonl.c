/* SPDX-License-Identifier: MIT */
/*
 * read_jsonl.c - JSON Lines: one document per line, each a JSON object with a non-empty
 * string `id` and the fields of kb_doc_from_json (unknown fields ignored). Each line is
 * parsed on its own (jansson json_loadb, duplicate keys rejected), so a bad line is
 * reported with its number and the rest of the file still counts. Blank lines are
 * skipped and CRLF line ends accepted. The fields then get the same normalisation as
 * every other reader (kb_rd_finish).
 */
#include "reader_priv.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static void bad(kb_jsonl_err_fn err_fn, void *ctx, size_t line, const char *reason)
{
    char msg[600];
    snprintf(msg, sizeof msg, "%s", reason);
    kb_utf8_fix_msg(msg);
    if (err_fn)
        err_fn(line, msg, ctx);
}

/* One line: 0 when it held a document and fn accepted it, 1 when the line was bad, or a
 * negative KB_E* from fn. */
static int one_line(const char *s, size_t n, size_t line,
                    const struct kb_read_limits *lim, kb_jsonl_doc_fn fn,
                    kb_jsonl_err_fn err_fn, void *ctx)
{
    json_error_t jerr;
    struct kb_error err;
    struct kb_doc d;
    json_t *o = NULL;
    char reason[600];
    int rc = 1;
    kb_doc_init(&d);
    kb_error_clear(&err);
    if (n > lim->max_file) {
        snprintf(reason, sizeof reason, "line of %zu bytes is over the %zu-byte limit", n,
                 lim->max_file);
        bad(err_fn, ctx, line, reason);
        goto out;
    }
    o = json_loadb(s, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) {
        snprintf(reason, sizeof reason, "invalid JSON: %s (column %d)", jerr.text,
                 jerr.column);
        bad(err_fn, ctx, line, reason);
        goto out;
    }
    if (!json_is_object(o)) {
        bad(err_fn, ctx, line, "a document must be a JSON object");
        goto out;
    }
    const json_t *id = json_object_get(o, "id");
    if (!json_is_string(id) || json_string_length(id) == 0) {
        bad(err_fn, ctx, line, "field 'id' is required (a non-empty string)");
        goto out;
    }
    if (kb_doc_from_json(&d, o, 0, &err) ||
        kb_rd_finish(&d, lim, d.format ? d.format : "jsonl", &err)) {
        if (err.code == KB_ENOMEM) {
            rc = KB_ENOMEM;
            goto out;
        }
        bad(err_fn, ctx, line, err.msg);
        goto out;
    }
    rc = fn ? fn(&d, line, ctx) : KB_OK;
    if (rc > 0)
        rc = KB_OK;
out:
    json_decref(o);
    kb_doc_release(&d);
    return rc;
}

int kb_read_jsonl(const char *buf, size_t len, const struct kb_read_limits *lim,
                  kb_jsonl_doc_fn fn, kb_jsonl_err_fn err_fn, void *ctx)
{
    struct kb_read_limits tmp;
    int nbad = 0;
    size_t line = 0;
    lim = kb_rd_limits(lim, &tmp);
    for (size_t i = 0; i < len;) {
        const char *s = buf + i;
        const char *nl = memchr(s, '\n', len - i);
        size_t n = nl ? (size_t)(nl - s) : len - i;
        i += n + (nl ? 1 : 0);
        line++;
        size_t m = n;
        while (m > 0 && (s[m - 1] == '\r' || s[m - 1] == ' ' || s[m - 1] == '\t'))
            m--;
        size_t k = 0;
        while (k < m && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r'))
            k++;
        if (k == m)
            continue; /* blank line */
        int rc = one_line(s, m, line, lim, fn, err_fn, ctx);
        if (rc < 0)
            return rc;
        if (rc > 0 && nbad < (int)(((unsigned)-1) >> 1))
            nbad++;
    }
    return nbad;
}
