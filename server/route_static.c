/* SPDX-License-Identifier: MIT */
/*
 * route_static.c - the members' search page: GET / serves web/index.html and
 * GET /static/NAME serves web/NAME from cfg.web_dir (default: ../share/powertrain-kb/web
 * beside an installed program's bin/, else the source tree's server/web). Only one path
 * level, names not starting with '.', no "..", and known extensions are served, so
 * nothing outside the web directory can be reached. Files are read per request (the page
 * is small and this lets it be edited without a restart); the ETag is mtime-size and
 * Cache-Control is no-cache, so browsers revalidate instead of using a stale page.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef KB_WEB_DIR_DEFAULT
#define KB_WEB_DIR_DEFAULT "server/web"
#endif

#define MAX_STATIC_BYTES (16 << 20)

static char installed_web[1024];

static void find_installed_web(void)
{
    if (!kb_install_dir("share/powertrain-kb/web", installed_web, sizeof installed_web))
        installed_web[0] = '\0';
}

/* The web directory when web_dir is not set: the installed one, else the build default.
 */
static const char *default_web_dir(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, find_installed_web);
    return installed_web[0] ? installed_web : KB_WEB_DIR_DEFAULT;
}

/* Content type for a file name by extension; NULL for a type that is not served. */
static const char *ctype_of(const char *name)
{
    static const struct {
        const char *ext;
        const char *ctype;
    } tab[] = {{".html", "text/html; charset=utf-8"},
               {".css", "text/css; charset=utf-8"},
               {".js", "text/javascript; charset=utf-8"},
               {".mjs", "text/javascript; charset=utf-8"},
               {".json", "application/json"},
               {".svg", "image/svg+xml"},
               {".png", "image/png"},
               {".ico", "image/x-icon"},
               {".webmanifest", "application/manifest+json"},
               {".txt", "text/plain; charset=utf-8"}};
    const char *dot = strrchr(name, '.');
    if (!dot)
        return NULL;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(dot, tab[i].ext))
            return tab[i].ctype;
    return NULL;
}

void kb_route_static(struct kb_req *req, struct kb_resp *resp)
{
    FILE *f = NULL;
    char *buf = NULL;
    const char *name;
    if (!strcmp(req->url, "/"))
        name = "index.html";
    else
        name = req->url + strlen("/static/");
    const char *ctype = ctype_of(name);
    if (!ctype || strstr(name, "..") || strchr(name, '/') || name[0] == '.') {
        kb_resp_error(resp, 404, "not_found", "no such file '%s'", req->url);
        goto out;
    }
    const char *dir =
        req->srv->cfg.web_dir[0] ? req->srv->cfg.web_dir : default_web_dir();
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) ||
        st.st_size > MAX_STATIC_BYTES) {
        kb_resp_error(resp, 404, "not_found", "no such file '%s'", req->url);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        kb_resp_error(resp, 503, "out_of_memory", "out of memory");
        goto out;
    }
    size_t n = fread(buf, 1, (size_t)st.st_size, f);
    if (n != (size_t)st.st_size) {
        kb_resp_error(resp, 500, "read_failed", "cannot read '%s'", req->url);
        goto out;
    }
    resp->body = buf;
    buf = NULL;
    resp->body_len = n;
    resp->ctype = ctype;
    resp->status = 200;
    snprintf(resp->etag, sizeof resp->etag, "\"%lx-%lx\"", (unsigned long)st.st_mtime,
             (unsigned long)st.st_size);
    snprintf(resp->cache, sizeof resp->cache, "no-cache");
out:
    free(buf);
    if (f)
        fclose(f);
}
