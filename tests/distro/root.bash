# SPDX-License-Identifier: GPL-2.0
# A Debian release's root tree for the distro rows (source it; needs bash and
# root). The root is made once with mmdebstrap from this machine's Debian
# mirror and cached like the VM kernel; the project is copied in and built
# there with that release's own toolchain.
#
#   distro_root RELEASE   sets DROOT (made or refreshed when missing/stale)
#   in_root CMD...        runs CMD in DROOT (chroot, own mount namespace with
#                         /proc, /sys, /dev and a fresh bpffs)
#   distro_copy_project DIR   the project's files (no build products) to DIR
#                         inside DROOT, replacing what was there
#
# Environment: DISTRO_CACHE (default /var/cache/xdp-portredir-tests),
# DISTRO_MAX_AGE_DAYS (default 14: an older root is made again, so the row
# follows the release's updates), DISTRO_MIRROR (default: from apt's sources).

DISTRO_CACHE=${DISTRO_CACHE:-/var/cache/xdp-portredir-tests}
DISTRO_MAX_AGE_DAYS=${DISTRO_MAX_AGE_DAYS:-14}
# Where the rows build inside the root.
DISTRO_BUILD=/build/xdp-portredir

# What every distro row needs in the root: the build and packaging tools and
# the userland the VM row puts into its guest (tests/vm/run-vm.sh --release).
# scripts/deps.sh adds what is missing later; these are here so a cached root
# needs no network.
DISTRO_PKGS="gcc make pkgconf clang llvm bpftool libbpf-dev libxdp-dev libelf-dev
	zlib1g-dev linux-libc-dev debhelper dpkg-dev lintian systemd-dev fakeroot
	bash-completion xdp-tools iproute2 busybox-static kmod procps psmisc ethtool
	tcpdump socat nftables jq iputils-ping netcat-openbsd util-linux
	bsdextrautils xxd diffutils gzip hostname findutils cpio ca-certificates"

# The Debian mirror apt uses here (one-line or deb822 sources).
distro_mirror() {
	local f u
	[ -n "${DISTRO_MIRROR:-}" ] && { echo "$DISTRO_MIRROR"; return; }
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		u=$(sed -n -E 's,^(deb|URIs:)[[:space:]]+(\[[^]]*\][[:space:]]+)?([a-z]+://[^[:space:]]*/debian/?)([[:space:]].*)?$,\3,p' "$f" |
			head -n 1)
		[ -n "$u" ] && { echo "${u%/}"; return; }
	done
	echo http://deb.debian.org/debian
}

# distro_make RELEASE DIR KEY: a fresh root in DIR.new, moved to DIR when whole.
distro_make() {
	local rel=$1 dir=$2 key=$3 mirror log
	mirror=$(distro_mirror)
	log=$dir.log
	echo "note: making a $rel root with mmdebstrap from $mirror (minutes; cached in $dir)"
	rm -rf "$dir.new"
	# The apt lists stay: the VM row asks the release's apt for its kernel.
	# Under tests/lib.sh, t_long: progress lines for the runner's watchdog.
	local bound=timeout
	declare -F t_long >/dev/null && bound=t_long
	if ! $bound 3600 mmdebstrap --variant=buildd --components=main \
		--skip=cleanup/apt/lists --include="$(echo $DISTRO_PKGS | tr ' ' ',')" \
		"$rel" "$dir.new" "$mirror" >"$log" 2>&1; then
		echo "note: mmdebstrap failed; last lines of $log:"
		tail -n 5 "$log" | sed 's/^/note:   /'
		rm -rf "$dir.new"
		return 1
	fi
	echo "$key" >"$dir.new/.xdp-portredir-root"
	rm -rf "$dir.old"
	[ -d "$dir" ] && mv "$dir" "$dir.old"
	mv "$dir.new" "$dir" && rm -rf "$dir.old"
}

distro_root() {
	local rel=$1 base=$DISTRO_CACHE/$1
	mkdir -p "$base" || return 1
	DROOT=$base/root
	# One maker at a time; the lock is held only while the root is checked
	# or made (rows that use it run one after the other in tests/run.sh).
	exec {DISTRO_LOCK}>"$base/.lock"
	if ! flock -n "$DISTRO_LOCK"; then
		echo "note: waiting for $base/.lock (another run is making the $rel root)"
		flock -w 1500 "$DISTRO_LOCK" || { echo "note: $base/.lock is still held"; return 1; }
	fi
	distro_root_locked "$rel" "$base"
	local rc=$?
	exec {DISTRO_LOCK}>&-
	return $rc
}

distro_root_locked() {
	local rel=$1 base=$2 key age
	key="$rel $(echo $DISTRO_PKGS | sha256sum | cut -c1-16)"
	if ! command -v mmdebstrap >/dev/null; then
		"$TOP/scripts/deps.sh" test >/dev/null 2>&1 || true
	fi
	if [ "$(cat "$DROOT/.xdp-portredir-root" 2>/dev/null)" != "$key" ]; then
		distro_make "$rel" "$DROOT" "$key" || return 1
	elif [ -n "$(find "$DROOT/.xdp-portredir-root" -mtime +"$DISTRO_MAX_AGE_DAYS")" ]; then
		age=$(( ($(date +%s) - $(stat -c %Y "$DROOT/.xdp-portredir-root")) / 86400 ))
		echo "note: the cached $rel root is $age days old: making it again"
		distro_make "$rel" "$DROOT" "$key" ||
			echo "note: keeping the old $rel root"
	fi
	# apt in the root needs the host's resolver.
	cp -L /etc/resolv.conf "$DROOT/etc/resolv.conf" 2>/dev/null
	[ -x "$DROOT/usr/bin/apt-get" ]
}

in_root() {
	unshare --mount --propagation private -- bash -c '
		r=$1
		shift
		mount -t proc proc "$r/proc" && mount --rbind /sys "$r/sys" &&
			mount --rbind /dev "$r/dev" && mount -t bpf bpf "$r/sys/fs/bpf" ||
			{ echo "in_root: cannot mount /proc, /sys, /dev or bpffs in $r" >&2; exit 125; }
		exec chroot "$r" /usr/bin/env -i HOME=/root LC_ALL=C.UTF-8 TERM=dumb \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive "$@"' _ "$DROOT" "$@"
}

distro_copy_project() {
	local dst=$DROOT$1
	rm -rf "$dst" && mkdir -p "$dst" || return 1
	if git -C "$TOP" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$TOP" ls-files -z --cached --others --exclude-standard |
			(cd "$TOP" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' _) |
			tar -C "$TOP" --null -T - -cf - | tar -C "$dst" -xf -
	else
		tar -C "$TOP" --exclude=./build -cf - . | tar -C "$dst" -xf - &&
			(cd "$dst" && make -s distclean >/dev/null 2>&1; true)
	fi
}
