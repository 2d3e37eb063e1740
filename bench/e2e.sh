#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: UDP datagrams per second delivered to the target socket, in
# four variants measured in the same run, interleaved A B C D A B C D ...:
#   A  no rule: the sender sends straight to the target port
#   B  nftables `redirect to :PORT` (conntrack) in the receiving namespace
#   C  xdp-portredir with the rule 7999 -> 7998
#   D  xdp-portredir loaded with that rule, traffic sent straight to 7998,
#      which no rule matches
# over two paths:
#   veth  two namespaces made here, native XDP on the receiving veth
#   lo    the lo of a namespace made here, skb (generic) XDP; never the
#         root namespace's lo
# and reports C/A, C/B, C/D (medians of the per-round ratios) and the
# machine's softirq time per delivered packet. C/D is taken from a window of
# its own in which the sender alternates between 7999 and 7998 every 10 ms
# (udpsink counts the two apart by a tag in the payload): a few percent is
# all that separates them, less than this shared machine drifts between two
# windows.
#
# All traffic stays inside the namespaces made here; every CLI call runs
# inside them with a private bpffs, so the host's pins are never touched.
# Every loop and wait is bounded; the namespaces (and with them every XDP
# program and pin) are deleted on exit.
#
# Usage: bench/e2e.sh [--quick] [--rounds N] [--seconds S] [--paths veth,lo]
# PR_LOAD_OPTS="--no-reply-translation" (say) is added to every `load`, to
# weigh an option end to end.
# Output: a table, then one line per figure: BENCH {"figure":...}

set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
PORTREDIR=${PORTREDIR:-$TOP/xdp-portredir/xdp-portredir}
FLOOD=$TOP/bench/udpflood
SINK=$TOP/bench/udpsink

FROM=7999 # the port the traffic is sent to when a redirect is expected
TO=7998 # the target socket's port
SND_ADDR=198.18.0.1 # RFC 2544 benchmarking range, only inside our namespaces
RCV_ADDR=198.18.0.2

ROUNDS=7 WINDOW=2 WARMUP=0.3 PATHS="veth lo" SIZE=64
SND_CPU=0 RCV_CPU=1

usage() {
	echo "usage: $0 [--quick] [--rounds N] [--seconds S] [--paths veth,lo]" >&2
	exit 2
}

# ---------------------------------------------------------------------------
# Inner part: runs inside the receiving namespace, in its own mount namespace
# (ip netns exec), with its own bpffs. Prints one line per measurement:
#   E2E path=P variant=V round=R pps=N softirq_ns=X
# or  E2E path=P variant=V round=R error=WHY
# ---------------------------------------------------------------------------

inner_fail() { # variant round why
	echo "E2E path=$PATH_KIND variant=$1 round=$2 error=${3//[[:space:]]/_}"
}

# variant, round, port to send to
# variant, round, port(s) to send to (a comma list alternates every 10 ms)
measure() {
	local v=$1 r=$2 port=$3 ready out sink_pid send_s
	ready=$(mktemp -u /tmp/prbench-ready.XXXXXX)
	out=$(mktemp /tmp/prbench-sink.XXXXXX)
	taskset -c "$RCV_CPU" "$SINK" --port "$TO" --seconds "$WINDOW" --warmup "$WARMUP" \
		--wait 3 --ready-file "$ready" >"$out" 2>&1 &
	sink_pid=$!
	for _ in $(seq 1 60); do
		[ -e "$ready" ] && break
		sleep 0.05
	done
	# The sender outlasts the receiver's warm-up and window by a margin.
	send_s=$(awk -v w="$WINDOW" -v u="$WARMUP" 'BEGIN { print w + u + 0.4 }')
	if [ "$PATH_KIND" = veth ]; then
		ip netns exec "$SND_NS" taskset -c "$SND_CPU" "$FLOOD" --dst "$RCV_ADDR" \
			--port "$port" --seconds "$send_s" --size "$SIZE" >/dev/null 2>&1
	else
		taskset -c "$SND_CPU" "$FLOOD" --dst 127.0.0.1 --port "$port" \
			--seconds "$send_s" --size "$SIZE" >/dev/null 2>&1
	fi
	wait "$sink_pid"
	local line pps si t0 t1
	line=$(grep '^udpsink ' "$out")
	rm -f "$ready" "$out"
	pps=$(sed -n 's/.* pps=\([0-9.]*\).*/\1/p' <<<"$line")
	si=$(sed -n 's/.* softirq_ns_per_pkt=\([-0-9.]*\).*/\1/p' <<<"$line")
	t0=$(sed -n 's/.* tag0=\([0-9]*\).*/\1/p' <<<"$line")
	t1=$(sed -n 's/.* tag1=\([0-9]*\).*/\1/p' <<<"$line")
	if [ -z "$pps" ] || [ "$pps" = 0 ]; then
		inner_fail "$v" "$r" "no datagram reached port $TO (${line:-no output})"
		return 1
	fi
	echo "E2E path=$PATH_KIND variant=$v round=$r pps=$pps softirq_ns=$si tag0=$t0 tag1=$t1"
}

nft_rules() {
	if [ "$PATH_KIND" = veth ]; then
		echo "table ip prbench { chain pre { type nat hook prerouting priority -100; policy accept; udp dport $FROM redirect to :$TO; }; }"
	else
		# Locally sent traffic is NATed on output, never on prerouting.
		echo "table ip prbench { chain out { type nat hook output priority -100; policy accept; udp dport $FROM redirect to :$TO; }; }"
	fi
}

# Loads xdp-portredir with one rule; echoes the error on failure.
pr_setup() { # from to
	local mode=native out
	[ "$PATH_KIND" = lo ] && mode=skb
	# shellcheck disable=SC2086 # PR_LOAD_OPTS holds several words
	out=$("$PORTREDIR" load --mode "$mode" ${PR_LOAD_OPTS:-} "$IFACE" 2>&1) ||
		{ echo "load failed: $out"; return 1; }
	out=$("$PORTREDIR" redirect --proto udp "$1" "$2" 2>&1) || { echo "redirect failed: $out"; return 1; }
	# (ip link prints "Peer netns reference is invalid" for veth here: harmless.)
	if ! ip link show dev "$IFACE" 2>/dev/null | grep -q 'xdp'; then
		echo "load succeeded but no XDP program is attached to $IFACE"
		return 1
	fi
}

pr_teardown() {
	"$PORTREDIR" unload --all >/dev/null 2>&1 || "$PORTREDIR" unload "$IFACE" >/dev/null 2>&1
	if ip link show dev "$IFACE" 2>/dev/null | grep -q 'xdp'; then
		echo "unload left an XDP program on $IFACE" >&2
		ip link set dev "$IFACE" xdp off 2>/dev/null
		ip link set dev "$IFACE" xdpgeneric off 2>/dev/null
	fi
}

# The packets the rule counted, from status --json; empty if unreadable.
pr_rule_packets() {
	"$PORTREDIR" status --json 2>/dev/null | tr -d ' \n' |
		grep -o '"packets":[0-9]*' | head -n 1 | cut -d: -f2
}

inner() {
	local v r why have_nft=1 have_cli=1 n
	mount -t bpf bpf /sys/fs/bpf || { echo "E2E path=$PATH_KIND error=cannot_mount_a_private_bpffs"; exit 1; }
	# A new bpffs instance holds only the kernel's preloaded iterators
	# (maps.debug, progs.debug); anything else would be someone else's.
	if [ -n "$(ls -A /sys/fs/bpf | grep -vxE 'maps\.debug|progs\.debug')" ]; then
		echo "E2E path=$PATH_KIND error=the_bpffs_here_is_not_private"
		exit 1
	fi
	command -v nft >/dev/null || have_nft=0
	[ -x "$PORTREDIR" ] || have_cli=0
	for r in $(seq 1 "$ROUNDS"); do
		measure A "$r" "$TO"

		if [ $have_nft = 0 ]; then
			inner_fail B "$r" "SKIP:nft not installed (Debian package nftables)"
		elif ! why=$(nft_rules | nft -f - 2>&1); then
			inner_fail B "$r" "nft failed: $why"
		else
			measure B "$r" "$FROM"
			nft delete table ip prbench
		fi

		# C and D share one load and one rule (7999 -> 7998): C sends to
		# 7999, D straight to 7998, which no rule matches. M sends to both,
		# alternating every 10 ms in one window, each datagram tagged.
		if [ $have_cli = 0 ]; then
			for v in C D M; do
				inner_fail "$v" "$r" "SKIP:$PORTREDIR not built (make)"
			done
			continue
		fi
		if ! why=$(pr_setup "$FROM" "$TO"); then
			for v in C D M; do
				inner_fail "$v" "$r" "$why"
			done
			pr_teardown
			continue
		fi
		measure C "$r" "$FROM"
		# Delivery on $TO proves the rewrite; the counter proves it was ours.
		n=$(pr_rule_packets)
		[ -n "$n" ] && echo "E2E path=$PATH_KIND variant=C round=$r rule_packets=$n"
		measure D "$r" "$TO"
		measure M "$r" "$FROM,$TO"
		pr_teardown
	done
}

if [ "${1:-}" = --inner ]; then
	PATH_KIND=$2 IFACE=$3 SND_NS=$4 ROUNDS=$5 WINDOW=$6 WARMUP=$7
	inner
	exit 0
fi

# ---------------------------------------------------------------------------
# Outer part: namespaces, the rounds, and the report.
# ---------------------------------------------------------------------------

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) ROUNDS=2 WINDOW=0.3 WARMUP=0.1 ;;
	--rounds) ROUNDS=${2:-}; shift ;;
	--seconds) WINDOW=${2:-}; shift ;;
	--paths) PATHS=${2//,/ }; shift ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
	shift
done
[[ "$ROUNDS" =~ ^[1-9][0-9]?$ ]] || usage
[[ "$WINDOW" =~ ^[0-9]*\.?[0-9]+$ ]] || usage

if [ "$(id -u)" -ne 0 ]; then
	echo "e2e: needs root (namespaces, XDP)" >&2
	exit 1
fi
for f in "$FLOOD" "$SINK"; do
	[ -x "$f" ] || { echo "e2e: $f missing: run make bench-build" >&2; exit 1; }
done
for c in ip taskset awk; do
	command -v $c >/dev/null || { echo "e2e: $c missing (Debian packages iproute2, util-linux, gawk/mawk)" >&2; exit 1; }
done

PFX="prb$$"
NSES=()
cleanup() {
	local ns
	for ns in "${NSES[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	NSES=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkns() {
	ip netns add "$1" || return 1
	NSES+=("$1")
	ip -n "$1" link set lo up
}

RAW=$(mktemp /tmp/prbench-e2e.XXXXXX)
trap 'cleanup; [ -n "${E2E_KEEP_RAW:-}" ] && echo "raw measurements: $RAW" >&2 || rm -f "$RAW"' EXIT

for path in $PATHS; do
	case $path in
	veth)
		snd=$PFX-snd rcv=$PFX-rcv
		mkns "$snd" && mkns "$rcv" &&
			ip -n "$snd" link add prb-s type veth peer name prb-r netns "$rcv" &&
			ip -n "$snd" addr add $SND_ADDR/30 dev prb-s &&
			ip -n "$rcv" addr add $RCV_ADDR/30 dev prb-r &&
			ip -n "$snd" link set prb-s up && ip -n "$rcv" link set prb-r up ||
			{ echo "E2E path=veth error=cannot_set_up_the_namespaces" >>"$RAW"; continue; }
		# The first datagrams would otherwise wait for ARP.
		ip netns exec "$snd" ping -c 1 -W 2 $RCV_ADDR >/dev/null 2>&1
		ip netns exec "$rcv" bash "$0" --inner veth prb-r "$snd" "$ROUNDS" "$WINDOW" \
			"$WARMUP" >>"$RAW" 2>&1
		;;
	lo)
		lons=$PFX-lo
		mkns "$lons" || { echo "E2E path=lo error=cannot_set_up_the_namespace" >>"$RAW"; continue; }
		ip netns exec "$lons" bash "$0" --inner lo lo "" "$ROUNDS" "$WINDOW" \
			"$WARMUP" >>"$RAW" 2>&1
		;;
	*) echo "e2e: unknown path '$path'" >&2; exit 2 ;;
	esac
	cleanup
done

# ---------------------------------------------------------------------------
# Report: medians per variant, medians of per-round ratios.
# ---------------------------------------------------------------------------
awk -v paths="$PATHS" -v rounds="$ROUNDS" -v window="$WINDOW" -v size="$SIZE" '
function median(arr, n,    i, j, t, s) {
	for (i = 1; i <= n; i++) s[i] = arr[i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t }
	return n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
}
function kv(line, key,    m) {
	if (match(line, " " key "=[^ ]*")) return substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2)
	return ""
}
/^E2E / {
	p = kv($0, "path"); v = kv($0, "variant"); r = kv($0, "round")
	e = kv($0, "error")
	if (e != "") {
		gsub(/_/, " ", e)
		if (v == "") { patherr[p] = e; next }
		err[p, v] = e; next
	}
	if (kv($0, "rule_packets") != "") { rulepk[p] = kv($0, "rule_packets"); next }
	if (v == "M") { mc[p, r] = kv($0, "tag0"); md[p, r] = kv($0, "tag1"); next }
	pps[p, v, r] = kv($0, "pps"); si[p, v, r] = kv($0, "softirq_ns")
	next
}
{ other = other "  " $0 "\n" }
END {
	name["A"] = "direct"; name["B"] = "nft"; name["C"] = "xdp"; name["D"] = "xdp_nomatch"
	what["A"] = "A no rule, sent to the target port"
	what["B"] = "B nftables redirect (conntrack)"
	what["C"] = "C xdp-portredir rule 7999->7998"
	what["D"] = "D xdp-portredir loaded, sent to 7998"
	printf "\nEnd to end (UDP, %d-byte payloads, %s rounds x %ss window, interleaved A B C D M;\n", size, rounds, window
	printf "pps = median datagrams/s delivered to the target socket; softirq = machine-wide\n"
	printf "softirq time per delivered datagram; ratios = median of per-round ratios)\n\n"
	printf "%-5s %-36s %10s %14s  %s\n", "path", "variant", "pps", "softirq ns/pkt", "note"
	np = split(paths, P, " ")
	for (i = 1; i <= np; i++) {
		p = P[i]
		for (vi = 1; vi <= 4; vi++) {
			v = substr("ABCD", vi, 1); n = 0; ns = 0
			for (r = 1; r <= rounds; r++) {
				if ((p, v, r) in pps) { n++; a[n] = pps[p, v, r]; if (si[p, v, r] >= 0) { ns++; b[ns] = si[p, v, r] } }
			}
			fig = p "_" v "_" name[v]
			cnt[p, v] = n
			if (n == 0) {
				why = (p, v) in err ? err[p, v] : (p in patherr ? patherr[p] : "no measurement")
				sub(/^SKIP:/, "", why)
				printf "%-5s %-36s %10s %14s  skipped: %s\n", p, what[v], "-", "-", why
				json[++nj] = sprintf("{\"figure\":\"%s\",\"skipped\":\"%s\"}", fig, why)
				continue
			}
			med[p, v] = median(a, n)
			sim = ns ? median(b, ns) : -1
			note = ""
			if (n < rounds) note = sprintf("only %d of %d rounds: %s", n, rounds, err[p, v])
			if (v == "C" && (p in rulepk)) note = note (note ? "; " : "") "rule counted " rulepk[p] " pkts (last round)"
			printf "%-5s %-36s %10.0f %14s  %s\n", p, what[v], med[p, v], (sim >= 0 ? sprintf("%.0f", sim) : "-"), note
			json[++nj] = sprintf("{\"figure\":\"%s\",\"pps\":%.0f,\"softirq_ns_per_pkt\":%s,\"rounds\":%d}", fig, med[p, v], (sim >= 0 ? sprintf("%.1f", sim) : "null"), n)
		}
		# Ratios of C against A, B and D, per round, then the median.
		split("A B D Dsep", B, " ")
		tgt["A"] = ""; tgt["B"] = 1.10; tgt["D"] = 0.98; tgt["Dsep"] = ""
		lab["A"] = "C/A"; lab["B"] = "C/B"; lab["D"] = "C/D (same window, alternating)"
		lab["Dsep"] = "C/D (separate windows)"
		for (bi = 1; bi <= 4; bi++) {
			base = B[bi]; n = 0
			for (r = 1; r <= rounds; r++) {
				if (base == "D") {
					if (((p, r) in mc) && md[p, r] > 0) { n++; a[n] = mc[p, r] / md[p, r] }
				} else {
					bb = base == "Dsep" ? "D" : base
					if (((p, "C", r) in pps) && ((p, bb, r) in pps) && pps[p, bb, r] > 0) { n++; a[n] = pps[p, "C", r] / pps[p, bb, r] }
				}
			}
			fig = p "_C_over_" (base == "Dsep" ? "D_sep" : base)
			bname = p "_" (base == "Dsep" ? "D" : base) "_" name[base == "Dsep" ? "D" : base]
			if (base == "D") bname = p "_M_alternating"
			if (n == 0) {
				why = cnt[p, "C"] == 0 ? "C not measured" : base " not measured"
				if (base == "D" && cnt[p, "C"] > 0) why = "the alternating window was not measured"
				printf "%-5s %-36s %10s %14s  skipped: %s\n", p, lab[base], "-", "", why
				json[++nj] = sprintf("{\"figure\":\"%s\",\"skipped\":\"%s\"}", fig, why)
				continue
			}
			m = median(a, n)
			if (tgt[base] != "") {
				met = m >= tgt[base] ? "met" : "MISSED"
				printf "%-5s %-36s %10.3f %14s  target >=%.2f %s\n", p, lab[base], m, "", tgt[base], met
				json[++nj] = sprintf("{\"figure\":\"%s\",\"ratio\":%.3f,\"baseline\":\"%s\",\"target\":\">=%.2f\",\"met\":%s,\"rounds\":%d}", fig, m, bname, tgt[base], (m >= tgt[base] ? "true" : "false"), n)
			} else {
				printf "%-5s %-36s %10.3f %14s\n", p, lab[base], m, ""
				json[++nj] = sprintf("{\"figure\":\"%s\",\"ratio\":%.3f,\"baseline\":\"%s\",\"target\":null,\"met\":null,\"rounds\":%d}", fig, m, bname, n)
			}
		}
	}
	if (other != "") printf "\nother output:\n%s", other
	printf "\n"
	for (j = 1; j <= nj; j++) print "BENCH " json[j]
}' "$RAW"
