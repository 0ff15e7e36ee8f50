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

# The machine's own timer wake-up latency, beside qosd's lag (sched.sh,
# control.sh): cyclictest at the daemon's priority (SCHED_FIFO 1, a 1 ms
# timer), keeping a histogram of every wake-up in 1 us buckets up to
# hist_us.
hist_us=100000
# machine_start SECS PREFIX: cyclictest for SECS seconds in the
# background, its histogram in PREFIX.hist; its pid in CYC (tracked).
machine_start() {
	cyclictest -m -p 1 -i 1000 -t 1 -q -D "$1" -h "$hist_us" \
		--histfile="$2.hist" >"$2.out" 2>&1 &
	CYC=$!
	track_pid "$CYC"
}
# pct FILE: "p50 p99 max" of the sorted integers in FILE (nearest rank).
pct() {
	awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - -"; exit }
		a = int(NR * 0.50); if (a < NR * 0.50) a++
		b = int(NR * 0.99); if (b < NR * 0.99) b++
		print v[a], v[b], v[NR]
	}' "$1"
}
# hist_pct FILE: "p50 p99 max total overflows" from cyclictest's histogram.
hist_pct() {
	awk -v cap="$hist_us" '
	/^# Total:/ { n = $3 + 0 }
	/^# Max Latencies:/ { m = $4 + 0 }
	/^# Histogram Overflows:/ { o = $4 + 0 }
	/^[0-9]+ [0-9]+$/ { nk++; b[nk] = $1 + 0; c[nk] = $2 + 0 }
	END {
		if (n == 0) { print "- - - 0 0"; exit }
		a = n * 0.50; z = n * 0.99; s = 0; p50 = p99 = ""
		for (i = 1; i <= nk; i++) {
			s += c[i]
			if (p50 == "" && s >= a) p50 = b[i]
			if (p99 == "" && s >= z) p99 = b[i]
		}
		# In the overflow: known only to be at least the histogram cap.
		if (p50 == "") p50 = cap; if (p99 == "") p99 = cap
		print p50, p99, m, n, o
	}' "$1"
}
# signed N: N with its sign, "+5" or "-5".
signed() { if [ "$1" -ge 0 ]; then echo "+$1"; else echo "$1"; fi; }
