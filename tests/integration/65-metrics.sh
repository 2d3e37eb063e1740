#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xdp-portredir metrics, against the real thing: Debian's prometheus server
# (own config, storage in a scratch dir, on 127.0.0.1) scrapes
# `metrics --listen` every second; after N datagrams through a rule its HTTP
# API returns N for that rule's packet counter. Edits of other rules do not
# reset it (Prometheus sees no counter reset); a removed rule's series go.
# `promtool check metrics` passes on the output. Bad clients (other paths and
# methods, huge headers, slowloris connections, 200 scrapes at once) get an
# error or are dropped, and the listener keeps serving. HEAD, an IPv6
# listener, and label escaping (an interface named q"a\b). Runs in a network
# namespace of its own with a private bpffs, so every port is free there.

T_SUITE=metrics
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/robustness/common.sh"
r_isolate "$@"
P=$PORTREDIR
ABUSE="python3 $TOP/tests/tools/http_abuse.py"
for tool in prometheus promtool curl python3; do
	command -v $tool >/dev/null || { t_skip all "$tool is not installed (scripts/deps.sh test)"; t_done; }
done
tmp=$(mktemp -d)
t_on_exit "rm -rf $tmp"
t_on_exit "\"$P\" unload --all"

# Nothing loaded: the build information alone, and no rule series.
out=$("$P" metrics)
t_eq nothing-loaded/exit-0 $? 0
t_match nothing-loaded/build-info "$out" \
	"^xdp_portredir_build_info\{version=\"$(cat "$TOP/VERSION")\",libbpf_version=\"[^\"]+\",libxdp_version=\"[0-9.]+\"\} 1$"
t_nomatch nothing-loaded/no-rules "$out" '^xdp_portredir_rule_packets_total\{'

# Usage errors and privileges: the listener needs what status needs, no more.
for bad in nonsense 127.0.0.1:99999 1.2.3:80 '[::1:80' ''; do
	"$P" metrics --listen "$bad" >/dev/null 2>"$tmp/err"
	t_eq "bad-listen/'$bad'/exit-2" $? 2
done
t_match bad-listen/says-how "$(cat "$tmp/err")" 'ADDR:PORT'
out=$(setpriv --inh-caps -sys_admin --bounding-set -sys_admin "$P" metrics --listen 0 2>&1)
t_eq privileges/listen-like-status "$out" \
	"$(setpriv --inh-caps -sys_admin --bounding-set -sys_admin "$P" status 2>&1 | sed 's/ status:/ metrics:/')"

"$P" load lo --priority 10 >/dev/null || t_fail setup "load lo"
"$P" redirect 7999 7998 --proto udp >/dev/null || t_fail setup "redirect 7999"
"$P" redirect 8000-8009 9000 --proto tcp >/dev/null || t_fail setup "redirect 8000-8009"

# The listener on a free port; --listen PORT means 127.0.0.1.
"$P" metrics --listen 0 >"$tmp/listen" 2>&1 &
LPID=$!
t_on_exit "kill -9 $LPID"
wait_until 20 grep -q '^serving ' "$tmp/listen"
URL=$(sed -n 's/^serving //p' "$tmp/listen")
t_match listen/default-127.0.0.1 "$URL" '^http://127\.0\.0\.1:[0-9]+/metrics$'
HP=${URL#http://127.0.0.1:}
HP=${HP%/metrics}

served=$(curl -s -m 20 -D "$tmp/hdr" "$URL")
t_match serve/content-type "$(cat "$tmp/hdr")" 'Content-Type: text/plain; version=0\.0\.4'
t_match serve/rule-series "$served" '^xdp_portredir_rule_packets_total\{proto="udp",from_port="7999",to_port="7998",interface="",dst=""\} 0$'
t_match serve/range-rule "$served" '^xdp_portredir_rule_bytes_total\{proto="tcp",from_port="8000-8009",to_port="9000-9009",interface="",dst=""\} 0$'
t_match serve/interface "$served" '^xdp_portredir_interface_info\{ifname="lo",state="loaded",mode="(skb|native)",dispatcher="(true|false)",priority="10"\} 1$'
t_match serve/flow-capacity "$served" '^xdp_portredir_flow_table_capacity [1-9][0-9]*$'
t_match serve/actions "$served" '^xdp_portredir_action_packets_total\{action="XDP_PASS"\} [0-9]+$'
t_match serve/monitor-drops "$served" '^xdp_portredir_monitor_dropped_events_total 0$'
t_match serve/replies "$served" '^xdp_portredir_replies_translated_total [0-9]+$'
"$P" metrics >"$tmp/once.prom"
t_eq once-equals-served/series "$(grep -c '^xdp_' "$tmp/once.prom")" "$(grep -c '^xdp_' <<<"$served")"
out=$(promtool check metrics <"$tmp/once.prom" 2>&1)
t_eq promtool/exit-0 $? 0
t_eq promtool/no-findings "$out" ""

# A Prometheus server scraping the listener every second.
PP=19090
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: xdp-portredir
    static_configs:
      - targets: ['127.0.0.1:$HP']
EOF
t_ok promtool/config promtool check config "$tmp/prometheus.yml"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address="127.0.0.1:$PP" >"$tmp/prom.log" 2>&1 &
PROM=$!
t_on_exit "kill -9 $PROM"
wait_until 90 curl -sf "http://127.0.0.1:$PP/-/ready" || t_fail prometheus/ready "$(tail -5 "$tmp/prom.log")"

# q PROMQL: the first result's value, empty if none.
q() {
	curl -s -m 10 -G "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$1" |
		jq -r '.data.result[0].value[1] // empty'
}
# q_is VALUE PROMQL: succeeds when the query returns VALUE ("" for no result).
q_is() { [ "$(q "$2")" == "$1" ]; }
RULE='xdp_portredir_rule_packets_total{proto="udp",from_port="7999",to_port="7998"}'

wait_until 60 q_is 1 'up{job="xdp-portredir"}'
t_eq prometheus/target-up "$(q 'up{job="xdp-portredir"}')" 1
N=37
bg_ready "$tmp/rx" "$NETTOOL" udp-recv -p 7998 -n $((N + 23)) -t 120000
"$NETTOOL" udp-send -a 127.0.0.1 -p 7999 -n $N >/dev/null
wait_until 120 q_is $N "$RULE"
t_eq prometheus/rule-packets-N "$(q "$RULE")" $N

# Other rules' edits leave the counter alone; the removed rule's series go.
"$P" redirect 7000 7001 --proto udp >/dev/null
"$P" redirect --remove 8000-8009 --proto tcp >/dev/null
"$NETTOOL" udp-send -a 127.0.0.1 -p 7999 -n 23 >/dev/null
wait_until 120 q_is $((N + 23)) "$RULE"
t_eq prometheus/after-other-edits "$(q "$RULE")" $((N + 23))
t_eq prometheus/no-counter-reset "$(q "resets(${RULE}[10m])")" 0
t_match prometheus/new-rule-appears "$(curl -s -m 20 "$URL")" 'from_port="7000",to_port="7001"'
t_nomatch removed-rule/gone-from-output "$(curl -s -m 20 "$URL")" 'from_port="8000-8009"'
wait_until 60 q_is "" 'xdp_portredir_rule_packets_total{from_port="8000-8009"}'
t_eq removed-rule/gone-from-prometheus "$(q 'xdp_portredir_rule_packets_total{from_port="8000-8009"}')" ""

# Bad requests: an error status each, and the listener serves on.
code() { curl -s -m 20 -o /dev/null -w '%{http_code}' "$@"; }
t_eq bad/other-path-404 "$(code "http://127.0.0.1:$HP/")" 404
t_eq bad/metrics-slash-404 "$(code "$URL/")" 404
t_eq bad/post-405 "$(code -X POST -d x=1 "$URL")" 405
t_eq bad/delete-405 "$(code -X DELETE "$URL")" 405
big=$($ABUSE 127.0.0.1 "$HP" bigheader 100000)
t_match bad/huge-header-refused "$big" '^status (431|400|413|dropped)$'
t_eq bad/still-serving "$(code "$URL")" 200

# Slowloris: 80 connections (more than the 64 allowed) trickle a header
# byte every second and never finish. libmicrohttpd's idle timeout alone
# would keep them forever; the request deadline closes every one, and a
# scrape gets through while they are still trickling.
$ABUSE 127.0.0.1 "$HP" slowloris 80 75 >"$tmp/slow" 2>&1 &
SLOW=$!
t_on_exit "kill -9 $SLOW"
sleep 2
wait_until 60 bash -c "[ \"\$(curl -s -m 5 -o /dev/null -w '%{http_code}' '$URL')\" = 200 ] && kill -0 $SLOW"
t_eq slowloris/scrape-while-trickling $? 0
wait_until 120 bash -c "! kill -0 $SLOW 2>/dev/null"
t_match slowloris/all-closed-by-server "$(cat "$tmp/slow")" '^closed 80 of 80,'
echo "info: slowloris: $(cat "$tmp/slow")"
t_eq slowloris/still-serving "$(code "$URL")" 200

# 200 scrapes at once: each a complete answer or an error, never half a one.
out=$(t_long 900 $ABUSE 127.0.0.1 "$HP" concurrent 200)
t_match concurrent/all-answered "$out" '^ok [0-9]+ error [0-9]+ garbled 0$'
echo "info: 200 concurrent scrapes: $out"
ok=${out#ok }
t_ge concurrent/some-served "${ok%% *}" 1
t_eq concurrent/still-serving "$(code "$URL")" 200
t_ok listener/alive kill -0 $LPID
t_eq prometheus/still-up "$(q 'up{job="xdp-portredir"}')" 1

# Scoped rules (same port, two scopes): each its own series, its scope in labels.
"$P" redirect 6000 6001 --proto udp --dst 127.0.0.2 >/dev/null || t_fail scoped/setup "--dst rule"
"$P" redirect 6000 6002 --proto udp --interface lo >/dev/null || t_fail scoped/setup "--interface rule"
"$NETTOOL" udp-send -a 127.0.0.2 -p 6000 -n 7 >/dev/null
"$NETTOOL" udp-send -a 127.0.0.1 -p 6000 -n 3 >/dev/null
out=$(curl -s -m 20 "$URL")
t_match scoped/dst "$out" '^xdp_portredir_rule_packets_total\{proto="udp",from_port="6000",to_port="6001",interface="",dst="127\.0\.0\.2"\} 7$'
t_match scoped/interface "$out" '^xdp_portredir_rule_packets_total\{proto="udp",from_port="6000",to_port="6002",interface="lo",dst=""\} 3$'
t_eq scoped/promtool "$(promtool check metrics <<<"$out" 2>&1; echo "exit $?")" "exit 0"
"$P" redirect --remove 6000 --proto udp --interface lo >/dev/null
t_nomatch scoped/removed-goes "$(curl -s -m 20 "$URL")" 'to_port="6002"'

# HEAD: the headers alone.
t_match head/200-no-body "$(curl -s -m 20 -I "$URL" | head -n 1)" '^HTTP/1\.1 200'

# Label values are escaped: an interface named q"a\b (legal in Linux).
if ip link add 'q"a\b' type veth peer name qpeer && ip link set 'q"a\b' up && ip link set qpeer up &&
	"$P" load 'q"a\b' >/dev/null; then
	out=$("$P" metrics)
	t_match escape/ifname "$out" '^xdp_portredir_interface_info\{ifname="q\\"a\\\\b",'
	t_eq escape/promtool "$(promtool check metrics <<<"$out" 2>&1; echo "exit $?")" "exit 0"
	"$P" unload 'q"a\b' >/dev/null
else
	t_fail escape/setup "cannot make and load an interface named q\"a\\b"
fi

# IPv6: [::1]:0 serves there.
"$P" metrics --listen '[::1]:0' >"$tmp/listen6" 2>&1 &
L6=$!
t_on_exit "kill -9 $L6"
wait_until 20 grep -q '^serving ' "$tmp/listen6"
U6=$(sed -n 's/^serving //p' "$tmp/listen6")
t_match ipv6/address "$U6" '^http://\[::1\]:[0-9]+/metrics$'
t_eq ipv6/serves "$(curl -s -g -m 20 -o /dev/null -w '%{http_code}' "$U6")" 200
kill -TERM $L6

# SIGTERM: a clean exit 0.
kill -TERM $LPID
wait_until 10 bash -c "! kill -0 $LPID 2>/dev/null"
wait $LPID
t_eq listener/sigterm-exit-0 $? 0
"$P" unload --all >/dev/null
t_done
