/* SPDX-License-Identifier: MIT */
/*
 * ratelimit.c - a token bucket per client IP address: each client may make `rate`
 * requests per second, with bursts up to twice that. Buckets live in a fixed table of
 * slots indexed by a hash of the address (a collision shares a bucket, which only ever
 * makes the limit stricter), so memory is bounded whatever the number of clients.
 */
#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define RL_SLOTS 4096

struct bucket {
    double tokens;
    double last;
};

struct kb_ratelimit {
    pthread_mutex_t lock;
    double rate, burst;
    struct bucket b[RL_SLOTS];
};

struct kb_ratelimit *kb_ratelimit_new(size_t rate)
{
    if (!rate)
        return NULL;
    struct kb_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    pthread_mutex_init(&rl->lock, NULL);
    rl->rate = (double)rate;
    rl->burst = 2.0 * (double)rate;
    return rl;
}

void kb_ratelimit_free(struct kb_ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

/* FNV-1a over the address text. */
static size_t slot_of(const char *ip)
{
    uint32_t h = 2166136261u;
    for (; *ip; ip++)
        h = (h ^ (unsigned char)*ip) * 16777619u;
    return h % RL_SLOTS;
}

unsigned kb_ratelimit_take(struct kb_ratelimit *rl, const char *ip)
{
    if (!rl)
        return 0;
    double now = kb_now();
    unsigned wait = 0;
    pthread_mutex_lock(&rl->lock);
    struct bucket *b = &rl->b[slot_of(ip)];
    if (b->last == 0) {
        b->tokens = rl->burst;
    } else {
        b->tokens += (now - b->last) * rl->rate;
        if (b->tokens > rl->burst)
            b->tokens = rl->burst;
    }
    b->last = now;
    if (b->tokens >= 1.0)
        b->tokens -= 1.0;
    else
        wait = (unsigned)((1.0 - b->tokens) / rl->rate) + 1;
    pthread_mutex_unlock(&rl->lock);
    return wait;
}

void kb_req_client_ip(const struct kb_req *req, char *buf, size_t cap)
{
    buf[0] = '\0';
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                  buf, (socklen_t)cap);
}
