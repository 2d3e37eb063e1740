// SPDX-License-Identifier: GPL-2.0
/*
 * The metrics listener. HTTP parsing is left to libmicrohttpd (GNU, in
 * Debian since 2008 as libmicrohttpd12, maintained there and security
 * supported): it is a small C library made for embedding an HTTP server in a
 * daemon, and it already enforces what a scrape endpoint exposed to a network
 * needs: a connection limit, an idle timeout, a per-connection memory pool
 * that bounds the request line and headers (431 or a close beyond it), and
 * strict request parsing. The alternatives were hand-written parsing (what
 * the issue rules out) or a bigger framework for one URL.
 *
 * It runs in this thread (MHD_run_wait), so rendering needs no locks, and
 * between rounds a deadline closes connections that have not finished a
 * request in PR_HTTP_REQUEST_DEADLINE_S: libmicrohttpd's timeout only counts
 * idle time, which a slowloris client defeats by trickling a byte at a time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "params.h"
#include "metrics_http.h"

int pr_metrics_parse_listen(const char *s, struct sockaddr_storage *ss, struct pr_errbuf *err)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char addr[INET6_ADDRSTRLEN + 2] = PR_HTTP_DEFAULT_ADDR;
	const char *port = s, *colon = strrchr(s, ':');
	unsigned long p;

	memset(ss, 0, sizeof(*ss));
	if (colon) {
		size_t n = (size_t)(colon - s);

		if (n >= sizeof(addr))
			goto bad;
		if (n) {
			memcpy(addr, s, n);
			addr[n] = '\0';
		}
		port = colon + 1;
	}
	if (pr_parse_uint(port, 0, 65535, &p))
		goto bad;
	if (addr[0] == '[' && addr[strlen(addr) - 1] == ']') {
		addr[strlen(addr) - 1] = '\0';
		if (inet_pton(AF_INET6, addr + 1, &in6->sin6_addr) != 1)
			goto bad;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		return 0;
	}
	if (inet_pton(AF_INET, addr, &in4->sin_addr) != 1)
		goto bad;
	in4->sin_family = AF_INET;
	in4->sin_port = htons((uint16_t)p);
	return 0;
bad:
	return pr_err_set(err,
			  "'%s' is not a listening address: use PORT, ADDR:PORT or "
			  "[ADDR6]:PORT with a numeric address and a port 0-65535 (0: any "
			  "free port), e.g. 127.0.0.1:9435",
			  s);
}

#ifndef PR_HAVE_MHD

int pr_metrics_serve(const struct sockaddr_storage *addr, struct pr_errbuf *err)
{
	return pr_err_set(err, "this xdp-portredir was built without libmicrohttpd, so it cannot "
			       "serve HTTP; 'xdp-portredir metrics' without --listen still prints "
			       "the metrics (for node_exporter's textfile collector), or rebuild "
			       "after installing libmicrohttpd-dev");
}

#else

#include <microhttpd.h>

/* One open connection, tracked for the request deadline. */
struct conn {
	int fd;
	bool shut;
	time_t since; /* accepted, or its last request completed */
	struct conn *prev, *next;
};

static struct conn conns; /* list head */
static volatile sig_atomic_t stop;

static time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void on_signal(int sig)
{
	stop = sig;
}

static void notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			      enum MHD_ConnectionNotificationCode code)
{
	struct conn *k = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		k = calloc(1, sizeof(*k));
		if (!k || !info) {
			free(k);
			return; /* untracked: libmicrohttpd's idle timeout still applies */
		}
		k->fd = info->connect_fd;
		k->since = now_s();
		k->next = conns.next;
		k->prev = &conns;
		if (conns.next)
			conns.next->prev = k;
		conns.next = k;
		*socket_context = k;
	} else if (k) {
		k->prev->next = k->next;
		if (k->next)
			k->next->prev = k->prev;
		free(k);
		*socket_context = NULL;
	}
}

static void request_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			      enum MHD_RequestTerminationCode code)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *k = info ? info->socket_context : NULL;

	if (k)
		k->since = now_s();
}

/*
 * Past the deadline: shut the socket down; libmicrohttpd then sees the end
 * of the stream, closes the connection and notifies us. Same thread, so the
 * fd is still the connection's.
 */
static void enforce_deadline(void)
{
	time_t now = now_s();

	for (struct conn *k = conns.next; k; k = k->next)
		if (!k->shut && now - k->since >= PR_HTTP_REQUEST_DEADLINE_S) {
			shutdown(k->fd, SHUT_RDWR);
			k->shut = true;
		}
}

/*
 * Every body is handed over as malloc'd memory with free() as its release
 * callback: the buffer call that 0.9.75 (Debian 12) and 1.0 (Debian 13) both
 * have. The mode-taking call was superseded in 0.9.77 by _static and _copy
 * variants that 0.9.75 lacks.
 */
static enum MHD_Result queue(struct MHD_Connection *c, unsigned int code, char *body, size_t len,
			     const char *type)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer_with_free_callback(len, body, free);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, const char *text)
{
	char *body = strdup(text);

	return body ? queue(c, code, body, strlen(body), "text/plain") : MHD_NO;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct pr_errbuf err;
	char msg[sizeof(err.msg) + 1];
	size_t len;
	char *text;

	/* Answered before any body is read: libmicrohttpd then closes the connection. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD are served here\n");
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, "only /metrics is served here\n");
	/*
	 * Answer a good request once it is all in (headers, then any body,
	 * which is discarded), so the connection can stay open for the next
	 * scrape; an answer queued earlier makes libmicrohttpd close it.
	 */
	if (!*req_cls) {
		*req_cls = c;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (pr_metrics_render(&text, &len, &err)) {
		snprintf(msg, sizeof(msg), "%s\n", err.msg);
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
	}
	return queue(c, MHD_HTTP_OK, text, len, PR_METRICS_CONTENT_TYPE);
}

static int open_listener(const struct sockaddr_storage *ss, char *name, size_t len,
			 struct pr_errbuf *err)
{
	socklen_t sl = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
						   sizeof(struct sockaddr_in);
	struct sockaddr_storage bound;
	char host[INET6_ADDRSTRLEN];
	int one = 1, fd, port;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (const struct sockaddr *)ss, sl) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&bound, &sl)) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return pr_err_set(err, "cannot listen: %s", strerror(e));
	}
	if (bound.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&bound)->sin6_addr, host,
			  sizeof(host));
		port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
		snprintf(name, len, "[%s]:%d", host, port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&bound)->sin_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
		snprintf(name, len, "%s:%d", host, port);
	}
	return fd;
}

int pr_metrics_serve(const struct sockaddr_storage *addr, struct pr_errbuf *err)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: wake the poll */
	char name[INET6_ADDRSTRLEN + 16];
	struct MHD_Daemon *d;
	int fd;

	fd = open_listener(addr, name, sizeof(name), err);
	if (fd < 0)
		return -1;
	d = MHD_start_daemon(MHD_USE_AUTO | (addr->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0,
			     NULL, NULL, handle, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)PR_HTTP_MAX_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)PR_HTTP_IDLE_TIMEOUT_S,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT,
			     (size_t)PR_HTTP_MEMORY_PER_CONNECTION, MHD_OPTION_STRICT_FOR_CLIENT, 1,
			     MHD_OPTION_NOTIFY_CONNECTION, notify_connection, NULL,
			     MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL, MHD_OPTION_END);
	if (!d) {
		close(fd);
		return pr_err_set(err, "libmicrohttpd could not start serving on %s", name);
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	printf("serving http://%s/metrics\n", name);
	fflush(stdout);
	while (!stop) {
		/* Bounded, so the deadline and a signal are seen within half a second. */
		MHD_run_wait(d, 500);
		enforce_deadline();
	}
	MHD_stop_daemon(d);
	close(fd);
	return 0;
}

#endif
