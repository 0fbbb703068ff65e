/* SPDX-License-Identifier: MIT */
/*
 * analysis.c - see analysis.h. Field weights: the title is indexed twice into the body
 * term space (wdf 3 per occurrence in all) and once under S for `title:`, the abstract
 * twice (wdf 2); authors under A, the organisation under XO. Concepts become XC terms
 * whose wdf is their number of occurrences, and a concept seen at least twice (or in the
 * title) gives the document its topics.
 */
#include "analysis.h"
#include "buf.h"
#include "config.h"
#include "schema.h"
#include "text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NORM (64u * 1024u * 1024u)

int kb_resources_load(struct kb_resources *res, struct kb_error *err)
{
    memset(res, 0, sizeof *res);
    int rc = kb_stopwords_load(res->sw, err);
    if (rc)
        return rc;
    char path[1200];
    if (!kb_data_path("thesaurus.json", path, sizeof path))
        return kb_error_set(err, KB_EINVAL, "data path too long");
    res->thes = kb_thesaurus_load(path, err);
    if (!res->thes) {
        kb_stopwords_release(res->sw);
        return err && err->code ? err->code : KB_EPARSE;
    }
    return KB_OK;
}

void kb_resources_release(struct kb_resources *res)
{
    kb_stopwords_release(res->sw);
    kb_thesaurus_free(res->thes);
    res->thes = NULL;
}

int kb_analysis_init(struct kb_analysis *a, const struct kb_resources *res,
                     struct kb_error *err)
{
    memset(a, 0, sizeof *a);
    a->res = res;
    for (int l = 0; l < KB_LANG_COUNT; l++) {
        struct xap_error xe = {0};
        if (xap_analyzer_new(kb_lang_stemmer(l), (const char *const *)res->sw[l].words,
                             res->sw[l].n, &a->an[l], &xe)) {
            kb_analysis_release(a);
            return kb_error_set(err, KB_EINDEX, "cannot create the '%s' analyser: %s",
                                kb_lang_code(l), xe.msg);
        }
    }
    a->langid = kb_langid_new(res->sw, err);
    if (!a->langid) {
        kb_analysis_release(a);
        return KB_ENOMEM;
    }
    return KB_OK;
}

void kb_analysis_release(struct kb_analysis *a)
{
    for (int l = 0; l < KB_LANG_COUNT; l++) {
        xap_analyzer_free(a->an[l]);
        a->an[l] = NULL;
    }
    kb_langid_free(a->langid);
    a->langid = NULL;
}

size_t kb_analysis_word_fn(const char *in, size_t len, char *out, size_t cap)
{
    return kb_text_fold_word(in, len, out, cap);
}

/* Lower-cased, folded copy of s for boolean terms, at most cap-1 bytes. Returns XAP_OK,
 * or XAP_E_NOMEM (a value too long to fold is cut, not an error). */
static int fold_term(const char *s, char *out, size_t cap)
{
    struct kb_buf b;
    kb_buf_init(&b, 1024);
    out[0] = '\0';
    int rc = kb_text_normalize(s, strlen(s), 0, &b);
    if (rc == KB_OK && b.data) {
        size_t n = kb_utf8_trim(b.data, b.len, cap - 1);
        memcpy(out, b.data, n);
        out[n] = '\0';
    }
    kb_buf_release(&b);
    return rc == KB_ENOMEM ? XAP_E_NOMEM : XAP_OK;
}

static int add_bool(xap_doc *x, const char *prefix, const char *value,
                    struct xap_error *xe)
{
    char term[256];
    int n = snprintf(term, sizeof term, "%s%s", prefix, value);
    if (n <= 0 || (size_t)n >= 240)
        return XAP_OK; /* too long for a term: not filterable, still searchable */
    return xap_doc_add_term(x, term, (size_t)n, 0, xe);
}

/* Indexes one field's normalised text, then leaves a gap so phrases do not cross fields.
 */
static int index_norm(xap_doc *x, xap_analyzer *an, const struct kb_buf *norm,
                      unsigned wdf, const char *prefix, struct xap_error *xe)
{
    if (!norm->len)
        return XAP_OK;
    int rc = xap_doc_index_text(x, an, kb_buf_str(norm), norm->len, wdf, prefix, xe);
    if (!rc)
        rc = xap_doc_increase_termpos(x, 100, xe);
    return rc;
}

/* Normalises and indexes one short field (organisation, an author). */
static int index_field(xap_doc *x, xap_analyzer *an, const char *text, unsigned wdf,
                       const char *prefix, struct kb_buf *norm, struct xap_error *xe)
{
    if (!text || !*text)
        return XAP_OK;
    kb_buf_reset(norm);
    if (kb_text_normalize(text, strlen(text), 0, norm))
        return XAP_E_NOMEM;
    return index_norm(x, an, norm, wdf, prefix, xe);
}

static int is_topic(const struct kb_thesaurus *t, const char *id)
{
    return kb_thesaurus_topic_label(t, id, "en") != NULL;
}

/* Concepts from the thesaurus: XC terms, d->concepts, and topics. `norm` holds the
 * normalised title, abstract and body (the same text that was indexed). */
static int add_concepts(struct kb_analysis *a, struct kb_doc *d, xap_doc *x,
                        const struct kb_buf norm[3], struct xap_error *xe)
{
    const struct kb_thesaurus *t = a->res->thes;
    size_t n = kb_thesaurus_concepts(t);
    unsigned *counts = calloc(n + 1, sizeof *counts);
    unsigned *in_title = calloc(n + 1, sizeof *in_title);
    int rc = XAP_OK;
    if (!counts || !in_title) {
        rc = XAP_E_NOMEM;
        goto out;
    }
    const char *fields[] = {d->title, d->abstract, d->body};
    for (size_t f = 0; f < 3; f++) {
        if (!fields[f])
            continue;
        kb_thesaurus_match(t, kb_buf_str(&norm[f]), norm[f].len, fields[f],
                           strlen(fields[f]), 0, f == 0 ? in_title : counts);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned c = counts[i] + in_title[i];
        if (!c)
            continue;
        const char *id = kb_thesaurus_concept_id(t, i);
        char term[128];
        int len = snprintf(term, sizeof term, "%s%s", KB_PFX_CONCEPT, id);
        if (len > 0 && (size_t)len < sizeof term)
            rc = xap_doc_add_term(x, term, (size_t)len, c, xe);
        if (!rc && kb_strlist_add(&d->concepts, id))
            rc = XAP_E_NOMEM;
        if (c >= 2 || in_title[i]) {
            const char *tp[4];
            size_t k = kb_thesaurus_concept_topics(t, i, tp, 4);
            for (size_t j = 0; j < k && !rc; j++)
                if (kb_strlist_add(&d->topics, tp[j]))
                    rc = XAP_E_NOMEM;
        }
    }
out:
    free(counts);
    free(in_title);
    return rc;
}

int kb_analysis_build(struct kb_analysis *a, struct kb_doc *d, xap_doc **out,
                      struct kb_error *err)
{
    struct xap_error xe = {0};
    struct kb_buf norm, sample, field[3]; /* field: normalised title, abstract, body */
    int vrc = kb_doc_check_utf8(d, err);  /* the stored data is JSON: UTF-8 only */
    if (vrc)
        return vrc;
    kb_buf_init(&norm, MAX_NORM);
    kb_buf_init(&sample, 8192);
    for (int f = 0; f < 3; f++)
        kb_buf_init(&field[f], MAX_NORM);
    xap_doc *x = xap_doc_new();
    int rc = x ? XAP_OK : XAP_E_NOMEM;
    if (rc)
        goto out;

    int lang = kb_lang_from_code(d->lang);
    if (lang < 0) {
        kb_buf_adds(&sample, d->title ? d->title : "");
        kb_buf_addc(&sample, '\n');
        if (d->body)
            kb_buf_add(&sample, d->body, kb_utf8_trim(d->body, strlen(d->body), 4096));
        lang = kb_langid_detect(a->langid, kb_buf_str(&sample), sample.len);
    }
    if (kb_doc_set(&d->lang, kb_lang_code(lang), (size_t)-1)) {
        rc = XAP_E_NOMEM;
        goto out;
    }
    /* drop topics that are not ours, then add the thesaurus' */
    for (size_t i = 0; i < d->topics.n;) {
        if (is_topic(a->res->thes, d->topics.v[i])) {
            i++;
            continue;
        }
        free(d->topics.v[i]);
        memmove(&d->topics.v[i], &d->topics.v[i + 1],
                (d->topics.n - i - 1) * sizeof(char *));
        d->topics.n--;
    }

    /* each long field is normalised once, for indexing and for the thesaurus */
    const char *texts[3] = {d->title, d->abstract, d->body};
    for (int f = 0; f < 3 && !rc; f++)
        if (texts[f] && kb_text_normalize(texts[f], strlen(texts[f]), 0, &field[f]))
            rc = XAP_E_NOMEM;
    xap_analyzer *an = a->an[lang];
    if (!rc)
        rc = index_norm(x, an, &field[0], 3, "", &xe);
    if (!rc)
        rc = index_norm(x, an, &field[0], 1, KB_PFX_TITLE, &xe);
    if (!rc)
        rc = index_norm(x, an, &field[1], 2, "", &xe);
    if (!rc)
        rc = index_norm(x, an, &field[1], 1, KB_PFX_ABSTRACT, &xe);
    if (!rc)
        rc = index_norm(x, an, &field[2], 1, "", &xe);
    if (!rc)
        rc = index_field(x, an, d->org, 1, KB_PFX_ORG_TEXT, &norm, &xe);
    for (size_t i = 0; !rc && i < d->authors.n; i++)
        rc = index_field(x, an, d->authors.v[i], 1, KB_PFX_AUTHOR, &norm, &xe);
    if (!rc)
        rc = add_concepts(a, d, x, field, &xe);

    char folded[256];
    if (!rc)
        rc = add_bool(x, KB_PFX_LANG, d->lang, &xe);
    for (size_t i = 0; !rc && i < d->topics.n; i++)
        rc = add_bool(x, KB_PFX_TOPIC, d->topics.v[i], &xe);
    int year = kb_date_year(d->date);
    char ybuf[8] = "";
    if (year)
        snprintf(ybuf, sizeof ybuf, "%04d", year);
    if (!rc && year)
        rc = add_bool(x, KB_PFX_YEAR, ybuf, &xe);
    if (!rc && d->type && *d->type && !(rc = fold_term(d->type, folded, sizeof folded)))
        rc = add_bool(x, KB_PFX_TYPE, folded, &xe);
    if (!rc && d->org && *d->org && !(rc = fold_term(d->org, folded, sizeof folded)))
        rc = add_bool(x, KB_PFX_ORG, folded, &xe);
    if (!rc && d->format)
        rc = add_bool(x, KB_PFX_FORMAT, d->format, &xe);

    /* values */
    if (!rc)
        rc = xap_doc_set_value_number(x, KB_SLOT_MTIME, (double)d->mtime, &xe);
    if (!rc)
        rc = xap_doc_set_value_number(x, KB_SLOT_SIZE, (double)d->size, &xe);
    if (!rc && d->checksum[0])
        rc =
            xap_doc_set_value(x, KB_SLOT_CHECKSUM, d->checksum, strlen(d->checksum), &xe);
    if (!rc && kb_date_valid(d->date))
        rc = xap_doc_set_value_number(x, KB_SLOT_DATE, kb_date_number(d->date), &xe);
    if (!rc)
        rc = xap_doc_set_value(x, KB_SLOT_LANG, d->lang, strlen(d->lang), &xe);
    if (!rc && d->topics.n) {
        kb_buf_reset(&norm);
        for (size_t i = 0; i < d->topics.n; i++) {
            if (i)
                kb_buf_addc(&norm, KB_MULTI_SEP);
            kb_buf_adds(&norm, d->topics.v[i]);
        }
        rc = xap_doc_set_value(x, KB_SLOT_TOPICS, kb_buf_str(&norm), norm.len, &xe);
    }
    if (!rc && d->org && *d->org)
        rc = xap_doc_set_value(x, KB_SLOT_ORG, d->org, strlen(d->org), &xe);
    if (!rc && d->type && *d->type)
        rc = xap_doc_set_value(x, KB_SLOT_TYPE, d->type, strlen(d->type), &xe);
    if (!rc && year)
        rc = xap_doc_set_value(x, KB_SLOT_YEAR, ybuf, strlen(ybuf), &xe);

    /* data: the metadata as JSON, a NUL byte, then the body as is (snippets and the
     * document view), so that a search hit decodes only the small part; readers:
     * server/search.h kb_search_data_split */
    if (!rc) {
        json_t *j = kb_doc_to_json(d, 0);
        char *s = j ? kb_json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (s) {
            struct kb_buf data;
            const char *body = d->body ? d->body : "";
            size_t slen = strlen(s), blen = strlen(body);
            kb_buf_init(&data, slen + blen + 2);
            if (kb_buf_add(&data, s, slen + 1) || kb_buf_add(&data, body, blen))
                rc = XAP_E_NOMEM;
            else
                rc = xap_doc_set_data(x, data.data, data.len, &xe);
            kb_buf_release(&data);
        } else {
            rc = XAP_E_NOMEM;
        }
        free(s);
    }
out:
    kb_buf_release(&norm);
    kb_buf_release(&sample);
    for (int f = 0; f < 3; f++)
        kb_buf_release(&field[f]);
    if (rc) {
        xap_doc_free(x);
        if (rc == XAP_E_NOMEM)
            return kb_error_set(err, KB_ENOMEM, "out of memory analysing '%s'",
                                d->id ? d->id : "?");
        return kb_error_set(err, KB_EINDEX, "cannot index '%s': %s", d->id ? d->id : "?",
                            xe.msg);
    }
    *out = x;
    return KB_OK;
}

/* Words of a request's preamble ("please supply information on", "je cherche des
 * documents sur", "vorrei informazioni su"), as the normaliser leaves them (lower case,
 * accents folded, elisions split). R: asking words, dropped on their own; F: fillers and
 * what is asked for (information, articles...), dropped only up to a T; T: the word that
 * introduces the topic. English, French and Italian words in one list each, every word
 * between spaces. */
static const char asking_words[] =
    " please could would can you i we me us am are is like wish want need "
    "interested looking search find show give send supply provide tell get je j "
    "nous vous pouvez pourriez cherche recherche voudrais souhaite aimerais veux "
    "besoin m moi donner envoyer fournir trouver svp merci interesse interessee ai "
    "vorrei cerco mi io potete potreste puoi darmi inviare fornire trovare servono "
    "interessa favore ";
static const char filler_words[] =
    " have information info details references articles papers abstracts abstract "
    "documents literature data what which any some the a an informations "
    "renseignements publications donnees des de d du les le la l un une quels "
    "quelles informazioni dettagli documenti articoli riferimenti dati dei degli "
    "delle di il lo gli una per ";
static const char topic_words[] =
    " on about of in for to regarding concerning pertinent relating sur concernant "
    "propos sujet par su sul sulla sui sugli sulle riguardo riguardanti circa "
    "merito ";

/* The kind of word w[0..n): 'R', 'F', 'T' as above, or 0. */
static char request_kind(const char *w, size_t n)
{
    char key[32];
    if (n + 3 > sizeof key)
        return 0;
    key[0] = ' ';
    memcpy(key + 1, w, n);
    key[n + 1] = ' ';
    key[n + 2] = '\0';
    if (strstr(asking_words, key))
        return 'R';
    if (strstr(filler_words, key))
        return 'F';
    if (strstr(topic_words, key))
        return 'T';
    return 0;
}

/* Drops a request's preamble from the start of a normalised query, in place: the longest
 * run of request words ending with a topic word (T), or a run of asking words (R) alone.
 * Anything else (a content word, syntax, an operator, a field) ends the run. Nothing is
 * dropped when nothing would be left, so "information on" still finds documents about
 * information. */
static void strip_request(char *text)
{
    char *p = text, *cut = NULL;
    int only_asking = 1;
    for (;;) {
        while (*p == ' ')
            p++;
        char *w = p;
        while (*p >= 'a' && *p <= 'z')
            p++;
        size_t n = (size_t)(p - w);
        char kind = n && (*p == ' ' || *p == '\0') ? request_kind(w, n) : 0;
        if (!kind)
            break;
        if (kind != 'R')
            only_asking = 0;
        if (kind == 'T' || (kind == 'R' && only_asking))
            cut = p;
        if (!*p)
            break;
    }
    if (!cut)
        return;
    while (*cut == ' ')
        cut++;
    if (*cut)
        memmove(text, cut, strlen(cut) + 1);
}

static int has_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (islower((unsigned char)s[i]))
            return 1;
    return 0;
}

int kb_query_prepare(const struct kb_resources *res, const char *q, size_t len,
                     struct kb_query *out, struct kb_error *err)
{
    memset(out, 0, sizeof *out);
    struct kb_buf b;
    kb_buf_init(&b, len * 4 + 64);
    /* all capitals: words, not operators */
    unsigned flags = KB_NORM_QUERY;
    if (!has_lower(q, len)) {
        flags = 0;
        /* only worth saying when an operator word was there to be misread */
        static const char *const ops[] = {"AND", "OR", "NOT", "XOR", "NEAR", "ADJ"};
        for (size_t i = 0; i < len; i++) {
            if (i && isalnum((unsigned char)q[i - 1]))
                continue;
            for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
                size_t n = strlen(ops[k]);
                if (i + n <= len && !strncmp(q + i, ops[k], n) &&
                    (i + n == len || !isalnum((unsigned char)q[i + n])))
                    out->relaxed_case = 1;
            }
        }
        if (!out->relaxed_case)
            flags = KB_NORM_QUERY;
    }
    int rc = kb_text_normalize(q, len, flags, &b);
    if (rc) {
        kb_buf_release(&b);
        return kb_error_set(err, rc,
                            rc == KB_ENOMEM ? "out of memory" : "query too long");
    }
    out->text = kb_buf_steal(&b);
    if (!out->text)
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    strip_request(out->text);
    const struct kb_thesaurus *t = res ? res->thes : NULL;
    size_t n = kb_thesaurus_concepts(t);
    if (!n)
        return KB_OK;
    unsigned *counts = calloc(n, sizeof *counts);
    if (!counts)
        goto nomem;
    kb_thesaurus_match(t, out->text, strlen(out->text), q, len, 1, counts);
    for (size_t i = 0; i < n; i++) {
        if (!counts[i])
            continue;
        /* every concept or an error: a query silently missing some would rank
         * differently from the same query a moment later */
        char **v = realloc(out->concepts, (out->n_concepts + 1) * sizeof *v);
        if (!v)
            goto nomem;
        out->concepts = v;
        size_t tl = strlen(kb_thesaurus_concept_id(t, i)) + 3;
        v[out->n_concepts] = malloc(tl);
        if (!v[out->n_concepts])
            goto nomem;
        snprintf(v[out->n_concepts++], tl, "%s%s", KB_PFX_CONCEPT,
                 kb_thesaurus_concept_id(t, i));
    }
    free(counts);
    return KB_OK;
nomem:
    free(counts);
    kb_query_release(out);
    return kb_error_set(err, KB_ENOMEM, "out of memory");
}

void kb_query_release(struct kb_query *q)
{
    free(q->text);
    for (size_t i = 0; i < q->n_concepts; i++)
        free(q->concepts[i]);
    free(q->concepts);
    memset(q, 0, sizeof *q);
}
