// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdprun.h"

int xdprun(int prog_fd, const void *in, size_t in_len, void *out, struct xdprun_result *res)
{
	unsigned char buf[16384]; /* jumbo frames (test_multibuf) fit */
	struct xdp_md ctx_in = { .data_end = (__u32)in_len }, ctx_out = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)in_len,
		    .data_out = buf, .data_size_out = sizeof(buf), .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out), .repeat = 1);
	size_t meta;

	memset(res, 0, sizeof(*res));
	if (in_len + 256 > sizeof(buf))
		return -E2BIG;
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	/* The kernel copies out from data_meta; ctx_out says where data starts. */
	meta = ctx_out.data - ctx_out.data_meta;
	if (meta > opts.data_size_out || meta > sizeof(res->meta))
		return -EPROTO;
	res->retval = opts.retval;
	res->meta_len = meta;
	memcpy(res->meta, buf, meta);
	res->len = opts.data_size_out - meta;
	memcpy(out, buf + meta, res->len);
	return 0;
}

int xdprun_meta(int prog_fd, const void *meta_in, size_t meta_len, const void *in, size_t in_len,
		void *out, struct xdprun_result *res)
{
	unsigned char buf[16384], frame[16384];
	struct xdp_md ctx_in = { .data = (__u32)meta_len, .data_end = (__u32)(meta_len + in_len) },
		      ctx_out = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = (__u32)(meta_len + in_len), .data_out = buf,
		    .data_size_out = sizeof(buf), .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in),
		    .ctx_out = &ctx_out, .ctx_size_out = sizeof(ctx_out), .repeat = 1);
	size_t meta;

	memset(res, 0, sizeof(*res));
	if (meta_len + in_len + 256 > sizeof(buf))
		return -E2BIG;
	memcpy(frame, meta_in, meta_len);
	memcpy(frame + meta_len, in, in_len);
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	meta = ctx_out.data - ctx_out.data_meta;
	if (meta > opts.data_size_out || meta > sizeof(res->meta))
		return -EPROTO;
	res->retval = opts.retval;
	res->meta_len = meta;
	memcpy(res->meta, buf, meta);
	res->len = opts.data_size_out - meta;
	memcpy(out, buf + meta, res->len);
	return 0;
}

double xdprun_time(int prog_fd, const void *in, size_t in_len, unsigned int repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)in_len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -1;
	return (double)opts.duration;
}
