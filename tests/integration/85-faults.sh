#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Faults: the CLI is killed with SIGKILL at chosen points inside load,
# unload and redirect (gdb breakpoints, so the production code has no test
# hooks and no sleeps), and each time the next commands must find a state
# they can work with: `status` agrees with the kernel (XDP program ids, the
# tool's TC filters, the rules), the interrupted command can be finished or
# undone, and `unload --all` removes everything (no XDP program, no filter
# in the tool's TC slot, no pins). Also: an interface deleted while loaded,
# and bpffs unmounted under a loaded program.
#
# Runs in a network namespace of its own with a private bpffs (see
# tests/robustness/common.sh), on veth pairs made there.

T_SUITE=faults
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/robustness/common.sh"
r_isolate "$@"
P=$PORTREDIR

if ! command -v gdb >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	DEBIAN_FRONTEND=noninteractive t_long 900 apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends gdb >/dev/null 2>&1
fi
HAVE_GDB=1
command -v gdb >/dev/null || HAVE_GDB=0

r_veth va vb && r_veth vc vd || { t_fail setup "cannot create veth pairs"; t_done; }

# kill_at NAME BREAK SKIP AFTER CMD...: runs CMD under gdb and kills it with
# SIGKILL at the (SKIP+1)th time it reaches BREAK; with AFTER=return, once
# that call has returned. Passes NAME/killed only if the point was reached
# and the process died of SIGKILL there.
kill_at() {
	local name=$1 bp=$2 skip=$3 after=$4 out
	shift 4
	local ex=(-ex "break $bp")
	[ "$skip" -gt 0 ] && ex+=(-ex "ignore 1 $skip")
	ex+=(-ex run)
	[ "$after" = return ] && ex+=(-ex finish)
	ex+=(-ex 'signal SIGKILL')
	out=$(timeout 600 "${T_GDB[@]}" "${ex[@]}" --args "$@" 2>&1)
	if grep -q '^Breakpoint 1, ' <<<"$out" && grep -q 'terminated with signal SIGKILL' <<<"$out"; then
		t_pass "$name/killed-at-$bp"
		return 0
	fi
	t_fail "$name/killed-at-$bp" "the point was not reached or the process did not die there: $(grep -E 'Breakpoint|exited|terminated|rror' <<<"$out" | tr '\n' ' ' | cut -c1-400)"
	return 1
}

# status_json NAME: status --json must work and print JSON; sets j to it.
status_json() {
	local rc err
	err=$(mktemp)
	j=$("$P" status --json 2>"$err")
	rc=$?
	if [ "$rc" -ne 0 ] || ! jq -e . >/dev/null 2>&1 <<<"$j"; then
		t_fail "$1" "status --json failed (exit $rc): $(cat "$err")"
		j='{"interfaces":[],"rules":[]}'
	else
		t_pass "$1"
	fi
	rm -f "$err"
}

# finish NAME: unload --all succeeds and leaves nothing behind.
finish() {
	local out
	if out=$("$P" unload --all 2>&1); then t_pass "$1/unload-all"; else t_fail "$1/unload-all" "$out"; fi
	r_assert_clean "$1/clean"
}

# The kill-point cases need gdb; the rest of the suite does not.
fault_cases() {
	local j

	# load, killed after pinning the first map of a fresh state: a partial
	# pin directory. status must not claim there is no state, and the next
	# load completes it.
	if kill_at load-partial-pins bpf_obj_pin 1 - "$P" load va; then
		out=$("$P" status 2>&1)
		t_nomatch load-partial-pins/status-no-false-claim "$out" "nothing is loaded and no rule is set"
		t_ok load-partial-pins/load-completes "$P" load va
		status_json load-partial-pins/status-json
		r_truth load-partial-pins/status-true "$j" va vc
	fi
	finish load-partial-pins

	# load, killed as libxdp's attach returns: XDP attached, nothing else.
	if kill_at load-after-xdp-attach xdp_program__attach 0 return "$P" load va; then
		status_json load-after-xdp-attach/status-json
		r_truth load-after-xdp-attach/status-true "$j" va
		t_eq load-after-xdp-attach/kernel-has-xdp "$([ "$(r_xdp_id va)" != 0 ] && echo yes)" yes
		# The half-loaded interface can be unloaded by name.
		t_ok load-after-xdp-attach/unload-by-name "$P" unload va
		t_eq load-after-xdp-attach/unloaded "$(r_leftovers | grep -o 'va:[a-z-]*')" ""
	fi
	finish load-after-xdp-attach

	# load, killed before the TC program goes on.
	if kill_at load-before-tc pr_tc_attach 0 - "$P" load va; then
		status_json load-before-tc/status-json
		r_truth load-before-tc/status-true "$j" va
		out=$("$P" load va 2>&1)
		t_match load-before-tc/reload-says-loaded "$out" "already loaded on va"
	fi
	finish load-before-tc

	# load, killed after XDP and TC are on but before it is recorded.
	if kill_at load-before-record pr_attach_record 0 - "$P" load va; then
		status_json load-before-record/status-json
		r_truth load-before-record/status-true "$j" va
		t_eq load-before-record/tc-on "$([ "$(r_tc_id va ingress)" != 0 ] && echo yes)" yes
	fi
	finish load-before-record

	# load of two interfaces, killed before the second: the first is
	# complete, and loading the second alone then works.
	if kill_at load-two-killed-between pr_iface_attach 1 - "$P" load va vc; then
		status_json load-two-killed-between/status-json
		r_truth load-two-killed-between/status-true "$j" va vc
		t_eq load-two-killed-between/first-loaded "$(jq -r '.interfaces[] | select(.name == "va") | .state' <<<"$j")" loaded
		t_ok load-two-killed-between/load-second "$P" load vc
		status_json load-two-killed-between/status-json-after
		r_truth load-two-killed-between/status-true-after "$j" va vc
	fi
	finish load-two-killed-between

	# unload, killed between the XDP detach and the TC detach: the TC
	# filter is left without its XDP program. status must show it, and
	# unload --all must remove it.
	"$P" load va >/dev/null && "$P" redirect 7000 7001 >/dev/null
	if kill_at unload-between-xdp-and-tc pr_tc_detach 0 - "$P" unload va; then
		t_eq unload-between-xdp-and-tc/xdp-gone "$(r_xdp_id va)" 0
		t_eq unload-between-xdp-and-tc/tc-left "$([ "$(r_tc_id va ingress)" != 0 ] && echo yes)" yes
		status_json unload-between-xdp-and-tc/status-json
		r_truth unload-between-xdp-and-tc/status-true "$j" va
		t_eq unload-between-xdp-and-tc/rules-kept "$(r_rules "$j")" "tcp 7000 -> 7001;udp 7000 -> 7001"
	fi
	finish unload-between-xdp-and-tc

	# unload --all of two interfaces, killed before the second.
	"$P" load va vc >/dev/null && "$P" redirect 7000 7001 >/dev/null
	if kill_at unload-two-killed-between pr_iface_detach 1 - "$P" unload --all; then
		status_json unload-two-killed-between/status-json
		r_truth unload-two-killed-between/status-true "$j" va vc
	fi
	finish unload-two-killed-between

	# unload, killed after detaching, before removing the pins: rules stay
	# readable and usable.
	"$P" load va >/dev/null && "$P" redirect 7000 7001 >/dev/null
	if kill_at unload-before-pins-removed pr_pins_remove 0 - "$P" unload va; then
		status_json unload-before-pins-removed/status-json
		r_truth unload-before-pins-removed/status-true "$j" va
		t_eq unload-before-pins-removed/rules-kept "$(r_rules "$j")" "tcp 7000 -> 7001;udp 7000 -> 7001"
		t_ok unload-before-pins-removed/load-again "$P" load va
	fi
	finish unload-before-pins-removed

	# unload, killed after removing one pin: a partial pin directory.
	"$P" load va >/dev/null && "$P" redirect 7000 7001 >/dev/null
	if kill_at unload-partial-pins unlink 1 - "$P" unload va; then
		out=$("$P" status 2>&1)
		t_nomatch unload-partial-pins/status-no-false-claim "$out" "nothing is loaded and no rule is set"
		t_ok unload-partial-pins/redirect-works "$P" redirect 7100 7101
		status_json unload-partial-pins/status-json
		r_truth unload-partial-pins/status-true "$j" va
	fi
	finish unload-partial-pins

	# redirect of both protocols, killed between them: the first protocol's
	# rule is in, the second not; status shows exactly that, and the rule
	# can be removed again.
	"$P" load va >/dev/null
	if kill_at redirect-between-protos pr_rules_write_entries 1 - "$P" redirect 7000-7009 8000; then
		status_json redirect-between-protos/status-json
		t_eq redirect-between-protos/one-proto-in "$(r_rules "$j")" "udp 7000-7009 -> 8000-8009"
		t_ok redirect-between-protos/remove "$P" redirect --remove 7000-7009
		status_json redirect-between-protos/status-json-after
		t_eq redirect-between-protos/none-left "$(r_rules "$j")" ""
	fi
	finish redirect-between-protos

	# redirect --remove, killed between the protocols.
	"$P" load va >/dev/null && "$P" redirect 7000 7001 >/dev/null
	if kill_at remove-between-protos pr_rules_write_entries 1 - "$P" redirect --remove 7000; then
		status_json remove-between-protos/status-json
		t_eq remove-between-protos/one-proto-left "$(r_rules "$j")" "tcp 7000 -> 7001"
		t_ok remove-between-protos/remove-rest "$P" redirect --remove 7000
	fi
	finish remove-between-protos

	# Killed while holding the lock: the kernel drops a dead process's
	# flock, so the next command neither waits nor changes what it finds.
	"$P" load va >/dev/null && "$P" redirect 7000 7001 >/dev/null
	if kill_at lock-holder-killed pr_rules_read 0 - "$P" redirect 7100 7101; then
		# -v says "waiting for another xdp-portredir command" the moment
		# the lock is found held: its absence proves no wait, whatever the
		# machine's load makes of the command's time.
		start=$(date +%s%N)
		next=$("$P" redirect 7200 7201 -v 2>&1)
		t_eq lock-holder-killed/next-command "$?" 0
		ms=$((($(date +%s%N) - start) / 1000000))
		t_nomatch lock-holder-killed/no-wait "$next" 'waiting for another'
		echo "    (the next command took ${ms} ms)"
		status_json lock-holder-killed/status-json
		t_eq lock-holder-killed/rules "$(r_rules "$j")" "tcp 7000 -> 7001;tcp 7200 -> 7201;udp 7000 -> 7001;udp 7200 -> 7201"
	fi
	finish lock-holder-killed
}

if [ "$HAVE_GDB" = 1 ]; then
	fault_cases
else
	t_skip kill-points "gdb is not installed and could not be installed (Debian package gdb)"
fi

# An interface deleted while loaded: status says so, unload --all forgets it.
"$P" load va vc >/dev/null && "$P" redirect 7000 7001 >/dev/null
ip link del vc
status_json iface-gone/status-json
t_eq iface-gone/state "$(jq -r '.interfaces[] | select(.name == "vc") | .state' <<<"$j")" interface-gone
r_truth iface-gone/others-true "$j" va
t_match iface-gone/note "$("$P" status 2>&1)" "interface vc .* is gone"
out=$("$P" unload --all 2>&1)
t_eq iface-gone/unload-all-exit "$?" 0
t_match iface-gone/unload-all-says "$out" "forgot vc .*no longer exists"
r_assert_clean iface-gone/clean
r_veth vc vd || t_fail setup "cannot recreate vc/vd"

# bpffs unmounted under a loaded program (in a mount namespace of its own,
# so the pins outside stay): every command says what is wrong on one line
# and changes nothing it cannot reach; unload --all still takes the
# programs off; the state outside is untouched.
"$P" load va >/dev/null && "$P" redirect 7000 7001 >/dev/null
before=$("$P" status --json | jq -S -c '.rules |= map(del(.packets, .bytes)) | {interfaces: [.interfaces[] | {name, state}], rules}')
um() { unshare -m --propagation private bash -c "umount '$BPFFS' && \"\$@\"" um "$@"; }
bad_um() { # NAME CMD...: exit 1, one line, mentions bpffs or the lost pins
	local name=$1 out rc
	shift
	out=$(um "$P" "$@" 2>&1)
	rc=$?
	t_eq "bpffs-unmounted/$name/exit" "$rc" 1
	t_match "bpffs-unmounted/$name/message" "$out" "bpffs|pinned maps"
	t_eq "bpffs-unmounted/$name/one-line" "$(grep -c . <<<"$out")" 1
}
bad_um status status
bad_um status-json status --json
bad_um redirect redirect 7100 7101
bad_um poll poll -n 1 -i 10
bad_um load-other load vc
after=$("$P" status --json | jq -S -c '.rules |= map(del(.packets, .bytes)) | {interfaces: [.interfaces[] | {name, state}], rules}')
t_eq bpffs-unmounted/state-untouched "$after" "$before"
out=$(um "$P" unload --all 2>&1)
t_eq bpffs-unmounted/unload-all-exit "$?" 0
t_eq bpffs-unmounted/unload-all-detached "$(r_xdp_id va)/$(r_tc_id va ingress)/$(r_tc_id va egress)" "0/0/0"
finish bpffs-unmounted

t_done
