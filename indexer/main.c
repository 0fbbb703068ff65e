/* SPDX-License-Identifier: MIT */
/*
 * main.c - kb-indexer: the command line over crawl.c. Parses flags over the configuration
 * (file, environment, flags), runs one indexing pass and prints a summary (text, or JSON
 * with --json). Exit codes are those of enum kb_exit in crawl.h.
 */
#include "config.h"
#include "crawl.h"
#include "snapshot.h"
#include "kb_indexer_help.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The text is generated from docs/man/kb-indexer.toml, like the man page. */
static void usage(FILE *f)
{
    fputs(kb_indexer_help, f);
}

/* --snapshot=DIR: snapshot.c does the work; this prints the outcome. */
static int run_snapshot(const struct kb_config *c, const char *dir, int json)
{
    struct kb_snapshot_report rep;
    struct kb_error err;
    kb_error_clear(&err);
    int code = kb_snapshot(c->index, dir, &rep, &err);
    if (code != KB_EXIT_OK)
        fprintf(stderr, "kb-indexer: snapshot: %s\n", err.msg);
    if (json) {
        json_t *j = code ? json_pack("{s:i, s:s}", "exit", code, "message", err.msg)
                         : json_pack("{s:i, s:s, s:s, s:I, s:I, s:I, s:I, s:f}", "exit",
                                     0, "snapshot", dir, "source", rep.src_db, "revision",
                                     (json_int_t)rep.src_revision, "documents",
                                     (json_int_t)rep.docs, "api_documents",
                                     (json_int_t)rep.api_docs, "api_seq",
                                     (json_int_t)rep.api_seq, "seconds", rep.seconds);
        if (j)
            json_dumpf(j, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(j);
    } else if (code == KB_EXIT_OK) {
        printf(
            "snapshot %s: %u documents (%zu written through the API, up to write %llu) "
            "from %s revision %lu, checked by xapian-check, in %.2f s\n",
            dir, rep.docs, rep.api_docs, rep.api_seq, rep.src_db, rep.src_revision,
            rep.seconds);
    }
    return code;
}

int main(int argc, char **argv)
{
    struct kb_config c;
    struct kb_run_opts o;
    struct kb_error err;
    int json = 0, quiet = 0;
    const char *snapshot = NULL;
    kb_config_defaults(&c);
    memset(&o, 0, sizeof o);
    kb_error_clear(&err);

    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--config=", 9) == 0 &&
            kb_config_load_file(&c, argv[i] + 9, &err)) {
            fprintf(stderr, "kb-indexer: %s\n", err.msg);
            return KB_EXIT_USAGE;
        }
    if (kb_config_load_env(&c, &err)) {
        fprintf(stderr, "kb-indexer: %s\n", err.msg);
        return KB_EXIT_USAGE;
    }
    size_t n_sources_cfg = c.n_sources;
    int cli_sources = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return KB_EXIT_OK;
        } else if (!strcmp(a, "--version")) {
            printf("kb-indexer %s\n", KB_VERSION);
            return KB_EXIT_OK;
        } else if (!strcmp(a, "--full")) {
            o.full = 1;
        } else if (!strcmp(a, "--no-delete")) {
            o.no_delete = 1;
        } else if (!strcmp(a, "--force-delete")) {
            o.force_delete = 1;
        } else if (!strcmp(a, "--retry-failed")) {
            o.retry_failed = 1;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o.verbose = 1;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
        } else if (!strncmp(a, "--snapshot=", 11)) {
            snapshot = a + 11;
        } else if (!strncmp(a, "--config=", 9)) {
            continue;
        } else if (!strncmp(a, "--", 2) && strchr(a, '=')) {
            char key[64];
            size_t n = (size_t)(strchr(a, '=') - a - 2);
            if (n >= sizeof key) {
                fprintf(stderr, "kb-indexer: unknown option '%s'\n", a);
                return KB_EXIT_USAGE;
            }
            for (size_t k = 0; k < n; k++)
                key[k] = a[2 + k] == '-' ? '_' : a[2 + k];
            key[n] = '\0';
            if (kb_config_set(&c, key, strchr(a, '=') + 1, &err)) {
                fprintf(stderr, "kb-indexer: %s\n", err.msg);
                return KB_EXIT_USAGE;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "kb-indexer: unknown option '%s' (see --help)\n", a);
            return KB_EXIT_USAGE;
        } else {
            if (!cli_sources) {
                c.n_sources = n_sources_cfg = 0; /* sources on the command line replace */
                cli_sources = 1;
            }
            if (kb_config_set(&c, "source", a, &err)) {
                fprintf(stderr, "kb-indexer: %s\n", err.msg);
                return KB_EXIT_USAGE;
            }
        }
    }
    if (snapshot)
        return run_snapshot(&c, snapshot, json);
    if (c.n_sources == 0)
        kb_config_set(&c, "source", "corpus", &err);
    o.progress = !quiet && isatty(STDERR_FILENO);
    /* Over a file size limit (RLIMIT_FSIZE) a write must fail with EFBIG, which we
     * report as "disk full" with exit 4, instead of SIGXFSZ killing us mid-run. */
    signal(SIGXFSZ, SIG_IGN);
    setenv("XAPIAN_FLUSH_THRESHOLD", "1000", 0);
    if (c.flush_threshold) {
        char v[32];
        snprintf(v, sizeof v, "%zu", c.flush_threshold);
        setenv("XAPIAN_FLUSH_THRESHOLD", v, 1);
    }

    if (c.max_changesets) { /* replication: changesets instead of full copies */
        char v[32];
        snprintf(v, sizeof v, "%zu", c.max_changesets);
        setenv("XAPIAN_MAX_CHANGESETS", v, 1);
    }

    struct kb_run_report *rep = calloc(1, sizeof *rep);
    if (!rep) {
        fprintf(stderr, "kb-indexer: out of memory\n");
        return KB_EXIT_FATAL;
    }
    int code = kb_index_run(&c, &o, rep, &err);
    if (code == KB_EXIT_LOCKED || code == KB_EXIT_FATAL || code == KB_EXIT_USAGE) {
        fprintf(stderr, "kb-indexer: %s\n", err.msg);
        if (code == KB_EXIT_FATAL)
            fprintf(stderr,
                    "kb-indexer: nothing was committed; the index is as it was\n");
        if (json) { /* a machine-readable line for the scheduler's log too */
            json_t *j = json_pack("{s:i, s:s, s:o?}", "exit", code, "error",
                                  kb_status_name(err.code), "message",
                                  json_string(err.msg)); /* o?: null when not UTF-8 */
            if (j)
                json_dumpf(j, stdout, JSON_COMPACT);
            fputc('\n', stdout);
            json_decref(j);
        }
    } else if (json) {
        json_t *j = kb_run_report_json(rep);
        json_dumpf(j, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(j);
    } else {
        printf(
            "indexed %s: %zu added, %zu updated, %zu deleted, %zu unchanged, %zu failed "
            "(%zu skipped as failed before) in %.2f s; %u documents, revision %lu\n",
            c.index, rep->added, rep->updated, rep->deleted, rep->unchanged, rep->failed,
            rep->skipped_failed, rep->seconds, rep->docs, rep->revision);
        for (size_t i = 0; i < rep->n_failures; i++)
            printf("  failed %s: %s\n", rep->failures[i].path, rep->failures[i].reason);
    }
    free(rep);
    return code;
}
