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
#   --chain-call-actions none with xdp-portredir after xdp-filter (priority
#     20): chain-call actions only govern what comes after, so xdp-filter
#     still runs and counts.

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

# Every packet xdp-filter judged, and its deny rule's hits.
fseen() { echo $(($(mp_filter_action "$B" XDP_PASS) + $(mp_filter_action "$B" XDP_DROP))); }
fhits() { mp_filter_hits "$B" $NEW_PORT dst,udp; }

# reload CASE ARGS...: xdp-portredir (re)loaded on vb with ARGS, the rule set.
reload() {
	local c=$1
	shift
	PRn "$B" unload vb >/dev/null 2>&1
	mp_pr_load "$c/load" "$B" vb "$@"
	t_ok "$c/redirect" PRn "$B" redirect --proto udp $OLD_PORT $NEW_PORT
}

# 1. No chain call after XDP_PASS: xdp-filter never runs.
reload none
t_eq none/status-chain-call "$(PRn "$B" status --json | jq -c '.interfaces[] | select(.name == "vb") | .["chain-call"]')" '[]'
t_ok none/filter-load inn "$B" xdp-filter load vb
t_ok none/deny-new inn "$B" xdp-filter port $NEW_PORT --mode dst --proto udp
chain=$(mp_chain "$B" vb)
t_match none/loader-order "$(awk '{ print $2 }' <<<"$chain" | tr '\n' ' ')" '^xdp_portredir xdpfilt_[a-z_]+ $'
t_eq none/loader-no-chain-actions "$(awk '$2 == "xdp_portredir" { print $4 }' <<<"$chain")" ""
s0=$(fseen) h0=$(fhits) r0=$(mp_rule_packets "$B" "$RULE") p0=$(mp_pr_action "$B" XDP_PASS)
mp_round "$A" "$B" "$ADDR_B" $N
mp_round_ok none/round
t_eq none/all-on-$NEW_PORT "$NEW" $N
t_eq none/only-those-reach-the-stack "$REACHED" $N
t_eq none/filter-saw-nothing $(($(fseen) - s0)) 0
t_eq none/filter-rule-no-hits $(($(fhits) - h0)) 0
t_eq none/portredir-rule-counted $(($(mp_rule_packets "$B" "$RULE") - r0)) $N
# xdp-portredir itself ran on all of them and on the sentinel.
t_ge none/portredir-passed $(($(mp_pr_action "$B" XDP_PASS) - p0)) $((N + 1))

# 2. The default: XDP_PASS chains on, xdp-filter runs and drops.
reload pass
chain=$(mp_chain "$B" vb)
t_match pass/loader-order "$(awk '{ print $2 }' <<<"$chain" | tr '\n' ' ')" '^xdp_portredir xdpfilt_[a-z_]+ $'
t_eq pass/loader-chain-actions "$(awk '$2 == "xdp_portredir" { print $4 }' <<<"$chain")" XDP_PASS
s0=$(fseen) h0=$(fhits) r0=$(mp_rule_packets "$B" "$RULE")
mp_round "$A" "$B" "$ADDR_B" $N
mp_round_ok pass/round
t_eq pass/none-reach-the-stack "$REACHED" 0
t_eq pass/none-on-$NEW_PORT "$NEW" 0
# The N dropped datagrams and at least the sentinel, passed.
t_ge pass/filter-saw-them $(($(fseen) - s0)) $((N + 1))
t_eq pass/filter-rule-hits $(($(fhits) - h0)) $N
t_eq pass/portredir-rule-counted $(($(mp_rule_packets "$B" "$RULE") - r0)) $N

# 3. Chain-call actions govern only the programs after xdp-portredir.
t_ok after/allow-new inn "$B" xdp-filter port $NEW_PORT --mode dst --proto udp --remove
reload after --priority 20 --chain-call-actions none
chain=$(mp_chain "$B" vb)
t_match after/loader-order "$(awk '{ print $2 }' <<<"$chain" | tr '\n' ' ')" '^xdpfilt_[a-z_]+ xdp_portredir $'
s0=$(fseen) r0=$(mp_rule_packets "$B" "$RULE")
mp_round "$A" "$B" "$ADDR_B" $N
mp_round_ok after/round
t_eq after/all-on-$NEW_PORT "$NEW" $N
t_ge after/filter-saw-them $(($(fseen) - s0)) $((N + 1))
t_eq after/portredir-rule-counted $(($(mp_rule_packets "$B" "$RULE") - r0)) $N

t_ok unload PRn "$B" unload vb
t_ok filter-unload inn "$B" xdp-filter unload vb
mp_bare interface-bare "$B" vb
t_done
