#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Jumbo frames through libxdp's dispatcher: a veth pair with MTU 9000, native
# mode. xdp-portredir declares multi-buffer (frags) support, so its
# dispatcher attaches at that MTU and 8,000-byte datagrams are redirected.
# Which xdp-filter is installed decides the second half:
#   one without frags (Debian 12's 1.3.1, Debian 13's 1.5.4): the kernel
#     refuses it at this MTU, alone and beside xdp-portredir, and
#     xdp-portredir keeps redirecting; then a test program that declares
#     frags (tests/tools/xdp_frags_count.bpf.c) joins ours in the dispatcher
#     and sees the 8,000-byte datagrams after ours redirected them;
#   one with frags (none packaged yet): both share a frags dispatcher at this
#     MTU, and the datagrams pass both programs; a third program without
#     frags (a copy of ours through xdp-loader) is refused, ours stays.
#
# It needs the dispatcher, so on a kernel that refuses it (this host) it
# SKIPs. The default VM row runs it (tests/vm/suites; about 90 s under
# TCG); alone:
#   tests/vm/run-vm.sh -k 33-jumbo-dispatcher

. "$(dirname "$0")/../vm/scenarios/multiprog.bash"
mp_begin "$0" "$@"

A=$(ns_add a) && B=$(ns_add b) || { t_fail setup "cannot create namespaces"; t_done; }
ADDR_B=10.116.0.2
mp_veth "$A" ja 10.116.0.1 "$B" jb "$ADDR_B"
ip -n "$A" link set ja mtu 9000 && ip -n "$B" link set jb mtu 9000 ||
	{ t_fail setup "cannot set MTU 9000"; t_done; }
t_on_exit inn "$B" xdp-filter unload --all
t_on_exit PRn "$B" unload --all
BIG=$(head -c 8000 /dev/zero | tr '\0' j)

# big_round NAME: 5 datagrams of 8,000 bytes to 7999 must all reach 7998.
big_round() {
	local n=5
	bg_ready "$MP_TMP/new" inn "$B" "$NETTOOL" udp-recv -l "$ADDR_B" -p $NEW_PORT -n $n -t $(t_wait 20000)
	inn "$A" "$NETTOOL" udp-send -a "$ADDR_B" -p $OLD_PORT -n $n -i 20000 -m "$BIG" >/dev/null
	wait_until 25 grep -q '^received' "$MP_TMP/new"
	t_eq "$1" "$(num_after "$MP_TMP/new" received)" $n
}

# frags_seen: what tests/tools/xdp_frags_count.bpf.o counted (0 before it loads).
frags_seen() {
	local v
	# bpftool's JSON gives the raw bytes as "value", the BTF view as "formatted".
	v=$(inn "$B" bpftool -j map dump name frags_seen 2>/dev/null | jq '.[0].formatted.value // 0' 2>/dev/null)
	[[ "$v" =~ ^[0-9]+$ ]] || v=0
	echo "$v"
}

# Does this xdp-filter declare frags? Alone at MTU 9000 it loads only if so.
if out=$(inn "$B" xdp-filter load jb 2>&1); then
	filter_frags=1
	t_pass filter-with-frags-loads-at-9000
	inn "$B" xdp-filter unload jb >/dev/null 2>&1
else
	filter_frags=0
	t_match filter-without-frags-refused-at-9000 "$out" "out of range|ERANGE|-34"
fi

mp_pr_load load-native-at-9000 "$B" jb --mode native
t_match load-says-native "$PR_LOAD_OUT" "loaded on jb \(native mode"
t_ok redirect PRn "$B" redirect --proto udp $OLD_PORT $NEW_PORT
inn "$A" ping -c 1 -W 3 "$ADDR_B" >/dev/null 2>&1
big_round alone/8000-byte-datagrams-redirected

if [ $filter_frags = 0 ]; then
	# Joining would make the dispatcher single-buffer: refused, ours stays.
	if out=$(inn "$B" xdp-filter load jb 2>&1); then
		t_fail beside/filter-without-frags-refused "xdp-filter joined at MTU 9000: $out"
	else
		t_pass beside/filter-without-frags-refused
	fi
	t_match beside/ours-still-attached "$(mp_chain "$B" jb)" "^[0-9]+ $MP_OURS "
	t_eq beside/only-ours "$(mp_chain "$B" jb | wc -l)" 1
	big_round beside/still-redirected
	# A program that declares frags joins: the dispatcher stays
	# multi-buffer with both, and the jumbo datagrams run through both
	# (it counts frames longer than a page).
	t_on_exit inn "$B" xdp-loader unload jb --all
	# (xdp-loader 1.3.1 would not declare its frags: tests/tools/xdp_frags_load does.)
	t_ok beside/frags-program-joins inn "$B" "$TOP/tests/tools/xdp_frags_load" jb "$TOP/tests/tools/xdp_frags_count.bpf.o"
	t_eq beside/frags-both-in-dispatcher "$(mp_chain "$B" jb | awk '{ print $2 }' | tr '\n' ' ')" \
		"$MP_OURS xdp_frags_count "
	before=$(frags_seen)
	big_round beside/frags-8000-byte-datagrams-redirected
	t_ge beside/frags-program-saw-them $(($(frags_seen) - before)) 5
else
	t_ok beside/filter-with-frags-joins inn "$B" xdp-filter load jb
	t_match beside/both-in-dispatcher "$(mp_chain "$B" jb | awk '{ print $2 }' | tr '\n' ' ')" \
		"$MP_OURS xdpfilt_"
	big_round beside/8000-byte-datagrams-through-both
	passed=$(inn "$B" xdp-filter status 2>&1 | awk '$1 == "XDP_PASS" { print $2 }')
	t_ge beside/filter-saw-them "${passed:-0}" 5
	# The refusal case beside this xdp-filter: a program without frags
	# support (a copy of ours through xdp-loader, whose section does not
	# declare them) would make the dispatcher single-buffer at MTU 9000.
	t_on_exit inn "$B" xdp-loader unload jb --all
	if out=$(inn "$B" xdp-loader load -n "$MP_OURS" jb "$TOP/bpf/portredir.bpf.o" 2>&1); then
		t_fail beside/program-without-frags-refused "xdp-loader joined at MTU 9000: $out"
	else
		t_pass beside/program-without-frags-refused
	fi
	t_eq beside/still-two "$(mp_chain "$B" jb | wc -l)" 2
	big_round beside/still-redirected-after-refusal
fi
t_done
