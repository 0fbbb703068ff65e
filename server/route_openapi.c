/* SPDX-License-Identifier: MIT */
/*
 * route_openapi.c - GET /api/v1/openapi.json: the OpenAPI 3.1 description of this API,
 * served as is from the data directory (schemas/openapi.json, the single source of
 * truth that the case tests also validate responses against). Its "$ref"s name
 * "api/NAME.schema.json", which a client resolves against the description's own URL:
 * GET /api/v1/api/NAME.schema.json serves schemas/api/NAME.schema.json, without its
 * "$id" (an example domain, which would send a tool resolving the schema's own "$ref"s
 * elsewhere), so that Swagger-style tools load the whole description from this server.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPENAPI (4u << 20)
#define SCHEMAS     "/api/v1/api/"

/* A schema name: [a-z0-9-]+.schema.json, nothing else. */
static int schema_name_ok(const char *name)
{
    size_t n = strlen(name), suffix = strlen(".schema.json");
    if (n <= suffix || n > 64 || strcmp(name + n - suffix, ".schema.json") != 0)
        return 0;
    for (size_t i = 0; i < n - suffix; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '-'))
            return 0;
    return 1;
}

/* One JSON Schema of schemas/api, its "$id" removed. */
static void serve_schema(struct kb_req *req, struct kb_resp *resp)
{
    const char *name = req->url + strlen(SCHEMAS);
    char rel[128], path[1200];
    if (!schema_name_ok(name)) {
        kb_resp_error(resp, 404, "not_found", "no schema '%s'", name);
        return;
    }
    snprintf(rel, sizeof rel, "api/%s", name);
    json_error_t je;
    json_t *s =
        kb_data_path(rel, path, sizeof path) ? json_load_file(path, 0, &je) : NULL;
    if (!s) {
        kb_resp_error(resp, 404, "not_found", "no schema '%s'", name);
        return;
    }
    json_object_del(s, "$id");
    resp->json = s;
    snprintf(resp->cache, sizeof resp->cache, "public, max-age=300");
    resp->status = 200;
}

void kb_route_openapi(struct kb_req *req, struct kb_resp *resp)
{
    char path[1200];
    FILE *f = NULL;
    char *buf = NULL;
    if (!strncmp(req->url, SCHEMAS, strlen(SCHEMAS))) {
        serve_schema(req, resp);
        return;
    }
    if (!kb_data_path("openapi.json", path, sizeof path) || !(f = fopen(path, "rb"))) {
        kb_resp_error(resp, 404, "not_found", "the OpenAPI description is not installed");
        goto out;
    }
    buf = malloc(MAX_OPENAPI);
    size_t n = buf ? fread(buf, 1, MAX_OPENAPI, f) : 0;
    if (!buf || ferror(f) || n == MAX_OPENAPI) {
        kb_resp_error(resp, 500, "internal", "cannot read '%s'", path);
        goto out;
    }
    resp->body = buf;
    resp->body_len = n;
    resp->ctype = "application/json; charset=utf-8";
    snprintf(resp->cache, sizeof resp->cache, "public, max-age=300");
    resp->status = 200;
    buf = NULL;
out:
    free(buf);
    if (f)
        fclose(f);
}
