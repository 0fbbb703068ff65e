/* SPDX-License-Identifier: MIT */
/*
 * reader.c - the front of the document readers: default limits, format names, dispatch to
 * one reader per format, and what all readers share at their end (kb_rd_finish): every
 * string made valid UTF-8 with its whitespace collapsed, lang and date checked, the body
 * cut to max_text. Keeping that pass in one place means a reader only has to find its
 * fields; it cannot forget to clean one.
 */
#include "reader_priv.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void kb_read_limits_default(struct kb_read_limits *l)
{
    l->max_file = 64u * 1024u * 1024u;
    l->max_text = 8u * 1024u * 1024u;
    l->max_unzipped = 64u * 1024u * 1024u;
    l->max_seconds = 30.0;
}

const struct kb_read_limits *kb_rd_limits(const struct kb_read_limits *lim,
                                          struct kb_read_limits *tmp)
{
    if (lim)
        return lim;
    kb_read_limits_default(tmp);
    return tmp;
}

static const struct {
    const char *ext;
    enum kb_format f;
} exts[] = {
    {"txt", KB_FMT_TEXT},          {"text", KB_FMT_TEXT}, {"md", KB_FMT_MARKDOWN},
    {"markdown", KB_FMT_MARKDOWN}, {"html", KB_FMT_HTML}, {"htm", KB_FMT_HTML},
    {"xhtml", KB_FMT_HTML},        {"xml", KB_FMT_XML},   {"pdf", KB_FMT_PDF},
    {"docx", KB_FMT_DOCX},         {"odt", KB_FMT_ODT},   {"jsonl", KB_FMT_JSONL},
};

const char *kb_format_name(enum kb_format f)
{
    switch (f) {
    case KB_FMT_TEXT:
        return "txt";
    case KB_FMT_MARKDOWN:
        return "md";
    case KB_FMT_HTML:
        return "html";
    case KB_FMT_XML:
        return "xml";
    case KB_FMT_PDF:
        return "pdf";
    case KB_FMT_DOCX:
        return "docx";
    case KB_FMT_ODT:
        return "odt";
    case KB_FMT_JSONL:
        return "jsonl";
    case KB_FMT_UNKNOWN:
        break;
    }
    return "unknown";
}

enum kb_format kb_format_from_name(const char *name)
{
    if (!name)
        return KB_FMT_UNKNOWN;
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return KB_FMT_UNKNOWN;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot + 1, exts[i].ext) == 0)
            return exts[i].f;
    return KB_FMT_UNKNOWN;
}

int kb_read_document(enum kb_format f, const char *buf, size_t len,
                     const struct kb_read_limits *lim, struct kb_doc *d,
                     struct kb_error *err)
{
    struct kb_read_limits tmp;
    int fresh = err && err->code == KB_OK, rc;
    lim = kb_rd_limits(lim, &tmp);
    if (!buf && len)
        return kb_error_set(err, KB_EINVAL, "%s: no buffer", kb_format_name(f));
    if (!buf)
        buf = "";
    if (len > lim->max_file)
        return kb_error_set(err, KB_ETOOBIG,
                            "%s: file of %zu bytes is over the %zu-byte limit",
                            kb_format_name(f), len, lim->max_file);
    switch (f) {
    case KB_FMT_TEXT:
        rc = kb_read_text(buf, len, lim, d, err);
        break;
    case KB_FMT_MARKDOWN:
        rc = kb_read_markdown(buf, len, lim, d, err);
        break;
    case KB_FMT_HTML:
        rc = kb_read_html(buf, len, lim, d, err);
        break;
    case KB_FMT_XML:
        rc = kb_read_xml(buf, len, lim, d, err);
        break;
    case KB_FMT_PDF:
        rc = kb_read_pdf(buf, len, lim, d, err);
        break;
    case KB_FMT_DOCX:
        rc = kb_read_docx(buf, len, lim, d, err);
        break;
    case KB_FMT_ODT:
        rc = kb_read_odt(buf, len, lim, d, err);
        break;
    case KB_FMT_JSONL:
        rc = kb_error_set(err, KB_EINVAL,
                          "jsonl: a file of many documents, read with kb_read_jsonl");
        break;
    default:
        rc = kb_error_set(err, KB_EUNSUPPORTED, "unknown format %d", (int)f);
        break;
    }
    /* messages quote document bytes (libxml2, poppler): keep them valid UTF-8 */
    if (rc && fresh)
        kb_utf8_fix_msg(err->msg);
    return rc;
}

/* ---- text accumulator ---- */

void kb_text_init(struct kb_text *t, size_t max)
{
    kb_buf_init(&t->b, max);
    t->full = 0;
}

void kb_text_release(struct kb_text *t)
{
    if (t)
        kb_buf_release(&t->b);
}

int kb_text_add(struct kb_text *t, const char *s, size_t n)
{
    if (t->full || n == 0)
        return KB_OK;
    size_t room = t->b.max > t->b.len ? t->b.max - t->b.len : 0;
    if (n > room) {
        n = kb_utf8_cut(s, n, room);
        t->full = 1;
    }
    return n ? kb_buf_add(&t->b, s, n) : KB_OK;
}

int kb_text_adds(struct kb_text *t, const char *s)
{
    return s ? kb_text_add(t, s, strlen(s)) : KB_OK;
}

int kb_text_add_flat(struct kb_text *t, const char *s)
{
    while (s && *s && !t->full) {
        size_t n = strcspn(s, "\t\n\r\f\v");
        int rc = kb_text_add(t, s, n);
        if (rc)
            return rc;
        s += n;
        if (*s) {
            if ((rc = kb_text_add(t, " ", 1)))
                return rc;
            s++;
        }
    }
    return KB_OK;
}

int kb_text_newlines(struct kb_text *t, int n)
{
    if (t->b.len == 0)
        return KB_OK;
    int have = 0;
    for (size_t i = t->b.len; i > 0 && have < n && t->b.data[i - 1] == '\n'; i--)
        have++;
    for (; have < n; have++) {
        int rc = kb_text_add(t, "\n", 1);
        if (rc)
            return rc;
    }
    return KB_OK;
}

double kb_rd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- fields ---- */

static int is_blank(const char *s)
{
    for (; s && *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

int kb_rd_set(char **dst, const char *s)
{
    if (*dst || !s || is_blank(s))
        return KB_OK;
    return kb_doc_set(dst, s, (size_t)-1);
}

int kb_rd_add_split(struct kb_strlist *l, const char *s, const char *seps)
{
    int rc = KB_OK;
    char *item = NULL;
    while (s && *s) {
        size_t n = strcspn(s, seps);
        size_t a = 0, b = n;
        while (a < b && isspace((unsigned char)s[a]))
            a++;
        while (b > a && isspace((unsigned char)s[b - 1]))
            b--;
        if (b > a) {
            item = strndup(s + a, b - a);
            if (!item || kb_strlist_add(l, item)) {
                rc = KB_ENOMEM;
                goto out;
            }
            free(item);
            item = NULL;
        }
        s += n;
        if (*s)
            s++;
    }
out:
    free(item);
    return rc;
}

const char *kb_rd_lang(const char *s, char out[3])
{
    if (!s)
        return NULL;
    while (isspace((unsigned char)*s))
        s++;
    if (!isalpha((unsigned char)s[0]) || !isalpha((unsigned char)s[1]) ||
        isalpha((unsigned char)s[2]))
        return NULL;
    out[0] = (char)tolower((unsigned char)s[0]);
    out[1] = (char)tolower((unsigned char)s[1]);
    out[2] = '\0';
    if (strcmp(out, "fr") && strcmp(out, "it") && strcmp(out, "en"))
        return NULL;
    return out;
}

/* Collapses whitespace of valid UTF-8 text (no control characters but \t \n \r \f):
 * oneline turns every run into one space and trims; otherwise runs of spaces and tabs
 * become one space, lines are trimmed, blank lines collapse to one, '\f' is kept (page
 * breaks, unless !pages: then it ends a line) and text around it trimmed. Writes at most
 * max bytes. */
static int collapse(const char *s, size_t n, int oneline, int pages, size_t max,
                    struct kb_buf *out)
{
    size_t nl = 0;
    int sp = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ' ' || c == '\t') {
            sp = 1;
            continue;
        }
        if (c == '\n' || c == '\r' || (c == '\f' && (oneline || !pages))) {
            if (oneline)
                sp = 1;
            else if (!(c == '\r' && i + 1 < n && s[i + 1] == '\n'))
                nl++;
            continue;
        }
        if (c == '\f') {
            if (out->len + 1 > max)
                break;
            int rc = kb_buf_addc(out, '\f');
            if (rc)
                return rc;
            nl = 0;
            sp = 0;
            continue;
        }
        /* a content byte: first emit the pending separator */
        if (out->len > 0 && out->data[out->len - 1] != '\f') {
            const char *sep = nl >= 2 ? "\n\n" : nl == 1 ? "\n" : sp ? " " : "";
            size_t k = strlen(sep);
            if (out->len + k + 1 > max)
                break;
            int rc = kb_buf_add(out, sep, k);
            if (rc)
                return rc;
        }
        nl = 0;
        sp = 0;
        /* copy the whole UTF-8 character at once so that a cut never splits one */
        size_t k = 1;
        if ((unsigned char)c >= 0xC0)
            while (i + k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80)
                k++;
        if (out->len + k > max)
            break;
        int rc = kb_buf_add(out, s + i, k);
        if (rc)
            return rc;
        i += k - 1;
    }
    return KB_OK;
}

/* Replaces *p by its cleaned form (NULL when nothing is left). */
static int clean_field(char **p, int oneline, int pages, size_t max)
{
    struct kb_buf a, b;
    int rc = KB_OK;
    kb_buf_init(&a, (size_t)-1 / 2);
    kb_buf_init(&b, max);
    if (!*p)
        goto out;
    size_t n = strlen(*p);
    rc = kb_utf8_sanitize(*p, n, n * 3 + 3, &a);
    if (!rc)
        rc = collapse(kb_buf_str(&a), a.len, oneline, pages, max, &b);
    if (rc)
        goto out;
    free(*p);
    *p = NULL;
    if (b.len && !(*p = kb_buf_steal(&b)))
        rc = KB_ENOMEM;
out:
    kb_buf_release(&a);
    kb_buf_release(&b);
    return rc;
}

static int clean_list(struct kb_strlist *l)
{
    struct kb_strlist tmp = {NULL, 0};
    int rc = KB_OK;
    for (size_t i = 0; i < l->n; i++) {
        rc = clean_field(&l->v[i], 1, 0, KB_RD_MAX_ITEM);
        if (rc)
            goto out;
        if (l->v[i] && (rc = kb_strlist_add(&tmp, l->v[i])))
            goto out;
    }
    kb_strlist_clear(l);
    *l = tmp;
    tmp.v = NULL;
    tmp.n = 0;
out:
    kb_strlist_clear(&tmp);
    return rc;
}

int kb_rd_finish(struct kb_doc *d, const struct kb_read_limits *lim, const char *fmt,
                 struct kb_error *err)
{
    struct kb_read_limits tmp;
    lim = kb_rd_limits(lim, &tmp);
    int rc = kb_doc_set(&d->format, fmt, (size_t)-1);
    if (!rc)
        rc = clean_field(&d->title, 1, 0, KB_RD_MAX_FIELD);
    if (!rc)
        rc = clean_field(&d->abstract, 1, 0, KB_RD_MAX_ABSTRACT);
    if (!rc)
        rc = clean_field(&d->org, 1, 0, KB_RD_MAX_ITEM);
    if (!rc)
        rc = clean_field(&d->type, 1, 0, 64);
    if (!rc)
        rc = clean_field(&d->body, 0, strcmp(fmt, "pdf") == 0, lim->max_text);
    if (!rc)
        rc = clean_list(&d->topics);
    if (!rc)
        rc = clean_list(&d->authors);
    if (rc)
        goto out;
    char lang[3];
    const char *l = kb_rd_lang(d->lang, lang);
    rc = kb_doc_set(&d->lang, l, (size_t)-1);
    if (rc)
        goto out;
    if (d->date) {
        char date[11] = "";
        const char *s = d->date;
        while (isspace((unsigned char)*s))
            s++;
        if (strlen(s) >= 10) {
            memcpy(date, s, 10);
            date[10] = '\0';
        }
        rc = kb_doc_set(&d->date, kb_date_valid(date) ? date : NULL, (size_t)-1);
    }
out:
    if (rc)
        return kb_error_set(err, rc, "%s: out of memory", fmt);
    return KB_OK;
}
