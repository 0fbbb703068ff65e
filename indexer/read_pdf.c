/* SPDX-License-Identifier: MIT */
/*
 * read_pdf.c - PDF files through poppler-glib, from memory
 * (poppler_document_new_from_bytes over the caller's buffer, no copy). The text of page N
 * follows the (N-1)th '\f' of the body, so that a hit can be mapped back to its page.
 * Metadata comes from the XMP packet when there is one (Dublin Core: title, creator,
 * publisher, date, language, subject, type, description), then from the Info dictionary
 * for what XMP did not give. Extraction stops, keeping what it has, when the time budget
 * or the text limit runs out. Poppler reports its own problems as GErrors, which become
 * "pdf: <message>".
 *
 * This file alone links poppler-glib (library kb_pdf). kb-indexer does not: it runs
 * kb-pdftext (pdftext_main.c, this reader over stdin) per PDF, from reader.c, so that a
 * run pays for poppler's libraries only when it reads a PDF and a PDF that hangs or
 * crashes poppler is killed with its process. The tests and the fuzz target link kb_pdf
 * and call this reader in-process.
 */
#define _GNU_SOURCE /* strcasestr */
#include "reader_priv.h"

#include <poppler.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DC_NS  "http://purl.org/dc/elements/1.1/"
#define RDF_NS "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

/* Collects the rdf:li items under n (depth-limited), or n's own text when it has none.
 * first: only the first item (x-default when there is one). */
static int dc_items(const xmlNode *n, int depth, struct kb_strlist *l, int *found)
{
    int rc = KB_OK;
    if (depth > 4)
        return KB_OK;
    for (const xmlNode *c = n->children; c && !rc; c = c->next) {
        if (kb_xml_is(c, RDF_NS, "li")) {
            char *s = kb_xml_text_dup(c, KB_RD_MAX_ABSTRACT);
            rc = s ? kb_strlist_add(l, s) : KB_ENOMEM;
            free(s);
            *found = 1;
        } else if (c->type == XML_ELEMENT_NODE) {
            rc = dc_items(c, depth + 1, l, found);
        }
    }
    return rc;
}

static int dc_values(const xmlNode *n, struct kb_strlist *l)
{
    int found = 0;
    int rc = dc_items(n, 0, l, &found);
    if (!rc && !found) {
        char *s = kb_xml_text_dup(n, KB_RD_MAX_ABSTRACT);
        rc = s ? kb_strlist_add(l, s) : KB_ENOMEM;
        free(s);
    }
    return rc;
}

static int dc_first(const xmlNode *n, char **dst)
{
    struct kb_strlist l = {NULL, 0};
    int rc = *dst ? KB_OK : dc_values(n, &l);
    if (!rc && l.n)
        rc = kb_rd_set(dst, l.v[0]);
    kb_strlist_clear(&l);
    return rc;
}

static int xmp_walk(const xmlNode *n, int depth, struct kb_doc *d)
{
    int rc = KB_OK;
    if (depth > KB_RD_MAX_DEPTH)
        return KB_OK;
    for (const xmlNode *c = n->children; c && !rc; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!kb_xml_is(c, DC_NS, (const char *)c->name)) {
            rc = xmp_walk(c, depth + 1, d);
            continue;
        }
        const char *name = (const char *)c->name;
        if (strcmp(name, "title") == 0)
            rc = dc_first(c, &d->title);
        else if (strcmp(name, "publisher") == 0)
            rc = dc_first(c, &d->org);
        else if (strcmp(name, "date") == 0)
            rc = dc_first(c, &d->date);
        else if (strcmp(name, "language") == 0)
            rc = dc_first(c, &d->lang);
        else if (strcmp(name, "type") == 0)
            rc = dc_first(c, &d->type);
        else if (strcmp(name, "description") == 0)
            rc = dc_first(c, &d->abstract);
        else if (strcmp(name, "creator") == 0 && d->authors.n == 0)
            rc = dc_values(c, &d->authors);
        else if (strcmp(name, "subject") == 0 && d->topics.n == 0)
            rc = dc_values(c, &d->topics);
    }
    return rc;
}

/* XMP is optional: a packet that does not parse is ignored. */
static int read_xmp(const char *xmp, struct kb_doc *d)
{
    if (!xmp || !*xmp)
        return KB_OK;
    xmlDocPtr doc = kb_xml_parse(xmp, strlen(xmp), 0, "UTF-8", "pdf: xmp", NULL);
    if (!doc)
        return KB_OK;
    int rc = xmp_walk((const xmlNode *)doc, 0, d);
    xmlFreeDoc(doc);
    return rc;
}

static int read_info(PopplerDocument *pd, struct kb_doc *d)
{
    gchar *title = poppler_document_get_title(pd);
    gchar *author = poppler_document_get_author(pd);
    gchar *subject = poppler_document_get_subject(pd);
    gchar *keywords = poppler_document_get_keywords(pd);
    int rc = kb_rd_set(&d->title, title);
    if (!rc && d->authors.n == 0)
        rc = kb_rd_add_split(&d->authors, author, ";,");
    if (!rc)
        rc = kb_rd_set(&d->abstract, subject);
    if (!rc && d->topics.n == 0)
        rc = kb_rd_add_split(&d->topics, keywords, ",;");
    /* a keyword "visibility: members" (or "visibility=members") in the Info dictionary */
    for (const char *k = keywords; k && (k = strcasestr(k, "visibility")); k++) {
        const char *v = k + strlen("visibility");
        while (*v == ' ')
            v++;
        if (*v != ':' && *v != '=')
            continue;
        char val[32];
        size_t n = strcspn(++v, ",;");
        snprintf(val, sizeof val, "%.*s", (int)(n < 31 ? n : 31), v);
        kb_rd_visibility(d, val);
    }
    time_t t = poppler_document_get_creation_date(pd);
    struct tm tm;
    char date[32];
    if (!rc && !d->date && t > 0 && gmtime_r(&t, &tm) &&
        strftime(date, sizeof date, "%Y-%m-%d", &tm) == 10)
        rc = kb_rd_set(&d->date, date);
    g_free(title);
    g_free(author);
    g_free(subject);
    g_free(keywords);
    return rc;
}

static int read_pages(PopplerDocument *pd, const struct kb_read_limits *lim, double t0,
                      struct kb_text *t, unsigned *pages)
{
    int n = poppler_document_get_n_pages(pd), rc = KB_OK;
    *pages = n > 0 ? (unsigned)n : 0;
    for (int i = 0; i < n && !rc && !t->full; i++) {
        if (kb_rd_now() - t0 > lim->max_seconds)
            break;
        if (i > 0 && (rc = kb_text_add(t, "\f", 1)))
            break;
        PopplerPage *page = poppler_document_get_page(pd, i);
        if (!page)
            continue;
        gchar *s = poppler_page_get_text(page);
        for (gchar *p = s; p && *p; p++)
            if (*p == '\f')
                *p = '\n';
        rc = kb_text_adds(t, s);
        g_free(s);
        g_object_unref(page);
    }
    return rc;
}

/* poppler-glib creates its global parameters on the first document it opens, without a
 * lock: opening is serialised (it is cheap next to text extraction). */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;

/* "%PDF-" within the first KiB, where poppler looks for it too. */
static int has_header(const char *buf, size_t len)
{
    size_t n = len < 1024 ? len : 1024;
    for (size_t i = 0; i + 5 <= n; i++)
        if (memcmp(buf + i, "%PDF-", 5) == 0)
            return 1;
    return 0;
}

int kb_rd_pdf(const char *buf, size_t len, const struct kb_read_limits *lim,
              struct kb_doc *d, struct kb_error *err)
{
    struct kb_text body;
    GBytes *bytes = NULL;
    GError *gerr = NULL;
    PopplerDocument *pd = NULL;
    gchar *xmp = NULL;
    int rc = KB_OK;
    double t0 = kb_rd_now();
    kb_text_init(&body, lim->max_text);
    if (!has_header(buf, len)) {
        rc = kb_error_set(err, KB_EPARSE, "pdf: not a PDF (no %%PDF- header)");
        goto out;
    }
    bytes = g_bytes_new_static(buf, len);
    pthread_mutex_lock(&open_lock);
    pd = poppler_document_new_from_bytes(bytes, NULL, &gerr);
    pthread_mutex_unlock(&open_lock);
    if (!pd) {
        rc = kb_error_set(err, KB_EPARSE, "pdf: %s",
                          gerr && gerr->message ? gerr->message
                                                : "cannot open the document");
        goto out;
    }
    xmp = poppler_document_get_metadata(pd);
    rc = read_xmp(xmp, d);
    if (!rc)
        rc = read_info(pd, d);
    if (!rc)
        rc = read_pages(pd, lim, t0, &body, &d->pages);
    if (!rc && body.b.len && !(d->body = kb_buf_steal(&body.b)))
        rc = KB_ENOMEM;
    if (!rc && !d->title && d->body) {
        /* no title in the metadata: the first line of text */
        const char *s = d->body + strspn(d->body, " \t\n\f");
        size_t n = strcspn(s, "\n\f");
        rc = kb_doc_set(&d->title, s, kb_utf8_cut(s, n, KB_RD_MAX_FIELD));
    }
    if (rc) {
        kb_error_set(err, rc, "pdf: out of memory");
        goto out;
    }
out:
    g_free(xmp);
    if (pd)
        g_object_unref(pd);
    if (bytes)
        g_bytes_unref(bytes);
    if (gerr)
        g_error_free(gerr);
    kb_text_release(&body);
    return rc;
}
