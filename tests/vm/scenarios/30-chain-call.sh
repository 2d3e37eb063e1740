#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Chain-call actions: xdp-portredir always returns XDP_PASS, so whether the
# dispatcher runs the programs after it depends on XDP_PASS being among its
# chain-call actions.
#   --chain-call-actions none, xdp-portredir first: xdp-filter (after it)
#     never runs. Its counters stay still while redirected datagrams flow and
#     arrive, even with a deny rule on the new port in place.
#   The default (pass): the same traffic moves xdp-filter's counters and its
#     deny rule on the new port drops the datagrams.

T_SUITE=vm-chain-call
. "$(dirname "$0")/multiprog.bash"
mp_begin "$0" "$@"

N=3
RULE="udp $OLD_PORT -> $NEW_PORT"
A=$(ns_add a) && B=$(ns_add b) || { t_fail setup "cannot create namespaces"; t_done; }
ADDR_B=10.114.0.2
mp_veth "$A" va 10.114.0.1 "$B" vb "$ADDR_B"
t_on_exit inn "$B" xdp-filter unload vb
t_on_exit PRn "$B" unload --all

# From the last mp_snap: every packet xdp-filter judged, its deny rule's hits.
fseen() {
	local p d
	p=$(snap_fa XDP_PASS) d=$(snap_fa XDP_DROP)
	if [[ "$p" =~ ^[0-9]+$ && "$d" =~ ^[0-9]+$ ]]; then echo $((p + d)); else echo "missing"; fi
}
fhits() { snap_fh $NEW_PORT dst,udp; }

# reload CASE ARGS...: xdp-portredir (re)loaded on vb with ARGS, the rule set.
reload() {
	local c=$1
	shift
	PRn "$B" unload vb >/dev/null 2>&1
	mp_pr_load "$c/load" "$B" vb "$@"
	t_ok "$c/redirect" PRn "$B" redirect --proto udp $OLD_PORT $NEW_PORT
}

# 1. No chain call after XDP_PASS: xdp-filter never runs.
reload none --chain-call-actions none
t_eq none/status-chain-call "$(PRn "$B" status --json | jq -c '.interfaces[] | select(.name == "vb") | .["chain-call"]')" '[]'
t_ok none/filter-load inn "$B" xdp-filter load vb
t_ok none/deny-new inn "$B" xdp-filter port $NEW_PORT --mode dst --proto udp
chain=$(mp_chain "$B" vb)
t_match none/loader-order "$(awk '{ print $2 }' <<<"$chain" | tr '\n' ' ')" "^$MP_OURS xdpfilt_[a-z_]+ \$"
# xdp-loader leaves the column unwritten when there are no actions (libxdp's
# xdp_program__print_chain_call_actions), so only check what is not there.
t_nomatch none/loader-no-chain-actions "$(awk -v n="$MP_OURS" '$2 == n' <<<"$chain")" 'XDP_[A-Z]+'
mp_snap "$B"
s0=$(fseen) h0=$(fhits) r0=$(snap_pr "$RULE") p0=$(snap_pa XDP_PASS)
mp_round "$A" "$B" "$ADDR_B" $N
mp_round_ok none/round
mp_snap "$B"
t_eq none/all-on-$NEW_PORT "$NEW" $N
t_eq none/only-those-reach-the-stack "$REACHED" $N
t_eq none/filter-saw-nothing "$(dlt "$s0" "$(fseen)")" 0
t_eq none/filter-rule-no-hits "$(dlt "$h0" "$(fhits)")" 0
t_eq none/portredir-rule-counted "$(dlt "$r0" "$(snap_pr "$RULE")")" $N
# xdp-portredir itself ran on all of them and on the sentinel.
t_ge none/portredir-passed "$(dlt "$p0" "$(snap_pa XDP_PASS)")" $((N + 1))

# 2. The default: XDP_PASS chains on, xdp-filter runs and drops.
reload pass
chain=$(mp_chain "$B" vb)
t_match pass/loader-order "$(awk '{ print $2 }' <<<"$chain" | tr '\n' ' ')" "^$MP_OURS xdpfilt_[a-z_]+ \$"
t_eq pass/loader-chain-actions "$(awk -v n="$MP_OURS" '$2 == n { print $4 }' <<<"$chain")" XDP_PASS
mp_snap "$B"
s0=$(fseen) h0=$(fhits) r0=$(snap_pr "$RULE")
mp_round "$A" "$B" "$ADDR_B" $N
mp_round_ok pass/round
mp_snap "$B"
t_eq pass/none-reach-the-stack "$REACHED" 0
t_eq pass/none-on-$NEW_PORT "$NEW" 0
# The N dropped datagrams and at least the sentinel, passed.
t_ge pass/filter-saw-them "$(dlt "$s0" "$(fseen)")" $((N + 1))
t_eq pass/filter-rule-hits "$(dlt "$h0" "$(fhits)")" $N
t_eq pass/portredir-rule-counted "$(dlt "$r0" "$(snap_pr "$RULE")")" $N

t_ok unload PRn "$B" unload vb
t_ok filter-unload inn "$B" xdp-filter unload vb
mp_bare interface-bare "$B" vb
t_done
