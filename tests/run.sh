#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole test suite: every suite prints "PASS name" / "FAIL name: why" /
# "SKIP name: why" lines and ends with "N passed, N failed". This runner runs
# them (the VM rows in the background, beside the host suites: see
# run_suite_bg), labels each with the kernel and the userland (the Debian
# release whose tools and libraries) it ran with, and ends with the totals,
# the line CI reads. The rows: host kernel + this machine's Debian, the
# Debian 13 root (tests/distro), the VM's Debian 12 kernel with this
# machine's userland, and the VM's Debian 13 kernel with Debian 13's.
#
# No suite has a wall-clock limit near what it needs: tests/watchdog.bash
# stops a suite only when it prints nothing for SUITE_IDLE_TIMEOUT seconds
# (900) or runs longer than SUITE_CAP (3600). A suite stopped so is an
# OVERRUN row in the summary, apart from the suites that failed, and still
# counts as failed in the last line.
#
# Usage: tests/run.sh [-k PATTERN] [--no-vm] [--no-distro] [--only unit|integration|distro|vm]
#   -k PATTERN   run only suites whose label contains PATTERN (e.g. distro/trixie,
#                vm/trixie, vm/suite)

set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1

pattern="" only="" novm=0 nodistro=0
while [ $# -gt 0 ]; do
	case "$1" in
	-k) pattern=$2; shift ;;
	--only) only=$2; shift ;;
	--no-vm) novm=1 ;;
	--no-distro) nodistro=1 ;;
	*) echo "usage: $0 [-k PATTERN] [--no-vm] [--no-distro] [--only unit|integration|distro|vm]" >&2; exit 2 ;;
	esac
	shift
done

. tests/watchdog.bash
total_pass=0 total_fail=0 total_skip=0 total_overrun=0
summary_rows=()
# "Debian 12" for this machine's userland.
HOST_USERLAND=$(. /etc/os-release 2>/dev/null && echo "${NAME%% *} ${VERSION_ID:-?}")

selected() {
	# $1 kind, $2 label
	[ -n "$only" ] && [ "$only" != "$1" ] && return 1
	[ -n "$pattern" ] && [[ "$2" != *"$pattern"* ]] && return 1
	return 0
}

run_suite() {
	# $1 kind, $2 label, $3 userland, rest: command
	local kind=$1 label=$2 userland=$3
	shift 3
	selected "$kind" "$label" || return
	local kernel="host $(uname -r)"
	[ "$kind" = vm ] && kernel="vm"
	echo "=== [$kernel + $userland] $label"
	local out rc start=$SECONDS
	out=$(mktemp)
	wd_run "$out" "$@"
	rc=$?
	suite_result "$kind" "$label" "$userland" "$out" "$rc" $((SECONDS - start)) "$WD_OVERRUN"
}

# The VM rows run in the background, beside the host suites: each guest
# keeps about one core busy under TCG, so run one after another they would
# double the command's time on a 2-core machine. Their output is printed
# whole when they end (bg_collect), before the summary.
bg_pids=() bg_args=()
run_suite_bg() {
	# $1 kind, $2 label, $3 userland, rest: command
	local kind=$1 label=$2 userland=$3 out
	shift 3
	selected "$kind" "$label" || return
	out=$(mktemp)
	echo "=== [vm + $userland] $label: started in the background; its output follows the host suites"
	# The row's own time is taken when it ends: it is collected only after
	# the host suites and any row started before it.
	(
		local start=$SECONDS
		trap 'wd_stop; exit 143' TERM
		trap 'wd_stop; exit 130' INT
		wd_run "$out" "$@" >/dev/null
		rc=$?
		printf '%s\n%s\n%s\n' "$rc" "$WD_OVERRUN" $((SECONDS - start)) >"$out.rc"
	) &
	bg_pids+=($!)
	bg_args+=("$kind|$label|$userland|$out")
}

bg_collect() {
	local i kind label userland out rc overrun took
	for i in "${!bg_pids[@]}"; do
		wait "${bg_pids[$i]}"
		IFS='|' read -r kind label userland out <<<"${bg_args[$i]}"
		echo "=== [vm + $userland] $label"
		cat "$out"
		rc=$(sed -n 1p "$out.rc" 2>/dev/null)
		overrun=$(sed -n 2p "$out.rc" 2>/dev/null)
		took=$(sed -n 3p "$out.rc" 2>/dev/null)
		rm -f "$out.rc"
		suite_result "$kind" "$label" "$userland" "$out" "${rc:-1}" "${took:-0}" "$overrun"
	done
	bg_pids=() bg_args=()
}

# Stopping the runner stops the background rows too.
trap 'wd_stop; [ ${#bg_pids[@]} -eq 0 ] || kill -TERM "${bg_pids[@]}" 2>/dev/null; wait; exit 143' TERM
trap 'wd_stop; [ ${#bg_pids[@]} -eq 0 ] || kill -TERM "${bg_pids[@]}" 2>/dev/null; wait; exit 130' INT

# suite_result KIND LABEL USERLAND OUTFILE RC SECONDS OVERRUN: one summary row
# from a suite's output; adds to the totals and removes OUTFILE.
suite_result() {
	local kind=$1 label=$2 userland=$3 out=$4 rc=$5 took=$6 overrun=$7 status=ok
	local kernel="host $(uname -r)"
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
	# The VM row names the kernel package it booted.
	if [ "$kind" = vm ]; then
		kernel=$(sed -n 's/^vm: booted kernel \([^ ]*\) .*/vm \1/p' "$out" | tail -n 1)
		# Without that line: the guest's own [vm VERSION] labels.
		[ -n "$kernel" ] || kernel=$(grep -o -m 1 -E '\[vm [^] ]+' "$out" | tr -d '[')
		kernel=${kernel:-vm ?}
		label="$label $(sed -n 's/^vm: booted kernel [^ ]* from \([^ ]* [^ ]*\).*/(\1)/p' "$out" | tail -n 1)"
	fi
	if [ -n "$overrun" ]; then
		# Stopped by the watchdog: an overrun, not a verdict on the code.
		echo "OVERRUN $label: stopped: $overrun${line:+ after: $line}"
		f=$((f + 1)) status=OVERRUN
		total_overrun=$((total_overrun + 1))
	elif grep -q '^OVERRUN ' "$out"; then
		# A runner (the VM row) stopped one of its own suites.
		status=OVERRUN
		total_overrun=$((total_overrun + 1))
		[ "$f" -gt 0 ] || f=1
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $label: exited with status $rc${line:+ after: $line}"
		f=$((f + 1))
	fi
	[ "$status" = ok ] && [ "$f" -gt 0 ] && status=FAILED
	rm -f "$out"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	summary_rows+=("$(printf '%-44s %-34s %4d passed %3d failed %3d skipped %5ds  %s' \
		"[$kernel + $userland]" "$label" "$p" "$f" "$s" "$took" "$status")")
}

for t in tests/unit/test_rules tests/unit/test_datapath tests/unit/test_reply tests/unit/test_vocab \
	tests/unit/test_config tests/unit/test_params tests/unit/test_frags tests/unit/test_multibuf tests/unit/test_scope tests/unit/test_variant; do
	run_suite unit "unit/${t##*/}" "$HOST_USERLAND" "./$t"
done

# Other releases' userland on this kernel; its build feeds the Debian 13
# VM row, so it comes before the VM rows start.
# Copies of the tree that run the suites again (the sanitizer run, the VM's
# guest) pass --no-distro: the Debian 13 root and its build are shared.
[ "$nodistro" -eq 1 ] || run_suite distro "distro/trixie" "Debian 13" bash tests/distro/trixie.sh

# The VM rows: Debian 12's 6.1 kernel with this machine's userland, and
# Debian 13's 6.12 with Debian 13's (VM_TRIXIE=0 leaves the second out).
if [ "$novm" -eq 0 ] && [ -x tests/vm/run-vm.sh ]; then
	run_suite_bg vm "vm/suite" "$HOST_USERLAND" tests/vm/run-vm.sh
	if [ "${VM_TRIXIE:-1}" != 0 ] || [[ "$pattern" == vm/trixie* ]]; then
		run_suite_bg vm "vm/trixie" "Debian 13" tests/vm/run-vm.sh --release trixie
	fi
fi

for t in tests/integration/*.sh; do
	[ -e "$t" ] || continue
	run_suite integration "integration/$(basename "$t" .sh)" "$HOST_USERLAND" bash "$t"
done

bg_collect

echo
echo "=== Summary (which suite ran with which kernel + userland)"
printf '%s\n' "${summary_rows[@]}"
[ "$total_overrun" -eq 0 ] ||
	echo "$total_overrun suite(s) OVERRUN: stopped by the hang watchdog, not failed by a check (see their rows)"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
