#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The man page renders without warnings and documents every command and every
# option the generated --help shows (and nothing --help lacks).
. "$(dirname "$0")/../lib.sh"
MAN=$TOP/man/xdp-portredir.8

warn=$(man --warnings -E UTF-8 -l "$MAN" 2>&1 >/dev/null)
t_eq man-renders-without-warnings "$warn" ""
page=$(MANWIDTH=200 man -E UTF-8 -l "$MAN" 2>/dev/null)

commands=$("$PORTREDIR" --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}')
t_ge help-lists-commands "$(wc -w <<<"$commands")" 5
for cmd in $commands; do
	t_match "man/synopsis-has-$cmd" "$page" "xdp-portredir $cmd"
	help=$("$PORTREDIR" "$cmd" --help)
	for opt in $(grep -Eo -- '--[a-z][a-z-]+' <<<"$help" | sort -u); do
		t_match "man/$cmd$opt" "$page" -- "$opt"
	done
done
# The other way round: options the man page gives a command exist in --help.
for cmd in $commands; do
	help=$("$PORTREDIR" "$cmd" --help)
	synopsis=$(grep -E "^ *xdp-portredir $cmd( |$)" -A3 <<<"$page" | sed '/^$/q')
	for opt in $(grep -Eo -- '--[a-z][a-z-]+' <<<"$synopsis" | sort -u); do
		t_match "help/$cmd$opt" "$help" -- "$opt"
	done
done
t_done
