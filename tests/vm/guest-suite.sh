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
	host_suites_match && run_host_suites -k "$pattern"
elif [ "$all" -eq 1 ]; then
	run_host_suites
else
	# The default row: what fits the time budget and depends on the kernel;
	# tests/vm/suites.CODENAME adds suites for the guest userland's release.
	codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	for list in tests/vm/suites ${codename:+tests/vm/suites.$codename}; do
		[ -f "$list" ] || continue
		while read -r sel _; do
			case "$sel" in '' | '#'*) continue ;; esac
			if ! run_host_suites -k "$sel"; then
				echo "FAIL vm/suites: '$sel' in $list names no suite"
				failed=$((failed + 1))
			fi
		done <"$list"
	done
fi

for t in tests/vm/scenarios/*.sh; do
	[ -e "$t" ] || continue
	label="vm/$(basename "$t" .sh)"
	[ -n "$pattern" ] && [[ "$label" != *"$pattern"* ]] && continue
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
done
rm -f "$out"

if [ ${#rows[@]} -gt 0 ]; then
	echo
	echo "=== Scenarios"
	printf '%s\n' "${rows[@]}"
fi
echo "VMRESULT passed=$passed failed=$failed skipped=$skipped suites=$suites overrun=$overrun"
[ "$failed" -eq 0 ]
