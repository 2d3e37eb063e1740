#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make install into a DESTDIR with a non-default PREFIX, and the installed
# files at work: the binary from there loads, redirects and unloads on a veth
# in namespaces made here; the unit verifies; the completion completes; make
# uninstall leaves no file behind. Then the release side: one version
# everywhere, make dist builds from scratch, and two builds in two
# directories give the same binary.
#
# As root the whole suite runs in a private mount namespace with its own
# bpffs, so the pins of the host's xdp-portredir are never touched. Without
# root only the kernel case is skipped.
. "$(dirname "$0")/../lib.sh"
if [ "$(id -u)" -eq 0 ] && [ -z "${PR_PRIVATE_MNT-}" ]; then
	PR_PRIVATE_MNT=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
[ -n "${PR_PRIVATE_MNT-}" ] && mount -t bpf bpf "$BPFFS"

cd "$TOP" || exit 1
VERSION=$(cat VERSION)
tmp=$(mktemp -d /tmp/prt-install.XXXXXX)
t_on_exit "rm -rf $tmp"
PREFIX=/opt/prtest
DEST=$tmp/dest
ROOT=$DEST$PREFIX

# --- versions: VERSION is the one source ---------------------------------
t_eq version/binary "$("$PORTREDIR" --version | head -n 1)" "xdp-portredir $VERSION"
t_eq version/debian-changelog "$(dpkg-parsechangelog -l debian/changelog -S Version 2>&1)" "$VERSION"
if command -v rpmspec >/dev/null; then
	t_eq version/rpm-spec "$(rpmspec -q --srpm --qf '%{VERSION}' packaging/rpm/xdp-portredir.spec 2>&1)" "$VERSION"
	t_ok rpm-spec-parses rpmspec -P packaging/rpm/xdp-portredir.spec
else
	t_fail version/rpm-spec "rpmspec not found (Debian package rpm; scripts/deps.sh package)"
fi

# --- install ---------------------------------------------------------------
out=$(make -s install DESTDIR="$DEST" PREFIX=$PREFIX 2>&1)
t_eq install/exit "$?" 0 || echo "$out" | tail -n 20
want=(sbin/xdp-portredir share/man/man5/xdp-portredir.conf.5
	share/bash-completion/completions/xdp-portredir lib/systemd/system/xdp-portredir.service
	lib/systemd/system/xdp-portredir-metrics.service
	share/doc/xdp-portredir/examples/xdp-portredir.conf)
[ -e man/xdp-portredir.8 ] && want+=(share/man/man8/xdp-portredir.8)
for f in "${want[@]}"; do
	if [ -f "$ROOT/$f" ]; then t_pass "install/has/$f"; else t_fail "install/has/$f" "missing"; fi
done
t_eq install/nothing-outside-prefix "$(cd "$DEST" && find . ! -type d ! -path ".$PREFIX/*" | head -n 3)" ""
t_eq install/no-etc-config-written "$(find "$DEST" -name xdp-portredir.conf ! -path '*/examples/*')" ""
t_eq install/binary-mode "$(stat -c %a "$ROOT/sbin/xdp-portredir")" 755
t_eq install/installed-version "$("$ROOT/sbin/xdp-portredir" --version | head -n 1)" "xdp-portredir $VERSION"

# Man pages: version from VERSION, a real date, and clean roff.
for page in "$ROOT"/share/man/man*/*; do
	name=${page##*/}
	th=$(grep -m1 '^\.TH' "$page")
	t_match "man/$name/version" "$th" "xdp(\\\\)?-portredir $VERSION"
	t_match "man/$name/date" "$th" '"[0-9]{4}-[0-9]{2}-[0-9]{2}"'
	t_eq "man/$name/no-warnings" "$(man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)" ""
done

# The unit names this install's paths; systemd accepts it once those paths
# are where DESTDIR put them.
unit=$ROOT/lib/systemd/system/xdp-portredir.service
t_match unit/exec-start "$(grep ^ExecStart= "$unit")" \
	"^ExecStart=$PREFIX/sbin/xdp-portredir apply --wait [0-9]+ $PREFIX/etc/xdp-portredir.conf$"
t_match unit/exec-stop "$(grep ^ExecStop= "$unit")" "^ExecStop=$PREFIX/sbin/xdp-portredir unload --all --drain 10$"
mkdir -p "$tmp/unit"
sed "s|$PREFIX/|$ROOT/|g" "$unit" >"$tmp/unit/xdp-portredir.service"
t_eq unit/systemd-analyze-verify "$(systemd-analyze verify --man=no "$tmp/unit/xdp-portredir.service" 2>&1)" ""
# The check can fail: a unit whose binary is not there is refused.
sed "s|$PREFIX/sbin/|$tmp/nowhere/|g" "$unit" >"$tmp/unit/xdp-portredir.service"
t_match unit/verify-refuses-missing-binary \
	"$(systemd-analyze verify --man=no "$tmp/unit/xdp-portredir.service" 2>&1)" "is not executable"

# The metrics listener's unit: this install's binary, 127.0.0.1, verifies.
munit=$ROOT/lib/systemd/system/xdp-portredir-metrics.service
t_match unit/metrics-exec-start "$(grep ^ExecStart= "$munit")" \
	"^ExecStart=$PREFIX/sbin/xdp-portredir metrics --listen [\$]\{LISTEN\}$"
t_match unit/metrics-listens-on-loopback "$(grep ^Environment= "$munit")" "^Environment=LISTEN=127\.0\.0\.1:[0-9]+$"
sed "s|$PREFIX/|$ROOT/|g" "$munit" >"$tmp/unit/xdp-portredir-metrics.service"
t_eq unit/metrics-systemd-analyze-verify "$(systemd-analyze verify --man=no "$tmp/unit/xdp-portredir-metrics.service" 2>&1)" ""

# The example parses (commented out, it describes an empty state). The tool
# asks for its capabilities before any command, --check included.
if [ "$(id -u)" -ne 0 ]; then
	t_skip example "apply --check needs root"
else
t_match example/valid "$("$ROOT/sbin/xdp-portredir" apply --check \
	"$ROOT/share/doc/xdp-portredir/examples/xdp-portredir.conf" 2>&1)" "configuration is valid"
# Its commented-out statements, on lo (the last interface line, with the most
# settings, since an interface may be listed once).
sed -n 's/^#\(interface\|redirect\|flow-table-size\) /\1 /p' "$ROOT/share/doc/xdp-portredir/examples/xdp-portredir.conf" |
	tac | awk '$1 == "interface" { if (seen++) next; $2 = "lo" } 1' >"$tmp/example-active.conf"
for kw in flow-table-size "interface lo .*priority" redirect; do
	t_match "example/has/${kw%% *}" "$(cat "$tmp/example-active.conf")" "^$kw "
done
out=$("$ROOT/sbin/xdp-portredir" apply --check "$tmp/example-active.conf" 2>&1)
t_match example/uncommented-lines-valid "$out" "configuration is valid"
fi

# --- bash completion, from the installed file -------------------------------
if [ ! -f /usr/share/bash-completion/bash_completion ] && [ "$(id -u)" -eq 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		bash-completion >/dev/null 2>&1
fi
if [ -f /usr/share/bash-completion/bash_completion ]; then
	complete_words() {
		bash -c '
			. /usr/share/bash-completion/bash_completion
			. "$1"; shift
			compopt() { :; }
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
			_xdp_portredir
			printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
		' _ "$ROOT/share/bash-completion/completions/xdp-portredir" "$ROOT/sbin/xdp-portredir" "$@"
	}
	commands=$("$ROOT/sbin/xdp-portredir" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' | sort | tr '\n' ' ')
	t_match completion/help-lists-commands "$commands" "apply .*load .*save .*unload"
	t_eq completion/commands "$(complete_words "")" "$commands"
	t_eq completion/prefix "$(complete_words s)" "save status "
	t_eq completion/mode-values "$(complete_words load --mode "")" "native skb "
	t_eq completion/proto-list "$(complete_words redirect --proto udp,)" "udp,tcp udp,udp "
	t_match completion/load-options "$(complete_words load --)" "--chain-call-actions .*--mode .*--priority"
	t_eq completion/apply-options "$(complete_words apply --)" "--check --help --json --verbose --wait "
	t_match completion/interfaces "$(complete_words load l)" "(^| )lo( |$)"
	t_match completion/redirect-scope-options "$(complete_words redirect --)" "--dst .*--interface "
	t_match completion/redirect-interface "$(complete_words redirect --interface l)" "(^| )lo( |$)"
	t_match completion/redirect-interface-list "$(complete_words redirect -i lo,l)" "(^| )lo,lo( |$)"
	t_match completion/redirect-dst "$(complete_words redirect --dst 127.)" "(^| )127\.0\.0\.1( |$)"
	t_match completion/monitor-scope-options "$(complete_words monitor --)" "--dst .*--interface "
	t_match completion/monitor-interface-list "$(complete_words monitor --interface lo,l)" "(^| )lo,lo( |$)"
	t_match completion/monitor-dst "$(complete_words monitor -d 127.)" "(^| )127\.0\.0\.1( |$)"
	touch "$tmp/prtest-file.conf"
	t_eq completion/apply-file "$(complete_words apply "$tmp/prtest-f")" "$tmp/prtest-file.conf "
else
	t_skip completion "bash-completion is not installed (Debian package bash-completion)"
fi

# --- the installed binary at work --------------------------------------------
if [ "$(id -u)" -eq 0 ]; then
	IP=$ROOT/sbin/xdp-portredir
	A=$(ns_add a) B=$(ns_add b)
	ip link add va netns "$A" type veth peer name vb netns "$B"
	ip -n "$A" addr add 10.78.0.1/24 dev va
	ip -n "$B" addr add 10.78.0.2/24 dev vb
	ip -n "$A" link set va up
	ip -n "$B" link set vb up
	PRI() { in_ns "$B" "$IP" "$@"; }
	t_on_exit "nsenter --net=/run/netns/$B $PORTREDIR unload --all"

	t_match run/load "$(PRI load vb 2>&1)" "loaded on vb \(native mode"
	t_ok run/redirect PRI redirect 7999 7998 --proto udp
	bg_ready "$tmp/r8" in_ns "$B" "$NETTOOL" udp-recv -l 10.78.0.2 -p 7998 -n 1 -t $(t_wait 4000) -v >/dev/null
	bg_ready "$tmp/r9" in_ns "$B" "$NETTOOL" udp-recv -l 10.78.0.2 -p 7999 -t 1500 >/dev/null
	in_ns "$A" "$NETTOOL" udp-send -a 10.78.0.2 -p 7999 -m "from $PREFIX" >/dev/null
	wait_until 5 grep -q '^received' "$tmp/r8"
	wait_until 5 grep -q '^received' "$tmp/r9"
	t_match run/arrives-on-new-port "$(cat "$tmp/r8")" "from $PREFIX"
	t_eq run/none-on-old-port "$(num_after "$tmp/r9" received)" 0
	t_eq run/status-counter "$(PRI status --json | jq '.rules[] | select(.rule == "udp 7999 -> 7998") | .packets')" 1
	t_ok run/unload PRI unload vb
	t_nomatch run/no-xdp-left "$(ip -n "$B" link show vb 2>/dev/null)" "xdp"
	t_eq run/no-pins-left "$(ls "$PIN_DIR" 2>/dev/null)" ""
else
	t_skip run "needs root to attach XDP"
fi

# --- uninstall -----------------------------------------------------------------
out=$(make -s uninstall DESTDIR="$DEST" PREFIX=$PREFIX 2>&1)
t_eq uninstall/exit "$?" 0 || echo "$out"
t_eq uninstall/no-file-left "$(find "$DEST" ! -type d)" ""
t_eq uninstall/own-doc-dir-gone "$(ls -d "$ROOT/share/doc/xdp-portredir" 2>/dev/null)" ""

# Every directory variable is honoured on its own.
D2=$tmp/dest2
make -s install DESTDIR="$D2" PREFIX=/p SBINDIR=/p/bin MANDIR=/p/manpages SYSCONFDIR=/p/cfg \
	UNITDIR=/p/units BASHCOMPDIR=/p/compl DOCDIR=/p/docs >/dev/null 2>&1
for f in bin/xdp-portredir manpages/man5/xdp-portredir.conf.5 units/xdp-portredir.service \
	compl/xdp-portredir docs/examples/xdp-portredir.conf; do
	if [ -f "$D2/p/$f" ]; then t_pass "dirs/$f"; else t_fail "dirs/$f" "missing"; fi
done
t_match dirs/unit-uses-sysconfdir "$(grep ^ExecStart= "$D2/p/units/xdp-portredir.service")" \
	" /p/cfg/xdp-portredir.conf$"
make -s uninstall DESTDIR="$D2" PREFIX=/p SBINDIR=/p/bin MANDIR=/p/manpages SYSCONFDIR=/p/cfg \
	UNITDIR=/p/units BASHCOMPDIR=/p/compl DOCDIR=/p/docs >/dev/null 2>&1
t_eq dirs/uninstall-no-file-left "$(find "$D2" ! -type d)" ""

# --- make dist, and building from it ---------------------------------------------
# PR_DIST_UNTRACKED=1 packs untracked files too (make dist DIST_UNTRACKED=1),
# to try this on a work tree with work in progress; CI runs without it.
untracked_opt=${PR_DIST_UNTRACKED:+--others --exclude-standard}
tarball=$tmp/xdp-portredir-$VERSION.tar.gz
out=$(make -s dist DIST_TARBALL="$tarball" ${PR_DIST_UNTRACKED:+DIST_UNTRACKED=1} 2>&1)
t_eq dist/exit "$?" 0 || echo "$out"
t_match dist/named-by-version "$out" "wrote $tarball"
listed=$(tar -tzf "$tarball" | sed "s,^xdp-portredir-$VERSION/,," | sort)
tracked=$(git ls-files --cached $untracked_opt | grep -v '^xdp-portredir-.*\.tar\.gz' |
	while IFS= read -r f; do [ -f "$f" ] && echo "$f"; done | sort)
t_eq dist/holds-exactly-the-tracked-files "$(diff <(echo "$listed") <(echo "$tracked") | head -n 5)" ""
cp "$tarball" "$tmp/first.tar.gz"
make -s dist DIST_TARBALL="$tarball" ${PR_DIST_UNTRACKED:+DIST_UNTRACKED=1} >/dev/null 2>&1
t_ok dist/same-bytes-twice cmp "$tarball" "$tmp/first.tar.gz"

# Untracked files the build may need are not in the tarball: name them.
[ -z "$untracked_opt" ] && untracked=$(git ls-files --others --exclude-standard | grep -Ev '^xdp-portredir-.*\.tar\.gz$' | head -n 5 | tr '\n' ' ')
[ -n "$untracked" ] && echo "note: untracked files are not in the tarball: $untracked"

# Two directories of different names and depths: the same binary, and
# neither directory inside it.
b1=$tmp/b1 b2=$tmp/build-two/deeper
mkdir -p "$b1" "$b2"
tar -C "$b1" -xzf "$tarball"
tar -C "$b2" -xzf "$tarball"
start=$SECONDS
if out=$(cd "$b1/xdp-portredir-$VERSION" && ./configure 2>&1 && make -j"$(nproc)" 2>&1); then
	t_pass dist/builds-from-scratch
	t_eq dist/built-binary-version \
		"$("$b1/xdp-portredir-$VERSION/xdp-portredir/xdp-portredir" --version | head -n 1)" \
		"xdp-portredir $VERSION"
else
	t_fail dist/builds-from-scratch "$(echo "$out" | grep -E 'error|Error' | head -n 3 | tr '\n' ' ')${untracked:+ (untracked in the work tree: $untracked)}"
fi
echo "note: from-scratch build took $((SECONDS - start)) s"
(cd "$b2/xdp-portredir-$VERSION" && ./configure >/dev/null 2>&1 &&
	make -j"$(nproc)" xdp-portredir/xdp-portredir >/dev/null 2>&1)
bin1=$b1/xdp-portredir-$VERSION/xdp-portredir/xdp-portredir
bin2=$b2/xdp-portredir-$VERSION/xdp-portredir/xdp-portredir
if [ -f "$bin1" ] && [ -f "$bin2" ]; then
	t_ok reproducible/same-binary-in-two-directories cmp "$bin1" "$bin2"
	t_eq reproducible/no-build-path-in-binary "$(strings "$bin1" "$bin2" | grep -c "$tmp")" 0
	t_eq reproducible/no-source-path-in-binary "$(strings "$PORTREDIR" | grep -c "$TOP")" 0
else
	t_fail reproducible "a build did not produce the binary"
fi

t_done
