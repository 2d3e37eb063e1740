#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# libxdp's multiprog dispatcher on the receiving end of a veth pair between
# two namespaces made here: xdp-filter (xdp-filter load) and xdpdump's
# program (xdp-loader load) chained by it in priority order, traffic through
# both, xdp-filter's port filter dropping what it should inside the chain;
# then xdp-portredir's own object joins as a third program, first in line.
# The first part proves the dispatcher itself, independent of this
# project's program; the second that the program takes its place in it.
#
# Runs in the VM (tests/vm/run-vm.sh), where the dispatcher must work. On a
# kernel that refuses freplace (lockdown), libxdp falls back to a single
# program; outside the VM that is a SKIP, detected from libxdp, not from the
# kernel version. The whole scenario runs in a private mount namespace with
# its own bpffs, so no pin of the host's (or of other tests) is touched.

T_SUITE=vm-dispatcher
. "$(dirname "$0")/../../lib.sh"
t_need_root

for tool in xdp-filter xdp-loader socat unshare nsenter; do
	if ! command -v "$tool" >/dev/null; then
		t_skip all "$tool not installed"
		t_done
	fi
done

if [ -z "${PR_VM_PRIVATE_MNT:-}" ]; then
	trap - EXIT
	PR_VM_PRIVATE_MNT=1 exec unshare --mount --propagation private bash "$0" "$@"
fi

# Private bpffs and netns directory: nothing here is visible to the host.
mkdir -p /run/netns
mount -t tmpfs pr-netns /run/netns || { t_fail setup "cannot mount tmpfs on /run/netns"; t_done; }
mount -t bpf bpf "$BPFFS" || { t_fail setup "cannot mount bpffs on $BPFFS"; t_done; }

# The second program: xdpdump's, from xdp-tools (it passes every packet).
SECOND=${LIBXDP_OBJDIR:-/usr/lib/x86_64-linux-gnu/bpf}/xdpdump_xdp.o
SECOND_PRIO=30
if [ ! -f "$SECOND" ]; then
	t_fail setup "$SECOND missing (Debian package xdp-tools)"
	t_done
fi
OBJ=$TOP/bpf/portredir.bpf.o
# The priority the object carries in its XDP_RUN_CONFIG.
want_prio=$(sed -n 's/^#define PR_DEFAULT_PRIORITY[[:space:]]*\([0-9]*\).*/\1/p' "$TOP/bpf/portredir_abi.h" 2>/dev/null)

A=$(ns_add a) && B=$(ns_add b) || { t_fail setup "cannot create namespaces"; t_done; }
inA() { nsenter --net="/run/netns/$A" "$@"; }
# nsenter, not `ip netns exec`: the latter remounts /sys and would hide the
# bpffs mounted above, where libxdp keeps the dispatcher's state.
inB() { nsenter --net="/run/netns/$B" "$@"; }
ADDR_A=10.111.0.1 ADDR_B=10.111.0.2
if ! { ip -n "$A" link add veth0 type veth peer name veth1 netns "$B" &&
	ip -n "$A" addr add "$ADDR_A/24" dev veth0 &&
	ip -n "$B" addr add "$ADDR_B/24" dev veth1 &&
	ip -n "$A" link set veth0 up && ip -n "$B" link set veth1 up; }; then
	t_fail setup "cannot create the veth pair"
	t_done
fi
t_on_exit inB xdp-loader unload veth1 --all
t_on_exit inB xdp-filter unload veth1

# 1. xdp-filter first: libxdp decides here whether a dispatcher is possible.
out=$(inB xdp-filter load -v veth1 2>&1)
if [ $? -ne 0 ]; then
	t_fail xdp-filter-load "${out//$'\n'/ | }"
	t_done
fi
status=$(inB xdp-loader status veth1 2>&1)
if ! grep -q 'xdp_dispatcher' <<<"$status"; then
	why=$(grep -m 1 -E 'Compatibility check for dispatcher program failed|Falling back to loading single prog' <<<"$out")
	if [ -n "$why" ] && [ -z "${XDP_PORTREDIR_VM:-}" ]; then
		lockdown=$(cat /sys/kernel/security/lockdown 2>/dev/null)
		t_skip all "no multiprog dispatcher on kernel $(uname -r): libxdp said '${why# }'${lockdown:+ (lockdown: $lockdown)}; run tests/vm/run-vm.sh to prove it in a VM"
		t_done
	fi
	t_fail dispatcher-attached "xdp-filter loaded without a dispatcher: ${why:-${out//$'\n'/ | }} :: ${status//$'\n'/ | }"
	t_done
fi
t_pass dispatcher-attached

# 2. A second, independent program joins the same dispatcher, at a priority
# after xdp-filter's.
# Chained programs are listed as " =>  PRIO  NAME ..." in run order.
chain_of() { awk '$1 == "=>" { print $2, $3 }' <<<"$1"; }
ascending() { sort -n -c <<<"$(cut -d' ' -f1 <<<"$1")" 2>/dev/null; }
t_ok second-load inB xdp-loader load -P "$SECOND_PRIO" veth1 "$SECOND" || t_done
status=$(inB xdp-loader status veth1 2>&1)
t_match dispatcher-still-attached "$status" '^veth1 +xdp_dispatcher '
chain=$(chain_of "$status")
t_eq chain-length "$(grep -c . <<<"$chain")" 2
if ascending "$chain"; then
	t_pass chain-priority-order
else
	t_fail chain-priority-order "not in ascending priority: ${chain//$'\n'/, }"
fi
t_match chain-xdp-filter "$chain" '^[0-9]+ xdpfilt_'
t_eq chain-second-priority "$(awk '$2 == "xdpdump" { print $1 }' <<<"$chain")" "$SECOND_PRIO"

# 3. Traffic through both programs, and proof that both run: xdp-filter's
# port filter drops datagrams to one port while another port passes, and
# the packets that pass are the ones xdp-filter passed on down the chain.
PASS_PORT=7000 DROP_PORT=7001
t_ok filter-port inB xdp-filter port "$DROP_PORT" --mode dst --proto udp
tmp=$(mktemp -d)
t_on_exit rm -rf "$tmp"
# nsenter execs timeout, so $! is the process to stop (timeout passes the
# signal on to socat); a function here would leave socat behind holding our
# stdout, and the suite would seem to run until socat's timeout.
nsenter --net="/run/netns/$B" timeout "$(t_wait 30)" socat -u "UDP4-RECV:$PASS_PORT,bind=$ADDR_B" "OPEN:$tmp/pass,creat,append" &
t_on_exit kill $!
nsenter --net="/run/netns/$B" timeout "$(t_wait 30)" socat -u "UDP4-RECV:$DROP_PORT,bind=$ADDR_B" "OPEN:$tmp/drop,creat,append" &
t_on_exit kill $!
wait_until 5 test -e "$tmp/pass" -a -e "$tmp/drop"

# send_pass TAG: datagrams to the open port until one arrives (at most 10).
send_pass() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		echo "$1-$i" | inA socat -u - "UDP4-SENDTO:$ADDR_B:$PASS_PORT"
		wait_until 1 grep -q "^$1-" "$tmp/pass" && return 0
	done
	return 1
}
# Datagrams to the dropped port go first: the same path delivers in order,
# so once a later datagram to the open port arrives, a dropped one that had
# leaked through would have arrived too.
for i in 1 2 3; do
	echo "drop-$i" | inA socat -u - "UDP4-SENDTO:$ADDR_B:$DROP_PORT"
done
if send_pass two; then t_pass traffic-passes; else t_fail traffic-passes "no datagram reached $ADDR_B:$PASS_PORT"; fi
t_eq filtered-port-dropped "$(cat "$tmp/drop" 2>/dev/null)" ""
fstatus=$(inB xdp-filter status 2>&1)
hits=$(awk -v p="$DROP_PORT" '$1 == p && $2 == "dst,udp" { print $3 }' <<<"$fstatus")
t_ge filter-drop-counter "${hits:-0}" 3
passed=$(awk '$1 == "XDP_PASS" { print $2 }' <<<"$fstatus")
t_ge filter-pass-counter "${passed:-0}" 1

# 3b. xdp-portredir's own program joins as a third, ahead of xdp-filter as
# its XDP_RUN_CONFIG says; traffic still passes the chain of three. Where
# libxdp's dispatcher is older than 1.5.5 and the kernel checks whether an
# extension changes packet data (pr_dispatcher_prog in lib.sh), the variant
# with checksum fix-up metadata is refused for exactly that, and the one
# without joins.
ours=$(pr_dispatcher_prog)
if [ ! -f "$OBJ" ]; then
	t_fail portredir-joins "$OBJ not built (run make)"
	ours=""
elif [ "$ours" = xdp_portredir_n ]; then
	if inB xdp-loader load -v -n xdp_portredir veth1 "$OBJ" >"$tmp/load" 2>&1; then
		t_fail metadata-variant-refused "xdp-loader $(xdp-loader status --version | head -n 1) on $(uname -r) loaded xdp_portredir into its dispatcher"
	else
		# xdp-loader 1.5.4 -v shows libxdp's EINVAL, not the verifier's line.
		t_match metadata-variant-refused "$(cat "$tmp/load")" 'changes packet data|Invalid argument'
	fi
	t_eq metadata-variant-left-nothing "$(chain_of "$(inB xdp-loader status veth1 2>&1)" | grep -c .)" 2
fi
if [ -n "$ours" ] && inB xdp-loader load -v -n "$ours" veth1 "$OBJ" >"$tmp/load" 2>&1; then
	t_pass portredir-joins
	chain=$(chain_of "$(inB xdp-loader status veth1 2>&1)")
	t_eq portredir-chain-length "$(grep -c . <<<"$chain")" 3
	t_eq portredir-priority "$(awk -v n="$ours" '$2 == n { print $1 }' <<<"$chain")" "${want_prio:-PR_DEFAULT_PRIORITY not found in bpf/portredir_abi.h}"
	if ascending "$chain"; then
		t_pass portredir-chain-order
	else
		t_fail portredir-chain-order "not in ascending priority: ${chain//$'\n'/, }"
	fi
	if send_pass three; then t_pass portredir-traffic-passes; else t_fail portredir-traffic-passes "no datagram reached $ADDR_B:$PASS_PORT"; fi
elif [ -n "$ours" ]; then
	# The verifier's complaint, if it was the verifier, and xdp-loader's.
	why=$(grep -B 2 -E 'processed [0-9]+ insns' "$tmp/load" | grep -vE 'processed [0-9]+ insns|^--$' | sed 's/^libbpf: //' | tr '\n' ' ')
	t_fail portredir-joins "xdp-loader load $OBJ: ${why:+verifier: $why:: }$(tail -n 1 "$tmp/load")"
fi

# 4. Clean removal: the programs leave, the interface is bare again.
t_ok xdp-filter-unload inB xdp-filter unload veth1
t_ok xdp-loader-unload inB xdp-loader unload veth1 --all
if xdp_attached veth1 "$B"; then
	t_fail interface-clean "XDP still attached: $(ip -n "$B" link show veth1 | tr '\n' ' ')"
else
	t_pass interface-clean
fi
t_done
