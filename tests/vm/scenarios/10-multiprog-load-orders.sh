#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xdp-portredir and xdp-filter share one native-mode veth through one libxdp
# dispatcher, whichever of the two is loaded first: xdp-loader shows one
# dispatcher with both programs in priority order, and xdp-portredir's status
# (text and JSON) names the dispatcher and the other program with the ids and
# priorities xdp-loader shows.
#
# Runs in the VM (tests/vm/run-vm.sh -k 10-multiprog); SKIPs on a kernel that
# refuses the dispatcher, with the tool's reason (see multiprog.bash).

T_SUITE=vm-load-orders
. "$(dirname "$0")/multiprog.bash"
mp_begin "$0" "$@"

A=$(ns_add a) && B=$(ns_add b) || { t_fail setup "cannot create namespaces"; t_done; }
mp_veth "$A" va 10.112.0.1 "$B" vb 10.112.0.2
t_on_exit inn "$B" xdp-filter unload vb
t_on_exit PRn "$B" unload --all

# check_pair ORDER PR_PRIO: the state with both programs on vb.
check_pair() {
	local o=$1 prio=$2 chain first second st js fid pid
	t_eq "$o/one-dispatcher" "$(mp_dispatchers "$B" vb)" 1
	chain=$(mp_chain "$B" vb)
	t_eq "$o/two-programs" "$(grep -c . <<<"$chain")" 2
	if [ "$prio" -lt 10 ]; then first=$MP_OURS second=xdpfilt_; else first=xdpfilt_ second=$MP_OURS; fi
	t_match "$o/run-order" "$(awk '{ print $2 }' <<<"$chain" | tr '\n' ' ')" "^${first}[^ ]* ${second}[^ ]* $"
	if sort -n -c <<<"$(awk '{ print $1 }' <<<"$chain")" 2>/dev/null; then
		t_pass "$o/priorities-ascending"
	else
		t_fail "$o/priorities-ascending" "$(tr '\n' ' ' <<<"$chain")"
	fi
	t_eq "$o/loader-portredir-priority" "$(awk -v n="$MP_OURS" '$2 == n { print $1 }' <<<"$chain")" "$prio"
	t_eq "$o/loader-filter-priority" "$(awk '$2 ~ /^xdpfilt_/ { print $1 }' <<<"$chain")" 10
	t_match "$o/loader-native-mode" "$(inn "$B" xdp-loader status vb 2>&1)" '^vb +xdp_dispatcher +native '
	fid=$(awk '$2 ~ /^xdpfilt_/ { print $3 }' <<<"$chain")
	pid=$(awk -v n="$MP_OURS" '$2 == n { print $3 }' <<<"$chain")

	st=$(PRn "$B" status 2>&1)
	t_match "$o/status-text-dispatcher" "$st" "^  vb .* mode native  dispatcher yes  priority $prio "
	t_match "$o/status-text-other-program" "$st" "^  vb .* other-programs xdpfilt_[a-z_]+  id $fid  priority 10( |\$)"
	t_match "$o/status-text-program-id" "$st" "^  vb .* program-id $pid "
	js=$(PRn "$B" status --json 2>&1)
	t_eq "$o/status-json" "$(jq -c '.interfaces[] | select(.name == "vb") |
		[.dispatcher, .mode, .priority, .["program-id"],
		 (.["other-programs"] | map([(.name | test("^xdpfilt_")), .id, .priority]))]' <<<"$js" 2>&1)" \
		"[true,\"native\",$prio,$pid,[[true,$fid,10]]]"
}

# Order 1: xdp-portredir first (priority 7), then xdp-filter joins it.
mp_pr_load portredir-first/load "$B" vb --priority 7
t_ok portredir-first/filter-load inn "$B" xdp-filter load vb
check_pair portredir-first 7
t_ok portredir-first/filter-unload inn "$B" xdp-filter unload vb
t_ok portredir-first/portredir-unload PRn "$B" unload vb
mp_bare portredir-first/interface-bare "$B" vb

# Order 2: xdp-filter first, then xdp-portredir joins it (priority 20).
t_ok filter-first/filter-load inn "$B" xdp-filter load vb
mp_pr_load filter-first/load "$B" vb --priority 20
check_pair filter-first 20
t_ok filter-first/portredir-unload PRn "$B" unload vb
t_ok filter-first/filter-unload inn "$B" xdp-filter unload vb
mp_bare filter-first/interface-bare "$B" vb
t_done
