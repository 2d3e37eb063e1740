#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: the program-cost half (bench/progcost) and the end-to-end
# half (bench/e2e.sh), one after the other, everything printed.
# BENCH_QUICK=1 (or --quick) is the short mode CI runs: fewer, shorter
# rounds, seconds instead of minutes; its figures are for checking that the
# benchmark works, not for quoting.
#
# Exit status: 0 if both halves ran; targets never change it.

set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1

quick=()
case "${BENCH_QUICK:-}" in
"" | 0) ;;
*) quick=(--quick) ;;
esac
[ "${1:-}" = --quick ] && quick=(--quick)

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (BPF_PROG_TEST_RUN, namespaces, XDP)" >&2
	exit 1
fi
scripts/deps.sh bench || exit 1

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

echo "xdp-portredir benchmark${quick:+ (quick mode)}: $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) CPUs"
echo "load average at start: $(loadavg)   (other work on the machine slows and scatters the figures;"
echo "the ratios, taken within each interleaved round, are what to compare)"

rc=0
bench/progcost "${quick[@]}" || rc=1
bench/e2e.sh "${quick[@]}" || rc=1

echo "load average at end: $(loadavg)"
exit $rc
