/* SPDX-License-Identifier: MIT */
/*
 * main.c - kb-server: configuration (file, environment, flags), shared resources, the
 * HTTP daemon, and a graceful stop on SIGTERM/SIGINT (in-flight requests finish).
 * Prints "listening on http://ADDR:PORT" once ready (with --port=0, the port the OS
 * chose).
 */
#include "kb_server_help.h"
#include "server.h"
#include "version.h"

#include <arpa/inet.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* The text is generated from docs/man/kb-server.toml, like the man page. */
static void usage(FILE *f)
{
    fputs(kb_server_help, f);
}

/* --hash-key=KEY, --hash-key=- (the key from standard input, so that it stays out of
 * the command line and the shell's history) and --new-key (a random key). */
static int key_command(int argc, char **argv, const char *key)
{
    const char *scopes = "search,write";
    char line[256], in[1024], made[64];
    struct kb_error err;
    kb_error_clear(&err);
    for (int j = 1; j < argc; j++)
        if (!strncmp(argv[j], "--scopes=", 9))
            scopes = argv[j] + 9;
    if (key && !strcmp(key, "-")) {
        if (!fgets(in, sizeof in, stdin)) {
            fprintf(stderr, "kb-server: --hash-key=-: no key on standard input\n");
            return 2;
        }
        in[strcspn(in, "\r\n")] = '\0';
        key = in;
    } else if (!key) {
        unsigned char raw[32];
        if (sodium_init() < 0) {
            fprintf(stderr, "kb-server: libsodium cannot start\n");
            return 4;
        }
        randombytes_buf(raw, sizeof raw);
        sodium_bin2base64(made, sizeof made, raw, sizeof raw,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        sodium_memzero(raw, sizeof raw);
        key = made;
    }
    int rc = kb_keys_line(key, scopes, line, sizeof line, &err);
    if (!rc && key == made)
        printf("# the new key: give it to its user, it is stored nowhere\n%s\n"
               "# its line for the keys file\n",
               made);
    if (!rc)
        printf("%s\n", line);
    sodium_memzero(in, sizeof in);
    sodium_memzero(made, sizeof made);
    if (rc) {
        fprintf(stderr, "kb-server: %s\n", err.msg);
        return 2;
    }
    return 0;
}

static void free_worker_key(void *p)
{
    (void)p; /* workers are freed at shutdown from srv->workers */
}

int main(int argc, char **argv)
{
    static struct kb_server srv;
    struct kb_error err;
    const char *port_file = NULL;
    kb_error_clear(&err);
    for (int i = 1; i < argc; i++) {
        int new_key = !strcmp(argv[i], "--new-key");
        if (strncmp(argv[i], "--hash-key=", 11) != 0 && !new_key)
            continue;
        return key_command(argc, argv, new_key ? NULL : argv[i] + 11);
    }
    kb_config_defaults(&srv.cfg);
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "--config=", 9) &&
            kb_config_load_file(&srv.cfg, argv[i] + 9, &err)) {
            fprintf(stderr, "kb-server: %s\n", err.msg);
            return 2;
        }
    if (kb_config_load_env(&srv.cfg, &err)) {
        fprintf(stderr, "kb-server: %s\n", err.msg);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--version")) {
            printf("kb-server %s\n", kb_version());
            return 0;
        }
        if (!strncmp(a, "--config=", 9))
            continue;
        if (!strncmp(a, "--port-file=", 12)) {
            port_file = a + 12;
            continue;
        }
        const char *eq = strchr(a, '=');
        char key[64];
        size_t n = eq ? (size_t)(eq - a - 2) : 0;
        if (strncmp(a, "--", 2) || !eq || n >= sizeof key) {
            fprintf(stderr, "kb-server: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        for (size_t k = 0; k < n; k++)
            key[k] = a[2 + k] == '-' ? '_' : a[2 + k];
        key[n] = '\0';
        if (kb_config_set(&srv.cfg, key, eq + 1, &err)) {
            fprintf(stderr, "kb-server: %s\n", err.msg);
            return 2;
        }
    }
    struct in_addr bind_addr;
    if (inet_pton(AF_INET, srv.cfg.bind, &bind_addr) != 1) {
        fprintf(stderr, "kb-server: bind address '%s' is not an IPv4 address\n",
                srv.cfg.bind);
        return 2;
    }
    if (kb_resources_load(&srv.res, &err)) {
        fprintf(stderr, "kb-server: %s\n", err.msg);
        return 4;
    }
    srv.res.max_text = (size_t)srv.cfg.max_text_mb << 20; /* API writes' bodies */
    pthread_key_create(&srv.worker_key, free_worker_key);
    pthread_mutex_init(&srv.workers_lock, NULL);
    pthread_mutex_init(&srv.log_lock, NULL);
    pthread_mutex_init(&srv.metrics.lock, NULL);
    if (!strcmp(srv.cfg.access_log, "-"))
        srv.access_log = stderr;
    else if (srv.cfg.access_log[0] &&
             !(srv.access_log = fopen(srv.cfg.access_log, "a"))) {
        fprintf(stderr, "kb-server: cannot open access log '%s'\n", srv.cfg.access_log);
        return 4;
    }
    srv.started = kb_now();
    if (kb_server_init_extra(&srv, &err) || kb_http_start(&srv, &err)) {
        fprintf(stderr, "kb-server: %s\n", err.msg);
        return 4;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    printf("kb-server %s listening on http://%s:%u (index %s)\n", kb_version(),
           srv.cfg.bind, srv.port, srv.cfg.index);
    fflush(stdout);
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (f) {
            fprintf(f, "%u\n", srv.port);
            fclose(f);
        }
    }
    while (!stop)
        pause();
    fprintf(stderr, "kb-server: stopping\n");
    kb_http_stop(&srv);
    kb_server_release_extra(&srv);
    for (size_t i = 0; i < srv.n_workers; i++)
        kb_worker_free(srv.workers[i]);
    free(srv.workers);
    kb_resources_release(&srv.res);
    if (srv.access_log && srv.access_log != stderr)
        fclose(srv.access_log);
    return 0;
}
