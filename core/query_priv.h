/* SPDX-License-Identifier: MIT */
/*
 * query_priv.h - what query.c lends the other files of the query policy (feedback.c):
 * small helpers over the binding. Not for use outside core/query*.c and core/feedback.c.
 */
#ifndef KB_QUERY_PRIV_H
#define KB_QUERY_PRIV_H

#include "query.h"

/* Fills err with XAP_E_NOMEM (first error wins) and returns XAP_E_NOMEM. */
int kb_query_nomem(struct xap_error *err);
/* The query of one term (NUL-terminated), weight 1; NULL on failure. */
xap_query *kb_query_term(const char *term, struct xap_error *err);
/* The options of a re-ranking pass: the request's ranking model, document numbers and
 * weights only. */
void kb_query_pass_opts(const struct kb_query_spec *spec, struct xap_enquire_opts *o);
/* `q` inside the request's filters, ranges and exclusions, as a new query in *out. */
int kb_query_restrict(const struct kb_query_spec *spec, const xap_query *q,
                      xap_query **out, struct xap_error *err);

#endif
