# SPDX-License-Identifier: GPL-2.0
# Where run-vm.sh takes the guest's userland from (source it from run-vm.sh).
# Without --release: this machine (its binaries, libraries, apt and the build
# in the source tree). With --release REL: the REL root of tests/distro
# (root.bash), whose apt names the kernel and whose tools, libraries, libxdp
# and our build (made there with REL's toolchain) go into the guest.
#
# UL is the userland's root on this machine ("" for the host); paths given to
# the ul_* functions are paths inside it.

UL=""

# ul_setup RELEASE: sets UL and BTOP (the built project tree), building the
# project in the root when its build is missing or older than the sources.
ul_setup() {
	local rel=$1 newer
	# shellcheck source=tests/distro/root.bash
	. "$TOP/tests/distro/root.bash"
	distro_root "$rel" >&2 || die "no $rel root (tests/distro/root.bash; see above)"
	UL=$DROOT
	BTOP=$UL$DISTRO_BUILD
	if [ -e "$BTOP.built" ]; then
		newer=$(cd "$TOP" && git ls-files -z 2>/dev/null |
			xargs -0 -r sh -c 'for f; do [ "$f" -nt "$0" ] && echo "$f"; done' "$BTOP.built" | head -n 1)
		[ -z "$newer" ] && return 0
		note "$newer changed since the $rel build: building again in the $rel root"
	else
		note "building the project in the $rel root"
	fi
	rm -f "$BTOP.built"
	distro_copy_project "$DISTRO_BUILD" || die "cannot copy the project into the $rel root"
	in_root sh -c "cd $DISTRO_BUILD && ./configure >/dev/null && make -j$(nproc) >/dev/null" ||
		die "the build in the $rel root failed (tests/distro/$rel.sh shows why)"
	touch "$BTOP.built"
}

# ul CMD...: runs CMD in the userland (a plain chroot: ldd, readlink, dpkg-query).
ul() {
	if [ -n "$UL" ]; then chroot "$UL" "$@"; else "$@"; fi
}

# ul_which NAME: the command's path in the userland, like type -P.
ul_which() {
	local d
	if [ -z "$UL" ]; then
		type -P "$1" 2>/dev/null
		return
	fi
	for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
		[ -x "$UL$d/$1" ] && [ ! -d "$UL$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	return 1
}

# ul_apt CMD...: apt in the userland (the root gets /proc, /dev and the
# network like tests/distro's rows).
ul_apt() {
	if [ -n "$UL" ]; then in_root "$@"; else "$@"; fi
}

# ul_download PKG DIR: apt-get download PKG into DIR (a host path; inside the
# root when there is one).
ul_download() {
	if [ -n "$UL" ]; then
		in_root sh -c "cd '${2#"$UL"}' && apt-get download -q '$1'"
	else
		(cd "$2" && apt-get download -q "$1")
	fi
}
