#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Static analysis in CI: `make cppcheck` (lib/, xdp-portredir/, tests/tools/)
# and `make clang-tidy` (lib/, xdp-portredir/, checks in .clang-tidy) must be
# clean, and each must fail on a file with defects it is meant to find, so
# a clean result means something. Installs cppcheck and clang-tidy from
# Debian if missing.

T_SUITE=static
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1
WORK=$(mktemp -d)
t_on_exit rm -rf "$WORK"

missing=""
command -v cppcheck >/dev/null || missing="$missing cppcheck"
command -v clang-tidy >/dev/null || missing="$missing clang-tidy"
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive t_long 900 apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null 2>&1
fi

# run NAME TARGET [MAKE-VARS...]: the make target must pass.
run() {
	local name=$1 target=$2 out rc start=$SECONDS
	shift 2
	out=$(t_long 1800 make --no-print-directory -s "$target" "$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		t_pass "$name: clean in $((SECONDS - start)) s"
	else
		t_fail "$name" "exit $rc: $(grep -E 'error|warning' <<<"$out" | head -n 20 | tr '\n' ' ')"
	fi
}

# A file with one defect for each tool to find: an out-of-bounds write and
# a leak (cppcheck), an uninitialised read and an unchecked conversion
# (clang-tidy: clang-analyzer-core, cert-err34-c).
cat >"$WORK/defects.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>

int defects(int i, const char *s)
{
	int a[4], v, n;
	char *p = malloc(8);

	a[4] = i;
	if (i > 2)
		n = 1;
	sscanf(s, "%d", &v);
	return a[0] + (p != NULL) + n + v;
}
EOF
# can_fail NAME TARGET WANT_REGEX VARS...: the target must fail on the file
# and name the defect.
can_fail() {
	local name=$1 target=$2 want=$3 out rc
	shift 3
	out=$(t_long 900 make --no-print-directory -s "$target" "$@" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && grep -Eq "$want" <<<"$out"; then
		t_pass "$name"
	else
		t_fail "$name" "exit $rc, '$want' not reported: $(head -c 600 <<<"$out" | tr '\n' ' ')"
	fi
}

if command -v cppcheck >/dev/null; then
	run cppcheck cppcheck
	can_fail cppcheck-can-fail cppcheck 'arrayIndexOutOfBounds.*|memleak' STATIC_SRCS="$WORK/defects.c"
else
	t_fail cppcheck "cppcheck is not installed (Debian package cppcheck)"
fi
if command -v clang-tidy >/dev/null; then
	run clang-tidy clang-tidy
	can_fail clang-tidy-can-fail clang-tidy 'cert-err34-c' TIDY_SRCS="$WORK/defects.c"
	can_fail clang-tidy-analyzer-can-fail clang-tidy 'clang-analyzer-core' TIDY_SRCS="$WORK/defects.c"
else
	t_fail clang-tidy "clang-tidy is not installed (Debian package clang-tidy)"
fi
t_done
