/* SPDX-License-Identifier: MIT */
/* lang.c - see lang.h. */
#include "lang.h"
#include "buf.h"
#include "config.h"
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <libexttextcat/textcat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SAMPLE_BYTES 4096
#define TEXTCAT_DIR  "/usr/share/libexttextcat/"

static const char *const codes[KB_LANG_COUNT] = {"fr", "it", "en"};
static const char *const stemmers[KB_LANG_COUNT] = {"french", "italian", "english"};

const char *kb_lang_code(int lang)
{
    return lang >= 0 && lang < KB_LANG_COUNT ? codes[lang] : "en";
}

const char *kb_lang_stemmer(int lang)
{
    return lang >= 0 && lang < KB_LANG_COUNT ? stemmers[lang] : "english";
}

int kb_lang_from_code(const char *code)
{
    if (!code)
        return -1;
    for (int i = 0; i < KB_LANG_COUNT; i++) {
        size_t n = strlen(codes[i]);
        if (strncasecmp(code, codes[i], n) == 0 &&
            (code[n] == '\0' || code[n] == '-' || code[n] == '_'))
            return i;
        if (strcasecmp(code, stemmers[i]) == 0)
            return i;
    }
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int kb_stopwords_load(struct kb_stopwords sw[KB_LANG_COUNT], struct kb_error *err)
{
    memset(sw, 0, sizeof *sw * KB_LANG_COUNT);
    for (int l = 0; l < KB_LANG_COUNT; l++) {
        char path[1200], name[64];
        snprintf(name, sizeof name, "stopwords/%s.txt", codes[l]);
        if (!kb_data_path(name, path, sizeof path))
            return kb_error_set(err, KB_EINVAL, "data path too long");
        FILE *f = fopen(path, "r");
        if (!f) {
            kb_stopwords_release(sw);
            return kb_error_set(err, KB_EIO, "cannot open stop words '%s': %s", path,
                                strerror(errno));
        }
        char line[256];
        while (fgets(line, sizeof line, f)) {
            size_t n = strcspn(line, "\r\n");
            line[n] = '\0';
            if (!n || line[0] == '#')
                continue;
            struct kb_buf b;
            kb_buf_init(&b, 256);
            char **v = realloc(sw[l].words, (sw[l].n + 1) * sizeof *v);
            if (v)
                sw[l].words = v;
            if (!v || kb_text_normalize(line, n, 0, &b) || !b.data) {
                kb_buf_release(&b);
                fclose(f);
                kb_stopwords_release(sw);
                return kb_error_set(err, KB_ENOMEM, "out of memory");
            }
            /* an elided form normalises with no apostrophe: keep the first word only */
            char *w = kb_buf_steal(&b);
            w[strcspn(w, " ")] = '\0';
            v[sw[l].n++] = w;
        }
        fclose(f);
        if (sw[l].n)
            qsort(sw[l].words, sw[l].n, sizeof *sw[l].words, cmp_str);
    }
    return KB_OK;
}

void kb_stopwords_release(struct kb_stopwords sw[KB_LANG_COUNT])
{
    for (int l = 0; l < KB_LANG_COUNT; l++) {
        for (size_t i = 0; i < sw[l].n; i++)
            free(sw[l].words[i]);
        free(sw[l].words);
        sw[l].words = NULL;
        sw[l].n = 0;
    }
}

int kb_stopwords_has(const struct kb_stopwords *sw, const char *w, size_t len)
{
    char key[64];
    if (len >= sizeof key)
        return 0;
    memcpy(key, w, len);
    key[len] = '\0';
    const char *k = key;
    return sw->n && bsearch(&k, sw->words, sw->n, sizeof *sw->words, cmp_str) != NULL;
}

struct kb_langid {
    void *textcat;
    const struct kb_stopwords *sw;
};

struct kb_langid *kb_langid_new(const struct kb_stopwords sw[KB_LANG_COUNT],
                                struct kb_error *err)
{
    struct kb_langid *li = calloc(1, sizeof *li);
    if (!li) {
        kb_error_set(err, KB_ENOMEM, "out of memory");
        return NULL;
    }
    li->sw = sw;
    char conf[1200];
    if (kb_data_path("textcat.conf", conf, sizeof conf))
        li->textcat = special_textcat_Init(conf, TEXTCAT_DIR);
    /* without textcat we still have the stop-word test */
    return li;
}

void kb_langid_free(struct kb_langid *li)
{
    if (!li)
        return;
    if (li->textcat)
        textcat_Done(li->textcat);
    free(li);
}

/* Counts stop-word hits per language over the normalised sample. */
static int by_stopwords(const struct kb_langid *li, const char *text, size_t len,
                        int *margin)
{
    struct kb_buf b;
    kb_buf_init(&b, SAMPLE_BYTES * 4);
    size_t hits[KB_LANG_COUNT] = {0};
    if (kb_text_normalize(text, len, 0, &b) == KB_OK && b.data) {
        const char *s = b.data;
        size_t i = 0;
        while (i < b.len) {
            while (i < b.len && !isalnum((unsigned char)s[i]) &&
                   (unsigned char)s[i] < 128)
                i++;
            size_t j = i;
            while (j < b.len &&
                   (isalnum((unsigned char)s[j]) || (unsigned char)s[j] >= 128))
                j++;
            if (j > i)
                for (int l = 0; l < KB_LANG_COUNT; l++)
                    hits[l] += (size_t)kb_stopwords_has(&li->sw[l], s + i, j - i);
            i = j + 1;
        }
    }
    kb_buf_release(&b);
    int best = KB_LANG_EN;
    size_t second = 0;
    for (int l = 0; l < KB_LANG_COUNT; l++)
        if (hits[l] > hits[best])
            best = l;
    for (int l = 0; l < KB_LANG_COUNT; l++)
        if (l != best && hits[l] > second)
            second = hits[l];
    *margin = (int)(hits[best] - second);
    return best;
}

int kb_langid_detect(struct kb_langid *li, const char *text, size_t len)
{
    if (!li || !text || !len)
        return KB_LANG_EN;
    size_t n = kb_utf8_trim(text, len, SAMPLE_BYTES);
    int margin = 0;
    int sw_guess = by_stopwords(li, text, n, &margin);
    if (margin >= 3 || n < 200 || !li->textcat)
        return sw_guess;
    const char *r = textcat_Classify(li->textcat, text, n);
    if (r && r[0] == '[') {
        /* "[fr--utf8]" or several candidates "[fr--utf8][it--utf8]": take a single one */
        if (strchr(r + 1, '[') == NULL) {
            int l = kb_lang_from_code(r + 1);
            if (l >= 0)
                return l;
        }
    }
    return sw_guess;
}
