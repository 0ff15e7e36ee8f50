#!/bin/bash
# Configuration load time: --check-config of 1,000, 10,000 and 20,000 jobs
# (best of three), and how it grows (20x the jobs should cost about 20x
# the time: a loader quadratic in the jobs read 70x over 2.5k->10k).  Then
# a reload of 10,000 jobs in a running daemon: how long the loop was held
# (the reload's own figure in the log, nearly all of it the parse) beside
# the worst lag of any run started around it (qosd_job.lag_us).  A run due
# while the loop is held starts once it is free, after the runs due before
# it: its lag is the hold plus that catch-up, which the target allows.
# BENCH_RELOAD=0 leaves the reload out (make bench-quick: it needs 40 s).
. "$(dirname "$0")/lib.sh"

mkconf() {	# mkconf N FILE [INTERVAL]: N exec jobs
	{
		echo 'agent: { id = "cfg"; };'
		echo "daemon: { self_interval = 0; realtime = false; max_children = 256; };"
		echo "sinks = ( { type = \"file\"; path = \"$T/out.lp\"; } );"
		echo 'jobs = ('
		awk -v n="$1" -v iv="${3:-60}" 'BEGIN { for (i = 1; i <= n; i++)
			printf "{ name = \"job-%d\"; collector = \"exec\"; interval = %s; splay = %s; command = [ \"/bin/true\" ]; tags = { site = \"s%d\"; }; }%s\n",
			    i, iv, iv, i % 50, i < n ? "," : "" }'
		echo ');'
	} >"$2"
}
best() {	# best FILE: the best of three --check-config, in seconds
	local b= s e t
	for _ in 1 2 3; do
		s=$(date +%s%N)
		"$QOSD" --check-config --config "$1" || return 1
		e=$(date +%s%N)
		t=$(( (e - s) / 1000 ))
		{ [ -z "$b" ] || [ "$t" -lt "$b" ]; } && b=$t
	done
	awk -v us="$b" 'BEGIN { printf "%.3f", us / 1e6 }'
}
declare -A took
for n in 1000 10000 20000; do
	mkconf "$n" "$T/c$n.conf"
	took[$n]=$(best "$T/c$n.conf") || fail "--check-config failed for $n jobs"
done
row "config: --check-config, 1000 jobs (s)" "${took[1000]}" - - - -
row "config: --check-config, 10000 jobs (s)" "${took[10000]}" - - - -
row "config: --check-config, 20000 jobs (s)" "${took[20000]}" - - "<= 0.5" \
	"$(verdict_le "${took[20000]}" 0.5)"
g=$(ratio "${took[20000]}" "${took[1000]}")
row "config: growth 1000 -> 20000 jobs (linear: 20)" "$g" 20 "$(ratio "$g" 20)" \
	"<= 40" "$(verdict_le "$g" 40)"

[ "${BENCH_RELOAD:-1}" = 0 ] && exit 0
# A running daemon with 10,000 jobs at 30 s (333 runs a second), reloaded.
mkconf 10000 "$T/run.conf" 30
"$QOSD" --config "$T/run.conf" 2>"$T/qosd.log" &
qpid=$!
track_pid "$qpid"
wait_for 30 grep -q 'started' "$T/qosd.log" || fail "qosd did not start: $(tail -3 "$T/qosd.log")"
sleep 32
t0=$(date +%s%N)
kill -HUP "$qpid"
wait_for 30 grep -q 'configuration reloaded in' "$T/qosd.log" ||
	fail "no reload: $(tail -3 "$T/qosd.log")"
sleep 3
held=$(sed -n 's/.*configuration reloaded in \([0-9.]*\) ms.*/\1/p' "$T/qosd.log" | tail -1)
# Runs started within a second of the reload, either side.
lagmax=$(awk -v t0="$t0" '/^qosd_job,/ && / result="ok"/ {
	ts = $NF; if (ts < t0 - 1e9 || ts > t0 + 4e9) next
	if (match($0, /lag_us=[0-9]+i/)) { v = substr($0, RSTART + 7, RLENGTH - 8) + 0; if (v > m) m = v }
} END { printf "%.1f", m / 1000 }' "$T/out.lp")
row "config: reload of 10000 jobs: loop held (ms)" "$held" - - - -
row "config: reload: worst run lag around it vs held (ms)" "$lagmax" "$held" \
	"$(ratio "$lagmax" "$held")" "<= 2" "$(verdict_le "$(ratio "$lagmax" "$held")" 2)"
kill -TERM "$qpid"
wait "$qpid" 2>/dev/null
