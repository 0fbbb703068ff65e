/* SPDX-License-Identifier: MIT */
/*
 * main.c - kb-indexer: the command line over crawl.c. Parses flags over the configuration
 * (file, environment, flags), runs one indexing pass and prints a summary (text, or JSON
 * with --json). Exit codes are those of enum kb_exit in crawl.h.
 */
#include "config.h"
#include "crawl.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: kb-indexer [options] [SOURCE...]\n"
        "Indexes the reports in SOURCE folders (default: corpus) into the index.\n"
        "  --index=DIR        index location (default var/index; env KB_INDEX)\n"
        "  --config=FILE      read settings from FILE (key = value lines)\n"
        "  --full             rebuild into a new generation, compact, switch atomically\n"
        "  --no-delete        keep documents whose files were removed\n"
        "  --force-delete     allow deleting every document of a missing/empty source\n"
        "  --retry-failed     retry files that failed before, even if unchanged\n"
        "  --json             print the run report as JSON on stdout\n"
        "  --verbose          one line per file on stderr\n"
        "  --quiet            no progress bar\n"
        "  --threads=N        analysis threads (default 0 = one per core; 1 = none, all\n"
        "                     on the main thread); a new generation is built with one\n"
        "                     shard per thread; the documents and terms are the same "
        "for\n"
        "                     any N\n"
        "  --KEY=VALUE        any setting (see README), e.g. --max-file-mb=16\n"
        "exit codes: 0 all indexed, 1 finished but some files failed, a folder could "
        "not\n"
        "be read or deletions were refused, 2 usage error, 3 another indexer holds the\n"
        "index, 4 fatal error with nothing committed\n");
}

int main(int argc, char **argv)
{
    struct kb_config c;
    struct kb_run_opts o;
    struct kb_error err;
    int json = 0, quiet = 0;
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
