/* SPDX-License-Identifier: MIT */
/*
 * read_html.c - HTML pages: libxml2's forgiving HTML parser (RECOVER, no network, errors
 * silenced), then one iterative walk over the tree that collects the visible text and the
 * metadata. Navigation, scripts, styles, footers, asides, forms and templates are not
 * content and are dropped with their subtrees; block elements end lines. The walk does
 * not recurse, and it ignores what lies deeper than a fixed depth, so ten thousand nested
 * divs cost neither stack nor time. Pages that do not declare their charset go through
 * kb_to_utf8 first (libxml2 would otherwise guess ISO-8859-1 for anything not UTF-8).
 */
#include "reader_priv.h"

#include <libxml/HTMLparser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTML_MAX_DEPTH (4 * KB_RD_MAX_DEPTH)

static int in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0)
            return 1;
    return 0;
}

static const char *const dropped[] = {
    "script", "style",  "nav",    "footer", "aside",  "noscript", "template", "form",
    "title",  "iframe", "object", "svg",    "button", "select",   "canvas",   NULL};

static const char *const blocks[] = {
    "p",          "div",     "h1",      "h2",     "h3",         "h4",    "h5", "h6",
    "li",         "ul",      "ol",      "dl",     "dt",         "dd",    "tr", "table",
    "section",    "article", "main",    "header", "blockquote", "pre",   "hr", "figure",
    "figcaption", "caption", "address", "body",   "thead",      "tbody", "br", NULL};

struct html_state {
    struct kb_doc *d;
    struct kb_text body;
    char *h1;
};

static int on_meta(struct html_state *st, const xmlNode *n)
{
    char *name = kb_xml_attr(n, NULL, "name");
    char *content = NULL;
    int rc = KB_OK;
    struct kb_doc *d = st->d;
    if (!name)
        name = kb_xml_attr(n, NULL, "property");
    if (!name)
        goto out;
    content = kb_xml_attr(n, NULL, "content");
    if (!content)
        goto out;
    if (strcasecmp(name, "description") == 0)
        rc = kb_rd_set(&d->abstract, content);
    else if (strcasecmp(name, "keywords") == 0)
        rc = kb_rd_add_split(&d->topics, content, ",");
    else if (strcasecmp(name, "author") == 0)
        rc = kb_rd_add_split(&d->authors, content, ";,");
    else if (strcasecmp(name, "date") == 0 || strcasecmp(name, "dcterms.date") == 0 ||
             strcasecmp(name, "article:published_time") == 0) {
        char date[11] = "";
        if (strlen(content) >= 10) {
            memcpy(date, content, 10);
            if (kb_date_valid(date))
                rc = kb_rd_set(&d->date, date);
        }
    } else if (strcasecmp(name, "organisation") == 0 ||
               strcasecmp(name, "organization") == 0)
        rc = kb_rd_set(&d->org, content);
    else if (strcasecmp(name, "type") == 0)
        rc = kb_rd_set(&d->type, content);
    else if (strcasecmp(name, "visibility") == 0)
        kb_rd_visibility(d, content);
    else if (strcasecmp(name, "translation_of") == 0)
        rc = kb_rd_set(&d->translation_of, content);
out:
    free(name);
    free(content);
    return rc;
}

/* What an element contributes when the walk enters it; *descend says whether its children
 * are walked. */
static int on_element(struct html_state *st, const xmlNode *n, int depth, int *descend)
{
    const char *name = (const char *)n->name;
    int rc = KB_OK;
    char *s = NULL;
    *descend = 0;
    if (!name)
        return KB_OK;
    if (strcmp(name, "title") == 0 && !st->d->title) {
        st->d->title = kb_xml_text_dup(n, KB_RD_MAX_FIELD * 4);
        rc = st->d->title ? KB_OK : KB_ENOMEM;
    } else if (strcmp(name, "meta") == 0) {
        rc = on_meta(st, n);
    } else if (strcmp(name, "html") == 0 && !st->d->lang) {
        s = kb_xml_attr(n, NULL, "lang");
        if (!s)
            s = kb_xml_attr(n, NULL, "xml:lang");
        rc = kb_rd_set(&st->d->lang, s);
    } else if (strcmp(name, "h1") == 0 && !st->h1) {
        st->h1 = kb_xml_text_dup(n, KB_RD_MAX_FIELD * 4);
        rc = st->h1 ? KB_OK : KB_ENOMEM;
    }
    free(s);
    if (rc || in_list(name, dropped) || depth >= HTML_MAX_DEPTH)
        return rc;
    *descend = 1;
    if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0)
        return kb_text_add(&st->body, " ", 1);
    if (in_list(name, blocks))
        return kb_text_newlines(&st->body, 1);
    return KB_OK;
}

static int walk(struct html_state *st, xmlNode *root)
{
    xmlNode *n = root;
    int depth = 0, rc = KB_OK;
    while (n && !rc) {
        int descend = 0;
        if (n->type == XML_ELEMENT_NODE)
            rc = on_element(st, n, depth, &descend);
        else if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
            rc = kb_text_add_flat(&st->body, (const char *)n->content);
        if (rc)
            break;
        if (descend && n->children) {
            n = n->children;
            depth++;
            continue;
        }
        /* next sibling, climbing up (and ending block lines) as needed */
        while (n != root && !n->next && !rc) {
            n = n->parent;
            depth--;
            if (n->type == XML_ELEMENT_NODE && n->name &&
                in_list((const char *)n->name, blocks))
                rc = kb_text_newlines(&st->body, 1);
        }
        if (n == root)
            break;
        n = n->next;
    }
    return rc;
}

/* Does the page say its charset (meta charset, http-equiv, XML declaration)? */
static int declares_charset(const char *buf, size_t len)
{
    size_t n = len < 2048 ? len : 2048;
    for (size_t i = 0; i + 8 <= n; i++)
        if (strncasecmp(buf + i, "charset=", 8) == 0 ||
            strncasecmp(buf + i, "encoding", 8) == 0)
            return 1;
    return 0;
}

int kb_rd_html(const char *buf, size_t len, const struct kb_read_limits *lim,
               struct kb_doc *d, struct kb_error *err)
{
    struct html_state st;
    xmlDocPtr doc = NULL;
    char *utf8 = NULL;
    size_t n = len;
    int rc = KB_OK;
    st.d = d;
    st.h1 = NULL;
    kb_text_init(&st.body, lim->max_text);
    const char *src = buf, *enc = NULL;
    if (!declares_charset(buf, len)) {
        rc = kb_to_utf8(buf, len, len * 3 + 16, &utf8, &n, err);
        if (rc)
            goto out;
        src = utf8;
        enc = "UTF-8";
    }
    doc = kb_xml_parse(src, n, 1, enc, "html", err);
    if (!doc) {
        rc = KB_EPARSE;
        goto out;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    if (root && (rc = walk(&st, root)))
        goto oom;
    if ((rc = kb_rd_set(&d->title, st.h1)))
        goto oom;
    if (st.body.b.len && !(d->body = kb_buf_steal(&st.body.b))) {
        rc = KB_ENOMEM;
        goto oom;
    }
    goto out;
oom:
    kb_error_set(err, rc, "html: out of memory");
out:
    xmlFreeDoc(doc);
    free(utf8);
    free(st.h1);
    kb_text_release(&st.body);
    return rc;
}
