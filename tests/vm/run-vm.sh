#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs the test suite on another kernel: a Debian release's cloud kernel in
# qemu (TCG, no KVM needed), with an initramfs built from the current build
# tree and this machine's userland (Debian 12's kernel and userland here), or
# with --release REL, REL's kernel and REL's userland from its tests/distro
# root, with the project built there.
# This is where libxdp's multiprog dispatcher can be proven: the host kernel
# may refuse freplace (lockdown), the VM's kernel does not.
#
# Usage: tests/vm/run-vm.sh [-k PATTERN | --all] [--log FILE] [--timeout SECS]
#                           [--keep] [--shell] [--release REL]
#   -k PATTERN      run only suites whose name contains PATTERN (unit/...,
#                   integration/..., vm/<scenario>)
#   --all           every suite but tests/vm/host-only's (default: the
#                   selection in tests/vm/suites, plus the scenarios)
#   --log FILE      where to keep the serial log (default build/vm/last.log)
#   --timeout SECS  bound on the whole VM run, a hang bound (default 4500,
#                   or $VM_TIMEOUT; the slower row took 1113 s beside the
#                   host suites and the other row on an idle machine)
#   --keep          keep the initramfs and its staging tree in build/vm/
#   --shell         boot to an interactive shell instead of running the suite
#   --release REL   REL's kernel and userland (trixie); build dir build/vm-REL
#
# The project must be built first (make). Output: the guest's result lines,
# each suite header labelled with the VM's kernel, then "N passed, N failed";
# the exit status is nonzero if anything failed, the guest hung, panicked or
# never reported a result. A suite the guest's watchdog stopped, or a guest
# still running at --timeout, is an OVERRUN line (and a failure).
#
# The kernel is whatever linux-image-cloud-amd64 depends on today, so the
# row follows Debian's 6.1 builds; "vm: booted kernel RELEASE from PACKAGE
# VERSION" names it, and the cache in build/vm/kernel/ is keyed by both.

set -u -o pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BTOP=$TOP
GUEST_TOP=/opt/xdp-portredir
MEM=${VM_MEM:-1024}
SMP=${VM_SMP:-2}
# Kernel modules the suites need; their dependencies come along.
MODULES="veth dummy 8021q sch_ingress cls_bpf act_bpf nf_tables nft_chain_nat nft_nat nft_redir nft_ct nft_reject_inet"
LIBXDP_OBJDIR=/usr/lib/x86_64-linux-gnu/bpf

pattern="" log="" timeout_s=${VM_TIMEOUT:-4500} keep=0 mode=suite all=0 release=""
usage() {
	echo "usage: $0 [-k PATTERN | --all] [--log FILE] [--timeout SECS] [--keep] [--shell] [--release REL]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case "$1" in
	-k) [ $# -ge 2 ] || usage; pattern=$2; shift ;;
	--log) [ $# -ge 2 ] || usage; log=$2; shift ;;
	--timeout) [ $# -ge 2 ] || usage; timeout_s=$2; shift ;;
	--keep) keep=1 ;;
	--all) all=1 ;;
	--shell) mode=shell ;;
	--release) [ $# -ge 2 ] || usage; release=$2; shift ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
	shift
done
[[ "$timeout_s" =~ ^[1-9][0-9]*$ ]] || { echo "run-vm.sh: --timeout wants seconds" >&2; exit 2; }
[[ "$release" =~ ^[a-z]*$ ]] || { echo "run-vm.sh: --release wants a Debian codename" >&2; exit 2; }
VMDIR=${VM_BUILD_DIR:-$TOP/build/vm${release:+-$release}}
log=${log:-$VMDIR/last.log}
t_start=$SECONDS

die() {
	echo "run-vm.sh: $*" >&2
	echo "FAIL vm/setup: $*"
	echo "0 passed, 1 failed"
	exit 1
}
note() { echo "vm: $*"; }
. "$TOP/tests/vm/userland.bash"
. "$TOP/tests/vm/modules.bash"

mkdir -p "$VMDIR" || die "cannot create $VMDIR"
# Two runs in one build dir would share the staging tree.
exec 9>"$VMDIR/.lock"
if command -v flock >/dev/null && ! flock -w 600 9; then
	die "another run-vm.sh holds $VMDIR/.lock"
fi

# --- Host packages -----------------------------------------------------------

# command:package pairs; kmod gives the guest a real modprobe/depmod.
need_pkgs() {
	local pair missing=""
	for pair in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static \
		cpio:cpio depmod:kmod; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
	done
	echo "$missing"
}
export PATH=$PATH:/usr/sbin:/sbin
missing=$(need_pkgs)
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		die "missing Debian packages:$missing (run as root, or apt-get install --no-install-recommends$missing)"
	fi
	note "installing Debian packages:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null || die "apt-get update failed"
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $missing >/dev/null ||
		die "apt-get install$missing failed"
fi

# --- The kernel --------------------------------------------------------------

# Prints "PACKAGE_VERSION": the versioned package that linux-image-cloud-amd64
# depends on and apt's candidate version of it (the name of its cache dir).
kernel_pkg() {
	local pkg ver
	pkg=$(ul apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	[ -n "$pkg" ] || return 1
	ver=$(ul apt-cache show --no-all-versions "$pkg" 2>/dev/null | awk '$1 == "Version:" { print $2; exit }')
	[ -n "$ver" ] || return 1
	echo "${pkg}_$ver"
}

# download_kernel PACKAGE_VERSION: apt-get download + dpkg -x into
# $VMDIR/kernel/PACKAGE_VERSION.
download_kernel() {
	local pkg=$1 dl=${UL:+$UL/var/tmp}/download.$$ deb dir=$VMDIR/kernel/$1
	[ -n "$UL" ] || dl=$VMDIR/download.$$
	note "downloading ${pkg/_/ }"
	rm -rf "$dl" "$dir" "$dir.tmp"
	mkdir -p "$dl" "$dir.tmp"
	if ul_download "${pkg/_/=}" "$dl" >/dev/null 2>&1 &&
		deb=$(ls "$dl"/*.deb 2>/dev/null | head -n 1) && [ -n "$deb" ] &&
		dpkg -x "$deb" "$dir.tmp"; then
		mv "$dir.tmp" "$dir" && touch "$dir/.complete"
	fi
	rm -rf "$dl" "$dir.tmp"
	[ -e "$dir/.complete" ]
}

# Sets KDIR (the unpacked package) and KVER. Downloads only when the package
# apt names is not cached yet; then older cached kernels go.
fetch_kernel() {
	local pkg="" root=0 k
	[ "$(id -u)" -eq 0 ] && root=1
	pkg=$(kernel_pkg)
	if [ -n "$pkg" ] && [ -e "$VMDIR/kernel/$pkg/.complete" ]; then
		KDIR=$VMDIR/kernel/$pkg
	elif [ -n "$pkg" ] && download_kernel "$pkg"; then
		KDIR=$VMDIR/kernel/$pkg
	elif [ $root -eq 1 ] && ul_apt apt-get update -qq >/dev/null 2>&1 &&
		pkg=$(kernel_pkg) && [ -n "$pkg" ] &&
		{ [ -e "$VMDIR/kernel/$pkg/.complete" ] || download_kernel "$pkg"; }; then
		# No lists yet, or stale ones naming a version the mirror dropped.
		KDIR=$VMDIR/kernel/$pkg
	else
		# No apt metadata or no network: the newest cached kernel will do.
		KDIR=$(ls -d "$VMDIR"/kernel/*/.complete 2>/dev/null | sort -V | tail -n 1)
		[ -n "$KDIR" ] ||
			die "cannot get linux-image-cloud-amd64's kernel package${pkg:+ ($pkg)} with apt, and none is cached in $VMDIR/kernel"
		KDIR=${KDIR%/.complete}
		note "apt gave no cloud kernel; using the cached ${KDIR##*/}"
	fi
	for k in "$VMDIR"/kernel/*; do
		[ "$k" = "$KDIR" ] || rm -rf "$k"
	done
	KPKG=${KDIR##*/}
	KPKG=${KPKG/_/ }
	VMLINUZ=$(ls "$KDIR"/boot/vmlinuz-* 2>/dev/null | head -n 1)
	[ -n "$VMLINUZ" ] || die "no boot/vmlinuz-* in $KDIR"
	KVER=${VMLINUZ##*/vmlinuz-}
	# Debian 13's kernel packages moved the modules to /usr/lib.
	KMODDIR=$KDIR/lib/modules/$KVER
	[ -d "$KMODDIR" ] || KMODDIR=$KDIR/usr/lib/modules/$KVER
	[ -d "$KMODDIR" ] || die "no lib/modules/$KVER or usr/lib/modules/$KVER in $KDIR"
}

# --- The initramfs -----------------------------------------------------------

ROOT=$VMDIR/root
declare -A COPIED=()

is_elf() { [ "$(head -c 4 "$1" 2>/dev/null)" = $'\x7fELF' ]; }

# copy_libs FILE: every library the dynamic loader maps for FILE.
copy_libs() {
	local lib
	for lib in $(ul ldd "$1" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'); do
		copy_path "$lib" nolibs
	done
}

# copy_path PATH [nolibs]: copies a userland file to the same path in the guest.
# Symlinks stay symlinks (to the final target) so alternatives and kmod's
# multi-call links cost one copy.
copy_path() {
	local p=$1 real
	[ -n "${COPIED[$p]:-}" ] && return 0
	COPIED[$p]=1
	if [ -L "$UL$p" ]; then
		real=$(ul readlink -f "$p") || return 1
		copy_path "$real" "${2:-}" || return 1
		[ "$real" = "$p" ] && return 0
		mkdir -p "$ROOT${p%/*}" && ln -sfn "$real" "$ROOT$p"
		return
	fi
	[ -f "$UL$p" ] || return 1
	mkdir -p "$ROOT${p%/*}" && cp "$UL$p" "$ROOT$p" || return 1
	if [ "${2:-}" != nolibs ] && [ -x "$UL$p" ] && is_elf "$UL$p"; then
		copy_libs "$p"
	fi
}

# copy_tool NAME...: copies each command the host has; adds the others to
# MISSING_TOOLS.
copy_tool() {
	local t p
	for t in "$@"; do
		p=$(ul_which "$t")
		if [ -n "$p" ]; then
			copy_path "$p"
		else
			MISSING_TOOLS="$MISSING_TOOLS $t"
		fi
	done
}

build_initramfs() {
	local d f t
	rm -rf "$ROOT"
	mkdir -p "$ROOT" || die "cannot create $ROOT"
	# Debian 12 is merged-/usr: keep the same shape so ldd's paths work.
	mkdir -p "$ROOT"/usr/{bin,sbin,lib,lib64,libexec/busybox} \
		"$ROOT"/{dev,proc,sys,tmp,run,root,etc,opt,var/tmp,mnt}
	ln -s usr/bin "$ROOT/bin"
	ln -s usr/sbin "$ROOT/sbin"
	ln -s usr/lib "$ROOT/lib"
	ln -s usr/lib64 "$ROOT/lib64"
	ln -s ../run "$ROOT/var/run"

	# A line per stage: on a loaded host this takes minutes, and the hang
	# watchdog (tests/watchdog.bash) takes long silence for a hang.
	note "initramfs: tools and their libraries"
	MISSING_TOOLS=""
	copy_tool bash mount timeout mktemp ip xdp-loader xdp-filter
	[ -z "$MISSING_TOOLS" ] || die "host lacks$MISSING_TOOLS (needed in the guest)"

	# coreutils whole (the suites use many of them; it is 7 MB), the rest
	# by name. Busybox fills in whatever is absent.
	if ul dpkg-query -L coreutils >/dev/null 2>&1; then
		for f in $(ul dpkg-query -L coreutils | grep -E '^/(usr/)?s?bin/'); do
			[ -f "$UL$f" ] && [ -x "$UL$f" ] && copy_path "$f"
		done
	else
		copy_tool cat cp mv rm ln ls mkdir rmdir chmod chown touch stat \
			sort uniq seq head tail wc cut tr date sleep timeout mktemp \
			sha256sum md5sum id env printf echo test true false yes \
			basename dirname readlink realpath tee od nproc dd sync \
			tac paste expr du df uname
	fi
	copy_tool sh dash grep egrep fgrep sed awk gawk mawk find xargs \
		umount unshare nsenter setpriv flock mountpoint setsid taskset \
		prlimit dmesg lsns ps pkill pgrep pidof kill sysctl \
		modprobe insmod rmmod lsmod depmod modinfo \
		tc ss nstat ethtool tcpdump socat nft jq xdpdump bpftool \
		ping nc killall fuser diff cmp hostname getent gzip xxd hexdump

	# /bin/sh: keep the host's choice if it came along, else bash.
	[ -e "$ROOT/usr/bin/sh" ] || ln -s bash "$ROOT/usr/bin/sh"
	# glibc's C.UTF-8 locale, as the host's test runs most likely have.
	mkdir -p "$ROOT/usr/lib/locale"
	[ -d "$UL/usr/lib/locale/C.utf8" ] && cp -r "$UL/usr/lib/locale/C.utf8" "$ROOT/usr/lib/locale/" 2>/dev/null

	t=$(ul_which busybox)
	copy_path "$t"
	t=$(ul readlink -f "$t")
	for f in $(ul "$t" --list); do
		ln -s "$t" "$ROOT/usr/libexec/busybox/$f"
	done
	# The kernel's module autoloader calls /sbin/modprobe.
	[ -e "$ROOT/usr/sbin/modprobe" ] || ln -s "$t" "$ROOT/usr/sbin/modprobe"

	# libxdp's dispatcher and xdp-filter's programs.
	for f in "$UL$LIBXDP_OBJDIR"/*.o; do
		[ -e "$f" ] && copy_path "${f#"$UL"}"
	done

	note "initramfs: kernel modules"
	# Kernel modules and their dependencies.
	d=$ROOT/usr/lib/modules/$KVER
	mkdir -p "$d"
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[ -e "$KMODDIR/$f" ] && cp "$KMODDIR/$f" "$d/"
	done
	# shellcheck disable=SC2086 # one module name per word
	for f in $(module_closure $MODULES); do
		mkdir -p "$d/${f%/*}"
		cp "$KMODDIR/$f" "$d/$f"
	done
	VM_DEPMOD=1
	if command -v depmod >/dev/null && depmod -b "$ROOT" "$KVER" 2>/dev/null; then
		VM_DEPMOD=0
	fi

	# Minimal /etc: tcpdump drops privileges to its own user.
	cat >"$ROOT/etc/passwd" <<-EOF
		root:x:0:0:root:/root:/bin/bash
		tcpdump:x:101:101:tcpdump:/nonexistent:/usr/sbin/nologin
		nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
	EOF
	cat >"$ROOT/etc/group" <<-EOF
		root:x:0:
		tcpdump:x:101:
		nogroup:x:65534:
	EOF
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
	# os-release: the guest's tests/run.sh names its userland from it.
	for f in /etc/protocols /etc/services /etc/nsswitch.conf /etc/ethertypes /etc/os-release /usr/lib/os-release; do
		[ -f "$UL$f" ] && cp "$UL$f" "$ROOT$f"
	done
	ln -s /proc/self/mounts "$ROOT/etc/mtab"
	if [ -f "$UL/etc/ld.so.conf" ]; then
		cp "$UL/etc/ld.so.conf" "$ROOT/etc/"
		[ -d "$UL/etc/ld.so.conf.d" ] && cp -r "$UL/etc/ld.so.conf.d" "$ROOT/etc/"
		ldconfig -X -r "$ROOT" 2>/dev/null
	fi

	note "initramfs: the project tree"
	# The project tree, at the same relative layout so tests/lib.sh finds
	# everything from its own location.
	d=$ROOT$GUEST_TOP
	mkdir -p "$d"
	tar -C "$BTOP" --exclude='*.o' --exclude='*.a' -cf - tests | tar -C "$d" -xf - ||
		die "cannot copy tests/"
	# Suites that cannot work in the guest (tests/vm/host-only) are left
	# out, so tests/run.sh there does not see them; the run says so.
	HOST_ONLY=""
	while read -r f _; do
		case "$f" in '' | '#'*) continue ;; esac
		for t in "$BTOP"/$f; do
			[ -e "$t" ] || continue
			rm -f "$d/${t#"$BTOP"/}"
			t=${t#"$BTOP"/tests/}
			HOST_ONLY="$HOST_ONLY ${t%.sh}"
		done
	done <"$BTOP/tests/vm/host-only"
	for f in xdp-portredir/xdp-portredir bpf/*.o bpf/*.h tests/tools/*.bpf.o scripts VERSION README.md man; do
		for t in "$BTOP"/$f; do
			[ -e "$t" ] || continue
			mkdir -p "$d/$(dirname "${t#"$BTOP"/}")"
			cp -r "$t" "$d/${t#"$BTOP"/}"
		done
	done
	while IFS= read -r f; do
		is_elf "$f" && copy_libs "${BTOP#"$UL"}/${f#"$d"/}"
	done < <(find "$d" -type f -perm -u+x)

	cp "$BTOP/tests/vm/init" "$ROOT/init" && chmod 755 "$ROOT/init"
	{
		printf 'VM_TOP=%q\n' "$GUEST_TOP"
		printf 'VM_PATTERN=%q\n' "$pattern"
		printf 'VM_MODULES=%q\n' "$MODULES"
		printf 'VM_MODE=%q\n' "$mode"
		printf 'VM_ALL=%q\n' "$all"
		printf 'VM_DEPMOD=%q\n' "$VM_DEPMOD"
		# Test hooks only (tests/integration/91-vm-crash-resume.sh).
		printf 'VM_CRASH_AT_UNIT=%q\n' "${VM_CRASH_AT_UNIT:-0}"
		printf 'VM_CRASH_EVERY_BOOT=%q\n' "${VM_CRASH_EVERY_BOOT:-0}"
		# The guest's hang watchdog fires before the host's (it watches
		# this output), and its cap leaves time to report within --timeout.
		printf 'VM_SUITE_IDLE=%q\n' "$((${SUITE_IDLE_TIMEOUT:-900} * 2 / 3))"
		printf 'VM_SUITE_CAP=%q\n' "$((timeout_s * 4 / 5))"
	} >"$ROOT/etc/xdp-portredir-vm.conf"

	note "initramfs: packing"
	# zstd unpacks fastest in the guest; gzip is the fallback everyone has.
	local pack=(gzip -1) ext=gz
	command -v zstd >/dev/null && pack=(zstd -q -3 -T0) ext=zst
	INITRD=$VMDIR/initramfs.cpio.$ext
	rm -f "$VMDIR"/initramfs.cpio*
	(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
		"${pack[@]}" >"$INITRD" || die "cannot pack the initramfs"
}

# --- Preconditions: a built tree ---------------------------------------------

[ -z "$release" ] || ul_setup "$release"

built_missing=""
have_any=0
for f in "$BTOP"/xdp-portredir/xdp-portredir.c "$BTOP"/tests/unit/test_*.c "$BTOP"/tests/tools/*.c; do
	[ -e "$f" ] || continue
	case $f in *.bpf.c) continue ;; esac # BPF objects, not programs
	f=${f%.c}
	if [ -x "$f" ]; then have_any=1; else built_missing="$built_missing ${f#"$BTOP"/}"; fi
done
[ -x "$BTOP/xdp-portredir/xdp-portredir" ] && have_any=1 ||
	built_missing="$built_missing xdp-portredir/xdp-portredir"
[ "$have_any" -eq 1 ] || die "nothing is built: run make first"
[ -z "$built_missing" ] ||
	note "warning: not built:$built_missing (run make first); suites that need them fail in the guest"

fetch_kernel
t0=$SECONDS
build_initramfs
[ -n "$MISSING_TOOLS" ] && note "host lacks (busybox stands in where it can):$MISSING_TOOLS"
[ -n "$HOST_ONLY" ] && note "host-only suites, not run in the VM:$HOST_ONLY"
for f in $HOST_ONLY; do
	[ -n "$pattern" ] && [[ "$f" == *"$pattern"* ]] &&
		note "$f matches -k '$pattern' but is host-only (tests/vm/host-only): run it on the host"
done
size_kb=$(($(stat -c %s "$INITRD") / 1024))
note "booted kernel $KVER from $KPKG"
note "kernel $KVER, initramfs $((size_kb / 1024)) MB ($size_kb KiB), built in $((SECONDS - t0)) s"
[ "$keep" -eq 1 ] || rm -rf "$ROOT"

# --- Boot --------------------------------------------------------------------

APPEND="console=ttyS0 quiet rdinit=/init panic=-1 oops=panic"
QEMU=(qemu-system-x86_64 -accel tcg -m "$MEM" -smp "$SMP" -nographic -no-reboot
	-net none -kernel "$VMLINUZ" -initrd "$INITRD")

if [ "$mode" = shell ]; then
	note "interactive shell on the serial console; leave with 'poweroff -f' (or Ctrl-A x)"
	"${QEMU[@]}" -append "$APPEND"
	rc=$?
	[ "$keep" -eq 1 ] || rm -f "$INITRD"
	exit $rc
fi

mkdir -p "$(dirname "$log")"
: >"$log" || die "cannot write $log"
rcfile=$VMDIR/qemu.rc.$$

# boot_guest [KERNEL-ARGS]: one boot, its output relayed as it comes. Sets
# gver, t_boot, marker (the VMRESULT numbers), unit_done and unit_totals
# (the last VMUNIT: units finished and the totals then), seen_pass and
# seen_fail (result lines of the unit it was in), qrc, t_vm.
boot_guest() {
	local line t_qemu=$SECONDS
	gver="" marker="" t_boot="" seen_pass=0 seen_fail=0 unit_done=0
	unit_totals="0 0 0 0 0"
	rm -f "$rcfile"
	# Terminal escapes (SeaBIOS clears the screen) and CRs off; lines as they come.
	while IFS= read -r line || [ -n "$line" ]; do
		printf '%s\n' "$line" >>"$log"
		if [[ "$line" =~ VMKERNEL\ ([^[:space:]]+) ]]; then
			gver=${BASH_REMATCH[1]}
			t_boot=$((SECONDS - t_qemu))
		fi
		if [[ "$line" =~ VMRESULT\ passed=([0-9]+)\ failed=([0-9]+)\ skipped=([0-9]+)\ suites=([0-9]+)\ overrun=([0-9]+) ]]; then
			marker="${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]} ${BASH_REMATCH[4]} ${BASH_REMATCH[5]}"
			continue
		fi
		if [[ "$line" =~ VMUNIT\ done=([0-9]+)\ passed=([0-9]+)\ failed=([0-9]+)\ skipped=([0-9]+)\ suites=([0-9]+)\ overrun=([0-9]+) ]]; then
			unit_done=${BASH_REMATCH[1]}
			unit_totals="${BASH_REMATCH[2]} ${BASH_REMATCH[3]} ${BASH_REMATCH[4]} ${BASH_REMATCH[5]} ${BASH_REMATCH[6]}"
			seen_pass=0 seen_fail=0
			continue
		fi
		# Interleaved kernel messages can push a result line off column 0: put
		# it back on a line of its own so readers of this output see it.
		if [[ "$line" =~ ^(.*[^[:alnum:]_])?((PASS|FAIL|SKIP|OVERRUN)\ [^[:space:]]+/.*)$ ]]; then
			[ -n "${BASH_REMATCH[1]}" ] && printf '%s\n' "${BASH_REMATCH[1]}"
			line=${BASH_REMATCH[2]}
			case "$line" in
			PASS*) seen_pass=$((seen_pass + 1)) ;;
			FAIL* | OVERRUN*) seen_fail=$((seen_fail + 1)) ;;
			esac
		elif [[ "$line" =~ ^(.*[^[:alnum:]_])?(===\ \[.*)$ ]]; then
			[ -n "${BASH_REMATCH[1]}" ] && printf '%s\n' "${BASH_REMATCH[1]}"
			line=${BASH_REMATCH[2]}
		fi
		# tests/run.sh in the guest calls its kernel "host"; here it is the VM.
		[ -n "$gver" ] && line=${line//"[host $gver"/"[vm $gver"}
		printf '%s\n' "$line"
	done < <(
		# --foreground: qemu stays in this process group, which a watchdog stops.
		timeout --foreground --kill-after=5 "$timeout_s" "${QEMU[@]}" \
			-append "$APPEND${1:+ $1}" </dev/null 2>&1 |
			sed -u -E 's/\x1b\[[0-9;?]*[ -/]*[@-~]//g; s/\x1b[()][0-9A-Za-z]//g; s/\x1b[=>c78]//g; s/\r//g'
		echo "${PIPESTATUS[0]}" >"$rcfile"
	)
	qrc=$(cat "$rcfile" 2>/dev/null || echo 255)
	rm -f "$rcfile"
	t_vm=$((SECONDS - t_qemu))
}

# The first line of a guest kernel crash in the serial log.
crash_line() {
	grep -m1 -E 'Kernel panic|Oops|BUG:|general protection fault|double fault' "$log"
}

boot_guest
resumed=""
# A guest kernel that crashed (its oops or panic in the log) is not a result
# of the tests: boot once more and go on from the unit it was in, which runs
# again whole; nothing is counted twice and nothing is left out. A second
# crash is a failure. Under TCG, guest timing follows the host's load.
if [ -z "$marker" ] && [ -n "$gver" ] && [ "$qrc" -ne 124 ] && [ "$qrc" -ne 137 ] &&
	crash=$(crash_line) && [ -n "$crash" ]; then
	echo "CRASH vm/guest: the guest kernel crashed in unit $((unit_done + 1)) (${crash#*] }); booting again from that unit"
	echo "--- last 60 lines of the serial log ($log) ---"
	tail -n 60 "$log"
	echo "--- end of serial log ---"
	read -r p1 f1 s1 n1 o1 <<<"$unit_totals"
	skip1=$unit_done t_vm1=$t_vm
	echo "=== second boot: prskip=$skip1" >>"$log"
	boot_guest "prskip=$skip1"
	resumed="; the guest kernel crashed once (${crash#*] }) and a second boot went on from unit $((skip1 + 1)) (first boot ${t_vm1} s)"
	t_vm=$((t_vm + t_vm1))
	if [ -n "$marker" ]; then
		read -r p2 f2 s2 n2 o2 <<<"$marker"
		marker="$((p1 + p2)) $((f1 + f2)) $((s1 + s2)) $((n1 + n2)) $((o1 + o2))"
	else
		read -r up uf _ <<<"$unit_totals"
		seen_pass=$((p1 + up + seen_pass)) seen_fail=$((f1 + uf + seen_fail))
		unit_totals="0 0 0 0 0"
	fi
fi
[ "$keep" -eq 1 ] || rm -f "$INITRD"

passed=0 failed=0 skipped=0
if [ -n "$marker" ]; then
	read -r passed failed skipped suites overrun <<<"$marker"
	if [ "$overrun" -gt 0 ]; then
		echo "--- the guest stopped $overrun suite(s) at a timeout; last 60 lines of the serial log ($log) ---"
		tail -n 60 "$log"
		echo "--- end of serial log ---"
	fi
	if [ "$suites" -eq 0 ]; then
		echo "FAIL vm/suite: no suite matched '${pattern}'"
		failed=$((failed + 1))
	fi
	if [ "$qrc" -ne 0 ]; then
		echo "FAIL vm/poweroff: the guest reported its result but qemu ended with status $qrc"
		failed=$((failed + 1))
	fi
else
	verdict=FAIL
	if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		why="the guest did not finish within ${timeout_s} s (hang? --timeout / VM_TIMEOUT)"
		verdict=OVERRUN
	elif [ -z "$gver" ]; then
		why="the guest never came up (qemu status $qrc)"
	else
		why="the guest stopped without a result line (panic or crash? qemu status $qrc)"
	fi
	echo "$verdict vm/suite: $why"
	echo "--- last 60 lines of the serial log ($log) ---"
	tail -n 60 "$log"
	echo "--- end of serial log ---"
	# What the guest did report still counts.
	read -r up uf _ <<<"$unit_totals"
	passed=$((up + seen_pass))
	failed=$((uf + seen_fail + 1))
fi
note "kernel ${gver:-$KVER} ($KPKG): $skipped skipped; boot ${t_boot:-?} s, VM ${t_vm} s, whole stage $((SECONDS - t_start)) s, initramfs $((size_kb / 1024)) MB; serial log: $log$resumed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
