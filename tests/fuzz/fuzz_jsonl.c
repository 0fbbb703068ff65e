/* SPDX-License-Identifier: MIT */
/* fuzz_jsonl.c - libFuzzer target for kb_read_jsonl: documents must come out clean, with
 * an id; the count of bad lines must match the error callbacks. */
#include "fuzz.h"

struct counts {
    int docs, bad;
    struct kb_read_limits lim;
};

static int on_doc(struct kb_doc *d, size_t line, void *ctx)
{
    struct counts *c = ctx;
    if (line == 0 || !d->id || !*d->id)
        abort();
    fuzz_check_doc(d, &c->lim);
    c->docs++;
    return 0;
}

static void on_bad(size_t line, const char *reason, void *ctx)
{
    struct counts *c = ctx;
    if (line == 0 || !reason || !*reason)
        abort();
    c->bad++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct counts c = {0, 0, {0, 0, 0, 0}};
    fuzz_limits(&c.lim);
    int n = kb_read_jsonl((const char *)data, size, &c.lim, on_doc, on_bad, &c);
    if (n != c.bad)
        abort();
    return 0;
}
