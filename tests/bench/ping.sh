#!/bin/bash
# The ping collector beside fping and ping(8), in the same run:
# - 1,000 and 10,000 distinct loopback addresses x 1 probe: wall time of
#   `qosd --once` (daemon start, config, fork, probes, output) against
#   `fping -c1 -i0` on the same list, median of RUNS runs each, both with
#   0 % loss;
# - loopback RTT: qosd's median (rtt_p50_ms of 200 probes) against the
#   median of ping(8)'s 200 replies.
. "$(dirname "$0")/lib.sh"
command -v fping >/dev/null || skip "fping missing (apt-get install fping)"
runs=${RUNS:-7}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms_since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f\n", (b - a) / 1e6 }'; }

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
	: >"$T/q$n" ; : >"$T/f$n"
	qok=1 fok=1
	for r in $(seq "$runs"); do
		s=$(date +%s%N)
		"$QOSD" --once --config "$T/b$n.conf" >"$T/out" 2>"$T/log" || qok=0
		ms_since "$s" >>"$T/q$n"
		[ "$(grep -c 'received=1i,loss_pct=0,' "$T/out")" -eq "$n" ] || qok=0
		s=$(date +%s%N)
		fping -c1 -q -i0 -t 1000 -f "$list" 2>"$T/fout" >/dev/null
		ms_since "$s" >>"$T/f$n"
		[ "$(grep -c ' = 1/1/0%' "$T/fout")" -eq "$n" ] || fok=0
	done
	q=$(median <"$T/q$n") f=$(median <"$T/f$n")
	v=$(verdict_le "$(ratio "$q" "$f")" 1.2)
	[ "$qok$fok" = 11 ] || v="FAIL (loss: qosd ok=$qok fping ok=$fok)"
	row "ping: $n loopback targets x1, wall (ms)" "$q" "$f" \
		"$(ratio "$q" "$f")" "<= 1.2" "$v"
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
