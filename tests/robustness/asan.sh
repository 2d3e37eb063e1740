#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test suite with the userspace (CLI, library, unit tests, test tools)
# built with -fsanitize=address,undefined (the top Makefile's SANITIZE=1).
#
# The working tree as it is now (tracked and untracked files, not ignored
# ones) is copied to build/asan/src and built there, so the normal build is
# not touched. tests/run.sh --no-vm --no-distro runs in that copy, inside a network
# namespace with a private bpffs (tests/robustness/isolated.sh), so it can
# run while other suites use the host's lo and pin directory. Sanitizer
# reports go to files in build/asan/reports/ instead of stderr: a report
# from a command whose failure a test expects would otherwise go unseen.
# Fails if the run fails or any report was written.
#
# Usage: tests/robustness/asan.sh [--suites "NAME..."] [--no-build]
#   --suites   integration suites to run, by file name without .sh; default:
#              all but 88-sanitizers (this one), 89-static (does not run the
#              build), 90-fuzz (builds and runs its own ASan/UBSan fuzzers,
#              and makes them crash on purpose to prove its checks can fail)
#              and 80-bench-smoke (timing figures mean nothing under ASan)
#   --no-build reuse build/asan/src as it is

set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1
OUT=$TOP/build/asan
SRC=$OUT/src
REPORTS=$OUT/reports
suites="" build=1
while [ $# -gt 0 ]; do
	case "$1" in
	--suites) suites=$2; shift ;;
	--no-build) build=0 ;;
	*) echo "usage: $0 [--suites \"NAME...\"] [--no-build]" >&2; exit 2 ;;
	esac
	shift
done

if [ "$build" = 1 ]; then
	rm -rf "$SRC"
	mkdir -p "$SRC"
	# Files deleted in the work tree but still tracked are skipped.
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf - | tar -xf - -C "$SRC" || exit 1
	cp config.mk "$SRC/" || { echo "asan.sh: run ./configure first" >&2; exit 1; }
	# A repository of its own, holding exactly the copied files: suites
	# that ask git (make dist in 70-install) must not see the enclosing
	# work tree, in which build/ is ignored.
	git -C "$SRC" init -q && git -C "$SRC" add -A &&
		git -C "$SRC" -c user.name=asan -c user.email=asan@invalid commit -qm "asan copy" ||
		{ echo "asan.sh: cannot snapshot the copy in git" >&2; exit 1; }
	echo "asan.sh: building in $SRC with SANITIZE=1"
	if ! make -C "$SRC" -j"$(nproc)" SANITIZE=1 all robustness-tools >"$OUT/build.log" 2>&1; then
		tail -n 30 "$OUT/build.log"
		echo "asan.sh: the sanitizer build failed (log: $OUT/build.log)"
		exit 1
	fi
fi
nm "$SRC/xdp-portredir/xdp-portredir" | grep -q __asan_init ||
	{ echo "asan.sh: $SRC/xdp-portredir/xdp-portredir is not built with ASan"; exit 1; }

if [ -z "$suites" ]; then
	for t in "$SRC"/tests/integration/*.sh; do
		n=$(basename "$t" .sh)
		case "$n" in 88-sanitizers | 89-static | 90-fuzz | 80-bench-smoke) ;;
		*) suites="$suites $n" ;;
		esac
	done
fi
for t in "$SRC"/tests/integration/*.sh; do
	n=$(basename "$t" .sh)
	[[ " $suites " == *" $n "* ]] || rm -f "$t"
done
echo "asan.sh: suites:$suites"

rm -rf "$REPORTS"
mkdir -p "$REPORTS"
chmod 1777 "$REPORTS" # commands run as nobody write here too
# Errors are fatal (the build uses -fno-sanitize-recover=all); leaks count.
export ASAN_OPTIONS="log_path=$REPORTS/asan:log_exe_name=1:detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="log_path=$REPORTS/ubsan:log_exe_name=1:print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
[ -f "$TOP/tests/robustness/lsan.supp" ] &&
	export LSAN_OPTIONS="suppressions=$TOP/tests/robustness/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
export PR_IN_SANITIZER_RUN=1
# Suites that run make themselves (70-install) build sanitized too.
export SANITIZE=1

start=$SECONDS
(cd "$SRC" && "$TOP/tests/robustness/isolated.sh" tests/run.sh --no-vm --no-distro)
rc=$?
echo "asan.sh: suite run took $((SECONDS - start)) s, exit $rc"
n=$(find "$REPORTS" -type f | wc -l)
if [ "$n" -gt 0 ]; then
	echo "asan.sh: $n sanitizer report(s):"
	for f in "$REPORTS"/*; do
		echo "--- $f"
		head -n 40 "$f"
	done
	exit 1
fi
echo "asan.sh: no sanitizer reports"
exit "$rc"
