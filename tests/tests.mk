# SPDX-License-Identifier: GPL-2.0
# Test programs and the `make check` entry point.

TEST_UNIT := tests/unit/test_datapath tests/unit/test_rules tests/unit/test_reply \
	tests/unit/test_vocab tests/unit/test_config tests/unit/test_params tests/unit/test_frags \
	tests/unit/test_multibuf tests/unit/test_scope tests/unit/test_variant
TEST_TOOLS := tests/tools/nettool tests/tools/progtime tests/tools/bpffs_snap tests/tools/tc_pass.bpf.o \
	tests/tools/tc_count.bpf.o tests/tools/tc_other tests/tools/flowpeer \
	tests/tools/xdp_frags_count.bpf.o tests/tools/xdp_frags_load tests/tools/pathcount
TEST_COMMON_OBJS := tests/unit/pktbuild.o tests/unit/xdprun.o

.PHONY: tests
tests: $(TEST_UNIT) $(TEST_TOOLS)

tests/unit/%.o: tests/unit/%.c tests/unit/*.h $(LIB_HDRS) $(SKEL) config.mk
	$(CC) $(CFLAGS) -Itests/unit -c $< -o $@

tests/unit/test_datapath: tests/unit/test_datapath.o $(TEST_COMMON_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests/unit/test_reply: tests/unit/test_reply.o $(TEST_COMMON_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests/unit/test_multibuf: tests/unit/test_multibuf.o $(TEST_COMMON_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests/unit/test_variant: tests/unit/test_variant.o $(TEST_COMMON_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests/unit/test_frags: tests/unit/test_frags.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests/unit/test_scope: tests/unit/test_scope.o $(TEST_COMMON_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests/unit/test_rules: tests/unit/test_rules.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests/unit/test_vocab: tests/unit/test_vocab.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests/unit/test_config: tests/unit/test_config.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests/unit/test_params: tests/unit/test_params.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Counts the live program's path (bench/icount.c) on the state pinned by a test.
tests/tools/pathcount.o: tests/tools/pathcount.c bench/icount.h tests/unit/xdprun.h $(LIB_HDRS) $(SKEL) config.mk
	$(CC) $(CFLAGS) -c $< -o $@

tests/tools/pathcount: tests/tools/pathcount.o bench/icount.o tests/unit/xdprun.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests/tools/progtime: tests/tools/progtime.c config.mk
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LIBBPF_LIBS)

tests/tools/bpffs_snap: tests/tools/bpffs_snap.c config.mk
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LIBBPF_LIBS)

tests/tools/tc_pass.bpf.o: tests/tools/tc_pass.bpf.c config.mk
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

tests/tools/tc_count.bpf.o: tests/tools/tc_count.bpf.c config.mk
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

tests/tools/xdp_frags_count.bpf.o: tests/tools/xdp_frags_count.bpf.c config.mk
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

tests/tools/xdp_frags_load: tests/tools/xdp_frags_load.c config.mk
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LIBXDP_LIBS) $(LIBBPF_LIBS)

tests/tools/tc_other: tests/tools/tc_other.c config.mk
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LIBBPF_LIBS)

tests/tools/flowpeer: tests/tools/flowpeer.c config.mk
	$(CC) $(CFLAGS) -pthread -o $@ $< $(LDFLAGS) -pthread

tests/tools/%: tests/tools/%.c config.mk
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

# The whole suite: unit, host integration and (where it can run) the VM row.
check: all
	tests/run.sh

clean::
	rm -f $(TEST_UNIT) $(TEST_TOOLS) tests/unit/*.o tests/tools/*.o
