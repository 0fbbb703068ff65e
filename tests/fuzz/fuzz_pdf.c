/* SPDX-License-Identifier: MIT */
/* fuzz_pdf.c - libFuzzer target for the pdf reader (kb_read_document, KB_FMT_PDF). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_reader(KB_FMT_PDF, data, size);
}
