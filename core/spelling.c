/* SPDX-License-Identifier: MIT */
/*
 * spelling.c - see spelling.h: "did you mean" and the corrections typo tolerance
 * searches, from the index's spelling dictionary and the thesaurus's labels.
 */
#include "spelling.h"
#include "buf.h"
#include "text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Is the folded word a term of the index? */
static int word_known(struct kb_searcher *sc, const char *word, size_t len)
{
    struct xap_error xe = {0};
    unsigned freq = 0;
    return xap_reader_term_freq(sc->reader, word, len, &freq, &xe) == XAP_OK && freq;
}

/* Do two folded words share a stem in one of our languages ("hydrogens", "hydrogen")? */
static int same_stem(struct kb_searcher *sc, const char *a, const char *b)
{
    struct xap_error xe = {0};
    for (int l = 0; l < KB_LANG_COUNT; l++) {
        char sa[128], sb[128];
        int na = xap_analyzer_stem(sc->an.an[l], a, strlen(a), sa, sizeof sa, &xe);
        int nb = xap_analyzer_stem(sc->an.an[l], b, strlen(b), sb, sizeof sb, &xe);
        if (na > 0 && na == nb && !strcmp(sa, sb))
            return 1;
    }
    return 0;
}

/* Edits (insertion, deletion, substitution, or transposition of neighbours) between
 * two folded words of at most 64 bytes. */
static size_t edit_distance(const char *a, size_t an, const char *b, size_t bn)
{
    size_t d[66][66];
    if (an > 64 || bn > 64)
        return (size_t)-1;
    for (size_t i = 0; i <= an; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= bn; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= an; i++)
        for (size_t j = 1; j <= bn; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[an][bn];
}

/* Typo tolerance searches a correction at most this many edits from a word of n folded
 * bytes, as Meilisearch does: none under 5 bytes ("wish" is not "with"), one, two from 9
 * bytes on; "did you mean" offers the spelling dictionary's other ones too ("nothing" ->
 * "potting"). */
static size_t typo_edits(size_t n)
{
    return n < 5 ? 0 : n < 9 ? 1 : 2;
}

/* Appends a correction in the case of the word typed: capitals for a word in capitals
 * (so that a query in capitals stays one, whose AND and OR are words), a capital first
 * letter for a capitalised word. */
static void add_in_case(struct kb_buf *b, const char *typed, size_t n, const char *sug)
{
    int upper = 0, lower = 0;
    for (size_t i = 0; i < n; i++) {
        upper |= isupper((unsigned char)typed[i]) != 0;
        lower |= islower((unsigned char)typed[i]) != 0;
    }
    for (size_t i = 0; sug[i]; i++) {
        char c = sug[i];
        if (upper && (!lower || i == 0) && c >= 'a' && c <= 'z' &&
            (!lower || isupper((unsigned char)typed[0])))
            c = (char)(c - 'a' + 'A');
        kb_buf_addc(b, c);
    }
}

/* Does the folded word a index more documents than the folded word b? */
static int more_frequent(struct kb_searcher *sc, const char *a, const char *b, size_t bn)
{
    struct xap_error xe = {0};
    unsigned fa = 0, fb = 0;
    return !xap_reader_term_freq(sc->reader, a, strlen(a), &fa, &xe) &&
           !xap_reader_term_freq(sc->reader, b, bn, &fb, &xe) && fa > fb;
}

static int is_query_operator(const char *s, size_t n)
{
    static const char *const ops[] = {"AND", "OR", "NOT", "XOR", "NEAR", "ADJ"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strlen(ops[i]) == n && !memcmp(ops[i], s, n))
            return 1;
    return 0;
}

#define DYM_MAX_WORDS 32
/* Words edited letter by letter (some 50 index lookups per letter): at most this long,
 * and at most DYM_MAX_EDITED of them in a query, so a long query of unknown words costs
 * little more than a short one. */
#define DYM_MAX_EDIT_LEN 24
#define DYM_MAX_EDITED   4

struct dym_word {
    size_t start, len; /* in the query as typed */
    int keep;
    char folded[64];
    size_t fn;
};

/* Does putting `cand` in place of word i complete a thesaurus label with its
 * neighbours ("fuel cel" -> "fuel cell")? */
static int completes_label(const struct kb_thesaurus *t, const struct dym_word *v,
                           size_t n, size_t i, const char *cand)
{
    const char *tok[DYM_MAX_WORDS];
    size_t len[DYM_MAX_WORDS];
    for (size_t k = 0; k < n; k++) {
        tok[k] = k == i ? cand : v[k].folded;
        len[k] = k == i ? strlen(cand) : v[k].fn;
    }
    for (size_t from = i >= 4 ? i - 4 : 0; from <= i; from++) {
        size_t concept;
        size_t got = kb_thesaurus_lookup(t, tok + from, len + from, n - from, &concept);
        if (got > 1 && from + got > i)
            return 1;
    }
    return 0;
}

/* A correction of word i that completes a label, among the words one edit away that the
 * index holds; writes it to out (cap bytes). */
static int label_correction(struct kb_searcher *sc, const struct kb_thesaurus *t,
                            const struct dym_word *v, size_t n, size_t i, char *out,
                            size_t cap)
{
    const char *word = v[i].folded;
    size_t len = v[i].fn;
    char c[72];
    if (len > DYM_MAX_EDIT_LEN || len < 2)
        return 0;
    unsigned best = 0;
    for (int kind = 0; kind < 4; kind++) { /* delete, transpose, replace, insert */
        size_t positions = kind == 3 ? len + 1 : len;
        for (size_t p = 0; p < positions; p++) {
            for (char ch = 'a'; ch <= 'z'; ch++) {
                if (kind < 2 && ch > 'a')
                    break; /* deletions and transpositions take no letter */
                size_t cl = 0;
                if (kind == 0) {
                    memcpy(c, word, p);
                    memcpy(c + p, word + p + 1, len - p - 1);
                    cl = len - 1;
                } else if (kind == 1) {
                    if (p + 1 >= len)
                        continue;
                    memcpy(c, word, len);
                    c[p] = word[p + 1];
                    c[p + 1] = word[p];
                    cl = len;
                } else if (kind == 2) {
                    if (word[p] == ch)
                        continue;
                    memcpy(c, word, len);
                    c[p] = ch;
                    cl = len;
                } else {
                    memcpy(c, word, p);
                    c[p] = ch;
                    memcpy(c + p + 1, word + p, len - p);
                    cl = len + 1;
                }
                c[cl] = '\0';
                struct xap_error xe = {0};
                unsigned freq = 0;
                if (xap_reader_term_freq(sc->reader, c, cl, &freq, &xe) || freq <= best ||
                    !completes_label(t, v, n, i, c) || cl >= cap)
                    continue;
                best = freq;
                memcpy(out, c, cl + 1);
            }
        }
    }
    return best > 0;
}

/* "Did you mean": the query as typed, each word the index does not hold replaced by a
 * correction: one that completes a thesaurus label with the words around it, or else
 * the spelling dictionary's, unless that is the same word inflected. Words the index
 * knows, operators, field names, the values of filter fields, numbers, elided articles
 * and wildcards stay as typed, so correct input never gets a suggestion. With
 * `known_too` (typo tolerance, for a query that found little), a word the index holds
 * is corrected too, by the spelling dictionary only and only to a word found in more
 * documents. NULL: none. *typo (when typo is not NULL) gets the corrections that typo
 * tolerance searches: only those within typo_edits() of the word typed (NULL: none).
 * *n_known (when not NULL) gets the number of known words that typo tolerance could
 * correct. */
char *kb_spelling_did_you_mean(struct kb_searcher *sc, const char *q, int known_too,
                               char **typo, size_t *n_known)
{
    struct dym_word v[DYM_MAX_WORDS];
    int known[DYM_MAX_WORDS];
    size_t nw = 0, n = strlen(q);
    for (size_t i = 0; i < n && nw < DYM_MAX_WORDS;) {
        unsigned char c = (unsigned char)q[i];
        if (!(isalnum(c) || c >= 128)) {
            i++;
            continue;
        }
        size_t j = i;
        int digit = 0;
        while (j < n && (isalnum((unsigned char)q[j]) || (unsigned char)q[j] >= 128)) {
            digit |= isdigit((unsigned char)q[j]);
            j++;
        }
        struct dym_word *d = &v[nw++];
        d->start = i;
        d->len = j - i;
        char after = j < n ? q[j] : ' ';
        const char *fld = NULL;
        size_t fl = 0;
        if (i && q[i - 1] == ':') { /* the field of a value */
            size_t k = i - 1;
            while (k && isalpha((unsigned char)q[k - 1]))
                k--;
            fld = q + k;
            fl = i - 1 - k;
        }
        d->fn = kb_text_fold_word(q + i, d->len, d->folded, sizeof d->folded - 1);
        d->folded[d->fn] = '\0';
        d->keep = digit || after == ':' || after == '*' ||
                  is_query_operator(q + i, d->len) ||
                  (fld && fl == 4 &&
                   (!memcmp(fld, "lang", 4) || !memcmp(fld, "type", 4) ||
                    !memcmp(fld, "year", 4))) ||
                  (fld && fl == 5 && !memcmp(fld, "topic", 5)) || d->fn < 3 ||
                  d->fn >= sizeof d->folded - 1 ||
                  /* an elided article ("l'", "dell'") is kept as typed */
                  ((after == '\'' || (unsigned char)after == 0xE2) &&
                   kb_text_is_elision(d->folded, d->fn));
        known[nw - 1] = !d->keep && word_known(sc, d->folded, d->fn);
        if (n_known && known[nw - 1] && typo_edits(d->fn))
            (*n_known)++;
        if (known[nw - 1] && !known_too)
            d->keep = 1;
        i = j;
    }
    struct kb_buf out, tol;
    kb_buf_init(&out, n * 2 + 64);
    kb_buf_init(&tol, n * 2 + 64);
    int changed = 0, tol_changed = 0;
    size_t at = 0, tol_at = 0;
    size_t edited = 0;
    for (size_t k = 0; k < nw; k++) {
        char sug[64] = "";
        struct xap_error xe = {0};
        if (v[k].keep)
            continue;
        if (!(!known[k] && edited++ < DYM_MAX_EDITED &&
              label_correction(sc, sc->res->thes, v, nw, k, sug, sizeof sug)) &&
            (xap_reader_spell(sc->reader, v[k].folded, v[k].fn, sug, sizeof sug, &xe) ||
             !sug[0] || !strcmp(sug, v[k].folded) || same_stem(sc, sug, v[k].folded) ||
             (known[k] && !more_frequent(sc, sug, v[k].folded, v[k].fn))))
            continue;
        kb_buf_add(&out, q + at, v[k].start - at);
        add_in_case(&out, q + v[k].start, v[k].len, sug);
        at = v[k].start + v[k].len;
        changed = 1;
        if (edit_distance(v[k].folded, v[k].fn, sug, strlen(sug)) <=
            typo_edits(v[k].fn)) {
            kb_buf_add(&tol, q + tol_at, v[k].start - tol_at);
            add_in_case(&tol, q + v[k].start, v[k].len, sug);
            tol_at = v[k].start + v[k].len;
            tol_changed = 1;
        }
    }
    kb_buf_add(&out, q + at, n - at);
    kb_buf_add(&tol, q + tol_at, n - tol_at);
    char *r = changed ? kb_buf_steal(&out) : NULL;
    if (typo)
        *typo = tol_changed ? kb_buf_steal(&tol) : NULL;
    kb_buf_release(&out);
    kb_buf_release(&tol);
    return r;
}
