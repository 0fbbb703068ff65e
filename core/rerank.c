/* SPDX-License-Identifier: MIT */
/*
 * rerank.c - the re-ranking passes after feedback (see rerank.h): the reader's language
 * lifted among near-equals, and the versions of a brief (translations) lifted next to
 * their best version. Each pass runs the query once or twice for scores and adds fixed
 * weights with OP_AND_MAYBE, so the match set and the totals never change.
 */
#include "rerank.h"

#include <stdlib.h>
#include <string.h>

#include "query_priv.h"

/* The error a NULL from a binding constructor left in err (out of memory when unset). */
static int code_of(struct xap_error *err)
{
    return err && err->code ? err->code : kb_query_nomem(err);
}

static void free_all(xap_query **q, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xap_query_free(q[i]);
}

/* `q` with documents indexing spec->boost_term lifted by boost_share of q's top score
 * (a fixed weight filtered by the term, AND_MAYBE: it only re-ranks q's matches). */
int kb_rerank_boost(xap_reader *r, const struct kb_query_spec *spec, xap_query **q,
                    struct xap_error *err)
{
    struct xap_enquire_opts o;
    struct xap_hit h;
    xap_result *top = NULL;
    xap_query *fixed = NULL, *bt = NULL, *lift = NULL, *out = NULL;
    kb_query_pass_opts(spec, &o);
    int rc = xap_enquire_run(r, *q, &o, 0, 1, &top, err);
    if (rc)
        return rc;
    double w = xap_result_size(top) && !xap_result_hit(top, 0, &h)
                   ? h.weight * spec->boost_share
                   : 0;
    xap_result_free(top);
    if (w <= 0)
        return XAP_OK;
    if (!(fixed = xap_query_fixed_weight(w, err)) ||
        !(bt = kb_query_term(spec->boost_term, err)) ||
        !(lift = xap_query_pair(XAP_OP_FILTER, fixed, bt, err)) ||
        !(out = xap_query_pair(XAP_OP_AND_MAYBE, *q, lift, err)))
        rc = code_of(err);
    xap_query_free(fixed);
    xap_query_free(bt);
    xap_query_free(lift);
    if (!rc) {
        xap_query_free(*q);
        *q = out;
    }
    return rc;
}

struct first_term {
    const char *prefix;
    size_t plen;
    char term[256];
};

static int take_first(const char *t, size_t len, unsigned wdf, void *ctx)
{
    struct first_term *f = ctx;
    (void)wdf;
    if (len > f->plen && len < sizeof f->term && !memcmp(t, f->prefix, f->plen)) {
        memcpy(f->term, t, len);
        f->term[len] = '\0';
    }
    return 1; /* only the first */
}

/* The first term of document `did` under `prefix` (and longer than it) into f->term, or
 * "". */
static int first_term(xap_reader *r, unsigned did, const char *prefix,
                      struct first_term *f, struct xap_error *err)
{
    f->prefix = prefix;
    f->plen = strlen(prefix);
    f->term[0] = '\0';
    int rc = xap_reader_for_each_doc_term(r, did, prefix, take_first, f, err);
    return rc == 1 ? XAP_OK : rc;
}

static int any_term(const char *t, size_t len, unsigned freq, void *ctx)
{
    (void)t, (void)len, (void)freq;
    *(int *)ctx = 1;
    return 1;
}

struct leader {
    char group[256];
    unsigned did;
    double score;
    size_t lifted;
};

/* `q` with the versions of the top documents' groups lifted next to them (see
 * kb_query_spec.group_prefix): the best document of each group among the top
 * group_docs is its leader; every other version that `q` matches gains a fixed weight
 * that closes group_share of the gap between its score and the leader's, less a hair per
 * version so that, at share 1, the versions follow their leader in their own order. The
 * leaders keep their scores, so a document gains nothing for having translations. */
int kb_rerank_groups(xap_reader *r, const struct kb_query_spec *spec, xap_query **q,
                     struct xap_error *err)
{
    const char *prefix = spec->group_prefix;
    int any = 0;
    int rc = xap_reader_for_each_term(r, prefix, strlen(prefix), 1, any_term, &any, err);
    if (rc < 0 || !any)
        return rc < 0 ? rc : XAP_OK; /* no document declares its versions: no pass */
    struct xap_enquire_opts o;
    kb_query_pass_opts(spec, &o);
    xap_result *top = NULL, *versions = NULL;
    struct leader *leaders = NULL;
    xap_query **groups = NULL, **lifts = NULL;
    xap_query *in_groups = NULL, *filtered = NULL, *all_lifts = NULL, *out = NULL;
    size_t n_lead = 0, n_lifts = 0;
    struct first_term ft;
    rc =
        xap_enquire_run(r, *q, &o, 0, spec->group_docs ? spec->group_docs : 3, &top, err);
    if (rc)
        goto out;
    size_t n_top = xap_result_size(top);
    leaders = calloc(n_top + 1, sizeof *leaders);
    groups = calloc(n_top + 1, sizeof *groups);
    if (!leaders || !groups) {
        rc = kb_query_nomem(err);
        goto out;
    }
    for (size_t i = 0; i < n_top; i++) {
        struct xap_hit h;
        xap_result_hit(top, i, &h);
        if ((rc = first_term(r, h.docid, prefix, &ft, err)))
            goto out;
        if (!ft.term[0] || h.weight <= 0)
            continue;
        size_t k = 0;
        while (k < n_lead && strcmp(leaders[k].group, ft.term))
            k++;
        if (k < n_lead)
            continue;
        memcpy(leaders[n_lead].group, ft.term, sizeof ft.term);
        leaders[n_lead].did = h.docid;
        leaders[n_lead].score = h.weight;
        if (!(groups[n_lead] = kb_query_term(ft.term, err))) {
            rc = code_of(err);
            goto out;
        }
        n_lead++;
    }
    if (!n_lead)
        goto out;
    /* the versions that q matches, best first, with their own scores */
    if (!(in_groups = xap_query_combine(XAP_OP_OR, groups, n_lead, 0, err)) ||
        !(filtered = xap_query_pair(XAP_OP_FILTER, *q, in_groups, err))) {
        rc = code_of(err);
        goto out;
    }
    if ((rc = xap_enquire_run(r, filtered, &o, 0, 100, &versions, err)))
        goto out;
    size_t n_v = xap_result_size(versions);
    if (!(lifts = calloc(n_v + 1, sizeof *lifts))) {
        rc = kb_query_nomem(err);
        goto out;
    }
    for (size_t i = 0; i < n_v; i++) {
        struct xap_hit h;
        xap_result_hit(versions, i, &h);
        if ((rc = first_term(r, h.docid, prefix, &ft, err)))
            goto out;
        size_t k = 0;
        while (k < n_lead && strcmp(leaders[k].group, ft.term))
            k++;
        if (k == n_lead || leaders[k].did == h.docid)
            continue;
        struct leader *lead = &leaders[k];
        double gap = lead->score - h.weight;
        double w =
            spec->group_share * gap - lead->score * 1e-6 * (double)(++lead->lifted);
        if ((rc = first_term(r, h.docid, spec->uid_prefix, &ft, err)))
            goto out;
        if (w <= 0 || !ft.term[0])
            continue;
        xap_query *fixed = xap_query_fixed_weight(w, err);
        xap_query *uid = fixed ? kb_query_term(ft.term, err) : NULL;
        lifts[n_lifts] = uid ? xap_query_pair(XAP_OP_FILTER, fixed, uid, err) : NULL;
        xap_query_free(fixed);
        xap_query_free(uid);
        if (!lifts[n_lifts]) {
            rc = code_of(err);
            goto out;
        }
        n_lifts++;
    }
    if (!n_lifts)
        goto out;
    if (!(all_lifts = xap_query_combine(XAP_OP_OR, lifts, n_lifts, 0, err)) ||
        !(out = xap_query_pair(XAP_OP_AND_MAYBE, *q, all_lifts, err))) {
        rc = code_of(err);
        goto out;
    }
    xap_query_free(*q);
    *q = out;
out:
    if (groups)
        free_all(groups, n_lead);
    if (lifts)
        free_all(lifts, n_lifts);
    free(groups);
    free(lifts);
    free(leaders);
    xap_query_free(in_groups);
    xap_query_free(filtered);
    xap_query_free(all_lifts);
    xap_result_free(top);
    xap_result_free(versions);
    return rc;
}
