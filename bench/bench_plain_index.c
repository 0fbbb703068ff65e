/* SPDX-License-Identifier: MIT */
/*
 * bench_plain_index.c - the "plain loop" indexing anchor: one thread, one Xapian
 * TermGenerator pass per document (through xapian-c's xap_doc_index_text), over the TSV
 * dump written by extract_text.py. It stems with the document's own language, stores
 * positions, a title field, a language term and a short data record, and nothing else:
 * no normalisation, thesaurus, language detection, spelling or values. It is what a
 * careful engineer would write in an afternoon; kb-indexer should beat it by doing the
 * same work in parallel. Prints one line "plain: N docs, B bytes, S s".
 *
 *     bench_plain_index DUMP.tsv INDEX_DIR
 */
#include "xapian_c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds from a monotonic clock. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The analyser index for a language code: 0 fr, 1 it, 2 en (the default). */
static int lang_index(const char *code)
{
    if (!strcmp(code, "fr"))
        return 0;
    if (!strcmp(code, "it"))
        return 1;
    return 2;
}

/* Indexes one TSV line (modified in place). Returns 0 or a negative xap_code. */
static int index_line(xap_writer *w, xap_analyzer *const *an, char *line,
                      struct xap_error *xe)
{
    char *path = line, *lang = NULL, *title = NULL, *body = NULL, *p;
    xap_doc *d = NULL;
    char term[8], data[512], uid[256];
    int rc = XAP_E_INVALID_ARG;
    if (!(p = strchr(path, '\t')))
        goto out;
    *p = '\0';
    lang = p + 1;
    if (!(p = strchr(lang, '\t')))
        goto out;
    *p = '\0';
    title = p + 1;
    if (!(p = strchr(title, '\t')))
        goto out;
    *p = '\0';
    body = p + 1;
    body[strcspn(body, "\n")] = '\0';
    rc = XAP_E_NOMEM;
    if (!(d = xap_doc_new()))
        goto out;
    xap_analyzer *a = an[lang_index(lang)];
    snprintf(term, sizeof term, "L%s", lang);
    snprintf(data, sizeof data, "{\"path\":\"%s\"}", path);
    if ((rc = xap_doc_index_text(d, a, title, strlen(title), 1, "S", xe)) ||
        (rc = xap_doc_index_text(d, a, title, strlen(title), 3, NULL, xe)) ||
        (rc = xap_doc_increase_termpos(d, 100, xe)) ||
        (rc = xap_doc_index_text(d, a, body, strlen(body), 1, NULL, xe)) ||
        (rc = xap_doc_add_term(d, term, strlen(term), 0, xe)) ||
        (rc = xap_doc_set_data(d, data, strlen(data), xe)) ||
        (rc = xap_writer_replace(
             w, uid, (size_t)snprintf(uid, sizeof uid, "Q%.240s", path), d, NULL, xe)))
        goto out;
    rc = XAP_OK;
out:
    xap_doc_free(d);
    return rc;
}

int main(int argc, char **argv)
{
    static const char *const langs[3] = {"french", "italian", "english"};
    xap_analyzer *an[3] = {NULL, NULL, NULL};
    xap_writer *w = NULL;
    struct xap_error xe;
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0, docs = 0, bytes = 0;
    ssize_t n;
    int status = 1;
    if (argc != 3) {
        fprintf(stderr, "usage: bench_plain_index DUMP.tsv INDEX_DIR\n");
        return 2;
    }
    double t0 = now();
    if (!(f = fopen(argv[1], "r"))) {
        fprintf(stderr, "bench_plain_index: cannot open '%s'\n", argv[1]);
        goto out;
    }
    for (int i = 0; i < 3; i++)
        if (xap_analyzer_new(langs[i], NULL, 0, &an[i], &xe))
            goto fail;
    if (xap_writer_open(argv[2], XAP_OPEN_CREATE | XAP_OPEN_OVERWRITE | XAP_OPEN_NO_SYNC,
                        &w, &xe))
        goto fail;
    while ((n = getline(&line, &cap, f)) > 0) {
        bytes += (size_t)n;
        if (index_line(w, an, line, &xe))
            goto fail;
        docs++;
    }
    if (xap_writer_close(w, &xe)) {
        w = NULL;
        goto fail;
    }
    w = NULL;
    printf("plain: %zu docs, %zu bytes, %.3f s\n", docs, bytes, now() - t0);
    status = 0;
    goto out;
fail:
    fprintf(stderr, "bench_plain_index: %s\n", xe.msg);
out:
    xap_writer_free(w);
    for (int i = 0; i < 3; i++)
        xap_analyzer_free(an[i]);
    free(line);
    if (f)
        fclose(f);
    return status;
}
