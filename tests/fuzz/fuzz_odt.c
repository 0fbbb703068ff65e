/* SPDX-License-Identifier: MIT */
/* fuzz_odt.c - libFuzzer target for the odt reader (kb_read_document, KB_FMT_ODT). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_reader(KB_FMT_ODT, data, size);
}
