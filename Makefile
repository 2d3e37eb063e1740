# SPDX-License-Identifier: GPL-2.0
#
# xdp-portredir: ./configure && make && make check && make install
#
# Everything is built in place. The BPF object is embedded into the binary
# as a bpftool skeleton, so nothing has to be looked up at run time.

ifeq ($(filter clean distclean help,$(MAKECMDGOALS)),)
ifeq ($(wildcard config.mk),)
$(error config.mk not found: run ./configure first)
endif
endif
-include config.mk

VERSION := $(shell cat VERSION)

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DESTDIR ?=

# Userspace flags. SANITIZE=1 builds with ASan and UBSan.
WARNINGS := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2
CFLAGS ?= -O2 -g
override CFLAGS += $(WARNINGS) -std=gnu11 -D_GNU_SOURCE -fno-strict-aliasing \
	-DPR_VERSION='"$(VERSION)"' -DPR_LIBBPF_BUILD_VERSION='"$(LIBBPF_VERSION)"' \
	-DPR_LIBXDP_BUILD_VERSION='"$(LIBXDP_VERSION)"' \
	$(LIBBPF_CFLAGS) $(LIBXDP_CFLAGS) -Ilib -I.
ifeq ($(SANITIZE),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
override LDFLAGS += -fsanitize=address,undefined
endif
LDLIBS := $(LIBXDP_LIBS) $(LIBBPF_LIBS) $(LIBELF_LIBS) -lz
# libmicrohttpd is optional (configure): only metrics --listen needs it.
ifeq ($(HAVE_MHD),1)
override CFLAGS += -DPR_HAVE_MHD $(MHD_CFLAGS)
LDLIBS += $(MHD_LIBS)
endif

# BPF flags: -g for BTF (the libxdp dispatcher requires it), warnings fatal.
# No tail merging: it made the passes of the fast path share one counter
# block and reach it by an extra jump (a miss took 46 instructions, 45
# without); the object grows a little, no path gets longer.
BPF_CFLAGS := -target bpf -O2 -mllvm -enable-tail-merge=false -g -Wall -Werror -Ibpf \
	$(BPF_INCLUDES)

# One file per program, each compiled on its own and linked into one object
# (shared maps are weak definitions in bpf/maps.h, see there).
BPF_SRCS := bpf/portredir.bpf.c bpf/tc_csum_fixup.bpf.c bpf/tc_reply.bpf.c
BPF_PARTS := $(BPF_SRCS:.bpf.c=.part.o)
BPF_HDRS := $(wildcard bpf/*.h)
BPF_OBJ := bpf/portredir.bpf.o
SKEL_MAIN := lib/portredir.skel.h
# The checksum fix-up that reads the skb (6.3+) is an object of its own, so
# only loading it makes libbpf parse the kernel's BTF (see its source).
KCTX_OBJ := bpf/tc_csum_fixup_kctx.bpf.o
SKEL_KCTX := lib/csum_fixup_kctx.skel.h
SKEL := $(SKEL_MAIN) $(SKEL_KCTX)

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(LIB_SRCS:.c=.o)
LIB_HDRS := $(wildcard lib/*.h) $(BPF_HDRS)
LIB_A := lib/libportredir.a

CLI := xdp-portredir/xdp-portredir
CLI_SRCS := $(wildcard xdp-portredir/*.c)
CLI_OBJS := $(CLI_SRCS:.c=.o)

.PHONY: all clean distclean check install uninstall

all: $(CLI) tests

$(BPF_PARTS): bpf/%.part.o: bpf/%.bpf.c $(BPF_HDRS)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BPF_OBJ): $(BPF_PARTS)
	$(BPFTOOL) gen object $@ $(BPF_PARTS)

$(SKEL_MAIN): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name portredir_bpf > $@.tmp && mv $@.tmp $@

$(KCTX_OBJ): bpf/tc_csum_fixup_kctx.bpf.c $(BPF_HDRS)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKEL_KCTX): $(KCTX_OBJ)
	$(BPFTOOL) gen skeleton $< name csum_fixup_kctx_bpf > $@.tmp && mv $@.tmp $@

$(LIB_OBJS) $(CLI_OBJS): $(LIB_HDRS) $(SKEL) config.mk

$(LIB_A): $(LIB_OBJS)
	$(AR) rcs $@ $^

$(CLI): $(CLI_OBJS) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

include tests/tests.mk
-include tests/vm/vm.mk
-include bench/bench.mk
-include tests/fuzz/fuzz.mk
-include packaging/packaging.mk
-include tests/robustness/robustness.mk

clean::
	rm -f $(BPF_PARTS) $(BPF_OBJ) $(KCTX_OBJ) $(SKEL) $(LIB_OBJS) $(LIB_A) $(CLI_OBJS) $(CLI)

distclean: clean
	rm -f config.mk
