#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The bpffs a dispatcher was loaded with out of view (another instance in
# its place), with a real dispatcher: libxdp keeps the dispatcher's state in
# bpffs, so without it neither libxdp nor the tool can see which programs the
# dispatcher runs. status must not report
# "nothing loaded" then; it fails with one line saying how to mount bpffs,
# and state-changing commands refuse. (On the host, without a dispatcher,
# tests/integration/20-cli-errors and 85-faults cover the same situation.)
#
# Runs in the VM (tests/vm/run-vm.sh -k 48-bpffs); SKIPs on a kernel that
# refuses the dispatcher, with the tool's reason (see multiprog.bash).

T_SUITE=vm-bpffs-unmounted
. "$(dirname "$0")/multiprog.bash"
mp_begin "$0" "$@"

A=$(ns_add a) && B=$(ns_add b) || { t_fail setup "cannot create namespaces"; t_done; }
mp_veth "$A" va 10.114.0.1 "$B" vb 10.114.0.2
t_on_exit inn "$B" xdp-filter unload vb
t_on_exit PRn "$B" unload --all

mp_pr_load load "$B" vb
t_ok filter-joins inn "$B" xdp-filter load vb
PRn "$B" redirect 7999 7998 >/dev/null

# Unmount it in a nested mount namespace: the scenario's own bpffs stays, so
# the dispatcher and its links live on and cleanup works as usual. Under it
# the guest's own bpffs shows: another instance, holding none of this state.
without_bpffs() {
	unshare -m --propagation private bash -c "umount '$BPFFS' && nsenter --net='$(mp_nspath "$B")' '$PORTREDIR' $*" 2>&1
}
out=$(without_bpffs status)
t_eq status/exit-1 "$?" 1
t_match status/says-why "$out" "cannot tell whether xdp-portredir is among the XDP programs on vb.*(not mounted at|not in the bpffs at) $BPFFS"
t_eq status/one-line "$(grep -c . <<<"$out")" 1
out=$(without_bpffs status --json)
t_eq status-json/exit-1 "$?" 1
out=$(without_bpffs redirect 5000 5001)
t_eq redirect/refused "$?" 1
t_match redirect/says-why "$out" "vb runs a libxdp dispatcher whose state is not in the bpffs"

# With bpffs back in view everything is as it was.
js=$(PRn "$B" status --json)
t_eq afterwards/still-loaded "$(jq -r '.interfaces[] | select(.name == "vb") | .state' <<<"$js")" loaded
t_eq afterwards/rules-intact "$(jq -c '[.rules[].rule]' <<<"$js")" '["udp 7999 -> 7998","tcp 7999 -> 7998"]'
t_done
