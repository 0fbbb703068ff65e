/* SPDX-License-Identifier: MIT */
/* fuzz_text.c - libFuzzer target for the text reader (kb_read_document, KB_FMT_TEXT). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_reader(KB_FMT_TEXT, data, size);
}
