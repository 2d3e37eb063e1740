#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Programs in one dispatcher come and go independently:
#   unloading xdp-filter leaves xdp-portredir attached and redirecting;
#   unloading xdp-portredir leaves xdp-filter attached and filtering (its
#     deny rule still drops), and datagrams to 7999 stay on 7999;
#   xdp-portredir on two interfaces (two veth pairs, each with xdp-filter in
#     a dispatcher) shares one rule table: one redirect applies to both,
#     status lists both, the rule's counter counts the datagrams of both.

T_SUITE=vm-unload
. "$(dirname "$0")/multiprog.bash"
mp_begin "$0" "$@"

N=3
RULE="udp $OLD_PORT -> $NEW_PORT"
# Denied by xdp-filter, untouched by any redirect.
DENY_PORT=7997
A=$(ns_add a) && B=$(ns_add b) || { t_fail setup "cannot create namespaces"; t_done; }
ADDR_B1=10.115.1.2 ADDR_B2=10.115.2.2
mp_veth "$A" va1 10.115.1.1 "$B" vb1 "$ADDR_B1"
t_on_exit inn "$B" xdp-filter unload --all
t_on_exit PRn "$B" unload --all

names() { mp_chain "$B" "$1" | awk '{ print $2 }' | tr '\n' ' '; }
fhits() { mp_filter_hits "$B" $DENY_PORT dst,udp; }

mp_pr_load load "$B" vb1
t_ok redirect PRn "$B" redirect --proto udp $OLD_PORT $NEW_PORT
t_ok filter-load inn "$B" xdp-filter load vb1
t_match both-in-chain "$(names vb1)" '^xdp_portredir xdpfilt_[a-z_]+ $'

# 1. xdp-filter leaves; xdp-portredir stays and redirects.
t_ok filter-gone/unload inn "$B" xdp-filter unload vb1
t_eq filter-gone/loader-shows-portredir "$(names vb1)" 'xdp_portredir '
t_eq filter-gone/status "$(PRn "$B" status --json | jq -c '.interfaces[] | select(.name == "vb1") | [.state, (.["other-programs"] | length)]')" '["loaded",0]'
r0=$(mp_rule_packets "$B" "$RULE")
mp_round "$A" "$B" "$ADDR_B1" $N
mp_round_ok filter-gone/round
t_eq filter-gone/all-on-$NEW_PORT "$NEW" $N
t_eq filter-gone/none-on-$OLD_PORT "$OLD" 0
t_eq filter-gone/rule-counted $(($(mp_rule_packets "$B" "$RULE") - r0)) $N

# 2. xdp-filter back with a deny rule; then xdp-portredir leaves.
t_ok portredir-gone/filter-load inn "$B" xdp-filter load vb1
t_ok portredir-gone/deny inn "$B" xdp-filter port $DENY_PORT --mode dst --proto udp
t_ok portredir-gone/unload PRn "$B" unload vb1
t_match portredir-gone/loader-shows-filter "$(names vb1)" '^xdpfilt_[a-z_]+ $'
h0=$(fhits)
mp_round "$A" "$B" "$ADDR_B1" $N $DENY_PORT
mp_round_ok portredir-gone/deny-round
t_eq portredir-gone/deny-still-drops "$REACHED" 0
t_eq portredir-gone/deny-rule-hits $(($(fhits) - h0)) $N
mp_round "$A" "$B" "$ADDR_B1" $N
mp_round_ok portredir-gone/plain-round
t_eq portredir-gone/no-redirect-any-more "$OLD/$NEW" "$N/0"

# 3. Two interfaces, one rule table. vb1 has xdp-filter already; vb2 gets
# it too, so both are dispatchers.
mp_veth "$A" va2 10.115.2.1 "$B" vb2 "$ADDR_B2"
t_ok two/filter-load inn "$B" xdp-filter load vb2
mp_pr_load two/load-vb1 "$B" vb1
mp_pr_load two/load-vb2 "$B" vb2
# One rule, set once, after both loads.
t_ok two/redirect PRn "$B" redirect --proto udp $OLD_PORT $NEW_PORT
t_eq two/status-lists-both "$(PRn "$B" status --json | jq -c '[.interfaces[] | [.name, .state, .dispatcher, (.["other-programs"] | map(.name | test("^xdpfilt_")))]] | sort')" \
	'[["vb1","loaded",true,[true]],["vb2","loaded",true,[true]]]'
t_eq two/one-rule "$(PRn "$B" status --json | jq -c '[.rules[].rule]')" "[\"$RULE\"]"
for dev in vb1 vb2; do
	t_match "two/loader-$dev" "$(names $dev)" '^xdp_portredir xdpfilt_[a-z_]+ $'
done
r0=$(mp_rule_packets "$B" "$RULE")
mp_round "$A" "$B" "$ADDR_B1" $N
mp_round_ok two/round-vb1
t_eq two/vb1-on-$NEW_PORT "$NEW" $N
mp_round "$A" "$B" "$ADDR_B2" $((N + 1))
mp_round_ok two/round-vb2
t_eq two/vb2-on-$NEW_PORT "$NEW" $((N + 1))
t_eq two/rule-counts-both $(($(mp_rule_packets "$B" "$RULE") - r0)) $((2 * N + 1))
# Removing the one rule stops the redirect on both.
t_ok two/remove PRn "$B" redirect --remove --proto udp $OLD_PORT
mp_round "$A" "$B" "$ADDR_B2" $N
mp_round_ok two/round-removed
t_eq two/removed-on-vb2-too "$OLD/$NEW" "$N/0"

t_ok unload PRn "$B" unload vb1 vb2
t_ok filter-unload inn "$B" xdp-filter unload --all
mp_bare vb1-bare "$B" vb1
mp_bare vb2-bare "$B" vb2
t_done
