/* SPDX-License-Identifier: MIT */
/*
 * text.h - the one text normaliser, applied identically to indexed text, query strings,
 * thesaurus labels and stop words, so that what members type meets what was written:
 *
 *   - apostrophes: ’ ‘ ʼ ` become ', and French/Italian elisions are split
 *     ("l'hydrogène" -> "l hydrogene", "dell'idrogeno" -> "dell idrogeno");
 *   - accents and ligatures folded (é -> e, œ -> oe, æ -> ae, ß -> ss, ﬁ -> fi), Unicode
 *     compatibility forms mapped (H₂ -> h2, CO₂ -> co2, ² -> 2), soft hyphens dropped;
 *   - case folded (in queries, the operators AND OR NOT XOR NEAR ADJ keep their case);
 *   - a number followed by a unit is joined ("800 V" -> "800v", "350 bar" -> "350bar").
 *
 * Query syntax characters (" : * ( ) + -) pass through unchanged.
 */
#ifndef KB_TEXT_H
#define KB_TEXT_H

#include "buf.h"

#include <stddef.h>

enum kb_norm_flags {
    KB_NORM_QUERY = 1 << 0,       /* keep upper-case boolean operators */
    KB_NORM_DROP_ELISION = 1 << 1 /* drop elided articles ("l'hydrogène" -> "hydrogene"):
                                      a query word "l" or "dell" would match the English
                                      "L" of kW/L, or "della" in every Italian brief */
};

/* Appends the normalised form of in[0..len) to out. Invalid UTF-8 bytes become spaces.
 * Returns 0, or KB_ETOOBIG / KB_ENOMEM from the buffer. */
int kb_text_normalize(const char *in, size_t len, unsigned flags, struct kb_buf *out);

/* Normalises one word of original text to the form the index holds, keeping only its
 * last part after an elision ("L'Hydrogène" -> "hydrogene"). Writes at most cap bytes
 * (not NUL-terminated) and returns the length. Matches xap_word_fn (snippets). */
size_t kb_text_fold_word(const char *in, size_t len, char *out, size_t cap);

/* Is the lower-case, folded word an elided article/preposition ("l", "dell", "qu")? */
int kb_text_is_elision(const char *w, size_t len);

/* Length of the longest prefix of s[0..len) that is valid UTF-8 and at most max bytes,
 * never cutting a character. */
size_t kb_utf8_trim(const char *s, size_t len, size_t max);
/* 1 when s[0..len) is valid UTF-8. */
int kb_utf8_valid(const char *s, size_t len);
/* Length of the one valid UTF-8 character at s (at most n bytes read, and none past a
 * byte that breaks it, so n may overstate a NUL-terminated string's rest), its code point
 * in *cp when cp is not NULL; 0 when the bytes there are not UTF-8 (overlong forms and
 * surrogates included). */
size_t kb_utf8_char(const char *s, size_t n, unsigned *cp);

#endif
