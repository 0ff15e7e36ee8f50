#!/bin/bash
# Footprint beside collectd, in the same run: collectd (ping plugin, csv
# writer) and qosd (one ping job, file sink) each ping the same 100
# loopback hosts every second for BENCH_SECONDS (60), side by side.
# Resident memory at the end (RSS; and PSS, which splits the pages the
# spawner and writer share with the daemon they were forked from), and CPU seconds per minute of each process
# (qosd's parent alone, and with its spawner and collector runs as an
# extra row).
. "$(dirname "$0")/lib.sh"
needs collectd collectd-core
# collectd's ping plugin links liboping, which collectd-core only
# recommends: without it the plugin does not load and collectd exits.
ldd /usr/lib/collectd/ping.so 2>&1 | grep -q 'liboping.*not found' &&
	fail "collectd's ping plugin cannot load liboping: apt-get install liboping0"
secs=${BENCH_SECONDS:-60}
hosts=()
for i in $(seq 100); do hosts+=("127.0.1.$i"); done

mkdir -p "$T/collectd" "$T/csv"
{
	echo "Interval 1"
	echo "BaseDir \"$T/collectd\""
	echo "PIDFile \"$T/collectd/pid\""
	echo 'PluginDir "/usr/lib/collectd"'
	echo 'TypesDB "/usr/share/collectd/types.db"'
	echo 'LoadPlugin ping'
	echo 'LoadPlugin csv'
	echo "<Plugin csv>"
	echo "  DataDir \"$T/csv\""
	echo "</Plugin>"
	echo "<Plugin ping>"
	for h in "${hosts[@]}"; do echo "  Host \"$h\""; done
	echo "  Interval 1.0"
	echo "  Timeout 0.9"
	echo "</Plugin>"
} >"$T/collectd.conf"
{
	echo 'agent: { id = "bench"; };'
	echo 'daemon: { self_interval = 0; };'
	echo "sinks = ( { type = \"file\"; path = \"$T/qosd.lp\"; } );"
	echo 'jobs = ( { name = "p"; collector = "ping"; interval = 1;'
	echo '  timeout = 0.95; splay = 0; count = 1; ping_timeout = 0.9;'
	echo '  targets = ['
	printf '"%s",\n' "${hosts[@]}" | sed '$ s/,$//'
	echo '  ]; } );'
} >"$T/qosd.conf"

collectd -f -C "$T/collectd.conf" >"$T/collectd.log" 2>&1 &
cpid=$!
track_pid "$cpid"
"$QOSD" --config "$T/qosd.conf" 2>"$T/qosd.log" &
qpid=$!
track_pid "$qpid"
sleep 5			# both settled: plugins loaded, first rounds done
kill -0 "$cpid" 2>/dev/null || fail "collectd died: $(tail -5 "$T/collectd.log")"
kill -0 "$qpid" 2>/dev/null || fail "qosd died: $(tail -5 "$T/qosd.log")"
# utime+stime of PID, and of its whole tree: its children (the spawner,
# the file sink's writer)
# with what they reaped (the collector runs), in ticks.
ticks() {
	local own all c
	own=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
	all=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat")
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		all=$((all + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$c/stat" 2>/dev/null || echo 0)))
	done
	echo "$own $all"
}
read -r c0 _ <<<"$(ticks "$cpid")"
read -r q0 qc0 <<<"$(ticks "$qpid")"
n0=$(grep -c '^ping,' "$T/qosd.lp")
t0=$(date +%s.%N)
sleep "$secs"
read -r c1 _ <<<"$(ticks "$cpid")"
read -r q1 qc1 <<<"$(ticks "$qpid")"
t1=$(date +%s.%N)
n1=$(grep -c '^ping,' "$T/qosd.lp")
crss=$(rss_kb "$cpid") qrss=$(rss_kb "$qpid") qtree=$(rss_kb "$qpid")
cpss=$(pss_kb "$cpid") qpss=$(pss_kb "$qpid")
for c in $(cat /proc/"$qpid"/task/*/children 2>/dev/null); do
	qtree=$((qtree + $(rss_kb "$c" 2>/dev/null || echo 0)))
	qpss=$((qpss + $(pss_kb "$c" 2>/dev/null || echo 0)))
done
hz=$(getconf CLK_TCK)
permin() { awk -v a="$1" -v b="$2" -v hz="$hz" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.3f", (b - a) / hz * 60 / (t1 - t0) }'; }
ccpu=$(permin "$c0" "$c1")
qcpu=$(permin "$q0" "$q1")
qall=$(permin "$qc0" "$qc1")
csvn=$(find "$T/csv" -type f | wc -l)
ok=$(grep -c '^ping,.*result="ok"' "$T/qosd.lp")
echo "qosd: $((n1 - n0)) ping points in ${secs}s ($ok ok in all); collectd: $csvn csv files"
row "footprint: RSS, 100 hosts @1s (kB)" "$qrss" "$crss" "$(ratio "$qrss" "$crss")" "<= 1.5" "$(verdict_le "$(ratio "$qrss" "$crss")" 1.5)"
row "footprint: RSS with spawner and writer (kB)" "$qtree" "$crss" "$(ratio "$qtree" "$crss")" "-" "-"
row "footprint: PSS with spawner and writer (kB)" "$qpss" "$cpss" "$(ratio "$qpss" "$cpss")" "<= 1.5" "$(verdict_le "$(ratio "$qpss" "$cpss")" 1.5)"
row "footprint: parent CPU (s/min)" "$qcpu" "$ccpu" "$(ratio "$qcpu" "$ccpu")" "<= 1.0" "$(verdict_le "$qcpu" "$ccpu")"
row "footprint: CPU with collector runs (s/min)" "$qall" "$ccpu" "$(ratio "$qall" "$ccpu")" "-" "-"
row "footprint: ping points in ${secs}s" "$((n1 - n0))" "-" "-" "$((secs * 100))" "-"
