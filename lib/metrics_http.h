/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `metrics --listen`: GET /metrics over HTTP, through libmicrohttpd (chosen
 * over hand-written HTTP parsing: see metrics_http.c). Built only when
 * configure found libmicrohttpd; otherwise pr_metrics_serve() says so.
 */
#ifndef PR_METRICS_HTTP_H
#define PR_METRICS_HTTP_H

#include <stdbool.h>
#include <sys/socket.h>

#include "errbuf.h"

/* Limits against clients that hold or flood the listener. */
#define PR_HTTP_MAX_CONNECTIONS 64
#define PR_HTTP_IDLE_TIMEOUT_S 10 /* no byte for this long: closed */
#define PR_HTTP_REQUEST_DEADLINE_S 10 /* a whole request must arrive within this */
#define PR_HTTP_MEMORY_PER_CONNECTION (16 * 1024) /* request line and headers must fit */
#define PR_HTTP_DEFAULT_ADDR "127.0.0.1"

/*
 * Parses "PORT", ":PORT", "ADDR:PORT" or "[ADDR6]:PORT" (numeric addresses
 * only; no address means PR_HTTP_DEFAULT_ADDR) into ss.
 */
int pr_metrics_parse_listen(const char *s, struct sockaddr_storage *ss, struct pr_errbuf *err);

/*
 * Serves GET /metrics on addr until SIGINT or SIGTERM. Prints
 * "serving http://ADDR:PORT/metrics" on stdout once listening (the real port
 * when PORT was 0). Returns 0 after a signal, -1 with err if it cannot listen.
 */
int pr_metrics_serve(const struct sockaddr_storage *addr, struct pr_errbuf *err);

#endif
