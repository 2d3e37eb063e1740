#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs a command in a network namespace of its own (lo up) with a private
# mount namespace and a fresh bpffs at /sys/fs/bpf, then deletes the
# namespace and everything left running in it. Whatever the command does
# to lo, XDP, TC or the pin directory stays inside: the host's lo and
# /sys/fs/bpf/xdp-portredir are never touched. Exit status: the command's.
#
# Usage: tests/robustness/isolated.sh CMD [ARGS...]

set -u
[ "$(id -u)" -eq 0 ] || { echo "isolated.sh: needs root" >&2; exit 1; }
ns="prt-iso-$$"
ip netns add "$ns" || exit 1
cleanup() {
	ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 143' TERM INT
ip netns exec "$ns" bash -c 'mount -t bpf bpf /sys/fs/bpf && ip link set lo up && exec "$@"' isolated "$@"
