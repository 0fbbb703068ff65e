/* SPDX-License-Identifier: MIT */
/* version.h - the program version. */
#ifndef KB_VERSION_H
#define KB_VERSION_H
const char *kb_version(void);
#endif
