#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test suite as it runs inside the VM (started by tests/vm/init, or by
# hand from `run-vm.sh --shell`): tests/run.sh --no-vm for the unit and
# integration suites, then every tests/vm/scenarios/*.sh. The last line is
# the marker the host side turns into its exit status:
#   VMRESULT passed=N failed=N skipped=N suites=N overrun=N
#
# The VM's run is bounded from outside; VM_DEADLINE (seconds of uptime) lets
# the suite stop itself a little earlier, so that a suite that runs too long
# is a FAIL of that suite, and the counts of everything else still arrive.
#
# Which of tests/run.sh's suites run: with -k PATTERN, those whose name holds
# PATTERN (as tests/run.sh -k); with --all, all of them; by default the
# selection in tests/vm/suites, which fits the time budget. The scenarios run
# in every case (filtered by -k).
#
# Usage: tests/vm/guest-suite.sh [-k PATTERN | --all]

set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1

pattern="" all=0
while [ $# -gt 0 ]; do
	case "$1" in
	-k) pattern=${2-}; shift ;;
	--all) all=1 ;;
	*) echo "usage: $0 [-k PATTERN | --all]" >&2; exit 2 ;;
	esac
	shift
done

kver=$(uname -r)
SUITE_TIMEOUT=${SUITE_TIMEOUT:-600}
VM_DEADLINE=${VM_DEADLINE:-0}
passed=0 failed=0 skipped=0 suites=0 overrun=0
rows=()
out=$(mktemp)

# Seconds left before VM_DEADLINE (a large number without one).
remaining() {
	local up
	[ "$VM_DEADLINE" -gt 0 ] || { echo 999999; return; }
	up=$(cut -d. -f1 /proc/uptime)
	echo $((VM_DEADLINE - up))
}

# Sets p and f from the "N passed, N failed" line at the end of $out.
totals() {
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	p=0 f=0
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*passed, }
		f=${f%% failed*}
	fi
}

# Like totals, for tests/run.sh stopped before its own final line: the sum
# of the lines each finished suite printed.
suite_totals() {
	p=0 f=0
	local a b
	while read -r a _ b _; do
		p=$((p + a)) f=$((f + b))
	done < <(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out")
}

# With a pattern that names none of tests/run.sh's suites (unit/<binary>,
# integration/<script>), e.g. a scenario, its empty summary is only noise.
host_suites_match() {
	local t
	[ -z "$pattern" ] && return 0
	for t in tests/unit/test_* tests/integration/*.sh; do
		case "$t" in *.c | *.o) continue ;; esac
		t=${t#tests/}
		[[ "${t%.sh}" == *"$pattern"* ]] && return 0
	done
	return 1
}

# run_host_suites [-k PATTERN]: tests/run.sh --no-vm, its per-suite timeout
# capped at the time left so that no suite outlives the deadline either.
run_host_suites() {
	local left limit rc n s last
	left=$(remaining)
	[ "$left" -gt 5 ] || left=5
	limit=$((left < SUITE_TIMEOUT ? left : SUITE_TIMEOUT))
	SUITE_TIMEOUT=$limit timeout --kill-after=5 "$left" bash tests/run.sh --no-vm "$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	n=$(grep -c '^=== \[' "$out")
	s=$(grep -c '^SKIP ' "$out")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		suite_totals
		last=$(grep '^=== \[' "$out" | tail -n 1)
		echo "FAIL vm/time-budget: tests/run.sh stopped at the VM's deadline in ${last#=== \[*\] }; later suites did not run"
		f=$((f + 1)) overrun=$((overrun + 1))
	else
		totals
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			echo "FAIL vm/run.sh: exited with status $rc"
			f=1
		fi
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	suites=$((suites + n))
	[ "$n" -gt 0 ]
}

if [ -n "$pattern" ]; then
	host_suites_match && run_host_suites -k "$pattern"
elif [ "$all" -eq 1 ]; then
	run_host_suites
else
	# The default row: what fits the time budget and depends on the kernel.
	while read -r sel _; do
		case "$sel" in '' | '#'*) continue ;; esac
		if ! run_host_suites -k "$sel"; then
			echo "FAIL vm/suites: '$sel' in tests/vm/suites names no suite"
			failed=$((failed + 1))
		fi
	done <tests/vm/suites
fi

for t in tests/vm/scenarios/*.sh; do
	[ -e "$t" ] || continue
	label="vm/$(basename "$t" .sh)"
	[ -n "$pattern" ] && [[ "$label" != *"$pattern"* ]] && continue
	echo "=== [vm $kver] $label"
	suites=$((suites + 1))
	left=$(remaining)
	if [ "$left" -le 5 ]; then
		echo "FAIL $label: not run: the VM's time budget is used up"
		failed=$((failed + 1)) overrun=$((overrun + 1))
		continue
	fi
	limit=$((left < SUITE_TIMEOUT ? left : SUITE_TIMEOUT))
	start=$SECONDS
	timeout --kill-after=5 "$limit" bash "$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	totals
	s=$(grep -c '^SKIP ' "$out")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "FAIL $label: killed after ${limit} s (its timeout or the VM's deadline)"
		f=$((f + 1)) overrun=$((overrun + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $label: exited with status $rc"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	rows+=("$(printf '%-28s %-34s %4d passed %3d failed %3d skipped %4ds' \
		"[vm $kver]" "$label" "$p" "$f" "$s" $((SECONDS - start)))")
done
rm -f "$out"

if [ ${#rows[@]} -gt 0 ]; then
	echo
	echo "=== Scenarios"
	printf '%s\n' "${rows[@]}"
fi
echo "VMRESULT passed=$passed failed=$failed skipped=$skipped suites=$suites overrun=$overrun"
[ "$failed" -eq 0 ]
