/* SPDX-License-Identifier: MIT */
/*
 * read_xml.c - XML reports (schemas/report.xsd) and the libxml2 helpers the other readers
 * share. Parsing never touches the network (NONET) and never expands entities (no NOENT;
 * text is collected from text and CDATA nodes only, so an entity bomb costs nothing).
 * Errors are captured per call through the parser context's structured error callback
 * and the schema validation context's own one: nothing global, nothing printed. The
 * compiled schema is cached per thread (a pthread key frees it when the thread exits),
 * since loading it costs far more than validating one report.
 */
#include "config.h"
#include "reader_priv.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlschemastypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- shared helpers ---- */

struct xml_errors {
    int set;
    int line;
    char msg[400];
};

static void keep_error(struct xml_errors *xe, const xmlError *e)
{
    if (xe->set || !e || e->level < XML_ERR_ERROR)
        return;
    xe->set = 1;
    xe->line = e->line;
    snprintf(xe->msg, sizeof xe->msg, "%s", e->message ? e->message : "unknown error");
    size_t n = strlen(xe->msg);
    while (n > 0 && (xe->msg[n - 1] == '\n' || xe->msg[n - 1] == ' '))
        xe->msg[--n] = '\0';
    kb_utf8_fix_msg(xe->msg);
}

static void on_parse_error(void *ctx, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = ctx;
    if (ctxt && ctxt->_private)
        keep_error(ctxt->_private, e);
}

static void on_error(void *ctx, xmlErrorPtr e)
{
    keep_error(ctx, e);
}

static int fail(struct kb_error *err, int code, const char *what,
                const struct xml_errors *xe)
{
    if (xe->line > 0)
        return kb_error_set(err, code, "%s: line %d: %s", what, xe->line, xe->msg);
    return kb_error_set(err, code, "%s: %s", what, xe->msg);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libxml(void)
{
    xmlInitParser();
}

xmlDocPtr kb_xml_parse(const char *buf, size_t len, int html, const char *encoding,
                       const char *what, struct kb_error *err)
{
    struct xml_errors xe = {0, 0, ""};
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    pthread_once(&init_once, init_libxml);
    if (len > INT_MAX) {
        kb_error_set(err, KB_ETOOBIG, "%s: over %d bytes", what, INT_MAX);
        goto out;
    }
    if (len == 0) {
        kb_error_set(err, KB_EPARSE, "%s: empty document", what);
        goto out;
    }
    ctxt = html ? htmlNewParserCtxt() : xmlNewParserCtxt();
    if (!ctxt || !ctxt->sax) {
        kb_error_set(err, KB_ENOMEM, "%s: out of memory", what);
        goto out;
    }
    ctxt->_private = &xe;
    ctxt->sax->serror = on_parse_error;
    if (html)
        doc = htmlCtxtReadMemory(ctxt, buf, (int)len, NULL, encoding,
                                 HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                     HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    else
        doc =
            xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, encoding,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        if (!xe.set)
            snprintf(xe.msg, sizeof xe.msg, "not a parsable document");
        fail(err, KB_EPARSE, what, &xe);
    }
out:
    if (ctxt) {
        ctxt->_private = NULL;
        if (html)
            htmlFreeParserCtxt(ctxt);
        else
            xmlFreeParserCtxt(ctxt);
    }
    return doc;
}

static int text_rec(const xmlNode *n, struct kb_text *t, int flat, int depth)
{
    int rc = KB_OK;
    if (depth > KB_RD_MAX_DEPTH)
        return KB_OK;
    for (const xmlNode *c = n->children; c && !rc && !t->full; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            const char *s = (const char *)c->content;
            rc = flat ? kb_text_add_flat(t, s) : kb_text_adds(t, s);
        } else if (c->type == XML_ELEMENT_NODE) {
            rc = text_rec(c, t, flat, depth + 1);
        }
    }
    return rc;
}

int kb_xml_text(const xmlNode *node, struct kb_text *t, int flat)
{
    return node ? text_rec(node, t, flat, 0) : KB_OK;
}

char *kb_xml_text_dup(const xmlNode *node, size_t max)
{
    struct kb_text t;
    kb_text_init(&t, max);
    char *s = NULL;
    if (kb_xml_text(node, &t, 1) == KB_OK)
        s = kb_buf_steal(&t.b);
    kb_text_release(&t);
    return s;
}

int kb_xml_is(const xmlNode *node, const char *ns, const char *name)
{
    return node && node->type == XML_ELEMENT_NODE && node->name &&
           strcmp((const char *)node->name, name) == 0 &&
           (!ns || (node->ns && node->ns->href &&
                    strcmp((const char *)node->ns->href, ns) == 0));
}

char *kb_xml_attr(const xmlNode *node, const char *ns, const char *name)
{
    if (!node || node->type != XML_ELEMENT_NODE)
        return NULL;
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        if (!a->name || strcmp((const char *)a->name, name) != 0)
            continue;
        if (ns && !(a->ns && a->ns->href && strcmp((const char *)a->ns->href, ns) == 0))
            continue;
        return kb_xml_text_dup((const xmlNode *)a, KB_RD_MAX_ABSTRACT);
    }
    return NULL;
}

/* ---- the report schema, one compiled copy per thread ---- */

static pthread_key_t schema_key;
static pthread_once_t schema_once = PTHREAD_ONCE_INIT;
static int schema_key_ok;

static void schema_destroy(void *p)
{
    xmlSchemaFree(p);
}

static void schema_key_init(void)
{
    /* libxml2 builds its table of built-in schema types on first use, without a lock:
     * two threads parsing their first schema at once each built one, and one leaked
     * (LeakSanitizer, now and then, in test_index_threads). Built here, once. */
    xmlSchemaInitTypes();
    schema_key_ok = pthread_key_create(&schema_key, schema_destroy) == 0;
}

static xmlSchemaPtr thread_schema(struct kb_error *err)
{
    struct xml_errors xe = {0, 0, ""};
    xmlSchemaParserCtxtPtr pc = NULL;
    xmlSchemaPtr s = NULL;
    char path[4096];
    pthread_once(&schema_once, schema_key_init);
    if (schema_key_ok && (s = pthread_getspecific(schema_key)) != NULL)
        return s;
    if (!kb_data_path("report.xsd", path, sizeof path)) {
        kb_error_set(err, KB_EINVAL, "xml: schema path too long");
        goto out;
    }
    pc = xmlSchemaNewParserCtxt(path);
    if (!pc) {
        kb_error_set(err, KB_ENOMEM, "xml: out of memory");
        goto out;
    }
    xmlSchemaSetParserStructuredErrors(pc, on_error, &xe);
    s = xmlSchemaParse(pc);
    if (!s) {
        kb_error_set(err, KB_EIO, "xml: schema '%s' not loaded: %s", path,
                     xe.set ? xe.msg : "unknown error");
        goto out;
    }
    if (!schema_key_ok || pthread_setspecific(schema_key, s) != 0) {
        xmlSchemaFree(s);
        s = NULL;
        kb_error_set(err, KB_ENOMEM, "xml: schema cache unavailable");
    }
out:
    xmlSchemaFreeParserCtxt(pc);
    return s;
}

/* ---- the reader ---- */

static int dup_into(char **dst, const xmlNode *n, size_t max)
{
    if (*dst)
        return KB_OK;
    *dst = kb_xml_text_dup(n, max);
    return *dst ? KB_OK : KB_ENOMEM;
}

static int add_items(struct kb_strlist *l, const xmlNode *parent, const char *name)
{
    int rc = KB_OK;
    for (const xmlNode *c = parent->children; c && !rc; c = c->next) {
        if (!kb_xml_is(c, NULL, name))
            continue;
        char *s = kb_xml_text_dup(c, KB_RD_MAX_ITEM * 4);
        rc = s ? kb_strlist_add(l, s) : KB_ENOMEM;
        free(s);
    }
    return rc;
}

static int add_section(struct kb_text *t, const xmlNode *sec)
{
    int rc = KB_OK;
    for (const xmlNode *c = sec->children; c && !rc && !t->full; c = c->next) {
        if (!kb_xml_is(c, NULL, "heading") && !kb_xml_is(c, NULL, "p"))
            continue;
        rc = kb_xml_text(c, t, 1);
        if (!rc)
            rc = kb_text_newlines(t, 2);
    }
    return rc;
}

int kb_rd_xml(const char *buf, size_t len, const struct kb_read_limits *lim,
              struct kb_doc *d, struct kb_error *err)
{
    struct xml_errors xe = {0, 0, ""};
    struct kb_text body;
    xmlDocPtr doc = NULL;
    xmlSchemaValidCtxtPtr vc = NULL;
    int rc = KB_OK;
    kb_text_init(&body, lim->max_text);

    doc = kb_xml_parse(buf, len, 0, NULL, "xml", err);
    if (!doc) {
        rc = KB_EPARSE;
        goto out;
    }
    xmlSchemaPtr schema = thread_schema(err);
    if (!schema) {
        rc = KB_EIO;
        goto out;
    }
    vc = xmlSchemaNewValidCtxt(schema);
    if (!vc) {
        rc = kb_error_set(err, KB_ENOMEM, "xml: out of memory");
        goto out;
    }
    xmlSchemaSetValidStructuredErrors(vc, on_error, &xe);
    if (xmlSchemaValidateDoc(vc, doc) != 0) {
        if (!xe.set)
            snprintf(xe.msg, sizeof xe.msg, "document is not a valid report");
        rc = fail(err, KB_EPARSE, "xml", &xe);
        goto out;
    }

    const xmlNode *root = xmlDocGetRootElement(doc);
    for (const xmlNode *c = root ? root->children : NULL; c && !rc; c = c->next) {
        if (kb_xml_is(c, NULL, "title"))
            rc = dup_into(&d->title, c, KB_RD_MAX_FIELD * 4);
        else if (kb_xml_is(c, NULL, "authors"))
            rc = add_items(&d->authors, c, "author");
        else if (kb_xml_is(c, NULL, "organisation"))
            rc = dup_into(&d->org, c, KB_RD_MAX_FIELD);
        else if (kb_xml_is(c, NULL, "date"))
            rc = dup_into(&d->date, c, 64);
        else if (kb_xml_is(c, NULL, "language"))
            rc = dup_into(&d->lang, c, 64);
        else if (kb_xml_is(c, NULL, "type"))
            rc = dup_into(&d->type, c, 256);
        else if (kb_xml_is(c, NULL, "visibility")) {
            char *v = kb_xml_text_dup(c, 64);
            kb_rd_visibility(d, v ? v : "members");
            free(v);
        } else if (kb_xml_is(c, NULL, "topics"))
            rc = add_items(&d->topics, c, "topic");
        else if (kb_xml_is(c, NULL, "abstract"))
            rc = dup_into(&d->abstract, c, KB_RD_MAX_ABSTRACT * 4);
        else if (kb_xml_is(c, NULL, "section"))
            rc = add_section(&body, c);
    }
    if (!rc && body.b.len && !(d->body = kb_buf_steal(&body.b)))
        rc = KB_ENOMEM;
    if (rc) {
        kb_error_set(err, rc, "xml: out of memory");
        goto out;
    }
out:
    xmlSchemaFreeValidCtxt(vc);
    xmlFreeDoc(doc);
    kb_text_release(&body);
    return rc;
}
