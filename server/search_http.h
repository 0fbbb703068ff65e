/* SPDX-License-Identifier: MIT */
/*
 * search_http.h - the HTTP side of searching (search.c): the parameters of a search
 * (from a query string or a JSON body) into the plain request of core/search.h, checked
 * against the configured limits, and the engine's results rendered as the response JSON.
 * The HTTP route and the Atom feed go through kb_search_run; suggest and similar
 * documents render their hits with kb_search_hit_json.
 */
#ifndef KB_SEARCH_HTTP_H
#define KB_SEARCH_HTTP_H

#include "search.h"
#include "server.h"

/* From the request's query string (GET). 400-class errors name the parameter. */
int kb_search_params_from_query(struct kb_search_params *p, const struct kb_req *req,
                                struct kb_error *err);
/* From n decoded key/value pairs (kv[2i], kv[2i+1]; a value may be NULL), exactly as
 * kb_search_params_from_query takes them from libmicrohttpd: the fuzz target's door. */
int kb_search_params_from_pairs(struct kb_search_params *p, const char *const *kv,
                                size_t n, const struct kb_config *cfg,
                                struct kb_error *err);
/* From a JSON object (POST), same names and rules. */
int kb_search_params_from_json(struct kb_search_params *p, const json_t *o,
                               const struct kb_config *cfg, struct kb_error *err);

/* Runs the search on the worker's searcher (kb_search_exec); *out is the response
 * object (new reference). */
/* Shards left out of this worker's last answer (partial_results): adds "partial": true
 * and "missing_shards" to o (NULL: none) and their names to resp's X-KB-Missing-Shards
 * header (NULL: none). Returns their number (0: the answer is whole). */
size_t kb_search_mark_partial(struct kb_worker *w, json_t *o, struct kb_resp *resp);
int kb_search_run(struct kb_server *srv, struct kb_worker *w,
                  const struct kb_search_params *p, json_t **out, struct kb_error *err);

/* A hit as JSON (new reference), without score or snippet, from a document's stored
 * metadata (borrowed; NULL: an empty object). */
json_t *kb_search_hit_json(const json_t *meta);

#endif
