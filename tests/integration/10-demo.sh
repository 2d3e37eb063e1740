#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The seed demo on lo, asserted step by step: a datagram sent to 7999 arrives
# on 7998 (and not on 7999) while the rule is loaded, and on 7999 again after
# unload.
. "$(dirname "$0")/../lib.sh"
t_tool_suite

out=$("$PORTREDIR" load lo --priority 10 2>&1)
rc=$?
# The load case checks the load: its exit code and what status then shows on lo.
t_eq load "$rc $("$PORTREDIR" status --json | jq -r '.interfaces[] | select(.name == "lo") | "\(.state) \(.priority)"')" "0 loaded 10"
t_match load-says-skb-mode "$out" "loaded on lo \(skb mode, priority 10"
t_ok redirect "$PORTREDIR" redirect 7999 7998 --proto udp

bg_ready "$tmp/r7998" "$NETTOOL" udp-recv -l 127.0.0.1 -p 7998 -n 1 -t $(t_wait 4000) -v >/dev/null
bg_ready "$tmp/r7999" "$NETTOOL" udp-recv -l 127.0.0.1 -p 7999 -t 1500 -v >/dev/null
"$NETTOOL" udp-send -a 127.0.0.1 -p 7999 -m "Hello, New Stack!" >"$tmp/send"
wait_until 5 grep -q '^received' "$tmp/r7998"
wait_until 5 grep -q '^received' "$tmp/r7999"
t_match arrives-on-7998 "$(cat "$tmp/r7998")" "len 17: Hello, New Stack!"
t_eq not-on-7999 "$(num_after "$tmp/r7999" received)" 0
sport=$(awk '/^src/ {print $3}' "$tmp/send")
t_match sender-port-kept "$(cat "$tmp/r7998")" "from 127.0.0.1 $sport "

json=$("$PORTREDIR" status --json)
t_eq rule-counter-1 "$(jq '.rules[] | select(.rule == "udp 7999 -> 7998") | .packets' <<<"$json")" 1
t_match status-text-lists-rule "$("$PORTREDIR" status)" "udp 7999 -> 7998  packets 1  bytes [0-9]+"

# poll: per-rule rates every interval while traffic flows; Ctrl-C ends it with 0.
"$PORTREDIR" poll --interval 200 --json >"$tmp/poll" 2>&1 &
poller=$!
t_on_exit "kill $poller"
t0=$(date +%s%N)
"$NETTOOL" udp-send -a 127.0.0.1 -p 7999 -n 60 -i 10000 >/dev/null
send_ms=$((($(date +%s%N) - t0) / 1000000 + 1))
# The rate to see: 20 pps, a fifth of the 100 pps asked for; a fifth of what
# the sender achieved when a loaded machine slowed it (its mean rate).
rate_want=$((60 * 1000 / send_ms / 5))
[ "$rate_want" -gt 20 ] && rate_want=20
[ "$rate_want" -lt 1 ] && rate_want=1
wait_until 3 bash -c "jq '.rules[0].packets' '$tmp/poll' 2>/dev/null | grep -qx 61"
kill -INT $poller
wait $poller
t_eq poll/sigint-exits-0 "$?" 0
t_ge poll/reports-every-interval "$(jq -c . "$tmp/poll" 2>/dev/null | wc -l)" 3
t_ge poll/rate-seen "$(jq '.rules[] | select(.rule == "udp 7999 -> 7998") | .pps' "$tmp/poll" | sort -n | tail -1)" "$rate_want"
t_eq poll/total-counts-the-traffic "$(jq '.rules[] | select(.rule == "udp 7999 -> 7998") | .packets' "$tmp/poll" | tail -1)" 61
t_match poll/text-form "$("$PORTREDIR" poll --interval 100 --count 1)" "udp 7999 -> 7998  pps [0-9]+  bps [0-9]+  packets 61"

t_ok unload "$PORTREDIR" unload lo
bg_ready "$tmp/r2" "$NETTOOL" udp-recv -l 127.0.0.1 -p 7999 -n 1 -t $(t_wait 3000) -v >/dev/null
"$NETTOOL" udp-send -a 127.0.0.1 -p 7999 -m "again" >/dev/null
wait_until 5 grep -q '^received' "$tmp/r2"
t_eq 7999-receives-after-unload "$(num_after "$tmp/r2" received)" 1
t_assert_clean after-unload
t_eq no-tc-filter-left "$(tc filter show dev lo ingress 2>/dev/null | grep -c portredir)" 0

# The README's demo command, end to end.
if out=$("$TOP/scripts/demo.sh" 2>&1); then
	t_match scripts-demo "$out" "arrived on 7998: Hello, New Stack!"
else
	t_fail scripts-demo "exit $?: ${out//$'\n'/ | }"
fi
t_assert_clean after-demo-script
t_done
