#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The seed demo on lo, next to xdp-filter:
#   xdp-portredir load lo --priority 10
#   xdp-portredir redirect 7999 7998 --proto udp
#   xdp-filter load lo --mode skb
# A datagram to 127.0.0.1:7999 arrives on 7998; xdp-loader lists both
# programs in one skb-mode dispatcher on lo. With equal priorities libxdp
# orders by program name, so xdp_portredir runs before xdpfilt_*.
#
# It is the lo of a namespace made here, the same loopback device as the
# root one, so that no setting of the environment can ever put it on the
# host's lo (which belongs to other tests).

T_SUITE=vm-lo-demo
. "$(dirname "$0")/multiprog.bash"
mp_begin "$0" "$@"

N=2
RULE="udp $OLD_PORT -> $NEW_PORT"
NS=$(ns_add lo) || { t_fail setup "cannot create a namespace"; t_done; }
t_on_exit inn "$NS" xdp-filter unload lo
t_on_exit PRn "$NS" unload lo

mp_pr_load load "$NS" lo --priority 10
t_ok redirect PRn "$NS" redirect $OLD_PORT $NEW_PORT --proto udp
t_ok filter-load inn "$NS" xdp-filter load lo --mode skb

status=$(inn "$NS" xdp-loader status lo 2>&1)
t_match loader-skb-dispatcher "$status" '^lo +xdp_dispatcher +skb '
t_eq loader-one-dispatcher "$(mp_dispatchers "$NS" lo)" 1
t_match loader-both-at-10 "$(mp_chain "$NS" lo | awk '{ print $1, $2 }' | tr '\n' ' ')" \
	"^10 $MP_OURS 10 xdpfilt_[a-z_]+ \$"
t_eq status "$(PRn "$NS" status --json | jq -c '.interfaces[] | select(.name == "lo") |
	[.mode, .dispatcher, .priority, (.["other-programs"] | map([(.name | test("^xdpfilt_")), .priority]))]')" \
	'["skb",true,10,[[true,10]]]'

mp_snap "$NS"
r0=$(snap_pr "$RULE") f0=$(snap_fa XDP_PASS)
mp_round "$NS" "$NS" 127.0.0.1 $N
mp_round_ok round
mp_snap "$NS"
t_eq arrives-on-$NEW_PORT "$NEW" $N
t_eq none-on-$OLD_PORT "$OLD" 0
t_eq rule-counted "$(dlt "$r0" "$(snap_pr "$RULE")")" $N
# xdp-filter ran after xdp-portredir and passed them (and the sentinel).
t_ge filter-passed "$(dlt "$f0" "$(snap_fa XDP_PASS)")" $((N + 1))

t_ok unload PRn "$NS" unload lo
t_ok filter-unload inn "$NS" xdp-filter unload lo
mp_bare lo-bare "$NS" lo
t_done
