/* SPDX-License-Identifier: MIT */
/* version.c - the version string both programs print. */
#include "version.h"

#ifndef KB_VERSION
#define KB_VERSION "0.1.0"
#endif

/* KB_VERSION is the project's version in CMakeLists.txt (cmake/Docs.cmake). */
const char *kb_version(void)
{
    return KB_VERSION;
}
