/* SPDX-License-Identifier: MIT */
/*
 * walk.c - the walk of one source folder: names in order (deterministic), hidden
 * files skipped, names that are not UTF-8 escaped, ids too long for the index
 * reported, and each folder's visibility (.kb-visibility) handed down to its files.
 */
#include "crawl_priv.h"
#include "text.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

/* Writes name into out (cap bytes, NUL-terminated, cut if needed) with every
 * byte that is not part of valid UTF-8, and every backslash, as \xHH: a file name that is
 * not UTF-8 gets a printable, stable stand-in for its id. Returns 1 when anything was
 * escaped (the name was not valid UTF-8), else 0 (out is then a plain copy). */
static int escape_name(const char *name, char *out, size_t cap)
{
    size_t len = strlen(name), o = 0;
    if (kb_utf8_valid(name, len)) {
        crawl_copy_trunc(out, cap, name);
        return 0;
    }
    for (size_t i = 0; i < len && o + 5 < cap;) {
        size_t ok = kb_utf8_trim(name + i, len - i, len - i);
        for (size_t k = 0; k < ok && o + 5 < cap; k++, i++) {
            if (name[i] == '\\')
                o += (size_t)snprintf(out + o, cap - o, "\\x5c");
            else
                out[o++] = name[i];
        }
        if (ok == 0) /* one byte that starts no valid character */
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", (unsigned char)name[i++]);
    }
    out[o] = '\0';
    return 1;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The visibility a folder sets for itself and what is below it: its `.kb-visibility`
 * file holds "members" or "public" (the first word that is not a '#' comment). A folder
 * is member-only when it or any folder above it says members: a nested "public" cannot
 * open a member-only tree, and a file that cannot be read or says anything else makes
 * the folder member-only (fail closed). No file: `inherited`. */
static int folder_visibility(const char *dir, int inherited)
{
    char path[4200], line[256];
    if (inherited == KB_VIS_MEMBERS ||
        (size_t)snprintf(path, sizeof path, "%s/.kb-visibility", dir) >= sizeof path)
        return inherited;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? inherited : KB_VIS_MEMBERS;
    int v = -1;
    while (v < 0 && fgets(line, sizeof line, f)) {
        char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == '\r' || !*p)
            continue;
        v = kb_visibility_parse(p, strcspn(p, " \t\r\n#"));
        if (v < 0)
            v = KB_VIS_MEMBERS;
    }
    fclose(f);
    return v < 0 ? inherited : v;
}

/* Walks a folder in name order (deterministic), calling crawl_file or counting files.
 * `vis` is the visibility of the folder above (folder_visibility); `bad_name`: the
 * folder's path is not UTF-8, so neither are its files' ids. */
int walk_folder(struct run *r, const char *dir, const char *rel, int depth, int vis,
                int count_only, int bad_name, struct kb_error *err)
{
    if (depth > MAX_DEPTH)
        return KB_OK;
    vis = folder_visibility(dir, vis);
    DIR *d = opendir(dir);
    if (!d && depth == 0)
        return kb_error_set(err, KB_ENOTFOUND, "cannot open source '%s': %s", dir,
                            strerror(errno));
    if (!d) {
        /* a folder that cannot be read (permissions, I/O): an error of this run, and
         * what was indexed from it stays as it is */
        if (!count_only) {
            char why[300];
            snprintf(why, sizeof why, "cannot read folder: %s (its documents are kept)",
                     strerror(errno));
            crawl_add_failure(r, rel, why);
            manifest_keep_under(r, rel);
        }
        return KB_OK;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    int rc = KB_OK;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue; /* hidden files, ., .. */
        char **v = realloc(names, (n + 1) * sizeof *v);
        if (!v || !(v[n] = strdup(de->d_name))) {
            names = v ? v : names;
            rc = kb_error_set(err, KB_ENOMEM, "out of memory");
            break;
        }
        names = v;
        n++;
    }
    closedir(d);
    if (!rc && n)
        qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 0; i < n && !rc; i++) {
        char full[4096], id[4096], name[1024];
        int bad = escape_name(names[i], name, sizeof name) || bad_name;
        int a = snprintf(full, sizeof full, "%s/%s", dir, names[i]);
        int b = snprintf(id, sizeof id, "%s%s%s", rel, *rel ? "/" : "", name);
        struct stat st;
        if (a < 0 || (size_t)a >= sizeof full || b < 0)
            continue;
        if (lstat(full, &st) < 0) {
            /* gone since readdir: nothing to do; anything else (a folder that can be
             * listed but not searched): an error, and its documents stay */
            if (errno != ENOENT && !count_only && (size_t)b < 200) {
                char why[300];
                snprintf(why, sizeof why, "cannot read: %s (documents are kept)",
                         strerror(errno));
                crawl_add_failure(r, id, why);
                manifest_keep_under(r, id);
            }
            continue;
        }
        if ((size_t)b >= 200) {
            /* too long for an id (the manifest key must fit Xapian's key limit): say so
             * in the report rather than leave the file or folder out silently */
            int is_dir = S_ISDIR(st.st_mode);
            if (!count_only &&
                (is_dir || (S_ISREG(st.st_mode) &&
                            kb_format_from_name(names[i]) != KB_FMT_UNKNOWN))) {
                char shown[200];
                snprintf(shown, sizeof shown, "%.150s...", id);
                crawl_add_failure(r, shown,
                                  is_dir
                                      ? "folder path longer than 200 bytes: not indexed"
                                      : "path longer than 200 bytes: not indexed");
            }
            continue;
        }
        if (S_ISDIR(st.st_mode))
            rc = walk_folder(r, full, id, depth + 1, vis, count_only, bad, err);
        else if (S_ISREG(st.st_mode) && kb_format_from_name(names[i]) != KB_FMT_UNKNOWN)
            rc = count_only ? (r->total_files++, KB_OK)
                            : crawl_file(r, full, id, &st, vis, bad, err);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}
