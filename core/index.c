/* SPDX-License-Identifier: MIT */
/*
 * layout.c - see layout.h: which database an index location means now.
 */
#include "layout.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int kb_layout_generation(const char *index)
{
    char stub[1200], line[256];
    int gen = 0;
    snprintf(stub, sizeof stub, "%s/XAPIANDB", index);
    FILE *f = fopen(stub, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "auto gen-%d", &gen) == 1)
            break;
    fclose(f);
    return gen > 0 ? gen : 0;
}

int kb_layout_current_db(const char *index, char *buf, size_t cap)
{
    char probe[1200];
    struct stat st;
    int gen = kb_layout_generation(index);
    if (gen > 0) {
        snprintf(buf, cap, "%s/gen-%d", index, gen);
        return 0;
    }
    snprintf(probe, sizeof probe, "%s/iamglass", index);
    if (access(probe, F_OK) == 0 || (stat(index, &st) == 0 && S_ISREG(st.st_mode))) {
        snprintf(buf, cap, "%s", index);
        return 0;
    }
    return -1;
}
