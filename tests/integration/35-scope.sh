#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Scoped rules on two real interfaces. The server namespace B has vb1 (two
# IPv4 and two IPv6 addresses) and vb2, each a veth to its own client
# namespace, with different rules for the same port: traffic on each goes
# where its rule says. Covers the precedence (interface and address, then
# address, then interface, then unscoped), a rule set before its interface is
# loaded, TCP with reply translation through a scoped rule, and rules that
# survive an interface's unload while the tool stays loaded on the other.
. "$(dirname "$0")/../lib.sh"
t_tool_suite

A1=$(ns_add a1) A2=$(ns_add a2) B=$(ns_add b)
ns_veth "$A1" va1 "$B" vb1 78
ns_veth "$A2" va2 "$B" vb2 79
# vb1's second IPv4 and IPv6 address.
ip -n "$B" addr add 10.78.0.3/24 dev vb1 && ip -n "$B" addr add fd78::3/64 dev vb1 nodad
PR() { in_ns "$B" "$PORTREDIR" "$@"; }
# Warm the paths (neighbours, IPv6 link-locals) before counting.
for d in 10.78.0.2 10.78.0.3 fd78::2 fd78::3; do in_ns "$A1" "$NETTOOL" udp-send -a $d -p 9 >/dev/null; done
for d in 10.79.0.2 fd79::2; do in_ns "$A2" "$NETTOOL" udp-send -a $d -p 9 >/dev/null; done
sleep 0.3

t_ok load-vb1 PR load vb1
t_ok rule-unscoped PR redirect 7999 7000 --proto udp
t_ok rule-vb1 PR redirect 7999 7001 --proto udp --interface vb1
out=$(PR redirect 7999 7002 --proto udp --interface vb2 2>&1)
t_match rule-before-load/says-not-loaded "$out" "not loaded on vb2"
t_ok rule-addr PR redirect 7999 7003 --proto udp --dst 10.78.0.3
t_ok rule-iface-addr PR redirect 7999 7004 --proto udp -i vb1 --dst fd78::3/128
t_ok load-vb2 PR load vb2
out=$(PR redirect 7999 7005 --proto udp --interface vb1 2>&1)
t_match same-scope-overlap-refused "$out" "overlaps existing rule udp 7999 -> 7001 on vb1"
out=$(PR redirect 7999 7005 --proto udp --dst 10.78.0.0/24 2>&1)
t_match different-prefix-allowed "$out" "added rule udp 7999 -> 7005 to 10.78.0.0/24"
PR redirect --remove 7999 --proto udp --dst 10.78.0.0/24 >/dev/null

packets() { PR status --json | jq --arg r "$1" '.rules[] | select(.rule == $r) | .packets'; }

# udp_case NAME CLIENT_NS DST WANT_PORT RULE [draining]: N datagrams to
# DST:7999 arrive on WANT_PORT. With "draining" (a rule of the port was
# removed while its flows live), packets that follow a recorded flow are not
# the rule's to count (issue 17), so only delivery is checked.
udp_case() {
	local name=$1 ns=$2 dst=$3 port=$4 rule=$5 draining=${6:-} n=20 before after old
	before=$(packets "$rule")
	# Both receivers are bounded by scaled waits (under TCG on a busy host
	# a process start can take seconds); 7999's listens until every
	# datagram reached the new port, then is stopped and says what it got.
	bg_ready "$tmp/rx" in_ns "$B" "$NETTOOL" udp-recv -l "$dst" -p "$port" -n $n -t "$(t_wait 30000)" >/dev/null
	# nsenter execs nettool, so BG_PID is the receiver itself: through the
	# in_ns function it would be a subshell, and SIGTERM would leave the
	# receiver to run out its whole bound.
	bg_ready "$tmp/old" nsenter --net="/run/netns/$B" "$NETTOOL" udp-recv -l "$dst" -p 7999 -t "$(t_wait 30000)" >/dev/null
	old=$BG_PID
	# The sender's bound is a hang bound too: in the 6.1 guest beside the
	# host suites, one sent 1 of 20 before its default 50 s ran out.
	in_ns "$ns" "$NETTOOL" udp-send -a "$dst" -p 7999 -n $n -i 1000 -t "$(t_wait 30000)" >/dev/null
	wait_until 30 grep -q '^received' "$tmp/rx"
	kill -TERM "$old" 2>/dev/null
	wait_until 6 grep -q '^received' "$tmp/old"
	t_eq "$name/all-on-$port" "$(num_after "$tmp/rx" received)" $n
	t_eq "$name/none-on-7999" "$(num_after "$tmp/old" received)" 0
	after=$(packets "$rule")
	[ -n "$draining" ] && t_ge "$name/rule-counter-moved" $((after - before)) 1 && return
	t_eq "$name/rule-counter" $((after - before)) $n
}
udp_case vb1-v4-.2/interface "$A1" 10.78.0.2 7001 "udp 7999 -> 7001 on vb1"
udp_case vb1-v4-.3/address-beats-interface "$A1" 10.78.0.3 7003 "udp 7999 -> 7003 to 10.78.0.3"
udp_case vb1-v6-::2/interface "$A1" fd78::2 7001 "udp 7999 -> 7001 on vb1"
udp_case vb1-v6-::3/interface-and-address "$A1" fd78::3 7004 "udp 7999 -> 7004 on vb1 to fd78::3"
udp_case vb2-v4/its-own-rule "$A2" 10.79.0.2 7002 "udp 7999 -> 7002 on vb2"
udp_case vb2-v6/its-own-rule "$A2" fd79::2 7002 "udp 7999 -> 7002 on vb2"

# poll lists the scoped rules as status names them, with their own rates.
# nsenter execs poll, so $! is poll itself (a function in the background
# would be a subshell that SIGINT does not reach); --count bounds it.
nsenter --net="/run/netns/$B" "$PORTREDIR" poll --json --interval 300 --count 100 >"$tmp/poll" 2>&1 &
poller=$!
t_on_exit "kill $poller"
wait_until 5 grep -q time-ms "$tmp/poll"
in_ns "$A1" "$NETTOOL" udp-send -a 10.78.0.3 -p 7999 -n 30 -i 2000 >/dev/null
# The report after the last datagram: its count is the rule's counter.
want=$(packets "udp 7999 -> 7003 to 10.78.0.3")
wait_until 5 bash -c "jq -r '.rules[] | select(.rule == \"udp 7999 -> 7003 to 10.78.0.3\") | .packets' '$tmp/poll' 2>/dev/null | grep -qx '$want'"
kill -INT $poller
wait $poller
t_eq poll/exit-0 "$?" 0
last=$(tail -n 1 "$tmp/poll")
t_eq poll/scoped-address-rule "$(jq -c '.rules[] | select(.rule == "udp 7999 -> 7003 to 10.78.0.3") | [.interface, .dst, .packets]' <<<"$last")" "[\"\",\"10.78.0.3\",$want]"
t_eq poll/scoped-interface-rule "$(jq -c '.rules[] | select(.rule == "udp 7999 -> 7001 on vb1") | [.interface, .dst]' <<<"$last")" '["vb1",""]'
t_eq poll/scoped-both "$(jq -c '.rules[] | select(.rule == "udp 7999 -> 7004 on vb1 to fd78::3") | [.interface, .dst]' <<<"$last")" '["vb1","fd78::3"]'
t_eq poll/unscoped-too "$(jq -c '.rules[] | select(.rule == "udp 7999 -> 7000") | [.interface, .dst]' <<<"$last")" '["",""]'
t_ge poll/scoped-rate-seen "$(jq '.rules[] | select(.rule == "udp 7999 -> 7003 to 10.78.0.3") | .pps' "$tmp/poll" | sort -n | tail -1)" 1
t_match poll/text-names-scope "$(PR poll --count 1 --interval 10)" "^  udp 7999 -> 7002 on vb2  pps [0-9]+  bps [0-9]+  packets [0-9]+$"

# TCP through a scoped rule: the SYN goes to vb2's port, replies come back
# translated (the client completes and echoes).
t_ok rule-tcp-vb2 PR redirect 8999 8002 --proto tcp --interface vb2
bg_ready "$tmp/srv" in_ns "$B" "$NETTOOL" tcp-server -l 10.79.0.2 -p 8002 -t "$(t_wait 8000)" >/dev/null
out=$(in_ns "$A2" "$NETTOOL" tcp-client -a 10.79.0.2 -p 8999 -b 64k -t "$(t_wait 5000)" 2>&1)
t_match tcp-vb2/echo-through-reply-translation "$out" "^ok 1 failed 0 bytes 65536 "
out=$(in_ns "$A1" "$NETTOOL" tcp-client -a 10.78.0.2 -p 8999 -b 0 -t 1000 2>&1)
t_nomatch tcp-vb1/not-redirected "$out" "^ok 1 "

# Removing vb2's rule: vb2 falls back to the unscoped rule. What the rule
# counted stays in the XDP_PASS total (lib/totals.c), which never goes back.
pass_total() { PR status --json | jq '[.actions[] | select(.action == "XDP_PASS") | .packets] | add // 0'; }
total=$(pass_total) counted=$(packets "udp 7999 -> 7002 on vb2")
t_ok remove-vb2 PR redirect --remove 7999 --proto udp --interface vb2
t_ge totals/removed-rule-stays-counted "$(pass_total)" "$total"
t_ge totals/the-rule-had-counts "$counted" 40
udp_case vb2-v4/then-unscoped "$A2" 10.79.0.2 7000 "udp 7999 -> 7000"

# Unloading vb2 leaves every rule in place and vb1 working.
t_ok rule-vb2-again PR redirect 7999 7002 --proto udp --interface vb2
t_ok unload-vb2 PR unload vb2
t_match after-unload/vb2-rule-kept "$(PR status)" "udp 7999 -> 7002 on vb2 .*scope-state active"
udp_case after-unload/vb1-still-scoped "$A1" 10.78.0.2 7001 "udp 7999 -> 7001 on vb1"
t_ok reload-vb2 PR load vb2
udp_case after-reload/vb2-rule-applies "$A2" 10.79.0.2 7002 "udp 7999 -> 7002 on vb2"

# save writes the scoped rules, apply reads them back, and applying the
# saved state changes nothing; a file without one scoped rule removes just it.
PR save >"$tmp/saved.conf"
t_match save/interface-rule "$(cat "$tmp/saved.conf")" "redirect udp 7999 7001 interface vb1"
t_match save/iface-addr-rule "$(cat "$tmp/saved.conf")" "redirect udp 7999 7004 interface vb1 dst fd78::3"
t_match save/addr-rule "$(cat "$tmp/saved.conf")" "redirect udp 7999 7003 dst 10.78.0.3"
t_match apply/saved-is-no-op "$(PR apply "$tmp/saved.conf")" "nothing to change"
grep -v "7003 dst" "$tmp/saved.conf" >"$tmp/less.conf"
out=$(PR apply "$tmp/less.conf")
t_match apply/removes-one-scoped "$out" "removed rule udp 7999 -> 7003 to 10.78.0.3"
t_eq apply/only-that-change "$(grep -c "rule" <<<"$out")" 1
udp_case apply/vb1-.3-back-to-interface "$A1" 10.78.0.3 7001 "udp 7999 -> 7001 on vb1" draining
t_match apply/again-no-op "$(PR apply "$tmp/less.conf")" "nothing to change"

# An interface recreated under the same name gets a new index: the next
# load follows the name.
ip -n "$B" link del vb2
t_match recreate/gone "$(PR status)" "udp 7999 -> 7002 on vb2 .*scope-state no-such-interface"
ip link add va2 netns "$A2" type veth peer name vb2 netns "$B"
ip -n "$A2" addr add 10.79.0.1/24 dev va2
ip -n "$B" addr add 10.79.0.2/24 dev vb2
ip -n "$A2" link set va2 up && ip -n "$B" link set vb2 up
t_match recreate/stale-before-load "$(PR status)" "udp 7999 -> 7002 on vb2 .*scope-state stale"
t_ok recreate/load PR load vb2
in_ns "$A2" "$NETTOOL" udp-send -a 10.79.0.2 -p 9 >/dev/null; sleep 0.2
t_match recreate/active-after-load "$(PR status)" "udp 7999 -> 7002 on vb2 .*scope-state active"
udp_case recreate/vb2-rule-applies "$A2" 10.79.0.2 7002 "udp 7999 -> 7002 on vb2" draining

t_ok unload-all PR unload --all
t_done
