#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What a program after xdp-portredir sees, proven with real UDP between two
# namespaces (redirect udp 7999 -> 7998, xdp-filter in its default allow
# policy with one deny rule on a destination port):
#   xdp-portredir before xdp-filter (priority 5 < 10): xdp-filter sees the NEW
#     port. A deny rule on 7998 drops the redirected datagrams (after
#     xdp-portredir counted them); one on 7999 never matches.
#   xdp-portredir after xdp-filter (priority 20): xdp-filter sees the ORIGINAL
#     port. A deny rule on 7999 drops the datagrams before xdp-portredir sees
#     them (its rule counter stays still); one on 7998 never matches and the
#     datagrams arrive on 7998.
# Each round: N datagrams to 7999, sockets on 7998 and 7999, and the
# receiving stack's delivery counter (see mp_round in multiprog.bash);
# xdp-filter's port hit counter and xdp-portredir's rule counter must tell
# the same story.

T_SUITE=vm-ordering
. "$(dirname "$0")/multiprog.bash"
mp_begin "$0" "$@"

N=3
RULE="udp $OLD_PORT -> $NEW_PORT"
A=$(ns_add a) && B=$(ns_add b) || { t_fail setup "cannot create namespaces"; t_done; }
ADDR_B=10.113.0.2
mp_veth "$A" va 10.113.0.1 "$B" vb "$ADDR_B"
t_on_exit inn "$B" xdp-filter unload vb
t_on_exit PRn "$B" unload --all

deny() { inn "$B" xdp-filter port "$1" --mode dst --proto udp; }
allow() { inn "$B" xdp-filter port "$1" --mode dst --proto udp --remove; }

# round CASE DROPPED_BY_FILTER(yes|no) DENY_PORT PORTREDIR_SEES(yes|no)
round() {
	local c=$1 dropped=$2 port=$3 sees=$4 h0 r0 d0
	mp_snap "$B"
	h0=$(snap_fh "$port" dst,udp) r0=$(snap_pr "$RULE") d0=$(snap_fa XDP_DROP)
	mp_round "$A" "$B" "$ADDR_B" $N
	mp_round_ok "$c/round"
	mp_snap "$B"
	if [ "$dropped" = yes ]; then
		t_eq "$c/none-reach-the-stack" "$REACHED" 0
		t_eq "$c/none-on-$NEW_PORT" "$NEW" 0
		t_eq "$c/filter-rule-hits" "$(dlt "$h0" "$(snap_fh "$port" dst,udp)")" $N
		t_eq "$c/filter-drops" "$(dlt "$d0" "$(snap_fa XDP_DROP)")" $N
	else
		t_eq "$c/all-on-$NEW_PORT" "$NEW" $N
		t_eq "$c/none-on-$OLD_PORT" "$OLD" 0
		t_eq "$c/only-those-reach-the-stack" "$REACHED" $N
		t_eq "$c/filter-rule-no-hits" "$(dlt "$h0" "$(snap_fh "$port" dst,udp)")" 0
		t_eq "$c/filter-no-drops" "$(dlt "$d0" "$(snap_fa XDP_DROP)")" 0
	fi
	if [ "$sees" = yes ]; then
		t_eq "$c/portredir-rule-counted" "$(dlt "$r0" "$(snap_pr "$RULE")")" $N
	else
		t_eq "$c/portredir-rule-not-reached" "$(dlt "$r0" "$(snap_pr "$RULE")")" 0
	fi
}

# xdp-portredir first.
mp_pr_load before/load "$B" vb --priority 5
t_ok before/redirect PRn "$B" redirect --proto udp $OLD_PORT $NEW_PORT
t_ok before/filter-load inn "$B" xdp-filter load vb
t_match before/chain "$(mp_chain "$B" vb | awk '{ print $1, $2 }' | tr '\n' ' ')" \
	"^5 $MP_OURS 10 xdpfilt_[a-z_]+ \$"
t_ok before/deny-new deny $NEW_PORT
round before/deny-new yes $NEW_PORT yes
t_ok before/allow-new allow $NEW_PORT
t_ok before/deny-old deny $OLD_PORT
round before/deny-old no $OLD_PORT yes

# xdp-portredir after xdp-filter: reloaded at priority 20 (unload takes the
# rules with the maps, so the rule is set again; xdp-filter stays).
t_ok after/unload PRn "$B" unload vb
mp_pr_load after/load "$B" vb --priority 20
t_ok after/redirect PRn "$B" redirect --proto udp $OLD_PORT $NEW_PORT
t_match after/chain "$(mp_chain "$B" vb | awk '{ print $1, $2 }' | tr '\n' ' ')" \
	"^10 xdpfilt_[a-z_]+ 20 $MP_OURS \$"
# The deny rule on 7999 from above is still there.
round after/deny-old yes $OLD_PORT no
t_ok after/allow-old allow $OLD_PORT
t_ok after/deny-new deny $NEW_PORT
round after/deny-new no $NEW_PORT yes

t_ok unload PRn "$B" unload vb
t_ok filter-unload inn "$B" xdp-filter unload vb
mp_bare interface-bare "$B" vb
t_done
