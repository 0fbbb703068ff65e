/* SPDX-License-Identifier: MIT */
/*
 * suggest.c - see suggest.h.
 */
#include "query.h"
#include "suggest.h"
#include "schema.h"
#include "search.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define MAX_SCAN          5000 /* terms looked at per prefix */
#define PARTIAL_EXPANSION 40   /* title words a partial last word expands to */
#define MAX_CHECKED       64 /* candidates checked against public documents per request */

struct cand {
    char *term;
    unsigned freq;
    char *shown; /* surface form, or NULL: the term */
    int label;   /* thesaurus labels it completes with the words before it */
};

struct collect {
    struct cand *v;
    size_t n, cap;
};

/* Collects one completion candidate; returns 1 (stop) when out of memory. */
static int on_term(const char *term, size_t len, unsigned freq, void *ctx)
{
    struct collect *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        struct cand *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return 1;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n].term = strndup(term, len);
    c->v[c->n].shown = NULL;
    if (!c->v[c->n].term)
        return 1;
    c->v[c->n].label = 0;
    c->v[c->n++].freq = freq;
    return 0;
}

/* A thesaurus label goes on with `word`: mark that candidate. */
static int on_label_word(const char *word, size_t len, void *ctx)
{
    struct collect *c = ctx;
    for (size_t i = 0; i < c->n; i++)
        if (strlen(c->v[i].term) == len && !memcmp(c->v[i].term, word, len))
            c->v[i].label++;
    return 0;
}

#define MAX_CONTEXT 8 /* words before the last one that a label may start with */

/* Marks the candidates that complete a thesaurus label begun by the words before the
 * last one ("pile a" + "c" -> "combustible", "fuel" + "c" -> "cell"), trying the
 * longest context first. */
static void mark_label_words(const struct kb_thesaurus *t, const char *const *tok,
                             const size_t *len, size_t n, const char *last,
                             size_t last_len, struct collect *c)
{
    for (size_t from = 0; from < n; from++)
        kb_thesaurus_continue(t, tok + from, len + from, n - from, last, last_len,
                              on_label_word, c);
}

/* After an elided article ("l'hyd"), a word found mostly in English briefs is not
 * offered: "l'hydrogen" is no word of French or Italian. */
static int written_after_elision(xap_reader *r, const struct cand *cd)
{
    static const char *const romance[] = {KB_PFX_LANG "fr", KB_PFX_LANG "it"};
    unsigned in = 0;
    struct xap_error xe = {0};
    if (xap_reader_term_freq_in(r, cd->term, strlen(cd->term), romance, 2, &in, &xe))
        return 1;
    return 2 * in >= cd->freq;
}

/* 1 for a byte that belongs to a word: ASCII letters and digits, and any byte of a
 * multi-byte UTF-8 character. */
static int word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c >= 0x80;
}

/* Does q[0..end) end with a typographic apostrophe (’ or ‘), which is not part of the
 * word after it ("l’hyd")? */
static int apostrophe_before(const char *q, size_t end)
{
    return end >= 3 && (!memcmp(q + end - 3, "\xe2\x80\x99", 3) ||
                        !memcmp(q + end - 3, "\xe2\x80\x98", 3));
}

/* Lower-cases UTF-8 word w[0..len) into out (cap bytes, NUL-terminated), keeping its
 * accents. Returns 0, or -1 when it does not fit or is not UTF-8. */
static int lower_utf8(const char *w, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)w + i,
                                              (utf8proc_ssize_t)(len - i), &c);
        if (k <= 0 || o + 4 >= cap)
            return -1;
        o += (size_t)utf8proc_encode_char(utf8proc_tolower(c),
                                          (utf8proc_uint8_t *)out + o);
        i += (size_t)k;
    }
    out[o] = '\0';
    return 0;
}

/* The form of folded index word `term` as members write it ("hydrogene" -> "hydrogène"):
 * the first word with an accent or ligature, in the text of the first document that
 * holds the term (body, then title), that folds to it, lower-cased. Words without any
 * non-ASCII byte are passed over: they fold to themselves. Writes into out (cap bytes)
 * and returns 1, or 0 when there is none (the term is then shown as it is). */
static int surface_form_in(const char *data, size_t len, const char *term, char *out,
                           size_t cap)
{
    size_t tlen = strlen(term);
    int found = 0;
    if (len > 1 << 20)
        len = 1 << 20; /* a long text: the first megabyte is plenty */
    /* stored data: metadata JSON, NUL, body; the body is plain text, look there first */
    const char *nul = memchr(data, '\0', len);
    size_t body = nul ? (size_t)(nul - data) + 1 : 0;
    for (int pass = 0; pass < 2 && !found; pass++) {
        size_t i = pass ? 0 : body, end = pass ? (nul ? body : len) : len;
        if (!pass && !nul)
            continue;
        while (i < end && !found) {
            while (i < end && !word_byte((unsigned char)data[i]))
                i++;
            size_t b = i;
            int accent = 0;
            while (i < end && word_byte((unsigned char)data[i]))
                accent |= (unsigned char)data[i++] >= 0x80;
            size_t n = i - b;
            if (!accent || n < tlen || n > 3 * tlen)
                continue;
            char folded[256];
            size_t fl = kb_text_fold_word(data + b, n, folded, sizeof folded);
            if (fl == tlen && memcmp(folded, term, tlen) == 0)
                found = lower_utf8(data + b, n, out, cap) == 0;
        }
    }
    return found;
}

static int surface_form(xap_reader *r, const char *term, char *out, size_t cap)
{
    char *data = NULL;
    size_t len = 0;
    struct xap_error xe = {0};
    if (xap_reader_term_doc_data(r, term, strlen(term), &data, &len, &xe) != XAP_OK)
        return 0;
    int found = surface_form_in(data, len, term, out, cap);
    free(data);
    return found;
}

/* For a client who may not see member-only documents: the number of public documents
 * holding `term` (at most `freq`, the term's frequency) into *count, and the surface
 * form from one of them into out (or "" when none). Returns an xap_code. */
static int public_term(xap_reader *r, const char *term, unsigned freq, unsigned *count,
                       char *out, size_t cap)
{
    const char *t[1] = {term};
    static const char *const pub[] = {KB_TERM_PUBLIC};
    struct xap_term_group g[2] = {{t, 1}, {pub, 1}};
    struct kb_query_spec sr;
    struct xap_error xe = {0};
    xap_result *res = NULL;
    kb_query_spec_init(&sr);
    sr.query = "";
    sr.filters = g;
    sr.n_filters = 2;
    sr.limit = 1;
    sr.check_at_least = freq;
    sr.data_slot = -1; /* the surface form is looked for in the body first */
    out[0] = '\0';
    *count = 0;
    int rc = kb_query_run(r, &sr, &res, &xe);
    if (rc)
        return rc;
    size_t lower, est, upper;
    xap_result_counts(res, &lower, &est, &upper);
    struct xap_hit h;
    if (xap_result_size(res) && xap_result_hit(res, 0, &h) == XAP_OK) {
        *count = lower ? (unsigned)lower : 1;
        if (!surface_form_in(h.data, h.data_len, term, out, cap))
            out[0] = '\0';
    }
    xap_result_free(res);
    return XAP_OK;
}

/* qsort order: words that complete the most labels first, then most frequent first,
 * then alphabetical. */
static int by_freq(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->label != y->label)
        return y->label - x->label;
    if (x->freq != y->freq)
        return x->freq < y->freq ? 1 : -1;
    return strcmp(x->term, y->term);
}

/* Answers with a serialised answer object (`{...}`, len bytes) and its took_ms. */

int kb_suggest_run(struct kb_searcher *sc, const char *q, size_t limit, int members,
                   struct kb_suggest_result *out, struct kb_error *err)
{
    struct kb_buf folded, tq;
    struct collect c = {0};
    xap_result *res = NULL;
    struct xap_error xe = {0};
    int rc = KB_OK;
    memset(out, 0, sizeof *out);
    kb_buf_init(&folded, 4 * sc->cfg->max_query_bytes + 16);
    kb_buf_init(&tq, 8 * sc->cfg->max_query_bytes + 64);
    if (kb_text_normalize(q, strlen(q), 0, &folded)) {
        rc = kb_error_set(err, KB_EINVAL, "'q' cannot be normalised");
        goto out;
    }
    /* words of the folded input: letters and digits only */
    const char *s = kb_buf_str(&folded);
    const char *last = NULL;
    size_t last_len = 0;
    const char *prev[MAX_CONTEXT];
    size_t prev_len[MAX_CONTEXT], n_prev = 0;
    int ends_with_space = folded.len && (s[folded.len - 1] == ' ');
    for (const char *p = s; *p;) {
        while (*p &&
               !((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || (*p & 0x80)))
            p++;
        const char *b = p;
        while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || (*p & 0x80))
            p++;
        if (p > b) {
            if (tq.len)
                kb_buf_addc(&tq, ' ');
            kb_buf_adds(&tq, "title:");
            kb_buf_add(&tq, b, (size_t)(p - b));
            if (last) { /* the words before the last one, the latest MAX_CONTEXT */
                if (n_prev == MAX_CONTEXT) {
                    memmove(prev, prev + 1, (MAX_CONTEXT - 1) * sizeof *prev);
                    memmove(prev_len, prev_len + 1, (MAX_CONTEXT - 1) * sizeof *prev_len);
                    n_prev--;
                }
                prev[n_prev] = last;
                prev_len[n_prev++] = last_len;
            }
            last = b;
            last_len = (size_t)(p - b);
        }
    }
    out->cacheable = 1;
    static const char *const public_only[] = {KB_TERM_PUBLIC};
    struct xap_term_group pub = {public_only, 1};
    if (last && !ends_with_space) {
        xap_reader_for_each_term(sc->reader, last, last_len, MAX_SCAN, on_term, &c, &xe);
        mark_label_words(sc->res->thes, prev, prev_len, n_prev, last, last_len, &c);
        if (c.n) /* qsort must not see NULL, even with 0 items */
            qsort(c.v, c.n, sizeof *c.v, by_freq);
        /* the input as typed, up to its last word ("pile à combu" -> "pile à ") */
        size_t head = strlen(q);
        while (head && word_byte((unsigned char)q[head - 1]) &&
               !apostrophe_before(q, head))
            head--;
        unsigned hidden = 0;
        if (!members &&
            xap_reader_term_freq(sc->reader, KB_TERM_MEMBERS, strlen(KB_TERM_MEMBERS),
                                 &hidden, &xe) != XAP_OK)
            hidden = 1; /* not known: check every candidate (fail closed) */
        if (hidden) {   /* keep the candidates public documents hold, with their counts */
            size_t kept = 0;
            for (size_t i = 0; i < c.n; i++) {
                char shown[256];
                unsigned n = 0;
                if (kept < limit && i < MAX_CHECKED &&
                    public_term(sc->reader, c.v[i].term, c.v[i].freq, &n, shown,
                                sizeof shown) == XAP_OK &&
                    n) {
                    c.v[i].freq = n;
                    c.v[i].shown = shown[0] ? strdup(shown) : NULL;
                    struct cand tmp = c.v[kept];
                    c.v[kept++] = c.v[i];
                    c.v[i] = tmp;
                }
            }
            for (size_t i = kept; i < c.n; i++) {
                free(c.v[i].term);
                free(c.v[i].shown);
            }
            c.n = kept;
            if (c.n)
                qsort(c.v, c.n, sizeof *c.v, by_freq);
        }
        /* "l'" or "dell'" just before the word: it is French or Italian */
        int elided = n_prev &&
                     (apostrophe_before(q, head) || (head && q[head - 1] == '\'')) &&
                     kb_text_is_elision(prev[n_prev - 1], prev_len[n_prev - 1]);
        size_t checked = 0;
        out->comps = calloc(limit, sizeof *out->comps);
        for (size_t i = 0; out->comps && i < c.n && out->n_comps < limit; i++) {
            if (elided &&
                (checked++ >= 4 * limit || !written_after_elision(sc->reader, &c.v[i])))
                continue;
            struct kb_buf t;
            char shown[256];
            kb_buf_init(&t, head + 2 * strlen(c.v[i].term) + 256);
            kb_buf_add(&t, q, head);
            kb_buf_adds(&t, c.v[i].shown ? c.v[i].shown
                            : !hidden && surface_form(sc->reader, c.v[i].term, shown,
                                                      sizeof shown)
                                ? shown
                                : c.v[i].term);
            struct kb_suggest_completion *k = &out->comps[out->n_comps++];
            k->text = kb_buf_steal(&t);
            k->term = strdup(c.v[i].term);
            k->freq = c.v[i].freq;
            kb_buf_release(&t);
        }
    }
    if (tq.len) {
        struct kb_query_spec sr;
        kb_query_spec_init(&sr);
        static const struct xap_field fields[] = {{"title", KB_PFX_TITLE, 0}};
        sr.query = kb_buf_str(&tq);
        sr.qp_flags = ends_with_space ? 0 : XAP_QP_PARTIAL;
        sr.default_and = 1;
        sr.fields = fields;
        sr.n_fields = 1;
        sr.limit = limit;
        /* the last word stands for its most frequent completions only: an OR over
         * every title word with a 4-letter prefix was most of a keystroke's cost */
        sr.max_wildcard = PARTIAL_EXPANSION;
        sr.time_limit = sc->cfg->query_seconds;
        sr.collapse_slot = KB_SLOT_CHECKSUM;
        if (!members) {
            sr.filters = &pub;
            sr.n_filters = 1;
        }
        int xrc = kb_query_run(sc->reader, &sr, &res, &xe);
        if (xrc && kb_searcher_recover(sc, xrc)) {
            memset(&xe, 0, sizeof xe);
            xrc = kb_query_run(sc->reader, &sr, &res, &xe);
        }
        out->cacheable = xrc == XAP_OK;
        size_t n = xrc ? 0 : xap_result_size(res);
        out->titles = n ? calloc(n, sizeof *out->titles) : NULL;
        for (size_t i = 0; out->titles && i < n; i++) {
            struct xap_hit h;
            xap_result_hit(res, i, &h);
            size_t mlen, blen;
            const char *body;
            kb_search_data_split(h.data, h.data_len, &mlen, &body, &blen);
            out->titles[out->n_titles++] = json_loadb(h.data, mlen, 0, NULL);
        }
    }
out:
    for (size_t i = 0; i < c.n; i++) {
        free(c.v[i].term);
        free(c.v[i].shown);
    }
    free(c.v);
    xap_result_free(res);
    kb_buf_release(&folded);
    kb_buf_release(&tq);
    return rc;
}

void kb_suggest_result_release(struct kb_suggest_result *r)
{
    for (size_t i = 0; i < r->n_comps; i++) {
        free(r->comps[i].text);
        free(r->comps[i].term);
    }
    free(r->comps);
    for (size_t i = 0; i < r->n_titles; i++)
        json_decref(r->titles[i]);
    free(r->titles);
    memset(r, 0, sizeof *r);
}
