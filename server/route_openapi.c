/* SPDX-License-Identifier: MIT */
/*
 * route_openapi.c - GET /api/v1/openapi.json: the OpenAPI 3.1 description of this API,
 * served as is from the data directory (schemas/openapi.json, the single source of
 * truth that the case tests also validate responses against).
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_OPENAPI (4u << 20)

void kb_route_openapi(struct kb_req *req, struct kb_resp *resp)
{
    (void)req;
    char path[1200];
    FILE *f = NULL;
    char *buf = NULL;
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
