# SPDX-License-Identifier: GPL-2.0
# Kernel module closure for run-vm.sh's initramfs (source it; uses KMODDIR
# and KVER, which run-vm.sh's fetch_kernel sets).

# Prints module file paths (relative to KMODDIR) for the modules named and
# everything they depend on, dependencies first.
module_closure() {
	local -A seen=()
	local order=()
	visit() {
		local name=${1//-/_} f deps d
		[ -n "${seen[$name]:-}" ] && return
		seen[$name]=1
		# File names may spell the module's underscores as dashes.
		f=$(cd "$KMODDIR" && find kernel -name "${name//_/[_-]}.ko*" -print -quit)
		if [ -z "$f" ]; then
			# Built into the kernel, or not built at all.
			grep -q "/$name.ko" "$KMODDIR/modules.builtin" 2>/dev/null ||
				echo "vm: warning: kernel module $1 not found in $KVER" >&2
			return
		fi
		# modinfo reads compressed modules too (Debian 13's are .ko.xz).
		deps=$(modinfo -F depends "$KMODDIR/$f" 2>/dev/null) ||
			deps=$(tr '\0' '\n' <"$KMODDIR/$f" | sed -n 's/^depends=//p' | head -n 1)
		for d in ${deps//,/ }; do
			visit "$d"
		done
		order+=("$f")
	}
	local m
	for m in "$@"; do
		visit "$m"
	done
	printf '%s\n' "${order[@]}"
}
