# SPDX-License-Identifier: GPL-2.0
# Fuzzing (included by the top Makefile):
#   make fuzz-build                 builds the fuzzers into build/fuzz/ (data path,
#                                   rule syntax, config file, JSON output)
#   make fuzz [FUZZ_SECONDS=60]     runs each for FUZZ_SECONDS, fails on any crash or mismatch
#   make fuzz-replay                runs the committed corpus once through both
#   make fuzz-corpus                regenerates the seeds in tests/fuzz/corpus/
# New inputs found go to build/fuzz/corpus/, crash inputs to build/fuzz/run-*/.
# Needs clang's libFuzzer runtime (Debian: libclang-rt-14-dev).

FUZZ_SECONDS ?= 60
FUZZ_OUT := build/fuzz
FUZZ_CC ?= $(CLANG)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -g -O1 $(WARNINGS) -std=gnu11 -D_GNU_SOURCE $(LIBBPF_CFLAGS) -Ilib -I. \
	-Itests/unit -Itests/fuzz $(FUZZ_SAN)
FUZZ_CORPUS := tests/fuzz/corpus
FUZZ_RUN := tests/fuzz/run-fuzzer.sh
FUZZ_DP := $(FUZZ_OUT)/fuzz_datapath
FUZZ_RULES := $(FUZZ_OUT)/fuzz_rules
FUZZ_DP_ARGS := -max_len=4096
FUZZ_RULES_ARGS := -max_len=256 -dict=$(CURDIR)/tests/fuzz/rules.dict
FUZZ_CONFIG := $(FUZZ_OUT)/fuzz_config
FUZZ_OUTPUT := $(FUZZ_OUT)/fuzz_output
FUZZ_CONFIG_ARGS := -max_len=2048 -dict=$(CURDIR)/tests/fuzz/config.dict
FUZZ_OUTPUT_ARGS := -max_len=1024

.PHONY: fuzz fuzz-build fuzz-replay fuzz-corpus

fuzz-build: $(FUZZ_DP) $(FUZZ_RULES) $(FUZZ_CONFIG) $(FUZZ_OUTPUT)

$(FUZZ_OUT)/obj:
	mkdir -p $@

# The harness and model get coverage instrumentation; xdprun.c only sanitizers.
$(FUZZ_OUT)/obj/%.o: tests/fuzz/%.c tests/fuzz/*.h $(LIB_HDRS) $(SKEL) config.mk | $(FUZZ_OUT)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_OUT)/obj/xdprun.o: tests/unit/xdprun.c tests/unit/xdprun.h config.mk | $(FUZZ_OUT)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

# The rule parser is the code under test in fuzz_rules, so it is rebuilt
# here with coverage instrumentation instead of taken from libportredir.a.
$(FUZZ_OUT)/obj/lib-%.o: lib/%.c $(LIB_HDRS) config.mk | $(FUZZ_OUT)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DP): $(FUZZ_OUT)/obj/fuzz_datapath.o $(FUZZ_OUT)/obj/model.o $(FUZZ_OUT)/obj/gen.o \
	    $(FUZZ_OUT)/obj/xdprun.o $(LIB_A)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# The library last: what rules.c calls beyond those (the counters' retire, lib/totals.c).
$(FUZZ_RULES): $(FUZZ_OUT)/obj/fuzz_rules.o $(FUZZ_OUT)/obj/lib-rules.o \
	       $(FUZZ_OUT)/obj/lib-errbuf.o $(FUZZ_OUT)/obj/lib-percpu.o \
	       $(FUZZ_OUT)/obj/lib-params.o $(LIB_A)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# The config parser and the output module are the code under test in these two.
$(FUZZ_CONFIG): $(FUZZ_OUT)/obj/fuzz_config.o $(FUZZ_OUT)/obj/lib-config.o \
		$(FUZZ_OUT)/obj/lib-config_parse.o $(FUZZ_OUT)/obj/lib-config_write.o $(LIB_A)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(FUZZ_OUTPUT): $(FUZZ_OUT)/obj/fuzz_output.o $(FUZZ_OUT)/obj/lib-output.o
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^

$(FUZZ_OUT)/mkcorpus: tests/fuzz/mkcorpus.c tests/fuzz/gen.c tests/fuzz/gen.h \
		      tests/unit/pktbuild.o | $(FUZZ_OUT)/obj
	$(CC) $(CFLAGS) -Itests/unit -Itests/fuzz -o $@ tests/fuzz/mkcorpus.c tests/fuzz/gen.c \
		tests/unit/pktbuild.o $(LDFLAGS)

fuzz-corpus: $(FUZZ_OUT)/mkcorpus
	$(FUZZ_OUT)/mkcorpus $(FUZZ_CORPUS)

# Both fuzzers run even if the first fails; the target fails if either did.
fuzz: fuzz-build
	@rc=0; \
	$(FUZZ_RUN) fuzz datapath $(FUZZ_DP) $(FUZZ_SECONDS) $(FUZZ_OUT)/run-datapath \
		$(FUZZ_OUT)/corpus/datapath $(FUZZ_CORPUS)/datapath -- $(FUZZ_DP_ARGS) || rc=1; \
	$(FUZZ_RUN) fuzz rules $(FUZZ_RULES) $(FUZZ_SECONDS) $(FUZZ_OUT)/run-rules \
		$(FUZZ_OUT)/corpus/rules $(FUZZ_CORPUS)/rules -- $(FUZZ_RULES_ARGS) || rc=1; \
	$(FUZZ_RUN) fuzz config $(FUZZ_CONFIG) $(FUZZ_SECONDS) $(FUZZ_OUT)/run-config \
		$(FUZZ_OUT)/corpus/config $(FUZZ_CORPUS)/config -- $(FUZZ_CONFIG_ARGS) || rc=1; \
	$(FUZZ_RUN) fuzz output $(FUZZ_OUTPUT) $(FUZZ_SECONDS) $(FUZZ_OUT)/run-output \
		$(FUZZ_OUT)/corpus/output $(FUZZ_CORPUS)/output -- $(FUZZ_OUTPUT_ARGS) || rc=1; \
	exit $$rc

fuzz-replay: fuzz-build
	@rc=0; \
	$(FUZZ_RUN) replay datapath $(FUZZ_DP) $(FUZZ_OUT)/replay-datapath \
		$(FUZZ_CORPUS)/datapath -- $(FUZZ_DP_ARGS) || rc=1; \
	$(FUZZ_RUN) replay rules $(FUZZ_RULES) $(FUZZ_OUT)/replay-rules \
		$(FUZZ_CORPUS)/rules -- $(FUZZ_RULES_ARGS) || rc=1; \
	exit $$rc

clean::
	rm -rf $(FUZZ_OUT)
