/* SPDX-License-Identifier: MIT */
/*
 * rerank.h - re-ranking passes over a request's final query (kb_query_spec.boost_* and
 * group_*). Each replaces *q by a query that matches the same documents with some lifted,
 * or leaves it alone when there is nothing to lift. XAP_OK or a negative xap_code.
 */
#ifndef KB_RERANK_H
#define KB_RERANK_H

#include "query.h"

/* Documents indexing spec->boost_term gain boost_share of q's top score. */
int kb_rerank_boost(xap_reader *r, const struct kb_query_spec *spec, xap_query **q,
                    struct xap_error *err);
/* Every version (a document sharing a group_prefix term) of the best documents among the
 * top group_docs rises by group_share of the gap to its group's leader. */
int kb_rerank_groups(xap_reader *r, const struct kb_query_spec *spec, xap_query **q,
                     struct xap_error *err);

#endif
