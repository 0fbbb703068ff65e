/* SPDX-License-Identifier: MIT */
/*
 * feedback.h - pseudo-relevance feedback: a query re-weighted by a relevance model of the
 * top documents of a first pass (see kb_query_spec.feedback_*).
 */
#ifndef KB_FEEDBACK_H
#define KB_FEEDBACK_H

#include "query.h"

/* Replaces *q (the parsed query, before filters) by *q AND_MAYBE the weighted model
 * terms, and sets *expanded to 1; leaves *q alone (and *expanded 0) when the first pass
 * finds nothing or no term qualifies. XAP_OK or a negative xap_code. */
int kb_feedback_expand(xap_reader *r, const struct kb_query_spec *spec, xap_query **q,
                       int *expanded, struct xap_error *err);

#endif
