// SPDX-License-Identifier: GPL-2.0
/*
 * flowpeer: long-lived TCP and UDP flows for the flow-survival tests
 * (tests/integration/52-flows.sh). Plain libc, sockets and threads, so it
 * also runs in the test VM's initramfs, which has no python3.
 *
 * server PORT...        listen on every port (TCP and UDP, IPv4 and IPv6);
 *                       say "ready". A TCP line "ping X" gets "pong PORT X"
 *                       (PORT: the server's own port, so a test sees where
 *                       its flow really goes); a TCP line "bulk" gets
 *                       "port PORT", then an endless stream paced at
 *                       ~800 KB/s on that connection; a UDP datagram X gets "pong PORT X".
 * client HOST PORT CTL  open an interactive and a bulk connection to
 *                       HOST:PORT, then obey lines written to the FIFO CTL:
 *                       "check" pings and waits for the bulk stream to move
 *                       on (64 KiB more), printing "ok PORT BULKPORT" or
 *                       "fail WHY"; "quit" closes both and exits.
 * udp HOST PORT CTL     one connected UDP socket; "check" sends a datagram
 *                       (again after 3 s without an answer), prints
 *                       "ok PORT" or "fail WHY"; "quit" exits.
 *
 * Every wait is bounded by FLOWPEER_WAIT seconds (default 30), so a dead
 * flow shows up as "fail", never as a hang. Exit status: 0 done, 1 cannot
 * connect or a runtime error, 2 usage error. The server runs until killed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 512
#define BULK_CHUNK 16384
#define BULK_STEP 65536

static double wait_s = 30;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "flowpeer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static bool send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= n;
	}
	return true;
}

/* A line from fd (byte by byte: nothing after the newline is consumed), by
 * deadline (0: none). Returns 1 with the line in buf (no newline), 0 on EOF,
 * -1 on error or timeout with errno set (ETIMEDOUT for the deadline).
 */
static int read_line(int fd, char *buf, size_t size, double deadline)
{
	size_t len = 0;

	for (;;) {
		char c;
		ssize_t n;

		if (deadline > 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			double left = deadline - now();
			int r;

			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			r = poll(&pfd, 1, (int)(left * 1000) + 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return -1;
			if (r == 0)
				continue;
		}
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (c == '\n') {
			buf[len] = '\0';
			return 1;
		}
		if (len + 1 < size)
			buf[len++] = c;
	}
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* --- server ------------------------------------------------------------- */

static void *serve_tcp(void *arg)
{
	int fd = (int)(long)arg, port = local_port(fd);
	char line[LINE_MAX_LEN], out[LINE_MAX_LEN + 32];

	while (read_line(fd, line, sizeof(line), 0) == 1) {
		char *w = line + strspn(line, " \t\r");
		size_t wl = strcspn(w, " \t\r");

		if (wl == 4 && !strncmp(w, "ping", 4)) {
			char *rest = w + wl + strspn(w + wl, " \t\r");
			size_t rl = strlen(rest);

			while (rl > 0 && strchr(" \t\r", rest[rl - 1]))
				rest[--rl] = '\0';
			snprintf(out, sizeof(out), "pong %d %s\n", port, rest);
			if (!send_all(fd, out, strlen(out)))
				break;
		} else if (wl == 4 && !strncmp(w, "bulk", 4)) {
			static const char chunk[BULK_CHUNK] = { [0 ... BULK_CHUNK - 1] = 'x' };
			/* 16 KiB per 20 ms, ~800 KB/s: a check needs 64 KiB
			 * more, and under TCG (the VM row) a faster stream
			 * would take the guest's CPUs from the test itself.
			 */
			const struct timespec pace = { .tv_nsec = 20000000 };

			snprintf(out, sizeof(out), "port %d\n", port);
			if (!send_all(fd, out, strlen(out)))
				break;
			while (send_all(fd, chunk, sizeof(chunk)))
				nanosleep(&pace, NULL);
			break;
		}
	}
	close(fd);
	return NULL;
}

static void *accept_loop(void *arg)
{
	int lfd = (int)(long)arg;

	for (;;) {
		pthread_t t;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept");
		}
		if (pthread_create(&t, NULL, serve_tcp, (void *)(long)fd))
			die("pthread_create");
		pthread_detach(t);
	}
	return NULL;
}

static void *udp_loop(void *arg)
{
	int fd = (int)(long)arg, port = local_port(fd);
	char in[2048], out[2048 + 32];

	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&peer, &plen);
		int hl;

		if (n < 0) {
			if (errno == EINTR || errno == ECONNREFUSED)
				continue;
			die("recvfrom");
		}
		hl = snprintf(out, sizeof(out), "pong %d ", port);
		memcpy(out + hl, in, n);
		sendto(fd, out, hl + n, 0, (struct sockaddr *)&peer, plen);
	}
	return NULL;
}

static int bound_socket(int type, int port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	int fd = socket(AF_INET6, type, 0), one = 1, zero = 0;

	if (fd < 0)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)))
		die("setsockopt");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "flowpeer: bind port %d: %s\n", port, strerror(errno));
		exit(1);
	}
	return fd;
}

static int server(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		char *end;
		long port = strtol(argv[i], &end, 10);
		pthread_t t;
		int fd;

		if (*end || port < 1 || port > 65535) {
			fprintf(stderr, "flowpeer: bad port '%s'\n", argv[i]);
			return 2;
		}
		fd = bound_socket(SOCK_STREAM, port);
		if (listen(fd, 64))
			die("listen");
		if (pthread_create(&t, NULL, accept_loop, (void *)(long)fd))
			die("pthread_create");
		fd = bound_socket(SOCK_DGRAM, port);
		if (pthread_create(&t, NULL, udp_loop, (void *)(long)fd))
			die("pthread_create");
	}
	printf("ready\n");
	for (;;)
		pause();
}

/* --- clients ------------------------------------------------------------ */

/* A socket of TYPE connected to HOST:PORT, the connect bounded by wait_s;
 * -1 with *why set on failure.
 */
static int connect_to(const char *host, const char *port, int type, const char **why)
{
	struct addrinfo hints = { .ai_socktype = type }, *res, *ai;
	int fd = -1, err;

	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		*why = gai_strerror(err);
		return -1;
	}
	*why = "no address";
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd = { .events = POLLOUT };
		socklen_t len = sizeof(err);
		int r;

		fd = socket(ai->ai_family, type | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			*why = strerror(errno);
			continue;
		}
		r = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (r && errno == EINPROGRESS) {
			pfd.fd = fd;
			r = poll(&pfd, 1, (int)(wait_s * 1000));
			if (r == 0) {
				*why = "timed out";
				r = -1;
			} else if (r > 0) {
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
				r = err ? -1 : 0;
				if (err)
					*why = strerror(err);
			} else {
				*why = strerror(errno);
			}
		} else if (r) {
			*why = strerror(errno);
		}
		if (!r) {
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
			break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

struct bulk {
	int fd;
	atomic_long bytes;
	atomic_int error; /* errno, or -1: closed by the peer */
};

static void *bulk_reader(void *arg)
{
	struct bulk *b = arg;
	static char buf[65536];

	for (;;) {
		ssize_t n = recv(b->fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			atomic_store(&b->error, n == 0 ? -1 : (errno ? errno : EIO));
			return NULL;
		}
		atomic_fetch_add(&b->bytes, n);
	}
}

static const char *bulk_error(struct bulk *b)
{
	int e = atomic_load(&b->error);

	if (!e)
		return NULL;
	return e < 0 ? "bulk stream closed by peer" : strerror(e);
}

static int open_ctl(const char *ctl)
{
	/* Also a writer: no EOF between test steps. */
	int fd = open(ctl, O_RDWR);

	if (fd < 0) {
		fprintf(stderr, "flowpeer: %s: %s\n", ctl, strerror(errno));
		exit(1);
	}
	return fd;
}

static int next_command(int ctl, char *buf, size_t size)
{
	int r = read_line(ctl, buf, size, 0);

	if (r != 1) {
		fprintf(stderr, "flowpeer: control FIFO: %s\n", r ? strerror(errno) : "closed");
		exit(1);
	}
	buf[strcspn(buf, " \t\r")] = '\0';
	return 0;
}

static const char *tcp_check(int inter, struct bulk *b, int n, char port[32])
{
	double deadline = now() + wait_s;
	static char why[64];
	char line[LINE_MAX_LEN], word[16];
	long start;
	int r;

	snprintf(line, sizeof(line), "ping %d\n", n);
	if (!send_all(inter, line, strlen(line)))
		return strerror(errno);
	r = read_line(inter, line, sizeof(line), deadline);
	if (r == 0)
		return "closed by peer";
	if (r < 0 && errno == ETIMEDOUT) {
		snprintf(why, sizeof(why), "no answer in %g s", wait_s);
		return why;
	}
	if (r < 0)
		return strerror(errno);
	if (sscanf(line, "%15s %31s", word, port) != 2 || strcmp(word, "pong"))
		return "unexpected answer";
	start = atomic_load(&b->bytes);
	while (atomic_load(&b->bytes) < start + BULK_STEP && !bulk_error(b)) {
		const struct timespec tick = { .tv_nsec = 50000000 };

		if (now() > deadline)
			return "bulk stream stalled";
		nanosleep(&tick, NULL);
	}
	return bulk_error(b);
}

static int client(const char *host, const char *port, const char *ctl_path)
{
	static struct bulk b;
	char line[LINE_MAX_LEN], word[16], target[32];
	const char *why;
	int inter, bulk_port, ctl, n = 0, r;
	pthread_t t;

	inter = connect_to(host, port, SOCK_STREAM, &why);
	if (inter < 0)
		goto fail;
	b.fd = connect_to(host, port, SOCK_STREAM, &why);
	if (b.fd < 0)
		goto fail;
	if (!send_all(b.fd, "bulk\n", 5)) {
		why = strerror(errno);
		goto fail;
	}
	r = read_line(b.fd, line, sizeof(line), now() + wait_s);
	if (r != 1 || sscanf(line, "%15s %d", word, &bulk_port) != 2 || strcmp(word, "port")) {
		why = r < 0 ? strerror(errno) : "no port line on the bulk stream";
		goto fail;
	}
	if (pthread_create(&t, NULL, bulk_reader, &b))
		die("pthread_create");
	ctl = open_ctl(ctl_path);
	printf("connected\n");
	for (;;) {
		next_command(ctl, line, sizeof(line));
		if (!strcmp(line, "quit")) {
			close(inter);
			shutdown(b.fd, SHUT_RDWR);
			printf("closed\n");
			return 0;
		}
		why = tcp_check(inter, &b, ++n, target);
		if (why)
			printf("fail %s\n", why);
		else
			printf("ok %s %d\n", target, bulk_port);
	}
fail:
	printf("fail connect: %s\n", why);
	return 1;
}

static int udp(const char *host, const char *port, const char *ctl_path)
{
	char line[LINE_MAX_LEN], reply[2048], word[16], target[32];
	const char *why;
	int fd, ctl;

	fd = connect_to(host, port, SOCK_DGRAM, &why);
	if (fd < 0) {
		printf("fail connect: %s\n", why);
		return 1;
	}
	ctl = open_ctl(ctl_path);
	printf("connected\n");
	for (;;) {
		double deadline = now() + wait_s;
		bool done = false;

		next_command(ctl, line, sizeof(line));
		if (!strcmp(line, "quit"))
			return 0;
		/* A lost datagram is retried (up to the wait); a refusal (ICMP
		 * port unreachable: nothing listens where it went) is the answer.
		 */
		while (!done && now() < deadline) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			ssize_t n;

			if (send(fd, "hello", 5, 0) < 0) {
				printf("fail %s\n", strerror(errno));
				done = true;
				break;
			}
			if (poll(&pfd, 1, 3000) <= 0)
				continue;
			n = recv(fd, reply, sizeof(reply) - 1, 0);
			if (n < 0) {
				printf("fail %s\n", strerror(errno));
				done = true;
				break;
			}
			reply[n] = '\0';
			if (sscanf(reply, "%15s %31s", word, target) == 2) {
				printf("ok %s\n", target);
				done = true;
			}
		}
		if (!done)
			printf("fail no reply in %g s\n", wait_s);
	}
}

int main(int argc, char **argv)
{
	const char *w = getenv("FLOWPEER_WAIT");

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (w && *w) {
		char *end;

		wait_s = strtod(w, &end);
		if (*end || wait_s <= 0) {
			fprintf(stderr, "flowpeer: FLOWPEER_WAIT wants seconds, not '%s'\n", w);
			return 2;
		}
	}
	if (argc >= 3 && !strcmp(argv[1], "server"))
		return server(argc - 2, argv + 2);
	if (argc == 5 && !strcmp(argv[1], "client"))
		return client(argv[2], argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "udp"))
		return udp(argv[2], argv[3], argv[4]);
	fprintf(stderr,
		"usage: flowpeer server PORT... | client HOST PORT CTL | udp HOST PORT CTL\n");
	return 2;
}
