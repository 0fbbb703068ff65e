/* SPDX-License-Identifier: MIT */
/* doc.c - see doc.h. */
#include "doc.h"
#include "text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FIELD (64u * 1024u)         /* metadata fields */
#define MAX_BODY  (16u * 1024u * 1024u) /* body text */

void kb_doc_init(struct kb_doc *d)
{
    memset(d, 0, sizeof *d);
}

void kb_strlist_clear(struct kb_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void kb_doc_release(struct kb_doc *d)
{
    char **fields[] = {&d->id,   &d->source, &d->title,       &d->abstract,
                       &d->body, &d->lang,   &d->date,        &d->org,
                       &d->type, &d->format, &d->date_source, &d->translation_of};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        free(*fields[i]);
    kb_strlist_clear(&d->topics);
    kb_strlist_clear(&d->authors);
    kb_strlist_clear(&d->concepts);
    kb_doc_init(d);
}

int kb_doc_set(char **dst, const char *s, size_t n)
{
    char *p = NULL;
    if (s) {
        if (n == (size_t)-1)
            n = strlen(s);
        p = malloc(n + 1);
        if (!p)
            return KB_ENOMEM;
        memcpy(p, s, n);
        p[n] = '\0';
    }
    free(*dst);
    *dst = p;
    return KB_OK;
}

int kb_strlist_has(const struct kb_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

int kb_strlist_add(struct kb_strlist *l, const char *s)
{
    if (!s || !*s || kb_strlist_has(l, s) || l->n >= KB_DOC_MAX_LIST)
        return KB_OK;
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return KB_ENOMEM;
    l->v = v;
    v[l->n] = strdup(s);
    if (!v[l->n])
        return KB_ENOMEM;
    l->n++;
    return KB_OK;
}

static int put_str(json_t *o, const char *k, const char *v)
{
    return v ? json_object_set_new(o, k, json_string(v)) : 0;
}

static int put_list(json_t *o, const char *k, const struct kb_strlist *l)
{
    json_t *a = json_array();
    if (!a)
        return -1;
    for (size_t i = 0; i < l->n; i++) {
        json_t *v = json_string(l->v[i]); /* stolen by the append, even when it fails */
        if (!v || json_array_append_new(a, v)) {
            json_decref(a);
            return -1;
        }
    }
    return json_object_set_new(o, k, a);
}

struct dump_buf {
    char *p;
    size_t len, cap;
    int failed;
};

static int dump_cb(const char *s, size_t n, void *ctx)
{
    struct dump_buf *b = ctx;
    if (b->failed)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return -1;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

char *kb_json_dumps(const json_t *j, size_t flags)
{
    struct dump_buf b = {NULL, 0, 0, 0};
    if (json_dump_callback(j, dump_cb, &b, flags) || b.failed || !b.p) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

json_t *kb_doc_to_json(const struct kb_doc *d, int with_body)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int rc = put_str(o, "id", d->id) | put_str(o, "source", d->source) |
             put_str(o, "title", d->title ? d->title : "") |
             put_str(o, "abstract", d->abstract) | put_str(o, "lang", d->lang) |
             put_str(o, "date", d->date) | put_str(o, "org", d->org) |
             put_str(o, "type", d->type) | put_str(o, "format", d->format) |
             put_list(o, "topics", &d->topics) | put_list(o, "authors", &d->authors) |
             put_list(o, "concepts", &d->concepts) |
             put_str(o, "translation_of", d->translation_of);
    if (d->date)
        rc |=
            put_str(o, "date_source", d->date_source ? d->date_source : KB_DATE_METADATA);
    if (d->checksum[0])
        rc |= json_object_set_new(o, "checksum", json_string(d->checksum));
    if (d->mtime)
        rc |= json_object_set_new(o, "mtime", json_integer(d->mtime));
    if (d->size)
        rc |= json_object_set_new(o, "size", json_integer(d->size));
    if (d->pages)
        rc |= json_object_set_new(o, "pages", json_integer(d->pages));
    rc |= put_str(o, "visibility", kb_visibility_name(d->visibility));
    if (with_body)
        rc |= put_str(o, "body", d->body ? d->body : "");
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int kb_doc_check_utf8(const struct kb_doc *d, struct kb_error *err)
{
    const struct {
        const char *name, *v;
    } f[] = {{"id", d->id},       {"source", d->source},
             {"title", d->title}, {"abstract", d->abstract},
             {"body", d->body},   {"lang", d->lang},
             {"date", d->date},   {"org", d->org},
             {"type", d->type},   {"format", d->format}};
    const struct {
        const char *name;
        const struct kb_strlist *l;
    } lists[] = {
        {"topics", &d->topics}, {"authors", &d->authors}, {"concepts", &d->concepts}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].v && !kb_utf8_valid(f[i].v, strlen(f[i].v)))
            return kb_error_set(err, KB_EPARSE, "field '%s' is not valid UTF-8",
                                f[i].name);
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        for (size_t k = 0; k < lists[i].l->n; k++)
            if (!kb_utf8_valid(lists[i].l->v[k], strlen(lists[i].l->v[k])))
                return kb_error_set(err, KB_EPARSE, "an item of '%s' is not valid UTF-8",
                                    lists[i].name);
    return KB_OK;
}

static int get_str(const json_t *o, const char *k, char **dst, size_t max, int required,
                   struct kb_error *err)
{
    const json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) {
        if (required)
            return kb_error_set(err, KB_EPARSE, "field '%s' is required", k);
        return KB_OK;
    }
    if (!json_is_string(v))
        return kb_error_set(err, KB_EPARSE, "field '%s' must be a string", k);
    size_t n = json_string_length(v);
    if (n > max)
        return kb_error_set(err, KB_EPARSE, "field '%s' is longer than %zu bytes", k,
                            max);
    if (memchr(json_string_value(v), '\0', n))
        return kb_error_set(err, KB_EPARSE, "field '%s' contains a NUL character", k);
    if (kb_doc_set(dst, json_string_value(v), n))
        return kb_error_set(err, KB_ENOMEM, "out of memory");
    return KB_OK;
}

static int get_list(const json_t *o, const char *k, struct kb_strlist *l,
                    struct kb_error *err)
{
    const json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v))
        return KB_OK;
    if (json_is_string(v))
        return kb_strlist_add(l, json_string_value(v))
                   ? kb_error_set(err, KB_ENOMEM, "out of memory")
                   : KB_OK;
    if (!json_is_array(v))
        return kb_error_set(err, KB_EPARSE, "field '%s' must be an array of strings", k);
    if (json_array_size(v) > KB_DOC_MAX_LIST)
        return kb_error_set(err, KB_EPARSE, "field '%s' has more than %d items", k,
                            KB_DOC_MAX_LIST);
    size_t i;
    const json_t *it;
    json_array_foreach(v, i, it)
    {
        if (!json_is_string(it) || json_string_length(it) == 0 ||
            json_string_length(it) > 256)
            return kb_error_set(
                err, KB_EPARSE,
                "field '%s' must hold non-empty strings of at most 256 bytes", k);
        if (kb_strlist_add(l, json_string_value(it)))
            return kb_error_set(err, KB_ENOMEM, "out of memory");
    }
    return KB_OK;
}

int kb_doc_from_json(struct kb_doc *d, const json_t *o, int strict, struct kb_error *err)
{
    static const char *known[] = {"id",          "source",        "title",  "abstract",
                                  "body",        "lang",          "date",   "org",
                                  "type",        "format",        "topics", "authors",
                                  "concepts",    "checksum",      "mtime",  "size",
                                  "pages",       "organisation",  "url",    "visibility",
                                  "date_source", "translation_of"};
    if (!json_is_object(o))
        return kb_error_set(err, KB_EPARSE, "a document must be a JSON object");
    if (strict) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)o, k, v)
        {
            size_t i, n = sizeof known / sizeof known[0];
            for (i = 0; i < n && strcmp(k, known[i]) != 0; i++)
                ;
            if (i == n)
                return kb_error_set(err, KB_EPARSE, "unknown field '%s'", k);
        }
    }
    int rc = get_str(o, "id", &d->id, 256, 0, err);
    if (!rc)
        rc = get_str(o, "source", &d->source, 4096, 0, err);
    if (!rc && !d->source)
        rc = get_str(o, "url", &d->source, 4096, 0, err);
    if (!rc)
        rc = get_str(o, "title", &d->title, MAX_FIELD, 0, err);
    if (!rc)
        rc = get_str(o, "abstract", &d->abstract, MAX_FIELD, 0, err);
    if (!rc)
        rc = get_str(o, "body", &d->body, MAX_BODY, 0, err);
    if (!rc)
        rc = get_str(o, "lang", &d->lang, 8, 0, err);
    if (!rc)
        rc = get_str(o, "date", &d->date, 32, 0, err);
    if (!rc)
        rc = get_str(o, "date_source", &d->date_source, 16, 0, err);
    if (!rc)
        rc = get_str(o, "org", &d->org, 256, 0, err);
    if (!rc && !d->org)
        rc = get_str(o, "organisation", &d->org, 256, 0, err);
    if (!rc)
        rc = get_str(o, "type", &d->type, 64, 0, err);
    if (!rc)
        rc = get_str(o, "format", &d->format, 16, 0, err);
    if (!rc)
        rc = get_str(o, "translation_of", &d->translation_of, 200, 0, err);
    if (!rc)
        rc = get_list(o, "topics", &d->topics, err);
    if (!rc)
        rc = get_list(o, "authors", &d->authors, err);
    if (!rc)
        rc = get_list(o, "concepts", &d->concepts, err);
    if (rc)
        return rc;
    const json_t *vis = json_object_get(o, "visibility");
    if (vis && !json_is_null(vis)) {
        int v = json_is_string(vis)
                    ? kb_visibility_parse(json_string_value(vis), json_string_length(vis))
                    : -1;
        if (v < 0)
            return kb_error_set(err, KB_EPARSE,
                                "field 'visibility' must be 'public' or 'members'");
        d->visibility = v;
    }
    if (d->date && !kb_date_valid(d->date))
        return kb_error_set(err, KB_EPARSE,
                            "field 'date' must be YYYY-MM-DD, not '%.40s'", d->date);
    if (d->date_source && strcmp(d->date_source, KB_DATE_METADATA) &&
        strcmp(d->date_source, KB_DATE_TEXT) && strcmp(d->date_source, KB_DATE_FILE))
        return kb_error_set(
            err, KB_EPARSE,
            "field 'date_source' must be metadata, text or file, not '%.20s'",
            d->date_source);
    const json_t *cs = json_object_get(o, "checksum");
    if (json_is_string(cs) && json_string_length(cs) < sizeof d->checksum)
        memcpy(d->checksum, json_string_value(cs), json_string_length(cs) + 1);
    const json_t *n = json_object_get(o, "mtime");
    if (json_is_integer(n))
        d->mtime = json_integer_value(n);
    n = json_object_get(o, "size");
    if (json_is_integer(n))
        d->size = json_integer_value(n);
    n = json_object_get(o, "pages");
    if (json_is_integer(n) && json_integer_value(n) >= 0 &&
        json_integer_value(n) < 100000)
        d->pages = (unsigned)json_integer_value(n);
    return KB_OK;
}

const char *kb_visibility_name(int v)
{
    return v == KB_VIS_MEMBERS ? "members" : "public";
}

int kb_visibility_parse(const char *s, size_t n)
{
    if (!s)
        return -1;
    if (n == (size_t)-1)
        n = strlen(s);
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    static const struct {
        const char *name;
        int v;
    } tab[] = {{"public", KB_VIS_PUBLIC},   {"members", KB_VIS_MEMBERS},
               {"member", KB_VIS_MEMBERS},  {"members-only", KB_VIS_MEMBERS},
               {"private", KB_VIS_MEMBERS}, {"internal", KB_VIS_MEMBERS}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strlen(tab[i].name) == n && !strncasecmp(s, tab[i].name, n))
            return tab[i].v;
    return -1;
}

int kb_doc_date_is_file(const struct kb_doc *d)
{
    return d->date && d->date_source && strcmp(d->date_source, KB_DATE_FILE) == 0;
}

int kb_date_valid(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return 0;
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1];
}

int kb_date_year(const char *s)
{
    return kb_date_valid(s) ? atoi(s) : 0;
}

double kb_date_number(const char *s)
{
    if (!kb_date_valid(s))
        return 0;
    return atof(s) * 10000 + atof(s + 5) * 100 + atof(s + 8);
}
