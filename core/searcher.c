/* SPDX-License-Identifier: MIT */
/*
 * searcher.c - see searcher.h. The database is the one the index location means now
 * (kb_index_current_db: the stub's generation, else the location itself); a refresh
 * that finds the location meaning another database opens that one.
 */
#include "searcher.h"
#include "index.h"
#include "xerror.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int kb_searcher_init(struct kb_searcher *s, const struct kb_config *cfg,
                     const struct kb_resources *res, struct kb_error *err)
{
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    s->res = res;
    if (kb_analysis_init(&s->an, res, err))
        return err ? err->code : KB_EINDEX;
    s->an_ready = 1;
    return KB_OK;
}

void kb_searcher_release(struct kb_searcher *s)
{
    if (!s)
        return;
    xap_reader_close(s->reader);
    s->reader = NULL;
    if (s->an_ready)
        kb_analysis_release(&s->an);
    s->an_ready = 0;
}

/* The database the location means now into buf, and its identity; the location itself
 * when the layout does not say (a database Xapian finds on its own, or none yet: the
 * open fails). */
static void current_db(const struct kb_searcher *s, char *buf, size_t cap,
                       unsigned long long id[6])
{
    struct stat st;
    char stub[1200];
    if (kb_index_current_db(s->cfg->index, buf, cap) < 0)
        snprintf(buf, cap, "%s", s->cfg->index);
    memset(id, 0, 6 * sizeof *id);
    if (stat(buf, &st) == 0) {
        id[0] = (unsigned long long)st.st_dev;
        id[1] = (unsigned long long)st.st_ino;
    }
    kb_index_stub_path(s->cfg->index, stub, sizeof stub);
    if (stat(stub, &st) == 0) {
        id[2] = (unsigned long long)st.st_ino;
        id[3] = (unsigned long long)st.st_mtim.tv_sec;
        id[4] = (unsigned long long)st.st_mtim.tv_nsec;
        id[5] = (unsigned long long)st.st_size;
    }
}

static int open_reader(struct kb_searcher *s, struct kb_error *err)
{
    struct xap_error xe = {0};
    xap_reader *r = NULL;
    char db[sizeof s->db];
    unsigned long long id[6];
    current_db(s, db, sizeof db, id);
    if (xap_reader_open(db, &r, &xe))
        return kb_error_set(err, KB_EBUSY, "the index '%s' cannot be opened: %s",
                            s->cfg->index, xe.msg);
    for (int l = 0; l < KB_LANG_COUNT; l++)
        xap_reader_add_lang(r, kb_lang_code(l), s->an.an[l], &xe);
    xap_reader_set_word_fn(r, kb_analysis_word_fn);
    xap_reader_close(s->reader);
    s->reader = r;
    memcpy(s->db, db, sizeof db);
    memcpy(s->db_id, id, sizeof id);
    s->epoch++;
    return KB_OK;
}

int kb_searcher_refresh(struct kb_searcher *s, struct kb_error *err)
{
    if (!s->reader) {
        if (open_reader(s, err))
            return err ? err->code : KB_EBUSY;
        kb_searcher_revision(s);
        return KB_OK;
    }
    struct xap_error xe = {0};
    int changed = 0;
    char db[sizeof s->db];
    unsigned long long id[6];
    current_db(s, db, sizeof db, id);
    struct kb_error e2;
    kb_error_clear(&e2);
    if (strcmp(db, s->db) != 0 || memcmp(id, s->db_id, sizeof id) != 0) {
        /* a new generation, or an index rebuilt in place; else keep serving the old one
         */
        open_reader(s, &e2);
    } else if (xap_reader_refresh(s->reader, &changed, &xe)) {
        /* the database went away or moved: open afresh, else keep serving the old one */
        open_reader(s, &e2);
    } else if (changed) {
        s->epoch++; /* a new revision or generation: cached answers are stale */
    }
    kb_searcher_revision(s);
    return KB_OK;
}

unsigned long kb_searcher_revision(struct kb_searcher *s)
{
    struct xap_error xe = {0};
    unsigned long rev = 0;
    char *base = NULL;
    if (!s || !s->reader)
        return 0;
    xap_reader_revision(s->reader, &rev, &xe);
    if (xap_reader_get_meta(s->reader, KB_META_REV_BASE, &base, NULL, &xe) == XAP_OK)
        rev += strtoul(base, NULL, 10);
    free(base);
    s->rev = rev;
    return rev;
}

int kb_searcher_recover(struct kb_searcher *s, int xap_code)
{
    struct xap_error xe = {0};
    struct kb_error e;
    kb_error_clear(&e);
    switch (xap_code) {
    case XAP_E_DB_MODIFIED:
        s->epoch++;
        return xap_reader_refresh(s->reader, NULL, &xe) == XAP_OK ||
               open_reader(s, &e) == KB_OK;
    case XAP_E_DB_NOT_FOUND:
    case XAP_E_DB_CLOSED:
    case XAP_E_DB_OPENING:
    case XAP_E_NETWORK:
    case XAP_E_DB_CORRUPT:
        return open_reader(s, &e) == KB_OK;
    default:
        return 0;
    }
}

int kb_searcher_error(const struct kb_searcher *s, const struct xap_error *xe,
                      struct kb_error *err)
{
    (void)s;
    return kb_xerror_set(err, xe->code, xe, KB_XERR_READ, NULL);
}

char *kb_searcher_meta(struct kb_searcher *s, const char *key, size_t *len)
{
    struct xap_error xe = {0};
    char *v = NULL;
    if (!s->reader || xap_reader_get_meta(s->reader, key, &v, len, &xe) != XAP_OK) {
        free(v);
        return NULL;
    }
    return v;
}
