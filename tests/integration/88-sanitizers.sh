#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sanitizers in CI, bounded:
# - ASan + UBSan: tests/robustness/asan.sh builds the userspace with
#   SANITIZE=1 in a copy of the tree (build/asan/src) and runs the unit
#   tests and a representative subset of the integration suites there, in a
#   namespace of its own; any sanitizer report fails it, also one from a
#   command whose failure a test expected. The subset (ASAN_CI_SUITES):
#   10-demo (load, rules, traffic on lo, status, unload), 20-cli-errors
#   (every error path of the CLI), 30-veth (native XDP, traffic, counters),
#   87-privileges (every command refused, modes). `make check-asan` runs
#   all suites (about 9 minutes here).
# - valgrind: tests/robustness/valgrind.sh runs every command, normal and
#   error paths, under memcheck with definite leaks as errors (also
#   `make check-valgrind`).
# Each suite's and each command's result is relayed as a case here.

T_SUITE=sanitizers
. "$(dirname "$0")/../lib.sh"
if [ -n "${PR_IN_SANITIZER_RUN:-}" ]; then
	t_skip all "already inside a sanitizer run"
	t_done
fi
t_need_root
cd "$TOP" || exit 1
ASAN_CI_SUITES=${ASAN_CI_SUITES:-"10-demo 20-cli-errors 30-veth 87-privileges"}

# relay PREFIX < OUTPUT: the PASS/FAIL/SKIP lines of a nested run, as ours.
relay() {
	local line
	while IFS= read -r line; do
		case "$line" in
		"PASS "*) t_pass "$1/${line#PASS }" ;;
		"FAIL "*) name=${line#FAIL }; t_fail "$1/${name%%: *}" "${name#*: }" ;;
		"SKIP "*) name=${line#SKIP }; t_skip "$1/${name%%: *}" "${name#*: }" ;;
		esac
	done
}

start=$SECONDS
# t_long: a hang bound with progress lines, so the runner's no-output watchdog
# does not take a slow (loaded) build for a hang; the output is read after.
raw=$(mktemp)
t_on_exit rm -f "$raw"
t_long 3000 tests/robustness/asan.sh --suites "$ASAN_CI_SUITES" >"$raw" 2>&1
rc=$?
out=$(cat "$raw")
secs=$((SECONDS - start))
# The nested run's summary: one row per suite with its counts.
rows=$(grep -E '^\[host [^]]*\] +(unit|integration)/' <<<"$out")
if [ -z "$rows" ]; then
	t_fail asan/ran "no suite ran (exit $rc): $(tail -n 20 <<<"$out" | tr '\n' ' ')"
else
	# A row: [kernel + userland] label P passed F failed S skipped Ns [verdict]
	while read -r label p _ f _ _ _ t _; do
		if [ "$f" = 0 ] && [ "$p" -gt 0 ]; then
			t_pass "asan/$label: $p passed in $t"
		else
			t_fail "asan/$label" "$p passed, $f failed: $(grep -E "^FAIL ${label#*/}/" <<<"$out" | head -n 3 | cut -c1-300 | tr '\n' ' ')"
		fi
	done < <(sed -E 's/^\[[^]]*\] +//' <<<"$rows")
fi
if grep -q '^asan.sh: no sanitizer reports' <<<"$out"; then
	t_pass "asan/no-sanitizer-reports"
else
	t_fail asan/no-sanitizer-reports "$(sed -n '/sanitizer report(s):/,$p' <<<"$out" | head -n 40 | tr '\n' ' ')"
fi
echo "    asan: build and suites ($ASAN_CI_SUITES) took $secs s, exit $rc"

start=$SECONDS
t_long 1800 tests/robustness/valgrind.sh >"$raw" 2>&1
rc=$?
out=$(cat "$raw")
relay valgrind <<<"$out"
grep -qE '^[0-9]+ passed, 0 failed' <<<"$out" || t_fail valgrind/completed "exit $rc: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
echo "    valgrind: $(grep -cE '^(PASS|FAIL) ' <<<"$out") commands took $((SECONDS - start)) s"

t_done
