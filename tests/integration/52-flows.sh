#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Established connections survive what users do to a live host: removing a
# rule, changing it to another port, an apply that reloads the interface with
# another priority and chain-call actions (the programs are swapped without a
# gap), and unload --drain. A plain unload cuts them and says how many. UDP
# request/response flows keep going after their rule is removed. Each client
# keeps an interactive TCP session and a paced bulk stream open (IPv4 and
# IPv6); a "check" pings and waits for the stream to move on, every wait
# bounded by FLOWPEER_WAIT, so a slow machine makes it slower, never wrong.
. "$(dirname "$0")/../lib.sh"
t_tool_suite
flow_setup

live() { "$PORTREDIR" status --json | jq '.flows.live'; }

"$PORTREDIR" load lo >/dev/null || t_fail setup/load "load lo failed"
"$PORTREDIR" redirect 7999 7998 >/dev/null
"$PEER" server 7998 7997 >"$tmp/srv" 2>&1 &
t_on_exit "kill $!"
wait_until 60 grep -q '^ready' "$tmp/srv" || t_fail setup/server "server not ready"

flow_client a4 127.0.0.1
flow_client a6 ::1
t_eq start/v4 "$(flow_check a4)" "ok 7998 7998"
t_eq start/v6 "$(flow_check a6)" "ok 7998 7998"

# UDP: one socket's request/response flow.
mkfifo "$tmp/u.ctl"
"$PEER" udp 127.0.0.1 7999 "$tmp/u.ctl" >"$tmp/u.out" 2>&1 &
t_on_exit "kill $!"
wait_until 30 grep -q connected "$tmp/u.out"
t_eq udp/start "$(flow_check u)" "ok 7998"

# --- rule removed: flows go on, new ones are not redirected -----------------
"$PORTREDIR" redirect --remove 7999 >/dev/null || t_fail remove/cmd "remove failed"
# UDP first, and status right after it: the UDP flow lives only 30 s past
# its last datagram, and under TCG on a busy host two TCP checks can take
# longer than that.
t_eq remove/udp-survives "$(flow_check u)" "ok 7998"
json=$("$PORTREDIR" status --json)
t_eq remove/v4-survives "$(flow_check a4)" "ok 7998 7998"
t_eq remove/v6-survives "$(flow_check a6)" "ok 7998 7998"
t_eq remove/status-draining-tcp "$(jq '[.draining[] | select(.proto=="tcp" and .port==7999 and .to==7998) | .flows] | add' <<<"$json")" 4
t_eq remove/status-draining-udp "$(jq '[.draining[] | select(.proto=="udp" and .port==7999) | .flows] | add' <<<"$json")" 1
t_match remove/status-text "$("$PORTREDIR" status)" "tcp 7999 -> 7998"
flow_client n1 127.0.0.1
t_match remove/new-flow-not-redirected "$(cat "$tmp/n1.out")" "^fail connect"

# --- apply reloads lo (priority, chain-call): swapped in place, no gap -------
# Right after the removal, so every flow here lives on the flow table alone.
ids() { "$PORTREDIR" status --json | jq -r '.interfaces[] | select(.name=="lo") | "\(.["program-id"]) \(.["tc-ingress-id"]) \(.["tc-egress-id"])"'; }
before_ids=$(ids)
# The UDP flow lives while it is used (idle timeout 30 s): fresh before apply,
# checked right after it, so a slow machine's earlier steps cannot expire it.
t_eq reload/udp-before "$(flow_check u)" "ok 7998"
"$PORTREDIR" save | sed -E 's/^(interface lo.*) priority [0-9]+ chain-call-actions [a-z,]+/\1 priority 21 chain-call-actions drop,pass/' >"$tmp/reload.conf"
t_match reload/conf "$(cat "$tmp/reload.conf")" "^interface lo .*priority 21 chain-call-actions drop,pass"
# While apply runs, the UDP flow is kept in use, a check every 2 s: its
# idle timeout is 30 s, and under TCG on a busy host an apply through the
# dispatcher can take longer. None of those checks may fail: no gap.
fails_before=$(grep -c '^fail' "$tmp/u.out")
(while :; do echo check >"$tmp/u.ctl"; sleep 2; done) &
keep=$!
out=$("$PORTREDIR" apply "$tmp/reload.conf" 2>&1)
rc=$?
kill "$keep"; wait "$keep" 2>/dev/null
t_eq reload/exit "$rc" 0
t_eq reload/udp-survives "$(flow_check u)" "ok 7998"
t_eq reload/udp-no-failure-during-reload "$(grep -c '^fail' "$tmp/u.out")" "$fails_before"
t_match reload/says-no-gap "$out" "reloaded lo \(priority [0-9]+ -> 21, chain-call-actions [a-z,]+ -> drop,pass\), without a gap"
after_ids=$(ids)
read -r x0 i0 e0 <<<"$before_ids"
read -r x1 i1 e1 <<<"$after_ids"
if [ "$x1" != "$x0" ] && [ "$e1" != "$e0" ] && [ "$e1" != 0 ]; then
	t_pass reload/new-programs
else
	t_fail reload/new-programs "XDP/TC ingress/TC egress ids before '$before_ids', after '$after_ids'"
fi
t_match reload/status-shows-new-settings "$("$PORTREDIR" status)" "priority 21  chain-call drop, pass"
t_eq reload/v4-survives "$(flow_check a4)" "ok 7998 7998"
t_eq reload/v6-survives "$(flow_check a6)" "ok 7998 7998"
t_match reload/idempotent "$("$PORTREDIR" apply "$tmp/reload.conf" 2>&1)" "nothing to change"

# --- rule changed to another port: old flows keep the old target -----------
"$PORTREDIR" redirect 7999 7997 >/dev/null || t_fail change/cmd "redirect 7999 7997 failed"
t_eq change/v4-keeps-old-target "$(flow_check a4)" "ok 7998 7998"
t_eq change/v6-keeps-old-target "$(flow_check a6)" "ok 7998 7998"
flow_client c4 127.0.0.1
flow_client c6 ::1
t_eq change/new-v4-goes-to-new-target "$(flow_check c4)" "ok 7997 7997"
t_eq change/new-v6-goes-to-new-target "$(flow_check c6)" "ok 7997 7997"
json=$("$PORTREDIR" status --json)
t_eq change/status-rule-draining "$(jq '.rules[] | select(.rule=="tcp 7999 -> 7997") | .["draining-flows"]' <<<"$json")" 4

# --- unload --drain: flows go on, new ones are not taken, then it unloads ----
"$PORTREDIR" unload --drain 300 lo >"$tmp/drain.out" 2>&1 &
drain_pid=$!
t_on_exit "kill $drain_pid"
wait_until 60 grep -q '^draining:' "$tmp/drain.out"
t_match drain/progress "$(cat "$tmp/drain.out")" "^draining: [0-9]+ live flows? left, waiting up to [0-9]+ s more"
t_eq drain/v4-goes-on "$(flow_check a4)" "ok 7998 7998"
t_eq drain/v6-goes-on "$(flow_check c6)" "ok 7997 7997"
flow_client d4 127.0.0.1
t_match drain/no-new-flows "$(cat "$tmp/d4.out")" "^fail connect"
for c in a4 a6 c4 c6; do echo quit >"$tmp/$c.ctl"; done
echo quit >"$tmp/u.ctl"
# UDP flows only end by going idle: the drain waits them out (30 s).
wait_until 200 bash -c "! kill -0 $drain_pid"
wait $drain_pid
t_eq drain/exit-0 "$?" 0
t_match drain/said-drained "$(cat "$tmp/drain.out")" "drained: no live flows left"
t_match drain/unloaded "$(cat "$tmp/drain.out")" "unloaded from lo"
t_nomatch drain/nothing-cut "$(cat "$tmp/drain.out")" "cut"

# --- plain unload cuts the flows and says how many --------------------------
"$PORTREDIR" load lo >/dev/null
"$PORTREDIR" redirect 7999 7998 >/dev/null
flow_client e4 127.0.0.1
t_eq cut/before "$(flow_check e4)" "ok 7998 7998"
out=$("$PORTREDIR" unload lo 2>&1)
t_match cut/says-how-many "$out" "unloaded from lo: cut 2 live flows"
t_match cut/flow-is-cut "$(flow_check e4)" "^fail"
echo quit >"$tmp/e4.ctl"

# --- UDP: a flow survives rule removal until it goes idle ------------------
"$PORTREDIR" load lo >/dev/null
"$PORTREDIR" redirect 7999 7998 --proto udp >/dev/null
mkfifo "$tmp/v.ctl"
"$PEER" udp ::1 7999 "$tmp/v.ctl" >"$tmp/v.out" 2>&1 &
t_on_exit "kill $!"
wait_until 30 grep -q connected "$tmp/v.out"
t_eq udp-idle/before "$(flow_check v)" "ok 7998"
"$PORTREDIR" redirect --remove 7999 >/dev/null
t_eq udp-idle/survives-removal "$(flow_check v)" "ok 7998"
# Idle past the UDP timeout (30 s): the flow is over, status says so...
wait_until 150 bash -c "[ \"\$('$PORTREDIR' status --json | jq .flows.live)\" = 0 ]" ||
	t_fail udp-idle/expires "still live after 150 s"
# ...and the same socket's next datagram is a new flow: no rule, no redirect.
t_match udp-idle/not-followed-after-idle "$(flow_check v)" "^fail"
echo quit >"$tmp/v.ctl"
"$PORTREDIR" unload lo >/dev/null
t_assert_clean
t_done
