/* SPDX-License-Identifier: MIT */
/*
 * read_text.c - plain-text briefs: whatever the encoding (kb_to_utf8), the first
 * non-empty line is the title and the rest is the body. Plain text carries no other
 * metadata but a date: a line among the first ones that is a date alone, or a label and
 * a date ("Date: 2024-05-01", "Data: 3 aprile 2024", "Publié le 12 mars 2025", "May 1,
 * 2024"), gives the document's date (date_source "text") and leaves the body. The
 * indexer guesses the language later.
 */
#include "reader_priv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DATE_LINES 6 /* non-empty lines looked at for a date, the title's included */

/* Month names in French, Italian and English (accented and plain), then 3-letter and
 * dotted abbreviations; index % 12 is the month - 1. */
static const char *const months[] = {
    "janvier",  "février",   "mars",     "avril",    "mai",       "juin",     "juillet",
    "août",     "septembre", "octobre",  "novembre", "décembre",  "gennaio",  "febbraio",
    "marzo",    "aprile",    "maggio",   "giugno",   "luglio",    "agosto",   "settembre",
    "ottobre",  "novembre",  "dicembre", "january",  "february",  "march",    "april",
    "may",      "june",      "july",     "august",   "september", "october",  "november",
    "december", "janvier",   "fevrier",  "mars",     "avril",     "mai",      "juin",
    "juillet",  "aout",      "sept",     "oct",      "nov",       "decembre", "jan",
    "feb",      "mar",       "apr",      "may",      "jun",       "jul",      "aug",
    "sep",      "oct",       "nov",      "dec"};

static const char *skip_sp(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* A month name at p (case-insensitive for ASCII, an optional '.' after it): its number
 * 1..12 and *p moved past it, or 0. */
static int month_at(const char **p, const char *end)
{
    int best = 0;
    size_t best_len = 0;
    for (size_t i = 0; i < sizeof months / sizeof months[0]; i++) {
        size_t n = strlen(months[i]);
        if ((size_t)(end - *p) < n || strncasecmp(*p, months[i], n) != 0)
            continue;
        /* the whole word: no letter right after it (UTF-8 letters are bytes >= 0x80) */
        if (*p + n < end &&
            (isalpha((unsigned char)(*p)[n]) || (unsigned char)(*p)[n] >= 0x80))
            continue;
        if (n > best_len) {
            best_len = n;
            best = (int)(i % 12) + 1;
        }
    }
    if (best) {
        *p += best_len;
        if (*p < end && **p == '.')
            (*p)++;
    }
    return best;
}

/* Digits at p (at most max of them): their value and *p moved past, or -1. */
static int number_at(const char **p, const char *end, int max)
{
    int v = 0, n = 0;
    while (*p < end && n < max && isdigit((unsigned char)**p)) {
        v = v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    if (n == 0 || (*p < end && isdigit((unsigned char)**p)))
        return -1;
    return v;
}

/* A date that fills [p, end) alone (a final '.' allowed): "2024-05-01", "12 mars 2025",
 * "1er mai 2024", "3 aprile 2024", "1 May 2024", "May 1, 2024", "1st May 2024". Writes
 * "YYYY-MM-DD" into out[11]; returns 1 when it is a valid date. */
static int parse_date(const char *p, const char *end, char out[11])
{
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '.'))
        end--;
    p = skip_sp(p, end);
    int y = -1, m = 0, d = -1;
    const char *q = p;
    if (end - p == 10 && sscanf(p, "%4d-%2d-%2d", &y, &m, &d) == 3 && p[4] == '-' &&
        p[7] == '-') {
        /* ISO */
    } else if (isdigit((unsigned char)*q)) {
        d = number_at(&q, end, 2); /* 12 mars 2025, 1er mai 2024, 1st May 2024 */
        static const char *const ord[] = {"er", "st", "nd", "rd", "th", "°"};
        for (size_t i = 0; i < sizeof ord / sizeof ord[0]; i++)
            if ((size_t)(end - q) >= strlen(ord[i]) &&
                strncasecmp(q, ord[i], strlen(ord[i])) == 0) {
                q += strlen(ord[i]);
                break;
            }
        q = skip_sp(q, end);
        m = month_at(&q, end);
        q = skip_sp(q, end);
        y = m ? number_at(&q, end, 4) : -1;
        if (q != end)
            return 0;
    } else {
        m = month_at(&q, end); /* May 1, 2024 */
        q = skip_sp(q, end);
        d = m ? number_at(&q, end, 2) : -1;
        static const char *const ord[] = {"st", "nd", "rd", "th"};
        for (size_t i = 0; i < sizeof ord / sizeof ord[0]; i++)
            if (end - q >= 2 && strncasecmp(q, ord[i], 2) == 0) {
                q += 2;
                break;
            }
        if (q < end && *q == ',')
            q++;
        q = skip_sp(q, end);
        y = d > 0 ? number_at(&q, end, 4) : -1;
        if (q != end)
            return 0;
    }
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > 31)
        return 0;
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
    return kb_date_valid(out);
}

/* Is the line [p, end) a date line? A date alone, or a label ("Date", "Data", "Publié
 * le", "Published", "Pubblicato il"...) then an optional ':' and a date. */
static int date_line(const char *p, const char *end, char out[11])
{
    static const char *const labels[] = {"date de publication",
                                         "data di pubblicazione",
                                         "publication date",
                                         "date",
                                         "data",
                                         "publié le",
                                         "publiée le",
                                         "publié",
                                         "pubblicato il",
                                         "pubblicata il",
                                         "published on",
                                         "published",
                                         "dated"};
    p = skip_sp(p, end);
    if (parse_date(p, end, out))
        return 1;
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        size_t n = strlen(labels[i]);
        if ((size_t)(end - p) <= n || strncasecmp(p, labels[i], n) != 0)
            continue;
        const char *q = skip_sp(p + n, end);
        if (q < end && *q == ':')
            q = skip_sp(q + 1, end);
        else if (q == p + n) /* "Dates..." or "Database": not a label */
            continue;
        if (parse_date(q, end, out))
            return 1;
    }
    return 0;
}

/* Finds a date line among the first DATE_LINES non-empty lines of [p, end): returns
 * its start and sets *line_end (past its newline), or NULL. */
static const char *find_date(const char *p, const char *end, const char **line_end,
                             char out[11])
{
    for (int seen = 0; p < end && seen < DATE_LINES;) {
        const char *eol = p;
        while (eol < end && *eol != '\n' && *eol != '\r' && *eol != '\f')
            eol++;
        const char *s = skip_sp(p, eol);
        if (s < eol) {
            seen++;
            if (eol - s <= 60 && date_line(s, eol, out)) {
                *line_end = eol < end ? eol + 1 : eol;
                return p;
            }
        }
        p = eol < end ? eol + 1 : eol;
    }
    return NULL;
}

int kb_rd_text(const char *buf, size_t len, const struct kb_read_limits *lim,
               struct kb_doc *d, struct kb_error *err)
{
    char *text = NULL;
    size_t n = 0;
    int rc;
    rc = kb_to_utf8(buf, len, lim->max_text, &text, &n, err);
    if (rc)
        goto out;
    /* a date line among the first lines: the date, and the line leaves the text */
    char date[11];
    const char *dend = NULL, *dl = find_date(text, text + n, &dend, date);
    if (dl) {
        if ((rc = kb_doc_set(&d->date, date, 10)) ||
            (rc = kb_doc_set(&d->date_source, KB_DATE_TEXT, (size_t)-1)))
            goto oom;
        memmove((char *)dl, dend, (size_t)(text + n - dend));
        n -= (size_t)(dend - dl);
        text[n] = '\0';
    }
    /* skip blank lines, then the title is the line up to the next newline */
    const char *p = text, *end = text + n;
    while (p < end && strchr(" \t\r\n\f", *p))
        p++;
    const char *eol = p;
    while (eol < end && *eol != '\n' && *eol != '\r' && *eol != '\f')
        eol++;
    if (eol > p && (rc = kb_doc_set(&d->title, p, (size_t)(eol - p))))
        goto oom;
    if (eol < end && (rc = kb_doc_set(&d->body, eol, (size_t)(end - eol))))
        goto oom;
    goto out;
oom:
    kb_error_set(err, rc, "txt: out of memory");
out:
    free(text);
    return rc;
}
