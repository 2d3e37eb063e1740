# SPDX-License-Identifier: GPL-2.0
#
# Helpers shared by the multiprog scenarios (tests/vm/scenarios/[1-4]*.sh):
# xdp-portredir next to xdp-filter in one libxdp dispatcher. Sourced, not run
# (guest-suite.sh runs only *.sh here). Set T_SUITE, source this, then call
#   mp_begin "$0" "$@"
# first: it re-runs the scenario in a private mount namespace with its own
# bpffs and /run/netns, so xdp-portredir's, xdp-filter's and libxdp's pins are
# the scenario's alone and vanish with it.
#
# Whether libxdp gives us a dispatcher is decided by xdp-portredir itself
# (mp_pr_load): without one (a kernel that refuses freplace, e.g. under
# lockdown) the scenario SKIPs with the tool's own note; inside the VM
# (XDP_PORTREDIR_VM=1) that is a FAIL, since there nothing may refuse it.

. "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"

# Our program's name in the dispatcher (see pr_dispatcher_prog in lib.sh).
MP_OURS=$(pr_dispatcher_prog)
NEW_PORT=7998
OLD_PORT=7999
# Never named by any rule or filter: its datagram marks the end of a round.
SENTINEL_PORT=7990

mp_begin() {
	local script=$1 tool
	shift
	t_need_root
	for tool in xdp-filter xdp-loader unshare nsenter jq; do
		if ! command -v "$tool" >/dev/null; then
			t_skip all "$tool not installed"
			t_done
		fi
	done
	for tool in "$PORTREDIR" "$NETTOOL"; do
		if [ ! -x "$tool" ]; then
			t_fail setup "$tool not built (run make)"
			t_done
		fi
	done
	if [ -z "${PR_MP_PRIVATE_MNT:-}" ]; then
		trap - EXIT
		PR_MP_PRIVATE_MNT=1 exec unshare --mount --propagation private bash "$script" "$@"
	fi
	mkdir -p /run/netns
	if ! mount -t tmpfs pr-netns /run/netns; then
		t_fail setup "cannot mount tmpfs on /run/netns"
		t_done
	fi
	if ! mount -t bpf bpf "$BPFFS"; then
		t_fail setup "cannot mount bpffs on $BPFFS"
		t_done
	fi
	MP_TMP=$(mktemp -d)
	t_on_exit rm -rf "$MP_TMP"
}

# inn NS CMD...: CMD in network namespace NS ("" is this one), always in this
# mount namespace: `ip netns exec` would remount /sys and hide the bpffs.
mp_nspath() {
	if [ -n "$1" ]; then echo "/run/netns/$1"; else echo /proc/self/ns/net; fi
}
inn() {
	local ns=$1
	shift
	nsenter --net="$(mp_nspath "$ns")" "$@"
}
PRn() {
	local ns=$1
	shift
	inn "$ns" "$PORTREDIR" "$@"
}

# mp_veth NS_A IF_A ADDR_A NS_B IF_B ADDR_B: a veth pair between two
# namespaces, addressed in a /24 and up.
mp_veth() {
	if ! { ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" &&
		ip -n "$1" addr add "$3/24" dev "$2" &&
		ip -n "$4" addr add "$6/24" dev "$5" &&
		ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up; }; then
		t_fail setup "cannot create the veth pair $2/$5"
		t_done
	fi
}

# mp_pr_load CASE NS DEV [LOAD ARGS...]: xdp-portredir load, which must work
# and must put the program into a libxdp dispatcher. Without a dispatcher the
# scenario ends: SKIP on a kernel that refused it (xdp-portredir's note says
# why), FAIL inside the VM. Sets PR_LOAD_OUT to what load printed.
mp_pr_load() {
	local name=$1 ns=$2 dev=$3 js disp note
	shift 3
	if ! PR_LOAD_OUT=$(PRn "$ns" load "$@" "$dev" 2>&1); then
		t_fail "$name" "xdp-portredir load $* $dev failed: ${PR_LOAD_OUT//$'\n'/ | }"
		t_done
	fi
	js=$(PRn "$ns" status --json 2>&1)
	disp=$(jq -r --arg d "$dev" '.interfaces[] | select(.name == $d) | .dispatcher' <<<"$js" 2>/dev/null)
	case "$disp" in
	true)
		t_pass "$name"
		mp_check_variant "$name" "$dev" "$js"
		return 0
		;;
	false)
		note=$(grep -m 1 -i 'dispatcher' <<<"$PR_LOAD_OUT")
		if [ -z "${XDP_PORTREDIR_VM:-}" ]; then
			t_skip all "no libxdp dispatcher on kernel $(uname -r), so nothing to share $dev with; xdp-portredir load said: '${note:-${PR_LOAD_OUT//$'\n'/ | }}' (run tests/vm/run-vm.sh -k $(basename "$0" .sh) for the VM's kernel)"
			t_done
		fi
		t_fail "$name" "no libxdp dispatcher in the VM (kernel $(uname -r)), where nothing should refuse it: ${note:-${PR_LOAD_OUT//$'\n'/ | }}"
		t_done
		;;
	*)
		t_fail "$name" "status --json names no dispatcher for $dev: ${js//$'\n'/ | }"
		t_done
		;;
	esac
}

# mp_check_variant CASE DEV STATUS_JSON: the program in the dispatcher is the
# one this kernel and libxdp allow (MP_OURS); without the checksum fix-up
# metadata, load said why and status says the fix-up is off for that reason.
mp_check_variant() {
	local prog off
	prog=$(jq -r --arg d "$2" '.interfaces[] | select(.name == $d) | .program' <<<"$3" 2>/dev/null)
	off=$(jq -r --arg d "$2" '.interfaces[] | select(.name == $d) | .["checksum-fixup-off"] // ""' <<<"$3" 2>/dev/null)
	t_eq "$1/program" "$prog" "$MP_OURS"
	if [ "$MP_OURS" = xdp_portredir_n ]; then
		t_match "$1/says-why-no-fixup" "$PR_LOAD_OUT" 'libxdp older than 1\.5\.5 .*not fixed up; upgrade libxdp'
		t_eq "$1/status-fixup-off" "$off" libxdp-dispatcher-older-than-1.5.5
	else
		t_eq "$1/status-fixup-on" "$off" ""
	fi
}

# mp_chain NS DEV: xdp-loader's view of DEV's dispatcher, one line per
# program in run order: "PRIO NAME ID ACTIONS" (ACTIONS may be empty).
mp_chain() {
	inn "$1" xdp-loader status "$2" 2>&1 |
		awk '$1 == "=>" { a = ""; for (i = 6; i <= NF; i++) a = a (a == "" ? "" : " ") $i; print $2, $3, $4, a }'
}

# mp_dispatchers NS DEV: how many xdp_dispatcher lines xdp-loader shows for DEV.
mp_dispatchers() {
	inn "$1" xdp-loader status "$2" 2>&1 | awk -v d="$2" '$1 == d && $2 == "xdp_dispatcher"' | wc -l
}

# mp_snap NS: one look at both tools' counters in NS (each status costs most
# of a second under TCG), read back without new processes by
#   snap_fa ACTION      xdp-filter's packets for ACTION (XDP_PASS, XDP_DROP)
#   snap_fh PORT MODE   xdp-filter's hits for a port rule (MODE e.g. dst,udp)
#   snap_pr RULE        xdp-portredir's packets for RULE ("udp 7999 -> 7998")
#   snap_pa ACTION      xdp-portredir's packets for ACTION
# A value that is not there reads "missing".
mp_snap() {
	SNAP_F=$(inn "$1" xdp-filter status 2>&1)
	SNAP_P=$(PRn "$1" status 2>&1)
}
snap_fa() {
	local l
	while read -r l; do
		[[ "$l" =~ ^$1\ +([0-9]+)\ pkts ]] && { echo "${BASH_REMATCH[1]}"; return; }
	done <<<"$SNAP_F"
	echo missing
}
snap_fh() {
	local l
	while read -r l; do
		[[ "$l" =~ ^$1\ +$2\ +([0-9]+)$ ]] && { echo "${BASH_REMATCH[1]}"; return; }
	done <<<"$SNAP_F"
	echo missing
}
snap_pr() {
	local l
	while read -r l; do
		[[ "$l" == "$1  packets "* ]] && [[ "$l" =~ \ packets\ ([0-9]+) ]] &&
			{ echo "${BASH_REMATCH[1]}"; return; }
	done <<<"$SNAP_P"
	echo missing
}
snap_pa() { snap_pr "$1"; }

# dlt BEFORE AFTER: AFTER - BEFORE, or why not (so a missing counter fails
# the assertion that uses it instead of counting as 0).
dlt() {
	if [[ "$1" =~ ^[0-9]+$ && "$2" =~ ^[0-9]+$ ]]; then
		echo $(($2 - $1))
	else
		echo "missing counter ($1 -> $2)"
	fi
}

# Packets namespace NS's IPv4 handed to its transport layer. Counted in the
# receive softirq, whether or not a socket takes them (UDP's InDatagrams is
# counted only when a program reads).
mp_delivered() {
	inn "$1" cat /proc/net/snmp |
		awk '$1 == "Ip:" { if (!h) { for (i = 2; i <= NF; i++) c[$i] = i; h = 1 } else { print $c["InDelivers"]; exit } }'
}
mp_all_ready() { [ "$(grep -l '^ready' "$@" | wc -l)" -eq $# ]; }
mp_delivered_gt() { [ "$(mp_delivered "$1")" -gt "$2" ]; }

# mp_round SEND_NS RECV_NS DST N [DPORT]: N datagrams from SEND_NS to
# DST:DPORT (default OLD_PORT), with sockets on DST's NEW_PORT and OLD_PORT in
# RECV_NS; then one datagram to SENTINEL_PORT. The same path keeps the order,
# so once the sentinel is in, every earlier datagram that was not dropped has
# reached the receiving UDP layer. Sets
#   NEW, OLD  datagrams the sockets on NEW_PORT and OLD_PORT read
#   REACHED   IPv4 packets RECV_NS's stack delivered, the sentinel not
#             counted: 0 means every datagram was dropped before the stack
#   ROUND_ERR why the round itself failed ("" if it did not)
mp_round() {
	local sns=$1 rns=$2 dst=$3 n=$4 dport=${5:-$OLD_PORT} u0 u1 pn po ps
	local rpath
	NEW=none OLD=none REACHED=none ROUND_ERR=""
	rpath=$(mp_nspath "$rns")
	# Started together, then waited for: each start costs tens of ms here.
	# nsenter execs the receiver, so $! is the receiver itself.
	nsenter --net="$rpath" "$NETTOOL" udp-recv -l "$dst" -p "$NEW_PORT" -n "$n" -t $(t_wait 30000) >"$MP_TMP/new" 2>&1 &
	pn=$!
	nsenter --net="$rpath" "$NETTOOL" udp-recv -l "$dst" -p "$OLD_PORT" -n "$n" -t $(t_wait 30000) >"$MP_TMP/old" 2>&1 &
	po=$!
	nsenter --net="$rpath" "$NETTOOL" udp-recv -l "$dst" -p "$SENTINEL_PORT" -n 1 -t $(t_wait 30000) >"$MP_TMP/sen" 2>&1 &
	ps=$!
	t_on_exit "kill $pn $po $ps"
	if ! wait_until 10 mp_all_ready "$MP_TMP/new" "$MP_TMP/old" "$MP_TMP/sen"; then
		ROUND_ERR="receivers did not start: $(cat "$MP_TMP/new" "$MP_TMP/old" "$MP_TMP/sen" | tr '\n' ' ')"
		kill "$pn" "$po" "$ps" 2>/dev/null
		return 1
	fi
	u0=$(mp_delivered "$rns")
	if ! inn "$sns" "$NETTOOL" udp-send -a "$dst" -p "$dport" -n "$n" >"$MP_TMP/send" 2>&1 ||
		! inn "$sns" "$NETTOOL" udp-send -a "$dst" -p "$SENTINEL_PORT" -n 1 >>"$MP_TMP/send" 2>&1; then
		ROUND_ERR="udp-send failed: $(tr '\n' ' ' <"$MP_TMP/send")"
	fi
	if ! wait_until 20 grep -q '^received 1' "$MP_TMP/sen"; then
		ROUND_ERR="${ROUND_ERR:+$ROUND_ERR; }the sentinel to port $SENTINEL_PORT never arrived"
	fi
	# Earlier datagrams took the same softirq path first; only the
	# sentinel's own count may still be on its way.
	wait_until 2 mp_delivered_gt "$rns" "$u0"
	u1=$(mp_delivered "$rns")
	REACHED=$((u1 - u0 - 1))
	# What reached UDP is already queued; a socket that got all N exits by
	# itself, the others are stopped (they print what they read).
	if [ "$REACHED" -gt 0 ]; then
		wait_until 5 bash -c "! kill -0 $pn 2>/dev/null || ! kill -0 $po 2>/dev/null"
	fi
	kill "$pn" "$po" "$ps" 2>/dev/null
	wait_until 5 grep -q '^received' "$MP_TMP/new"
	wait_until 5 grep -q '^received' "$MP_TMP/old"
	NEW=$(num_after "$MP_TMP/new" received)
	OLD=$(num_after "$MP_TMP/old" received)
	NEW=${NEW:-none} OLD=${OLD:-none}
	[ -z "$ROUND_ERR" ]
}

# mp_round_ok CASE: a failed round is a FAIL of its own, with the reason.
mp_round_ok() {
	if [ -n "$ROUND_ERR" ]; then
		t_fail "$1" "$ROUND_ERR"
		return 1
	fi
	t_pass "$1"
}

# mp_bare CASE NS DEV: no XDP program left on DEV.
mp_bare() {
	local out
	out=$(inn "$2" ip link show dev "$3" 2>&1)
	if grep -Eq 'xdp(generic|drv|offload)? |prog/xdp' <<<"$out"; then
		t_fail "$1" "XDP still attached to $3: ${out//$'\n'/ | }"
	else
		t_pass "$1"
	fi
}
