/* SPDX-License-Identifier: MIT */
/* fuzz_markdown.c - libFuzzer target for the markdown reader (kb_read_document,
 * KB_FMT_MARKDOWN). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_reader(KB_FMT_MARKDOWN, data, size);
}
