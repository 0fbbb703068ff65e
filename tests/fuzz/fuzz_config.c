/* SPDX-License-Identifier: MIT */
/*
 * fuzz_config.c - libFuzzer target for the configuration file (`key = value` lines, read
 * by both programs at start). The input is written to an in-memory file (memfd) and
 * loaded over the defaults by kb_config_load_file. Properties: a failure has a message
 * naming the line; a success leaves every setting within its documented range and
 * every text setting NUL-terminated inside its buffer.
 */
#define _GNU_SOURCE
#include "config.h"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void check_str(const char *s, size_t cap)
{
    if (strnlen(s, cap) >= cap)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1u << 20)
        return 0;
    int fd = memfd_create("config", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct kb_config c;
    struct kb_error err;
    kb_config_defaults(&c);
    kb_error_clear(&err);
    int rc = kb_config_load_file(&c, path, &err);
    close(fd);
    if (rc) {
        if (rc > 0 || !strstr(err.msg, " line "))
            abort();
        return 0;
    }
    check_str(c.index, sizeof c.index);
    check_str(c.data_dir, sizeof c.data_dir);
    check_str(c.web_dir, sizeof c.web_dir);
    check_str(c.keys_file, sizeof c.keys_file);
    check_str(c.access_log, sizeof c.access_log);
    check_str(c.bind, sizeof c.bind);
    if (c.n_sources > KB_CONFIG_MAX_SOURCES)
        abort();
    for (size_t i = 0; i < c.n_sources; i++)
        check_str(c.sources[i], sizeof c.sources[i]);
    if (c.port > 65535 || c.max_page_size < 1 || c.feedback_terms < 1 ||
        c.feedback_terms > 1000 || c.bm25_b < 0.01 || c.bm25_b > 1 || c.bm25_k1 < 0.01 ||
        c.bm25_k1 > 10 || c.bb2_c < 0.01 || c.bb2_c > 100 || c.query_seconds < 0.001 ||
        c.file_seconds < 0.001 || c.feedback_max_df < 0.01 || c.feedback_max_df > 1 ||
        (c.ranking != KB_RANK_BM25 && c.ranking != KB_RANK_BB2))
        abort();
    return 0;
}
