/* SPDX-License-Identifier: MIT */
/*
 * fuzz_query.c - libFuzzer target for what a member types: the query normaliser (both
 * modes), query preparation (preamble stripping, all-capitals rule, thesaurus concepts)
 * and the search itself through xapian-c on a small real index built once. Output must
 * stay valid UTF-8; a search may fail only with a syntax, wildcard or time error, never
 * crash or leak.
 */
#include "analysis.h"
#include "fuzz.h"
#include "index.h"
#include "query.h"
#include "schema.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct kb_resources res;
static struct kb_analysis an;
static xap_reader *reader;
static char dir[64];

static void build_index(void)
{
    struct kb_error e;
    kb_error_clear(&e);
    if (kb_resources_load(&res, &e) || kb_analysis_init(&an, &res, &e))
        abort();
    snprintf(dir, sizeof dir, "/tmp/kb-fuzz-query-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    struct xap_error xe = {0};
    xap_writer *w = NULL;
    if (xap_writer_open(dir, XAP_OPEN_CREATE, &w, &xe))
        abort();
    static const char *const docs[][3] = {
        {"a", "fr",
         "Production de l'hydrogène par électrolyse; pile à combustible PEMFC 800 V"},
        {"b", "it",
         "Produzione dell'idrogeno e celle a combustibile per autobus, H₂ a 700 bar"},
        {"c", "en",
         "Plug-in hybrid (PHEV) batteries, SiC inverters and fuel cells for trucks"}};
    for (size_t i = 0; i < 3; i++) {
        struct kb_doc d;
        kb_doc_init(&d);
        kb_doc_set(&d.id, docs[i][0], (size_t)-1);
        kb_doc_set(&d.lang, docs[i][1], (size_t)-1);
        kb_doc_set(&d.title, docs[i][2], 30);
        kb_doc_set(&d.body, docs[i][2], (size_t)-1);
        kb_doc_set(&d.date, "2024-05-01", (size_t)-1);
        xap_doc *x = NULL;
        char t[KB_UID_TERM_MAX];
        size_t tl = kb_query_uid_term(KB_PFX_UID, d.id, strlen(d.id), t, sizeof t);
        if (kb_analysis_build(&an, &d, &x, &e) ||
            xap_writer_replace(w, t, tl, x, NULL, &xe) ||
            xap_writer_add_doc_spellings(w, x, kb_index_spelling_word, &xe))
            abort();
        xap_doc_free(x);
        kb_doc_release(&d);
    }
    if (xap_writer_close(w, &xe) || xap_reader_open(dir, &reader, &xe))
        abort();
    for (int l = 0; l < KB_LANG_COUNT; l++)
        xap_reader_add_lang(reader, kb_lang_code(l), an.an[l], &xe);
    xap_reader_set_word_fn(reader, kb_analysis_word_fn);
}

static void cleanup(void)
{
    char cmd[128];
    xap_reader_close(reader);
    kb_analysis_release(&an);
    kb_resources_release(&res);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!reader) {
        build_index();
        atexit(cleanup);
    }
    if (size > 4096)
        return 0; /* the server refuses queries past max_query_bytes */
    const char *q = (const char *)data;
    for (unsigned mode = 0; mode < 2; mode++) {
        struct kb_buf b;
        kb_buf_init(&b, size * 8 + 64);
        if (kb_text_normalize(q, size, mode ? KB_NORM_QUERY : 0, &b) == KB_OK)
            fuzz_utf8(kb_buf_str(&b));
        kb_buf_release(&b);
    }
    struct kb_query kq;
    struct kb_error e;
    kb_error_clear(&e);
    if (kb_query_prepare(&res, q, size, &kq, &e) != KB_OK)
        return 0;
    fuzz_utf8(kq.text);
    fuzz_utf8(kq.parse);
    struct kb_query_spec req;
    kb_query_spec_init(&req);
    /* as the server parses it: the concepts widened in place, the broader ones extra */
    req.query = kq.parse;
    req.qp_flags |= XAP_QP_WILDCARD | XAP_QP_SPELLING | XAP_QP_PURE_NOT;
    req.concept_field = KB_QUERY_CONCEPT_FIELD;
    req.concept_terms = (const char *const *)kq.concepts;
    req.n_concept_terms = kq.n_concepts;
    req.extra_terms = (const char *const *)kq.broader;
    req.n_extra = kq.n_broader;
    req.max_wildcard = 100;
    req.time_limit = 1.0;
    req.feedback_docs = 3; /* the relevance-model pass too, as the server runs it */
    req.feedback_terms = 40;
    req.feedback_prefix = KB_PFX_CONCEPT;
    struct xap_facet f = {5, '\x1f'};
    req.facets = &f;
    req.n_facets = 1;
    xap_result *res_ = NULL;
    struct xap_error xe = {0};
    int rc = kb_query_run(reader, &req, &res_, &xe);
    if (rc == XAP_OK) {
        for (size_t i = 0; i < xap_result_size(res_); i++) {
            struct xap_hit h;
            if (xap_result_hit(res_, i, &h))
                abort();
            char *s = xap_result_snippet(res_, reader, an.an[0], h.data, h.data_len, 100,
                                         "<b>", "</b>", 0, NULL);
            free(s);
        }
        xap_result_free(res_);
    } else if (rc != XAP_E_QUERY_SYNTAX && rc != XAP_E_WILDCARD && rc != XAP_E_RANGE &&
               rc != XAP_E_INVALID_ARG) {
        abort();
    }
    kb_query_release(&kq);
    return 0;
}
