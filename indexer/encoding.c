/* SPDX-License-Identifier: MIT */
/*
 * encoding.c - text of unknown encoding to valid UTF-8, for the plain-text readers (text,
 * Markdown, HTML without a declared charset). A BOM decides first; then text that already
 * is valid UTF-8 stays as it is (by far the common case); anything else goes through
 * uchardet to name the charset and iconv to convert it. ISO-8859-1 is read as
 * Windows-1252, its superset in practice (browsers do the same): that is where the euro
 * sign and the French oe ligature live. Every output is passed through kb_utf8_sanitize,
 * the one place that guarantees valid UTF-8 without control characters.
 */
#include "reader_priv.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uchardet.h>

static const char fffd[] = "\xEF\xBF\xBD";

size_t kb_utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

/* Length of the valid UTF-8 character at s (n bytes available), 0 when invalid; its
 * code point in *cp. */
static size_t utf8_char(const unsigned char *s, size_t n, unsigned long *cp)
{
    unsigned char c = s[0];
    size_t k;
    unsigned long v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        k = 2, v = c & 0x1Fu, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3, v = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4, v = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return k;
}

void kb_utf8_fix_msg(char *msg)
{
    unsigned char *p = (unsigned char *)msg;
    size_t n = msg ? strlen(msg) : 0;
    for (size_t i = 0; i < n;) {
        unsigned long cp = 0;
        size_t k = utf8_char(p + i, n - i, &cp);
        if (k == 0) {
            size_t want = p[i] >= 0xF0 ? 4 : p[i] >= 0xE0 ? 3 : p[i] >= 0xC2 ? 2 : 0;
            size_t j = i + 1;
            while (j < n && (p[j] & 0xC0) == 0x80)
                j++;
            if (want && j == n && n - i < want) {
                p[i] = '\0'; /* a character cut by a fixed-size buffer */
                break;
            }
            p[i++] = '?';
            continue;
        }
        if (cp < 0x20 || cp == 0x7F)
            p[i] = '?';
        else if (cp >= 0x80 && cp <= 0x9F)
            p[i] = p[i + 1] = '?';
        i += k;
    }
}

static int utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned long cp;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_char(p + i, n - i, &cp);
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

int kb_utf8_sanitize(const char *s, size_t n, size_t max, struct kb_buf *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* start of the run of bytes copied as they are */
    int rc = KB_OK;
    size_t i = 0;
    while (i < n) {
        unsigned long cp;
        size_t k = utf8_char(p + i, n - i, &cp);
        int ctl =
            k && ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r' && cp != '\f') ||
                  (cp >= 0x7F && cp <= 0x9F));
        if (k && !ctl) {
            if (out->len + (i - run) + k > max)
                break;
            i += k;
            continue;
        }
        /* flush the run, then replace (invalid) or turn into a separator (control) */
        if ((rc = kb_buf_add(out, s + run, i - run)))
            goto out;
        const char *rep = k ? " " : fffd;
        size_t rn = k ? 1 : 3;
        if (k && out->len && out->data[out->len - 1] == ' ')
            rn = 0; /* a run of controls makes one space */
        if (out->len + rn > max) {
            run = i;
            break;
        }
        if (rn && (rc = kb_buf_add(out, rep, rn)))
            goto out;
        i += k ? k : 1;
        run = i;
    }
    rc = kb_buf_add(out, s + run, i - run);
out:
    return rc;
}

/* Guesses UTF-16 without a BOM: ASCII text in UTF-16 has a NUL in every other byte. */
static const char *guess_utf16(const char *s, size_t n)
{
    size_t m = n < 4096 ? n : 4096, z[2] = {0, 0};
    if (m < 8)
        return NULL;
    for (size_t i = 0; i < m; i++)
        if (s[i] == 0)
            z[i & 1]++;
    if (z[1] > m / 2 * 3 / 10 && z[0] < m / 2 / 20)
        return "UTF-16LE";
    if (z[0] > m / 2 * 3 / 10 && z[1] < m / 2 / 20)
        return "UTF-16BE";
    return NULL;
}

static int convert(const char *cs, size_t unit, const char *buf, size_t len, size_t max,
                   struct kb_buf *mid)
{
    iconv_t cd = iconv_open("UTF-8", cs);
    int rc = KB_OK;
    if (cd == (iconv_t)-1)
        cd = iconv_open("UTF-8", "WINDOWS-1252"), unit = 1;
    if (cd == (iconv_t)-1)
        return KB_EUNSUPPORTED;
    char *in = (char *)buf;
    size_t inleft = len;
    char tmp[8192];
    while (inleft > 0 && mid->len <= max) {
        char *o = tmp;
        size_t oleft = sizeof tmp;
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        int e = errno;
        if ((rc = kb_buf_add(mid, tmp, (size_t)(o - tmp))))
            goto out;
        if (r != (size_t)-1 || e == E2BIG)
            continue;
        if ((rc = kb_buf_add(mid, fffd, 3)))
            goto out;
        if (e != EILSEQ)
            break; /* EINVAL: truncated sequence at the end */
        size_t skip = unit < inleft ? unit : inleft;
        in += skip;
        inleft -= skip;
    }
out:
    iconv_close(cd);
    return rc;
}

static const char *detect(const char *buf, size_t len, char *name, size_t cap)
{
    const char *cs = "WINDOWS-1252";
    uchardet_t ud = uchardet_new();
    if (!ud)
        return cs;
    if (uchardet_handle_data(ud, buf, len < 16384 ? len : 16384) == 0) {
        uchardet_data_end(ud);
        const char *got = uchardet_get_charset(ud);
        if (got && *got && strcasecmp(got, "ASCII") && strcasecmp(got, "ISO-8859-1") &&
            strlen(got) < cap) {
            memcpy(name, got, strlen(got) + 1);
            cs = name;
        }
    }
    uchardet_delete(ud);
    return cs;
}

int kb_to_utf8(const char *buf, size_t len, size_t max, char **out, size_t *out_len,
               struct kb_error *err)
{
    const unsigned char *u = (const unsigned char *)buf;
    struct kb_buf mid, res;
    const char *src = buf;
    size_t n = len;
    char name[64];
    int rc = KB_OK;
    kb_buf_init(&mid, (size_t)-1 / 2);
    kb_buf_init(&res, max);
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!buf || len == 0) {
        buf = "";
        len = 0;
        u = (const unsigned char *)buf;
    }

    const char *cs = NULL;
    size_t unit = 1, bom = 0;
    if (len >= 4 && u[0] == 0xFF && u[1] == 0xFE && u[2] == 0 && u[3] == 0)
        cs = "UTF-32LE", unit = 4, bom = 4;
    else if (len >= 4 && u[0] == 0 && u[1] == 0 && u[2] == 0xFE && u[3] == 0xFF)
        cs = "UTF-32BE", unit = 4, bom = 4;
    else if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
        bom = 3; /* UTF-8: sanitised below */
    else if (len >= 2 && u[0] == 0xFF && u[1] == 0xFE)
        cs = "UTF-16LE", unit = 2, bom = 2;
    else if (len >= 2 && u[0] == 0xFE && u[1] == 0xFF)
        cs = "UTF-16BE", unit = 2, bom = 2;
    else if (!utf8_valid(buf, len) && (cs = guess_utf16(buf, len)) != NULL)
        unit = 2;
    else if (!utf8_valid(buf, len))
        cs = detect(buf, len, name, sizeof name);

    if (cs) {
        rc = convert(cs, unit, buf + bom, len - bom, max, &mid);
        if (rc)
            goto out;
        src = kb_buf_str(&mid);
        n = mid.len;
    } else {
        src = buf + bom;
        n = len - bom;
    }
    rc = kb_utf8_sanitize(src, n, max, &res);
    if (rc)
        goto out;
    n = res.len;
    *out = kb_buf_steal(&res);
    if (!*out) {
        rc = KB_ENOMEM;
        goto out;
    }
    if (out_len)
        *out_len = n;
out:
    kb_buf_release(&mid);
    kb_buf_release(&res);
    if (rc == KB_ENOMEM)
        return kb_error_set(err, rc, "encoding: out of memory");
    if (rc)
        return kb_error_set(err, rc, "encoding: no converter for '%s'",
                            cs ? cs : "UTF-8");
    return KB_OK;
}
