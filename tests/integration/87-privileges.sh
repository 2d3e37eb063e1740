#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Privileges: the tool's state is root's alone (pin directory 0700, pinned
# maps 0600, whatever the umask, and a pre-existing looser directory is
# tightened), and without the capabilities it needs every command fails
# with one line naming them and exit 1, before touching anything: as root
# with CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN dropped (setpriv: bounding
# and inheritable sets, so root's exec cannot regain them), as user nobody,
# and as root of a user namespace. --help, --version and usage errors keep
# working unprivileged. Runs in a network namespace of its own with a
# private bpffs.

T_SUITE=privileges
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/robustness/common.sh"
r_isolate "$@"
P=$PORTREDIR

r_veth va vb || { t_fail setup "cannot create a veth pair"; t_done; }

# modes NAME: pin directory 0700 and every pin without group/other bits.
modes() {
	local name=$1 d f bad=""
	d=$(stat -c %a "$PIN_DIR" 2>/dev/null)
	t_eq "$name/pin-dir-0700" "$d" 700
	for f in "$PIN_DIR"/*; do
		[ -e "$f" ] || continue
		m=$(stat -c %a "$f")
		[ $((8#$m & 8#077)) -eq 0 ] && [ "$(stat -c %u "$f")" = 0 ] || bad="$bad ${f##*/}:$m"
	done
	if [ -z "$bad" ] && [ -n "$(ls "$PIN_DIR")" ]; then t_pass "$name/pins-root-only"; else t_fail "$name/pins-root-only" "pins:$bad (dir: $(ls "$PIN_DIR" | tr '\n' ' '))"; fi
}

(umask 000 && "$P" load va >/dev/null && "$P" redirect 7000 7001 >/dev/null) || t_fail setup "load/redirect failed"
modes umask-000
"$P" unload --all >/dev/null
(umask 022 && "$P" redirect 7000 7001 >/dev/null)
modes umask-022
"$P" unload --all >/dev/null
mkdir -m 0755 "$PIN_DIR"
"$P" redirect 7000 7001 >/dev/null
modes preexisting-0755-dir
# A bpffs the tool mounts itself is root-only too.
out=$(unshare -m --propagation private bash -c \
	"umount '$BPFFS' && '$P' redirect 7100 7101 >/dev/null && stat -c %a '$BPFFS' && findmnt -n -o OPTIONS '$BPFFS'")
t_match self-mounted-bpffs/mode "$(head -n 1 <<<"$out")" '^1?700$'
t_match self-mounted-bpffs/option "$(tail -n 1 <<<"$out")" 'mode=700'

"$P" load va >/dev/null
before=$(pr_state)
t_match setup-state "$before" '"state":"loaded"'

NOCAPS="-bpf,-net_admin,-sys_admin"
as_nocaps() { setpriv --inh-caps "$NOCAPS" --bounding-set "$NOCAPS" "$@"; }
as_nobody() { setpriv --reuid nobody --regid nogroup --clear-groups --inh-caps -all --bounding-set -all "$@"; }
as_userns() { unshare --user --map-root-user "$@"; }

# denied WHO NAME WANT_REGEX ARGS...: exit 1, exactly one line, the reason,
# no library chatter, and the state unchanged.
denied() {
	local who=$1 name=$2 want=$3 out rc
	shift 3
	out=$("as_$who" "$P" "$@" 2>&1)
	rc=$?
	t_eq "$who/$name/exit-1" "$rc" 1
	t_eq "$who/$name/one-line" "$(grep -c . <<<"$out")" 1
	t_match "$who/$name/says-why" "$out" "$want"
	t_nomatch "$who/$name/no-library-dump" "$out" 'libbpf|libxdp|Operation not permitted'
	t_eq "$who/$name/state-unchanged" "$(pr_state)" "$before"
}

CAPS="needs CAP_SYS_ADMIN and CAP_NET_ADMIN \(missing: CAP_SYS_ADMIN, CAP_NET_ADMIN\); run it as root"
for who in nocaps nobody; do
	denied $who load "$CAPS" load vb
	denied $who unload "$CAPS" unload va
	denied $who unload-all "$CAPS" unload --all
	denied $who redirect "$CAPS" redirect 7200 7201
	denied $who redirect-remove "$CAPS" redirect --remove 7000
	denied $who status "$CAPS" status
	denied $who status-json "$CAPS" status --json
	denied $who poll "$CAPS" poll -n 1 -i 10
	denied $who metrics "$CAPS" metrics
	denied $who metrics-listen "$CAPS" metrics --listen 127.0.0.1:0
	t_eq "$who/help-works" "$("as_$who" "$P" --help >/dev/null 2>&1; echo $?)" 0
	t_eq "$who/command-help-works" "$("as_$who" "$P" load --help >/dev/null 2>&1; echo $?)" 0
	t_match "$who/version-works" "$("as_$who" "$P" --version 2>&1)" '^xdp-portredir [0-9]'
	# Option errors come first (values are checked by the command, after).
	t_eq "$who/usage-error-still-2" "$("as_$who" "$P" load --frobnicate va >/dev/null 2>&1; echo $?)" 2
done
# Each capability alone is missed, and named.
out=$(setpriv --inh-caps -net_admin --bounding-set -net_admin "$P" status 2>&1)
t_match only-net-admin-dropped "$out" 'missing: CAP_NET_ADMIN\)'
out=$(setpriv --inh-caps -sys_admin --bounding-set -sys_admin "$P" status 2>&1)
t_match only-sys-admin-dropped "$out" 'missing: CAP_SYS_ADMIN\)'
# CAP_BPF alone is not needed beside CAP_SYS_ADMIN (which covers it).
t_ok bpf-cap-dropped-still-works setpriv --inh-caps -bpf,-perfmon --bounding-set -bpf,-perfmon "$P" status
denied userns status "user namespace" status
denied userns redirect "user namespace" redirect 7200 7201

# nobody cannot read the state itself either.
t_eq nobody/cannot-list-pin-dir "$(as_nobody ls "$PIN_DIR" >/dev/null 2>&1; echo $?)" 2
t_eq nobody/cannot-open-rule-pin "$(as_nobody bash -c "exec 3<'$PIN_DIR/pr_rules'" 2>/dev/null; echo $?)" 1

t_ok unload-all "$P" unload --all
r_assert_clean clean
t_done
