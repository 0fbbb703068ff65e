/* SPDX-License-Identifier: MIT */
/*
 * read_office.c - DOCX (Office Open XML) and ODT (OpenDocument Text) through libzip from
 * memory. A zip member is inflated in chunks into a buffer capped at lim->max_unzipped:
 * the size the archive declares is never trusted, so a zip bomb stops at the cap with
 * "docx: 'word/document.xml' inflates past N bytes". The XML members are parsed with the
 * shared libxml2 helpers (no network, no entity expansion) and walked by local name, so
 * that strict OOXML and transitional namespaces both work. Paragraphs become lines;
 * metadata comes from docProps/core.xml and app.xml (DOCX) or meta.xml (ODT).
 */
#include "reader_priv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zip.h>

struct office {
    const char *what; /* "docx" or "odt" */
    const struct kb_read_limits *lim;
    double t0;
    zip_t *zip;
    struct kb_error *err;
};

static int open_zip(struct office *o, const char *buf, size_t len)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(buf, len, 0, &ze);
    int rc = KB_OK;
    if (!src) {
        rc = kb_error_set(o->err, KB_ENOMEM, "%s: out of memory", o->what);
        goto out;
    }
    o->zip = zip_open_from_source(src, ZIP_RDONLY, &ze);
    if (!o->zip) {
        zip_source_free(src);
        rc = kb_error_set(o->err, KB_EPARSE, "%s: not a zip archive (%s)", o->what,
                          zip_error_strerror(&ze));
    }
out:
    zip_error_fini(&ze);
    return rc;
}

/* Inflates member `name` into out (capped). KB_ENOTFOUND without an error when it is
 * absent and not required. */
static int read_member(struct office *o, const char *name, int required,
                       struct kb_buf *out)
{
    zip_file_t *f = NULL;
    int rc = KB_OK;
    char chunk[65536];
    kb_buf_init(out, o->lim->max_unzipped);
    zip_int64_t idx = zip_name_locate(o->zip, name, 0);
    if (idx < 0) {
        rc = required ? kb_error_set(o->err, KB_EPARSE, "%s: '%s' missing", o->what, name)
                      : KB_ENOTFOUND;
        goto out;
    }
    f = zip_fopen_index(o->zip, (zip_uint64_t)idx, 0);
    if (!f) {
        rc = kb_error_set(o->err, KB_EPARSE, "%s: '%s': %s", o->what, name,
                          zip_strerror(o->zip));
        goto out;
    }
    for (;;) {
        zip_int64_t n = zip_fread(f, chunk, sizeof chunk);
        if (n < 0) {
            rc = kb_error_set(o->err, KB_EPARSE, "%s: '%s': %s", o->what, name,
                              zip_file_strerror(f));
            goto out;
        }
        if (n == 0)
            break;
        if ((size_t)n > out->max - out->len) {
            rc = kb_error_set(o->err, KB_ETOOBIG, "%s: '%s' inflates past %zu bytes",
                              o->what, name, out->max);
            goto out;
        }
        if ((rc = kb_buf_add(out, chunk, (size_t)n))) {
            kb_error_set(o->err, rc, "%s: out of memory", o->what);
            goto out;
        }
        if (kb_rd_now() - o->t0 > o->lim->max_seconds) {
            rc = kb_error_set(o->err, KB_ETIMEOUT, "%s: time limit of %g s exceeded",
                              o->what, o->lim->max_seconds);
            goto out;
        }
    }
out:
    if (f)
        zip_fclose(f);
    if (rc)
        kb_buf_release(out);
    return rc;
}

/* Parses member `name`; NULL with *rc = 0 when it is absent and not required. */
static xmlDocPtr parse_member(struct office *o, const char *name, int required, int *rc)
{
    struct kb_buf b;
    xmlDocPtr doc = NULL;
    char what[128];
    *rc = read_member(o, name, required, &b);
    if (*rc == KB_ENOTFOUND && !required)
        *rc = KB_OK;
    if (*rc || b.len == 0)
        goto out;
    snprintf(what, sizeof what, "%s: '%s'", o->what, name);
    doc = kb_xml_parse(b.data, b.len, 0, NULL, what, o->err);
    if (!doc)
        *rc = KB_EPARSE;
out:
    kb_buf_release(&b);
    return doc;
}

static int set_text(char **dst, const xmlNode *n)
{
    if (*dst)
        return KB_OK;
    char *s = kb_xml_text_dup(n, KB_RD_MAX_ABSTRACT);
    int rc = s ? kb_rd_set(dst, s) : KB_ENOMEM;
    free(s);
    return rc;
}

/* A "visibility" property (ODT meta:user-defined, DOCX custom property). */
static int set_visibility(struct kb_doc *d, const xmlNode *n)
{
    char *s = kb_xml_text_dup(n, 64);
    if (!s)
        return KB_ENOMEM;
    kb_rd_visibility(d, s);
    free(s);
    return KB_OK;
}

static int add_text(struct kb_strlist *l, const xmlNode *n, const char *seps)
{
    char *s = kb_xml_text_dup(n, KB_RD_MAX_ABSTRACT);
    int rc = s ? kb_rd_add_split(l, s, seps) : KB_ENOMEM;
    free(s);
    return rc;
}

static int first_line_title(struct kb_doc *d)
{
    if (d->title || !d->body)
        return KB_OK;
    const char *s = d->body + strspn(d->body, " \t\n");
    return kb_doc_set(&d->title, s, kb_utf8_cut(s, strcspn(s, "\n"), KB_RD_MAX_FIELD));
}

/* The common end of both readers: the title from the first heading (else the first
 * line), the body from the walked text (the dispatch then cleans up as for every
 * reader). */
static int office_finish(struct kb_doc *d, const char *heading, struct kb_text *body,
                         const char *fmt, struct kb_error *err)
{
    int rc = kb_rd_set(&d->title, heading);
    if (!rc && body->b.len && !(d->body = kb_buf_steal(&body->b)))
        rc = KB_ENOMEM;
    if (!rc)
        rc = first_line_title(d);
    if (rc)
        return kb_error_set(err, rc, "%s: out of memory", fmt);
    return KB_OK;
}

/* ---- DOCX ---- */

struct docx_walk {
    struct kb_text *t;
    char *heading; /* first Title / Heading1 paragraph */
};

static int docx_style_is_title(const xmlNode *p)
{
    for (const xmlNode *c = p->children; c; c = c->next) {
        if (!kb_xml_is(c, NULL, "pPr"))
            continue;
        for (const xmlNode *s = c->children; s; s = s->next) {
            if (!kb_xml_is(s, NULL, "pStyle"))
                continue;
            char *v = kb_xml_attr(s, NULL, "val");
            int yes = v && (strcmp(v, "Title") == 0 || strcmp(v, "Heading1") == 0);
            free(v);
            return yes;
        }
    }
    return 0;
}

static int docx_rec(struct docx_walk *w, const xmlNode *n, int depth)
{
    int rc = KB_OK;
    if (depth > KB_RD_MAX_DEPTH)
        return KB_OK;
    for (const xmlNode *c = n->children; c && !rc && !w->t->full; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || !c->name)
            continue;
        const char *name = (const char *)c->name;
        if (strcmp(name, "t") == 0) {
            rc = kb_xml_text(c, w->t, 1);
        } else if (strcmp(name, "tab") == 0) {
            rc = kb_text_add(w->t, "\t", 1);
        } else if (strcmp(name, "br") == 0 || strcmp(name, "cr") == 0) {
            rc = kb_text_add(w->t, "\n", 1);
        } else if (strcmp(name, "p") == 0) {
            size_t start = w->t->b.len;
            rc = docx_rec(w, c, depth + 1);
            if (!rc && !w->heading && w->t->b.len > start && docx_style_is_title(c) &&
                !(w->heading = strndup(w->t->b.data + start, w->t->b.len - start)))
                rc = KB_ENOMEM;
            if (!rc)
                rc = kb_text_newlines(w->t, 1);
        } else if (strcmp(name, "delText") != 0 && strcmp(name, "instrText") != 0 &&
                   strcmp(name, "pPr") != 0 && strcmp(name, "rPr") != 0) {
            rc = docx_rec(w, c, depth + 1);
        }
    }
    return rc;
}

static int docx_core(const xmlNode *root, struct kb_doc *d)
{
    int rc = KB_OK;
    for (const xmlNode *c = root ? root->children : NULL; c && !rc; c = c->next) {
        if (kb_xml_is(c, NULL, "title"))
            rc = set_text(&d->title, c);
        else if (kb_xml_is(c, NULL, "creator"))
            rc = add_text(&d->authors, c, ";");
        else if (kb_xml_is(c, NULL, "subject"))
            rc = set_text(&d->abstract, c);
        else if (kb_xml_is(c, NULL, "description"))
            rc = set_text(&d->abstract, c);
        else if (kb_xml_is(c, NULL, "keywords"))
            rc = add_text(&d->topics, c, ",;");
        else if (kb_xml_is(c, NULL, "language"))
            rc = set_text(&d->lang, c);
        else if (kb_xml_is(c, NULL, "created"))
            rc = set_text(&d->date, c);
        else if (kb_xml_is(c, NULL, "category"))
            rc = set_text(&d->type, c);
    }
    return rc;
}

/* docProps/custom.xml: <property name="visibility"><vt:lpwstr>members</vt:lpwstr>. */
static int docx_custom(const xmlNode *root, struct kb_doc *d)
{
    int rc = KB_OK;
    for (const xmlNode *c = root ? root->children : NULL; c && !rc; c = c->next) {
        if (!kb_xml_is(c, NULL, "property"))
            continue;
        char *name = kb_xml_attr(c, NULL, "name");
        if (name && strcasecmp(name, "visibility") == 0)
            rc = set_visibility(d, c);
        free(name);
    }
    return rc;
}

static int docx_app(const xmlNode *root, struct kb_doc *d)
{
    int rc = KB_OK;
    for (const xmlNode *c = root ? root->children : NULL; c && !rc; c = c->next)
        if (kb_xml_is(c, NULL, "Company"))
            rc = set_text(&d->org, c);
    return rc;
}

int kb_rd_docx(const char *buf, size_t len, const struct kb_read_limits *lim,
               struct kb_doc *d, struct kb_error *err)
{
    struct office o = {"docx", lim, kb_rd_now(), NULL, err};
    struct kb_text body;
    struct docx_walk w = {&body, NULL};
    xmlDocPtr core = NULL, app = NULL, custom = NULL, docxml = NULL;
    int rc;
    kb_text_init(&body, o.lim->max_text);
    if ((rc = open_zip(&o, buf, len)))
        goto out;
    docxml = parse_member(&o, "word/document.xml", 1, &rc);
    if (rc)
        goto out;
    core = parse_member(&o, "docProps/core.xml", 0, &rc);
    if (rc)
        goto out;
    app = parse_member(&o, "docProps/app.xml", 0, &rc);
    if (rc)
        goto out;
    custom = parse_member(&o, "docProps/custom.xml", 0, &rc);
    if (rc)
        goto out;
    rc = docx_core(xmlDocGetRootElement(core), d);
    if (!rc)
        rc = docx_app(xmlDocGetRootElement(app), d);
    if (!rc)
        rc = docx_custom(xmlDocGetRootElement(custom), d);
    if (!rc && docxml)
        rc = docx_rec(&w, (const xmlNode *)docxml, 0);
    if (rc)
        kb_error_set(err, rc, "docx: out of memory");
    else
        rc = office_finish(d, w.heading, &body, "docx", err);
out:
    xmlFreeDoc(docxml);
    xmlFreeDoc(core);
    xmlFreeDoc(app);
    xmlFreeDoc(custom);
    if (o.zip)
        zip_discard(o.zip);
    free(w.heading);
    kb_text_release(&body);
    return rc;
}

/* ---- ODT ---- */

struct odt_walk {
    struct kb_text *t;
    char *heading; /* first text:h */
    int in_par;
};

static int odt_rec(struct odt_walk *w, const xmlNode *n, int depth)
{
    int rc = KB_OK;
    if (depth > KB_RD_MAX_DEPTH)
        return KB_OK;
    for (const xmlNode *c = n->children; c && !rc && !w->t->full; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
            w->in_par) {
            rc = kb_text_add_flat(w->t, (const char *)c->content);
            continue;
        }
        if (c->type != XML_ELEMENT_NODE || !c->name)
            continue;
        const char *name = (const char *)c->name;
        if (strcmp(name, "p") == 0 || strcmp(name, "h") == 0) {
            size_t start = w->t->b.len;
            int was = w->in_par;
            w->in_par = 1;
            rc = odt_rec(w, c, depth + 1);
            w->in_par = was;
            if (!rc && !w->heading && name[0] == 'h' && w->t->b.len > start &&
                !(w->heading = strndup(w->t->b.data + start, w->t->b.len - start)))
                rc = KB_ENOMEM;
            if (!rc)
                rc = kb_text_newlines(w->t, 1);
        } else if (strcmp(name, "s") == 0) {
            rc = kb_text_add(w->t, " ", 1);
        } else if (strcmp(name, "tab") == 0) {
            rc = kb_text_add(w->t, "\t", 1);
        } else if (strcmp(name, "line-break") == 0) {
            rc = kb_text_add(w->t, "\n", 1);
        } else if (strcmp(name, "tracked-changes") != 0 &&
                   strcmp(name, "automatic-styles") != 0 &&
                   strcmp(name, "font-face-decls") != 0) {
            rc = odt_rec(w, c, depth + 1);
        }
    }
    return rc;
}

static int odt_meta(const xmlNode *root, struct kb_doc *d)
{
    const xmlNode *meta = NULL;
    struct kb_strlist creators = {NULL, 0};
    int rc = KB_OK, initial = 0;
    for (const xmlNode *c = root ? root->children : NULL; c; c = c->next)
        if (kb_xml_is(c, NULL, "meta"))
            meta = c;
    for (const xmlNode *c = meta ? meta->children : NULL; c && !rc; c = c->next) {
        if (kb_xml_is(c, NULL, "title"))
            rc = set_text(&d->title, c);
        else if (kb_xml_is(c, NULL, "initial-creator")) {
            initial = 1;
            rc = add_text(&d->authors, c, ";");
        } else if (kb_xml_is(c, NULL, "creator"))
            rc = add_text(&creators, c, ";");
        else if (kb_xml_is(c, NULL, "language"))
            rc = set_text(&d->lang, c);
        else if (kb_xml_is(c, NULL, "date") || kb_xml_is(c, NULL, "creation-date"))
            rc = set_text(&d->date, c);
        else if (kb_xml_is(c, NULL, "keyword"))
            rc = add_text(&d->topics, c, ",;");
        else if (kb_xml_is(c, NULL, "subject") || kb_xml_is(c, NULL, "description"))
            rc = set_text(&d->abstract, c);
        else if (kb_xml_is(c, NULL, "user-defined")) {
            char *name = kb_xml_attr(c, NULL, "name");
            if (name &&
                (strcmp(name, "organisation") == 0 || strcmp(name, "organization") == 0))
                rc = set_text(&d->org, c);
            else if (name && strcmp(name, "type") == 0)
                rc = set_text(&d->type, c);
            else if (name && strcmp(name, "visibility") == 0)
                rc = set_visibility(d, c);
            free(name);
        }
    }
    /* dc:creator is the last editor in ODF: the authors only without initial-creator */
    for (size_t i = 0; i < creators.n && !rc && !initial; i++)
        rc = kb_strlist_add(&d->authors, creators.v[i]);
    kb_strlist_clear(&creators);
    return rc;
}

int kb_rd_odt(const char *buf, size_t len, const struct kb_read_limits *lim,
              struct kb_doc *d, struct kb_error *err)
{
    struct office o = {"odt", lim, kb_rd_now(), NULL, err};
    struct kb_text body;
    struct odt_walk w = {&body, NULL, 0};
    xmlDocPtr content = NULL, meta = NULL;
    int rc;
    kb_text_init(&body, o.lim->max_text);
    if ((rc = open_zip(&o, buf, len)))
        goto out;
    content = parse_member(&o, "content.xml", 1, &rc);
    if (rc)
        goto out;
    meta = parse_member(&o, "meta.xml", 0, &rc);
    if (rc)
        goto out;
    rc = odt_meta(xmlDocGetRootElement(meta), d);
    if (!rc && content)
        rc = odt_rec(&w, (const xmlNode *)content, 0);
    if (rc)
        kb_error_set(err, rc, "odt: out of memory");
    else
        rc = office_finish(d, w.heading, &body, "odt", err);
out:
    xmlFreeDoc(content);
    xmlFreeDoc(meta);
    if (o.zip)
        zip_discard(o.zip);
    free(w.heading);
    kb_text_release(&body);
    return rc;
}
