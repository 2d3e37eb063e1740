#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Native XDP on a veth between two namespaces made here: IPv4 and IPv6 UDP
# arrives on the new port with valid checksums, TCP SYNs reach the new port,
# rules added and removed under traffic take effect, counters match.
. "$(dirname "$0")/../lib.sh"
t_tool_suite

A=$(ns_add a) B=$(ns_add b)
ns_veth "$A" va "$B" vb 77
PR() { in_ns "$B" "$PORTREDIR" "$@"; }

out=$(PR load vb 2>&1)
t_match load-native "$out" "loaded on vb \(native mode"
t_ok rule-udp PR redirect 7999 7998 --proto udp
t_ok rule-tcp PR redirect 7999 7998 --proto tcp
t_ne_zero() { [ -n "$2" ] && [ "$2" -gt 0 ] && t_pass "$1" || t_fail "$1" "got '$2'"; }

# udp_case FAMILY DST
udp_case() {
	local fam=$1 dst=$2 n=20 before after
	before=$(PR status --json | jq '.rules[] | select(.rule == "udp 7999 -> 7998") | .packets')
	udp_redirect_round "udp-$fam" "$A" "$B" vb "$dst" $n -i 1000
	after=$(PR status --json | jq '.rules[] | select(.rule == "udp 7999 -> 7998") | .packets')
	t_eq "udp-$fam/counter-equals-sent" $((after - before)) $n
}
udp_case ipv4 10.77.0.2 10.77.0.2
udp_case ipv6 fd77::2 fd77::2

# tcp_case FAMILY DST LISTEN: the SYN reaches the new port, checksum valid.
tcp_case() {
	local fam=$1 dst=$2 lst=$3
	bg_ready "$tmp/srv" in_ns "$B" "$NETTOOL" tcp-server -l "$lst" -p 7998 -t 4000 >/dev/null
	bg_ready "$tmp/cap" in_ns "$B" "$NETTOOL" capture -i vb -p 7998 -P tcp -n 1 -t $(t_wait 4000) -v >/dev/null
	in_ns "$A" "$NETTOOL" tcp-client -a "$dst" -p 7999 -b 0 -t "$(t_wait 4000)" >/dev/null 2>&1
	wait_until 6 grep -q '^captured' "$tmp/cap"
	t_match "tcp-$fam/syn-at-new-port" "$(cat "$tmp/cap")" "tcp .* -> .*:7998 csum [0-9a-f]+ ok"
	t_match "tcp-$fam/no-bad-checksum" "$(cat "$tmp/cap")" "captured [0-9]+ ok [0-9]+ bad 0 "
}
tcp_case ipv4 10.77.0.2 10.77.0.2
tcp_case ipv6 fd77::2 fd77::2

# Rules added and removed while traffic flows at 1000 pps; the rule is
# added and removed while it flows. Every datagram arrives, on the port the
# rule said at that moment.
PR redirect --remove 7999 --proto udp >/dev/null
# The receivers print a line per datagram (-v) and are stopped once all that
# was sent has been read: a loaded machine's sender can outlast any timer.
bg_ready "$tmp/new" in_ns "$B" "$NETTOOL" udp-recv -l 10.77.0.2 -p 7998 -v -t $(t_wait 30000) >/dev/null
rx_new=$BG_PID
bg_ready "$tmp/old" in_ns "$B" "$NETTOOL" udp-recv -l 10.77.0.2 -p 7999 -v -t $(t_wait 30000) >/dev/null
rx_old=$BG_PID
# The switches follow what arrived, not the clock (a loaded machine can take
# seconds per command): the rule goes in once 500 datagrams (150 in the VM)
# reached the old port and out once as many reached the new one.
# The sender runs at 1000 pps until stopped (SIGTERM: it prints what it sent).
# After the removal its flow is one the flow table holds, so like conntrack
# it keeps its rewrite (xdp-portredir(8), FLOWS); a second sender, a new flow,
# gives the old port its second stretch.
in_ns "$A" "$NETTOOL" udp-send -a 10.77.0.2 -p 7999 -n 10000000 -i 1000 -t $(t_wait 60000) >"$tmp/send" 2>"$tmp/send.err" &
sender=$!
stretch=$(t_scaled 500 150)
seen() { grep -c '^from ' "$1"; }
wait_until 10 bash -c "[ \$(grep -c '^from ' '$tmp/old') -ge $stretch ]"
PR redirect 7999 7998 --proto udp >/dev/null
wait_until 10 bash -c "[ \$(grep -c '^from ' '$tmp/new') -ge $stretch ]"
PR redirect --remove 7999 --proto udp >/dev/null
after_old=$(seen "$tmp/old") after_new=$(seen "$tmp/new")
in_ns "$A" "$NETTOOL" udp-send -a 10.77.0.2 -p 7999 -n "$stretch" -i 1000 -t $(t_wait 10000) >"$tmp/send2" 2>/dev/null &
sender2=$!
wait_until 10 bash -c "[ \$(grep -c '^from ' '$tmp/old') -ge $((after_old + stretch)) ]"
wait $sender2
wait_until 10 bash -c "[ \$(grep -c '^from ' '$tmp/new') -ge $((after_new + stretch)) ]"
new_after=$(($(seen "$tmp/new") - after_new))
pkill -TERM -P "$sender"; kill -TERM "$sender" 2>/dev/null
wait $sender
sent=$(($(num_after "$tmp/send" sent) + $(num_after "$tmp/send2" sent)))
wait_until 8 bash -c "[ \$(cat '$tmp/new' '$tmp/old' | grep -c '^from ') -ge ${sent:-0} ]"
# SIGTERM ends udp-recv with its summary; in_ns ran it under a subshell.
pkill -TERM -P "$rx_new"; pkill -TERM -P "$rx_old"; kill -TERM "$rx_new" "$rx_old" 2>/dev/null
wait_until 8 grep -q '^received' "$tmp/new"
wait_until 8 grep -q '^received' "$tmp/old"
new=$(num_after "$tmp/new" received) old=$(num_after "$tmp/old" received)
t_ne_zero live-change/some-on-new-port "$new"
t_ne_zero live-change/some-on-old-port "$old"
t_eq live-change/every-datagram-arrived $((new + old)) "$sent"
# Two switches, so the old port sees two stretches of 500 (150 in the VM,
# whose sender is slower): without the second, the removal failed.
t_ge live-change/old-port-before-and-after "$old" "$(t_scaled 1000 300)"
# The established flow went on to the new port after its rule was removed.
t_ge live-change/established-flow-keeps-new-port "$new_after" "$stretch"

t_ok unload PR unload vb
t_nomatch unload/no-xdp "$(ip -n "$B" link show vb)" "xdp"
t_eq unload/no-tc-filter "$(tc -n "$B" filter show dev vb ingress | grep -c bpf)" 0
t_assert_clean
t_done
