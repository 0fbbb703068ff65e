/* SPDX-License-Identifier: MIT */
/*
 * fuzz_api_json.c - libFuzzer target for the JSON bodies clients send: a POST
 * /api/v1/search body (kb_search_params_from_json, within the configured limits) and a
 * PUT /api/v1/documents body (kb_doc_from_json, strict). Either is accepted or refused
 * with a message; accepted values respect the limits.
 */
#include "fuzz.h"
#include "search_http.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        return 0;
    struct kb_config cfg;
    kb_config_defaults(&cfg);
    struct kb_search_params p;
    struct kb_error e;
    kb_search_params_init(&p);
    kb_error_clear(&e);
    if (kb_search_params_from_json(&p, o, &cfg, &e) == KB_OK) {
        if (p.limit > cfg.max_page_size || p.offset > cfg.max_offset ||
            (p.q && strlen(p.q) > cfg.max_query_bytes) ||
            p.n_langs > KB_SEARCH_MAX_VALUES)
            abort();
    } else if (!e.msg[0]) {
        abort();
    }
    kb_search_params_release(&p);

    struct kb_doc d;
    kb_doc_init(&d);
    kb_error_clear(&e);
    if (kb_doc_from_json(&d, o, 1, &e) == KB_OK) {
        if (d.date && !kb_date_valid(d.date))
            abort();
        json_t *back = kb_doc_to_json(&d, 1);
        if (!back)
            abort();
        json_decref(back);
    } else if (!e.msg[0]) {
        abort();
    }
    kb_doc_release(&d);
    json_decref(o);
    return 0;
}
