# SPDX-License-Identifier: GPL-2.0
#
# make install / uninstall / dist / distcheck (included by the top Makefile).
#
#   make install [DESTDIR=...] [PREFIX=/usr/local] [SBINDIR=...] [MANDIR=...] ...
#
# Only the binary is needed at run time: the BPF object is embedded in it (a
# bpftool skeleton), so there is no object directory to install or to find.

# Reproducible builds: the build directory must not end up in the binary.
# Both the userspace objects and the BPF object (which the skeleton embeds
# whole, DWARF included) record it as DW_AT_comp_dir and in file names.
override CFLAGS += -ffile-prefix-map=$(CURDIR)=.
BPF_CFLAGS += -ffile-prefix-map=$(CURDIR)=.

# GNU layout under PREFIX; a PREFIX of /usr (a distribution) means /etc and
# systemd's own unit directory.
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
DOCDIR ?= $(DATADIR)/doc/xdp-portredir
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
SYSTEMD_UNITDIR_PC = $(shell $(or $(PKG_CONFIG),pkg-config) --variable=systemdsystemunitdir systemd 2>/dev/null)
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),$(or $(SYSTEMD_UNITDIR_PC),$(LIBDIR)/systemd/system),$(LIBDIR)/systemd/system)

INSTALL ?= install
PKG_OUT := build/pkg

# The date man pages carry: SOURCE_DATE_EPOCH (dpkg-buildpackage sets it from
# debian/changelog), else the last commit, else the VERSION file's mtime
# (which a release tarball keeps). Never the build time.
SOURCE_DATE_EPOCH ?= $(or $(shell git log -1 --format=%ct 2>/dev/null),$(shell stat -c %Y VERSION))
MAN_DATE = $(shell date -u -d @$(SOURCE_DATE_EPOCH) +%Y-%m-%d)

MAN_SRCS := $(wildcard man/*.[1-8])
MAN_OUT := $(MAN_SRCS:man/%=$(PKG_OUT)/man/%)
UNIT_OUT := $(PKG_OUT)/xdp-portredir.service
METRICS_UNIT_OUT := $(PKG_OUT)/xdp-portredir-metrics.service
COMPLETION := packaging/bash-completion/xdp-portredir
EXAMPLE := packaging/xdp-portredir.conf.example

.PHONY: install uninstall dist distcheck pkg-always

# Made on every install, since they depend on variables as well as files;
# rewritten only when their content changes.
#
# Man pages take their version and date from VERSION and SOURCE_DATE_EPOCH
# (@VERSION@ and @DATE@ in the source); nothing else in them is changed.
$(PKG_OUT)/man/%: man/% pkg-always
	@mkdir -p $(@D)
	@sed -e 's/@VERSION@/$(VERSION)/g' -e 's/@DATE@/$(MAN_DATE)/g' $< >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

# The unit names the binary and the configuration where this install puts them.
$(PKG_OUT)/%.service: packaging/systemd/%.service.in pkg-always
	@mkdir -p $(@D)
	@sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

pkg-always:

install: $(CLI) $(MAN_OUT) $(UNIT_OUT) $(METRICS_UNIT_OUT)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR)
	$(INSTALL) -m 0755 $(CLI) $(DESTDIR)$(SBINDIR)/xdp-portredir
	@set -e; for page in $(MAN_OUT); do \
		sec=$${page##*.}; \
		echo "$(INSTALL) -m 0644 $$page $(DESTDIR)$(MANDIR)/man$$sec/"; \
		$(INSTALL) -d $(DESTDIR)$(MANDIR)/man$$sec; \
		$(INSTALL) -m 0644 $$page $(DESTDIR)$(MANDIR)/man$$sec/; \
	done
	$(INSTALL) -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)/examples
	$(INSTALL) -m 0644 $(COMPLETION) $(DESTDIR)$(BASHCOMPDIR)/xdp-portredir
	$(INSTALL) -m 0644 $(UNIT_OUT) $(DESTDIR)$(UNITDIR)/xdp-portredir.service
	$(INSTALL) -m 0644 $(METRICS_UNIT_OUT) $(DESTDIR)$(UNITDIR)/xdp-portredir-metrics.service
	$(INSTALL) -m 0644 $(EXAMPLE) $(DESTDIR)$(DOCDIR)/examples/xdp-portredir.conf
	$(INSTALL) -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md

# Removes exactly what install wrote (and the tool's own doc directory);
# shared directories such as $(SBINDIR) stay.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/xdp-portredir
	rm -f $(foreach p,$(MAN_SRCS),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(notdir $(p)))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/xdp-portredir
	rm -f $(DESTDIR)$(UNITDIR)/xdp-portredir.service $(DESTDIR)$(UNITDIR)/xdp-portredir-metrics.service
	rm -f $(DESTDIR)$(DOCDIR)/examples/xdp-portredir.conf $(DESTDIR)$(DOCDIR)/README.md
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

# The release tarball: every file git tracks (as it is in the work tree),
# owned by root, dated SOURCE_DATE_EPOCH, sorted, gzip without a timestamp, so
# the same tree gives the same bytes. DIST_UNTRACKED=1 adds untracked files
# that .gitignore does not exclude (to try a release before committing).
DIST_NAME := xdp-portredir-$(VERSION)
DIST_TARBALL := $(DIST_NAME).tar.gz
DIST_LS := git ls-files -z $(if $(filter 1,$(DIST_UNTRACKED)),--cached --others --exclude-standard)

dist:
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || \
		{ echo "make dist: needs a git checkout (it packs 'git ls-files')" >&2; exit 1; }
	@set -e; list=$$(mktemp); trap 'rm -f $$list' EXIT; \
	$(DIST_LS) | xargs -0 sh -c \
		'for f; do case $$f in xdp-portredir-*.tar.gz*) continue ;; esac; \
			if [ -f "$$f" ]; then printf "%s\0" "$$f"; fi; done' sh >$$list; \
	tar --null -T $$list --sort=name --mtime=@$(SOURCE_DATE_EPOCH) --owner=0 --group=0 \
		--numeric-owner --mode='u+rw,go-w,a+rX' --transform='s,^,$(DIST_NAME)/,' \
		-cf - | gzip -9n >$(DIST_TARBALL).tmp; \
	mv $(DIST_TARBALL).tmp $(DIST_TARBALL); \
	echo "wrote $(DIST_TARBALL) ($$(tr -cd '\0' <$$list | wc -c) files)"

# Unpacks the tarball in a scratch directory, builds it from nothing and
# installs it into a DESTDIR there.
distcheck: dist
	@set -e; dir=$$(mktemp -d); trap 'rm -rf $$dir' EXIT; \
	tar -C $$dir -xzf $(DIST_TARBALL); \
	cd $$dir/$(DIST_NAME); \
	./configure >/dev/null; \
	$(MAKE) -s -j$$(nproc); \
	$(MAKE) -s install DESTDIR=$$dir/root >/dev/null; \
	$$dir/root/usr/local/sbin/xdp-portredir --version >/dev/null; \
	echo "distcheck: $(DIST_TARBALL) builds and installs from scratch"

clean::
	rm -rf $(PKG_OUT) $(DIST_TARBALL).tmp
