/* SPDX-License-Identifier: MIT */
/*
 * bench_http_ceiling.c - the HTTP ceiling: a minimal libmicrohttpd server that answers
 * every request with the same 1 KB JSON body, started with the same daemon flags and
 * thread pool as kb-server (server/http.c). Whatever wrk measures against it is the most
 * any route of ours could reach on this machine; run_query.py compares with it.
 *
 *     bench_http_ceiling [--port=N] [--workers=N] [--port-file=FILE]
 *
 * Prints "listening on http://127.0.0.1:PORT" and serves until SIGTERM or SIGINT.
 */
#include <microhttpd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static char body[1024];

/* Signal handler: asks the main loop to stop. */
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* Answers any request with the fixed body. Returns MHD_YES, or MHD_NO when the response
 * could not be queued (libmicrohttpd then closes the connection). */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_size, void **ptr)
{
    static int marker;
    (void)cls, (void)url, (void)method, (void)version, (void)upload_data;
    if (*ptr != &marker) {
        *ptr = &marker; /* first call: headers only */
        return MHD_YES;
    }
    *upload_size = 0;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof body, body, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv)
{
    unsigned port = 0, workers = 4;
    const char *port_file = NULL;
    struct MHD_Daemon *d = NULL;
    int status = 1;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--port=", 7)) {
            port = (unsigned)atoi(argv[i] + 7);
        } else if (!strncmp(argv[i], "--workers=", 10)) {
            workers = (unsigned)atoi(argv[i] + 10);
        } else if (!strncmp(argv[i], "--port-file=", 12)) {
            port_file = argv[i] + 12;
        } else {
            fprintf(stderr, "usage: bench_http_ceiling [--port=N] [--workers=N] "
                            "[--port-file=FILE]\n");
            return 2;
        }
    }
    /* a JSON object padded to exactly 1024 bytes */
    memset(body, ' ', sizeof body);
    memcpy(body, "{\"hits\":[],\"pad\":\"", 18);
    memcpy(body + sizeof body - 3, "\"}\n", 3);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, workers,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)1000, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bench_http_ceiling: cannot start the daemon\n");
        goto out;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    port = info ? info->port : port;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("listening on http://127.0.0.1:%u\n", port);
    fflush(stdout);
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (f) {
            fprintf(f, "%u\n", port);
            fclose(f);
        }
    }
    while (!stop)
        pause();
    status = 0;
out:
    if (d)
        MHD_stop_daemon(d);
    return status;
}
