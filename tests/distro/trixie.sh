#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian 13 (trixie) row: in a trixie root (tests/distro/root.bash, cached),
# what a packager does with this tree: install the build dependencies with
# scripts/deps.sh, configure (gcc and clang 19) and build with -Werror, run the
# unit suites, build the package with dpkg-buildpackage and check it with
# trixie's lintian (no errors, no warnings). The build stays in the root for
# the VM's trixie row (tests/vm/run-vm.sh --release trixie).
#
# Usage: tests/distro/trixie.sh   (root; network the first time, and when the
# cached root is older than DISTRO_MAX_AGE_DAYS)
REL=trixie
T_SUITE=distro-$REL
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/root.bash"
t_need_root

start=$SECONDS
if ! distro_root "$REL"; then
	t_fail root "no $REL root in $DISTRO_CACHE/$REL (see the notes above)"
	t_done
fi
t_pass root
echo "note: $REL root ready in $((SECONDS - start)) s: $(in_root sh -c '. /etc/os-release; echo $PRETTY_NAME')"

B=$DISTRO_BUILD
step() {
	# step NAME CMD...: runs CMD in the build dir in the root; its output is
	# shown (last 15 lines) only when it fails.
	local name=$1 out rc t=$SECONDS
	shift
	out=$(t_long 3600 in_root sh -c "cd $B && $*" 2>&1) # a hang bound, with progress lines
	rc=$?
	echo "note: $name took $((SECONDS - t)) s"
	if [ $rc -eq 0 ]; then
		t_pass "$name"
	else
		t_fail "$name" "exit $rc: $*"
		tail -n 15 <<<"$out" | sed 's/^/  | /'
	fi
	return $rc
}

distro_copy_project "$B" || { t_fail copy "cannot copy the project into the root"; t_done; }
rm -f "$DROOT$B.built"

# Every package name deps.sh gives for the test machine exists in trixie (the
# ones it has not got yet must be installable, as apt simulates it).
# Without root deps.sh only lists what is missing (and fails if anything is).
out=$(in_root setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "cd $B && scripts/deps.sh test" 2>&1)
rc=$?
missing=$(sed -n 's/^missing Debian packages://p' <<<"$out")
echo "note: deps.sh test: not yet in the root:${missing:- nothing}"
if [ $rc -ne 0 ] && [ -z "$missing" ]; then
	t_fail deps/names-exist "deps.sh test failed without naming packages: ${out//$'\n'/ | }"
else
	step deps/names-exist "apt-get install -s -qq $missing >/dev/null"
fi
step deps/install "scripts/deps.sh build && scripts/deps.sh package" || t_done

# clang 19 refuses -print-multiarch; the BPF include path must still be found.
step configure/clang "CC=clang ./configure >/dev/null"
t_eq configure/clang-bpf-includes "$(grep '^BPF_INCLUDES' "$DROOT$B/config.mk")" \
	"BPF_INCLUDES := -I/usr/include/$(in_root dpkg-architecture -qDEB_HOST_MULTIARCH)"
step configure "./configure >/dev/null" || t_done
t_match build/werror "$(grep -h '^WARNINGS\|^BPF_CFLAGS' "$DROOT$B/Makefile")" '-Werror'
step build "make -j$(nproc) >/dev/null" || t_done
touch "$DROOT$B.built"

# Every unit suite the build made (tests/tests.mk's TEST_UNIT).
for u in $(cd "$DROOT$B" && find tests/unit -maxdepth 1 -type f -perm -u+x -name 'test_*' | sort); do
	step "unit/${u##*/}" "./$u"
done

# The package, from a copy of the tree (the build above stays for the VM row).
P=/build/pkg
V=$(cat "$TOP/VERSION")
ARCH=$(in_root dpkg --print-architecture)
distro_copy_project "$P/xdp-portredir-$V" || { t_fail package/copy "cannot copy"; t_done; }
B=$P/xdp-portredir-$V
step package/build-deps "dpkg-checkbuilddeps"
step package/build "DEB_BUILD_OPTIONS=parallel=$(nproc) dpkg-buildpackage -us -uc -b >../build.log 2>&1 || { tail -n 20 ../build.log; exit 1; }" ||
	t_done
deb=$DROOT$P/xdp-portredir_${V}_$ARCH.deb
contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's,^\./,/,')
# trixie's systemd.pc says /usr/lib; /lib is the aliased location lintian refuses.
t_match package/unit-in-usr-lib "$contents" '^/usr/lib/systemd/system/xdp-portredir.service$'
t_match package/binary "$contents" '^/usr/sbin/xdp-portredir$'

t=$SECONDS
lint=$(in_root lintian --fail-on error,warning --display-info --pedantic \
	"$P/xdp-portredir_${V}_$ARCH.changes" 2>&1)
rc=$?
echo "note: lintian $(in_root dpkg-query -W -f='${Version}' lintian) took $((SECONDS - t)) s"
lint=$(grep -v 'running with root privileges is not recommended' <<<"$lint")
t_eq lintian/exit "$rc" 0
t_eq lintian/no-errors-or-warnings "$(grep -E '^[EW]: ' <<<"$lint")" ""
grep -E '^[IPXO]: ' <<<"$lint" | sed 's/^/note: lintian: /'
echo "note: $REL row took $((SECONDS - start)) s"
t_done
