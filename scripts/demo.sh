#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The port-redirect demo on loopback, end to end: listeners on 127.0.0.1:7999
# and :7998, xdp-portredir on lo with 7999 -> 7998 for UDP, a datagram sent to
# 7999 arrives on 7998; after unload it arrives on 7999 again. Run as root on
# Debian 12: builds the tool if needed and installs missing Debian packages.

set -eu
cd "$(dirname "$0")/.."
TOP=$PWD

scripts/deps.sh demo
[ -f config.mk ] || ./configure >/dev/null
make -s -j"$(nproc)" xdp-portredir/xdp-portredir tests/tools/nettool
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

P=$TOP/xdp-portredir/xdp-portredir
NT=$TOP/tests/tools/nettool
tmp=$(mktemp -d)
pids=()
loaded=0
cleanup() {
	if [ ${#pids[@]} -gt 0 ]; then kill "${pids[@]}" 2>/dev/null || true; fi
	if [ $loaded -eq 1 ]; then "$P" unload lo >/dev/null 2>&1 || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
listen() { # port file
	"$NT" udp-recv -l 127.0.0.1 -p "$1" -t "$2" -v >"$3" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do grep -q '^ready' "$3" && return; sleep 0.02; done
	echo "listener on $1 did not start" >&2
	exit 1
}
arrived() { # file seconds: true once a datagram shows up in the listener's log
	for _ in $(seq $(($2 * 50))); do grep -q '^from' "$1" && return 0; sleep 0.02; done
	return 1
}
show() { # port file
	local got
	got=$(sed -n 's/^from .*: //p' "$2")
	if [ -n "$got" ]; then echo "arrived on $1: $got"; else echo "nothing arrived on $1"; fi
}

step "Listening on 127.0.0.1:7999 and 127.0.0.1:7998"
# Listeners live for 10 minutes at most (cleanup stops them): loading and
# verifying the programs can take far longer than usual on a busy machine.
listen 7999 600000 "$tmp/a9"
listen 7998 600000 "$tmp/a8"

step "xdp-portredir load lo --priority 10"
"$P" load lo --priority 10
loaded=1
step "xdp-portredir redirect 7999 7998 --proto udp"
"$P" redirect 7999 7998 --proto udp

step "Sending \"Hello, New Stack!\" to 127.0.0.1:7999"
"$NT" udp-send -a 127.0.0.1 -p 7999 -m "Hello, New Stack!" >/dev/null
arrived "$tmp/a8" 30 || true
arrived "$tmp/a9" 1 || true # it would have come by now
show 7998 "$tmp/a8"
show 7999 "$tmp/a9"
ok=1
grep -q 'Hello, New Stack!' "$tmp/a8" || ok=0
grep -q '^from' "$tmp/a9" && ok=0

step "xdp-portredir status"
"$P" status

step "xdp-portredir unload lo"
"$P" unload lo
loaded=0

step "Sending \"Hello again\" to 127.0.0.1:7999"
listen 7999 600000 "$tmp/b9"
"$NT" udp-send -a 127.0.0.1 -p 7999 -m "Hello again" >/dev/null
arrived "$tmp/b9" 30 || true
show 7999 "$tmp/b9"
grep -q 'Hello again' "$tmp/b9" || ok=0

echo
if [ $ok -eq 1 ]; then
	echo "Demo passed: redirected to 7998 while loaded, back on 7999 after unload."
else
	echo "Demo FAILED: see above." >&2
	exit 1
fi
