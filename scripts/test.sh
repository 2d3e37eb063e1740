#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Builds xdp-portredir and runs its whole test suite (unit, host integration,
# and the second kernel in a VM). Run as root on Debian 12: it installs the
# Debian packages it needs that are missing, mounts bpffs if needed, and ends
# with the line "N passed, N failed".
#
# Usage: scripts/test.sh [tests/run.sh options, e.g. -k demo or --no-vm]

set -eu
cd "$(dirname "$0")/.."

scripts/deps.sh test
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
[ -f config.mk ] || ./configure
make -j"$(nproc)"
exec tests/run.sh "$@"
