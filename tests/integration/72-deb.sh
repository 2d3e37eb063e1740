#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian package: built from the release tarball in a scratch directory
# (so the source tree gets no debian/ build leftovers), checked by lintian
# (no errors, no warnings), installed with dpkg, used from the installed files
# (the demo on a namespace's lo, and the systemd unit's own command lines),
# upgraded under the loaded demo (which must keep running), then purged
# without a trace.
#
# Needs root (dpkg, XDP); the kernel part runs in a private mount namespace
# with its own bpffs and in a network namespace made here.
. "$(dirname "$0")/../lib.sh"
t_need_root
if [ -z "${PR_PRIVATE_MNT-}" ]; then
	PR_PRIVATE_MNT=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
mount -t bpf bpf "$BPFFS" || { t_fail setup "cannot mount a private bpffs"; t_done; }
cd "$TOP" || exit 1

if ! out=$(scripts/deps.sh package 2>&1); then
	t_fail setup "cannot install the packaging tools: ${out//$'\n'/ | }"
	t_done
fi
if dpkg-query -W -f='${Status}' xdp-portredir 2>/dev/null | grep -q 'ok installed'; then
	t_skip all "the xdp-portredir package is installed on this machine; not replacing or purging it"
	t_done
fi

VERSION=$(cat VERSION)
ARCH=$(dpkg --print-architecture)
tmp=$(mktemp -d /tmp/prt-deb.XXXXXX)
t_on_exit "rm -rf $tmp"
src=$tmp/xdp-portredir-$VERSION
deb=$tmp/xdp-portredir_${VERSION}_$ARCH.deb
N=$(ns_add demo)
PI=/usr/sbin/xdp-portredir

# --- build -------------------------------------------------------------------
make -s dist DIST_TARBALL="$tmp/xdp-portredir-$VERSION.tar.gz" ${PR_DIST_UNTRACKED:+DIST_UNTRACKED=1} >/dev/null 2>&1
tar -C "$tmp" -xzf "$tmp/xdp-portredir-$VERSION.tar.gz"
debian_before=$(find debian | sort)
start=$SECONDS
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" t_long 1800 dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1
rc=$?
echo "note: dpkg-buildpackage took $((SECONDS - start)) s"
if ! t_eq build/exit "$rc" 0; then
	grep -E 'error|Error' "$tmp/build.log" | head -n 10
	t_done
fi
if [ -f "$deb" ]; then t_pass build/deb; else t_fail build/deb "no $deb"; t_done; fi
t_eq build/version "$(dpkg-deb -f "$deb" Version)" "$VERSION"
depends=$(dpkg-deb -f "$deb" Depends)
t_match build/depends-libxdp-via-shlibs "$depends" "(^|, )libxdp1 \("
t_match build/depends-libbpf-via-shlibs "$depends" "(^|, )libbpf1 \("
t_match build/depends-libmicrohttpd-via-shlibs "$depends" "(^|, )libmicrohttpd12 \("
contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's,^\./,/,')
for f in /usr/sbin/xdp-portredir /usr/share/man/man8/xdp-portredir.8.gz \
	/usr/share/man/man5/xdp-portredir.conf.5.gz /usr/share/bash-completion/completions/xdp-portredir \
	/usr/share/doc/xdp-portredir/examples/xdp-portredir.conf /usr/share/doc/xdp-portredir/copyright; do
	t_match "contents$f" "$contents" "^$f$"
done
t_match contents/systemd-unit "$contents" "^(/usr)?/lib/systemd/system/xdp-portredir.service$"
t_nomatch contents/no-config-in-etc "$contents" "^/etc/xdp-portredir.conf$"
dpkg-deb -x "$deb" "$tmp/x"
t_eq contents/no-build-path-in-binary "$(strings "$tmp/x$PI" | grep -c "$tmp")" 0
t_eq build/source-tree-untouched "$(find debian | sort)" "$debian_before"

start=$SECONDS
# Standards-Version follows the newest release (Debian 13); an older release's
# lintian only knows its own policy and warns newer-standards-version.
lint=$(t_long 900 lintian --fail-on error,warning --display-info --pedantic \
	--suppress-tags newer-standards-version "$tmp"/xdp-portredir_"${VERSION}"_"$ARCH".changes 2>&1)
rc=$?
lint=$(grep -v 'running with root privileges is not recommended' <<<"$lint")
echo "note: lintian took $((SECONDS - start)) s"
t_eq lintian/exit "$rc" 0
t_eq lintian/no-errors-or-warnings "$(grep -E '^[EW]: ' <<<"$lint")" ""
grep -E '^[IPXO]: ' <<<"$lint" | sed 's/^/note: lintian: /'

# --- install -------------------------------------------------------------------
out=$(dpkg -i "$deb" 2>&1)
if ! t_eq install/exit "$?" 0; then
	echo "$out" | tail -n 5
	t_done
fi
t_on_exit "dpkg --purge xdp-portredir"
t_eq install/status "$(dpkg-query -W -f='${Status}' xdp-portredir)" "install ok installed"
t_eq install/version "$("$PI" --version | head -n 1)" "xdp-portredir $VERSION"
t_match install/man-page-8 "$(man -w xdp-portredir 2>&1)" "/usr/share/man/man8/xdp-portredir.8.gz"
t_match install/man-page-5 "$(man -w 5 xdp-portredir.conf 2>&1)" "/usr/share/man/man5/xdp-portredir.conf.5.gz"
unit=$(dpkg -L xdp-portredir | grep '/systemd/system/xdp-portredir.service$')
t_eq install/systemd-analyze-verify "$(systemd-analyze verify "$unit" 2>&1)" ""
t_match install/unit-enabled "$(readlink /etc/systemd/system/multi-user.target.wants/xdp-portredir.service)" \
	"/systemd/system/xdp-portredir.service$"
t_match install/metrics-unit-installed "$(dpkg -L xdp-portredir)" "/systemd/system/xdp-portredir-metrics.service$"
t_eq install/metrics-unit-not-enabled "$(ls /etc/systemd/system/multi-user.target.wants/xdp-portredir-metrics.service 2>/dev/null)" ""

# --- the demo, from the installed binary, on the namespace's lo --------------------
PR() { in_ns "$N" "$PI" "$@"; }
t_on_exit "nsenter --net=/run/netns/$N $PORTREDIR unload --all"
t_match demo/load "$(PR load lo --priority 10 2>&1)" "loaded on lo \(skb mode, priority 10"
t_ok demo/redirect PR redirect 7999 7998 --proto udp
bg_ready "$tmp/r8" in_ns "$N" "$NETTOOL" udp-recv -l 127.0.0.1 -p 7998 -n 1 -t $(t_wait 4000) -v >/dev/null
bg_ready "$tmp/r9" in_ns "$N" "$NETTOOL" udp-recv -l 127.0.0.1 -p 7999 -t 1500 -v >/dev/null
in_ns "$N" "$NETTOOL" udp-send -a 127.0.0.1 -p 7999 -m "Hello, New Stack!" >/dev/null
wait_until 5 grep -q '^received' "$tmp/r8"
wait_until 5 grep -q '^received' "$tmp/r9"
t_match demo/arrives-on-7998 "$(cat "$tmp/r8")" "Hello, New Stack!"
t_eq demo/not-on-7999 "$(num_after "$tmp/r9" received)" 0
t_match demo/status "$(PR status)" "udp 7999 -> 7998  packets 1 "

# --- upgrade, with the demo loaded ----------------------------------------------------
# An upgrade must leave what is loaded alone (debian/rules: --no-stop-on-upgrade).
# The newer package is this one with its version raised.
dpkg-deb -R "$deb" "$tmp/up"
sed -i "s/^Version: .*/Version: $VERSION+up1/" "$tmp/up/DEBIAN/control"
dpkg-deb -b "$tmp/up" "$tmp/up.deb" >/dev/null
# First the maintainer scripts as dpkg runs them for an upgrade, on what they
# take for a systemd host (a private /run with /run/systemd/system) and with
# systemctl and the deb-systemd-* helpers replaced by stubs that log their
# calls. A plain removal is run too: it must stop the unit, or the stubs
# were never reached and the upgrade's silence proves nothing.
mkdir "$tmp/stubs"
for s in systemctl deb-systemd-invoke deb-systemd-helper; do
	printf '#!/bin/sh\necho "%s $*" >>"%s"\nexit 0\n' "$s" "$tmp/calls" >"$tmp/stubs/$s"
	chmod +x "$tmp/stubs/$s"
done
maint() { # stdin: "SCRIPT ARGS..." per line; runs each of the new package's as on a systemd host
	unshare --mount --propagation private bash -c '
		mount -t tmpfs none /run && mkdir -p /run/systemd/system || exit 1
		while read -r script args; do
			[ -x "$1/$script" ] || continue
			PATH=$2:$PATH "$1/$script" $args || exit 1
		done' maint "$tmp/up/DEBIAN" "$tmp/stubs"
}
: >"$tmp/calls"
maint <<EOS
prerm upgrade $VERSION+up1
preinst upgrade $VERSION
postrm upgrade $VERSION+up1
postinst configure $VERSION
EOS
t_eq upgrade/maintainer-scripts-exit "$?" 0
t_nomatch upgrade/scripts-never-stop-or-restart "$(grep xdp-portredir.service "$tmp/calls")" \
	"(^| )(stop|restart|try-restart|reload-or-restart|kill|disable|mask) '?xdp-portredir.service"
: >"$tmp/calls"
maint <<<"prerm remove"
t_match upgrade/removal-does-stop "$(cat "$tmp/calls")" "deb-systemd-invoke stop '?xdp-portredir.service"
# Then a real upgrade with dpkg: the same program stays attached, the rule
# stays, and datagrams are still redirected.
prog_before=$(ip -n "$N" -j link show lo | jq '.[0].xdp.prog.id')
out=$(dpkg -i "$tmp/up.deb" 2>&1)
t_eq upgrade/dpkg-exit "$?" 0 || echo "$out" | tail -n 5
t_eq upgrade/version "$(dpkg-query -W -f='${Version}' xdp-portredir)" "$VERSION+up1"
t_eq upgrade/same-program-attached "$(ip -n "$N" -j link show lo | jq '.[0].xdp.prog.id')" "$prog_before"
bg_ready "$tmp/r8u" in_ns "$N" "$NETTOOL" udp-recv -l 127.0.0.1 -p 7998 -n 1 -t $(t_wait 4000) -v >/dev/null
in_ns "$N" "$NETTOOL" udp-send -a 127.0.0.1 -p 7999 -m "after the upgrade" >/dev/null
wait_until 5 grep -q '^received' "$tmp/r8u"
t_match upgrade/still-redirected "$(cat "$tmp/r8u")" "after the upgrade"
t_match upgrade/status "$(PR status)" "udp 7999 -> 7998  packets 2 "
t_ok demo/unload PR unload lo
bg_ready "$tmp/r9b" in_ns "$N" "$NETTOOL" udp-recv -l 127.0.0.1 -p 7999 -n 1 -t $(t_wait 3000) -v >/dev/null
in_ns "$N" "$NETTOOL" udp-send -a 127.0.0.1 -p 7999 -m "Hello again" >/dev/null
wait_until 5 grep -q '^received' "$tmp/r9b"
t_match demo/on-7999-after-unload "$(cat "$tmp/r9b")" "Hello again"

# --- the unit's command lines, as systemd would run them ---------------------------
# (systemd itself may not be running here; the commands are what matters.)
if [ -e /etc/xdp-portredir.conf ]; then
	t_skip unit-commands "/etc/xdp-portredir.conf exists on this machine; not replacing it"
else
	printf 'interface lo mode skb\nredirect udp 7999 7998\n' >/etc/xdp-portredir.conf
	t_on_exit "rm -f /etc/xdp-portredir.conf"
	run_unit_line() { # KEY: runs the unit's KEY= command line in the namespace
		local line
		line=$(sed -n "s/^$1=//p" "$unit")
		read -ra cmd <<<"$line"
		in_ns "$N" "${cmd[@]}" 2>&1
	}
	out=$(run_unit_line ExecStart)
	t_eq unit/exec-start-exit "$?" 0
	t_match unit/exec-start-applies "$out" "applied /etc/xdp-portredir.conf: 2 changes"
	t_eq unit/loaded "$(PR status --json | jq -c '[.interfaces[].name, .rules[].rule]')" '["lo","udp 7999 -> 7998"]'
	t_eq unit/exec-reload-no-op "$(run_unit_line ExecReload)" \
		"nothing to change: the system already matches /etc/xdp-portredir.conf"
	out=$(run_unit_line ExecStop)
	t_eq unit/exec-stop-exit "$?" 0
	t_nomatch unit/stopped-no-xdp "$(ip -n "$N" link show lo)" "xdp"
	t_eq unit/stopped-no-pins "$(ls "$PIN_DIR" 2>/dev/null)" ""
	rm -f /etc/xdp-portredir.conf
fi

# --- purge -------------------------------------------------------------------------
files=$(dpkg -L xdp-portredir | while IFS= read -r f; do [ -d "$f" ] || echo "$f"; done)
t_match purge/had-files "$files" "^/usr/sbin/xdp-portredir$"
out=$(dpkg --purge xdp-portredir 2>&1)
t_eq purge/exit "$?" 0
t_eq purge/not-known "$(dpkg-query -W -f='${Status}' xdp-portredir 2>/dev/null)" ""
t_eq purge/dpkg-L-empty "$(dpkg -L xdp-portredir 2>/dev/null)" ""
left=$(while IFS= read -r f; do [ -e "$f" ] || [ -L "$f" ] && echo "$f"; done <<<"$files")
t_eq purge/files-gone "$left" ""
t_eq purge/unit-not-enabled "$(ls /etc/systemd/system/multi-user.target.wants/xdp-portredir.service 2>/dev/null)" ""
t_eq purge/no-systemd-helper-state \
	"$(find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
		-name '*xdp-portredir*' 2>/dev/null)" ""
t_eq purge/no-dpkg-info "$(ls /var/lib/dpkg/info/xdp-portredir.* 2>/dev/null)" ""
t_assert_clean
t_done
