#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad input: each case asserts the message, the exit code, and that the
# tool's state (interfaces and rules) is exactly what it was before.
. "$(dirname "$0")/../lib.sh"
t_need_root
t_ensure_bpffs
"$PORTREDIR" unload --all >/dev/null 2>&1
t_on_exit "\"$PORTREDIR\" unload --all"

# bad NAME WANT_EXIT WANT_MESSAGE_REGEX ARGS...
bad() {
	local name=$1 want_rc=$2 want_msg=$3 before after out rc
	shift 3
	before=$(pr_state)
	bytes=$(bpffs_bytes)
	out=$("$PORTREDIR" "$@" 2>&1)
	rc=$?
	after=$(pr_state)
	t_eq "$name/exit-code" "$rc" "$want_rc"
	t_match "$name/message" "$out" "$want_msg"
	t_eq "$name/state-unchanged" "$after" "$before"
	t_eq "$name/bpffs-unchanged" "$(bpffs_bytes)" "$bytes"
}

# Nothing loaded, no pins: failed commands must not leave a pin directory
# (an empty one used to make status fail with nothing on stdout).
t_eq empty/no-pin-dir "$(test -e "$PIN_DIR" && echo present)" ""
bad empty/unload-not-loaded 1 "xdp-portredir is not loaded on 'lo'" unload lo
bad empty/remove-missing 1 "no udp or tcp rule for port 7999" redirect --remove 7999
bad empty/load-unknown-interface 1 "unknown interface 'nosuchif0'" load nosuchif0
t_eq empty/still-no-pin-dir "$(test -e "$PIN_DIR" && echo present)" ""
out=$("$PORTREDIR" status 2>&1)
t_eq empty/status-exit "$?" 0
t_match empty/status-says-no-pins "$out" "pin-dir: *none"
t_match empty/status-json "$("$PORTREDIR" status --json)" '"pin-dir":"none"'
# An empty pin directory (what older versions left) is no state either.
mkdir -p "$PIN_DIR"
t_match empty-dir/status-json "$("$PORTREDIR" status --json)" '"pin-dir":"none"'
rmdir "$PIN_DIR"

# A known state to compare against: loaded on lo, two rules.
"$PORTREDIR" load lo >/dev/null || t_fail setup "load lo failed"
"$PORTREDIR" redirect 7999 7998 --proto udp >/dev/null || t_fail setup "rule 1"
"$PORTREDIR" redirect 8000-8099 9000 --proto tcp >/dev/null || t_fail setup "rule 2"
t_match setup-state "$(pr_state)" '"rule":"udp 7999 -> 7998"'

bad unknown-interface 1 "unknown interface 'nosuchif0'" load nosuchif0
bad double-load 1 "xdp-portredir is already loaded on lo; unload it first" load lo
bad port-0 2 "port 0 is out of range 1-65535" redirect 0 7998
bad port-65536 2 "port 65536 is out of range 1-65535" redirect 65536 7998
bad target-65536 2 "invalid target port: port 65536 is out of range" redirect 7000 65536
bad port-abc 2 "invalid port 'abc'" redirect abc 7998
bad range-reversed 2 "first port must not exceed the last" redirect 8099-8000 9000
bad range-past-65535 2 "ends at 65570, past 65535" redirect 65000-65535 65035
bad range-dangling 2 "invalid port range '8000-'" redirect 8000- 9000
bad self-redirect 2 "redirects the port to itself" redirect 7000 7000
bad self-redirect-range 2 "redirects every port to itself" redirect 7000-7010 7000
bad overlap-names-existing 1 "overlaps existing rule tcp 8000-8099 -> 9000-9099" redirect 8050 100 --proto tcp
# The same rule again is no error (scripts re-run their commands); a different one is.
bytes=$(bpffs_bytes)
out=$("$PORTREDIR" redirect 8000-8099 9000 --proto tcp 2>&1)
t_eq identical-rule/exit-0 "$?" 0
t_match identical-rule/says-already-there "$out" "rule tcp 8000-8099 -> 9000-9099 is already there"
t_eq identical-rule/bpffs-unchanged "$(bpffs_bytes)" "$bytes"
out=$("$PORTREDIR" redirect 7999 7998 2>&1)
t_eq identical-one-proto/exit-0 "$?" 0
t_match identical-one-proto/notes-udp "$out" "rule udp 7999 -> 7998 is already there"
t_match identical-one-proto/adds-tcp "$out" "added rule tcp 7999 -> 7998"
"$PORTREDIR" redirect --remove 7999 --proto tcp >/dev/null
bad different-target-refused 1 "overlaps existing rule tcp 8000-8099 -> 9000-9099" redirect 8000-8099 9100 --proto tcp
bad overlap-second-proto-rolls-back 1 "overlaps existing rule udp 7999 -> 7998" redirect 7990-8000 100
bad remove-missing 1 "no udp or tcp rule for port 1234" redirect --remove 1234
bad remove-missing-proto 1 "no tcp rule for port 7999" redirect --remove 7999 --proto tcp
bad remove-part-of-range 1 "belongs to rule tcp 8000-8099 -> 9000-9099: remove that rule whole" redirect --remove 8050 --proto tcp
bad missing-target 2 "missing <to-port>" redirect 7000
bad bad-proto 2 "invalid value 'icmp' for --proto" redirect 7000 7001 --proto icmp
bad hw-mode 2 "hw mode is not supported" load --mode hw lo
bad bad-mode 2 "invalid value 'fast' for --mode \(one of: native, skb, hw\)" load --mode fast lo
bad bad-priority 2 "invalid value '-3' for --priority" load --priority -3 lo
bad unknown-option 2 "unknown option '--frobnicate'" load --frobnicate lo
bad unknown-command 2 "unknown command 'frob'" frob
bad no-command 2 "Usage: xdp-portredir <command>"
bad unload-needs-target 2 "give either interface names or --all" unload
bad unload-not-loaded 1 "xdp-portredir is not loaded on 'nosuchif0' \(no such interface\)" unload nosuchif0

# A second interface the tool is not on: one end of a veth pair made here.
ip link add prt$$d type veth peer name prt$$e 2>/dev/null && t_on_exit "ip link del prt$$d"
if ip link show prt$$d >/dev/null 2>&1; then
	bad unload-where-not-loaded 1 "xdp-portredir is not loaded on 'prt$$d'" unload prt$$d
	# All or nothing: lo is taken first in this order, then the dummy fails.
	"$PORTREDIR" unload lo >/dev/null
	before=$(pr_state)
	out=$("$PORTREDIR" load --mode native lo prt$$d 2>&1)
	t_eq load-two-rolls-back/exit-code "$?" 1
	t_eq load-two-rolls-back/state-unchanged "$(pr_state)" "$before"
	t_nomatch load-two-rolls-back/lo-not-left "$(ip link show lo)" "xdp"
	"$PORTREDIR" load lo >/dev/null
else
	t_fail veth-interface "cannot create a veth pair"
fi

# Prefixes: commands and long options may be abbreviated.
t_match prefix-command "$("$PORTREDIR" stat --j 2>&1)" '"interfaces":\['
t_ok prefix-option "$PORTREDIR" redirect --prot udp 5555 5556
t_ok prefix-option-remove "$PORTREDIR" red --rem 5555

# bpffs: not mounted, and cannot be mounted (no CAP_SYS_ADMIN).
"$PORTREDIR" redirect 7999 7998 --proto udp >/dev/null
before=$(pr_state)
out=$(unshare -m --propagation private bash -c "umount $BPFFS && '$PORTREDIR' status" 2>&1)
rc=$?
t_eq bpffs-unmounted/status-exit "$rc" 1
t_match bpffs-unmounted/status-says-how "$out" "not mounted at $BPFFS.*mount -t bpf bpf $BPFFS"
# Mounting fails when /sys/fs/bpf cannot take a mount (here: it is a file).
out=$(unshare -m --propagation private bash -c \
	"umount $BPFFS && mount -t tmpfs prt-sysfs /sys/fs && touch $BPFFS && '$PORTREDIR' redirect 7000 7001" 2>&1)
rc=$?
t_eq bpffs-unmountable/exit "$rc" 1
t_match bpffs-unmountable/message "$out" "bpffs is not mounted at $BPFFS and mounting it failed .*mount it with: mount -t bpf bpf $BPFFS"
t_eq bpffs-unmounted-elsewhere/state-intact "$(pr_state)" "$before"

# One error path: text on stderr, or under --json one JSON object on stderr
# with the command, the message and the exit code.
out=$("$PORTREDIR" monitor --interface nosuchif0 2>&1 >/dev/null)
t_eq error-text/line "$out" "xdp-portredir monitor: unknown interface 'nosuchif0' (see 'ip link')"
out=$("$PORTREDIR" monitor --json --interface nosuchif0 2>&1 >/dev/null)
rc=$?
t_eq error-json/exit "$rc" 1
t_eq error-json/object "$(jq -c '.error | [.command, .exit]' <<<"$out")" '["monitor",1]'
t_match error-json/message "$(jq -r .error.message <<<"$out")" "^unknown interface 'nosuchif0' \\(see 'ip link'\\)$"
out=$("$PORTREDIR" monitor --json --sample 0/3 2>&1 >/dev/null)
rc=$?
t_eq error-json-usage/exit "$rc" 2
t_eq error-json-usage/exit-in-object "$(jq -r .error.exit <<<"$out")" 2
out=$(unshare -m --propagation private bash -c "umount $BPFFS && '$PORTREDIR' status --json" 2>&1 >/dev/null)
t_match error-json/status-bpffs-unmounted "$(jq -r .error.message <<<"$out")" "not mounted at $BPFFS"

# Help is generated from the option tables: every option appears.
help=$("$PORTREDIR" load --help)
for opt in --mode --priority --chain-call-actions --verbose --help; do
	t_match "help/load$opt" "$help" -- "$opt"
done
t_eq help/exit-0 "$("$PORTREDIR" redirect --help >/dev/null; echo $?)" 0

# -v shows libbpf's and libxdp's own messages; without it they stay quiet.
"$PORTREDIR" unload --all >/dev/null
quiet=$("$PORTREDIR" load lo 2>&1)
"$PORTREDIR" unload lo >/dev/null
loud=$("$PORTREDIR" load -vv lo 2>&1)
t_nomatch verbose/quiet-without-v "$quiet" '^lib(bpf|xdp): '
t_match verbose/library-detail-with-vv "$loud" '^lib(bpf|xdp): '

t_ok unload-all "$PORTREDIR" unload --all
t_assert_clean
t_done
