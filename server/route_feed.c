/* SPDX-License-Identifier: MIT */
/*
 * route_feed.c - GET /feed.atom?q=...: an Atom 1.0 feed (RFC 4287) of the newest
 * documents matching a query. It takes the search parameters (q, lang, topic, org,
 * type, from, to, size/limit) and always sorts newest first. Documents without a
 * publication date (only a file's time, date_source "file") are left out: a feed entry's
 * date must not be the day a file was copied. The feed carries the index revision it read
 * as <kb:revision>. Every text is XML-escaped, and characters XML 1.0 forbids (C0
 * controls, U+FFFE, U+FFFF) are dropped and bytes that are not UTF-8 become U+FFFD, so
 * any stored document yields a valid feed. Links are relative, or absolute under
 * cfg.public_url: never built from the Host header, which the client chooses.
 */
#include "search_http.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>

/* Length of the UTF-8 sequence at s that XML 1.0 allows as a character; 0 for bytes
 * that are not UTF-8, and -1 (as a size) for a character XML forbids. */
static size_t xml_char(const char *s)
{
    unsigned cp = 0;
    size_t len = kb_utf8_char(s, 4, &cp); /* stops at the NUL that ends s */
    if (len && (cp == 0xfffe || cp == 0xffff))
        return (size_t)-1;
    return len;
}

/* Appends s XML-escaped (text and attribute values alike). */
static void xml_escape(struct kb_buf *b, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x80) {
            size_t n = xml_char(s);
            if (n == 0) {
                kb_buf_adds(b, "\xEF\xBF\xBD"); /* U+FFFD for a stray byte */
            } else if (n == (size_t)-1) {
                s += 2; /* U+FFFE and U+FFFF are three bytes long */
            } else {
                kb_buf_add(b, s, n);
                s += n - 1;
            }
            continue;
        }
        switch (c) {
        case '&':
            kb_buf_adds(b, "&amp;");
            break;
        case '<':
            kb_buf_adds(b, "&lt;");
            break;
        case '>':
            kb_buf_adds(b, "&gt;");
            break;
        case '"':
            kb_buf_adds(b, "&quot;");
            break;
        case '\'':
            kb_buf_adds(b, "&apos;");
            break;
        default:
            if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
                kb_buf_addc(b, (char)c);
        }
    }
}

/* Appends <name>escaped text</name> on its own line. */
static void element(struct kb_buf *b, const char *indent, const char *name,
                    const char *text)
{
    kb_buf_printf(b, "%s<%s>", indent, name);
    xml_escape(b, text);
    kb_buf_printf(b, "</%s>\n", name);
}

/* "YYYY-MM-DD" -> RFC 3339 at midnight UTC; anything else -> the epoch. */
static void rfc3339(const char *date, char *out, size_t cap)
{
    if (date && kb_date_valid(date))
        snprintf(out, cap, "%sT00:00:00Z", date);
    else
        snprintf(out, cap, "1970-01-01T00:00:00Z");
}

void kb_route_feed(struct kb_req *req, struct kb_resp *resp)
{
    struct kb_search_params p;
    struct kb_error err;
    struct kb_buf b;
    json_t *o = NULL;
    kb_search_params_init(&p);
    kb_error_clear(&err);
    kb_buf_init(&b, 8u << 20);
    if (kb_search_params_from_query(&p, req, &err)) {
        const char *code =
            err.code == KB_ETOOBIG ? "query_too_long" : "invalid_parameter";
        kb_resp_error(resp, kb_api_status(code, err.code, 0), code, "%s", err.msg);
        goto out;
    }
    if (!kb_req_arg(req, "size") && !kb_req_arg(req, "limit"))
        p.limit = 20;
    p.sort = KB_SORT_NEWEST;
    if (p.date_from <= 0)
        p.date_from = 1; /* a publication date is required (the date slot is set) */
    p.facets = 0;
    p.spelling = 0;
    p.members = kb_req_members(req); /* a feed reader with a members key sees them */
    struct kb_worker *w = kb_worker_get(req->srv, &err);
    if (!w) {
        kb_resp_error(resp, 503, "index_unavailable", "%s", err.msg);
        goto out;
    }
    if (kb_search_run(req->srv, w, &p, &o, &err)) {
        kb_resp_from_error(resp, &err);
        goto out;
    }
    kb_search_mark_partial(w, NULL, resp);       /* Atom has no field for it: a header */
    const char *base = req->srv->cfg.public_url; /* "" = relative links */
    json_t *hits = json_object_get(o, "hits");
    char updated[40];
    rfc3339(json_string_value(json_object_get(json_array_get(hits, 0), "date")), updated,
            sizeof updated);
    const char *q = p.q ? p.q : "";
    kb_buf_adds(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                    "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
                    "xmlns:kb=\"urn:powertrain-kb\">\n");
    struct kb_buf t;
    kb_buf_init(&t, 4096);
    kb_buf_printf(&t, "Powertrain KB: %s", *q ? q : "newest documents");
    element(&b, "  ", "title", kb_buf_str(&t));
    kb_buf_release(&t);
    kb_buf_printf(&b, "  <id>urn:powertrain-kb:feed:");
    xml_escape(&b, q);
    kb_buf_adds(&b, "</id>\n");
    element(&b, "  ", "updated", updated);
    kb_buf_printf(&b, "  <kb:revision>%lld</kb:revision>\n",
                  (long long)json_integer_value(json_object_get(o, "revision")));
    kb_buf_adds(
        &b,
        "  <author><name>powertrain-kb</name></author>\n  <link rel=\"self\" href=\"");
    xml_escape(&b, base);
    struct kb_buf self;
    kb_buf_init(&self, 8192);
    kb_url_path_encode(&self, req->url);
    xml_escape(&b, kb_buf_str(&self));
    kb_buf_release(&self);
    kb_buf_adds(&b, "\"/>\n");
    size_t i;
    json_t *h;
    json_array_foreach(hits, i, h)
    {
        const char *id = json_string_value(json_object_get(h, "id"));
        char when[40];
        rfc3339(json_string_value(json_object_get(h, "date")), when, sizeof when);
        kb_buf_adds(&b, "  <entry>\n");
        element(&b, "    ", "title", json_string_value(json_object_get(h, "title")));
        kb_buf_adds(&b, "    <id>urn:powertrain-kb:doc:");
        xml_escape(&b, id);
        kb_buf_adds(&b, "</id>\n");
        element(&b, "    ", "updated", when);
        kb_buf_adds(&b, "    <link href=\"");
        xml_escape(&b, base);
        xml_escape(&b, json_string_value(json_object_get(h, "url")));
        kb_buf_adds(&b, "\"/>\n");
        const char *org = json_string_value(json_object_get(h, "org"));
        if (org && *org) {
            kb_buf_adds(&b, "    <author><name>");
            xml_escape(&b, org);
            kb_buf_adds(&b, "</name></author>\n");
        }
        const char *lang = json_string_value(json_object_get(h, "lang"));
        if (lang) {
            kb_buf_adds(&b, "    <category term=\"");
            xml_escape(&b, lang);
            kb_buf_adds(&b, "\"/>\n");
        }
        const char *snip = json_string_value(json_object_get(h, "snippet"));
        if (snip && *snip) {
            kb_buf_adds(&b, "    <summary type=\"html\">");
            xml_escape(&b, snip);
            kb_buf_adds(&b, "</summary>\n");
        }
        kb_buf_adds(&b, "  </entry>\n");
    }
    if (kb_buf_adds(&b, "</feed>\n")) {
        kb_resp_error(resp, 500, "internal", "the feed is too large");
        goto out;
    }
    resp->body_len = b.len;
    resp->body = kb_buf_steal(&b);
    resp->ctype = "application/atom+xml; charset=utf-8";
    resp->status = 200;
out:
    json_decref(o);
    kb_buf_release(&b);
    kb_search_params_release(&p);
}
