/* SPDX-License-Identifier: MIT */
/* version.c - the version string both programs print. */
#include "version.h"

const char *kb_version(void)
{
    return "0.1.0";
}
