#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test suite as it runs inside the VM (started by tests/vm/init, or by
# hand from `run-vm.sh --shell`): tests/run.sh --no-vm for the unit and
# integration suites, then every tests/vm/scenarios/*.sh. The last line is
# the marker the host side turns into its exit status:
#   VMRESULT passed=N failed=N skipped=N suites=N overrun=N
#
# No wall-clock budget decides a result here: each suite runs under
# tests/watchdog.bash (stopped only when silent for SUITE_IDLE_TIMEOUT, or
# past SUITE_CAP; run-vm.sh sets both below its own bound on the whole VM),
# so a loaded host makes the VM slower, not red. A suite stopped so is an
# OVERRUN line and a failure; every later suite still runs.
#
# Which of tests/run.sh's suites run: with -k PATTERN, those whose name holds
# PATTERN (as tests/run.sh -k); with --all, all of them; by default the
# selection in tests/vm/suites (the kernel-dependent ones). The scenarios run
# in every case (filtered by -k).
#
# The work is a list of units (one tests/run.sh call per selection line, or
# one for -k/--all; then each scenario). After each one it prints
#   VMUNIT done=N passed=N failed=N skipped=N suites=N overrun=N
# with the totals so far, so that run-vm.sh, if the guest kernel crashes,
# can boot again and go on with --skip N from the unit that did not finish.
#
# Usage: tests/vm/guest-suite.sh [-k PATTERN | --all] [--skip N]

set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1

pattern="" all=0 skip=0
while [ $# -gt 0 ]; do
	case "$1" in
	-k) pattern=${2-}; shift ;;
	--all) all=1 ;;
	--skip) skip=${2-}; shift ;;
	*) echo "usage: $0 [-k PATTERN | --all] [--skip N]" >&2; exit 2 ;;
	esac
	shift
done
[[ "$skip" =~ ^[0-9]+$ ]] || { echo "usage: --skip takes a number" >&2; exit 2; }

kver=$(uname -r)
. tests/watchdog.bash
passed=0 failed=0 skipped=0 suites=0 overrun=0
rows=()
out=$(mktemp)

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

# unit_begin: true if this unit is to run (not among the first $skip);
# unit_end: reports it done, with the totals so far.
unit=0
unit_begin() {
	unit=$((unit + 1))
	[ "$unit" -gt "$skip" ] || return 1
	# A test of run-vm.sh's crash handling asks for a kernel crash here.
	if [ "${VM_CRASH_AT_UNIT:-0}" = "$unit" ] &&
		{ [ -z "${VM_SECOND_BOOT:-}" ] || [ "${VM_CRASH_EVERY_BOOT:-0}" = 1 ]; }; then
		echo "crashing the guest kernel at unit $unit (VM_CRASH_AT_UNIT)"
		echo c >/proc/sysrq-trigger
	fi
	return 0
}
unit_end() {
	echo "VMUNIT done=$unit passed=$passed failed=$failed skipped=$skipped suites=$suites overrun=$overrun"
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

# run_host_suites [-k PATTERN]: tests/run.sh --no-vm; it watches each of
# its suites itself, with the same limits.
run_host_suites() {
	local rc n s
	bash tests/run.sh --no-vm --no-distro "$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	n=$(grep -c '^=== \[' "$out")
	s=$(grep -c '^SKIP ' "$out")
	totals
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL vm/run.sh: exited with status $rc"
		f=1
	fi
	overrun=$((overrun + $(grep -c '^OVERRUN ' "$out")))
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	suites=$((suites + n))
	[ "$n" -gt 0 ]
}

if [ -n "$pattern" ]; then
	if unit_begin; then
		host_suites_match && run_host_suites -k "$pattern"
		unit_end
	fi
elif [ "$all" -eq 1 ]; then
	if unit_begin; then
		run_host_suites
		unit_end
	fi
else
	# The default row: what fits the time budget and depends on the kernel;
	# tests/vm/suites.CODENAME adds suites for the guest userland's release.
	codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	for list in tests/vm/suites ${codename:+tests/vm/suites.$codename}; do
		[ -f "$list" ] || continue
		while read -r sel _; do
			case "$sel" in '' | '#'*) continue ;; esac
			unit_begin || continue
			if ! run_host_suites -k "$sel"; then
				echo "FAIL vm/suites: '$sel' in $list names no suite"
				failed=$((failed + 1))
			fi
			unit_end
		done <"$list"
	done
fi

for t in tests/vm/scenarios/*.sh; do
	[ -e "$t" ] || continue
	label="vm/$(basename "$t" .sh)"
	[ -n "$pattern" ] && [[ "$label" != *"$pattern"* ]] && continue
	unit_begin || continue
	echo "=== [vm $kver] $label"
	suites=$((suites + 1))
	start=$SECONDS
	wd_run "$out" bash "$t"
	rc=$?
	totals
	s=$(grep -c '^SKIP ' "$out")
	if [ -n "$WD_OVERRUN" ]; then
		echo "OVERRUN $label: stopped: $WD_OVERRUN"
		f=$((f + 1)) overrun=$((overrun + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $label: exited with status $rc"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	rows+=("$(printf '%-28s %-34s %4d passed %3d failed %3d skipped %4ds' \
		"[vm $kver]" "$label" "$p" "$f" "$s" $((SECONDS - start)))")
	unit_end
done
rm -f "$out"

if [ ${#rows[@]} -gt 0 ]; then
	echo
	echo "=== Scenarios"
	printf '%s\n' "${rows[@]}"
fi
echo "VMRESULT passed=$passed failed=$failed skipped=$skipped suites=$suites overrun=$overrun"
[ "$failed" -eq 0 ]
