/* SPDX-License-Identifier: MIT */
/* fuzz_html.c - libFuzzer target for the html reader (kb_read_document, KB_FMT_HTML). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_reader(KB_FMT_HTML, data, size);
}
