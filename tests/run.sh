#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole test suite: every suite prints "PASS name" / "FAIL name: why" /
# "SKIP name: why" lines and ends with "N passed, N failed". This runner runs
# them in order, labels each with the kernel it ran on, and ends with the
# totals, the line CI reads.
#
# Usage: tests/run.sh [-k PATTERN] [--no-vm] [--only unit|integration|vm]
#   -k PATTERN   run only suites whose path contains PATTERN

set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1

pattern="" only="" novm=0
while [ $# -gt 0 ]; do
	case "$1" in
	-k) pattern=$2; shift ;;
	--only) only=$2; shift ;;
	--no-vm) novm=1 ;;
	*) echo "usage: $0 [-k PATTERN] [--no-vm] [--only unit|integration|vm]" >&2; exit 2 ;;
	esac
	shift
done

SUITE_TIMEOUT=${SUITE_TIMEOUT:-600}
total_pass=0 total_fail=0 total_skip=0
summary_rows=()

run_suite() {
	# $1 kind, $2 label, rest: command
	local kind=$1 label=$2
	shift 2
	[ -n "$only" ] && [ "$only" != "$kind" ] && return
	[ -n "$pattern" ] && [[ "$label" != *"$pattern"* ]] && return
	local kernel="host $(uname -r)"
	[ "$kind" = vm ] && kernel="vm"
	echo "=== [$kernel] $label"
	local out rc start=$SECONDS
	out=$(mktemp)
	timeout --kill-after=10 "$SUITE_TIMEOUT" "$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	local line p f s
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	s=$(grep -c '^SKIP ' "$out")
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*passed, }
		f=${f%% failed*}
	else
		p=0 f=0
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $label: exited with status $rc${line:+ after: $line}"
		f=$((f + 1))
	fi
	rm -f "$out"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	summary_rows+=("$(printf '%-28s %-34s %4d passed %3d failed %3d skipped %4ds' \
		"[$kernel]" "$label" "$p" "$f" "$s" $((SECONDS - start)))")
}

for t in tests/unit/test_rules tests/unit/test_datapath tests/unit/test_reply tests/unit/test_vocab \
	tests/unit/test_config tests/unit/test_params tests/unit/test_frags; do
	run_suite unit "unit/${t##*/}" "./$t"
done

for t in tests/integration/*.sh; do
	[ -e "$t" ] || continue
	run_suite integration "integration/$(basename "$t" .sh)" bash "$t"
done

if [ "$novm" -eq 0 ] && [ -x tests/vm/run-vm.sh ]; then
	run_suite vm "vm/suite" tests/vm/run-vm.sh
fi

echo
echo "=== Summary (which suite ran on which kernel)"
printf '%s\n' "${summary_rows[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
