# SPDX-License-Identifier: GPL-2.0
# Robustness (included by the top Makefile):
#   make robustness-tools   helper programs of tests/integration/85-89
#   make check-asan         the test suite with SANITIZE=1, in a copy of the
#                           tree (build/asan/src), all suites but a few (see
#                           tests/robustness/asan.sh); ASAN_SUITES="10-demo ..."
#                           picks suites
#   make check-valgrind     every CLI command under valgrind memcheck
#   make cppcheck           cppcheck on lib/, xdp-portredir/, tests/tools/
#   make clang-tidy         clang-tidy (.clang-tidy) on lib/ and xdp-portredir/
# The suites tests/integration/85-89 run all of these in CI (88 and 89 a
# bounded part); these targets need root where the suites do.

ROBUST_TOOLS := tests/robustness/rule_race

.PHONY: robustness-tools check-asan check-valgrind cppcheck clang-tidy

robustness-tools: $(ROBUST_TOOLS)

tests/robustness/rule_race: tests/robustness/rule_race.c $(TEST_COMMON_OBJS) $(LIB_A) \
			    $(LIB_HDRS) $(SKEL) config.mk
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(TEST_COMMON_OBJS) $(LIB_A) $(LDFLAGS) \
		$(LDLIBS) -lpthread

check-asan:
	tests/robustness/asan.sh $(if $(ASAN_SUITES),--suites "$(ASAN_SUITES)")

check-valgrind: $(CLI)
	tests/robustness/valgrind.sh

# Static analysis covers the userspace C we write: the library, the CLI and
# the test tools (the BPF side is checked by the verifier and the tests).
# Userspace only: *.bpf.c is BPF C, which the verifier checks.
STATIC_SRCS = $(LIB_SRCS) $(CLI_SRCS) $(filter-out %.bpf.c,$(wildcard tests/tools/*.c))
STATIC_INCLUDES := -Ilib -I. $(LIBBPF_CFLAGS) $(LIBXDP_CFLAGS)

# cppcheck: warnings, performance and portability; any finding fails. Its
# suppressions, each with a reason, are in tests/robustness/cppcheck.supp.
cppcheck: $(SKEL)
	cppcheck --quiet --error-exitcode=1 --inline-suppr \
		--enable=warning,performance,portability --std=c11 \
		--suppressions-list=tests/robustness/cppcheck.supp \
		--include=tests/robustness/cppcheck-macros.h \
		-D__linux__ -D__x86_64__ -D_GNU_SOURCE -DPR_VERSION='"0"' \
		-DPR_LIBBPF_BUILD_VERSION='"0"' -DPR_LIBXDP_BUILD_VERSION='"0"' \
		$(STATIC_INCLUDES) $(STATIC_SRCS)

# clang-tidy: the checks in .clang-tidy, every warning an error, on the
# library and the CLI (tests/tools has its own owner and many findings of
# style checks; cppcheck covers it). One file per run: clang-tidy 14 keeps
# analyzer state across files given together and then reports every
# va_start'ed va_list of the second file as uninitialised.
# lib/object.c alone runs without clang-analyzer-unix.Malloc: it is the one
# file that calls the bpftool-generated skeleton's open function, whose
# error path frees through libbpf's bpf_object__destroy_skeleton(), which
# the analyzer cannot see into, so it reports a leak there
# (lib/portredir.skel.h) that is not one. object.c allocates nothing else.
# (A --line-filter cannot drop it: the analyzer files the report under the
# calling file's line.)
TIDY_SRCS = $(LIB_SRCS) $(CLI_SRCS)
clang-tidy: $(SKEL)
	@rc=0; for f in $(TIDY_SRCS); do \
		extra=; [ "$$f" = lib/object.c ] && extra=--checks=-clang-analyzer-unix.Malloc; \
		clang-tidy --quiet --config-file=.clang-tidy --warnings-as-errors='*' $$extra \
			$$f -- $(filter-out -Werror,$(WARNINGS)) -std=gnu11 -D_GNU_SOURCE \
			-DPR_VERSION='"0"' -DPR_LIBBPF_BUILD_VERSION='"0"' \
			-DPR_LIBXDP_BUILD_VERSION='"0"' $(STATIC_INCLUDES) || rc=1; \
	done; \
	[ $$rc = 0 ] && echo "clang-tidy: $(words $(TIDY_SRCS)) files clean"; exit $$rc

clean::
	rm -f $(ROBUST_TOOLS)
	rm -rf build/asan
