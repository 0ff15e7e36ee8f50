#!/bin/bash
# The ping collector beside fping and ping(8), in the same run:
# - 1,000 and 10,000 distinct loopback addresses x 1 probe: the wall time
#   of the command a user runs, from its exec to its exit, median of RUNS
#   runs each, both with 0 % loss:
#     qosd --once --config FILE (one ping job of N targets, file sink on
#     stdout): the daemon starts, reads the config, forks its spawner and
#     the run; the run sends and matches, writes N points (line protocol,
#     every field) through a pipe; the daemon checks each line, adds its
#     tags and writes it to stdout (a file here), then everything exits;
#   against
#     fping -c1 -q -i0 -t 1000 -f LIST: reads the list, sends with no
#     interval, and writes its N summary lines to stderr (a file here).
#   Both are timed the same way (bash's EPOCHREALTIME, no fork around the
#   command), after one untimed run of each; the runs alternate, and which
#   goes first alternates too, so that neither always runs on the caches
#   (ARP, routes, the page cache) the other warmed.
# - loopback RTT: qosd's median (rtt_p50_ms of 200 probes) against the
#   median of ping(8)'s 200 replies.
. "$(dirname "$0")/lib.sh"
command -v fping >/dev/null || skip "fping missing (apt-get install fping)"
runs=${RUNS:-7}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# ms_since START: milliseconds from START (an EPOCHREALTIME) to now
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f\n", (b - a) * 1000 }'; }
# run_qosd N: one timed qosd run, its time appended to $T/qN
run_qosd() {
	local s=$EPOCHREALTIME
	"$QOSD" --once --config "$T/b$1.conf" >"$T/out" 2>"$T/log" || qok=0
	ms_since "$s" >>"$T/q$1"
	[ "$(grep -c 'received=1i,loss_pct=0,' "$T/out")" -eq "$1" ] || qok=0
}
run_fping() {
	local s=$EPOCHREALTIME
	fping -c1 -q -i0 -t 1000 -f "$T/list$1" 2>"$T/fout" >/dev/null
	ms_since "$s" >>"$T/f$1"
	[ "$(grep -c ' = 1/1/0%' "$T/fout")" -eq "$1" ] || fok=0
}

for n in 1000 10000; do
	list="$T/list$n"
	for i in $(seq 0 $((n - 1))); do
		echo "127.$((1 + i / 62500)).$((i / 250 % 250)).$((i % 250 + 1))"
	done >"$list"
	{
		echo 'sinks = ( { type = "file"; path = "-"; } );'
		echo 'jobs = ( { name = "b"; collector = "ping"; timeout = 30;'
		echo '  max_output = "64M"; count = 1; ping_timeout = 1;'
		echo '  targets = ['
		sed 's/.*/"&",/' "$list" | sed '$ s/,$//'
		echo '  ]; } );'
	} >"$T/b$n.conf"
	qok=1 fok=1
	run_qosd "$n"; run_fping "$n"	# warm-up, not counted
	: >"$T/q$n"; : >"$T/f$n"
	for r in $(seq "$runs"); do
		if [ $((r % 2)) -eq 1 ]; then
			run_qosd "$n"; run_fping "$n"
		else
			run_fping "$n"; run_qosd "$n"
		fi
	done
	q=$(median <"$T/q$n") f=$(median <"$T/f$n")
	v=$(verdict_le "$(ratio "$q" "$f")" 1.0)
	[ "$qok$fok" = 11 ] || v="FAIL (loss: qosd ok=$qok fping ok=$fok)"
	row "ping: $n loopback targets x1, wall (ms)" "$q" "$f" \
		"$(ratio "$q" "$f")" "<= 1.0" "$v"
done

# Loopback RTT, 200 probes each, alternating twice.
cat >"$T/rtt.conf" <<CONF
sinks = ( { type = "file"; path = "-"; } );
jobs = ( { name = "r"; collector = "ping"; timeout = 30; count = 100;
  ping_interval = 0.01; ping_timeout = 1; targets = [ "127.0.0.1" ];
  samples = true; } );
CONF
: >"$T/qs"; : >"$T/ps"
for r in 1 2; do
	"$QOSD" --once --config "$T/rtt.conf" | sed -nE 's/^ping_sample.* rtt_ms=([0-9.e+-]+) .*/\1/p' >>"$T/qs"
	ping -n -c 100 -i 0.01 127.0.0.1 | sed -nE 's/.* time=([0-9.]+) ms/\1/p' >>"$T/ps"
done
qm=$(awk '{ print $1 * 1000 }' "$T/qs" | median)
pm=$(awk '{ print $1 * 1000 }' "$T/ps" | median)
d=$(awk -v a="$qm" -v b="$pm" 'BEGIN { d = a - b; if (d < 0) d = -d; print d }')
row "ping: loopback RTT median (us), $(wc -l <"$T/qs") vs $(wc -l <"$T/ps")" \
	"$qm" "$pm" "$(ratio "$qm" "$pm")" "|diff|<=20" "$(verdict_le "$d" 20)"
