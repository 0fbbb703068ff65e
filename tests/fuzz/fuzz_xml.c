/* SPDX-License-Identifier: MIT */
/* fuzz_xml.c - libFuzzer target for the xml reader (kb_read_document, KB_FMT_XML). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_reader(KB_FMT_XML, data, size);
}
