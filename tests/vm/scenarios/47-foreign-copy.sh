#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A copy of xdp-portredir's object loaded by another tool (xdp-loader, with
# its own maps) sits in the same dispatcher: status must still pick out the
# program that uses the tool's pinned rule map, show the copy as another
# program, and unload must take out ours and leave the copy running.
#
# Runs in the VM (tests/vm/run-vm.sh -k 47-foreign); SKIPs on a kernel that
# refuses the dispatcher, with the tool's reason (see multiprog.bash).

T_SUITE=vm-foreign-copy
. "$(dirname "$0")/multiprog.bash"
mp_begin "$0" "$@"

A=$(ns_add a) && B=$(ns_add b) || { t_fail setup "cannot create namespaces"; t_done; }
mp_veth "$A" va 10.113.0.1 "$B" vb 10.113.0.2
t_on_exit inn "$B" xdp-loader unload vb --all
t_on_exit PRn "$B" unload --all

mp_pr_load ours/load "$B" vb --priority 20
t_ok copy/load inn "$B" xdp-loader load -n "$MP_OURS" vb "$TOP/bpf/portredir.bpf.o"
chain=$(mp_chain "$B" vb)
ours=$(awk -v n="$MP_OURS" '$2 == n && $1 == 20 { print $3 }' <<<"$chain")
copy=$(awk -v n="$MP_OURS" '$2 == n && $1 == 5 { print $3 }' <<<"$chain")
t_match copy/two-programs-named-alike "$ours/$copy" '^[0-9]+/[0-9]+$'

js=$(PRn "$B" status --json 2>&1)
t_eq status/ours-by-its-map "$(jq -c '.interfaces[] | select(.name == "vb") |
	[.priority, .["program-id"]]' <<<"$js")" "[20,$ours]"
t_eq status/copy-is-another-program "$(jq -c '.interfaces[] | select(.name == "vb") |
	.["other-programs"] | map([.name, .id, .priority])' <<<"$js")" "[[\"$MP_OURS\",$copy,5]]"

t_ok unload/ours PRn "$B" unload vb
chain=$(mp_chain "$B" vb)
t_eq unload/copy-still-attached "$(awk -v n="$MP_OURS" '$2 == n { print $1 "/" $3 }' <<<"$chain")" "5/$copy"
t_ok copy/unload inn "$B" xdp-loader unload vb --all
mp_bare interface-bare "$B" vb
t_done
