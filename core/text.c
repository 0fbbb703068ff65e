/* SPDX-License-Identifier: MIT */
/*
 * text.c - see text.h. Works one code point at a time with utf8proc (decomposition with
 * compatibility mapping and mark stripping) and one word at a time for elisions, query
 * operators and units. No allocation beyond the output buffer.
 */
#include "text.h"
#include "error.h"

#include <string.h>
#include <utf8proc.h>

static const char *const elisions[] = {
    /* French */
    "l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu",
    "presqu", "quelqu",
    /* Italian */
    "dell", "all", "dall", "nell", "sull", "coll", "pell", "un", "quell", "quest", "bell",
    "sant", "tutt", "dev", "nessun", "ciascun", "alcun", "buon", "cent"};

static const char *const units[] = {
    "v",  "kv",  "mv",  "w",   "kw",  "mw",  "gw", "wh", "kwh", "mwh", "gwh",
    "a",  "ah",  "kah", "bar", "mpa", "kpa", "nm", "km", "kg",  "t",   "g",
    "hz", "khz", "khz", "mhz", "rpm", "kn",  "ps", "hp", "cv",  "l",   "ml",
    "mm", "cm",  "m",   "s",   "ms",  "h",   "c",  "k"};

int kb_text_is_elision(const char *w, size_t len)
{
    for (size_t i = 0; i < sizeof elisions / sizeof elisions[0]; i++)
        if (strlen(elisions[i]) == len && memcmp(elisions[i], w, len) == 0)
            return 1;
    return 0;
}

static int is_unit(const char *w, size_t len)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i]) == len && memcmp(units[i], w, len) == 0)
            return 1;
    return 0;
}

static int is_apostrophe(utf8proc_int32_t c)
{
    return c == '\'' || c == 0x2019 || c == 0x2018 || c == 0x02BC || c == 0x0060 ||
           c == 0x00B4 || c == 0x201B || c == 0xFF07;
}

static int is_word_cp(utf8proc_int32_t c)
{
    if (c < 128)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    utf8proc_category_t cat = utf8proc_category(c);
    return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
           (cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME) ||
           (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

/* Appends the folded form of code point c (no case folding when keep_case). */
static int fold_cp(utf8proc_int32_t c, int keep_case, struct kb_buf *out)
{
    switch (c) {
    case 0x0153:
        return kb_buf_add(out, "oe", 2);
    case 0x0152:
        return kb_buf_add(out, keep_case ? "OE" : "oe", 2);
    case 0x00E6:
        return kb_buf_add(out, "ae", 2);
    case 0x00C6:
        return kb_buf_add(out, keep_case ? "AE" : "ae", 2);
    case 0x00DF:
        return kb_buf_add(out, "ss", 2);
    case 0x00F8:
        return kb_buf_addc(out, 'o');
    case 0x00D8:
        return kb_buf_addc(out, keep_case ? 'O' : 'o');
    case 0x0131:
        return kb_buf_addc(out, 'i');
    default:
        break;
    }
    if (c < 128) {
        char ch = (char)c;
        if (!keep_case && ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        return kb_buf_addc(out, ch);
    }
    utf8proc_int32_t dec[16];
    int last = 0;
    utf8proc_option_t opt = UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STRIPMARK;
    if (!keep_case)
        opt |= UTF8PROC_CASEFOLD;
    utf8proc_ssize_t n = utf8proc_decompose_char(c, dec, 16, opt, &last);
    if (n < 0 || n > 16)
        return kb_buf_addc(out, ' ');
    for (utf8proc_ssize_t i = 0; i < n; i++) {
        if (dec[i] < 128 || dec[i] == 0x0153 || dec[i] == 0x00E6 || dec[i] == 0x00DF) {
            if (dec[i] >= 128) {
                int rc = fold_cp(dec[i], keep_case, out);
                if (rc)
                    return rc;
                continue;
            }
            char ch = (char)dec[i];
            if (!keep_case && ch >= 'A' && ch <= 'Z')
                ch = (char)(ch - 'A' + 'a');
            int rc = kb_buf_addc(out, ch);
            if (rc)
                return rc;
        } else {
            utf8proc_uint8_t u[4];
            utf8proc_ssize_t k = utf8proc_encode_char(dec[i], u);
            int rc = kb_buf_add(out, u, (size_t)k);
            if (rc)
                return rc;
        }
    }
    return KB_OK;
}

static int is_operator(const char *w, size_t n)
{
    static const char *const ops[] = {"AND", "OR", "NOT", "XOR", "NEAR", "ADJ"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strlen(ops[i]) == n && memcmp(ops[i], w, n) == 0)
            return 1;
    return 0;
}

static void lower_ascii(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] - 'A' + 'a');
}

static int all_digits(const char *s, size_t n)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == ','))
            return 0;
    return s[0] >= '0' && s[0] <= '9' && s[n - 1] >= '0' && s[n - 1] <= '9';
}

struct state {
    struct kb_buf *out;
    unsigned flags;
    size_t word_start; /* offset in out of the current word, or SIZE_MAX */
    size_t number_end; /* offset in out just after the last number word, or SIZE_MAX */
};

/* Ends the word that starts at st->word_start: query operators, case, elisions, units. */
static int end_word(struct state *st)
{
    struct kb_buf *out = st->out;
    if (st->word_start == (size_t)-1)
        return KB_OK;
    char *w = out->data + st->word_start;
    size_t n = out->len - st->word_start;
    st->word_start = (size_t)-1;
    if ((st->flags & KB_NORM_QUERY) && is_operator(w, n)) {
        st->number_end = (size_t)-1;
        return KB_OK;
    }
    lower_ascii(w, n);
    /* split elisions: the letters before each apostrophe */
    size_t seg = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] != '\'')
            continue;
        int elided = kb_text_is_elision(w + seg, i - seg);
        if (elided && i + 1 < n && (st->flags & KB_NORM_DROP_ELISION))
            memset(w + seg, ' ', i - seg);
        if (elided || i + 1 == n || i == seg)
            w[i] = ' ';
        seg = i + 1;
    }
    /* join a unit to the number just before it: "800 v" -> "800v" */
    size_t start = (size_t)(w - out->data);
    if (st->number_end != (size_t)-1 && start > st->number_end &&
        start - st->number_end <= 2 && is_unit(w, n)) {
        int only_space = 1;
        for (size_t i = st->number_end; i < start; i++)
            if (out->data[i] != ' ')
                only_space = 0;
        if (only_space) {
            memmove(out->data + st->number_end, w, n);
            out->len = st->number_end + n;
            out->data[out->len] = '\0';
            st->number_end = (size_t)-1;
            return KB_OK;
        }
    }
    st->number_end = all_digits(w, n) ? out->len : (size_t)-1;
    return KB_OK;
}

int kb_text_normalize(const char *in, size_t len, unsigned flags, struct kb_buf *out)
{
    struct state st = {out, flags, (size_t)-1, (size_t)-1};
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)in;
    utf8proc_ssize_t left = (utf8proc_ssize_t)len;
    int rc = KB_OK;
    /* guarantee a data pointer for offsets */
    if ((rc = kb_buf_add(out, "", 0)))
        return rc;
    while (left > 0 && !rc) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(p, left, &c);
        if (k < 0) {
            k = 1;
            c = ' ';
        }
        p += k;
        left -= k;
        if (c == 0x00AD || c == 0x200B || c == 0x200C || c == 0x200D || c == 0xFEFF)
            continue; /* soft hyphen, zero-width characters */
        if (is_apostrophe(c)) {
            /* inside a word: keep as ' (resolved at word end); elsewhere a separator */
            if (st.word_start != (size_t)-1) {
                rc = kb_buf_addc(out, '\'');
            } else {
                rc = kb_buf_addc(out, ' ');
            }
            continue;
        }
        if (is_word_cp(c)) {
            if (st.word_start == (size_t)-1)
                st.word_start = out->len;
            rc = fold_cp(c, (flags & KB_NORM_QUERY) != 0, out);
            continue;
        }
        if ((rc = end_word(&st)))
            break;
        if (c < 32 && c != '\t' && c != '\n' && c != '\f' && c != '\r')
            c = ' ';
        if (c == '\n' || c == '\f' || c == '\t' || c == '\r' || c == ' ') {
            rc = kb_buf_addc(out, (char)c);
            continue;
        }
        if (c < 128) {
            rc = kb_buf_addc(out, (char)c);
            st.number_end = (size_t)-1;
            continue;
        }
        /* other symbols and punctuation: keep compatibility-folded */
        st.number_end = (size_t)-1;
        rc = fold_cp(c, 1, out);
    }
    if (!rc)
        rc = end_word(&st);
    return rc;
}

size_t kb_text_fold_word(const char *in, size_t len, char *out, size_t cap)
{
    struct kb_buf b;
    kb_buf_init(&b, 4096);
    if (kb_text_normalize(in, len, 0, &b) != KB_OK || !b.data) {
        kb_buf_release(&b);
        return 0;
    }
    /* keep the last space-separated token */
    size_t end = b.len;
    while (end && b.data[end - 1] == ' ')
        end--;
    size_t start = end;
    while (start && b.data[start - 1] != ' ')
        start--;
    size_t n = end - start;
    if (n > cap)
        n = cap;
    memcpy(out, b.data + start, n);
    kb_buf_release(&b);
    return n;
}

size_t kb_utf8_trim(const char *s, size_t len, size_t max)
{
    size_t n = len < max ? len : max;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &c);
        if (k <= 0)
            break;
        i += (size_t)k;
    }
    return i;
}

int kb_utf8_valid(const char *s, size_t len)
{
    return kb_utf8_trim(s, len, len) == len;
}

size_t kb_utf8_char(const char *s, size_t n, unsigned *cp)
{
    utf8proc_int32_t c;
    utf8proc_ssize_t k = n ? utf8proc_iterate((const utf8proc_uint8_t *)s,
                                              (utf8proc_ssize_t)(n < 4 ? n : 4), &c)
                           : 0;
    if (k <= 0)
        return 0;
    if (cp)
        *cp = (unsigned)c;
    return (size_t)k;
}
