#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test suite as it runs inside the VM (started by tests/vm/init, or by
# hand from `run-vm.sh --shell`): tests/run.sh --no-vm for the unit and
# integration suites, then every tests/vm/scenarios/*.sh. The last line is
# the marker the host side turns into its exit status:
#   VMRESULT passed=N failed=N skipped=N suites=N
#
# Usage: tests/vm/guest-suite.sh [-k PATTERN]

set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1

pattern=""
while [ $# -gt 0 ]; do
	case "$1" in
	-k) pattern=${2-}; shift ;;
	*) echo "usage: $0 [-k PATTERN]" >&2; exit 2 ;;
	esac
	shift
done

kver=$(uname -r)
SUITE_TIMEOUT=${SUITE_TIMEOUT:-600}
passed=0 failed=0 skipped=0 suites=0
rows=()
out=$(mktemp)

# Reads "N passed, N failed" from $out into p and f; 0 0 if absent.
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

# The host rows: tests/run.sh knows its own suites; only its totals and
# status are needed here.
if host_suites_match; then
	args=(--no-vm)
	[ -n "$pattern" ] && args+=(-k "$pattern")
	bash tests/run.sh "${args[@]}" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	totals
	s=$(grep -c '^SKIP ' "$out")
	n=$(grep -c '^=== \[' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL vm/run.sh: exited with status $rc"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	suites=$((suites + n))
fi

for t in tests/vm/scenarios/*.sh; do
	[ -e "$t" ] || continue
	label="vm/$(basename "$t" .sh)"
	[ -n "$pattern" ] && [[ "$label" != *"$pattern"* ]] && continue
	echo "=== [vm $kver] $label"
	start=$SECONDS
	timeout --kill-after=10 "$SUITE_TIMEOUT" bash "$t" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	totals
	s=$(grep -c '^SKIP ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $label: exited with status $rc"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	suites=$((suites + 1))
	rows+=("$(printf '%-28s %-34s %4d passed %3d failed %3d skipped %4ds' \
		"[vm $kver]" "$label" "$p" "$f" "$s" $((SECONDS - start)))")
done
rm -f "$out"

if [ ${#rows[@]} -gt 0 ]; then
	echo
	echo "=== Scenarios"
	printf '%s\n' "${rows[@]}"
fi
echo "VMRESULT passed=$passed failed=$failed skipped=$skipped suites=$suites"
[ "$failed" -eq 0 ]
