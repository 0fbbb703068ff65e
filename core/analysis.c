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
    /* an API document meets the same max_text_mb as a file read by the indexer */
    size_t body_len = d->body ? strlen(d->body) : 0;
    if (a->res && a->res->max_text && body_len > a->res->max_text)
        d->body[kb_utf8_trim(d->body, body_len, a->res->max_text)] = '\0';
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
    /* a file's time is no publication date: no year, no date slots */
    int dated = kb_date_valid(d->date) && !kb_doc_date_is_file(d);
    int year = dated ? kb_date_year(d->date) : 0;
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
    if (!rc && d->translation_of && *d->translation_of) {
        fold_term(d->translation_of, folded, sizeof folded);
        if (folded[0])
            rc = add_bool(x, KB_PFX_GROUP, folded, &xe);
    }
    if (!rc)
        rc = add_bool(x, KB_PFX_VISIBILITY, kb_visibility_name(d->visibility), &xe);

    /* values */
    if (!rc)
        rc = xap_doc_set_value_number(x, KB_SLOT_MTIME, (double)d->mtime, &xe);
    if (!rc)
        rc = xap_doc_set_value_number(x, KB_SLOT_SIZE, (double)d->size, &xe);
    if (!rc && d->checksum[0])
        rc =
            xap_doc_set_value(x, KB_SLOT_CHECKSUM, d->checksum, strlen(d->checksum), &xe);
    if (!rc && dated)
        rc = xap_doc_set_value_number(x, KB_SLOT_DATE, kb_date_number(d->date), &xe);
    if (!rc && dated)
        rc = xap_doc_set_value_number(x, KB_SLOT_DATE_NEG, -kb_date_number(d->date), &xe);
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
    if (!rc) {
        const char *vis = kb_visibility_name(d->visibility);
        rc = xap_doc_set_value(x, KB_SLOT_VISIBILITY, vis, strlen(vis), &xe);
    }

    /* data: the metadata as JSON, a NUL byte, then the body as is (snippets and the
     * document view), so that a search hit decodes only the small part; readers:
     * core/search.h kb_search_data_split */
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
            /* the metadata alone, for the hits (core/schema.h KB_SLOT_META) */
            if (!rc && blen >= KB_META_SLOT_MIN_BODY)
                rc = xap_doc_set_value(x, KB_SLOT_META, s, slen, &xe);
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

/* The field names server/search.c gives the query parser: "word:" with any other word is
 * read as two plain words. */
static const char query_fields[] = " title author org lang topic type year abstract ";

static int is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 128;
}

/* "foo:bar" -> "foo bar" for a field name the parser does not know, and "title:" with
 * nothing after it -> "title ": a plain word, never a did-you-mean on a field name. */
static void plain_unknown_fields(char *s)
{
    for (char *p = s; *p; p++) {
        if (*p != ':' || p == s || !is_word_byte((unsigned char)p[-1]))
            continue;
        char *w = p;
        while (w > s && is_word_byte((unsigned char)w[-1]))
            w--;
        char key[32];
        size_t n = (size_t)(p - w);
        int known = 0;
        if (n + 3 <= sizeof key) {
            key[0] = ' ';
            memcpy(key + 1, w, n);
            key[n + 1] = ' ';
            key[n + 2] = '\0';
            known = strstr(query_fields, key) != NULL;
        }
        if (!known || p[1] == '\0' || p[1] == ' ' || p[1] == ')')
            *p = ' ';
    }
}

enum { QT_WORD, QT_OP };

struct qtok {
    size_t start, end;
    int kind;
    int quote;    /* 0, or the number of the quoted phrase holding it */
    int eligible; /* may name a concept: a plain word outside fields, NEAR and quotes */
};

#define QUERY_MAX_TOKS 256
#define LABEL_MAX_TOKS 12

static int is_op(const char *s, const struct qtok *t, const char *op)
{
    size_t n = strlen(op);
    return t->kind == QT_OP && t->end - t->start == n && !memcmp(s + t->start, op, n);
}

/* Is the text between two neighbouring tokens something a label can span: spaces, or a
 * hyphen or slash inside a word ("plug-in", "iso/iec"), no syntax? */
static int joinable(const char *s, const struct qtok *a, const struct qtok *b)
{
    if (a->quote != b->quote)
        return 0;
    for (size_t i = a->end; i < b->start; i++) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            continue;
        if ((c == '-' || c == '/' || c == '.') && i > 0 &&
            is_word_byte((unsigned char)s[i - 1]))
            continue;
        return 0;
    }
    return 1;
}

/* Index of term "XC<id>" in v[0..*n), added when missing; -1 when out of memory. */
static long concept_slot(char ***v, size_t *n, const char *id)
{
    char term[160];
    snprintf(term, sizeof term, "%s%s", KB_PFX_CONCEPT, id);
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*v)[i], term))
            return (long)i;
    char **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    *v = nv;
    if (!(nv[*n] = strdup(term)))
        return -1;
    return (long)(*n)++;
}

/* Index of concept `id` in out->concepts, added when missing, and the longest span of
 * `words` words naming it kept; -1 when out of memory. */
static long add_concept(struct kb_query *out, const char *id, size_t words)
{
    size_t n = out->n_concepts;
    long slot = concept_slot(&out->concepts, &out->n_concepts, id);
    if (slot < 0)
        return -1;
    if (out->n_concepts > n) {
        size_t *v = realloc(out->concept_words, out->n_concepts * sizeof *v);
        if (!v)
            return -1;
        out->concept_words = v;
        v[slot] = 0;
    }
    if (words > out->concept_words[slot])
        out->concept_words[slot] = words;
    return slot;
}

struct span {
    size_t from,
        to; /* byte range of the text widened (a quoted phrase with its quotes) */
    long slot;
};

/* Finds the concepts of out->text and writes out->parse. */
static int widen_concepts(const struct kb_thesaurus *t, struct kb_query *out)
{
    const char *s = out->text;
    size_t len = strlen(s);
    struct qtok *tk = calloc(QUERY_MAX_TOKS, sizeof *tk);
    struct span *sp = calloc(QUERY_MAX_TOKS, sizeof *sp);
    struct kb_buf b;
    kb_buf_init(&b, len * 2 + 64 + QUERY_MAX_TOKS * 24);
    size_t n = 0, ns = 0;
    int rc = KB_ENOMEM;
    if (!tk || !sp)
        goto out;
    /* tokens: words (lower case) and operators (upper case, as the normaliser keeps
     * them), with their quoted phrase */
    int quote = 0, quotes = 0;
    for (size_t i = 0; i < len && n < QUERY_MAX_TOKS;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') {
            quote = quote ? 0 : ++quotes;
            i++;
            continue;
        }
        int word = is_word_byte(c), op = c >= 'A' && c <= 'Z';
        if (!word && !op) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len &&
               (is_word_byte((unsigned char)s[j]) || (op && s[j] >= 'A' && s[j] <= 'Z')))
            j++;
        tk[n] = (struct qtok){i, j, op ? QT_OP : QT_WORD, quote, 0};
        char before = i ? s[i - 1] : ' ', after = j < len ? s[j] : ' ';
        tk[n].eligible = !op && before != ':' && after != ':' && after != '*';
        n++;
        i = j;
    }
    /* NEAR and ADJ take words: neither their operands nor their "/3" are widened */
    for (size_t k = 0; k < n; k++) {
        if (!is_op(s, &tk[k], "NEAR") && !is_op(s, &tk[k], "ADJ"))
            continue;
        if (k)
            tk[k - 1].eligible = 0;
        size_t next = k + 1;
        if (next < n && tk[next].start == tk[k].end + 1 && s[tk[k].end] == '/')
            tk[next++].eligible = 0;
        if (next < n)
            tk[next].eligible = 0;
    }
    for (size_t k = 0; k < n;) {
        const char *tok[LABEL_MAX_TOKS];
        size_t tl[LABEL_MAX_TOKS], m = 0, concept;
        if (!tk[k].eligible) {
            k++;
            continue;
        }
        while (k + m < n && m < LABEL_MAX_TOKS && tk[k + m].eligible &&
               (m == 0 || joinable(s, &tk[k + m - 1], &tk[k + m]))) {
            tok[m] = s + tk[k + m].start;
            tl[m] = tk[k + m].end - tk[k + m].start;
            m++;
        }
        size_t got = kb_thesaurus_lookup(t, tok, tl, m, &concept);
        int q = tk[k].quote;
        if (q) {
            /* a quoted phrase is widened only when it is a label as a whole */
            size_t all = 0;
            while (k + all < n && tk[k + all].quote == q)
                all++;
            size_t qopen = tk[k].start, qclose = tk[k + all - 1].end;
            while (qopen > 0 && s[qopen - 1] != '"')
                qopen--;
            while (qclose < len && s[qclose] != '"')
                qclose++;
            /* a closed phrase, not a field's (title:"...") */
            if (got && got == all && m == all && qopen > 0 && qclose < len &&
                !(qopen >= 2 && s[qopen - 2] == ':')) {
                sp[ns++] = (struct span){qopen - 1, qclose + 1, 0};
                sp[ns - 1].slot =
                    add_concept(out, kb_thesaurus_concept_id(t, concept), all);
            }
            k += all;
            continue;
        }
        if (!got) {
            k++;
            continue;
        }
        sp[ns++] = (struct span){tk[k].start, tk[k + got - 1].end, 0};
        sp[ns - 1].slot = add_concept(out, kb_thesaurus_concept_id(t, concept), got);
        /* the broader concepts re-rank; not those of an excluded word */
        size_t from = tk[k].start;
        int negated = (from >= 1 && s[from - 1] == '-' &&
                       (from == 1 || s[from - 2] == ' ' || s[from - 2] == '(')) ||
                      (k && is_op(s, &tk[k - 1], "NOT"));
        for (long c = kb_thesaurus_broader(t, concept), d = 0;
             !negated && c >= 0 && d < 8; c = kb_thesaurus_broader(t, (size_t)c), d++)
            if (concept_slot(&out->broader, &out->n_broader,
                             kb_thesaurus_concept_id(t, (size_t)c)) < 0)
                goto out;
        k += got;
    }
    for (size_t i = 0; i < ns; i++)
        if (sp[i].slot < 0)
            goto out;
    size_t at = 0;
    for (size_t i = 0; i < ns; i++) {
        char tail[48];
        snprintf(tail, sizeof tail, " OR %s:%ld)", KB_QUERY_CONCEPT_FIELD, sp[i].slot);
        if (kb_buf_add(&b, s + at, sp[i].from - at) || kb_buf_addc(&b, '(') ||
            kb_buf_add(&b, s + sp[i].from, sp[i].to - sp[i].from) ||
            kb_buf_adds(&b, tail))
            goto out;
        at = sp[i].to;
    }
    if (kb_buf_add(&b, s + at, len - at))
        goto out;
    /* a broader concept that the query names itself is not a broader one */
    for (size_t i = 0; i < out->n_broader;) {
        int dup = 0;
        for (size_t j = 0; j < out->n_concepts; j++)
            dup |= !strcmp(out->broader[i], out->concepts[j]);
        if (!dup) {
            i++;
            continue;
        }
        free(out->broader[i]);
        memmove(&out->broader[i], &out->broader[i + 1],
                (out->n_broader - i - 1) * sizeof(char *));
        out->n_broader--;
    }
    out->parse = kb_buf_steal(&b);
    rc = out->parse ? KB_OK : KB_ENOMEM;
out:
    kb_buf_release(&b);
    free(tk);
    free(sp);
    return rc;
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
    int rc = kb_text_normalize(q, len, flags | KB_NORM_DROP_ELISION, &b);
    if (rc) {
        kb_buf_release(&b);
        return kb_error_set(err, rc,
                            rc == KB_ENOMEM ? "out of memory" : "query too long");
    }
    out->text = kb_buf_steal(&b);
    if (!out->text)
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    strip_request(out->text);
    plain_unknown_fields(out->text);
    const struct kb_thesaurus *t = res ? res->thes : NULL;
    rc = t ? widen_concepts(t, out) : KB_OK;
    if (!rc && !out->parse && !(out->parse = strdup(out->text)))
        rc = KB_ENOMEM;
    if (rc) {
        kb_query_release(out);
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    }
    return KB_OK;
}

void kb_query_release(struct kb_query *q)
{
    free(q->text);
    free(q->parse);
    for (size_t i = 0; i < q->n_concepts; i++)
        free(q->concepts[i]);
    free(q->concepts);
    free(q->concept_words);
    for (size_t i = 0; i < q->n_broader; i++)
        free(q->broader[i]);
    free(q->broader);
    memset(q, 0, sizeof *q);
}
