#!/bin/bash
# The man pages render with man -l and no warning.
. "$(dirname "$0")/lib.sh"
command -v man >/dev/null || skip "man missing (apt-get install man-db)"
for m in "$TOP"/docs/*.[1-8]; do
	w=$(MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
	[ -z "$w" ] || fail "$(basename "$m"): $w"
	[ "$(MANWIDTH=80 man -l "$m" 2>/dev/null | wc -l)" -gt 20 ] || fail "$(basename "$m") renders empty"
	ok "$(basename "$m")"
done
# qosd-reflector(8) documents every option its --help names, and no
# option the binary does not know.
if [ -x "$BUILD/qosd-reflector" ]; then
	page=$(MANWIDTH=200 man -l "$TOP/docs/qosd-reflector.8" 2>/dev/null)
	help=$("$BUILD/qosd-reflector" --help)
	for o in $(echo "$help" | grep -o -- '--[a-z-]*' | sort -u); do
		echo "$page" | grep -q -- "$o" || fail "qosd-reflector(8) lacks $o"
	done
	for o in $(echo "$page" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		echo "$help" | grep -q -- "$o" || fail "qosd-reflector(8) names $o, which --help does not"
	done
	ok "qosd-reflector(8) and --help name the same $(echo "$help" | grep -o -- '--[a-z-]*' | sort -u | wc -l) options"
fi
