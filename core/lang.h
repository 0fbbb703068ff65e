/* SPDX-License-Identifier: MIT */
/*
 * lang.h - the three languages of the knowledge base and how we tell them apart:
 * libexttextcat's n-gram classifier restricted to fr/it/en for texts long enough, and a
 * stop-word count (our own lists in schemas/stopwords/) for short ones or when textcat
 * hesitates. Stop words are loaded once (read-only, shareable across threads); a
 * detector (`struct kb_langid`) holds a textcat handle and is used by one thread.
 */
#ifndef KB_LANG_H
#define KB_LANG_H

#include "error.h"

#include <stddef.h>

enum kb_lang { KB_LANG_FR = 0, KB_LANG_IT = 1, KB_LANG_EN = 2, KB_LANG_COUNT = 3 };

const char *kb_lang_code(int lang);    /* "fr", "it", "en" */
const char *kb_lang_stemmer(int lang); /* "french", "italian", "english" */
/* KB_LANG_* for "fr"/"it"/"en" (also "fr-FR", "FR", "french"...), else -1. */
int kb_lang_from_code(const char *code);

/* Stop words of one language, normalised with kb_text_normalize. Borrowed pointers. */
struct kb_stopwords {
    char **words;
    size_t n;
};
/* Loads schemas/stopwords/<code>.txt for every language. */
int kb_stopwords_load(struct kb_stopwords sw[KB_LANG_COUNT], struct kb_error *err);
void kb_stopwords_release(struct kb_stopwords sw[KB_LANG_COUNT]);
int kb_stopwords_has(const struct kb_stopwords *sw, const char *w, size_t len);

struct kb_langid;
/* A detector over loaded stop words (borrowed: they must outlive it). */
struct kb_langid *kb_langid_new(const struct kb_stopwords sw[KB_LANG_COUNT],
                                struct kb_error *err);
void kb_langid_free(struct kb_langid *li);
/* Most likely language of UTF-8 text (only the first few KB are read); KB_LANG_EN when
 * nothing points anywhere. */
int kb_langid_detect(struct kb_langid *li, const char *text, size_t len);

#endif
