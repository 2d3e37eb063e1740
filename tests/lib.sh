# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the shell test suites (source it; needs bash).
#
# Output contract (read by tests/run.sh and CI): one line per case,
#   PASS <suite>/<case>
#   FAIL <suite>/<case>: <why>
#   SKIP <suite>/<case>: <why>
# and t_done prints "N passed, N failed" and sets the exit status.
#
# Traffic only ever goes to 127.0.0.0/8, ::1 or to namespaces created here,
# and every wait is bounded.

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PORTREDIR=${PORTREDIR:-$TOP/xdp-portredir/xdp-portredir}
NETTOOL=${NETTOOL:-$TOP/tests/tools/nettool}
BPFFS=${BPFFS:-/sys/fs/bpf}
PIN_DIR=${PIN_DIR:-$BPFFS/xdp-portredir}
T_SUITE=${T_SUITE:-$(basename "${0%.sh}")}
T_PASSED=0
T_FAILED=0
T_CLEANUP=()
T_NETNS=()
T_PREFIX="prt$$"

t_pass() { echo "PASS $T_SUITE/$1"; T_PASSED=$((T_PASSED + 1)); }
t_fail() { echo "FAIL $T_SUITE/$1: $2"; T_FAILED=$((T_FAILED + 1)); }
t_skip() { echo "SKIP $T_SUITE/$1: $2"; }

# t_ok NAME CMD...: passes if CMD succeeds.
t_ok() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then t_pass "$name"; else t_fail "$name" "command failed: $* :: ${out//$'\n'/ | }"; return 1; fi
}

# t_eq NAME GOT WANT
t_eq() {
	if [ "$2" == "$3" ]; then t_pass "$1"; else t_fail "$1" "got '$2', want '$3'"; return 1; fi
}

# t_match NAME TEXT REGEX (extended regex, searched anywhere in TEXT)
t_match() {
	local text=${2//$'\n'/ | }
	[ ${#text} -gt 600 ] && text="${text:0:600} ..."
	if grep -Eq -- "$3" <<<"$2"; then t_pass "$1"; else t_fail "$1" "'$3' not found in: $text"; return 1; fi
}

# t_nomatch NAME TEXT REGEX
t_nomatch() {
	if grep -Eq -- "$3" <<<"$2"; then t_fail "$1" "unexpected '$3' in: ${2//$'\n'/ | }"; return 1; else t_pass "$1"; fi
}

# t_ge NAME GOT MIN (integers)
t_ge() {
	if [ "$2" -ge "$3" ] 2>/dev/null; then t_pass "$1"; else t_fail "$1" "got '$2', want >= $3"; return 1; fi
}

# Registers a command to run at exit, newest first.
t_on_exit() { T_CLEANUP+=("$*"); }

t_cleanup() {
	local i
	for ((i = ${#T_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${T_CLEANUP[$i]}" >/dev/null 2>&1 || true
	done
	T_CLEANUP=()
	# ns_add usually runs in $(...), a subshell whose T_NETNS is lost: find
	# the namespaces by this suite's prefix instead ($$ is the same there).
	for ns in "${T_NETNS[@]}" $(ip netns list 2>/dev/null | awk -v p="$T_PREFIX-" 'index($1, p) == 1 {print $1}'); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	T_NETNS=()
}
trap t_cleanup EXIT

# Prints totals and exits with the suite's status. Cleans up first.
t_done() {
	t_cleanup
	trap - EXIT
	echo "$T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
	exit
}

t_need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		t_skip all "needs root"
		t_done
	fi
}

t_ensure_bpffs() {
	mountpoint -q "$BPFFS" || mount -t bpf bpf "$BPFFS"
}

# ns_add SUFFIX: creates namespace $T_PREFIX-SUFFIX, echoes its name.
ns_add() {
	local ns="$T_PREFIX-$1"
	ip netns add "$ns" || return 1
	T_NETNS+=("$ns")
	ip -n "$ns" link set lo up
	echo "$ns"
}

# How much longer than the nominal figure a wait for an event may take before
# the event counts as missing: on a loaded 2-core machine (and more so under
# the VM's TCG) everything can be many times slower than idle, and a wait for
# something that does happen ends as soon as it does, so a generous bound
# costs nothing when the code works. TEST_WAIT_SCALE overrides it.
T_WAIT_SCALE=${TEST_WAIT_SCALE:-10}
export TEST_WAIT_SCALE=$T_WAIT_SCALE # nettool's default -t (5 s) scales too
# t_wait N: a bound N (seconds or milliseconds) on waiting for an event that
# ends the wait when it happens (a receiver's -n COUNT, a socat killed at exit).
t_wait() { echo $(($1 * T_WAIT_SCALE)); }

# The suite's own stdout, for progress lines from inside $(...).
exec {T_PROGRESS_FD}>&1

# gdb for fault injection: batch, quiet, offline (no debuginfod), the tool
# started directly, and breakpoints that may name a function not yet loaded.
T_GDB=(gdb -nx -q -batch -iex 'set debuginfod enabled off' -ex 'set startup-with-shell off'
	-ex 'set breakpoint pending on')

# t_long SECONDS CMD...: CMD bounded by SECONDS (a hang bound, so far above
# what it needs idle), with "# still running" on the suite's stdout every
# 60 s: the runner's watchdog takes 900 s without output for a hang, and
# builds, lintian or apt print nothing for minutes on a loaded machine.
# CMD's own output goes wherever the caller sends it; returns its status.
t_long() {
	local bound=$1 pid start=$SECONDS next=60
	shift
	# A shell function cannot run under timeout(1): it runs unbounded, and
	# the runner's SUITE_CAP is its bound.
	if declare -F "$1" >/dev/null; then "$@" & else timeout "$bound" "$@" & fi
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		[ $((SECONDS - start)) -lt $next ] && continue
		echo "# still running after $next s: $*" >&"$T_PROGRESS_FD"
		next=$((next + 60))
	done
	wait "$pid"
}

# ns_veth NS_A IF_A NS_B IF_B N: a veth pair between two namespaces, up,
# addressed 10.N.0.1/24 and fdN::1/64 on A, .2 and ::2 on B (no DAD), with
# A's tx checksum offload off: complete checksums, so a capture can verify them.
ns_veth() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" &&
		ip -n "$1" addr add "10.$5.0.1/24" dev "$2" &&
		ip -n "$3" addr add "10.$5.0.2/24" dev "$4" &&
		ip -n "$1" addr add "fd$5::1/64" dev "$2" nodad &&
		ip -n "$3" addr add "fd$5::2/64" dev "$4" nodad &&
		ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up &&
		ip netns exec "$1" ethtool -K "$2" tx off >/dev/null
}

# udp_redirect_round NAME SEND_NS RECV_NS IFACE DST N [UDP-SEND ARGS...]:
# N datagrams from SEND_NS to DST:7999 (a rule sends them to 7998 in
# RECV_NS): all arrive on 7998, none on 7999, and a capture on IFACE finds
# every checksum valid. Checks are named NAME/...
udp_redirect_round() {
	local name=$1 sns=$2 rns=$3 dev=$4 dst=$5 n=$6
	shift 6
	bg_ready "$tmp/cap" in_ns "$rns" "$NETTOOL" capture -i "$dev" -p 7998 -P udp -n "$n" -t $(t_wait 6000) >/dev/null
	bg_ready "$tmp/new" in_ns "$rns" "$NETTOOL" udp-recv -l "$dst" -p 7998 -n "$n" -t $(t_wait 6000) >/dev/null
	bg_ready "$tmp/old" in_ns "$rns" "$NETTOOL" udp-recv -l "$dst" -p 7999 -t 3000 >/dev/null
	in_ns "$sns" "$NETTOOL" udp-send -a "$dst" -p 7999 -n "$n" "$@" >/dev/null
	wait_until 8 grep -q '^received' "$tmp/new"
	wait_until 8 grep -q '^captured' "$tmp/cap"
	wait_until 8 grep -q '^received' "$tmp/old"
	t_eq "$name/all-on-new-port" "$(num_after "$tmp/new" received)" "$n"
	t_eq "$name/none-on-old-port" "$(num_after "$tmp/old" received)" 0
	t_match "$name/capture-checksums-valid" "$(cat "$tmp/cap")" "captured $n ok $n bad 0"
}

# wait_until TIMEOUT_S CMD...: polls CMD every 50 ms until it succeeds, for
# at most TIMEOUT_S x T_WAIT_SCALE seconds (long nominal waits: at most
# 300 s, or TIMEOUT_S if that is more, so that a failing check ends well
# within the hang watchdog's 900 s of silence).
wait_until() {
	local bound=$(($1 * T_WAIT_SCALE))
	[ "$bound" -gt 300 ] && bound=$(($1 > 300 ? $1 : 300))
	local deadline=$((SECONDS + bound))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.05
	done
}

# True if an XDP program is attached to interface $1 (optionally in netns $2).
xdp_attached() {
	local out
	if [ -n "${2:-}" ]; then out=$(ip -n "$2" link show dev "$1" 2>/dev/null); else out=$(ip link show dev "$1" 2>/dev/null); fi
	grep -Eq 'xdp(generic|drv|offload)? ' <<<"$out" || grep -q 'prog/xdp' <<<"$out"
}

# Asserts that the tool left nothing behind on the host.
t_assert_clean() {
	local name=${1:-clean-state}
	local left=""
	[ -e "$PIN_DIR" ] && left="$left pins($(ls "$PIN_DIR" 2>/dev/null | tr '\n' ' '))"
	xdp_attached lo && left="$left xdp-on-lo"
	if [ -z "$left" ]; then t_pass "$name"; else t_fail "$name" "left behind:$left"; fi
}

# Runs a command inside network namespace $1 but in this mount namespace, so
# the tool sees the same bpffs and pins as everywhere else in the test
# (`ip netns exec` would give it a fresh /sys without them).
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# Long-lived flows through a redirect (tests/tools/flowpeer, C, so the VM row
# runs them too). flow_setup first: sets PEER, and bounds every wait of the
# peers by FLOWPEER_WAIT, so a slow machine makes them slower, never wrong.
flow_setup() {
	PEER="$TOP/tests/tools/flowpeer"
	[ -x "$PEER" ] || { t_fail setup/flowpeer "$PEER missing: run make"; t_done; }
	export FLOWPEER_WAIT=60
}
# flow_client NAME HOST [NS]: starts a client of HOST:7999 (in namespace NS)
# controlled through $tmp/NAME.ctl: an interactive TCP session and a paced
# bulk stream.
flow_client() {
	mkfifo "$tmp/$1.ctl"
	if [ -n "$3" ]; then
		in_ns "$3" "$PEER" client "$2" 7999 "$tmp/$1.ctl" >"$tmp/$1.out" 2>&1 &
	else
		"$PEER" client "$2" 7999 "$tmp/$1.ctl" >"$tmp/$1.out" 2>&1 &
	fi
	t_on_exit "kill $!"
	wait_until 90 grep -Eq '^(connected|fail)' "$tmp/$1.out"
}
# flow_check NAME: the next check result of client NAME, TCP ("ok PORT
# BULKPORT": it pinged and the stream moved on) or UDP ("ok PORT"), or
# "fail WHY".
flow_check() {
	local before
	before=$(grep -Ec '^(ok|fail)' "$tmp/$1.out")
	echo check >"$tmp/$1.ctl"
	wait_until $((FLOWPEER_WAIT + 30)) \
		bash -c "[ \$(grep -Ec '^(ok|fail)' '$tmp/$1.out') -gt $before ]"
	grep -E '^(ok|fail)' "$tmp/$1.out" | tail -n 1
}

# The tool's state without counters, for "a failed command changed nothing".
pr_state() {
	"$PORTREDIR" status --json 2>/dev/null |
		jq -S -c 'del(.actions) | .rules |= map(del(.packets, .bytes))' 2>/dev/null
}

# Starts CMD in the background with output to FILE (a new file each time);
# waits for its "ready"; sets BG_PID and registers it for cleanup. Call it
# directly, not in $(...), or the cleanup registration is lost.
# Usage: bg_ready FILE CMD...
bg_ready() {
	local file=$1
	shift
	rm -f "$file"
	"$@" >"$file" 2>&1 &
	BG_PID=$!
	t_on_exit "kill $BG_PID"
	wait_until 5 grep -q '^ready' "$file"
}

# The number after WORD in FILE's last line containing it ("received 5" -> 5).
num_after() {
	grep -Eo "$2 [0-9]+" "$1" 2>/dev/null | tail -n 1 | awk '{print $2}'
}

# Value of a kernel SNMP counter (e.g. UdpInCsumErrors) in namespace $1.
snmp_counter() {
	ip netns exec "$1" nstat -az "$2" 2>/dev/null | awk -v k="$2" '$1 == k {print $2}'
}

# Under the VM's TCG emulation everything runs 10-30x slower; suites that move
# bulk data scale it with this (documented where used). XDP_PORTREDIR_VM is set
# by tests/vm/init.
T_IN_VM=${XDP_PORTREDIR_VM:-0}
# Everything under the bpffs mount, byte for byte: every path with its type
# and mode, and a hash of every pinned map's keys and values. Two equal
# snapshots mean a command changed nothing there.
bpffs_bytes() {
	"$TOP/tests/tools/bpffs_snap" "$BPFFS"
}

t_scaled() { # t_scaled HOST_VALUE VM_VALUE
	if [ "$T_IN_VM" = 1 ]; then echo "$2"; else echo "$1"; fi
}

# The usual start of a suite that drives the tool: root, bpffs, no state left
# from before, everything unloaded again at exit, and a scratch dir in $tmp.
t_tool_suite() {
	t_need_root
	t_ensure_bpffs
	"$PORTREDIR" unload --all >/dev/null 2>&1
	t_on_exit "\"$PORTREDIR\" unload --all"
	tmp=$(mktemp -d)
	t_on_exit "rm -rf $tmp"
}

# pr_dispatcher_prog: the name xdp-portredir's XDP program has inside a libxdp
# dispatcher here. A kernel that checks whether an extension changes packet
# data (Debian 13's 6.12; upstream 6.13) refuses the variant that leaves
# checksum fix-up metadata in the dispatcher of libxdp older than 1.5.5, so
# the tool loads xdp_portredir_n instead (lib/attach.c); elsewhere it is
# xdp_portredir. xdp-loader's version is libxdp's (one source package).
pr_dispatcher_prog() {
	local lx kv
	lx=$(xdp-loader status --version 2>/dev/null | awk '{ print $3; exit }')
	kv=$(uname -r)
	kv=${kv%%-*}
	if [ -n "$lx" ] && [ "$(printf '%s\n' "$lx" 1.5.5 | sort -V | head -n 1)" != 1.5.5 ] &&
		[ "$(printf '%s\n' "$kv" 6.12 | sort -V | head -n 1)" = 6.12 ]; then
		echo xdp_portredir_n
	else
		echo xdp_portredir
	fi
}

# pr_kernel_has_kern_ctx: does this kernel give TC programs
# bpf_cast_to_kern_ctx (6.3+)? Then load attaches the checksum fix-up that
# reads the skb's checksum state (tc_portredir_in_kctx, lib/object.c).
pr_kernel_has_kern_ctx() {
	bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -q "FUNC 'bpf_cast_to_kern_ctx'"
}
