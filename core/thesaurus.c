/* SPDX-License-Identifier: MIT */
/*
 * thesaurus.c - see thesaurus.h. Labels are stored normalised as space-separated token
 * sequences in one array sorted by first token, so matching a text is one pass over its
 * tokens with a binary search per token.
 */
#include "thesaurus.h"
#include "buf.h"
#include "text.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOPICS_PER_CONCEPT 4

struct concept {
    char *id;
    char *label[3]; /* first label per language: fr, it, en */
    const char *topics[MAX_TOPICS_PER_CONCEPT];
    size_t n_topics;
    long broader;
    char *broader_id;
};

struct topic {
    char *id;
    char *label[3];
};

struct entry {
    char *first; /* first token */
    char *rest;  /* remaining tokens, space-separated ("" when one token) */
    size_t concept;
};

struct acronym {
    char *text;
    size_t concept;
};

struct kb_thesaurus {
    struct concept *c;
    size_t n_c;
    struct topic *tp;
    size_t n_tp;
    struct entry *e;
    size_t n_e;
    struct acronym *a;
    size_t n_a;
};

static const char *const lang_codes[3] = {"fr", "it", "en"};

static int lang_index(const char *lang)
{
    for (int i = 0; i < 3; i++)
        if (lang && strncmp(lang, lang_codes[i], 2) == 0)
            return i;
    return 2;
}

void kb_thesaurus_free(struct kb_thesaurus *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_c; i++) {
        free(t->c[i].id);
        free(t->c[i].broader_id);
        for (int l = 0; l < 3; l++)
            free(t->c[i].label[l]);
    }
    for (size_t i = 0; i < t->n_tp; i++) {
        free(t->tp[i].id);
        for (int l = 0; l < 3; l++)
            free(t->tp[i].label[l]);
    }
    for (size_t i = 0; i < t->n_e; i++) {
        free(t->e[i].first);
        free(t->e[i].rest);
    }
    for (size_t i = 0; i < t->n_a; i++)
        free(t->a[i].text);
    free(t->c);
    free(t->tp);
    free(t->e);
    free(t->a);
    free(t);
}

static int is_tok(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch >= 128;
}

/* Next token of normalised text from *pos: sets start/len, returns 0 at the end. */
static int next_tok(const char *s, size_t n, size_t *pos, size_t *start, size_t *len)
{
    size_t i = *pos;
    while (i < n && !is_tok((unsigned char)s[i]))
        i++;
    if (i >= n)
        return 0;
    size_t j = i;
    while (j < n && is_tok((unsigned char)s[j]))
        j++;
    *start = i;
    *len = j - i;
    *pos = j;
    return 1;
}

static int add_label(struct kb_thesaurus *t, const char *label, size_t concept)
{
    struct kb_buf norm, rest;
    kb_buf_init(&norm, 4096);
    kb_buf_init(&rest, 4096);
    int rc = kb_text_normalize(label, strlen(label), 0, &norm);
    size_t pos = 0, st, ln;
    char *first = NULL;
    while (!rc && next_tok(norm.data, norm.len, &pos, &st, &ln)) {
        if (!first) {
            first = strndup(norm.data + st, ln);
            if (!first)
                rc = KB_ENOMEM;
        } else {
            if (rest.len)
                rc = kb_buf_addc(&rest, ' ');
            if (!rc)
                rc = kb_buf_add(&rest, norm.data + st, ln);
        }
    }
    if (!rc && first) {
        struct entry *e = realloc(t->e, (t->n_e + 1) * sizeof *e);
        if (!e) {
            rc = KB_ENOMEM;
        } else {
            t->e = e;
            e[t->n_e].first = first;
            e[t->n_e].rest = kb_buf_steal(&rest);
            e[t->n_e].concept = concept;
            first = NULL;
            rc = e[t->n_e].rest ? KB_OK : KB_ENOMEM;
            t->n_e++;
        }
    }
    free(first);
    kb_buf_release(&norm);
    kb_buf_release(&rest);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->first, y->first);
    if (c)
        return c;
    /* longer labels first, so the most specific wins */
    size_t lx = strlen(x->rest), ly = strlen(y->rest);
    return lx > ly ? -1 : lx < ly;
}

static char *dup_json(const json_t *v)
{
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

struct kb_thesaurus *kb_thesaurus_load(const char *path, struct kb_error *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    struct kb_thesaurus *t = NULL;
    if (!root) {
        kb_error_set(err, KB_EPARSE, "thesaurus '%s' line %d: %s", path, je.line,
                     je.text);
        goto fail;
    }
    const json_t *topics = json_object_get(root, "topics");
    const json_t *concepts = json_object_get(root, "concepts");
    if (!json_is_array(topics) || !json_is_array(concepts)) {
        kb_error_set(err, KB_EPARSE,
                     "thesaurus '%s': 'topics' and 'concepts' must be arrays", path);
        goto fail;
    }
    t = calloc(1, sizeof *t);
    if (!t)
        goto nomem;
    t->tp = calloc(json_array_size(topics) + 1, sizeof *t->tp);
    t->c = calloc(json_array_size(concepts) + 1, sizeof *t->c);
    if (!t->tp || !t->c)
        goto nomem;
    size_t i;
    const json_t *it;
    json_array_foreach(topics, i, it)
    {
        struct topic *tp = &t->tp[t->n_tp++];
        tp->id = dup_json(json_object_get(it, "id"));
        if (!tp->id && json_is_string(json_object_get(it, "id")))
            goto nomem;
        if (!tp->id) {
            kb_error_set(err, KB_EPARSE, "thesaurus '%s': topic %zu has no id", path, i);
            goto fail;
        }
        for (int l = 0; l < 3; l++) {
            const json_t *lb =
                json_object_get(json_object_get(it, "labels"), lang_codes[l]);
            tp->label[l] = dup_json(lb);
            if (json_is_string(lb) && !tp->label[l])
                goto nomem; /* not absent: out of memory */
        }
    }
    json_array_foreach(concepts, i, it)
    {
        struct concept *c = &t->c[t->n_c++];
        c->broader = -1;
        c->id = dup_json(json_object_get(it, "id"));
        if (!c->id && json_is_string(json_object_get(it, "id")))
            goto nomem;
        if (!c->id) {
            kb_error_set(err, KB_EPARSE, "thesaurus '%s': concept %zu has no id", path,
                         i);
            goto fail;
        }
        c->broader_id = dup_json(json_object_get(it, "broader"));
        if (json_is_string(json_object_get(it, "broader")) && !c->broader_id)
            goto nomem;
        size_t k;
        const json_t *v;
        json_array_foreach(json_object_get(it, "topics"), k, v)
        {
            const char *tid = json_string_value(v);
            for (size_t j = 0; tid && j < t->n_tp && c->n_topics < MAX_TOPICS_PER_CONCEPT;
                 j++)
                if (strcmp(t->tp[j].id, tid) == 0)
                    c->topics[c->n_topics++] = t->tp[j].id;
        }
        const json_t *labels = json_object_get(it, "labels");
        for (int l = 0; l < 3; l++) {
            json_array_foreach(json_object_get(labels, lang_codes[l]), k, v)
            {
                if (!json_is_string(v))
                    continue;
                if (!c->label[l] && !(c->label[l] = strdup(json_string_value(v))))
                    goto nomem;
                if (add_label(t, json_string_value(v), t->n_c - 1))
                    goto nomem;
            }
        }
        json_array_foreach(json_object_get(it, "acronyms"), k, v)
        {
            if (!json_is_string(v) || json_string_length(v) < 2)
                continue;
            struct acronym *a = realloc(t->a, (t->n_a + 1) * sizeof *a);
            if (!a)
                goto nomem;
            t->a = a;
            a[t->n_a].text = strdup(json_string_value(v));
            a[t->n_a].concept = t->n_c - 1;
            if (!a[t->n_a++].text)
                goto nomem;
        }
    }
    for (i = 0; i < t->n_c; i++)
        if (t->c[i].broader_id)
            t->c[i].broader = kb_thesaurus_find(t, t->c[i].broader_id);
    if (t->n_e)
        qsort(t->e, t->n_e, sizeof *t->e, cmp_entry);
    json_decref(root);
    return t;
nomem:
    kb_error_set(err, KB_ENOMEM, "out of memory loading thesaurus '%s'", path);
fail:
    json_decref(root);
    kb_thesaurus_free(t);
    return NULL;
}

size_t kb_thesaurus_concepts(const struct kb_thesaurus *t)
{
    return t ? t->n_c : 0;
}

const char *kb_thesaurus_concept_id(const struct kb_thesaurus *t, size_t i)
{
    return t && i < t->n_c ? t->c[i].id : NULL;
}

const char *kb_thesaurus_concept_label(const struct kb_thesaurus *t, size_t i,
                                       const char *lang)
{
    if (!t || i >= t->n_c)
        return NULL;
    const char *l = t->c[i].label[lang_index(lang)];
    return l ? l : t->c[i].id;
}

size_t kb_thesaurus_concept_topics(const struct kb_thesaurus *t, size_t i,
                                   const char **out, size_t cap)
{
    if (!t || i >= t->n_c)
        return 0;
    size_t n = 0;
    for (; n < t->c[i].n_topics && n < cap; n++)
        out[n] = t->c[i].topics[n];
    return n;
}

long kb_thesaurus_find(const struct kb_thesaurus *t, const char *id)
{
    for (size_t i = 0; t && id && i < t->n_c; i++)
        if (strcmp(t->c[i].id, id) == 0)
            return (long)i;
    return -1;
}

size_t kb_thesaurus_topics(const struct kb_thesaurus *t)
{
    return t ? t->n_tp : 0;
}

const char *kb_thesaurus_topic_id(const struct kb_thesaurus *t, size_t i)
{
    return t && i < t->n_tp ? t->tp[i].id : NULL;
}

const char *kb_thesaurus_topic_label(const struct kb_thesaurus *t, const char *id,
                                     const char *lang)
{
    for (size_t i = 0; t && id && i < t->n_tp; i++)
        if (strcmp(t->tp[i].id, id) == 0)
            return t->tp[i].label[lang_index(lang)];
    return NULL;
}

static void count(const struct kb_thesaurus *t, size_t c, unsigned *counts)
{
    /* the concept and its broader chain (bounded against cycles) */
    for (int depth = 0; depth < 8; depth++) {
        counts[c]++;
        if (t->c[c].broader < 0)
            break;
        c = (size_t)t->c[c].broader;
    }
}

/* Do the tokens from *pos on match `rest` (space-separated tokens)? */
static int match_rest(const char *s, size_t n, size_t pos, const char *rest, size_t *end)
{
    while (*rest) {
        size_t rl = strcspn(rest, " "), st, ln;
        if (!next_tok(s, n, &pos, &st, &ln) || ln != rl || memcmp(s + st, rest, rl) != 0)
            return 0;
        rest += rl;
        if (*rest == ' ')
            rest++;
    }
    *end = pos;
    return 1;
}

static int is_upper_tok(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9');
}

void kb_thesaurus_match(const struct kb_thesaurus *t, const char *norm, size_t norm_len,
                        const char *orig, size_t orig_len, int any_case, unsigned *counts)
{
    if (!t || !counts)
        return;
    size_t pos = 0, st, ln;
    while (norm && next_tok(norm, norm_len, &pos, &st, &ln)) {
        /* binary search for the first entry whose first token equals this one */
        size_t lo = 0, hi = t->n_e;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            int c = strncmp(t->e[mid].first, norm + st, ln);
            if (c == 0 && t->e[mid].first[ln] != '\0')
                c = 1;
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t k = lo; k < t->n_e; k++) {
            const struct entry *e = &t->e[k];
            if (strncmp(e->first, norm + st, ln) != 0 || e->first[ln] != '\0')
                break;
            size_t end;
            if (match_rest(norm, norm_len, pos, e->rest, &end)) {
                count(t, e->concept, counts);
                pos = end; /* longest label first: skip what it covered */
                break;
            }
        }
    }
    /* acronyms: whole tokens of letters and digits in the original text */
    size_t i = 0;
    while (orig && i < orig_len) {
        while (i < orig_len && !is_upper_tok((unsigned char)orig[i]))
            i++;
        if (i >= orig_len)
            break; /* orig need not be NUL-terminated */
        size_t j = i;
        while (j < orig_len && is_upper_tok((unsigned char)orig[j]))
            j++;
        int upper = orig[i] >= 'A' && orig[i] <= 'Z';
        if ((upper || any_case) && j - i >= 2 && j - i < 16 &&
            (j >= orig_len || (unsigned char)orig[j] < 128)) {
            for (size_t k = 0; k < t->n_a; k++) {
                const char *a = t->a[k].text;
                if (strlen(a) == j - i && (any_case ? strncasecmp(a, orig + i, j - i)
                                                    : strncmp(a, orig + i, j - i)) == 0) {
                    count(t, t->a[k].concept, counts);
                    break;
                }
            }
        }
        i = j;
    }
}

/* Index of the first entry whose first token is w[0..n) (t->n_e when none). */
static size_t first_entry(const struct kb_thesaurus *t, const char *w, size_t n)
{
    size_t lo = 0, hi = t->n_e;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strncmp(t->e[mid].first, w, n);
        if (c == 0 && t->e[mid].first[n] != '\0')
            c = 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t kb_thesaurus_lookup(const struct kb_thesaurus *t, const char *const *tok,
                           const size_t *len, size_t n, size_t *concept)
{
    if (!t || !n)
        return 0;
    /* entries of one first token come longest label first, so the first that matches
     * is the most specific */
    for (size_t k = first_entry(t, tok[0], len[0]); k < t->n_e; k++) {
        const struct entry *e = &t->e[k];
        if (strncmp(e->first, tok[0], len[0]) != 0 || e->first[len[0]] != '\0')
            break;
        const char *rest = e->rest;
        size_t i = 1;
        while (*rest) {
            size_t rl = strcspn(rest, " ");
            int same = i < n && rl == len[i] && memcmp(rest, tok[i], rl) == 0;
            /* an elided article of the label ("stockage de l'hydrogène") is optional:
             * queries drop them */
            if (!same && !kb_text_is_elision(rest, rl))
                break;
            rest += rl;
            if (*rest == ' ')
                rest++;
            i += same;
        }
        if (!*rest) {
            *concept = e->concept;
            return i;
        }
    }
    for (size_t k = 0; k < t->n_a; k++)
        if (strlen(t->a[k].text) == len[0] &&
            strncasecmp(t->a[k].text, tok[0], len[0]) == 0) {
            *concept = t->a[k].concept;
            return 1;
        }
    return 0;
}

void kb_thesaurus_continue(const struct kb_thesaurus *t, const char *const *tok,
                           const size_t *len, size_t n, const char *prefix, size_t plen,
                           kb_thesaurus_word_fn fn, void *ctx)
{
    if (!t || !n || !fn)
        return;
    for (size_t k = first_entry(t, tok[0], len[0]); k < t->n_e; k++) {
        const struct entry *e = &t->e[k];
        if (strncmp(e->first, tok[0], len[0]) != 0 || e->first[len[0]] != '\0')
            break;
        const char *rest = e->rest;
        size_t i = 1;
        while (*rest && i < n) {
            size_t rl = strcspn(rest, " ");
            int same = rl == len[i] && memcmp(rest, tok[i], rl) == 0;
            if (!same && !kb_text_is_elision(rest, rl))
                break;
            rest += rl;
            if (*rest == ' ')
                rest++;
            i += same;
        }
        if (i < n || !*rest)
            continue;
        size_t rl = strcspn(rest, " ");
        if (kb_text_is_elision(rest, rl) && rest[rl] == ' ') { /* "de l' hydrogene" */
            rest += rl + 1;
            rl = strcspn(rest, " ");
        }
        if (rl >= plen && memcmp(rest, prefix, plen) == 0 && fn(rest, rl, ctx))
            return;
    }
}

long kb_thesaurus_broader(const struct kb_thesaurus *t, size_t i)
{
    return t && i < t->n_c ? t->c[i].broader : -1;
}
