# SPDX-License-Identifier: GPL-2.0
# Shared by the robustness suites (tests/integration/85-89); source it after
# tests/lib.sh.
#
# r_isolate "$@" re-runs the calling suite inside a network namespace of its
# own (made here, deleted at exit) with a private mount namespace and a fresh
# bpffs instance at /sys/fs/bpf. So the suite's CLI runs see only their own
# pins and interfaces: `unload --all` cannot touch the host's lo, and the
# host's /sys/fs/bpf/xdp-portredir (used by other suites) is never opened.
# `ip netns exec` gives the child a fresh /sys (no bpffs) in a mount
# namespace that does not propagate back; a new bpffs is mounted on top.

r_isolate() {
	if [ -n "${PR_ROBUST_INNER:-}" ]; then
		mount -t bpf bpf "$BPFFS" || { t_fail isolate "cannot mount a private bpffs"; t_done; }
		if [ -e "$PIN_DIR" ]; then
			t_fail isolate "the private bpffs already holds $PIN_DIR: not private"
			t_done
		fi
		ip link set lo up
		return 0
	fi
	t_need_root
	local ns rc
	ns=$(ns_add iso) || { t_fail isolate "cannot create a network namespace"; t_done; }
	ip netns exec "$ns" env PR_ROBUST_INNER=1 T_SUITE="$T_SUITE" bash "$0" "$@"
	rc=$?
	t_cleanup
	trap - EXIT
	exit "$rc"
}

# r_veth A B: a veth pair, both ends up (native XDP on veth needs the peer up).
r_veth() {
	ip link add "$1" type veth peer name "$2" && ip link set "$1" up && ip link set "$2" up
}

# Kernel truth, independent of the tool: id of the XDP program the kernel
# runs on $1 (the dispatcher's, if there is one), 0 if none.
r_xdp_id() {
	ip -j link show dev "$1" 2>/dev/null | jq -r '.[0].xdp.prog.id // 0'
}

# Kernel truth: id of the tool's TC program on $1 in direction $2
# (ingress|egress), 0 if none: in its clsact slot (handle 0x7072, priority
# 1), else on the TCX hook (kernels 6.6+), found by its name there.
r_tc_id() {
	local id
	id=$(tc -j filter show dev "$1" "$2" 2>/dev/null |
		jq -r '[.[] | select(.pref == 1 and .options.handle == "0x7072") |
			.options.prog.id] | first // 0')
	if [ "${id:-0}" = 0 ]; then
		for id in $("$TOP/tests/tools/tc_other" tcx-list "$1" "$2" 2>/dev/null); do
			bpftool -j prog show id "$id" 2>/dev/null | jq -e '.name | startswith("tc_portredir")' >/dev/null &&
				break
			id=0
		done
	fi
	echo "${id:-0}"
}

# Interfaces of this namespace with any XDP program or a filter in the
# tool's TC slot, as "name:what" words; empty when clean.
r_leftovers() {
	local i
	for i in $(ip -j link show | jq -r '.[].ifname'); do
		[ "$(r_xdp_id "$i")" != 0 ] && echo -n "$i:xdp "
		[ "$(r_tc_id "$i" ingress)" != 0 ] && echo -n "$i:tc-ingress "
		[ "$(r_tc_id "$i" egress)" != 0 ] && echo -n "$i:tc-egress "
	done
	[ -e "$PIN_DIR" ] && echo -n "pins($(ls "$PIN_DIR" | tr '\n' ' '))"
}

# r_assert_clean NAME: nothing of the tool is left in this namespace.
r_assert_clean() {
	local left
	left=$(r_leftovers)
	if [ -z "$left" ]; then t_pass "$1"; else t_fail "$1" "left behind: $left"; fi
}

# r_truth NAME STATUS_JSON IFACE...: what status says about each interface
# matches what the kernel has: "loaded" exactly when an XDP program is
# attached (same program id when there is no dispatcher), and every program
# in the tool's TC slots shown with its id.
r_truth() {
	local name=$1 json=$2 i k st sid ti te si se bad=""
	shift 2
	for i in "$@"; do
		k=$(r_xdp_id "$i")
		st=$(jq -r --arg i "$i" '[.interfaces[] | select(.name == $i) | .state] | first // "absent"' <<<"$json")
		sid=$(jq -r --arg i "$i" '[.interfaces[] | select(.name == $i) |
			if .dispatcher then -1 else ."program-id" end] | first // 0' <<<"$json")
		if [ "$k" != 0 ]; then
			[ "$st" = loaded ] || bad="$bad $i:kernel-has-xdp-$k-status-says-$st"
			[ "$sid" = -1 ] || [ "$sid" = "$k" ] || bad="$bad $i:xdp-id-$k-status-says-$sid"
		else
			[ "$st" != loaded ] || bad="$bad $i:no-xdp-but-status-says-loaded"
		fi
		ti=$(r_tc_id "$i" ingress)
		te=$(r_tc_id "$i" egress)
		si=$(jq -r --arg i "$i" '[.interfaces[] | select(.name == $i) | ."tc-ingress-id"] | first // 0' <<<"$json")
		se=$(jq -r --arg i "$i" '[.interfaces[] | select(.name == $i) | ."tc-egress-id"] | first // 0' <<<"$json")
		[ "$ti" = "$si" ] || bad="$bad $i:tc-ingress-kernel-$ti-status-$si"
		[ "$te" = "$se" ] || bad="$bad $i:tc-egress-kernel-$te-status-$se"
	done
	if [ -z "$bad" ]; then t_pass "$name"; else t_fail "$name" "status disagrees with the kernel:$bad"; fi
}

# The rules status shows, as one sorted line ("udp 7000 -> 7001;...").
r_rules() {
	jq -r '[.rules[].rule] | sort | join(";")' <<<"$1"
}
