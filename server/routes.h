/* SPDX-License-Identifier: MIT */
/*
 * routes.h - the route table: which handler answers which method and path. The table
 * itself is in routes.c; each handler lives in its own route_*.c file.
 */
#ifndef KB_ROUTES_H
#define KB_ROUTES_H

#include "server.h"

/* Finds the route for req (method + path) and runs it; 404 / 405 otherwise. */
void kb_route_dispatch(struct kb_req *req, struct kb_resp *resp);
/* Name of route i for metrics ("search", "healthz", ...); NULL past the end. */
const char *kb_route_name(int i);

#endif
