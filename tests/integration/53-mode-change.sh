#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# An apply that changes a veth's XDP mode (native -> skb -> native) keeps
# established TCP connections (IPv4 and IPv6, an interactive session and a
# paced bulk stream each): for the moment the interface has no XDP program,
# the TC hold makes the rewrite, and the egress program keeps translating
# replies. A test hook stretches that moment to a second, so every check
# below meets it; with the same hook and no hold the bulk stream is cut,
# which shows that the moment is real and the hold is what bridges it.
. "$(dirname "$0")/../lib.sh"
t_tool_suite
flow_setup

A=$(ns_add a) B=$(ns_add b)
ns_veth "$A" va "$B" vb 53
PR() { in_ns "$B" "$PORTREDIR" "$@"; }
mode() { PR status --json | jq -r '.interfaces[] | select(.name=="vb") | .mode'; }
# No hold left: no pin of its TCX link, no program of that name anywhere.
no_hold() {
	local left
	left=$(ls "$PIN_DIR" 2>/dev/null | grep '^tcx_hold_')
	left+=$(bpftool prog show 2>/dev/null | grep -o 'tc_portredir_ho')
	[ -z "$left" ] && t_pass "$1" || t_fail "$1" "left behind: $left"
}
# conf MODE: the running configuration with vb in MODE.
conf() { PR save | sed -E "s/^(interface vb) mode [a-z]+/\1 mode $1/"; }

t_match setup/load "$(PR load vb --mode native 2>&1)" "loaded on vb \(native mode"
PR redirect 7999 7998 --proto tcp >/dev/null || t_fail setup/rule "redirect failed"
in_ns "$B" "$PEER" server 7998 >"$tmp/srv" 2>&1 &
t_on_exit "kill $!"
wait_until 60 grep -q '^ready' "$tmp/srv" || t_fail setup/server "server not ready"
flow_client c4 10.53.0.2 "$A"
flow_client c6 fd53::2 "$A"
t_eq start/v4 "$(flow_check c4)" "ok 7998 7998"
t_eq start/v6 "$(flow_check c6)" "ok 7998 7998"

# to_mode MODE NAME: apply vb in MODE with a second without XDP; checks named NAME/...
to_mode() {
	local out rc
	conf "$1" >"$tmp/$1.conf"
	out=$(XDP_PORTREDIR_TEST_GAP_MS=1000 PR apply "$tmp/$1.conf" 2>&1)
	rc=$?
	t_eq "$2/exit" "$rc" 0
	t_match "$2/says-held" "$out" "reloaded vb \(mode [a-z]+ -> $1\), without a gap \(a TC program holds the rewrite"
	t_eq "$2/mode" "$(mode)" "$1"
	t_eq "$2/v4-survives" "$(flow_check c4)" "ok 7998 7998"
	t_eq "$2/v6-survives" "$(flow_check c6)" "ok 7998 7998"
	no_hold "$2/hold-removed"
}
to_mode skb native-to-skb
to_mode native skb-to-native
t_eq new-flow-redirected/mode "$(mode)" native
flow_client n4 10.53.0.2 "$A"
t_eq new-flow-redirected/v4 "$(flow_check n4)" "ok 7998 7998"

# A new mode that fails once its XDP program is attached (gdb makes
# pr_attach_tc() fail, after a second's stall): apply fails and says why,
# the old mode is attached again, and the flows survive: the hold and the
# TC egress program stay until the old settings are back. gdb comes with
# scripts/deps.sh's test packages; without it (the VM rows) these checks
# are skipped.
if command -v gdb >/dev/null; then
	conf skb >"$tmp/skb.conf"
	out=$(timeout 600 nsenter --net="/run/netns/$B" "${T_GDB[@]}" -ex 'set confirm off' \
		-ex 'tbreak pr_attach_tc' -ex run \
		-ex 'shell sleep 1' -ex 'call (int)pr_err_set(err, "injected fault")' -ex 'return -1' \
		-ex continue --args "$PORTREDIR" apply "$tmp/skb.conf" 2>&1)
	t_match fault/fails "$out" "exited with code 01"
	t_match fault/says-why "$out" "injected fault"
	t_eq fault/old-mode-back "$(mode)" native
	t_eq fault/v4-survives "$(flow_check c4)" "ok 7998 7998"
	t_eq fault/v6-survives "$(flow_check c6)" "ok 7998 7998"
	no_hold fault/hold-removed
else
	t_skip fault "gdb is not installed"
fi

# The same change without the hold: the second without XDP cuts the bulk
# stream (the client's segments reach 7999, where nothing listens: RST).
conf skb >"$tmp/skb.conf"
XDP_PORTREDIR_TEST_NO_HOLD=1 XDP_PORTREDIR_TEST_GAP_MS=1000 PR apply "$tmp/skb.conf" >/dev/null 2>&1
t_eq no-hold/mode "$(mode)" skb
t_match no-hold/v4-cut "$(flow_check c4)" "^fail"
t_match no-hold/v6-cut "$(flow_check c6)" "^fail"

for c in c4 c6 n4; do echo quit >"$tmp/$c.ctl"; done
t_ok unload PR unload vb
no_hold unload/no-hold
t_done
