/* SPDX-License-Identifier: MIT */
/* space.c - see space.h. */
#include "space.h"
#include "xapian_c.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void kb_space_take(struct kb_space *s, const char *db_dir, int gen, unsigned long rev)
{
    memset(s, 0, sizeof *s);
    s->gen = gen;
    s->rev = rev;
    DIR *d = opendir(db_dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) && s->n < KB_SPACE_MAX_TABLES) {
        char p[1400];
        struct stat st;
        size_t len = strlen(de->d_name);
        if (!strstr(de->d_name, ".glass") || len >= sizeof s->name[0])
            continue;
        snprintf(p, sizeof p, "%s/%s", db_dir, de->d_name);
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            memcpy(s->name[s->n], de->d_name, len + 1);
            s->size[s->n++] = (long long)st.st_size;
        }
    }
    closedir(d);
}

void kb_space_save(const struct kb_space *s, const char *path)
{
    char tmp[1300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    int ok = fprintf(f, "%d %lu\n", s->gen, s->rev) > 0;
    for (size_t i = 0; i < s->n; i++)
        ok = fprintf(f, "%s %lld\n", s->name[i], s->size[i]) > 0 && ok;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) < 0)
        unlink(tmp);
}

int kb_space_load(struct kb_space *s, const char *path)
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fscanf(f, "%d %lu", &s->gen, &s->rev) == 2;
    while (ok && s->n < KB_SPACE_MAX_TABLES &&
           fscanf(f, "%63s %lld", s->name[s->n], &s->size[s->n]) == 2)
        if (!strchr(s->name[s->n], '/') && strstr(s->name[s->n], ".glass") &&
            s->size[s->n] >= 0)
            s->n++;
    fclose(f);
    return ok ? 0 : -1;
}

long long kb_space_restore(const struct kb_space *s, const char *db_dir)
{
    xap_writer *w = NULL;
    struct xap_error xe = {0};
    unsigned long rev = 0;
    long long freed = 0;
    if (!s->n || xap_writer_open(db_dir, 0, &w, &xe) ||
        xap_writer_revision(w, &rev, &xe) || rev != s->rev)
        goto out;
    for (size_t i = 0; i < s->n; i++) {
        char p[1400];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", db_dir, s->name[i]);
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > s->size[i] &&
            truncate(p, (off_t)s->size[i]) == 0)
            freed += (long long)st.st_size - s->size[i];
    }
out:
    xap_writer_free(w); /* nothing was written through it: nothing to commit */
    return freed;
}
