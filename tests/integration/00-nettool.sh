#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-test of tests/tools/nettool, the traffic helper every other suite relies
# on: each mode on 127.0.0.1 and ::1, checksum verification proven both ways
# (frames with a known good and a known bad checksum, crafted by the test-only
# mode send-raw-udp), and the failure contract (timeouts exit 1, usage errors
# exit 2). No XDP is involved. Ports are random and checked free, so this can
# run next to other suites on the same host.

set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

if [ ! -x "$NETTOOL" ]; then
	make -C "$TOP" tests/tools/nettool >/dev/null 2>&1
fi
if [ ! -x "$NETTOOL" ]; then
	t_fail build "$NETTOOL missing and 'make tests/tools/nettool' failed"
	t_done
fi

# Other suites attach XDP to the root namespace's lo, and generic XDP there can
# stall bulk TCP. As root, run in a namespace of our own: its lo has 127.0.0.1
# and ::1 too, nothing is attached to it, and no port can collide.
# NT_HOST_NS=1 keeps the suite on the host's lo.
if [ "$(id -u)" -eq 0 ] && [ -z "${NT_INSIDE:-}" ] && [ -z "${NT_HOST_NS:-}" ]; then
	# Not in $(...): ns_add must register the namespace in this shell for cleanup.
	if ns_add nettool >/dev/null; then
		NT_INSIDE=1 ip netns exec "$T_PREFIX-nettool" bash "$0" "$@"
		rc=$?
		t_cleanup
		trap - EXIT
		exit "$rc"
	fi
	t_skip netns "cannot create a namespace: running on the host's lo"
fi

TMP=$(mktemp -d)
t_on_exit "rm -rf '$TMP'"

# ---- helpers ---------------------------------------------------------------

USED_PORTS=" "
# Sets FREE to a port no socket uses now (TCP or UDP) and that this suite has
# not used yet. Not for $(...): the bookkeeping must survive.
free_port() {
	local p _
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 12000))
		[[ "$USED_PORTS" == *" $p "* || "$USED_PORTS" == *" $((p + 1)) "* ]] && continue
		ss -Htuan "( sport = :$p or dport = :$p )" 2>/dev/null | grep -q . && continue
		USED_PORTS="$USED_PORTS$p $((p + 1)) "
		FREE=$p
		return 0
	done
	return 1
}

# nt_bg NAME CMD...: runs CMD in the background, output in $TMP/NAME.{out,err};
# killed at exit if still running.
declare -A NT_PID
nt_bg() {
	local name=$1
	shift
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	NT_PID[$name]=$!
	t_on_exit "kill ${NT_PID[$name]}"
}

# nt_ready NAME: waits (3 s at most) for the "ready" line.
nt_ready() {
	wait_until 3 grep -qx ready "$TMP/$1.out"
}

# nt_wait NAME: waits for the process, sets RC to its status and OUT to its stdout.
nt_wait() {
	wait "${NT_PID[$1]}"
	RC=$?
	OUT=$(cat "$TMP/$1.out")
}

# nt_run NAME CMD...: runs CMD in the foreground; RC, OUT (stdout), ERR (stderr), MS (elapsed).
nt_run() {
	local name=$1 t0
	shift
	t0=$(date +%s%N)
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
	OUT=$(cat "$TMP/$name.out")
	ERR=$(cat "$TMP/$name.err")
}

# nt_field OUTPUT KEY: the word after KEY on the first line that has it.
nt_field() {
	grep -oE "(^| )$2 [^ ]+" <<<"$1" | head -n 1 | awk '{print $2}'
}

FAMILIES="4"
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/'; then
	FAMILIES="4 6"
else
	t_skip ipv6 "::1 is not configured on lo"
fi
ROOT=1
[ "$(id -u)" -eq 0 ] || ROOT=0

addr_of() { if [ "$1" = 6 ]; then echo "::1"; else echo "127.0.0.1"; fi; }

# ---- udp-recv / udp-send ---------------------------------------------------

udp_count() {
	local f=$1 a p n
	a=$(addr_of "$f")
	if ! free_port; then t_fail "udp-count-v$f" "no free port"; return; fi
	p=$FREE
	nt_bg "ur$f" "$NETTOOL" udp-recv -l "$a" -p "$p" -n 5 -v -t 4000
	nt_ready "ur$f" || { t_fail "udp-count-v$f" "udp-recv never printed ready"; return; }
	nt_run "us$f" "$NETTOOL" udp-send -a "$a" -p "$p" -n 5 -m $'ping\tone\x01'
	t_eq "udp-send-exit-v$f" "$RC" 0
	t_match "udp-send-sent-v$f" "$OUT" '^sent 5$'
	t_match "udp-send-src-first-v$f" "$(head -n 1 <<<"$OUT")" "^src $a [0-9]+$"
	local sport
	sport=$(head -n 1 <<<"$OUT" | awk '{print $3}')
	nt_wait "ur$f"
	t_eq "udp-recv-exit-v$f" "$RC" 0
	t_match "udp-recv-count-v$f" "$OUT" '^received 5$'
	# The tab and \x01 must show as dots; the source port must be the one udp-send reported.
	n=$(grep -cxF "from $a $sport len 9: ping.one." <<<"$OUT")
	t_eq "udp-recv-verbose-v$f" "$n" 5
}

udp_echo() {
	local f=$1 a p sp n
	a=$(addr_of "$f")
	if ! free_port; then t_fail "udp-echo-v$f" "no free port"; return; fi
	p=$FREE
	free_port; sp=$FREE
	nt_bg "ue$f" "$NETTOOL" udp-recv -l "$a" -p "$p" -n 3 -e -v -t 4000
	nt_ready "ue$f" || { t_fail "udp-echo-v$f" "udp-recv never printed ready"; return; }
	nt_run "uw$f" "$NETTOOL" udp-send -a "$a" -p "$p" -n 3 -s "$sp" -m "echo-me" -w 2000
	t_eq "udp-echo-exit-v$f" "$RC" 0
	t_match "udp-echo-src-v$f" "$(head -n 1 <<<"$OUT")" "^src $a $sp$"
	t_match "udp-echo-replies-v$f" "$OUT" '^replies 3$'
	# Replies come from the server's own port, so a NAT-less test can check the reply path.
	n=$(grep -cxF "reply from $a $p: echo-me" <<<"$OUT")
	t_eq "udp-echo-reply-port-v$f" "$n" 3
	nt_wait "ue$f"
	t_eq "udp-echo-server-exit-v$f" "$RC" 0
	n=$(grep -cxF "from $a $sp len 7: echo-me" <<<"$OUT")
	t_eq "udp-echo-server-saw-srcport-v$f" "$n" 3
}

# ---- tcp-server / tcp-client -----------------------------------------------

# tcp_case NAME FAMILY CONNS CLIENT-ARGS...
tcp_case() {
	local name=$1 f=$2 conns=$3 a p
	shift 3
	a=$(addr_of "$f")
	if ! free_port; then t_fail "$name-v$f" "no free port"; return; fi
	p=$FREE
	nt_bg "ts-$name$f" "$NETTOOL" tcp-server -l "$a" -p "$p" -n "$conns" -t 15000
	nt_ready "ts-$name$f" || { t_fail "$name-v$f" "tcp-server never printed ready"; return; }
	nt_run "tc-$name$f" "$NETTOOL" tcp-client -a "$a" -p "$p" -n "$conns" -t 15000 "$@"
	local cout=$OUT crc=$RC
	nt_wait "ts-$name$f"
	CLIENT_OUT=$cout
	SERVER_OUT=$OUT
	t_eq "$name-client-exit-v$f" "$crc" 0 || echo "# client: $(tail -n 3 <<<"$cout" | tr '\n' ' ')"
	t_eq "$name-server-exit-v$f" "$RC" 0
}

tcp_cases() {
	local f=$1 want
	tcp_case tcp-1mb "$f" 1 -b 1M
	t_match "tcp-1mb-client-v$f" "$CLIENT_OUT" "^ok 1 failed 0 bytes $((1 << 20)) hash [0-9a-f]{16}$"
	t_match "tcp-1mb-server-v$f" "$SERVER_OUT" "^served 1 bytes $((1 << 20))$"

	want=$((100 * 64 * 1024))
	tcp_case tcp-100x64k "$f" 100 -b 64K -c 100
	t_match "tcp-100x64k-client-v$f" "$CLIENT_OUT" "^ok 100 failed 0 bytes $want hash"
	t_match "tcp-100x64k-server-v$f" "$SERVER_OUT" "^served 100 bytes $want$"

	tcp_case tcp-churn "$f" 500 -b 0 -c 10
	t_match "tcp-churn-client-v$f" "$CLIENT_OUT" '^ok 500 failed 0 bytes 0 hash'
	t_match "tcp-churn-server-v$f" "$SERVER_OUT" '^served 500 bytes 0$'
}

# The stream is a function of seed and index only: same seed, same hash, on
# either family; another seed, another hash; an empty stream hashes to the
# FNV-1a offset basis.
tcp_hash() {
	local h1 h2 h3 f
	tcp_case hash-a 4 1 -b 100K -S 42
	h1=$(nt_field "$CLIENT_OUT" hash)
	f=${FAMILIES##* }
	tcp_case hash-b "$f" 1 -b 100K -S 42
	h2=$(nt_field "$CLIENT_OUT" hash)
	tcp_case hash-c 4 1 -b 100K -S 43
	h3=$(nt_field "$CLIENT_OUT" hash)
	t_match tcp-hash-format "$h1" '^[0-9a-f]{16}$'
	t_eq tcp-hash-same-seed "$h2" "$h1"
	if [ -n "$h1" ] && [ "$h3" != "$h1" ]; then t_pass tcp-hash-other-seed; else t_fail tcp-hash-other-seed "seed 42 and 43 both gave '$h1'"; fi
	tcp_case hash-empty 4 1 -b 0
	t_eq tcp-hash-empty "$(nt_field "$CLIENT_OUT" hash)" cbf29ce484222325
}

# ---- capture -----------------------------------------------------------------

capture_udp() {
	local f=$1 a p n
	a=$(addr_of "$f")
	if ! free_port; then t_fail "capture-udp-v$f" "no free port"; return; fi
	p=$FREE
	nt_bg "cu$f" "$NETTOOL" capture -i lo -p "$p" -P udp -n 5 -v -t 4000
	nt_ready "cu$f" || { t_fail "capture-udp-v$f" "capture never printed ready"; return; }
	nt_bg "cur$f" "$NETTOOL" udp-recv -l "$a" -p "$p" -n 5 -t 4000
	nt_ready "cur$f"
	nt_run "cus$f" "$NETTOOL" udp-send -a "$a" -p "$p" -n 5
	nt_wait "cu$f"
	t_eq "capture-udp-exit-v$f" "$RC" 0
	t_eq "capture-udp-captured-v$f" "$(nt_field "$OUT" captured)" 5
	t_eq "capture-udp-bad-v$f" "$(nt_field "$OUT" bad)" 0
	# Local sockets on lo leave the checksum to "offload": partial is expected there.
	n=$(($(nt_field "$OUT" ok) + $(nt_field "$OUT" partial) + $(nt_field "$OUT" nocsum)))
	t_eq "capture-udp-verdicts-v$f" "$n" 5
	n=$(grep -cE "^udp $a:[0-9]+ -> $a:$p csum [0-9a-f]{4} (ok|partial|nocsum)$" <<<"$OUT")
	t_eq "capture-udp-verbose-v$f" "$n" 5
	nt_wait "cur$f"
}

# capture_raw NAME FAMILY EXPECT-RC CAPTURE-ARGS -- SEND-ARGS: one capture, one
# crafted frame; leaves capture's output in OUT and send-raw-udp's in SENT.
capture_raw() {
	local name=$1 f=$2 want_rc=$3 a p cargs=()
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do cargs+=("$1"); shift; done
	shift
	a=$(addr_of "$f")
	if ! free_port; then t_fail "$name-v$f" "no free port"; return 1; fi
	p=$FREE
	nt_bg "cr-$name$f" "$NETTOOL" capture -i lo -p "$p" -v -t 3000 "${cargs[@]}"
	nt_ready "cr-$name$f" || { t_fail "$name-v$f" "capture never printed ready"; return 1; }
	nt_run "rs-$name$f" "$NETTOOL" send-raw-udp -a "$a" -p "$p" "$@"
	SENT=$OUT
	if [ "$RC" -ne 0 ]; then
		t_fail "$name-v$f" "send-raw-udp failed: $ERR"
		return 1
	fi
	nt_wait "cr-$name$f"
	t_eq "$name-exit-v$f" "$RC" "$want_rc"
	PORT=$p
}

capture_cases() {
	local f=$1 a cs
	a=$(addr_of "$f")

	# A frame with a correct checksum is fully verified (not partial) as ok.
	if capture_raw raw-good "$f" 0 -n 1 -- -c good -m "odd-length!"; then
		t_match "raw-good-counts-v$f" "$OUT" '^captured 1 ok 1 bad 0 partial 0 nocsum 0$'
		cs=$(nt_field "$SENT" csum)
		t_match "raw-good-line-v$f" "$OUT" "^udp $a:40000 -> $a:$PORT csum $cs ok$"
	fi
	# The same frame with a wrong checksum is flagged and fails the run.
	if capture_raw raw-bad "$f" 1 -n 1 -- -c bad; then
		t_match "raw-bad-counts-v$f" "$OUT" '^captured 1 ok 0 bad 1 partial 0 nocsum 0$'
		cs=$(nt_field "$SENT" csum)
		t_match "raw-bad-line-v$f" "$OUT" "^udp $a:40000 -> $a:$PORT csum $cs bad$"
	fi
	# TCP: the same, good then bad, in one capture of two frames.
	a=$(addr_of "$f")
	local p
	free_port; p=$FREE
	nt_bg "ct$f" "$NETTOOL" capture -i lo -p "$p" -P tcp -n 2 -v -t 3000
	if nt_ready "ct$f"; then
		"$NETTOOL" send-raw-udp -P tcp -a "$a" -p "$p" -c good -m "tcp" >/dev/null
		"$NETTOOL" send-raw-udp -P tcp -a "$a" -p "$p" -c bad -m "tcp" >/dev/null
		nt_wait "ct$f"
		t_eq "raw-tcp-exit-v$f" "$RC" 1
		t_match "raw-tcp-counts-v$f" "$OUT" '^captured 2 ok 1 bad 1 partial 0 nocsum 0$'
	else
		t_fail "raw-tcp-v$f" "capture never printed ready"
	fi
	# A zero UDP checksum means "none" on IPv4 and is invalid on IPv6.
	if [ "$f" = 4 ]; then
		capture_raw raw-zero "$f" 0 -n 1 -- -c zero &&
			t_match "raw-zero-counts-v$f" "$OUT" '^captured 1 ok 0 bad 0 partial 0 nocsum 1$'
	else
		capture_raw raw-zero "$f" 1 -n 1 -- -c zero &&
			t_match "raw-zero-counts-v$f" "$OUT" '^captured 1 ok 0 bad 1 partial 0 nocsum 0$'
	fi
	# QinQ with -o: the outgoing copy carries both tags in the frame; the kernel
	# strips the outer one from the incoming copy (aux data). Both must parse.
	if capture_raw raw-vlan "$f" 0 -n 2 -o -- -V 100,200; then
		t_match "raw-vlan-counts-v$f" "$OUT" '^captured 2 ok 2 bad 0 partial 0 nocsum 0$'
		t_match "raw-vlan-out-v$f" "$OUT" "csum [0-9a-f]{4} ok vlan 100.200 out$"
		t_match "raw-vlan-in-v$f" "$OUT" "csum [0-9a-f]{4} ok vlan 100.200 in$"
	fi
}

# Filters: a TCP frame to the port and a UDP frame to the next one must not count.
capture_filter() {
	local p
	free_port; p=$FREE
	nt_bg cf "$NETTOOL" capture -i lo -p "$p" -P udp -t 700
	nt_ready cf || { t_fail capture-filter "capture never printed ready"; return; }
	"$NETTOOL" send-raw-udp -P tcp -a 127.0.0.1 -p "$p" >/dev/null
	"$NETTOOL" send-raw-udp -a 127.0.0.1 -p $((p + 1)) -c bad >/dev/null
	nt_wait cf
	t_eq capture-filter-exit "$RC" 0
	t_match capture-filter-counts "$OUT" '^captured 0 ok 0 bad 0 partial 0 nocsum 0$'
}

# ---- failure contract ----------------------------------------------------------

# limit_ms PORT: 2000 ms plus three times what a nettool run with -t 1 costs
# right now (a few ms idle; seconds on a loaded machine), at most 9000 ms,
# still below the -w 10000 and the default timeout that -t 300 must cut short.
limit_ms() {
	local lim
	nt_run base "$NETTOOL" udp-recv -p "$1" -n 1 -t 1
	lim=$((2000 + 3 * MS))
	echo $((lim > 9000 ? 9000 : lim))
}

negative_cases() {
	local p lim
	free_port; p=$FREE

	lim=$(limit_ms "$p")
	nt_run neg1 "$NETTOOL" udp-recv -p "$p" -n 1 -t 300
	t_eq timeout-udp-recv-exit "$RC" 1
	t_match timeout-udp-recv-out "$OUT" '^received 0$'
	if [ "$MS" -lt "$lim" ]; then t_pass timeout-udp-recv-bounded; else t_fail timeout-udp-recv-bounded "took $MS ms for -t 300 (limit $lim ms)"; fi

	nt_run neg2 "$NETTOOL" tcp-server -p "$p" -n 1 -t 300
	t_eq timeout-tcp-server-exit "$RC" 1
	t_match timeout-tcp-server-out "$OUT" '^served 0 bytes 0$'

	# -w longer than -t: -t is the hard cap.
	lim=$(limit_ms "$p")
	nt_run neg3 "$NETTOOL" udp-send -a 127.0.0.1 -p "$p" -w 10000 -t 300
	t_eq timeout-udp-send-exit "$RC" 1
	t_match timeout-udp-send-out "$OUT" '^replies 0$'
	if [ "$MS" -lt "$lim" ]; then t_pass timeout-udp-send-hard-cap; else t_fail timeout-udp-send-hard-cap "took $MS ms for -t 300 (limit $lim ms)"; fi

	nt_run neg4 "$NETTOOL" tcp-client -a 127.0.0.1 -p "$p" -t 2000
	t_eq tcp-refused-exit "$RC" 1
	t_match tcp-refused-reason "$OUT" '^conn 0: connect: Connection refused$'
	t_match tcp-refused-summary "$OUT" '^ok 0 failed 1 bytes 0 hash'

	# A server that goes away mid-transfer: the client must report it, not
	# succeed. The server is killed once the connection is up (a timer on
	# the server could fire before a slow client even connected); 20 GB
	# take seconds even on an idle machine's loopback.
	nt_bg deadsrv "$NETTOOL" tcp-server -p "$p" -t "$(t_wait 3000)"
	if nt_ready deadsrv; then
		nt_bg neg-dead "$NETTOOL" tcp-client -a 127.0.0.1 -p "$p" -b 20G -t "$(t_wait 3000)"
		wait_until 5 bash -c "ss -Htn state established '( sport = :$p )' | grep -q ."
		kill -KILL "${NT_PID[deadsrv]}"
		nt_wait neg-dead
		t_eq tcp-server-gone-exit "$RC" 1
		t_match tcp-server-gone-reason "$OUT" '^conn 0: (send|recv|EOF)'
		t_match tcp-server-gone-summary "$OUT" '^ok 0 failed 1 '
		nt_wait deadsrv
	else
		t_fail tcp-server-gone "tcp-server never printed ready"
	fi

	if [ "$ROOT" = 1 ]; then
		nt_run neg5 "$NETTOOL" capture -i lo -p "$p" -n 1 -t 300
		t_eq timeout-capture-exit "$RC" 1
		nt_run neg6 "$NETTOOL" capture -i nettool-noif -t 300
		t_eq capture-no-interface-exit "$RC" 1
		t_match capture-no-interface-msg "$ERR" 'nettool-noif'
	fi

	# A signal ends the mode early but still prints the summary.
	nt_bg sig "$NETTOOL" udp-recv -p "$p" -n 10 -t 10000
	if nt_ready sig; then
		"$NETTOOL" udp-send -a 127.0.0.1 -p "$p" -n 2 >/dev/null
		sleep 0.2
		kill -TERM "${NT_PID[sig]}"
		nt_wait sig
		t_eq sigterm-exit "$RC" 1
		t_match sigterm-summary "$OUT" '^received 2$'
	else
		t_fail sigterm "udp-recv never printed ready"
	fi

	local args
	while IFS= read -r args; do
		local name=${args// /_}
		# shellcheck disable=SC2086
		nt_run usage "$NETTOOL" $args
		if [ "$RC" -eq 2 ] && grep -q '^usage: nettool' <<<"$ERR"; then
			t_pass "usage-${name:-none}"
		else
			t_fail "usage-${name:-none}" "exit $RC, stderr: ${ERR//$'\n'/ | }"
		fi
	done <<-EOF

		no-such-mode
		udp-recv
		udp-recv -p 70000
		udp-recv -p 12x
		udp-recv -p 1 -Z
		udp-recv -p 1 extra
		udp-send -p 1
		udp-send -a 127.0.0.1 -p 1 -l ::1
		tcp-client -a 127.0.0.1 -p 1 -s 2000 -c 2
		tcp-client -a not-an-address -p 1
		capture -p 1
		capture -i lo -P sctp
		udp-recv -p 1 -t
	EOF
}

# ---- run -----------------------------------------------------------------------

for f in $FAMILIES; do
	udp_count "$f"
	udp_echo "$f"
	tcp_cases "$f"
done
tcp_hash
if [ "$ROOT" = 1 ]; then
	for f in $FAMILIES; do
		capture_udp "$f"
		capture_cases "$f"
	done
	capture_filter
else
	t_skip capture "needs root (AF_PACKET)"
fi
negative_cases
t_done
