# lib.sh: helpers for bench scripts (sourced after the integration lib).
. "$TOP/tests/integration/lib.sh"

# row WHAT QOSD PEER RATIO TARGET VERDICT
row() { printf 'ROW\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@"; }
# ratio A B: A/B with 3 decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.3f", a / b }'; }
# le A B: "pass" if A <= B else "FAIL"
verdict_le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "pass" : "FAIL" }'; }
verdict_ge() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "pass" : "FAIL" }'; }
# cpu_s PID: user+system CPU seconds of a live process
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
# rss_kb PID
rss_kb() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
# pss_kb PID: proportional set size, shared pages split between sharers
# (forked children share their parent's pages: their RSS counts them twice)
pss_kb() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }
# needs CMD PKG: fail (not skip) when CMD, a peer of this bench, is
# missing: a bench without its peer is a failed bench, not a shorter
# table.  `make bench` installs BENCH_PKGS first.
needs() {
	command -v "$1" >/dev/null ||
		fail "$1 missing: apt-get install $2 (make bench installs BENCH_PKGS)"
}
