/* SPDX-License-Identifier: MIT */
/*
 * route_files.c - GET /files/{id}: the original file of a document indexed from a source
 * folder, so that members can open the PDF or the report itself. The id must be a
 * document in the index AND a regular file inside one of the configured source folders
 * (resolved with realpath, so ".." or symbolic links cannot leave them). Files are
 * untrusted content: HTML, XML and Markdown are served as text/plain, office files as
 * downloads, and every answer carries "Content-Security-Policy: sandbox". The file of a
 * member-only document is 404 for a client without the members scope, as for a file
 * the index does not know.
 */
#include "format.h"
#include "search_http.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SERVED (256u << 20)

/* Content type and whether the file is offered as a download. */
static const char *file_ctype(enum kb_format f, int *download)
{
    *download = 0;
    switch (f) {
    case KB_FMT_PDF:
        return "application/pdf";
    case KB_FMT_DOCX:
        *download = 1;
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    case KB_FMT_ODT:
        *download = 1;
        return "application/vnd.oasis.opendocument.text";
    default:
        return "text/plain; charset=utf-8";
    }
}

/* realpath of source/id when it is a regular file inside source; else 0. */
static int resolve(const char *source, const char *id, char *out, size_t cap)
{
    char root[PATH_MAX], joined[PATH_MAX * 2], real[PATH_MAX];
    if (!realpath(source, root))
        return 0;
    if ((size_t)snprintf(joined, sizeof joined, "%s/%s", root, id) >= sizeof joined)
        return 0;
    if (!realpath(joined, real))
        return 0;
    size_t n = strlen(root);
    struct stat st;
    if (strncmp(real, root, n) != 0 || real[n] != '/' || stat(real, &st) != 0 ||
        !S_ISREG(st.st_mode) || strlen(real) >= cap)
        return 0;
    memcpy(out, real, strlen(real) + 1);
    return 1;
}

void kb_route_files(struct kb_req *req, struct kb_resp *resp)
{
    const char *id = req->url + strlen("/files/");
    struct kb_error err;
    kb_error_clear(&err);
    if (!*id || strlen(id) > 512 || strstr(id, "..") || id[0] == '/') {
        kb_resp_error(resp, 404, "not_found", "no file '%s'", id);
        return;
    }
    struct kb_worker *w = kb_worker_get(req->srv, &err);
    if (!w) {
        kb_resp_error(resp, 503, "index_unavailable", "%s", err.msg);
        return;
    }
    /* only documents the index knows: the folders are not browsable */
    int members = kb_req_members(req);
    int seen = kb_search_document_visible(&w->s, id, members);
    if (seen != 1) {
        kb_resp_error(resp, seen == 0 ? 404 : 503,
                      seen == 0 ? "not_found" : "index_unavailable",
                      "no document '%s' in the index", id);
        return;
    }
    const struct kb_config *c = &req->srv->cfg;
    char path[PATH_MAX];
    int found = 0;
    for (size_t i = 0; i < c->n_sources && !found; i++)
        found = resolve(c->sources[i], id, path, sizeof path);
    if (!c->n_sources)
        found = resolve("corpus", id, path, sizeof path);
    if (!found) {
        kb_resp_error(resp, 404, "not_found",
                      "'%s' has no original file in the source folders (written through "
                      "the API, or moved)",
                      id);
        return;
    }
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || (size_t)st.st_size > MAX_SERVED) {
        if (f)
            fclose(f);
        kb_resp_error(resp, 404, "not_found", "'%s' cannot be read", id);
        return;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!buf) {
        kb_resp_error(resp, 503, "out_of_memory", "out of memory");
        return;
    }
    int download = 0;
    resp->ctype = file_ctype(kb_format_from_name(id), &download);
    resp->body = buf;
    resp->body_len = n;
    resp->status = 200;
    resp->sandbox = 1;
    const char *base = strrchr(id, '/') ? strrchr(id, '/') + 1 : id;
    char safe[256];
    size_t k = 0;
    for (; *base && k + 1 < sizeof safe; base++)
        safe[k++] =
            (*base == '"' || *base == '\\' || (unsigned char)*base < 32) ? '_' : *base;
    safe[k] = '\0';
    snprintf(resp->disposition, sizeof resp->disposition, "%s; filename=\"%s\"",
             download ? "attachment" : "inline", safe);
    snprintf(resp->etag, sizeof resp->etag, "\"f%lx-%lx\"", (unsigned long)st.st_mtime,
             (unsigned long)st.st_size);
    if (members)
        snprintf(resp->cache, sizeof resp->cache, "private");
}
