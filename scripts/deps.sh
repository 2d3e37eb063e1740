#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Installs the Debian packages a task needs, and only those that are missing.
# Usage: scripts/deps.sh build|demo|test|bench|package|all
# Without root it only lists what is missing and fails if anything is.

set -eu

# Names that differ between releases: clang's runtime (sanitizers) is
# versioned like clang itself, and systemd.pc moved to systemd-dev in Debian 13.
. /etc/os-release 2>/dev/null || VERSION_CODENAME=""
case "${VERSION_CODENAME:-}" in
bookworm) clang_major=14 systemd_pc=systemd ;;
trixie) clang_major=19 systemd_pc=systemd-dev ;;
*)
	# A later release: ask apt which clang-N its clang is.
	clang_major=$(apt-cache depends clang 2>/dev/null |
		sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -n 1)
	systemd_pc=systemd-dev
	;;
esac
clang_rt=libclang-rt-${clang_major:-19}-dev

build="gcc make pkgconf clang llvm bpftool libbpf-dev libxdp-dev libelf-dev zlib1g-dev linux-libc-dev
       libmicrohttpd-dev"
demo="$build xdp-tools iproute2"
test="$demo jq socat tcpdump ethtool nftables man-db groff-base valgrind cppcheck clang-tidy gdb
      $clang_rt qemu-system-x86 mmdebstrap busybox-static cpio kmod procps psmisc
      python3 iputils-ping util-linux prometheus curl"
bench="$demo nftables"
package="$build debhelper dpkg-dev devscripts lintian rpm systemd $systemd_pc fakeroot bash-completion"

case "${1:-}" in
build) want=$build ;;
demo) want=$demo ;;
test) want="$test $package" ;;
bench) want=$bench ;;
package) want=$package ;;
all) want="$test $bench $package" ;;
*)
	echo "usage: $0 build|demo|test|bench|package|all" >&2
	exit 2
	;;
esac

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "missing Debian packages:$missing" >&2
	echo "run as root, or: apt-get install$missing" >&2
	exit 1
fi
echo "Installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
# Another apt or dpkg (a second test run, unattended-upgrades) may hold the
# lock: wait for it (DEPS_LOCK_TIMEOUT seconds, 900) instead of failing.
lock_wait=${DEPS_LOCK_TIMEOUT:-900}
apt_locked() {
	err=$(mktemp)
	i=0
	while ! apt-get -o DPkg::Lock::Timeout="$lock_wait" "$@" 2>"$err"; do
		# apt 2.6 waits for dpkg's lock, not for the lists lock of
		# update: retry that, a bounded number of times. Other errors
		# are final.
		if ! grep -qi 'lock' "$err" || [ $i -ge $((lock_wait / 10)) ]; then
			cat "$err" >&2
			rm -f "$err"
			return 1
		fi
		i=$((i + 1))
		sleep 10
	done
	cat "$err" >&2
	rm -f "$err"
}
apt_locked update -qq
# shellcheck disable=SC2086
apt_locked install -y -qq --no-install-recommends $missing >/dev/null
