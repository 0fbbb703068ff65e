/* SPDX-License-Identifier: MIT */
/*
 * routes.h - the route table: which handler answers which method and path. The table
 * itself is in routes.c; each handler lives in its own route_*.c file.
 */
#ifndef KB_ROUTES_H
#define KB_ROUTES_H

#include "server.h"

/* On the request headers alone: finds the route for req (method + path), applies the
 * rate limit and the key check, and refuses a body the route does not take or one
 * declared over its limit. Returns 1 when resp holds the answer to send now (404, 405,
 * 429, 401, 403, 413, or 204 for OPTIONS), else 0 with req->route set and *cap the
 * route's body limit (0: no body). */
int kb_route_begin(struct kb_req *req, struct kb_resp *resp, size_t *cap);
/* Runs the handler of the route kb_route_begin chose. */
void kb_route_run(struct kb_req *req, struct kb_resp *resp);
/* Name of route i for metrics ("search", "healthz", ...); NULL past the end. */
const char *kb_route_name(int i);

#endif
