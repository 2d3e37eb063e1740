#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Jumbo frames: on a veth pair with MTU 9000 between two namespaces made
# here, the tool loads in native mode (the program declares multi-buffer
# support) and in skb mode; 8,000-byte UDP datagrams and TCP with an MSS
# near 9000, IPv4 and IPv6, arrive on the new port with valid checksums
# (the receiver's checksum error counters stay put, a capture agrees), and
# TCP replies are translated (the client's connection completes).
. "$(dirname "$0")/../lib.sh"
t_tool_suite

A=$(ns_add a) B=$(ns_add b)
ns_veth "$A" ja "$B" jb 78
PR() { in_ns "$B" "$PORTREDIR" "$@"; }
BIG=$(head -c 8000 /dev/zero | tr '\0' j)
# Byte count of a rule's traffic, and its packet count.
rule_field() { PR status --json | jq ".rules[] | select(.rule == \"$1 7999 -> 7998\") | .$2"; }

# A frags-declaring program lets the MTU grow while it is attached (the
# kernel refuses that to single-buffer programs): load at 1500, then raise.
out=$(PR load jb --mode native 2>&1)
t_match mtu-raise/load-at-1500 "$out" "loaded on jb \(native mode"
t_ok mtu-raise/peer-to-9000 ip -n "$A" link set ja mtu 9000
t_ok mtu-raise/own-to-9000 ip -n "$B" link set jb mtu 9000
PR unload jb >/dev/null
# Warm the paths (neighbours, IPv6 link-local) before counting.
in_ns "$A" ping -c 1 -W 2 10.78.0.2 >/dev/null 2>&1
in_ns "$A" ping -c 1 -W 2 fd78::2 >/dev/null 2>&1

udp_case() { # MODE FAMILY DST
	local mode=$1 fam=$2 dst=$3 n=10 bytes0 bytes1 err0 err1 key=UdpInCsumErrors
	[ "$fam" = ipv6 ] && key=Udp6InCsumErrors
	err0=$(snmp_counter "$B" $key) bytes0=$(rule_field udp bytes)
	udp_redirect_round "$mode/udp-$fam" "$A" "$B" jb "$dst" $n -i 20000 -m "$BIG"
	err1=$(snmp_counter "$B" $key) bytes1=$(rule_field udp bytes)
	t_eq "$mode/udp-$fam/no-$key" "$err1" "$err0"
	# The rule counts whole frames: 8000 bytes of payload each, and more.
	t_ge "$mode/udp-$fam/counted-whole-frames" $((bytes1 - bytes0)) $((n * 8000))
}

tcp_case() { # MODE FAMILY DST
	local mode=$1 fam=$2 dst=$3 out pk0 pk1 by0 by1 errb erra
	errb=$(snmp_counter "$B" TcpInCsumErrors) erra=$(snmp_counter "$A" TcpInCsumErrors)
	pk0=$(rule_field tcp packets) by0=$(rule_field tcp bytes)
	# nsenter execs the server, so $BG_PID is the server itself.
	bg_ready "$tmp/srv" nsenter --net="/run/netns/$B" "$NETTOOL" tcp-server -l "$dst" -p 7998 -n 1 -t $(t_wait 30000) >/dev/null
	srv=$BG_PID
	bg_ready "$tmp/cap" in_ns "$B" "$NETTOOL" capture -i jb -p 7998 -P tcp -n 50 -t $(t_wait 8000) >/dev/null
	out=$(in_ns "$A" "$NETTOOL" tcp-client -a "$dst" -p 7999 -b 2m -t $(t_wait 20000) 2>&1)
	t_match "$mode/tcp-$fam/2m-echoed-through-redirect" "$out" "^ok 1 failed 0 bytes 2097152 "
	wait_until 10 grep -q '^captured' "$tmp/cap"
	t_match "$mode/tcp-$fam/capture-checksums-valid" "$(cat "$tmp/cap")" "captured 50 ok 50 bad 0 "
	t_eq "$mode/tcp-$fam/no-TcpInCsumErrors-server" "$(snmp_counter "$B" TcpInCsumErrors)" "$errb"
	t_eq "$mode/tcp-$fam/no-TcpInCsumErrors-client" "$(snmp_counter "$A" TcpInCsumErrors)" "$erra"
	kill $srv; wait $srv 2>/dev/null
	pk1=$(rule_field tcp packets) by1=$(rule_field tcp bytes)
	# Segments larger than a 1500 MTU allows went through the program.
	t_ge "$mode/tcp-$fam/jumbo-segments" $(((by1 - by0) / (pk1 - pk0 > 0 ? pk1 - pk0 : 1))) 1500
}

for mode in native skb; do
	out=$(PR load jb --mode $mode 2>&1)
	t_match "$mode/load-at-mtu-9000" "$out" "loaded on jb \($mode mode"
	PR redirect 7999 7998 --proto udp >/dev/null
	PR redirect 7999 7998 --proto tcp >/dev/null
	udp_case $mode ipv4 10.78.0.2
	udp_case $mode ipv6 fd78::2
	tcp_case $mode ipv4 10.78.0.2
	tcp_case $mode ipv6 fd78::2
	t_ok "$mode/unload" PR unload jb
	PR redirect --remove 7999 --proto udp >/dev/null 2>&1
	PR redirect --remove 7999 --proto tcp >/dev/null 2>&1
done
t_done
