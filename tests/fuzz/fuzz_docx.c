/* SPDX-License-Identifier: MIT */
/* fuzz_docx.c - libFuzzer target for the docx reader (kb_read_document, KB_FMT_DOCX). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_reader(KB_FMT_DOCX, data, size);
}
