#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs one libFuzzer binary for a bounded time, or replays inputs through it,
# and prints one summary line: libFuzzer's final stats (executions, exec/s)
# and the harness's own counters (frames checked, mismatches). On a crash or
# mismatch it prints the harness's report and the path of the saved input.
#
# Usage:
#   run-fuzzer.sh fuzz NAME BIN SECONDS WORKDIR CORPUSDIR... [-- LIBFUZZER-ARGS...]
#   run-fuzzer.sh replay NAME BIN WORKDIR INPUT... [-- LIBFUZZER-ARGS...]
# The first CORPUSDIR receives new inputs; the others are only read.
# Exit status: 0 clean, 1 the fuzzer failed, 2 usage error.

set -u

usage() {
	sed -n '/^# Usage:/,/^# Exit/p' "$0" >&2
	exit 2
}

abspath() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }

stat_of() { # FILE KEY
	sed -n "s/^stat::$2: *//p" "$1" | tail -n 1
}

report() { # LOG RC
	local log=$1 rc=$2 harness
	harness=$(grep -E '^pr-fuzz-[a-z]+: ' "$log" | tail -n 1)
	echo "  ${harness:-no harness counters (the fuzzer died before exit)}"
	if [ "$rc" -ne 0 ]; then
		echo "  --- failure report (from $log)"
		if grep -q 'MISMATCH' "$log"; then
			sed -n '/MISMATCH/,/^==[0-9]*==/p' "$log" | head -n 120 | sed 's/^/  /'
		else
			grep -E 'ERROR|SUMMARY|runtime error|MISMATCH' "$log" | head -n 20 | sed 's/^/  /'
		fi
		grep -E 'Test unit written to|artifact_prefix' "$log" | sed 's/^/  /'
	fi
}

mode=${1:-}
[ $# -ge 4 ] || usage
case "$mode" in
fuzz)
	[ $# -ge 6 ] || usage
	name=$2 bin=$(abspath "$3") secs=$4 work=$5
	shift 5
	corpora=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		mkdir -p "$1"
		corpora+=("$(cd "$1" && pwd)")
		shift
	done
	[ "${1:-}" = "--" ] && shift
	mkdir -p "$work"
	work=$(cd "$work" && pwd)
	rm -f "$work"/fuzz-*.log
	# -jobs=1 runs the fuzzer in one child whose output goes to fuzz-0.log.
	(cd "$work" && timeout --kill-after=10 $((secs + 120)) "$bin" \
		-max_total_time="$secs" -jobs=1 -print_final_stats=1 \
		-artifact_prefix="$work/" "$@" "${corpora[@]}" >"$work/driver.log" 2>&1)
	rc=$?
	log=$work/fuzz-0.log
	[ -f "$log" ] || log=$work/driver.log
	execs=$(stat_of "$log" number_of_executed_units)
	eps=$(stat_of "$log" average_exec_per_sec)
	units=$(stat_of "$log" new_units_added)
	[ "$rc" -eq 0 ] && grep -q 'MISMATCH\|ERROR: ' "$log" && rc=1
	echo "fuzz $name: ${secs}s, execs=${execs:-?} exec/s=${eps:-?} new-units=${units:-?} rc=$rc"
	report "$log" "$rc"
	[ "$rc" -eq 0 ]
	;;
replay)
	name=$2 bin=$(abspath "$3") work=$4
	shift 4
	inputs=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		if [ -d "$1" ]; then
			while IFS= read -r f; do inputs+=("$(abspath "$f")"); done \
				< <(find "$1" -type f | sort)
		else
			inputs+=("$(abspath "$1")")
		fi
		shift
	done
	[ "${1:-}" = "--" ] && shift
	[ ${#inputs[@]} -gt 0 ] || { echo "replay $name: no inputs"; exit 1; }
	mkdir -p "$work"
	work=$(cd "$work" && pwd)
	log=$work/replay.log
	(cd "$work" && timeout --kill-after=10 600 "$bin" -artifact_prefix="$work/" "$@" \
		"${inputs[@]}" >"$log" 2>&1)
	rc=$?
	ran=$(grep -c '^Executed ' "$log")
	echo "replay $name: inputs=${#inputs[@]} executed=$ran rc=$rc"
	report "$log" "$rc"
	[ "$rc" -eq 0 ] && [ "$ran" -eq ${#inputs[@]} ]
	;;
*)
	usage
	;;
esac
