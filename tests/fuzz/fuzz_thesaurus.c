/* SPDX-License-Identifier: MIT */
/*
 * fuzz_thesaurus.c - libFuzzer target for the thesaurus file (schemas/thesaurus.json, or
 * a site's own through data_dir). The input is written to an in-memory file (memfd) and
 * loaded by kb_thesaurus_load, the function the programs call. Properties: a failure
 * has a message; a success answers every accessor for every concept and topic, and
 * matching a fixed text (normalised as the indexer does, in both acronym modes) and the
 * input itself stays within the concept count, with no crash, hang or leak (broader
 * chains may loop: matching must still end).
 */
#define _GNU_SOURCE
#include "buf.h"
#include "fuzz.h"
#include "text.h"
#include "thesaurus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void match(const struct kb_thesaurus *t, const char *text, size_t len)
{
    size_t n = kb_thesaurus_concepts(t);
    unsigned *counts = calloc(n + 1, sizeof *counts);
    struct kb_buf norm;
    kb_buf_init(&norm, 1u << 20);
    if (counts && kb_text_normalize(text, len, 0, &norm) == KB_OK)
        for (int any = 0; any < 2; any++)
            kb_thesaurus_match(t, kb_buf_str(&norm), norm.len, text, len, any, counts);
    kb_buf_release(&norm);
    free(counts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1u << 20)
        return 0;
    int fd = memfd_create("thesaurus", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct kb_error err;
    kb_error_clear(&err);
    struct kb_thesaurus *t = kb_thesaurus_load(path, &err);
    close(fd);
    if (!t) {
        if (!err.msg[0])
            abort();
        return 0;
    }
    for (size_t i = 0; i < kb_thesaurus_concepts(t); i++) {
        const char *id = kb_thesaurus_concept_id(t, i), *topics[8];
        if (!id || !kb_thesaurus_concept_label(t, i, "fr") ||
            kb_thesaurus_find(t, id) < 0)
            abort();
        if (kb_thesaurus_concept_topics(t, i, topics, 8) > 8)
            abort();
    }
    for (size_t i = 0; i < kb_thesaurus_topics(t); i++)
        if (!kb_thesaurus_topic_id(t, i))
            abort();
    static const char text[] =
        "Les piles à combustible PEMFC et l'hydrogène vert; celle a combustibile, "
        "fuel cell electric vehicles (FCEV), PHEV, BEV, e-fuels, SiC 800 V inverter.";
    match(t, text, sizeof text - 1);
    match(t, (const char *)data, size > 4096 ? 4096 : size);
    kb_thesaurus_free(t);
    return 0;
}
