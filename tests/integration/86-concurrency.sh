#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Concurrency: many CLI invocations at once (they serialize on the pin
# directory's lock, so every one must land and the state must stay one
# state), and rules changed while packets flow (tests/robustness/rule_race:
# the real XDP program under BPF_PROG_TEST_RUN in a tight loop while another
# thread rewrites the range rule its packets hit; no packet may see a torn
# rule). Runs in a network namespace of its own with a private bpffs.
#
# RACE_SECONDS (default 5) bounds the packet race.

T_SUITE=concurrency
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/robustness/common.sh"
r_isolate "$@"
P=$PORTREDIR
RACE=$TOP/tests/robustness/rule_race
RACE_SECONDS=${RACE_SECONDS:-5}
WORK=$(mktemp -d)
t_on_exit rm -rf "$WORK"

# par NAME N CMD-TEMPLATE: runs N copies at once (%i replaced by 0..N-1),
# waits for all (bounded), passes if every one exited 0.
par() {
	local name=$1 n=$2 tmpl=$3 i pids=() failed=""
	for ((i = 0; i < n; i++)); do
		eval "timeout 600 ${tmpl//%i/$i}" >"$WORK/$name.$i" 2>&1 &
		pids+=($!)
	done
	for ((i = 0; i < n; i++)); do
		wait "${pids[$i]}" || failed="$failed #$i($?): $(tr '\n' ' ' <"$WORK/$name.$i")"
	done
	if [ -z "$failed" ]; then t_pass "$name/all-$n-exit-0"; else t_fail "$name/all-$n-exit-0" "$failed"; fi
}

# Every XDP program of ours uses the pinned rule map (no instance got maps
# of its own, which would make rules silently miss it).
same_maps() {
	local name=$1 want i id ids bad=""
	shift
	want=$(bpftool -j map show pinned "$PIN_DIR/pr_rules" 2>/dev/null | jq -r '.id')
	for i in "$@"; do
		id=$(r_xdp_id "$i")
		ids=$(bpftool -j prog show id "$id" 2>/dev/null | jq -r '.map_ids | map(tostring) | join(" ")')
		[[ " $ids " == *" $want "* ]] || bad="$bad $i(prog $id maps: $ids)"
	done
	if [ -n "$want" ] && [ -z "$bad" ]; then t_pass "$name"; else t_fail "$name" "pinned pr_rules is map '${want}', not used by:$bad"; fi
}

for i in 0 1 2 3; do
	r_veth "v$i" "w$i" || { t_fail setup "cannot create veth pair v$i"; t_done; }
done

# 20 redirects at once on an empty state (so they also race to create the
# pin directory and the maps), distinct rules: all 20 land.
start=$SECONDS
par redirect-20-fresh 20 "$P redirect --proto udp 1%i00-1%i09 2%i00"
want=$(for i in $(seq 0 19); do echo "udp 1${i}00-1${i}09 -> 2${i}00-2${i}09"; done | sort | paste -sd';')
t_eq redirect-20-fresh/all-rules-present "$("$P" status --json | jq -r '[.rules[].rule] | sort | join(";")')" "$want"
echo "    20 parallel redirects took $((SECONDS - start)) s"

# 20 at once, mixed: 10 add (both protocols), 10 remove rules from above.
par redirect-20-mixed 20 "bash -c 'if [ %i -lt 10 ]; then $P redirect 3%i00 4%i00; else $P redirect --remove 1\$((%i - 10))00-1\$((%i - 10))09; fi'"
want=$( (for i in $(seq 10 19); do echo "udp 1${i}00-1${i}09 -> 2${i}00-2${i}09"; done
	for i in $(seq 0 9); do echo "udp 3${i}00 -> 4${i}00"; echo "tcp 3${i}00 -> 4${i}00"; done) | sort | paste -sd';')
t_eq redirect-20-mixed/rules-exact "$("$P" status --json | jq -r '[.rules[].rule] | sort | join(";")')" "$want"

# Parallel load on four interfaces, with a redirect racing them: all four
# loaded, status agrees with the kernel, and all four programs read the
# one pinned rule map.
par load-4 5 "bash -c 'if [ %i -lt 4 ]; then $P load v%i; else $P redirect 5000 5001; fi'"
j=$("$P" status --json)
t_eq load-4/four-loaded "$(jq '[.interfaces[] | select(.state == "loaded")] | length' <<<"$j")" 4
r_truth load-4/status-true "$j" v0 v1 v2 v3
same_maps load-4/one-rule-map v0 v1 v2 v3

# Unload two, load them back, and status --json, all at once.
par unload-load-status 6 "bash -c 'case %i in 0|1) $P unload v%i ;; 4) $P redirect --remove 5000 ;; *) $P status --json ;; esac'"
# Each status read a whole state: JSON that parses, with v2 and v3 (which
# nobody touched in this round) loaded.
for i in 2 3 5; do
	t_eq "unload-load-status/status-$i-sees-v2-v3" \
		"$(jq -c '[.interfaces[] | select(.name == "v2" or .name == "v3") | .state]' "$WORK/unload-load-status.$i" 2>&1)" \
		'["loaded","loaded"]'
done
j=$("$P" status --json)
t_eq unload-load-status/loaded-after "$(jq -c '[.interfaces[] | select(.state == "loaded") | .name] | sort' <<<"$j")" '["v2","v3"]'
t_eq unload-load-status/rule-removed "$(jq '[.rules[] | select(.first == 5000)] | length' <<<"$j")" 0
par reload 2 "$P load v%i"
j=$("$P" status --json)
r_truth reload/status-true "$j" v0 v1 v2 v3
same_maps reload/one-rule-map v0 v1 v2 v3

# unload --all racing redirects: whatever the order, every command works,
# the state stays readable, and a final unload --all leaves nothing.
par unload-all-vs-redirect 6 "bash -c 'if [ %i = 0 ]; then $P unload --all; else $P redirect 6%i00 7%i00; fi'"
t_ok unload-all-vs-redirect/status-readable "$P" status --json
# unload --all ran once, before or after each redirect: nothing stays loaded,
# and every rule left is one of the five redirects, whole.
j=$("$P" status --json)
t_eq unload-all-vs-redirect/nothing-loaded "$(jq '[.interfaces[] | select(.state == "loaded")] | length' <<<"$j")" 0
t_eq unload-all-vs-redirect/only-raced-rules \
	"$(jq -r '[.rules[].rule | select(test("^(udp|tcp) 6[1-5]00 -> 7[1-5]00$") | not)] | length' <<<"$j")" 0
t_eq unload-all-vs-redirect/rules-in-pairs "$(jq '[.rules[]] | length % 2' <<<"$j")" 0
par unload-all-parallel 3 "$P unload --all"
r_assert_clean unload-all-parallel/clean

# Rules changed while packets flow (the helper is not part of 'make all').
if ! out=$(cd "$TOP" && t_long 900 make --no-print-directory -s robustness-tools 2>&1) ||
	[ ! -x "$RACE" ]; then
	t_fail rule-race "cannot build $RACE (make robustness-tools): $(tail -n 5 <<<"$out" | tr '\n' ' ')"
else
	# race NAME PORTS: rule_race over PORTS ports; its summary goes in the line.
	race() {
		local out rc line
		out=$("$RACE" -s "$RACE_SECONDS" -n "$2" 2>&1)
		rc=$?
		line=$(grep '^rule-race: seconds' <<<"$out")
		if [ "$rc" -eq 0 ]; then
			t_pass "$1/no-torn-frame: ${line#rule-race: }"
		else
			t_fail "$1/no-torn-frame" "exit $rc: $(grep '^rule-race' <<<"$out" | tr '\n' ' ')"
		fi
	}
	race rule-race 1
	race rule-race-64-ports 64
fi

t_done
