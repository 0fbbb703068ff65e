/* SPDX-License-Identifier: MIT */
/*
 * test_keys_ratelimit.c - the server's API-key file (lines made by kb_keys_line load
 * back, malformed lines are refused with their line number, the key itself is never
 * stored) and the per-client token buckets of the rate limiter.
 */
#include "check.h"
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/kb-test-keys-XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_keys(void)
{
    struct kb_error e;
    char line[256], line2[256];
    kb_error_clear(&e);
    CHECK_INT(
        kb_keys_line("s3cret-key-0123456789", "search,write", line, sizeof line, &e),
        KB_OK);
    CHECK(strstr(line, "s3cret-key-0123456789") == NULL); /* only the hash is written */
    CHECK_HAS(line, "search,write");
    kb_error_clear(&e);
    CHECK_INT(kb_keys_line("s3cret-key-0123456789", "search", line2, sizeof line2, &e),
              KB_OK);
    CHECK_INT(strncmp(line, line2, 64), 0); /* same key, same hash */
    kb_error_clear(&e);
    CHECK_INT(kb_keys_line("", "search", line2, sizeof line2, &e), KB_EINVAL);
    kb_error_clear(&e);
    CHECK_INT(kb_keys_line("short", "search", line2, sizeof line2, &e), KB_EINVAL);
    kb_error_clear(&e);
    CHECK_INT(kb_keys_line("k-0123456789abcdef", "search,fly", line2, sizeof line2, &e),
              KB_EINVAL);
    kb_error_clear(&e);
    CHECK_INT(kb_keys_line("k-0123456789abcdef", "search", line2, 10, &e), KB_ETOOBIG);
    kb_error_clear(&e);
    CHECK_INT(
        kb_keys_line("k-0123456789abcdef", "search,members", line2, sizeof line2, &e),
        KB_OK);
    CHECK_HAS(line2, " search,members");
    CHECK_INT(kb_scopes_parse("search,members", 14),
              (int)(KB_SCOPE_SEARCH | KB_SCOPE_MEMBERS));
    CHECK_INT(kb_scopes_parse("members,", 8), (int)KB_SCOPE_MEMBERS);
    CHECK_INT(kb_scopes_parse("member", 6), -1);
    CHECK_INT(kb_scopes_parse("", 0), -1);

    char text[600];
    snprintf(text, sizeof text, "# keys\n\n%s\n", line);
    char *path = write_tmp(text);
    struct kb_keys *k = NULL;
    kb_error_clear(&e);
    CHECK_INT(kb_keys_load(path, &k, &e), KB_OK);
    CHECK(k != NULL);
    kb_keys_free(k);
    unlink(path);

    path = write_tmp("# keys\nnot-a-hash search\n");
    k = NULL;
    kb_error_clear(&e);
    CHECK_INT(kb_keys_load(path, &k, &e), KB_EPARSE);
    CHECK_HAS(e.msg, "2");
    CHECK(k == NULL);
    unlink(path);
    kb_error_clear(&e);
    CHECK_INT(kb_keys_load("/nonexistent/keys", &k, &e), KB_ENOTFOUND);
    kb_keys_free(NULL);
}

static void test_ratelimit(void)
{
    CHECK(kb_ratelimit_new(0) == NULL);
    struct kb_ratelimit *rl = kb_ratelimit_new(3);
    CHECK(rl != NULL);
    int allowed = 0;
    unsigned wait = 0;
    for (int i = 0; i < 10; i++) {
        unsigned w = kb_ratelimit_take(rl, "127.0.0.1");
        if (w == 0)
            allowed++;
        else
            wait = w;
    }
    CHECK(allowed >= 6 && allowed <= 7); /* a burst of twice the rate, then refusals */
    CHECK(wait >= 1);
    CHECK_INT(kb_ratelimit_take(rl, "127.0.0.2"), 0); /* other clients have their own */
    kb_ratelimit_free(rl);
    kb_ratelimit_free(NULL);
}

int main(void)
{
    test_keys();
    test_ratelimit();
    return check_done("test_keys_ratelimit");
}
