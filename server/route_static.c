/* SPDX-License-Identifier: MIT */
/*
 * route_static.c - the members' search page: GET / serves web/index.html and
 * GET /static/NAME serves web/NAME (one level, known extensions only, no "..").
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef KB_WEB_DIR_DEFAULT
#define KB_WEB_DIR_DEFAULT "server/web"
#endif

static const char *ctype_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return NULL;
    if (!strcmp(dot, ".html"))
        return "text/html; charset=utf-8";
    if (!strcmp(dot, ".css"))
        return "text/css; charset=utf-8";
    if (!strcmp(dot, ".js"))
        return "text/javascript; charset=utf-8";
    if (!strcmp(dot, ".svg"))
        return "image/svg+xml";
    if (!strcmp(dot, ".json"))
        return "application/json";
    if (!strcmp(dot, ".png"))
        return "image/png";
    if (!strcmp(dot, ".ico"))
        return "image/x-icon";
    return NULL;
}

void kb_route_static(struct kb_req *req, struct kb_resp *resp)
{
    const char *name = !strcmp(req->url, "/") ? "index.html" : req->url + strlen("/static/");
    const char *ctype = ctype_of(name);
    if (!ctype || strstr(name, "..") || strchr(name, '/') || name[0] == '.') {
        kb_resp_error(resp, 404, "not_found", "no such file '%s'", req->url);
        return;
    }
    const char *dir = req->srv->cfg.web_dir[0] ? req->srv->cfg.web_dir : KB_WEB_DIR_DEFAULT;
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) < 0 || st.st_size > (16 << 20)) {
        if (f)
            fclose(f);
        kb_resp_error(resp, 404, "not_found", "no such file '%s'", req->url);
        return;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!buf) {
        kb_resp_error(resp, 503, "out_of_memory", "out of memory");
        return;
    }
    resp->body = buf;
    resp->body_len = n;
    resp->ctype = ctype;
    resp->status = 200;
    snprintf(resp->etag, sizeof resp->etag, "\"%lx-%lx\"", (unsigned long)st.st_mtime,
             (unsigned long)st.st_size);
    snprintf(resp->cache, sizeof resp->cache, "no-cache");
}
