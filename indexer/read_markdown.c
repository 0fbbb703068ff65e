/* SPDX-License-Identifier: MIT */
/*
 * read_markdown.c - Markdown briefs: YAML front matter (libyaml's document loader;
 * aliases stay references, so an alias bomb costs nothing since only top-level scalars
 * and lists of scalars are read) for the metadata, then cmark's AST walked to plain text:
 * headings, paragraphs, list items, code and table rows each end a line, raw HTML is
 * dropped. cmark (not cmark-gfm) has no table extension, so a paragraph that is a pipe
 * table is turned into rows of cells here. The title comes from the front matter, else
 * the first heading.
 */
#include "reader_priv.h"

#include <cmark.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---- front matter ---- */

/* If text opens with a "---" line closed by a "---" or "..." line, sets the front matter
 * [*fm, *fm + *fm_len) and returns the offset of what follows; else returns 0. */
static size_t front_matter(const char *text, size_t n, const char **fm, size_t *fm_len)
{
    size_t i = 0;
    if (n < 4 || strncmp(text, "---", 3) != 0)
        return 0;
    i = 3;
    while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r'))
        i++;
    if (i >= n || text[i] != '\n')
        return 0;
    size_t start = ++i;
    while (i < n) {
        size_t eol = i;
        while (eol < n && text[eol] != '\n')
            eol++;
        size_t e = eol;
        while (e > i &&
               (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r'))
            e--;
        if (e - i == 3 &&
            (strncmp(text + i, "---", 3) == 0 || strncmp(text + i, "...", 3) == 0)) {
            *fm = text + start;
            *fm_len = i - start;
            return eol < n ? eol + 1 : eol;
        }
        i = eol + 1;
    }
    return 0;
}

static int key_is(const char *k, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(k, *names) == 0)
            return 1;
    return 0;
}

/* A scalar's value as a NUL-terminated string (malloc'ed), or NULL. */
static char *scalar(const yaml_node_t *v)
{
    if (!v || v->type != YAML_SCALAR_NODE)
        return NULL;
    return strndup((const char *)v->data.scalar.value, v->data.scalar.length);
}

static int add_list(yaml_document_t *doc, const yaml_node_t *v, struct kb_strlist *l,
                    const char *seps)
{
    int rc = KB_OK;
    if (v && v->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = v->data.sequence.items.start;
             it < v->data.sequence.items.top && !rc; it++) {
            char *s = scalar(yaml_document_get_node(doc, *it));
            rc = kb_rd_add_split(l, s, "");
            free(s);
        }
    } else if (v && v->type == YAML_SCALAR_NODE) {
        char *s = scalar(v);
        rc = s ? kb_rd_add_split(l, s, seps) : KB_ENOMEM;
        free(s);
    }
    return rc;
}

static int read_front_matter(const char *fm, size_t n, struct kb_doc *d,
                             struct kb_error *err)
{
    static const char *const k_title[] = {"title", NULL};
    static const char *const k_date[] = {"date", NULL};
    static const char *const k_lang[] = {"lang", "language", NULL};
    static const char *const k_org[] = {"organisation", "organization", "org", NULL};
    static const char *const k_type[] = {"type", NULL};
    static const char *const k_topics[] = {"topics", "tags", "keywords", NULL};
    static const char *const k_authors[] = {"authors", "author", NULL};
    static const char *const k_abstract[] = {"description", "abstract", "summary", NULL};
    yaml_parser_t p;
    yaml_document_t doc;
    int loaded = 0, rc = KB_OK;
    if (!yaml_parser_initialize(&p))
        return kb_error_set(err, KB_ENOMEM, "md: out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)fm, n);
    if (!yaml_parser_load(&p, &doc)) {
        rc =
            kb_error_set(err, KB_EPARSE, "md: front matter: line %zu: %s",
                         p.problem_mark.line + 2, p.problem ? p.problem : "invalid YAML");
        goto out;
    }
    loaded = 1;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE)
        goto out; /* empty or not a mapping: no metadata */
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
         pr < root->data.mapping.pairs.top && !rc; pr++) {
        char *k = scalar(yaml_document_get_node(&doc, pr->key));
        yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
        char *s = scalar(v);
        if (!k)
            ;
        else if (key_is(k, k_title))
            rc = kb_rd_set(&d->title, s);
        else if (key_is(k, k_date))
            rc = kb_rd_set(&d->date, s);
        else if (key_is(k, k_lang))
            rc = kb_rd_set(&d->lang, s);
        else if (key_is(k, k_org))
            rc = kb_rd_set(&d->org, s);
        else if (key_is(k, k_type))
            rc = kb_rd_set(&d->type, s);
        else if (key_is(k, k_abstract))
            rc = kb_rd_set(&d->abstract, s);
        else if (key_is(k, k_topics))
            rc = add_list(&doc, v, &d->topics, ",");
        else if (!strcmp(k, "translation_of"))
            rc = kb_rd_set(&d->translation_of, s);
        else if (!strcmp(k, "visibility"))
            kb_rd_visibility(d, s ? s : "members"); /* a list or a map: not "public" */
        else if (key_is(k, k_authors))
            rc = add_list(&doc, v, &d->authors, ";,");
        free(k);
        free(s);
    }
    if (rc)
        kb_error_set(err, rc, "md: out of memory");
out:
    if (loaded)
        yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return rc;
}

/* ---- body ---- */

/* A delimiter row of a pipe table: only | - : and spaces, with at least one '-'. */
static int delimiter_row(const char *s, size_t n)
{
    int dash = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-')
            dash = 1;
        else if (!strchr("|: \t", s[i]))
            return 0;
    }
    return dash && memchr(s, '|', n) != NULL;
}

/* Ends the paragraph at [start, len) of t: a pipe table keeps one line per row (the
 * delimiter row goes, pipes become spaces); any other paragraph goes on one line. */
static void end_paragraph(struct kb_text *t, size_t start)
{
    char *p = t->b.data + start, *end = t->b.data + t->b.len;
    char *nl = memchr(p, '\n', (size_t)(end - p));
    char *row2 = nl ? nl + 1 : NULL;
    char *nl2 = row2 ? memchr(row2, '\n', (size_t)(end - row2)) : NULL;
    size_t n2 = row2 ? (size_t)((nl2 ? nl2 : end) - row2) : 0;
    if (!nl || !memchr(p, '|', (size_t)(nl - p)) || !delimiter_row(row2, n2)) {
        for (; p < end; p++)
            if (*p == '\n')
                *p = ' ';
        return;
    }
    size_t cut = (size_t)(row2 - t->b.data), gone = nl2 ? n2 + 1 : n2;
    memmove(row2, row2 + gone, t->b.len - cut - gone + 1);
    t->b.len -= gone;
    for (size_t i = start; i < t->b.len; i++)
        if (t->b.data[i] == '|')
            t->b.data[i] = ' ';
}

static int render(cmark_node *root, struct kb_text *t, char **heading)
{
    cmark_iter *it = cmark_iter_new(root);
    cmark_event_type ev;
    size_t para = 0;
    int rc = KB_OK, in_heading = 0;
    struct kb_text h;
    kb_text_init(&h, KB_RD_MAX_FIELD);
    if (!it)
        rc = KB_ENOMEM;
    while (!rc && !t->full && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        cmark_node_type type = cmark_node_get_type(n);
        const char *lit = cmark_node_get_literal(n);
        int enter = ev == CMARK_EVENT_ENTER;
        switch (type) {
        case CMARK_NODE_TEXT:
        case CMARK_NODE_CODE:
            rc = kb_text_add_flat(t, lit);
            if (!rc && in_heading)
                rc = kb_text_add_flat(&h, lit);
            break;
        case CMARK_NODE_SOFTBREAK:
        case CMARK_NODE_LINEBREAK:
            rc = kb_text_add(t, "\n", 1);
            if (!rc && in_heading)
                rc = kb_text_add(&h, " ", 1);
            break;
        case CMARK_NODE_CODE_BLOCK:
            rc = kb_text_newlines(t, 2);
            if (!rc)
                rc = kb_text_adds(t, lit);
            if (!rc)
                rc = kb_text_newlines(t, 2);
            break;
        case CMARK_NODE_HEADING:
            rc = kb_text_newlines(t, 2);
            in_heading = enter && !*heading;
            if (!enter && !*heading && h.b.len && !(*heading = kb_buf_steal(&h.b)))
                rc = KB_ENOMEM;
            break;
        case CMARK_NODE_PARAGRAPH:
            if (enter) {
                rc = kb_text_newlines(t, 1);
                para = t->b.len;
            } else {
                if (t->b.len > para)
                    end_paragraph(t, para);
                rc = kb_text_newlines(t, 2);
            }
            break;
        case CMARK_NODE_ITEM:
        case CMARK_NODE_BLOCK_QUOTE:
        case CMARK_NODE_LIST:
        case CMARK_NODE_THEMATIC_BREAK:
            rc = kb_text_newlines(t, 1);
            break;
        default: /* raw HTML, emphasis, links, images: text comes from children */
            break;
        }
    }
    cmark_iter_free(it);
    kb_text_release(&h);
    return rc;
}

int kb_rd_markdown(const char *buf, size_t len, const struct kb_read_limits *lim,
                   struct kb_doc *d, struct kb_error *err)
{
    struct kb_text body;
    char *text = NULL, *heading = NULL;
    cmark_node *root = NULL;
    size_t n = 0;
    int rc;
    kb_text_init(&body, lim->max_text);
    rc = kb_to_utf8(buf, len, len * 3 + 16, &text, &n, err);
    if (rc)
        goto out;
    if (strspn(text, " \t\r\n\f") == n) {
        rc = kb_error_set(err, KB_EPARSE, "md: empty document");
        goto out;
    }
    const char *fm = NULL;
    size_t fm_len = 0, off = front_matter(text, n, &fm, &fm_len);
    if (fm && (rc = read_front_matter(fm, fm_len, d, err)))
        goto out;
    root = cmark_parse_document(text + off, n - off, CMARK_OPT_DEFAULT);
    if (!root) {
        rc = kb_error_set(err, KB_ENOMEM, "md: out of memory");
        goto out;
    }
    rc = render(root, &body, &heading);
    if (!rc)
        rc = kb_rd_set(&d->title, heading);
    if (!rc && body.b.len && !(d->body = kb_buf_steal(&body.b)))
        rc = KB_ENOMEM;
    if (rc) {
        kb_error_set(err, rc, "md: out of memory");
        goto out;
    }
out:
    if (root)
        cmark_node_free(root);
    free(text);
    free(heading);
    kb_text_release(&body);
    return rc;
}
