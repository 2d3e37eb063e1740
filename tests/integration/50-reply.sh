#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Reply translation end to end: TCP and request/response UDP through a
# redirect, on lo (skb mode) and across a veth (native), IPv4 and IPv6;
# bulk, concurrency, churn; what must stay untouched stays untouched.
. "$(dirname "$0")/../lib.sh"
t_tool_suite
flows() { "$PORTREDIR" status --json | jq ".flows[\"$1\"]"; }
# Bulk sizes: 50 MB and 10,000 connections here; in the VM (TCG emulation,
# 10-30x slower) 5 MB and 1,000, so its stage stays within its time budget.
BULK=$(t_scaled 50m 5m) BULK_BYTES=$(t_scaled 52428800 5242880)
CHURN=$(t_scaled 10000 1000)

# --- lo ---------------------------------------------------------------------
"$PORTREDIR" load lo --priority 10 >/dev/null || t_fail lo/load "load failed"
"$PORTREDIR" redirect 7999 7998 >/dev/null

for addr in 127.0.0.1 ::1; do
	fam=ipv4; [[ $addr == *:* ]] && fam=ipv6
	bg_ready "$tmp/srv" "$NETTOOL" tcp-server -l $addr -p 7998 -t 200000 >/dev/null
srv=$BG_PID
	out=$("$NETTOOL" tcp-client -a $addr -p 7999 -b 64k -t $(t_wait 5000) 2>&1)
	t_match "lo-$fam/tcp-echo-both-ways" "$out" "^ok 1 failed 0 bytes 65536 "
	out=$("$NETTOOL" tcp-client -a $addr -p 7999 -b $BULK -t $(t_wait 60000) 2>&1)
	t_match "lo-$fam/tcp-$BULK-intact" "$out" "^ok 1 failed 0 bytes $BULK_BYTES hash [0-9a-f]+"
	# The same bytes straight to 7998: the hash must be the same stream's.
	direct=$("$NETTOOL" tcp-client -a $addr -p 7998 -b $BULK -t $(t_wait 60000) 2>&1)
	t_eq "lo-$fam/tcp-$BULK-hash-matches-direct" "${out##*hash }" "${direct##*hash }"
	kill $srv; wait $srv 2>/dev/null

	bg_ready "$tmp/echo" "$NETTOOL" udp-recv -l $addr -p 7998 -e -t $(t_wait 3000) >/dev/null
	out=$("$NETTOOL" udp-send -a $addr -p 7999 -n 3 -w $(t_wait 1000) 2>&1)
	t_match "lo-$fam/udp-reply-from-asked-port" "$out" "reply from $addr 7999: "
	t_nomatch "lo-$fam/udp-no-reply-from-new-port" "$out" "reply from $addr 7998"
	out=$("$NETTOOL" udp-send -a $addr -p 7998 -w $(t_wait 1000) 2>&1)
	kill $BG_PID; wait $BG_PID 2>/dev/null # it no longer ends by itself soon
	t_match "lo-$fam/udp-direct-client-untouched" "$out" "reply from $addr 7998: "
done

# A client whose own port is a rule's port: its replies are not redirected.
"$PORTREDIR" redirect 40123 40124 >/dev/null
bg_ready "$tmp/srv" "$NETTOOL" tcp-server -p 7998 -t $(t_wait 8000) >/dev/null
srv=$BG_PID
out=$("$NETTOOL" tcp-client -a 127.0.0.1 -p 7999 -s 40123 -b 4k -t $(t_wait 3000) 2>&1)
t_match lo/client-port-is-rule-port/tcp "$out" "^ok 1 failed 0"
bg_ready "$tmp/echo" "$NETTOOL" udp-recv -p 7998 -e -t $(t_wait 3000) >/dev/null
out=$("$NETTOOL" udp-send -a 127.0.0.1 -p 7999 -s 40123 -w $(t_wait 1000) 2>&1)
kill $BG_PID; wait $BG_PID 2>/dev/null # it no longer ends by itself soon
t_match lo/client-port-is-rule-port/udp "$out" "reply from 127.0.0.1 7999: "
t_ge lo/local-connections-noted "$(flows local-connections)" 1
# ... while new traffic to 40123 from elsewhere is still redirected.
bg_ready "$tmp/r40124" "$NETTOOL" udp-recv -p 40124 -n 1 -t $(t_wait 3000) >/dev/null
"$NETTOOL" udp-send -a 127.0.0.1 -p 40123 -s 5555 >/dev/null
wait_until 4 grep -q '^received' "$tmp/r40124"
t_eq lo/rule-port-still-redirects-new-traffic "$(num_after "$tmp/r40124" received)" 1
"$PORTREDIR" redirect --remove 40123 >/dev/null
kill $srv; wait $srv 2>/dev/null

# Churn: 10,000 short connections (1,000 in the VM); afterwards the table
# holds no live flow.
bg_ready "$tmp/srv" "$NETTOOL" tcp-server -p 7998 -t 200000 >/dev/null
srv=$BG_PID
out=$("$NETTOOL" tcp-client -a 127.0.0.1 -p 7999 -b 0 -n $CHURN -c 50 -t $(t_wait 120000) 2>&1)
t_match lo/churn-$CHURN-connections "$out" "^ok $CHURN failed 0"
wait_until 5 test "$(flows live)" -le 5
live=$(flows live) entries=$(flows entries)
echo "# after churn: live $live, entries $entries, capacity $(flows capacity)"
t_ge lo/churn-live-near-zero 5 "$live"
t_ge lo/churn-entries-near-zero 50 "$entries"
kill $srv; wait $srv 2>/dev/null

# One-way mode: TCP through the redirect fails, which shows the above can fail.
"$PORTREDIR" unload lo >/dev/null
"$PORTREDIR" load lo --no-reply-translation >/dev/null
"$PORTREDIR" redirect 7999 7998 >/dev/null
t_eq lo/no-reply-translation/no-egress-program \
	"$("$PORTREDIR" status --json | jq '.interfaces[0]["reply-translation"]')" false
bg_ready "$tmp/srv" "$NETTOOL" tcp-server -p 7998 -t 5000 >/dev/null
srv=$BG_PID
if "$NETTOOL" tcp-client -a 127.0.0.1 -p 7999 -b 4k -t 1500 >/dev/null 2>&1; then
	t_fail lo/no-reply-translation/tcp-fails "the connection succeeded"
else
	t_pass lo/no-reply-translation/tcp-fails
fi
kill $srv; wait $srv 2>/dev/null
"$PORTREDIR" unload lo >/dev/null

# --- veth between two namespaces, native XDP ----------------------------------
C=$(ns_add c) S=$(ns_add s)
ip link add vc netns "$C" type veth peer name vs netns "$S"
ip -n "$C" addr add 10.79.0.1/24 dev vc && ip -n "$C" addr add fd79::1/64 dev vc nodad
ip -n "$S" addr add 10.79.0.2/24 dev vs && ip -n "$S" addr add fd79::2/64 dev vs nodad
ip -n "$C" link set vc up && ip -n "$S" link set vs up
PR() { in_ns "$S" "$PORTREDIR" "$@"; }
# Someone else's TC filters on both hooks, which unload must leave alone.
tc -n "$S" qdisc add dev vs clsact
other_tc=0
for dir in ingress egress; do
	tc -n "$S" filter add dev vs $dir prio 9 protocol all bpf da \
		obj "$TOP/tests/tools/tc_pass.bpf.o" sec tc && other_tc=$((other_tc + 1))
done
t_match veth/load-native "$(PR load vs 2>&1)" "native mode.*reply translation"
PR redirect 7999 7998 >/dev/null
for pair in 10.79.0.2:ipv4 fd79::2:ipv6; do
	addr=${pair%:*} fam=${pair##*:}
	bg_ready "$tmp/srv" in_ns "$S" "$NETTOOL" tcp-server -l $addr -p 7998 -t 200000 >/dev/null
srv=$BG_PID
	out=$(in_ns "$C" "$NETTOOL" tcp-client -a $addr -p 7999 -b 64k -c 200 -n 200 -t $(t_wait 20000) 2>&1)
	t_match "veth-$fam/200-concurrent-connections" "$out" "^ok 200 failed 0 bytes 13107200 " || { echo "# server said: $(cat "$tmp/srv")"; in_ns "$S" ss -tlnp; }
	out=$(in_ns "$C" "$NETTOOL" tcp-client -a $addr -p 7999 -b $BULK -t $(t_wait 60000) 2>&1)
	direct=$(in_ns "$C" "$NETTOOL" tcp-client -a $addr -p 7998 -b $BULK -t $(t_wait 60000) 2>&1)
	t_match "veth-$fam/tcp-$BULK-intact" "$out" "^ok 1 failed 0 bytes $BULK_BYTES "
	t_eq "veth-$fam/tcp-$BULK-hash-matches-direct" "${out##*hash }" "${direct##*hash }"
	kill $srv; wait $srv 2>/dev/null
	bg_ready "$tmp/echo" in_ns "$S" "$NETTOOL" udp-recv -l $addr -p 7998 -e -t $(t_wait 3000) >/dev/null
	out=$(in_ns "$C" "$NETTOOL" udp-send -a $addr -p 7999 -n 3 -w $(t_wait 1000) 2>&1)
	kill $BG_PID; wait $BG_PID 2>/dev/null # it no longer ends by itself soon
	t_match "veth-$fam/udp-reply-from-asked-port" "$out" "reply from $addr 7999: "
done
t_ok veth/unload PR unload vs
t_eq veth/none-of-ours-left "$( (tc -n "$S" filter show dev vs ingress; tc -n "$S" filter show dev vs egress) | grep -c 'name tc_portredir')" 0
if [ "$other_tc" -eq 2 ]; then
	t_eq veth/other-tc-filters-stay "$( (tc -n "$S" filter show dev vs ingress
		tc -n "$S" filter show dev vs egress) | grep -c 'name tc_other_pass')" 2
else
	t_fail veth/other-tc-filters-stay "could not add tests/tools/tc_pass.bpf.o (run make)"
fi
t_assert_clean
t_done
