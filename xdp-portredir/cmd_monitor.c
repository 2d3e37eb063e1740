// SPDX-License-Identifier: GPL-2.0
/* xdp-portredir monitor: one line per redirected packet and translated reply. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "maps.h"
#include "output.h"
#include "params.h"
#include "pins.h"
#include "prog_switch.h"
#include "rules.h"
#include "scope.h"

struct monitor_settings {
	char *ifnames; /* --interface, comma-joined */
	const char *dst;
	unsigned int protos;
	long port;
	long count;
	const char *sample;
	bool json;
};

static const struct pr_opt monitor_opts[] = {
	{ .name = "interface", .short_name = 'i', .type = PR_OPT_STRING_LIST,
	  .offset = offsetof(struct monitor_settings, ifnames), .metavar = "ifname[,...]",
	  .help = "Only packets on these interfaces (repeatable, as for redirect)" },
	{ .name = "dst", .short_name = 'd', .type = PR_OPT_STRING,
	  .offset = offsetof(struct monitor_settings, dst), .metavar = "addr[/prefix]",
	  .help = "Only packets to this IPv4 or IPv6 address or prefix, as for redirect\n"
		  "(for a translated reply: from it, the address the client dialled)" },
	{ .name = "proto", .short_name = 'P', .type = PR_OPT_ENUM_LIST,
	  .offset = offsetof(struct monitor_settings, protos), .metavar = "list",
	  .values = pr_proto_values, .help = "Only these protocols" },
	{ .name = "port", .short_name = 'p', .type = PR_OPT_UINT,
	  .offset = offsetof(struct monitor_settings, port), .metavar = "port", .min = 1,
	  .max = 65535, .help = "Only packets whose original or new port is this one" },
	{ .name = "count", .short_name = 'n', .type = PR_OPT_UINT,
	  .offset = offsetof(struct monitor_settings, count), .metavar = "n", .min = 1,
	  .max = 1000000000, .help = "Exit after n events (default: until interrupted)" },
	{ .name = "sample", .short_name = 's', .type = PR_OPT_STRING,
	  .offset = offsetof(struct monitor_settings, sample), .metavar = "1/N",
	  .help = "Report one event in N, for busy links" },
	{ .name = "json", .short_name = 'j', .type = PR_OPT_FLAG,
	  .offset = offsetof(struct monitor_settings, json),
	  .help = "One JSON object per line" },
	{ 0 },
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static __u64 clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

#define MAX_IFACES 16

struct monitor_ctx {
	long shown;
	long limit;
	__s64 mono_to_real; /* add to a monotonic stamp to get wall-clock time */
	__u32 ifindex[MAX_IFACES]; /* --interface; n_ifaces 0: any */
	int n_ifaces;
	struct pr_scope_rule dst; /* --dst; family 0: any */
};

/* Is the event within --interface and --dst? */
static bool wanted(const struct monitor_ctx *ctx, const struct pr_event *ev)
{
	bool on = !ctx->n_ifaces;

	for (int i = 0; i < ctx->n_ifaces; i++)
		on |= ctx->ifindex[i] == ev->ifindex;
	/* The address the client dialled: a reply comes from it. */
	return on && pr_scope_dst_matches(&ctx->dst, ev->ipv6 ? 6 : 4,
					  ev->kind == PR_EVENT_REPLY ? ev->saddr : ev->daddr);
}

/* --interface as a list of existing interfaces. */
static int parse_ifaces(const char *list, struct monitor_ctx *ctx)
{
	char *copy = strdup(list), *tok, *save = NULL;
	int ret = PR_EXIT_OK;

	if (!copy)
		return pr_fail("monitor", "out of memory");
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		__u32 idx = if_nametoindex(tok);

		if (!idx)
			ret = pr_fail("monitor", "unknown interface '%s' (see 'ip link')", tok);
		else if (ctx->n_ifaces == MAX_IFACES)
			ret = pr_fail_usage("monitor", "at most %d interfaces", MAX_IFACES);
		else
			ctx->ifindex[ctx->n_ifaces++] = idx;
	}
	free(copy);
	if (!ret && !ctx->n_ifaces)
		ret = pr_fail_usage("monitor", "--interface needs an interface name");
	return ret;
}

static int print_event(void *p, void *data, size_t size)
{
	struct monitor_ctx *ctx = p;
	const struct pr_event *ev = data;
	int family = ev->ipv6 ? AF_INET6 : AF_INET;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], ifname[IF_NAMESIZE] = "?";
	char when[64], stamp[32];
	__u64 real = ev->ts_ns + (__u64)ctx->mono_to_real;
	time_t secs = (time_t)(real / 1000000000ULL);
	struct tm tm;

	if (size < sizeof(*ev) || (ctx->limit && ctx->shown >= ctx->limit) || !wanted(ctx, ev))
		return 0;
	inet_ntop(family, ev->saddr, src, sizeof(src));
	inet_ntop(family, ev->daddr, dst, sizeof(dst));
	if_indextoname(ev->ifindex, ifname);
	localtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	snprintf(when, sizeof(when), "%s.%06llu", stamp,
		 (unsigned long long)(real % 1000000000ULL) / 1000);

	out_obj_begin(NULL);
	out_label("time", when);
	out_json_u64("timestamp-ns", real);
	out_str("interface", ifname);
	out_str("event", ev->kind == PR_EVENT_REPLY ? "reply" : "redirect");
	out_str("proto", pr_proto_name(ev->proto));
	out_str("src", src);
	out_u64("sport", ntohs(ev->sport));
	out_str("dst", dst);
	out_u64("dport", ntohs(ev->dport));
	out_u64("from", ntohs(ev->old_port));
	out_u64("to", ntohs(ev->new_port));
	out_u64("len", ev->len);
	out_obj_end();
	out_finish();
	if (++ctx->shown == ctx->limit)
		stop = 1;
	return 0;
}

static int parse_sample(const char *s, __u32 *n)
{
	unsigned long v;

	if (pr_parse_uint(strncmp(s, "1/", 2) ? s : s + 2, 1, 1000000, &v))
		return -1;
	*n = (__u32)v;
	return 0;
}

static int open_pin(const char *name, struct pr_errbuf *err)
{
	char path[512];
	int fd;

	pr_pin_path(path, sizeof(path), name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		pr_err_set(err, "cannot open %s: %s (is xdp-portredir loaded? 'xdp-portredir load <ifname>')",
			   path, strerror(errno));
	return fd;
}

static int monitor_run(void *p)
{
	struct monitor_settings *s = p;
	struct pr_monitor_cfg cfg = { 0 };
	struct monitor_ctx ctx = { .limit = s->count };
	struct sigaction sa = { .sa_handler = on_signal };
	struct ring_buffer *rb = NULL;
	int cfg_fd = -1, ev_fd = -1, pcpu_fd = -1, ret = PR_EXIT_OK;
	__u64 dropped_before, renewed;
	__u32 zero = 0, sample = 1;
	struct pr_errbuf err;

	if (s->sample && parse_sample(s->sample, &sample))
		return pr_fail_usage(
			"monitor", "invalid --sample '%s': use 1/N with N in 1-1000000", s->sample);
	if (s->dst && pr_scope_parse_dst(s->dst, &ctx.dst, &err))
		return pr_fail_usage("monitor", "%s", err.msg);
	if (s->ifnames && (ret = parse_ifaces(s->ifnames, &ctx)))
		return ret;
	cfg_fd = open_pin(PR_MAP_MONITOR, &err);
	if (cfg_fd >= 0)
		ev_fd = open_pin(PR_MAP_EVENTS, &err);
	if (ev_fd >= 0)
		pcpu_fd = open_pin(PR_MAP_MONITOR_PCPU, &err);
	if (pcpu_fd < 0) {
		ret = pr_fail("monitor", "%s", err.msg);
		goto out;
	}
	if (!bpf_map_lookup_elem(cfg_fd, &zero, &cfg) && cfg.owner_pid &&
	    cfg.deadline_ns > clock_ns(CLOCK_MONOTONIC_COARSE) && !kill((pid_t)cfg.owner_pid, 0)) {
		ret = pr_fail("monitor",
			      "another monitor is running (pid %u); one monitor runs at a time",
			      cfg.owner_pid);
		goto out;
	}

	ctx.mono_to_real = (__s64)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
	rb = ring_buffer__new(ev_fd, print_event, &ctx, NULL);
	if (!rb) {
		ret = pr_fail("monitor", "cannot read the event ring buffer");
		goto out;
	}
	/* Events a previous monitor left unread are not ours to show. */
	ctx.limit = -1;
	ring_buffer__consume(rb);
	ctx.limit = s->count;
	ctx.shown = 0;
	stop = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	dropped_before = pr_monitor_dropped(pcpu_fd);
	memset(&cfg, 0, sizeof(cfg));
	cfg.owner_pid = (__u32)getpid();
	/* The kernel filters one interface; several are filtered here. */
	cfg.ifindex = ctx.n_ifaces == 1 ? ctx.ifindex[0] : 0;
	cfg.proto_mask = s->protos;
	cfg.port = (__u32)s->port;
	cfg.sample = sample;
	renewed = clock_ns(CLOCK_MONOTONIC_COARSE);
	cfg.deadline_ns = renewed + PR_MONITOR_LEASE_NS;
	if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY)) {
		ret = pr_fail("monitor", "cannot switch the monitor on: %s", strerror(errno));
		goto out;
	}
	/* After the lease: an instance that sees the switch finds the lease. */
	pr_monitoring_set_all(true);
	fprintf(stderr, "monitoring redirected packets%s%s%s%s (Ctrl-C to stop)\n",
		s->ifnames ? " on " : "", s->ifnames ? s->ifnames : "", s->dst ? " to " : "",
		s->dst ? s->dst : "");
	out_init_line(stdout, s->json);
	while (!stop) {
		__u64 now;
		int r = ring_buffer__poll(rb, 200);

		if (r < 0 && r != -EINTR) {
			ret = pr_fail("monitor", "reading events failed: %s", strerror(-r));
			break;
		}
		/* Renew the lease well before it runs out. */
		now = clock_ns(CLOCK_MONOTONIC_COARSE);
		if (now - renewed > PR_MONITOR_LEASE_NS / 4) {
			renewed = now;
			cfg.deadline_ns = now + PR_MONITOR_LEASE_NS;
			bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY);
			/* Instances loaded since, and any that took the switch back. */
			pr_monitoring_set_all(true);
		}
	}
	cfg.deadline_ns = 0;
	cfg.owner_pid = 0;
	bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY);
	pr_monitoring_set_all(false);
	fprintf(stderr, "%ld events shown, %llu dropped by the kernel because the reader was too slow\n",
		ctx.shown, (unsigned long long)(pr_monitor_dropped(pcpu_fd) - dropped_before));
out:
	ring_buffer__free(rb);
	if (cfg_fd >= 0)
		close(cfg_fd);
	if (ev_fd >= 0)
		close(ev_fd);
	if (pcpu_fd >= 0)
		close(pcpu_fd);
	return ret;
}

const struct pr_cmd pr_cmd_monitor = {
	.name = "monitor",
	.summary = "Show redirected packets and translated replies as they pass",
	.description = "Print one line per packet xdp-portredir rewrites (time, interface, protocol,\n"
		       "source, destination, original port -> new port, length) and one per reply\n"
		       "whose source port the egress program restores. Ctrl-C ends it; it then says\n"
		       "how many events the kernel dropped because the reader was too slow.",
	.opts = monitor_opts,
	.settings_size = sizeof(struct monitor_settings),
	.run = monitor_run,
};
