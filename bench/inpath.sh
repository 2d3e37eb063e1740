#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What each of xdp-portredir's programs costs per packet in the real receive
# path, not under BPF_PROG_TEST_RUN: the kernel's own run counters
# (kernel.bpf_stats_enabled, turned on for the measurement and set back to
# what it was after) over a UDP flood on a veth pair, native XDP on the
# receiving end, as bench/e2e.sh's veth path. Two floods per round:
#   C  to 7999, which the rule 7999 -> 7998 rewrites
#   D  to 7998, which no rule matches (the programs only look)
# C - D is what the rewrite costs each program; the counters' own overhead
# (two clock reads per run) is in both.
#
# Usage: bench/inpath.sh [--rounds N] [--tx-off] [--ipv6] [LOAD OPTIONS...]
#   --tx-off  the sender's checksum offload off, so its datagrams carry
#             complete checksums (by default they leave with the checksum
#             pending, as local traffic does)
#   --ipv6    flood over IPv6 instead of IPv4
#   LOAD OPTIONS are added to `xdp-portredir load` (--no-reply-translation)
# Output: one line per program and variant, then BENCH lines.
#
# Everything runs in two namespaces made here, with a private bpffs in the
# receiving one; every wait is bounded; the namespaces go on exit.
set -u
cd "$(dirname "$0")/.." || exit 1
PORTREDIR=$PWD/xdp-portredir/xdp-portredir
FLOOD=$PWD/bench/udpflood
SINK=$PWD/bench/udpsink
ROUNDS=3 TXOFF=0 SND_ADDR=10.99.0.1/30 RCV_ADDR=10.99.0.2 ANY=0.0.0.0

while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) ROUNDS=${2:-}; shift ;;
	--tx-off) TXOFF=1 ;;
	--ipv6) SND_ADDR=fd99::1/64 RCV_ADDR=fd99::2 ANY=:: ;;
	-h | --help) sed -n '4,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) break ;;
	esac
	shift
done
[[ "$ROUNDS" =~ ^[1-9][0-9]?$ ]] || { echo "inpath: --rounds takes 1-99" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "inpath: needs root (namespaces, XDP)" >&2; exit 1; }
for f in "$PORTREDIR" "$FLOOD" "$SINK"; do
	[ -x "$f" ] || { echo "inpath: $f missing: run make && make bench-build" >&2; exit 1; }
done
for c in bpftool python3 ip; do
	command -v $c >/dev/null || { echo "inpath: $c missing" >&2; exit 1; }
done

snd=prin$$-s rcv=prin$$-r
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	local ns
	for ns in $snd $rcv; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	sysctl -qw kernel.bpf_stats_enabled="$stats_was"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add $snd && ip netns add $rcv &&
	ip -n $snd link add pri-s type veth peer name pri-r netns $rcv &&
	ip -n $snd addr add $SND_ADDR dev pri-s nodad &&
	ip -n $rcv addr add $RCV_ADDR/${SND_ADDR#*/} dev pri-r nodad &&
	ip -n $snd link set pri-s up && ip -n $rcv link set pri-r up && ip -n $rcv link set lo up ||
	{ echo "inpath: cannot set up the namespaces" >&2; exit 1; }
[ $TXOFF = 1 ] && ip netns exec $snd ethtool -K pri-s tx off >/dev/null
ip netns exec $snd ping -c 1 -W 2 $RCV_ADDR >/dev/null 2>&1

# The loader stays in the receiving namespace's mount namespace (its bpffs)
# until the namespaces go; the programs stay attached as long as it lives.
ready=$(mktemp -u /tmp/prinpath.XXXXXX)
ip netns exec $rcv unshare -m bash -c "mount -t bpf bpf /sys/fs/bpf &&
	'$PORTREDIR' load --mode native $* pri-r >/dev/null &&
	'$PORTREDIR' redirect --proto udp 7999 7998 >/dev/null && touch $ready && exec sleep 600" &
disown
for _ in $(seq 1 100); do
	[ -e "$ready" ] && break
	sleep 0.1
done
[ -e "$ready" ] || { echo "inpath: load or redirect failed" >&2; exit 1; }
rm -f "$ready"

# id name run_cnt run_time_ns of xdp-portredir's programs.
stats() {
	bpftool prog show -j | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name", "").startswith(("xdp_portredir", "tc_portredir")):
        print(p["id"], p["name"], p.get("run_cnt", 0), p.get("run_time_ns", 0))'
}

sysctl -qw kernel.bpf_stats_enabled=1
out=$(mktemp)
for _ in $(seq 1 "$ROUNDS"); do
	for v in C:7999 D:7998; do
		ip netns exec $rcv timeout 10 "$SINK" --port 7998 --bind $ANY --seconds 2 --warmup 0.2 --wait 3 \
			>/dev/null 2>&1 &
		sleep 0.3
		a=$(stats)
		ip netns exec $snd taskset -c 0 timeout 10 "$FLOOD" --dst $RCV_ADDR --port "${v#*:}" \
			--seconds 2.5 >/dev/null 2>&1
		b=$(stats)
		wait $!
		python3 - "${v%%:*}" "$a" "$b" >>"$out" <<'EOF'
import sys
v, a, b = sys.argv[1:4]
before = {l.split()[0]: l.split() for l in a.splitlines() if l}
for l in b.splitlines():
    f = l.split()
    o = before.get(f[0])
    n = int(f[2]) - int(o[2]) if o else 0
    if n > 1000:
        print(v, f[1], n, (int(f[3]) - int(o[3])) / n)
EOF
	done
done
# Medians per program and variant, then C - D.
python3 - "$out" <<'EOF'
import json, statistics, sys
runs = {}
for l in open(sys.argv[1]):
    v, name, n, ns = l.split()
    runs.setdefault((name, v), []).append(float(ns))
rows = []
for name in sorted({k[0] for k in runs}):
    c, d = runs.get((name, "C")), runs.get((name, "D"))
    if c and d:
        rows.append((name, statistics.median(c), statistics.median(d), len(c)))
print("%-18s %8s %8s %8s" % ("program", "C ns", "D ns", "C - D"))
for name, mc, md, _ in rows:
    print("%-18s %8.1f %8.1f %8.1f" % (name, mc, md, mc - md))
for name, mc, md, n in rows:
    print("BENCH " + json.dumps({"figure": "inpath_" + name, "c_ns": round(mc, 1),
          "d_ns": round(md, 1), "added_ns": round(mc - md, 1), "rounds": n}))
EOF
rm -f "$out"
