# SPDX-License-Identifier: GPL-2.0
# The second kernel: the test suite in a qemu VM running Debian 12's cloud
# kernel (tests/vm/README.md). The kernel is cached in build/vm/kernel/ and
# survives `make clean`; `make vm-clean` removes it with everything else.

VM_DIR := build/vm

.PHONY: vm-check vm-test vm-clean

vm-check: all
	tests/vm/run-vm.sh

# make vm-test T=PATTERN: only the suites whose name contains PATTERN; the
# initramfs stays in build/vm/ for a look inside, the log in build/vm/last.log.
vm-test: all
	@if [ -z "$(T)" ]; then echo "usage: make vm-test T=PATTERN (e.g. T=dispatcher)" >&2; exit 2; fi
	tests/vm/run-vm.sh -k "$(T)" --keep

vm-clean:
	rm -rf $(VM_DIR)

clean::
	rm -rf $(VM_DIR)/root $(VM_DIR)/initramfs.cpio*
