/* SPDX-License-Identifier: MIT */
/*
 * xap_fixture.h - what the binding's tests (test_xapian_c.c) and the search policy's
 * (test_query.c) share to build their small glass databases through the binding: the
 * temporary directory they live in, a document with text, title, language and topic
 * (terms L and K, values 4 and 5, the text as its data), and documents stored and found
 * by unique id. The includer defines fixture_uid_term(), how it makes a unique-id term
 * (the binding takes them whole).
 */
#ifndef KB_TEST_XAP_FIXTURE_H
#define KB_TEST_XAP_FIXTURE_H

#include "check.h"
#include "xapian_c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURE_TERM_MAX 300

/* Writes the unique-id term of uid into t (cap bytes); returns its length. */
static size_t fixture_uid_term(const char *uid, size_t len, char *t, size_t cap);

/* The temporary directory of the test's databases (main() makes it). */
static char dir[256];

static inline void rm_rf(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
}

static inline xap_doc *make_doc(xap_analyzer *an, const char *lang, const char *text,
                                const char *topic)
{
    struct xap_error e = {0};
    xap_doc *d = xap_doc_new();
    char term[64];
    CHECK(d != NULL);
    CHECK_INT(xap_doc_index_text(d, an, text, strlen(text), 1, "", &e), XAP_OK);
    CHECK_INT(xap_doc_increase_termpos(d, 100, &e), XAP_OK);
    CHECK_INT(xap_doc_index_text(d, an, "title words", 11, 1, "S", &e), XAP_OK);
    snprintf(term, sizeof term, "L%s", lang);
    CHECK_INT(xap_doc_add_term(d, term, strlen(term), 0, &e), XAP_OK);
    snprintf(term, sizeof term, "K%s", topic);
    CHECK_INT(xap_doc_add_term(d, term, strlen(term), 0, &e), XAP_OK);
    CHECK_INT(xap_doc_set_value(d, 4, lang, strlen(lang), &e), XAP_OK);
    CHECK_INT(xap_doc_set_value(d, 5, topic, strlen(topic), &e), XAP_OK);
    CHECK_INT(xap_doc_set_data(d, text, strlen(text), &e), XAP_OK);
    return d;
}

static inline int put_doc(xap_writer *w, const char *uid, size_t len, xap_doc *d,
                          unsigned *docid, struct xap_error *e)
{
    char t[FIXTURE_TERM_MAX];
    size_t n = fixture_uid_term(uid, len, t, sizeof t);
    return xap_writer_replace(w, t, n, d, docid, e);
}

static inline int find_doc(xap_writer *w, const char *uid, size_t len, unsigned *docid,
                           struct xap_error *e)
{
    char t[FIXTURE_TERM_MAX];
    size_t n = fixture_uid_term(uid, len, t, sizeof t);
    return xap_writer_lookup(w, t, n, docid, e);
}

static inline int doc_data(xap_reader *r, const char *uid, size_t len, char **data,
                           size_t *dlen, struct xap_error *e)
{
    char t[FIXTURE_TERM_MAX];
    size_t n = fixture_uid_term(uid, len, t, sizeof t);
    return xap_reader_term_doc_data(r, t, n, data, dlen, e);
}

#endif
