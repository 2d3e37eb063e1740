// SPDX-License-Identifier: GPL-2.0
/*
 * nettool: the test suites' own traffic helper (UDP, TCP echo, packet capture
 * with checksum verification). Plain libc and sockets, so it also runs inside
 * the test VM's initramfs and in any network namespace.
 *
 * Contract shared by every mode: each one is bounded by -t TIMEOUT_MS (default
 * 5000), which caps every wait including waits for a peer; exit status is 0
 * when the mode's goal was met, 1 otherwise (or on a runtime error, reported
 * as one line on stderr), 2 on a usage error. SIGINT/SIGTERM end a mode early
 * but still print its summary line, so a test may kill a background nettool
 * and still read what it saw.
 *
 * Run `nettool -h` for the modes. The hidden mode send-raw-udp crafts one UDP
 * frame with a chosen checksum (good, bad, zero) and sends it with AF_PACKET,
 * which is how the self-test proves that `capture` flags bad checksums.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519
#endif

/* Without -t a mode stops after 5 s, times TEST_WAIT_SCALE when the test
 * suite sets it (tests/lib.sh): the default only bounds a hang, and a loaded
 * machine may take many times longer to send what it was asked to.
 */
#define DEFAULT_TIMEOUT_MS default_timeout_ms()
#define DEFAULT_MESSAGE "Hello, New Stack!"
#define UDP_BUF 65536
/* Echo buffer per server connection: bounded, so a slow reader only stalls its own connection. */
#define ECHO_BUF (64 * 1024)
#define CLIENT_CHUNK (256 * 1024)
/* Large enough for a 64 KB GSO frame on lo plus headers. */
#define CAPTURE_BUF (256 * 1024)

static const char *mode_name;
static volatile sig_atomic_t stop_requested;
static sigset_t wait_mask;

static const char usage_text[] =
	"usage: nettool MODE [OPTIONS]\n"
	"  udp-recv   [-l ADDR] -p PORT [-n COUNT] [-t MS] [-e] [-v] [-6]\n"
	"  udp-send   -a ADDR -p PORT [-n COUNT] [-m MESSAGE] [-s SRCPORT]\n"
	"             [-i INTERVAL_US] [-w WAIT_MS] [-l SRCADDR] [-t MS] [-6]\n"
	"  tcp-server [-l ADDR] -p PORT [-n CONNS] [-t MS] [-6]\n"
	"  tcp-client -a ADDR -p PORT [-b BYTES] [-c CONCURRENCY] [-n CONNS]\n"
	"             [-s SRCPORT] [-l SRCADDR] [-S SEED] [-t MS] [-6]\n"
	"  capture    -i IFNAME [-p PORT] [-P udp|tcp] [-n COUNT] [-t MS] [-o] [-v]\n"
	"  send-raw-udp -a ADDR -p PORT [-l SRCADDR] [-s SRCPORT] [-m MESSAGE]\n"
	"             [-n COUNT] [-i IFNAME] [-c good|bad|zero|VALUE] [-P udp|tcp]\n"
	"             [-V VLAN[,INNER]] [-M DSTMAC] [-t MS] [-6]\n"
	"             (test-only: one crafted frame with a chosen L4 checksum)\n"
	"-t caps every mode (default 5000 ms). IPv6 with -6 or an address with ':'.\n"
	"BYTES takes k, m, g suffixes (powers of 1024).\n"
	"Exit status: 0 goal met, 1 not met or runtime error, 2 usage error.\n";

__attribute__((format(printf, 1, 2)))
static void errmsg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nettool %s: ", mode_name ? mode_name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

__attribute__((format(printf, 1, 2), noreturn))
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	if (mode_name)
		fprintf(stderr, "nettool %s: ", mode_name);
	else
		fprintf(stderr, "nettool: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage_text, stderr);
	exit(2);
}

static void bad_option(int c)
{
	if (c == ':')
		usage_error("option -%c needs a value", optopt);
	usage_error("unknown option -%c", optopt);
}

static void no_extra_args(int argc, char **argv)
{
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

/* Strict unsigned parse: decimal or 0x hex, optional k/m/g suffix when allowed. */
static uint64_t default_timeout_ms(void)
{
	const char *s = getenv("TEST_WAIT_SCALE");
	char *end;
	unsigned long scale = s ? strtoul(s, &end, 10) : 1;

	if (!s || *end || scale < 1 || scale > 1000)
		scale = 1;
	return 5000 * (uint64_t)scale;
}

static uint64_t opt_num(int opt, const char *arg, uint64_t min, uint64_t max,
			bool suffixes)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	errno = 0;
	if (!arg[0] || arg[0] == '-' || arg[0] == '+' || arg[0] == ' ')
		usage_error("option -%c: '%s' is not a number", opt, arg);
	v = strtoull(arg, &end, 0);
	if (errno)
		usage_error("option -%c: '%s' is out of range", opt, arg);
	if (suffixes && *end) {
		switch (*end) {
		case 'k': case 'K': mult = 1ULL << 10; end++; break;
		case 'm': case 'M': mult = 1ULL << 20; end++; break;
		case 'g': case 'G': mult = 1ULL << 30; end++; break;
		}
	}
	if (*end || end == arg)
		usage_error("option -%c: '%s' is not a number", opt, arg);
	if (v > UINT64_MAX / mult)
		usage_error("option -%c: '%s' is out of range", opt, arg);
	v *= mult;
	if (v < min || v > max)
		usage_error("option -%c: %llu is out of range %" PRIu64 "..%" PRIu64,
			    opt, v, min, max);
	return v;
}

/* ---- time and signals ---------------------------------------------------- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t deadline_after_ms(uint64_t ms)
{
	return now_ns() + (int64_t)ms * 1000000LL;
}

static bool past(int64_t deadline)
{
	return now_ns() >= deadline;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/*
 * SIGINT/SIGTERM stay blocked except inside ppoll(), so a signal can never
 * slip in between the flag check and the wait.
 */
static void setup_signals(void)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
}

#define NO_CAP INT64_MAX

/*
 * Waits until an event, the deadline or a signal (then 0, with stop_requested
 * set). Waits at most `cap_ns`: a cap computed from a time the caller was
 * preempted past is negative and means "do not wait", never "no cap" (a sender
 * in a busy guest then slept out its whole deadline after one datagram).
 */
static int wait_events(struct pollfd *pfd, nfds_t n, int64_t deadline,
		       int64_t cap_ns)
{
	int64_t left = deadline - now_ns();
	struct timespec ts;
	int r;

	if (left < 0)
		left = 0;
	if (cap_ns < 0)
		cap_ns = 0;
	if (cap_ns < left)
		left = cap_ns;
	ts.tv_sec = left / 1000000000LL;
	ts.tv_nsec = left % 1000000000LL;
	r = ppoll(pfd, n, &ts, &wait_mask);
	if (r < 0 && errno == EINTR)
		return 0;
	return r;
}

/* Lets a pending SIGINT/SIGTERM in during loops that do not otherwise wait. */
static void check_signals(void)
{
	struct timespec zero = { 0, 0 };

	ppoll(NULL, 0, &zero, &wait_mask);
}

/* ---- addresses ----------------------------------------------------------- */

struct sockaddr_any {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	};
	socklen_t len;
};

static int pick_family(bool v6, const char *a, const char *b)
{
	if (v6 || (a && strchr(a, ':')) || (b && strchr(b, ':')))
		return AF_INET6;
	return AF_INET;
}

static void set_port(struct sockaddr_any *sa, uint16_t port)
{
	if (sa->sa.sa_family == AF_INET6)
		sa->in6.sin6_port = htons(port);
	else
		sa->in.sin_port = htons(port);
}

static uint16_t get_port(const struct sockaddr_any *sa)
{
	if (sa->sa.sa_family == AF_INET6)
		return ntohs(sa->in6.sin6_port);
	return ntohs(sa->in.sin_port);
}

/* Numeric addresses only (no DNS): a test must never wait on a resolver. */
static void parse_sockaddr(int opt, const char *s, int family, uint16_t port,
			   struct sockaddr_any *out)
{
	struct addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(s, NULL, &hints, &res) || !res ||
	    res->ai_addrlen > sizeof(out->ss)) {
		if (res)
			freeaddrinfo(res);
		usage_error("option -%c: '%s' is not a numeric IPv%d address",
			    opt, s, family == AF_INET6 ? 6 : 4);
	}
	memset(out, 0, sizeof(*out));
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	set_port(out, port);
}

/* Where a server listens: -l ADDR, or the loopback address of -6's family. */
static int listen_sockaddr(bool v6, const char *laddr, uint16_t port, struct sockaddr_any *out)
{
	int family = pick_family(v6, laddr, NULL);

	if (!laddr)
		laddr = family == AF_INET6 ? "::1" : "127.0.0.1";
	parse_sockaddr('l', laddr, family, port, out);
	return family;
}

static void wildcard_sockaddr(int family, uint16_t port, struct sockaddr_any *out)
{
	memset(out, 0, sizeof(*out));
	out->sa.sa_family = family;
	out->len = family == AF_INET6 ? sizeof(out->in6) : sizeof(out->in);
	set_port(out, port);
}

static const char *fmt_host(const struct sockaddr_any *sa, char *buf, size_t len)
{
	socklen_t sl = sa->sa.sa_family == AF_INET6 ? sizeof(sa->in6) : sizeof(sa->in);

	if (getnameinfo(&sa->sa, sl, buf, len, NULL, 0, NI_NUMERICHOST))
		snprintf(buf, len, "?");
	return buf;
}

static void print_payload(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		putchar(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
}

static void set_rcvbuf(int fd, int bytes)
{
	/* FORCE works as root and ignores rmem_max; the plain one is the fallback. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

static int bind_or_report(int fd, const struct sockaddr_any *sa)
{
	char host[NI_MAXHOST];

	if (bind(fd, &sa->sa, sa->len) == 0)
		return 0;
	errmsg("bind %s port %u: %s", fmt_host(sa, host, sizeof(host)),
	       get_port(sa), strerror(errno));
	return -1;
}

static void raise_nofile(uint64_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want) ?
		      want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static uint64_t nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	return rl.rlim_cur;
}

static void say_ready(void)
{
	puts("ready");
	fflush(stdout);
}

/* ---- udp-recv ------------------------------------------------------------ */

static int mode_udp_recv(int argc, char **argv)
{
	const char *laddr = NULL;
	uint64_t port = 0, count = 0, timeout = DEFAULT_TIMEOUT_MS, received = 0;
	bool have_n = false, echo = false, verbose = false, v6 = false;
	struct sockaddr_any local;
	int64_t deadline;
	uint8_t *buf;
	int fd, c, one = 1, failed = 0;

	while ((c = getopt(argc, argv, "+:l:p:n:t:ev6h")) != -1) {
		switch (c) {
		case 'l': laddr = optarg; break;
		case 'p': port = opt_num(c, optarg, 1, 65535, false); break;
		case 'n': count = opt_num(c, optarg, 0, UINT64_MAX, false); have_n = true; break;
		case 't': timeout = opt_num(c, optarg, 0, 86400000, false); break;
		case 'e': echo = true; break;
		case 'v': verbose = true; break;
		case '6': v6 = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: bad_option(c);
		}
	}
	no_extra_args(argc, argv);
	if (!port)
		usage_error("-p PORT is required");
	deadline = deadline_after_ms(timeout);

	int family = listen_sockaddr(v6, laddr, port, &local);

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		errmsg("socket: %s", strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_rcvbuf(fd, 4 << 20);
	if (bind_or_report(fd, &local)) {
		close(fd);
		return 1;
	}
	buf = malloc(UDP_BUF);
	if (!buf) {
		errmsg("out of memory");
		close(fd);
		return 1;
	}
	say_ready();

	while (!stop_requested && !(have_n && received >= count) && !past(deadline)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = wait_events(&pfd, 1, deadline, NO_CAP), burst;

		if (r < 0) {
			errmsg("poll: %s", strerror(errno));
			failed = 1;
			break;
		}
		if (r == 0)
			continue;
		for (burst = 0; burst < 256 && !(have_n && received >= count); burst++) {
			struct sockaddr_any from;
			char host[NI_MAXHOST];
			ssize_t len;

			from.len = sizeof(from.ss);
			len = recvfrom(fd, buf, UDP_BUF, 0, &from.sa, &from.len);
			if (len < 0) {
				if (errno != EAGAIN && errno != EINTR)
					errmsg("recvfrom: %s", strerror(errno));
				break;
			}
			received++;
			if (verbose) {
				printf("from %s %u len %zd: ", fmt_host(&from, host, sizeof(host)),
				       get_port(&from), len);
				print_payload(buf, len);
				putchar('\n');
			}
			if (echo && sendto(fd, buf, len, MSG_NOSIGNAL, &from.sa, from.len) < 0)
				errmsg("echo to %s port %u: %s", fmt_host(&from, host, sizeof(host)),
				       get_port(&from), strerror(errno));
		}
	}
	printf("received %" PRIu64 "\n", received);
	free(buf);
	close(fd);
	return (!failed && (!have_n || received >= count)) ? 0 : 1;
}

/* ---- udp-send ------------------------------------------------------------ */

/* Reads every reply queued now; prints each. */
static void drain_replies(int fd, uint8_t *buf, uint64_t *replies)
{
	int burst;

	for (burst = 0; burst < 1024; burst++) {
		struct sockaddr_any from;
		char host[NI_MAXHOST];
		ssize_t len;

		from.len = sizeof(from.ss);
		len = recvfrom(fd, buf, UDP_BUF, MSG_DONTWAIT, &from.sa, &from.len);
		if (len < 0) {
			/* ICMP errors are not queued on unconnected sockets; anything else is worth a line. */
			if (errno != EAGAIN && errno != EINTR)
				errmsg("recvfrom: %s", strerror(errno));
			return;
		}
		(*replies)++;
		printf("reply from %s %u: ", fmt_host(&from, host, sizeof(host)), get_port(&from));
		print_payload(buf, len);
		putchar('\n');
	}
}

/* The source address the kernel would pick for dst: a connected UDP socket's route lookup sends nothing. */
static void route_source(const struct sockaddr_any *dst, struct sockaddr_any *src)
{
	struct sockaddr_any tmp;
	int fd = socket(dst->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	tmp.len = sizeof(tmp.ss);
	if (connect(fd, &dst->sa, dst->len) == 0 &&
	    getsockname(fd, &tmp.sa, &tmp.len) == 0) {
		uint16_t port = get_port(src);

		*src = tmp;
		src->len = tmp.len;
		set_port(src, port);
	}
	close(fd);
}

static int mode_udp_send(int argc, char **argv)
{
	const char *daddr = NULL, *saddr = NULL, *msg = DEFAULT_MESSAGE;
	uint64_t port = 0, count = 1, sport = 0, interval_us = 0, wait_ms = 0;
	uint64_t timeout = DEFAULT_TIMEOUT_MS, sent = 0, replies = 0;
	bool have_w = false, have_s = false, v6 = false, failed = false;
	struct sockaddr_any dst, src;
	size_t msglen;
	int64_t deadline;
	uint8_t *buf;
	int fd, c;

	while ((c = getopt(argc, argv, "+:a:p:n:m:s:i:w:l:t:6h")) != -1) {
		switch (c) {
		case 'a': daddr = optarg; break;
		case 'p': port = opt_num(c, optarg, 1, 65535, false); break;
		case 'n': count = opt_num(c, optarg, 0, UINT64_MAX, false); break;
		case 'm': msg = optarg; break;
		case 's': sport = opt_num(c, optarg, 1, 65535, false); have_s = true; break;
		case 'i': interval_us = opt_num(c, optarg, 0, 3600000000ULL, false); break;
		case 'w': wait_ms = opt_num(c, optarg, 0, 86400000, false); have_w = true; break;
		case 'l': saddr = optarg; break;
		case 't': timeout = opt_num(c, optarg, 0, 86400000, false); break;
		case '6': v6 = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: bad_option(c);
		}
	}
	no_extra_args(argc, argv);
	if (!daddr)
		usage_error("-a ADDR is required");
	if (!port)
		usage_error("-p PORT is required");
	deadline = deadline_after_ms(timeout);

	int family = pick_family(v6, daddr, saddr);

	parse_sockaddr('a', daddr, family, port, &dst);
	if (saddr)
		parse_sockaddr('l', saddr, family, sport, &src);
	else
		wildcard_sockaddr(family, sport, &src);
	msglen = strlen(msg);

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		errmsg("socket: %s", strerror(errno));
		return 1;
	}
	set_rcvbuf(fd, 4 << 20);
	if ((saddr || have_s) && bind_or_report(fd, &src)) {
		close(fd);
		return 1;
	}
	buf = malloc(UDP_BUF);
	if (!buf) {
		errmsg("out of memory");
		close(fd);
		return 1;
	}

	while (sent < count && !stop_requested && !past(deadline)) {
		ssize_t r = sendto(fd, msg, msglen, MSG_NOSIGNAL, &dst.sa, dst.len);

		if (r < 0) {
			if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };

				/* ENOBUFS does not raise POLLOUT: retry after a short pause. */
				if (wait_events(&pfd, 1, deadline, errno == ENOBUFS ? 1000000 : NO_CAP) < 0)
					break;
				if (have_w)
					drain_replies(fd, buf, &replies);
				continue;
			}
			errmsg("sendto: %s", strerror(errno));
			failed = true;
			break;
		}
		if (sent++ == 0) {
			struct sockaddr_any me;
			char host[NI_MAXHOST];

			me.len = sizeof(me.ss);
			if (getsockname(fd, &me.sa, &me.len) == 0) {
				if (!saddr)
					route_source(&dst, &me);
				printf("src %s %u\n", fmt_host(&me, host, sizeof(host)), get_port(&me));
				fflush(stdout);
			}
		}
		if (have_w)
			drain_replies(fd, buf, &replies);
		if (interval_us && sent < count) {
			int64_t until = now_ns() + (int64_t)interval_us * 1000;

			while (!stop_requested && !past(until) && !past(deadline)) {
				struct pollfd pfd = { .fd = fd, .events = have_w ? POLLIN : 0 };

				if (wait_events(&pfd, 1, deadline, until - now_ns()) < 0)
					break;
				if (have_w)
					drain_replies(fd, buf, &replies);
			}
		} else {
			check_signals();
		}
	}
	printf("sent %" PRIu64 "\n", sent);
	if (sent < count && !failed)
		errmsg("sent %" PRIu64 " of %" PRIu64 " before %s", sent, count,
		       stop_requested ? "a signal" : "the timeout");
	if (have_w) {
		int64_t wait_end = now_ns() + (int64_t)wait_ms * 1000000LL;

		if (wait_end > deadline)
			wait_end = deadline;
		/* Stop early once every datagram has its reply: tests stay fast. */
		while (replies < sent && !stop_requested && !past(wait_end)) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int r = wait_events(&pfd, 1, wait_end, NO_CAP);

			if (r < 0)
				break;
			if (r > 0)
				drain_replies(fd, buf, &replies);
		}
		printf("replies %" PRIu64 "\n", replies);
	}
	free(buf);
	close(fd);
	if (failed || sent < count)
		return 1;
	return (!have_w || replies >= count) ? 0 : 1;
}

/* ---- the deterministic stream -------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t stream_key(uint64_t seed, uint64_t idx)
{
	return mix64(seed + idx);
}

/*
 * Bytes [pos, pos + n) of a stream. Any offset is computed directly, so the
 * sender and the checker of one connection need no shared state or buffer.
 */
static void stream_fill(uint64_t key, uint64_t pos, uint8_t *out, size_t n)
{
	while (n) {
		uint64_t w = mix64(key + (pos >> 3) * 0x9e3779b97f4a7c15ULL);
		unsigned int o = pos & 7;

		if (o == 0 && n >= 8) {
			int b;

			for (b = 0; b < 8; b++)
				out[b] = (uint8_t)(w >> (8 * b));
			out += 8;
			pos += 8;
			n -= 8;
			continue;
		}
		*out++ = (uint8_t)(w >> (8 * o));
		pos++;
		n--;
	}
}

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* ---- tcp-server ---------------------------------------------------------- */

struct sconn {
	int fd;
	uint8_t *buf;
	size_t off, len;
	bool eof;
};

/* Returns 0 to keep the connection, 1 when it completed, -1 when it failed. */
static int serve_conn(struct sconn *c, short rev, uint64_t *bytes, int *err)
{
	ssize_t r;

	if (rev & POLLNVAL) {
		*err = EBADF;
		return -1;
	}
	if ((rev & (POLLIN | POLLHUP | POLLERR)) && !c->eof) {
		if (!c->buf) {
			c->buf = malloc(ECHO_BUF);
			if (!c->buf) {
				*err = ENOMEM;
				return -1;
			}
		}
		if (c->off == c->len) {
			c->off = c->len = 0;
		} else if (c->len == ECHO_BUF && c->off) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->len < ECHO_BUF) {
			r = recv(c->fd, c->buf + c->len, ECHO_BUF - c->len, 0);
			if (r > 0) {
				c->len += r;
			} else if (r == 0) {
				c->eof = true;
			} else if (errno != EAGAIN && errno != EINTR) {
				*err = errno;
				return -1;
			}
		}
	}
	/* Write right away: the socket is usually writable and it saves a poll round. */
	if (c->len > c->off) {
		r = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
		if (r > 0) {
			c->off += r;
			*bytes += r;
		} else if (r < 0 && errno != EAGAIN && errno != EINTR) {
			*err = errno;
			return -1;
		}
	}
	if (c->eof && c->off == c->len)
		return 1;
	return 0;
}

static void sconn_close(struct sconn *c)
{
	close(c->fd);
	free(c->buf);
	c->buf = NULL;
}

static int mode_tcp_server(int argc, char **argv)
{
	const char *laddr = NULL;
	uint64_t port = 0, want = 0, timeout = DEFAULT_TIMEOUT_MS;
	uint64_t served = 0, bytes = 0, conn_errors = 0;
	bool have_n = false, v6 = false, accept_paused = false, failed = false;
	struct sockaddr_any local;
	struct sconn *conns = NULL;
	struct pollfd *pfd = NULL;
	size_t nconns = 0, cap = 0, i;
	int64_t deadline;
	int lfd, c, one = 1;

	while ((c = getopt(argc, argv, "+:l:p:n:t:6h")) != -1) {
		switch (c) {
		case 'l': laddr = optarg; break;
		case 'p': port = opt_num(c, optarg, 1, 65535, false); break;
		case 'n': want = opt_num(c, optarg, 0, UINT64_MAX, false); have_n = true; break;
		case 't': timeout = opt_num(c, optarg, 0, 86400000, false); break;
		case '6': v6 = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: bad_option(c);
		}
	}
	no_extra_args(argc, argv);
	if (!port)
		usage_error("-p PORT is required");
	deadline = deadline_after_ms(timeout);

	int family = listen_sockaddr(v6, laddr, port, &local);
	raise_nofile(65536);

	lfd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		errmsg("socket: %s", strerror(errno));
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind_or_report(lfd, &local)) {
		close(lfd);
		return 1;
	}
	if (listen(lfd, 4096)) {
		errmsg("listen: %s", strerror(errno));
		close(lfd);
		return 1;
	}
	say_ready();

	while (!stop_requested && !(have_n && served >= want) && !past(deadline)) {
		int r;

		if (cap < nconns + 1) {
			/* An accept burst can add up to 256 connections at once. */
			size_t ncap = cap ? cap : 64;
			struct pollfd *np;

			while (ncap < nconns + 1)
				ncap *= 2;
			np = realloc(pfd, (ncap + 1) * sizeof(*pfd));

			if (!np) {
				errmsg("out of memory");
				failed = true;
				break;
			}
			pfd = np;
			cap = ncap;
		}
		pfd[0].fd = lfd;
		pfd[0].events = accept_paused ? 0 : POLLIN;
		pfd[0].revents = 0;
		for (i = 0; i < nconns; i++) {
			struct sconn *sc = &conns[i];

			pfd[i + 1].fd = sc->fd;
			pfd[i + 1].events = 0;
			pfd[i + 1].revents = 0;
			if (!sc->eof && sc->len - sc->off < ECHO_BUF)
				pfd[i + 1].events |= POLLIN;
			if (sc->len > sc->off)
				pfd[i + 1].events |= POLLOUT;
		}
		r = wait_events(pfd, nconns + 1, deadline, NO_CAP);
		if (r < 0) {
			errmsg("poll: %s", strerror(errno));
			failed = true;
			break;
		}
		if (r == 0)
			continue;

		/* Backwards, so removing one (swap with the last) keeps the pfd mapping valid. */
		for (i = nconns; i-- > 0;) {
			int err = 0, res;

			if (!pfd[i + 1].revents)
				continue;
			res = serve_conn(&conns[i], pfd[i + 1].revents, &bytes, &err);
			if (res == 0)
				continue;
			if (res > 0) {
				served++;
			} else if (conn_errors++ < 10) {
				errmsg("connection failed: %s", strerror(err));
			}
			sconn_close(&conns[i]);
			conns[i] = conns[--nconns];
			accept_paused = false;
		}

		if (pfd[0].revents & POLLIN) {
			int burst;

			for (burst = 0; burst < 256; burst++) {
				int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (cfd < 0) {
					if (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
					    errno == ENOBUFS) {
						/* Resume when a connection closes, not in a busy loop. */
						if (!accept_paused)
							errmsg("accept: %s (pausing)", strerror(errno));
						accept_paused = nconns > 0;
					} else if (errno != EAGAIN && errno != EINTR &&
						   errno != ECONNABORTED) {
						errmsg("accept: %s", strerror(errno));
					}
					break;
				}
				if (nconns % 64 == 0) {
					struct sconn *nc = realloc(conns, (nconns + 64) * sizeof(*conns));

					if (!nc) {
						close(cfd);
						break;
					}
					conns = nc;
				}
				conns[nconns].fd = cfd;
				conns[nconns].buf = NULL;
				conns[nconns].off = conns[nconns].len = 0;
				conns[nconns].eof = false;
				nconns++;
			}
		}
	}
	for (i = 0; i < nconns; i++)
		sconn_close(&conns[i]);
	free(conns);
	free(pfd);
	close(lfd);
	printf("served %" PRIu64 " bytes %" PRIu64 "\n", served, bytes);
	if (have_n && served < want)
		errmsg("served %" PRIu64 " of %" PRIu64 " connections before %s", served,
		       want, stop_requested ? "a signal" : "the timeout");
	return (!failed && (!have_n || served >= want)) ? 0 : 1;
}

/* ---- tcp-client ---------------------------------------------------------- */

struct cconn {
	int fd;
	uint64_t idx, key, sent, rcvd;
	bool connecting, shut;
};

struct client {
	uint64_t bytes;
	uint8_t *txbuf, *rxbuf, *expbuf;
	/* Which stream range txbuf holds: partial sends then need no regeneration. */
	uint64_t tx_idx, tx_start, tx_len;
	bool tx_valid;
	/* FNV-1a of stream 0, fed by connection 0 as send() accepts its bytes. */
	uint64_t hash, hashed;
};

__attribute__((format(printf, 2, 3)))
static void conn_fail(const struct cconn *cc, const char *fmt, ...)
{
	va_list ap;

	printf("conn %" PRIu64 ": ", cc->idx);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Returns 0 to keep going, 1 when the echo checked out, -1 after a failure (printed). */
static int client_io(struct client *cl, struct cconn *cc, short rev)
{
	int burst;

	if (cc->connecting) {
		int err = 0;
		socklen_t el = sizeof(err);

		if (!(rev & (POLLOUT | POLLERR | POLLHUP)))
			return 0;
		if (getsockopt(cc->fd, SOL_SOCKET, SO_ERROR, &err, &el))
			err = errno;
		if (err) {
			conn_fail(cc, "connect: %s", strerror(err));
			return -1;
		}
		cc->connecting = false;
		rev |= POLLOUT;
	}
	if ((rev & (POLLOUT | POLLERR)) && cc->sent < cl->bytes) {
		for (burst = 0; burst < 4 && cc->sent < cl->bytes; burst++) {
			ssize_t r;
			size_t avail;
			uint8_t *p;

			if (!cl->tx_valid || cl->tx_idx != cc->idx || cc->sent < cl->tx_start ||
			    cc->sent >= cl->tx_start + cl->tx_len) {
				uint64_t n = cl->bytes - cc->sent;

				if (n > CLIENT_CHUNK)
					n = CLIENT_CHUNK;
				stream_fill(cc->key, cc->sent, cl->txbuf, n);
				cl->tx_idx = cc->idx;
				cl->tx_start = cc->sent;
				cl->tx_len = n;
				cl->tx_valid = true;
			}
			p = cl->txbuf + (cc->sent - cl->tx_start);
			avail = cl->tx_start + cl->tx_len - cc->sent;
			r = send(cc->fd, p, avail, MSG_NOSIGNAL);
			if (r < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				conn_fail(cc, "send after %" PRIu64 " of %" PRIu64 " bytes: %s",
					  cc->sent, cl->bytes, strerror(errno));
				return -1;
			}
			if (cc->idx == 0) {
				cl->hash = fnv1a(cl->hash, p, r);
				cl->hashed += r;
			}
			cc->sent += r;
			if ((size_t)r < avail)
				break;
		}
	}
	if (cc->sent == cl->bytes && !cc->shut) {
		if (shutdown(cc->fd, SHUT_WR)) {
			conn_fail(cc, "shutdown: %s", strerror(errno));
			return -1;
		}
		cc->shut = true;
	}
	if (!(rev & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	for (burst = 0; burst < 4; burst++) {
		ssize_t r = recv(cc->fd, cl->rxbuf, CLIENT_CHUNK, 0);

		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			conn_fail(cc, "recv after %" PRIu64 " of %" PRIu64 " bytes: %s",
				  cc->rcvd, cl->bytes, strerror(errno));
			return -1;
		}
		if (r == 0) {
			if (cc->shut && cc->rcvd == cl->bytes)
				return 1;
			conn_fail(cc, "EOF after %" PRIu64 " of %" PRIu64 " bytes echoed",
				  cc->rcvd, cl->bytes);
			return -1;
		}
		if ((uint64_t)r > cl->bytes - cc->rcvd) {
			conn_fail(cc, "echo longer than sent (%" PRIu64 " > %" PRIu64 " bytes)",
				  cc->rcvd + r, cl->bytes);
			return -1;
		}
		stream_fill(cc->key, cc->rcvd, cl->expbuf, r);
		if (memcmp(cl->expbuf, cl->rxbuf, r)) {
			ssize_t k = 0;

			while (cl->expbuf[k] == cl->rxbuf[k])
				k++;
			conn_fail(cc, "echo differs at byte %" PRIu64, cc->rcvd + k);
			return -1;
		}
		cc->rcvd += r;
	}
	return 0;
}

/* Returns 0 when the connection is under way, -1 after a failure (printed). */
static int client_start(struct cconn *cc, const struct sockaddr_any *dst,
			const struct sockaddr_any *src, bool bind_src)
{
	int one = 1;

	cc->fd = socket(dst->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (cc->fd < 0) {
		conn_fail(cc, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind_src) {
		/* A fixed source port is reused run after run: TIME_WAIT must not block bind. */
		setsockopt(cc->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(cc->fd, &src->sa, src->len)) {
			conn_fail(cc, "bind source port %u: %s", get_port(src), strerror(errno));
			close(cc->fd);
			return -1;
		}
	}
	if (connect(cc->fd, &dst->sa, dst->len) && errno != EINPROGRESS) {
		conn_fail(cc, "connect: %s", strerror(errno));
		close(cc->fd);
		return -1;
	}
	cc->connecting = true;
	return 0;
}

static int mode_tcp_client(int argc, char **argv)
{
	const char *daddr = NULL, *saddr = NULL;
	uint64_t port = 0, bytes = 1024, conc = 1, nconn = 1, timeout = DEFAULT_TIMEOUT_MS;
	uint64_t sport = 0, seed = 0, started = 0, ok = 0, nfailed = 0, okbytes = 0;
	bool have_s = false, v6 = false, fatal = false;
	struct sockaddr_any dst, src;
	struct client cl;
	struct cconn *act = NULL;
	struct pollfd *pfd = NULL;
	size_t nact = 0, i;
	int64_t deadline;
	int c;

	while ((c = getopt(argc, argv, "+:a:p:b:c:n:t:s:l:S:6h")) != -1) {
		switch (c) {
		case 'a': daddr = optarg; break;
		case 'p': port = opt_num(c, optarg, 1, 65535, false); break;
		case 'b': bytes = opt_num(c, optarg, 0, 1ULL << 50, true); break;
		case 'c': conc = opt_num(c, optarg, 1, 1000000, false); break;
		case 'n': nconn = opt_num(c, optarg, 0, UINT64_MAX, false); break;
		case 't': timeout = opt_num(c, optarg, 0, 86400000, false); break;
		case 's': sport = opt_num(c, optarg, 1, 65535, false); have_s = true; break;
		case 'l': saddr = optarg; break;
		case 'S': seed = opt_num(c, optarg, 0, UINT64_MAX, false); break;
		case '6': v6 = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: bad_option(c);
		}
	}
	no_extra_args(argc, argv);
	if (!daddr)
		usage_error("-a ADDR is required");
	if (!port)
		usage_error("-p PORT is required");
	if (have_s && conc > 1)
		usage_error("-s SRCPORT needs -c 1: connections cannot share a source port at once");
	deadline = deadline_after_ms(timeout);

	int family = pick_family(v6, daddr, saddr);

	parse_sockaddr('a', daddr, family, port, &dst);
	if (saddr)
		parse_sockaddr('l', saddr, family, sport, &src);
	else
		wildcard_sockaddr(family, sport, &src);

	if (conc > nconn)
		conc = nconn ? nconn : 1;
	raise_nofile(conc + 64);
	if (conc + 16 > nofile_limit()) {
		errmsg("-c %" PRIu64 " needs more file descriptors than the limit %" PRIu64,
		       conc, nofile_limit());
		return 1;
	}

	memset(&cl, 0, sizeof(cl));
	cl.bytes = bytes;
	cl.txbuf = malloc(CLIENT_CHUNK);
	cl.rxbuf = malloc(CLIENT_CHUNK);
	cl.expbuf = malloc(CLIENT_CHUNK);
	act = calloc(conc, sizeof(*act));
	pfd = calloc(conc, sizeof(*pfd));
	if (!cl.txbuf || !cl.rxbuf || !cl.expbuf || !act || !pfd) {
		errmsg("out of memory");
		fatal = true;
		goto out;
	}

	cl.hash = FNV_OFFSET;
	while (!stop_requested && !past(deadline)) {
		int r;

		while (nact < conc && started < nconn) {
			struct cconn *cc = &act[nact];

			memset(cc, 0, sizeof(*cc));
			cc->idx = started++;
			cc->key = stream_key(seed, cc->idx);
			if (client_start(cc, &dst, &src, saddr || have_s))
				nfailed++;
			else
				nact++;
		}
		if (!nact)
			break;
		for (i = 0; i < nact; i++) {
			pfd[i].fd = act[i].fd;
			pfd[i].revents = 0;
			if (act[i].connecting)
				pfd[i].events = POLLOUT;
			else
				pfd[i].events = POLLIN | (act[i].sent < bytes ? POLLOUT : 0);
		}
		r = wait_events(pfd, nact, deadline, NO_CAP);
		if (r < 0) {
			errmsg("poll: %s", strerror(errno));
			fatal = true;
			break;
		}
		for (i = nact; r > 0 && i-- > 0;) {
			int res;

			if (!pfd[i].revents)
				continue;
			res = client_io(&cl, &act[i], pfd[i].revents);
			if (res == 0)
				continue;
			if (res > 0) {
				ok++;
				okbytes += act[i].rcvd;
			} else {
				nfailed++;
			}
			close(act[i].fd);
			act[i] = act[--nact];
		}
	}
	for (i = 0; i < nact; i++) {
		conn_fail(&act[i], "%s (%s, sent %" PRIu64 " echoed %" PRIu64 " of %" PRIu64 ")",
			  stop_requested ? "interrupted" : "timeout",
			  act[i].connecting ? "connecting" : "open",
			  act[i].sent, act[i].rcvd, bytes);
		close(act[i].fd);
		nfailed++;
	}
	if (started < nconn) {
		/* One line for the whole range: thousands of identical lines help nobody. */
		if (nconn - started == 1)
			printf("conn %" PRIu64 ": not started (%s)\n", started,
			       stop_requested ? "interrupted" : "timeout");
		else
			printf("conn %" PRIu64 "-%" PRIu64 ": not started (%s)\n", started,
			       nconn - 1, stop_requested ? "interrupted" : "timeout");
		nfailed += nconn - started;
	}
	/* Only when connection 0 did not send it all: costs about 1 s per GB, after the run. */
	while (cl.hashed < bytes) {
		size_t n = bytes - cl.hashed < CLIENT_CHUNK ? bytes - cl.hashed : CLIENT_CHUNK;

		stream_fill(stream_key(seed, 0), cl.hashed, cl.txbuf, n);
		cl.hash = fnv1a(cl.hash, cl.txbuf, n);
		cl.hashed += n;
	}
	printf("ok %" PRIu64 " failed %" PRIu64 " bytes %" PRIu64 " hash %016" PRIx64 "\n",
	       ok, nfailed, okbytes, cl.hash);
out:
	free(cl.txbuf);
	free(cl.rxbuf);
	free(cl.expbuf);
	free(act);
	free(pfd);
	return (!fatal && ok == nconn) ? 0 : 1;
}

/* ---- packet parsing and checksums ----------------------------------------- */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t sum16(const uint8_t *p, size_t n, uint64_t acc)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += rd16(p + i);
	if (n & 1)
		acc += (uint64_t)p[n - 1] << 8;
	return acc;
}

static uint16_t fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

enum verdict { V_OK, V_BAD, V_PARTIAL, V_NOCSUM, V_FRAG };

static const char *const verdict_name[] = {
	[V_OK] = "ok", [V_BAD] = "bad", [V_PARTIAL] = "partial",
	[V_NOCSUM] = "nocsum", [V_FRAG] = "frag",
};

struct pkt {
	int family;
	uint8_t proto;
	const uint8_t *src, *dst;	/* dst: the final destination (pseudo-header) */
	const uint8_t *hdr_dst;		/* dst as written in the IP header */
	uint16_t sport, dport, csum;
	const uint8_t *l4;
	size_t l4len;			/* from the IP header */
	bool truncated;			/* frame shorter than the IP header claims */
	bool frag;			/* first fragment of a fragmented datagram */
};

/* Returns 0 and fills *pk for a UDP/TCP packet with its ports, -1 to skip the frame. */
static int parse_ipv4(const uint8_t *p, size_t len, struct pkt *pk)
{
	size_t ihl, tot, avail;
	uint16_t frag;

	if (len < 20 || (p[0] >> 4) != 4)
		return -1;
	ihl = (p[0] & 15) * 4;
	tot = rd16(p + 2);
	if (ihl < 20 || tot < ihl || len < ihl)
		return -1;
	frag = rd16(p + 6);
	if (frag & 0x1fff)
		return -1;	/* a later fragment: no L4 header here */
	pk->family = AF_INET;
	pk->proto = p[9];
	pk->src = p + 12;
	pk->dst = pk->hdr_dst = p + 16;
	pk->frag = frag & 0x2000;
	pk->truncated = tot > len;
	avail = (tot > len ? len : tot) - ihl;
	pk->l4 = p + ihl;
	pk->l4len = tot - ihl;
	if (avail < 4)
		return -1;
	pk->sport = rd16(pk->l4);
	pk->dport = rd16(pk->l4 + 2);
	return 0;
}

static int parse_ipv6(const uint8_t *p, size_t len, struct pkt *pk)
{
	size_t off = 40, end, plen;
	uint8_t nh;
	int i;

	if (len < 40 || (p[0] >> 4) != 6)
		return -1;
	plen = rd16(p + 4);
	if (!plen)
		return -1;	/* jumbogram: out of scope */
	pk->family = AF_INET6;
	pk->src = p + 8;
	pk->dst = pk->hdr_dst = p + 24;
	pk->frag = false;
	pk->truncated = 40 + plen > len;
	end = pk->truncated ? len : 40 + plen;
	nh = p[6];
	for (i = 0; i < 16; i++) {
		size_t hlen;

		if (nh == 0 || nh == 60 || nh == 43) {
			if (off + 8 > end)
				return -1;
			hlen = (p[off + 1] + 1) * 8;
			if (nh == 43 && p[off + 3] > 0) {
				/* Segments left: the pseudo-header uses the final destination. */
				uint8_t type = p[off + 2];
				size_t naddr = p[off + 1] / 2;

				if ((type == 0 || type == 2) && naddr &&
				    off + 8 + naddr * 16 <= end)
					pk->dst = p + off + 8 + (naddr - 1) * 16;
				else if (type == 4 && naddr && off + 24 <= end)
					pk->dst = p + off + 8;
			}
		} else if (nh == 44) {
			uint16_t fo;

			if (off + 8 > end)
				return -1;
			fo = rd16(p + off + 2);
			if (fo >> 3)
				return -1;	/* a later fragment */
			if (fo & 1)
				pk->frag = true;
			hlen = 8;
		} else if (nh == 51) {
			if (off + 2 > end)
				return -1;
			hlen = (p[off + 1] + 2) * 4;
		} else {
			break;
		}
		nh = p[off];
		off += hlen;
	}
	if (off > 40 + plen || off > end)
		return -1;
	pk->proto = nh;
	pk->l4 = p + off;
	pk->l4len = 40 + plen - off;
	if (end - off < 4)
		return -1;
	pk->sport = rd16(pk->l4);
	pk->dport = rd16(pk->l4 + 2);
	return 0;
}

/* Full verification from scratch: pseudo-header plus the whole segment. */
static enum verdict verify_l4(struct pkt *pk, bool csum_pending)
{
	size_t coff = pk->proto == 17 ? 6 : 16, l4len = pk->l4len;
	uint64_t s;

	if (pk->truncated || l4len < coff + 2) {
		pk->csum = 0;
		return pk->frag ? V_FRAG : (csum_pending ? V_PARTIAL : V_BAD);
	}
	pk->csum = rd16(pk->l4 + coff);
	if (pk->frag)
		return V_FRAG;
	if (csum_pending)
		return V_PARTIAL;
	if (pk->proto == 17) {
		size_t ulen = rd16(pk->l4 + 4);

		if (ulen < 8 || ulen > l4len)
			return V_BAD;
		l4len = ulen;
		if (pk->csum == 0)
			return pk->family == AF_INET ? V_NOCSUM : V_BAD;
	}
	if (pk->family == AF_INET) {
		s = sum16(pk->src, 4, 0);
		s = sum16(pk->dst, 4, s);
	} else {
		s = sum16(pk->src, 16, 0);
		s = sum16(pk->dst, 16, s);
		s += l4len >> 16;
	}
	s += pk->proto;
	s += l4len & 0xffff;
	s = sum16(pk->l4, l4len, s);
	return fold(s) == 0xffff ? V_OK : V_BAD;
}

/* Checksum value for a new packet whose checksum field is still 0. */
static uint16_t l4_csum(int family, const uint8_t *src, const uint8_t *dst,
			uint8_t proto, const uint8_t *l4, size_t l4len)
{
	size_t alen = family == AF_INET ? 4 : 16;
	uint64_t s = sum16(src, alen, 0);
	uint16_t c;

	s = sum16(dst, alen, s);
	s += proto + (l4len & 0xffff) + (l4len >> 16);
	s = sum16(l4, l4len, s);
	c = (uint16_t)~fold(s);
	return (proto == 17 && c == 0) ? 0xffff : c;
}

/* ---- capture ------------------------------------------------------------- */

static bool is_eth_like(unsigned short hatype)
{
	return hatype == ARPHRD_ETHER || hatype == ARPHRD_LOOPBACK;
}

static int mode_capture(int argc, char **argv)
{
	const char *ifname = NULL;
	uint64_t port = 0, count = 0, timeout = DEFAULT_TIMEOUT_MS;
	uint64_t captured = 0, n_ok = 0, n_bad = 0, n_partial = 0, n_nocsum = 0;
	bool have_n = false, have_p = false, verbose = false, outgoing = false;
	bool failed = false;
	int want_proto = 0, fd, c, one = 1, drained;
	unsigned int ifindex;
	struct sockaddr_ll sll;
	struct tpacket_stats st;
	socklen_t stlen = sizeof(st);
	int64_t deadline;
	uint8_t *buf;

	while ((c = getopt(argc, argv, "+:i:p:P:n:t:ovh")) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 'p': port = opt_num(c, optarg, 0, 65535, false); have_p = true; break;
		case 'P':
			if (!strcmp(optarg, "udp"))
				want_proto = 17;
			else if (!strcmp(optarg, "tcp"))
				want_proto = 6;
			else
				usage_error("option -P: '%s' is not udp or tcp", optarg);
			break;
		case 'n': count = opt_num(c, optarg, 0, UINT64_MAX, false); have_n = true; break;
		case 't': timeout = opt_num(c, optarg, 0, 86400000, false); break;
		case 'o': outgoing = true; break;
		case 'v': verbose = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: bad_option(c);
		}
	}
	no_extra_args(argc, argv);
	if (!ifname)
		usage_error("-i IFNAME is required");
	deadline = deadline_after_ms(timeout);
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		errmsg("interface %s: %s", ifname, strerror(errno));
		return 1;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		errmsg("packet socket: %s", strerror(errno));
		return 1;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one))) {
		errmsg("PACKET_AUXDATA: %s", strerror(errno));
		close(fd);
		return 1;
	}
	set_rcvbuf(fd, 8 << 20);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		errmsg("bind to %s: %s", ifname, strerror(errno));
		close(fd);
		return 1;
	}
	buf = malloc(CAPTURE_BUF);
	if (!buf) {
		errmsg("out of memory");
		close(fd);
		return 1;
	}
	/* Frames queued before bind may be from any interface and predate "ready". */
	for (drained = 0; drained < 100000; drained++)
		if (recv(fd, buf, CAPTURE_BUF, MSG_DONTWAIT) < 0)
			break;
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen);	/* resets them */
	say_ready();

	while (!stop_requested && !(have_n && captured >= count) && !past(deadline)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = wait_events(&pfd, 1, deadline, NO_CAP), burst;

		if (r < 0) {
			errmsg("poll: %s", strerror(errno));
			failed = true;
			break;
		}
		if (r == 0)
			continue;
		for (burst = 0; burst < 256 && !(have_n && captured >= count); burst++) {
			union {
				struct cmsghdr h;
				char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
			} cbuf;
			struct tpacket_auxdata aux;
			struct sockaddr_ll from;
			struct iovec iov = { .iov_base = buf, .iov_len = CAPTURE_BUF };
			struct msghdr mh = {
				.msg_name = &from, .msg_namelen = sizeof(from),
				.msg_iov = &iov, .msg_iovlen = 1,
				.msg_control = &cbuf, .msg_controllen = sizeof(cbuf),
			};
			struct cmsghdr *cm;
			bool have_aux = false;
			unsigned int vids[9], nvid = 0, v;
			size_t len, off = 0;
			uint16_t etype;
			struct pkt pk;
			enum verdict vd;
			ssize_t got;
			int perr;

			got = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
			if (got < 0) {
				if (errno != EAGAIN && errno != EINTR)
					errmsg("recvmsg: %s", strerror(errno));
				break;
			}
			if ((unsigned int)from.sll_ifindex != ifindex)
				continue;
			if (from.sll_pkttype == PACKET_OUTGOING && !outgoing)
				continue;
			len = (size_t)got > CAPTURE_BUF ? CAPTURE_BUF : (size_t)got;
			memset(&aux, 0, sizeof(aux));
			for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
				if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA &&
				    cm->cmsg_len >= CMSG_LEN(sizeof(aux))) {
					memcpy(&aux, CMSG_DATA(cm), sizeof(aux));
					have_aux = true;
				}
			}
			if (have_aux && (aux.tp_status & TP_STATUS_VLAN_VALID))
				vids[nvid++] = aux.tp_vlan_tci & 0xfff;

			if (is_eth_like(from.sll_hatype)) {
				if (len < 14)
					continue;
				etype = rd16(buf + 12);
				off = 14;
				while ((etype == 0x8100 || etype == 0x88a8) && nvid < 9 &&
				       off + 4 <= len) {
					vids[nvid++] = rd16(buf + off) & 0xfff;
					etype = rd16(buf + off + 2);
					off += 4;
				}
			} else {
				etype = ntohs(from.sll_protocol);
			}
			memset(&pk, 0, sizeof(pk));
			if (etype == ETH_P_IP)
				perr = parse_ipv4(buf + off, len - off, &pk);
			else if (etype == ETH_P_IPV6)
				perr = parse_ipv6(buf + off, len - off, &pk);
			else
				continue;
			if (perr || (pk.proto != 6 && pk.proto != 17))
				continue;
			if (want_proto && pk.proto != want_proto)
				continue;
			if (have_p && pk.dport != port)
				continue;

			vd = verify_l4(&pk, have_aux && (aux.tp_status & TP_STATUS_CSUMNOTREADY));
			if (pk.truncated && vd == V_BAD)
				errmsg("frame of %zd bytes is shorter than its IP header says", got);
			if (verbose) {
				char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

				inet_ntop(pk.family, pk.src, s, sizeof(s));
				inet_ntop(pk.family, pk.hdr_dst, d, sizeof(d));
				printf("%s %s:%u -> %s:%u csum %04x %s", pk.proto == 17 ? "udp" : "tcp",
				       s, pk.sport, d, pk.dport, pk.csum, verdict_name[vd]);
				for (v = 0; v < nvid; v++)
					printf("%s%u", v ? "." : " vlan ", vids[v]);
				if (outgoing)
					printf(" %s", from.sll_pkttype == PACKET_OUTGOING ? "out" : "in");
				putchar('\n');
			}
			if (vd == V_FRAG)
				continue;	/* cannot be verified alone: not counted */
			captured++;
			switch (vd) {
			case V_OK: n_ok++; break;
			case V_BAD: n_bad++; break;
			case V_PARTIAL: n_partial++; break;
			case V_NOCSUM: n_nocsum++; break;
			case V_FRAG: break;
			}
		}
	}
	stlen = sizeof(st);
	if (!getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen) && st.tp_drops)
		errmsg("the kernel dropped %u frames (receive buffer full)", st.tp_drops);
	printf("captured %" PRIu64 " ok %" PRIu64 " bad %" PRIu64 " partial %" PRIu64
	       " nocsum %" PRIu64 "\n", captured, n_ok, n_bad, n_partial, n_nocsum);
	free(buf);
	close(fd);
	if (failed || n_bad)
		return 1;
	return (!have_n || captured >= count) ? 0 : 1;
}

/* ---- send-raw-udp (hidden; for checksum tests) ---------------------------- */

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static int mode_send_raw_udp(int argc, char **argv)
{
	const char *daddr = NULL, *saddr = NULL, *msg = DEFAULT_MESSAGE, *ifname = "lo";
	const char *csum_mode = "good", *label;
	uint64_t port = 0, sport = 40000, count = 1, timeout = DEFAULT_TIMEOUT_MS;
	uint64_t csum_value = 0, sent = 0;
	unsigned int vlans[2], nvlan = 0, v;
	bool v6 = false;
	uint8_t dmac[6] = { 0 }, frame[1600], *ip, *l4, proto = 17;
	struct sockaddr_any dst, src;
	struct sockaddr_ll sll;
	struct ifreq ifr;
	size_t msglen, off = 0, iplen, l4hdr, frame_len;
	uint16_t csum, good;
	int64_t deadline;
	int fd, c, family;
	unsigned int ifindex;

	while ((c = getopt(argc, argv, "+:a:p:l:s:m:n:i:c:P:V:M:t:6h")) != -1) {
		switch (c) {
		case 'a': daddr = optarg; break;
		case 'p': port = opt_num(c, optarg, 0, 65535, false); break;
		case 'l': saddr = optarg; break;
		case 's': sport = opt_num(c, optarg, 0, 65535, false); break;
		case 'm': msg = optarg; break;
		case 'n': count = opt_num(c, optarg, 0, 1000000, false); break;
		case 'i': ifname = optarg; break;
		case 'c': csum_mode = optarg; break;
		case 'P':
			if (!strcmp(optarg, "udp"))
				proto = 17;
			else if (!strcmp(optarg, "tcp"))
				proto = 6;
			else
				usage_error("option -P: '%s' is not udp or tcp", optarg);
			break;
		case 'V': {
			char *comma = strchr(optarg, ',');

			if (comma) {
				*comma = 0;
				vlans[1] = opt_num(c, comma + 1, 0, 4095, false);
			}
			vlans[0] = opt_num(c, optarg, 0, 4095, false);
			nvlan = comma ? 2 : 1;
			break;
		}
		case 'M':
			if (parse_mac(optarg, dmac))
				usage_error("option -M: '%s' is not a MAC address", optarg);
			break;
		case 't': timeout = opt_num(c, optarg, 0, 86400000, false); break;
		case '6': v6 = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: bad_option(c);
		}
	}
	no_extra_args(argc, argv);
	if (!daddr)
		usage_error("-a ADDR is required");
	if (strcmp(csum_mode, "good") && strcmp(csum_mode, "bad") && strcmp(csum_mode, "zero"))
		csum_value = opt_num('c', csum_mode, 0, 65535, false);
	deadline = deadline_after_ms(timeout);
	family = pick_family(v6, daddr, saddr);
	parse_sockaddr('a', daddr, family, port, &dst);
	parse_sockaddr('l', saddr ? saddr : (family == AF_INET6 ? "::1" : "127.0.0.1"),
		       family, sport, &src);
	msglen = strlen(msg);
	l4hdr = proto == 17 ? 8 : 20;
	iplen = (family == AF_INET6 ? 40 : 20) + l4hdr + msglen;
	if (iplen + 22 > sizeof(frame))
		usage_error("message too long (max %zu bytes)", sizeof(frame) - 22 - 60);

	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		errmsg("interface %s: %s", ifname, strerror(errno));
		return 1;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		errmsg("packet socket: %s", strerror(errno));
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) ||
	    !is_eth_like(ifr.ifr_hwaddr.sa_family)) {
		errmsg("%s is not an Ethernet-like interface", ifname);
		close(fd);
		return 1;
	}

	memset(frame, 0, sizeof(frame));
	memcpy(frame, dmac, 6);
	memcpy(frame + 6, ifr.ifr_hwaddr.sa_data, 6);
	off = 12;
	for (v = 0; v < nvlan; v++) {
		/* Two tags: an 802.1ad outer tag around an 802.1Q one (QinQ). */
		uint16_t tpid = (nvlan == 2 && v == 0) ? 0x88a8 : 0x8100;

		frame[off] = (uint8_t)(tpid >> 8);
		frame[off + 1] = (uint8_t)tpid;
		frame[off + 2] = (uint8_t)(vlans[v] >> 8);
		frame[off + 3] = (uint8_t)vlans[v];
		off += 4;
	}
	frame[off] = family == AF_INET6 ? 0x86 : 0x08;
	frame[off + 1] = family == AF_INET6 ? 0xdd : 0x00;
	off += 2;
	ip = frame + off;
	if (family == AF_INET) {
		ip[0] = 0x45;
		ip[2] = (uint8_t)(iplen >> 8);
		ip[3] = (uint8_t)iplen;
		ip[6] = 0x40;	/* DF */
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, &src.in.sin_addr, 4);
		memcpy(ip + 16, &dst.in.sin_addr, 4);
		csum = (uint16_t)~fold(sum16(ip, 20, 0));
		ip[10] = (uint8_t)(csum >> 8);
		ip[11] = (uint8_t)csum;
		l4 = ip + 20;
	} else {
		ip[0] = 0x60;
		ip[4] = (uint8_t)((iplen - 40) >> 8);
		ip[5] = (uint8_t)(iplen - 40);
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, &src.in6.sin6_addr, 16);
		memcpy(ip + 24, &dst.in6.sin6_addr, 16);
		l4 = ip + 40;
	}
	l4[0] = (uint8_t)(sport >> 8);
	l4[1] = (uint8_t)sport;
	l4[2] = (uint8_t)(port >> 8);
	l4[3] = (uint8_t)port;
	if (proto == 17) {
		l4[4] = (uint8_t)((8 + msglen) >> 8);
		l4[5] = (uint8_t)(8 + msglen);
	} else {
		/* A PSH|ACK segment to nobody: the peer answers with a RST, nothing more. */
		l4[7] = 1;		/* seq */
		l4[11] = 1;		/* ack */
		l4[12] = 5 << 4;	/* data offset */
		l4[13] = 0x18;
		l4[14] = 0xff;		/* window */
		l4[15] = 0xff;
	}
	memcpy(l4 + l4hdr, msg, msglen);
	good = l4_csum(family, family == AF_INET ? ip + 12 : ip + 8,
		       family == AF_INET ? ip + 16 : ip + 24, proto, l4, l4hdr + msglen);
	if (!strcmp(csum_mode, "good"))
		csum = good;
	else if (!strcmp(csum_mode, "zero"))
		csum = 0;
	else if (!strcmp(csum_mode, "bad"))
		/* Wrong, and neither 0 (IPv4 "no checksum") nor the other form of the right one. */
		csum = (good ^ 0x5a5a) ? (uint16_t)(good ^ 0x5a5a) : 0x1111;
	else
		csum = (uint16_t)csum_value;
	l4[proto == 17 ? 6 : 16] = (uint8_t)(csum >> 8);
	l4[proto == 17 ? 7 : 17] = (uint8_t)csum;
	frame_len = off + iplen;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifindex;
	sll.sll_protocol = htons(nvlan ? (nvlan == 2 ? 0x88a8 : 0x8100) :
				 (family == AF_INET6 ? ETH_P_IPV6 : ETH_P_IP));
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, dmac, 6);
	/* Both forms of zero are right for TCP; for UDP, 0 means "none" (IPv4) or is invalid (IPv6). */
	if (csum == good || (proto == 6 && (csum ^ good) == 0xffff && (csum == 0 || good == 0)))
		label = "good";
	else
		label = csum ? "bad" : "zero";
	printf("csum %04x %s\n", csum, label);
	while (sent < count && !stop_requested && !past(deadline)) {
		if (sendto(fd, frame, frame_len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			errmsg("sendto on %s: %s", ifname, strerror(errno));
			break;
		}
		sent++;
		check_signals();
	}
	printf("sent %" PRIu64 "\n", sent);
	close(fd);
	return sent == count ? 0 : 1;
}

/* ---- main ---------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} modes[] = {
	{ "udp-recv", mode_udp_recv },
	{ "udp-send", mode_udp_send },
	{ "tcp-server", mode_tcp_server },
	{ "tcp-client", mode_tcp_client },
	{ "capture", mode_capture },
	{ "send-raw-udp", mode_send_raw_udp },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		usage_error("no mode given");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	/* Tests read the output while the tool runs: one line at a time. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(argv[1], modes[i].name))
			continue;
		mode_name = modes[i].name;
		setup_signals();
		opterr = 0;
		optind = 1;
		return modes[i].fn(argc - 1, argv + 1);
	}
	usage_error("unknown mode '%s'", argv[1]);
}
