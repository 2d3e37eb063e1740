#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/vm/run-vm.sh after a guest kernel crash (issue 13): a guest whose
# kernel crashes is booted once more and goes on from the unit it was in,
# which runs again whole, so the row's totals count every check once; a
# second crash fails the row. The crash is a real one (sysrq 'c' in the
# guest at unit 1, the VM_CRASH_AT_UNIT test hook), on one small suite
# (unit/test_vocab), so each case costs two short boots. The build dir is
# private to this suite (the VM rows may be running beside it); the cached
# kernel is linked in, not fetched again, where there is one.

T_SUITE=vm-crash-resume
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1
WORK=$(mktemp -d)
t_on_exit rm -rf "$WORK"

expect=$(tests/unit/test_vocab 2>/dev/null | tail -n 1)
t_match host/test-vocab-count "$expect" '^[1-9][0-9]* passed, 0 failed$'

# run_vm NAME EVERY-BOOT: output in $WORK/NAME.out, exit status in rc.
run_vm() {
	mkdir -p "$WORK/$1/kernel"
	[ -d build/vm/kernel ] && cp -al build/vm/kernel/. "$WORK/$1/kernel/" 2>/dev/null
	VM_BUILD_DIR=$WORK/$1 VM_CRASH_AT_UNIT=1 VM_CRASH_EVERY_BOOT=$2 \
		t_long 3600 tests/vm/run-vm.sh -k unit/test_vocab --log "$WORK/$1.serial" \
		>"$WORK/$1.out" 2>&1
	rc=$?
}

run_vm once 0
out=$(cat "$WORK/once.out")
t_eq once/exit-status "$rc" 0
t_match once/crash-reported "$out" \
	'^CRASH vm/guest: the guest kernel crashed in unit 1 \(.*\); booting again from that unit$'
t_match once/crash-was-the-hook "$(cat "$WORK/once.serial")" 'sysrq triggered crash'
t_eq once/totals-count-each-check-once "$(tail -n 1 <<<"$out")" "$expect"
t_match once/note-says-so "$out" 'crashed once \(.*\) and a second boot went on from unit 1'

run_vm twice 1
out=$(cat "$WORK/twice.out")
t_eq twice/exit-status-nonzero "$([ "$rc" -ne 0 ] && echo nonzero)" nonzero
t_match twice/says-why "$out" '^FAIL vm/suite: the guest stopped without a result line'
t_match twice/counts-a-failure "$(tail -n 1 <<<"$out")" '^[0-9]+ passed, [1-9][0-9]* failed$'
t_done
