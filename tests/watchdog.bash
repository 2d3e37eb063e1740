# SPDX-License-Identifier: GPL-2.0
#
# Bounds hangs, not slowness: a suite runs for as long as it keeps printing.
# It is stopped only when it has printed nothing for SUITE_IDLE_TIMEOUT
# seconds (stuck), or when it has run SUITE_CAP seconds in all (a loop that
# keeps printing). Both sit far above what any suite needs on a loaded
# machine, so a busy host makes the run slower, never red. Sourced by
# tests/run.sh and tests/vm/guest-suite.sh.
#
#   SUITE_IDLE_TIMEOUT  seconds without output before a suite is stopped (900)
#   SUITE_CAP           seconds a suite may run in all (3600)
#   SUITE_TIMEOUT       older name for SUITE_CAP, still honoured

WD_IDLE=${SUITE_IDLE_TIMEOUT:-900}
WD_CAP=${SUITE_CAP:-${SUITE_TIMEOUT:-3600}}
WD_PID=""

# wd_tree PID: PID and every process below it (a `timeout` in a suite puts
# itself in a process group of its own, out of reach of the group's kill).
wd_tree() {
	ps -e -o pid= -o ppid= 2>/dev/null | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END {
			todo[1] = root; n = 1
			while (n > 0) {
				p = todo[n--]; print p
				c = split(kids[p], a, " ")
				for (i = 1; i <= c; i++) todo[++n] = a[i]
			}
		}'
}

# wd_stop: the running suite's processes get TERM, then KILL.
wd_stop() {
	local pids
	[ -n "$WD_PID" ] || return 0
	pids=$(wd_tree "$WD_PID")
	# shellcheck disable=SC2086 # one pid per word
	kill -TERM -- "-$WD_PID" $pids 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$WD_PID" 2>/dev/null || break
		sleep 1
	done
	# shellcheck disable=SC2086
	kill -KILL -- "-$WD_PID" $pids 2>/dev/null
}

# wd_run OUT CMD...: runs CMD in a process group of its own, its output both
# to stdout and to file OUT. Returns CMD's status and sets WD_OVERRUN to ""
# or to why the suite was stopped ("no output for N s" / "still running
# after N s").
wd_run() {
	local out=$1 size last=-1 quiet_since=$SECONDS start=$SECONDS rc
	shift
	WD_OVERRUN=""
	: >"$out"
	set -m
	(
		"$@" </dev/null 2>&1 | tee "$out"
		exit "${PIPESTATUS[0]}"
	) &
	WD_PID=$!
	set +m
	while kill -0 "$WD_PID" 2>/dev/null; do
		sleep 1
		size=$(stat -c %s "$out" 2>/dev/null || echo 0)
		if [ "$size" != "$last" ]; then
			last=$size quiet_since=$SECONDS
		elif [ $((SECONDS - quiet_since)) -ge "$WD_IDLE" ]; then
			WD_OVERRUN="no output for $WD_IDLE s (hung?)"
		fi
		[ $((SECONDS - start)) -ge "$WD_CAP" ] &&
			WD_OVERRUN="still running after $WD_CAP s (SUITE_CAP)"
		if [ -n "$WD_OVERRUN" ]; then
			wd_stop
			break
		fi
	done
	wait "$WD_PID" 2>/dev/null
	rc=$?
	WD_PID=""
	return $rc
}

# Stopping the runner stops the suite it is running.
trap 'wd_stop; exit 143' TERM
trap 'wd_stop; exit 130' INT
