#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Persistent rules (xdp-portredir.conf(5)): apply brings the system to the
# file's state and save writes it back; applying twice changes nothing;
# a changed file touches only what differs; the saved file restores the
# state on a clean system; a failing change is undone; and every kind of bad
# file is refused with FILE:LINE, the documented exit code, and no change.
#
# Runs in a private mount namespace with its own bpffs, on veth interfaces in
# network namespaces made here.
. "$(dirname "$0")/../lib.sh"
t_need_root
if [ -z "${PR_PRIVATE_MNT-}" ]; then
	PR_PRIVATE_MNT=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
mount -t bpf bpf "$BPFFS" || { t_fail setup "cannot mount a private bpffs"; t_done; }
tmp=$(mktemp -d /tmp/prt-config.XXXXXX)
t_on_exit "rm -rf $tmp"

A=$(ns_add a) B=$(ns_add b)
ip link add va netns "$A" type veth peer name vb netns "$B"
ip -n "$B" link add vc type veth peer name vd
ip -n "$A" addr add 10.79.0.1/24 dev va
ip -n "$B" addr add 10.79.0.2/24 dev vb
for l in "$A va" "$B vb" "$B vc" "$B vd"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
PR() { in_ns "$B" "$PORTREDIR" "$@"; }
t_on_exit "nsenter --net=/run/netns/$B $PORTREDIR unload --all"

# The state without counters, program ids or ifindexes: what a configuration
# determines. full_state keeps them, for "nothing was touched" (but not the
# per-action totals, which neighbour discovery on the veths moves).
state() {
	PR status --json | jq -S -c 'del(.actions, .flows) | walk(if type == "object" then
		del(.id, ."program-id", ."tc-ingress-id", ."tc-egress-id", .packets, .bytes, .ifindex)
		else . end)'
}
full_state() { PR status --json | jq -S -c 'del(.flows, .actions)'; }
saved() { PR save | grep -v '^#'; }
prog_id() { PR status --json | jq ".interfaces[] | select(.name == \"$1\") | .\"program-id\""; }
rule_packets() { PR status --json | jq ".rules[] | select(.rule == \"$1\") | .packets"; }

# send_udp N: N datagrams from A to B's 7999; echoes how many arrived on 7998.
send_udp() {
	bg_ready "$tmp/r8" in_ns "$B" "$NETTOOL" udp-recv -l 10.79.0.2 -p 7998 -n "$1" -t $(t_wait 4000) >/dev/null
	in_ns "$A" "$NETTOOL" udp-send -a 10.79.0.2 -p 7999 -n "$1" -i 1000 >/dev/null
	wait_until 5 grep -q '^received' "$tmp/r8"
	num_after "$tmp/r8" received
}

# --- apply, save, apply again --------------------------------------------------
# Written the way a person would: comments, blanks, tabs, any order, the
# protocol left out, defaults left out.
cat >"$tmp/user.conf" <<'EOF'
# two interfaces and three rules

interface vc mode skb priority 20 chain-call-actions pass,drop no-reply-translation # trailing
	interface   vb	mode native
redirect udp 7999 7998
redirect tcp 8000-8099 9000#no blank needed
redirect 5000-5009 6000
EOF
# What save must write for it: every setting spelled out, interfaces in
# ifindex order, rules by protocol and port, one protocol per line.
cat >"$tmp/canonical.conf" <<'EOF'
interface vb mode native priority 5 chain-call-actions pass
interface vc mode skb priority 20 chain-call-actions drop,pass no-reply-translation
redirect udp 5000-5009 6000
redirect udp 7999 7998
redirect tcp 5000-5009 6000
redirect tcp 8000-8099 9000
EOF
out=$(PR apply "$tmp/user.conf" 2>&1)
t_eq apply/exit "$?" 0
t_match apply/says-applied "$out" "applied $tmp/user.conf: 6 changes"
t_eq apply/save-is-canonical "$(saved)" "$(cat "$tmp/canonical.conf")"
t_eq apply/vb-mode "$(PR status --json | jq -r '.interfaces[] | select(.name == "vb") | .mode')" native
t_eq apply/vc-reply-translation-off \
	"$(PR status --json | jq -r '.interfaces[] | select(.name == "vc") | ."reply-translation"')" false
t_eq apply/traffic-redirected "$(send_udp 3)" 3
t_eq apply/rule-counter "$(rule_packets "udp 7999 -> 7998")" 3
# Where the checksum fix-up reads the skb (6.3+), one apply loads it once
# and both interfaces run that one program: its load parses the kernel's BTF.
fixups=$(PR status --json | jq -r '[.interfaces[] | select(.name == "vb" or .name == "vc") |
	."tc-ingress-id"] | map(tostring) | join(" ")')
if pr_kernel_has_kern_ctx; then
	read -r f1 f2 <<<"$fixups"
	if [ -n "$f2" ] && [ "$f1" = "$f2" ] && [ "$f1" != 0 ]; then
		t_pass apply/one-fixup-program-for-both
	else
		t_fail apply/one-fixup-program-for-both "tc-ingress-id of vb and vc: $fixups"
	fi
fi

before=$(full_state)
out=$(PR apply "$tmp/user.conf" 2>&1)
t_eq apply-twice/exit "$?" 0
t_eq apply-twice/says-nothing-to-change "$out" "nothing to change: the system already matches $tmp/user.conf"
t_eq apply-twice/nothing-touched "$(full_state)" "$before"
t_match check/matches "$(PR apply --check "$tmp/user.conf" 2>&1)" "the system already matches it"
out=$(PR save | head -n 1)
t_match save/header "$out" "^# xdp-portredir configuration, written by 'xdp-portredir save' \(version $(cat "$TOP/VERSION")\)"

# --- a changed file touches only what differs --------------------------------
cat >"$tmp/changed.conf" <<'EOF'
interface vb mode skb
interface vc mode skb priority 20 chain-call-actions drop,pass no-reply-translation
redirect udp 7999 7998
redirect 5000-5009 6000
redirect tcp 443 8443
EOF
vb_id=$(prog_id vb) vc_id=$(prog_id vc)
before=$(full_state)
out=$(PR apply --check "$tmp/changed.conf" 2>&1)
t_eq check/exit "$?" 0
t_match check/lists-changes "$(tr '\n' ' ' <<<"$out")" "would remove rule tcp 8000-8099 -> 9000-9099.*would add rule tcp 443 -> 8443.*would reload vb \(mode native -> skb\), without a gap \(a TC program holds the rewrite while the XDP mode changes\)"
t_eq check/changes-nothing "$(full_state)" "$before"
out=$(PR apply "$tmp/changed.conf" 2>&1)
t_eq change/exit "$?" 0
t_match change/three-changes "$out" "applied $tmp/changed.conf: 3 changes"
t_match change/says-held "$out" "reloaded vb \(mode native -> skb\), without a gap \(a TC program holds the rewrite while the XDP mode changes\)"
t_eq change/result "$(saved)" "interface vb mode skb priority 5 chain-call-actions pass
interface vc mode skb priority 20 chain-call-actions drop,pass no-reply-translation
redirect udp 5000-5009 6000
redirect udp 7999 7998
redirect tcp 443 8443
redirect tcp 5000-5009 6000"
t_eq change/vc-untouched "$(prog_id vc)" "$vc_id"
if [ "$(prog_id vb)" != "$vb_id" ]; then t_pass change/vb-reloaded; else t_fail change/vb-reloaded "same program id $vb_id"; fi
t_eq change/kept-rule-keeps-counter "$(rule_packets "udp 7999 -> 7998")" 3

# --- round trip through save on a clean system ---------------------------------
t_ok roundtrip/save-to-file PR save "$tmp/saved.conf"
t_eq roundtrip/file-is-stdout "$(grep -v '^#' "$tmp/saved.conf")" "$(saved)"
t_eq roundtrip/file-mode "$(stat -c %a "$tmp/saved.conf")" "$(printf '%o' $((0666 & ~$(umask))))"
want=$(state)
t_ok roundtrip/unload-all PR unload --all
t_eq roundtrip/clean "$(ls "$PIN_DIR" 2>/dev/null)$(ip -n "$B" link show 2>/dev/null | grep -c xdp)" 0
out=$(PR apply "$tmp/saved.conf" 2>&1)
t_eq roundtrip/apply-exit "$?" 0
t_eq roundtrip/same-state "$(state)" "$want"
t_eq roundtrip/saves-the-same "$(grep -v '^#' "$tmp/saved.conf")" "$(saved)"
t_eq roundtrip/stdin-no-op "$(PR apply - <"$tmp/saved.conf" 2>&1)" \
	"nothing to change: the system already matches <stdin>"

# --- an interface that went away -------------------------------------------------
ip -n "$B" link add name ve type veth peer name vg
ip -n "$B" link set dev ve up
PR load --mode skb ve >/dev/null
ip -n "$B" link del ve
t_match gone/status-says-gone "$(PR status --json | jq -r '.interfaces[] | select(.name == "ve") | .state')" "interface-gone"
t_match gone/save-comments-it "$(PR save)" "^# not saved: interface ve \(the interface no longer exists\)$"
out=$(PR apply "$tmp/saved.conf" 2>&1)
t_match gone/apply-forgets-it "$out" "unloaded from ve \(the interface no longer exists\)"
t_eq gone/state-back "$(state)" "$want"

# --- a change that fails is undone ----------------------------------------------------
# vb is reloaded with another priority, a rule and an interface are added,
# then lo refuses native mode: everything before it is taken back.
ip -n "$B" link add name vf type veth peer name vh
ip -n "$B" link set dev vf up
{
	grep -v '^interface vb' "$tmp/saved.conf"
	echo "interface vb mode skb priority 7"
	echo "redirect udp 4000 4001"
	echo "interface vf mode skb"
	echo "interface lo mode native"
} >"$tmp/fails.conf"
line=$(grep -n 'interface lo' "$tmp/fails.conf" | cut -d: -f1)
before=$(state)
out=$(PR apply "$tmp/fails.conf" 2>&1)
t_eq rollback/exit "$?" 1
t_match rollback/names-line "$out" "^$tmp/fails.conf:$line: cannot attach to lo in native mode"
t_match rollback/says-undone "$out" "nothing applied \(the changes made before the failure were undone\)"
t_eq rollback/state-unchanged "$(state)" "$before"
t_nomatch rollback/vf-not-left "$(ip -n "$B" link show vf 2>/dev/null)" "xdp"

# --- bad files: refused with FILE:LINE, nothing applied --------------------------------
# Each bad file is the saved one (a no-op) plus lines that would change
# things (a rule, an interface) plus the given lines, the last one bad, so
# "nothing applied" is visible.
# bad NAME WANT_EXIT WANT_MESSAGE LINE...
bad() {
	local name=$1 want_rc=$2 want_msg=$3 f=$tmp/bad-$1.conf before out rc n
	shift 3
	{
		cat "$tmp/saved.conf"
		echo "redirect udp 4000 4001"
		echo "interface vf"
		printf '%s\n' "$@"
	} >"$f"
	n=$(wc -l <"$f")
	before=$(full_state)
	out=$(PR apply "$f" 2>&1)
	rc=$?
	t_eq "bad/$name/exit" "$rc" "$want_rc"
	t_match "bad/$name/file-line" "$out" "^$f:$n: (.* )?$want_msg"
	t_match "bad/$name/nothing-applied" "$out" "nothing applied"
	t_eq "bad/$name/state-unchanged" "$(full_state)" "$before"
}
bad keyword 2 "unknown keyword 'forward'" "forward udp 1 2"
bad port-range 2 "port 70000 is out of range 1-65535" "redirect udp 70000 7000"
bad port-text 2 "invalid port 'abc'" "redirect udp abc 7000"
bad target-port 2 "invalid target port: port 0 is out of range" "redirect udp 7000 0"
bad range-reversed 2 "first port must not exceed the last" "redirect tcp 9000-8000 100"
bad range-past-65535 2 "ends at 65570, past 65535" "redirect udp 65000-65535 65035"
bad self-redirect 2 "redirects the port to itself" "redirect 7000 7000"
bad protocol 2 "unknown protocol 'icmp'" "redirect icmp 1 2"
bad overlap 2 "rule udp 7990-8000 -> 100-110 overlaps rule udp 7999 -> 7998 at line [0-9]+" "redirect 7990-8000 100"
bad overlap-with-earlier-line 2 "rule udp 4000 -> 5 overlaps rule udp 4000 -> 4001 at line [0-9]+" "redirect udp 4000 5"
bad unknown-interface 1 "unknown interface 'nosuchif0' \(see 'ip link'\)" "interface nosuchif0"
bad duplicate-interface 2 "interface 'vb' is already listed at line [0-9]+" "interface vb mode skb"
bad interface-name 2 "invalid interface name 'a/b'" "interface a/b"
bad mode 2 "invalid mode 'fast' \(expected native or skb\)" "interface vd mode fast"
bad mode-hw 2 "mode hw is not supported" "interface vd mode hw"
bad priority 2 "invalid priority '1001' \(expected a number in 0-1000\)" "interface vd priority 1001"
bad priority-negative 2 "invalid priority '-1'" "interface vd priority -1"
bad chain-call 2 "invalid chain-call-actions 'pass,jump'" "interface vd chain-call-actions pass,jump"
bad interface-option 2 "unknown interface option 'fast'" "interface vd fast"
bad option-twice 2 "'mode' is given twice" "interface vd mode skb mode skb"
bad missing-interface-name 2 "'interface' needs an interface name" "interface"
bad missing-mode-value 2 "'mode' needs a value" "interface vd mode"
bad missing-target 2 "missing target port after '7000'" "redirect udp 7000"
bad missing-ports 2 "'redirect' needs a port and a target port" "redirect"
bad too-many-words 2 "too many arguments starting at '3'" "redirect udp 1 2 3"

# Every error is reported, each with its own line.
printf 'interface vd mode fast\nredirect udp 1\nfrob\n' >"$tmp/three.conf"
out=$(PR apply "$tmp/three.conf" 2>&1)
t_eq bad/three-errors/exit "$?" 2
t_eq bad/three-errors/one-line-each "$(grep -c "^$tmp/three.conf:[123]: " <<<"$out")" 3
t_match bad/three-errors/count "$out" "3 errors in $tmp/three.conf; nothing applied"
out=$(PR apply "$tmp/no-such-file.conf" 2>&1)
t_eq bad/unreadable/exit "$?" 1
t_match bad/unreadable/message "$out" "cannot read $tmp/no-such-file.conf: No such file or directory"
out=$(printf 'redirect udp 1 2\0x\n' | PR apply - 2>&1)
t_eq bad/nul-byte/exit "$?" 2
t_match bad/nul-byte/message "$out" "^<stdin>:1: the line contains a NUL byte"

# Another XDP program in the way is found before anything changes.
if command -v xdp-filter >/dev/null; then
	in_ns "$B" xdp-filter load --mode skb vf >/dev/null 2>&1
	t_on_exit "nsenter --net=/run/netns/$B xdp-filter unload --all"
	{ cat "$tmp/saved.conf"; echo "redirect udp 4000 4001"; echo "interface vf mode native"; } >"$tmp/other.conf"
	n=$(wc -l <"$tmp/other.conf")
	before=$(full_state)
	out=$(PR apply "$tmp/other.conf" 2>&1)
	t_eq other-program/exit "$?" 1
	t_match other-program/file-line "$out" \
		"^$tmp/other.conf:$n: vf (already has XDP program '.*' attached without a libxdp dispatcher|has XDP programs in skb mode)"
	t_eq other-program/state-unchanged "$(full_state)" "$before"
	t_match other-program/xdp-filter-intact "$(ip -n "$B" link show vf 2>/dev/null)" "xdp"
	in_ns "$B" xdp-filter unload --all >/dev/null 2>&1
else
	t_skip other-program "xdp-filter not installed (Debian package xdp-tools)"
fi

# --- the flow table's size ---------------------------------------------------------------
capacity() { PR status --json | jq '.flows.capacity'; }
default_capacity=$(capacity)
t_match flows/saved-without-default "$(PR save)" "^interface vb"
t_nomatch flows/default-not-written "$(PR save)" "flow-table-size"
{ echo "flow-table-size 1024"; grep -v '^#' "$tmp/saved.conf"; } >"$tmp/flows.conf"
vc_id=$(prog_id vc)
out=$(PR apply "$tmp/flows.conf" 2>&1)
t_eq flows/exit "$?" 0
t_match flows/remade "$out" "remade the flow table: $default_capacity -> 1024 entries"
t_eq flows/capacity "$(capacity)" 1024
if [ "$(prog_id vc)" != "$vc_id" ]; then t_pass flows/interfaces-reloaded; else t_fail flows/interfaces-reloaded "vc kept program $vc_id"; fi
t_eq flows/saved "$(saved)" "$(grep -v '^#' "$tmp/flows.conf")"
t_match flows/again-no-op "$(PR apply "$tmp/flows.conf" 2>&1)" "nothing to change"
t_match flows/unset-keeps-any-size "$(PR apply "$tmp/saved.conf" 2>&1)" "nothing to change"
t_eq flows/still-1024 "$(capacity)" 1024
bad flow-table-size 2 "invalid flow-table-size '10' \(expected a number in 256-16777216\)" "flow-table-size 10"
bad flow-table-size-twice 2 "'flow-table-size' is already given at line [0-9]+" "flow-table-size 2048" "flow-table-size 4096"
PR unload --all >/dev/null
PR apply "$tmp/saved.conf" >/dev/null 2>&1

# --- apply --json: the same report, and the errors, as JSON ------------------------------
js=$(PR apply --json "$tmp/saved.conf" 2>&1)
t_eq json/no-op-exit "$?" 0
t_eq json/no-op "$(jq -c '[.file, .check, .changes, .result]' <<<"$js")" \
	"[\"$tmp/saved.conf\",false,[],\"unchanged\"]"
{ cat "$tmp/saved.conf"; echo "redirect udp 4000 4001"; } >"$tmp/json.conf"
text=$(PR apply --check "$tmp/json.conf" 2>&1 | grep '^would')
js=$(PR apply --check --json "$tmp/json.conf" 2>/dev/null)
t_eq json/check-exit "$?" 0
t_eq json/check-result "$(jq -c '[.check, .result, .changes[0].done]' <<<"$js")" '[true,"valid",false]'
t_eq json/check-same-sentences "$(jq -r '.changes[].text' <<<"$js")" "$text"
js=$(PR apply --json "$tmp/json.conf" 2>/dev/null)
t_eq json/apply-exit "$?" 0
t_eq json/apply-change "$(jq -c '[.result, (.changes[] | [.action, .done, .rule, .text])]' <<<"$js")" \
	'["applied",["add-rule",true,"udp 4000 -> 4001","added rule udp 4000 -> 4001"]]'
{ cat "$tmp/saved.conf"; echo "interface vf mode skb"; } >"$tmp/json-load.conf"
js=$(PR apply --json "$tmp/json-load.conf" 2>/dev/null)
t_eq json/load-exit "$?" 0
t_eq json/load-fields "$(jq -c '.changes[] | select(.action == "load") | [.interface, .mode, .done]' <<<"$js")" \
	'["vf","skb",true]'
t_match json/load-sentence "$(jq -r '.changes[] | select(.action == "load") | .text' <<<"$js")" \
	"^loaded on vf \(skb mode, priority [0-9]+, chain-call"
t_eq json/load-rule-removed "$(jq -r '.changes[] | select(.action == "remove-rule") | .rule' <<<"$js")" \
	"udp 4000 -> 4001"
printf 'interface vd mode fast\nfrob\n' >"$tmp/json-bad.conf"
PR apply --json "$tmp/json-bad.conf" >"$tmp/json.out" 2>"$tmp/json.err"
t_eq json/bad-exit "$?" 2
t_eq json/bad-stdout "$(jq -c '[.changes, .result]' <"$tmp/json.out")" '[[],"failed"]'
t_eq json/bad-every-error-line-is-json "$(jq -c '.error.command' <"$tmp/json.err" 2>&1 | sort | uniq -c | tr -s ' ')" \
	' 3 "apply"'
t_eq json/bad-messages "$(jq -r '.error.message' <"$tmp/json.err")" \
	"$tmp/json-bad.conf:1: invalid mode 'fast' (expected native or skb)
$tmp/json-bad.conf:2: unknown keyword 'frob' (expected 'interface', 'redirect' or 'flow-table-size')
2 errors in $tmp/json-bad.conf; nothing applied"
PR apply "$tmp/saved.conf" >/dev/null 2>&1
t_eq json/back-to-saved "$(saved)" "$(grep -v '^#' "$tmp/saved.conf")"

# --- rules only, then nothing ------------------------------------------------------------
printf 'redirect udp 7999 7998\n' >"$tmp/rules-only.conf"
out=$(PR apply "$tmp/rules-only.conf" 2>&1)
t_eq rules-only/exit "$?" 0
t_eq rules-only/no-interfaces "$(PR status --json | jq -c '[.interfaces[].name]')" "[]"
t_eq rules-only/rule-kept "$(PR status --json | jq -c '[.rules[].rule]')" '["udp 7999 -> 7998"]'
out=$(PR apply /dev/null 2>&1)
t_eq empty/exit "$?" 0
t_match empty/removes-the-rule "$out" "removed rule udp 7999 -> 7998"
t_eq empty/no-pins "$(ls "$PIN_DIR" 2>/dev/null)" ""
t_eq empty/again-no-op "$(PR apply /dev/null 2>&1)" "nothing to change: the system already matches /dev/null"
PR apply "$tmp/saved.conf" >/dev/null 2>&1
out=$(PR apply /dev/null 2>&1)
t_match empty/unloads-everything "$out" "unloaded from vb \(not in the configuration\)"
t_eq empty/no-xdp-left "$(ip -n "$B" link show 2>/dev/null | grep -c xdp)" 0
t_eq empty/no-tc-left "$(tc -n "$B" filter show dev vb ingress | grep -c bpf)" 0
t_assert_clean
t_done
