#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# load --no-action-totals (issue 19): the interface's frames without a rule
# stay out of the per-action totals while the rewrite and the rule counters
# work as before (a rewrite still counts, through its rule's counter);
# status and save say so; apply turns the totals back on in place (a
# reload), and they count again.
. "$(dirname "$0")/../lib.sh"
t_tool_suite

A=$(ns_add a) B=$(ns_add b)
ns_veth "$A" va "$B" vb 78
PR() { in_ns "$B" "$PORTREDIR" "$@"; }
N=20
totals() { PR status --json | jq '[.actions[] | select(.action == "XDP_PASS") | .packets] | add // 0'; }
rule_pkts() { PR status --json | jq '.rules[] | select(.rule == "udp 7999 -> 7998") | .packets'; }
iface_totals() { PR status --json | jq -r '.interfaces[] | select(.name == "vb") | ."action-totals"'; }

out=$(PR load vb --no-action-totals 2>&1)
t_match load/says-so "$out" "loaded on vb \(.*, no action totals\)"
t_eq status/action-totals-off "$(iface_totals)" false
t_match save/spells-it "$(PR save)" "^interface vb .*no-action-totals"
t_ok rule PR redirect 7999 7998 --proto udp

before=$(totals) rbefore=$(rule_pkts)
udp_redirect_round lean/udp "$A" "$B" vb 10.78.0.2 $N -i 1000
t_eq lean/rule-counts $(($(rule_pkts) - rbefore)) $N
# A rewrite counts once, in its rule's counter, and the XDP_PASS total adds
# the rules' counts: here those N alone, no frame without a rule.
t_eq lean/totals-are-the-rewrites $(($(totals) - before)) $N

# The configuration without the setting: apply reloads vb with the totals on.
cfg=$tmp/portredir.conf
printf 'interface vb\nredirect udp 7999 7998\n' >"$cfg"
out=$(PR apply "$cfg" 2>&1)
t_match apply/reloads "$out" "action totals off -> on"
t_eq apply/action-totals-on "$(iface_totals)" true
before=$(totals) rbefore=$(rule_pkts)
udp_redirect_round counted/udp "$A" "$B" vb 10.78.0.2 $N -i 1000
t_eq counted/rule-counts $(($(rule_pkts) - rbefore)) $N
t_ge counted/totals-count "$(($(totals) - before))" $N
# And off again from the file: the setting round-trips through apply.
printf 'interface vb no-action-totals\nredirect udp 7999 7998\n' >"$cfg"
out=$(PR apply "$cfg" 2>&1)
t_match apply/reloads-off "$out" "action totals on -> off"
t_eq apply/action-totals-off-again "$(iface_totals)" false
t_match apply/twice-changes-nothing "$(PR apply "$cfg" 2>&1)" "unchanged|nothing to (do|change)"

t_ok unload PR unload vb
t_assert_clean
t_done
