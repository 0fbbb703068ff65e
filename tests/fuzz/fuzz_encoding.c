/* SPDX-License-Identifier: MIT */
/* fuzz_encoding.c - libFuzzer target for kb_to_utf8: the output is valid UTF-8 without
 * control characters, within the cap, and its length is what the function says; the
 * first input byte picks a small cap half of the time, to exercise the cut. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *out = NULL;
    size_t len = 0;
    struct kb_error err;
    size_t max = size > 0 && (data[0] & 1) ? data[0] / 2 : size * 4 + 16;
    kb_error_clear(&err);
    if (kb_to_utf8((const char *)data, size, max, &out, &len, &err) == 0) {
        if (!out || strlen(out) != len || len > max)
            abort();
        fuzz_utf8(out);
    }
    free(out);
    return 0;
}
