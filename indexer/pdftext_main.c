/* SPDX-License-Identifier: MIT */
/*
 * pdftext_main.c - kb-pdftext, the PDF extraction helper of kb-indexer. It reads one PDF
 * on stdin (at most --max-file bytes), extracts it with kb_read_pdf (poppler-glib) and
 * writes the document as one JSON object on stdout: kb_doc_to_json with the body (the
 * text of page N follows the (N-1)th '\f') and "pages". kb-indexer runs one per PDF
 * (reader.c): poppler and the sixty libraries it loads (glib, cairo, fontconfig...) then
 * cost nothing to a run that reads no PDF, and a PDF that hangs or crashes poppler costs
 * one child process, killed at the time limit, instead of the whole run.
 *
 *   kb-pdftext [--max-file=BYTES] [--max-text=BYTES] [--max-seconds=S] < file.pdf
 *
 * Exit status: 0 with the document on stdout; 1 when the PDF cannot be read, with
 * {"error": MESSAGE, "code": KB_E* number} on stdout; 2 on a usage error (message on
 * stderr).
 */
#include "reader_priv.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parses arg "--NAME=VALUE" into *out. Returns 1 when arg is that option with a
 * non-negative number for value, else 0 (*out untouched). */
static int opt_num(const char *arg, const char *name, double *out)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0 || arg[n] != '=')
        return 0;
    char *end = NULL;
    errno = 0;
    double v = strtod(arg + n + 1, &end);
    if (errno || end == arg + n + 1 || *end || !(v >= 0) || v > 1e15)
        return 0;
    *out = v;
    return 1;
}

/* Reads all of stdin into b (capped at b->max). Returns 0, KB_ETOOBIG when there is
 * more than b->max bytes, KB_EIO or KB_ENOMEM, with err filled. */
static int read_stdin(struct kb_buf *b, struct kb_error *err)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return kb_error_set(err, KB_EIO, "pdf: reading stdin: %s", strerror(errno));
        if (n == 0)
            return KB_OK;
        if ((size_t)n > b->max - b->len)
            return kb_error_set(err, KB_ETOOBIG, "pdf: file is over the %zu-byte limit",
                                b->max);
        if (kb_buf_add(b, chunk, (size_t)n))
            return kb_error_set(err, KB_ENOMEM, "pdf: out of memory");
    }
}

/* Writes o as one line of compact JSON on stdout. Returns 0 or -1 when the write
 * failed. Steals o. */
static int put_json(json_t *o)
{
    int rc = o ? json_dumpf(o, stdout, JSON_COMPACT) : -1;
    if (!rc && (fputc('\n', stdout) == EOF || fflush(stdout) != 0))
        rc = -1;
    json_decref(o);
    return rc;
}

int main(int argc, char **argv)
{
    struct kb_read_limits lim;
    struct kb_error err;
    struct kb_doc d;
    struct kb_buf in;
    int status = 1, rc;
    kb_read_limits_default(&lim);
    kb_error_clear(&err);
    kb_doc_init(&d);
    for (int i = 1; i < argc; i++) {
        double v = 0;
        if (opt_num(argv[i], "--max-file", &v))
            lim.max_file = (size_t)v;
        else if (opt_num(argv[i], "--max-text", &v))
            lim.max_text = (size_t)v;
        else if (opt_num(argv[i], "--max-seconds", &v))
            lim.max_seconds = v;
        else {
            fprintf(stderr, "usage: kb-pdftext [--max-file=BYTES] [--max-text=BYTES] "
                            "[--max-seconds=S] < file.pdf\n");
            return 2;
        }
    }
    kb_buf_init(&in, lim.max_file);
    rc = read_stdin(&in, &err);
    if (!rc)
        rc = kb_read_pdf(in.data ? in.data : "", in.len, &lim, &d, &err);
    if (rc) {
        if (!err.msg[0])
            kb_error_set(&err, rc, "pdf: cannot read the document");
        kb_utf8_fix_msg(err.msg); /* poppler's messages quote document bytes */
        put_json(json_pack("{s:s, s:i}", "error", err.msg, "code", rc));
        goto out;
    }
    status = put_json(kb_doc_to_json(&d, 1)) ? 1 : 0;
out:
    kb_buf_release(&in);
    kb_doc_release(&d);
    return status;
}
