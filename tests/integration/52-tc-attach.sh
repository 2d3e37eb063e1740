#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# How the TC programs are attached, and someone else's TC programs beside
# them. Kernels with TCX (6.6 and later): TCX links, first on each hook,
# pinned in the pin directory, no clsact qdisc added; older kernels: clsact
# filters. status says which. Foreign programs on both hooks, a clsact filter
# and (where there is TCX) a TCX link each, keep running while the tool is
# loaded (its programs give no verdict of their own) and stay attached after
# it is unloaded.
. "$(dirname "$0")/../lib.sh"
t_tool_suite
OTHER=$TOP/tests/tools/tc_other OBJ=$TOP/tests/tools/tc_count.bpf.o
if [ ! -x "$OTHER" ] || [ ! -f "$OBJ" ]; then
	t_fail setup "tests/tools/tc_other or tc_count.bpf.o not built (run make)"
	t_done
fi
IFS=. read -r kmaj kmin _ <<<"$(uname -r)"
want=clsact kinds=clsact
if [ "$kmaj" -gt 6 ] || { [ "$kmaj" -eq 6 ] && [ "$kmin" -ge 6 ]; }; then
	want=tcx kinds="clsact tcx"
fi

C=$(ns_add c) S=$(ns_add s)
ns_veth "$C" tc0 "$S" tc1 81
PR() { in_ns "$S" "$PORTREDIR" "$@"; }
ifindex=$(ip -n "$S" -o link show tc1 2>/dev/null | cut -d: -f1)
# bpffs takes no dots in names, so no mktemp here.
odir=$BPFFS/pr-test-other-$$
mkdir "$odir" || { t_fail setup "cannot make $odir"; t_done; }
t_on_exit rm -rf "$odir"
for kind in $kinds; do
	mkdir "$odir/$kind"
	for dir in ingress egress; do
		t_ok "foreign/$kind-$dir-attached" in_ns "$S" "$OTHER" attach $kind tc1 $dir "$OBJ" "$odir/$kind"
	done
done
# All foreign counters, one line.
seen() {
	local kind dir
	for kind in $kinds; do
		for dir in ingress egress; do
			printf '%s ' "$("$OTHER" count "$odir/$kind" $dir)"
		done
	done
}
# grew NAME BEFORE AFTER: every counter in AFTER is larger than in BEFORE.
grew() {
	local -a b=($2) a=($3)
	local i ok=1
	for i in "${!b[@]}"; do [ "${a[i]:-0}" -gt "${b[i]}" ] || ok=0; done
	if [ $ok = 1 ] && [ ${#b[@]} -gt 0 ]; then t_pass "$1"; else t_fail "$1" "before: $2 after: $3"; fi
}
ours_tc() { (tc -n "$S" filter show dev tc1 ingress; tc -n "$S" filter show dev tc1 egress) | grep -c 'tc_portredir'; }
echo_round() { # NAME PORT: a TCP echo from C to S:PORT
	local out
	bg_ready "$tmp/srv" nsenter --net="/run/netns/$S" "$NETTOOL" tcp-server -l 10.81.0.2 -p 7998 -n 1 -t 10000 >/dev/null
	out=$(in_ns "$C" "$NETTOOL" tcp-client -a 10.81.0.2 -p "$2" -b 64k -t 8000 2>&1)
	t_match "$1" "$out" "^ok 1 failed 0 bytes 65536 "
	kill "$BG_PID" 2>/dev/null
	wait "$BG_PID" 2>/dev/null
}

t_match load "$(PR load tc1 2>&1)" "loaded on tc1 .*reply translation"
t_ok redirect PR redirect 7999 7998 --proto tcp
js=$(PR status --json)
t_eq "status/json-says-$want" "$(jq -r '.interfaces[] | select(.name == "tc1") | .["tc-attach"]' <<<"$js")" $want
t_match "status/text-says-$want" "$(PR status)" "tc1 .* tc-attach $want "
ing=$(jq -r '.interfaces[] | select(.name == "tc1") | .["tc-ingress-id"]' <<<"$js")
egr=$(jq -r '.interfaces[] | select(.name == "tc1") | .["tc-egress-id"]' <<<"$js")
# The checksum fix-up reads the skb's checksum state where the kernel has
# bpf_cast_to_kern_ctx (6.3+), and falls back to the helpers elsewhere.
if pr_kernel_has_kern_ctx; then
	fixup=tc_portredir_in_kctx
else
	fixup=tc_portredir_in
fi
if [ "$(jq -r '.interfaces[] | select(.name == "tc1") | .["checksum-fixup"]' <<<"$js")" = true ]; then
	t_match "fixup/$fixup-attached" "$(bpftool prog dump xlated id "$ing" 2>&1 | head -n 1)" "^int $fixup\("
else # libxdp's dispatcher refused the variant with metadata (status says why)
	t_eq fixup/none-attached "$ing" 0
fi
if [ $want = tcx ]; then
	t_eq tcx/no-clsact-filter-of-ours "$(ours_tc)" 0
	if [ "$ing" != 0 ]; then
		t_ok tcx/links-pinned test -e "$PIN_DIR/tcx_ingress_$ifindex" -a -e "$PIN_DIR/tcx_egress_$ifindex"
		t_eq tcx/ingress-first "$(in_ns "$S" "$OTHER" tcx-list tc1 ingress | head -n 1)" "$ing"
	else
		t_ok tcx/link-pinned test ! -e "$PIN_DIR/tcx_ingress_$ifindex" -a -e "$PIN_DIR/tcx_egress_$ifindex"
	fi
	t_eq tcx/egress-first "$(in_ns "$S" "$OTHER" tcx-list tc1 egress | head -n 1)" "$egr"
else
	t_eq clsact/filters-of-ours "$(ours_tc)" 2
fi

before=$(seen)
echo_round loaded/tcp-echo-through-redirect 7999
grew loaded/foreign-programs-still-run "$before" "$(seen)"

t_ok unload PR unload tc1
t_eq unloaded/no-clsact-filter-of-ours "$(ours_tc)" 0
t_eq unloaded/foreign-clsact-filters-stay "$( (tc -n "$S" filter show dev tc1 ingress
	tc -n "$S" filter show dev tc1 egress) | grep -c 'tc_other_count')" 2
if [ $want = tcx ]; then
	for dir in ingress egress; do
		list=$(in_ns "$S" "$OTHER" tcx-list tc1 $dir)
		t_eq "unloaded/tcx-$dir-only-the-foreign-link" "$(grep -c . <<<"$list")" 1
		t_nomatch "unloaded/tcx-$dir-ours-gone" "$list" "^($ing|$egr)\$"
	done
fi
before=$(seen)
echo_round unloaded/tcp-direct 7998
grew unloaded/foreign-programs-still-run "$before" "$(seen)"
t_assert_clean
t_done
