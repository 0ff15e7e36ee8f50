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
