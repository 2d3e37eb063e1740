#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fuzzing in CI, bounded: builds the libFuzzer harnesses (tests/fuzz/),
# replays the committed corpus, proves the comparison can fail, then fuzzes
# each for FUZZ_SECONDS (default 20). The data-path fuzzer compares the real
# XDP program (BPF_PROG_TEST_RUN, needs root) with the independent model in
# tests/fuzz/model.c, byte for byte; the rules fuzzer checks lib/rules.c under
# ASan and UBSan. Any crash or mismatch fails the suite, with the report and
# the saved input's path.

T_SUITE=fuzz
. "$(dirname "$0")/../lib.sh"
t_need_root
cd "$TOP" || exit 1

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
RUN=tests/fuzz/run-fuzzer.sh
DP=build/fuzz/fuzz_datapath
RULES=build/fuzz/fuzz_rules
CORPUS=tests/fuzz/corpus
mkdir -p build/fuzz
WORK=$(mktemp -d "$TOP/build/fuzz/ci.XXXXXX")
t_on_exit rm -rf "$WORK"

# The libFuzzer runtime comes with clang's compiler-rt (Debian:
# libclang-rt-14-dev); without it nothing here can be built.
probe() {
	printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$WORK/probe.c"
	clang -fsanitize=fuzzer,address,undefined -o "$WORK/probe" "$WORK/probe.c" >"$WORK/probe.log" 2>&1
}
if ! probe && command -v apt-get >/dev/null; then
	echo "    libFuzzer runtime missing; installing libclang-rt-14-dev"
	DEBIAN_FRONTEND=noninteractive t_long 900 apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
		libclang-rt-14-dev >/dev/null 2>&1
fi
if ! probe; then
	t_skip all "clang cannot build a libFuzzer binary (install libclang-rt-14-dev): $(head -n 1 "$WORK/probe.log")"
	t_done
fi

if ! out=$(t_long 1800 make --no-print-directory fuzz-build 2>&1); then
	t_fail build "make fuzz-build failed: $(tail -n 5 <<<"$out" | tr '\n' ' ')"
	t_done
fi
t_pass build

# field NAME LINE: the value of NAME=VALUE in LINE, or empty.
field() { sed -n "s|.*[ :]$1=\([^ ]*\).*|\1|p" <<<"$2" | head -n 1; }

# Replay of the committed corpus: clean, and it must still reach the rewrite
# and both one's complement zero corners, or the seeds have gone stale.
out=$("$RUN" replay datapath "$DP" "$WORK/replay-dp" "$CORPUS/datapath" -- -max_len=4096 2>&1)
rc=$?
h=$(grep 'pr-fuzz-datapath:' <<<"$out")
frames=$(field frames "$h") rew=$(field rewritten "$h")
zu=$(sed -n 's/.*csum-zero-class udp=\([0-9]*\) tcp=\([0-9]*\).*/\1/p' <<<"$h")
zt=$(sed -n 's/.*csum-zero-class udp=\([0-9]*\) tcp=\([0-9]*\).*/\2/p' <<<"$h")
if [ "$rc" -eq 0 ] && [ "${rew:-0}" -gt 0 ] && [ "${zu:-0}" -gt 0 ] && [ "${zt:-0}" -gt 0 ]; then
	t_pass "replay-datapath-corpus: frames=$frames rewritten=$rew csum-zero udp=$zu tcp=$zt mismatches=0"
else
	t_fail replay-datapath-corpus "rc=$rc frames=${frames:-?} rewritten=${rew:-?} zero-class udp=${zu:-?} tcp=${zt:-?} :: $(tr '\n' ' ' <<<"$out" | cut -c1-2000)"
fi
out=$("$RUN" replay rules "$RULES" "$WORK/replay-rules" "$CORPUS/rules" 2>&1)
rc=$?
h=$(grep 'pr-fuzz-rules:' <<<"$out")
rt=$(field roundtrips "$h")
if [ "$rc" -eq 0 ] && [ "${rt:-0}" -gt 0 ]; then
	t_pass "replay-rules-corpus: inputs=$(field inputs "$h") roundtrips=$rt mismatches=0"
else
	t_fail replay-rules-corpus "rc=$rc roundtrips=${rt:-?} :: $(tr '\n' ' ' <<<"$out" | cut -c1-2000)"
fi

# The model can fail: with a deliberately wrong expectation the same
# harnesses, on the same corpus, must report a mismatch and exit nonzero.
#   output     the program's output with one byte flipped
#   zero-repr  the model writing a TCP one's complement zero as 0xffff
#   roundtrip  the rules oracle expecting the target port plus one
inject() { # CASE BIN CORPUS INJECTION
	local log="$WORK/inject-$4.log" rc
	(cd "$WORK" && PR_FUZZ_INJECT=$4 "$TOP/$2" -artifact_prefix="$WORK/inject-" \
		"$TOP/$3"/* >"$log" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && grep -q '^MISMATCH: ' "$log"; then
		t_pass "$1: $(grep -m1 '^MISMATCH: ' "$log" | cut -c1-120)"
	else
		t_fail "$1" "PR_FUZZ_INJECT=$4 went unnoticed (exit $rc, no MISMATCH report)"
	fi
}
inject model-can-fail-flipped-output "$DP" "$CORPUS/datapath" output
inject model-can-fail-zero-representation "$DP" "$CORPUS/datapath" zero-repr
inject model-can-fail-rules-roundtrip "$RULES" "$CORPUS/rules" roundtrip

# Bounded fuzzing, starting from the committed seeds.
run() { # NAME BIN SEED-DIR COUNTER-KEY ARGS...
	local name=$1 bin=$2 seeds=$3 key=$4 out rc s h n
	shift 4
	out=$("$RUN" fuzz "$name" "$bin" "$FUZZ_SECONDS" "$WORK/run-$name" "$WORK/corpus-$name" \
		"$seeds" -- "$@" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/    /'
	s=$(grep "^fuzz $name:" <<<"$out")
	h=$(grep "pr-fuzz-$name:" <<<"$out")
	n=$(field "$key" "$h")
	if [ "$rc" -eq 0 ] && [ "$(field execs "$s")" -gt 0 ] 2>/dev/null && [ "${n:-0}" -gt 0 ]; then
		t_pass "$name-fuzz-${FUZZ_SECONDS}s: execs=$(field execs "$s") exec/s=$(field exec/s "$s") $key=$n mismatches=0"
	else
		t_fail "$name-fuzz-${FUZZ_SECONDS}s" "exit $rc, $s; $h (report above)"
	fi
}
run datapath "$DP" "$CORPUS/datapath" frames -max_len=4096
run rules "$RULES" "$CORPUS/rules" inputs -max_len=256 -dict="$TOP/tests/fuzz/rules.dict"
# The config file parser (accepted files must round-trip through save) and
# the output module (the JSON must parse, whatever bytes names hold).
FUZZ_SECONDS=$(((FUZZ_SECONDS + 1) / 2))
run config build/fuzz/fuzz_config "$CORPUS/config" roundtrips -max_len=2048 \
	-dict="$TOP/tests/fuzz/config.dict"
run output build/fuzz/fuzz_output "$CORPUS/output" json-documents -max_len=1024

t_done
