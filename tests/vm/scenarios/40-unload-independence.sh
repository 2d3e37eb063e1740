#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Programs in one dispatcher come and go independently, and xdp-portredir's
# interfaces share one rule table. Two veth pairs (va1-vb1, va2-vb2), each
# receiving end with xdp-filter and xdp-portredir in a dispatcher, native
# mode on vb1 and skb mode on vb2 (xdp-filter chose it; xdp-portredir,
# loaded without --mode, follows):
#   one redirect applies to both interfaces; status lists both; the rule's
#     counter counts the datagrams of both;
#   unloading xdp-filter from vb1 leaves xdp-portredir attached there and
#     redirecting;
#   unloading xdp-portredir from vb2 leaves xdp-filter attached there and
#     filtering (its deny rule still drops), datagrams to 7999 now stay on
#     7999 there, while vb1 still redirects.

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
mp_veth "$A" va2 10.115.2.1 "$B" vb2 "$ADDR_B2"
t_on_exit inn "$B" xdp-filter unload --all
t_on_exit PRn "$B" unload --all

names() { mp_chain "$B" "$1" | awk '{ print $2 }' | tr '\n' ' '; }
rule_packets() {
	SNAP_P=$(PRn "$B" status 2>&1)
	snap_pr "$RULE"
}

# 1. Two interfaces, one rule table: xdp-portredir on vb1 (where libxdp says
# whether there is a dispatcher at all), xdp-filter on both, then
# xdp-portredir joins vb2; one rule, set once.
mp_pr_load two/load-vb1 "$B" vb1
t_ok two/filter-load-vb1 inn "$B" xdp-filter load vb1
t_ok two/filter-load-vb2 inn "$B" xdp-filter load --mode skb vb2
mp_pr_load two/load-vb2 "$B" vb2
t_match two/load-vb2-follows-skb "$PR_LOAD_OUT" '^xdp-portredir loaded on vb2 \(skb mode, '
t_ok two/redirect PRn "$B" redirect --proto udp $OLD_PORT $NEW_PORT
js=$(PRn "$B" status --json)
t_eq two/status-lists-both "$(jq -c '[.interfaces[] | [.name, .state, .mode, .dispatcher, (.["other-programs"] | map(.name | test("^xdpfilt_")))]] | sort' <<<"$js")" \
	'[["vb1","loaded","native",true,[true]],["vb2","loaded","skb",true,[true]]]'
t_eq two/one-rule "$(jq -c '[.rules[].rule]' <<<"$js")" "[\"$RULE\"]"
for dev in vb1 vb2; do
	t_match "two/loader-$dev" "$(names $dev)" "^$MP_OURS xdpfilt_[a-z_]+ \$"
done
t_match two/loader-vb2-skb "$(inn "$B" xdp-loader status vb2 2>&1)" '^vb2 +xdp_dispatcher +skb '
r0=$(rule_packets)
mp_round "$A" "$B" "$ADDR_B1" $N
mp_round_ok two/round-vb1
t_eq two/vb1-on-$NEW_PORT "$NEW/$OLD" "$N/0"
mp_round "$A" "$B" "$ADDR_B2" $((N + 1))
mp_round_ok two/round-vb2
t_eq two/vb2-on-$NEW_PORT "$NEW/$OLD" "$((N + 1))/0"
t_eq two/rule-counts-both "$(dlt "$r0" "$(rule_packets)")" $((2 * N + 1))

# 2. xdp-filter leaves vb1; xdp-portredir stays there and redirects.
t_ok filter-gone/unload inn "$B" xdp-filter unload vb1
t_eq filter-gone/loader-shows-portredir "$(names vb1)" "$MP_OURS "
t_eq filter-gone/status "$(PRn "$B" status --json | jq -c '.interfaces[] | select(.name == "vb1") | [.state, (.["other-programs"] | length)]')" '["loaded",0]'
r0=$(rule_packets)
mp_round "$A" "$B" "$ADDR_B1" $N
mp_round_ok filter-gone/round
t_eq filter-gone/all-on-$NEW_PORT "$NEW/$OLD" "$N/0"
t_eq filter-gone/rule-counted "$(dlt "$r0" "$(rule_packets)")" $N

# 3. xdp-portredir leaves vb2 (an skb-mode dispatcher on a driver that
# could do native); xdp-filter stays there and filters.
t_ok portredir-gone/deny inn "$B" xdp-filter port $DENY_PORT --mode dst --proto udp
t_ok portredir-gone/unload PRn "$B" unload vb2
t_match portredir-gone/loader-shows-filter "$(names vb2)" '^xdpfilt_[a-z_]+ $'
t_eq portredir-gone/status "$(PRn "$B" status --json | jq -c '[.interfaces[].name]')" '["vb1"]'
SNAP_F=$(inn "$B" xdp-filter status 2>&1)
h0=$(snap_fh $DENY_PORT dst,udp)
mp_round "$A" "$B" "$ADDR_B2" $N $DENY_PORT
mp_round_ok portredir-gone/deny-round
t_eq portredir-gone/deny-still-drops "$REACHED" 0
SNAP_F=$(inn "$B" xdp-filter status 2>&1)
t_eq portredir-gone/deny-rule-hits "$(dlt "$h0" "$(snap_fh $DENY_PORT dst,udp)")" $N
mp_round "$A" "$B" "$ADDR_B2" $N
mp_round_ok portredir-gone/plain-round
t_eq portredir-gone/no-redirect-on-vb2 "$OLD/$NEW" "$N/0"

t_ok unload PRn "$B" unload vb1
t_ok filter-unload inn "$B" xdp-filter unload vb2
mp_bare vb1-bare "$B" vb1
mp_bare vb2-bare "$B" vb2
t_done
