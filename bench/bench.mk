# SPDX-License-Identifier: GPL-2.0
# The benchmark (issue 6): `make bench`, or `make bench BENCH_QUICK=1` for the
# short mode CI runs. Included by the top Makefile.

BENCH_BPF := bench/empty.bpf.o bench/ref_rewrite.bpf.o
BENCH_PROGS := bench/progcost bench/udpflood bench/udpsink
BENCH_QUICK ?=

.PHONY: bench bench-build

bench-build: $(BENCH_BPF) $(BENCH_PROGS)

$(BENCH_BPF): bench/%.bpf.o: bench/%.bpf.c config.mk
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

bench/progcost.o: bench/progcost.c bench/icount.h tests/unit/xdprun.h tests/unit/pktbuild.h $(LIB_HDRS) \
		$(SKEL) config.mk
	$(CC) $(CFLAGS) -Itests/unit -c $< -o $@

bench/icount.o: bench/icount.c bench/icount.h config.mk
	$(CC) $(CFLAGS) -c $< -o $@

bench/progcost: bench/progcost.o bench/icount.o tests/unit/xdprun.o tests/unit/pktbuild.o $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench/udpflood bench/udpsink: bench/%: bench/%.c bench/benchutil.h config.mk
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

# The end-to-end half needs the CLI. It is built if it can be; if not, the
# benchmark says which figures it skipped and why.
bench: bench-build
	@$(MAKE) --no-print-directory $(CLI) >/dev/null 2>&1 || \
		echo "bench: $(CLI) does not build; its end-to-end figures will be skipped"
	BENCH_QUICK=$(BENCH_QUICK) bench/run.sh

clean::
	rm -f $(BENCH_BPF) $(BENCH_PROGS) bench/*.o
