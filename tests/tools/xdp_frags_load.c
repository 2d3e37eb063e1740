// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_frags_load IFNAME OBJ: attaches OBJ's XDP program to IFNAME in native
 * mode through libxdp, declared as supporting multi-buffer (frags). The
 * jumbo dispatcher test needs a program beside ours that does: no packaged
 * xdp-filter declares it, and xdp-loader 1.3.1 does not read it from the
 * program's "xdp.frags" section. Exit 0 attached, 1 failed, 2 usage.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <xdp/libxdp.h>

int main(int argc, char **argv)
{
	struct xdp_program *prog;
	unsigned int ifindex;
	char msg[256];
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: xdp_frags_load IFNAME OBJ\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "xdp_frags_load: no interface %s\n", argv[1]);
		return 1;
	}
	prog = xdp_program__open_file(argv[2], NULL, NULL);
	err = libxdp_get_error(prog);
	if (err) {
		libxdp_strerror(err, msg, sizeof(msg));
		fprintf(stderr, "xdp_frags_load: cannot open %s: %s\n", argv[2], msg);
		return 1;
	}
	err = xdp_program__set_xdp_frags_support(prog, true);
	if (!err)
		err = xdp_program__attach(prog, ifindex, XDP_MODE_NATIVE, 0);
	if (err) {
		libxdp_strerror(err, msg, sizeof(msg));
		fprintf(stderr, "xdp_frags_load: cannot attach to %s: %s\n", argv[1], msg);
		xdp_program__close(prog);
		return 1;
	}
	printf("attached %s to %s\n", xdp_program__name(prog), argv[1]);
	xdp_program__close(prog);
	return 0;
}
