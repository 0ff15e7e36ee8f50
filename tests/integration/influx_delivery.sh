#!/bin/bash
# influx_delivery.sh: the influxdb sink against a real influxd (1.x) that
# the test stops and starts again by its PID (same data dir, same port):
#  (a) a steady workload through an outage: every point produced is in
#      InfluxDB afterwards, counted exactly by a query;
#  (b) qosd killed with SIGKILL while points are spooled, then restarted:
#      nothing lost;
#  (c) the spool cap exceeded during an outage: the shortfall in InfluxDB
#      equals the dropped count qosd reports.
# What qosd produced is counted from a file sink that gets the same lines;
# what InfluxDB holds, by count() queries.
. "$(dirname "$0")/lib.sh"
start_influxd
for db in da db dc; do
	curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE $db" >/dev/null ||
		fail "cannot create database $db"
done

stop_influxd() {
	kill -TERM "$INFLUXD_PID"
	wait_for 30 sh -c "! kill -0 $INFLUXD_PID 2>/dev/null" || fail "influxd did not stop"
	curl -sf "$INFLUX_URL/ping" && fail "influxd still answers"
	return 0
}
restart_influxd() {
	influxd -config "$T/influx/influxd.conf" >>"$T/influx/log" 2>&1 &
	INFLUXD_PID=$!
	track_pid "$INFLUXD_PID"
	wait_for 30 curl -sf "$INFLUX_URL/ping" || fail "influxd did not restart: $(tail -5 "$T/influx/log")"
}

# The workload: N points a run, each with its own timestamp and seq.
cat >"$T/gen.sh" <<'GEN'
#!/bin/sh
# gen.sh COUNTER STOP N
[ -e "$2" ] && exit 0
n=$(cat "$1" 2>/dev/null || echo 0)
awk -v s="$n" -v k="$3" 'BEGIN { for (i = 1; i <= k; i++)
	printf "work seq=%di,pad=\"%s\" 1600000000%09d\n", s + i,
	    "0123456789012345678901234567890123456789012345678901234567890123", s + i }'
echo $((n + $3)) >"$1.tmp" && mv "$1.tmp" "$1"
GEN
chmod +x "$T/gen.sh"

# config PART DB EXTRA: write $T/PART.conf.
config() {
	cat >"$T/$1.conf" <<CONF
daemon: { state_dir = "$T/state-$1"; self_interval = 0; };
sinks = (
	{ type = "influxdb"; name = "influx"; url = "$INFLUX_URL"; database = "$2";
	  flush_interval = 0.5; backoff_max = 1; $3 },
	{ type = "file"; name = "copy"; path = "$T/copy-$1.lp"; }
);
jobs = (
	{ name = "w"; collector = "exec"; interval = 0.5; timeout = 0.4; splay = 0;
	  command = [ "$T/gen.sh", "$T/counter-$1", "$T/stop-$1", "${4:-50}" ]; }
);
CONF
	chmod 600 "$T/$1.conf"
}
start_qosd() {
	"$QOSD" --config "$T/$1.conf" >>"$T/qosd-$1.log" 2>&1 &
	QPID=$!
	track_pid "$QPID"
	wait_for 10 test -s "$T/copy-$1.lp" || fail "$1: qosd produces nothing: $(tail -5 "$T/qosd-$1.log")"
}
stop_qosd() {
	kill -TERM "$QPID"
	wait_for 20 sh -c "! kill -0 $QPID 2>/dev/null" || fail "qosd did not stop"
	! grep -qiE 'AddressSanitizer|LeakSanitizer|runtime error' "$T"/qosd-*.log ||
		fail "sanitizer report: $(grep -m3 -iE 'Sanitizer|runtime error' "$T"/qosd-*.log)"
}
# Points produced: the workload's and the daemon's per-run qosd_job ones
# (the final self-metrics at exit are spooled, not shipped, so left out).
produced() { grep -cE '^(work|qosd_job)[ ,]' "$T/copy-$1.lp"; }
count() {
	local n
	n=$(influx_query "$1" "SELECT count($2) FROM $3" |
		sed -n 's/.*"values":\[\["[^"]*",\([0-9]*\)\]\].*/\1/p')
	echo "${n:-0}"
}
# qosd_job counted by result, the one field every such point has (a
# skipped run's has no lag_us, nor has a run's that printed nothing).
in_influx() { echo $(( $(count "$1" seq work) + $(count "$1" result qosd_job) )); }
spool() { find "$T/state-$1/spool/influx" -name '*.lp' -not -path '*/rejected/*'; }
spooled_files() { spool "$1" | wc -l; }
# Lines still in the spool (not lost: the next start ships them).
spooled_lines() { spool "$1" | xargs -r cat | grep -cE '^(work|qosd_job)[ ,]'; }
work() { grep -c '^work[ ,]' "$T/copy-$1.lp"; }
# drained PART DB: the workload stopped and all of it is in InfluxDB.
# (Each run adds a qosd_job point even then: those are checked at the end.)
drained() { [ "$(count "$2" seq work)" = "$(work "$1")" ]; }
# exact PART DB DROPPED: produced = in InfluxDB + dropped + still spooled.
exact() {
	local p n l
	p=$(produced "$1") n=$(in_influx "$2") l=$(spooled_lines "$1")
	[ $((p - n)) = $(($3 + l)) ] ||
		fail "$1: produced $p, in InfluxDB $n, still spooled $l, dropped $3"
}

# (a) an outage under a steady workload.
config a da ""
start_qosd a
sleep 3
stop_influxd
sleep 5
[ "$(spooled_files a)" -gt 0 ] || fail "a: nothing spooled during the outage"
during=$(produced a)
restart_influxd
sleep 3
touch "$T/stop-a"
sleep 1
wait_for 60 drained a da || fail "a: produced $(work a), in InfluxDB $(count da seq work)"
grep -q 'will retry' "$T/qosd-a.log" || fail "a: the outage was not logged"
stop_qosd
exact a da 0
ok "(a) outage: all $(work a) workload points in InfluxDB ($during produced by the restart); qosd_job points exact too"

# (b) SIGKILL with points spooled, then a restart.
config b db ""
start_qosd b
sleep 2
stop_influxd
sleep 3
# Between two runs, so that the file sink has every line the spool has.
c0=$(cat "$T/counter-b")
wait_for 5 sh -c "[ \"\$(cat '$T/counter-b')\" != '$c0' ]"
sleep 0.1
kill -KILL "$QPID"
wait_for 5 sh -c "! kill -0 $QPID 2>/dev/null"
touch "$T/stop-b"
killed=$(work b)
[ "$(spooled_files b)" -gt 0 ] || fail "b: nothing spooled at the kill"
[ "$(count db seq work)" -lt "$killed" ] || fail "b: everything delivered before the kill: not a test"
restart_influxd
"$QOSD" --config "$T/b.conf" >>"$T/qosd-b.log" 2>&1 &
QPID=$!
track_pid "$QPID"
wait_for 60 drained b db || fail "b: produced $killed, in InfluxDB $(count db seq work) after the restart"
stop_qosd
exact b db 0
ok "(b) SIGKILL with $killed points produced: all in InfluxDB after the restart"

# (c) the cap exceeded during an outage.  Drained: no workload point left
# in the spool (the cap dropped some, the rest went).
drained_c() { [ "$(spool c | xargs -r cat | grep -c '^work[ ,]')" = 0 ]; }
config c dc 'spool_max = "64K";' 200
start_qosd c
sleep 2
stop_influxd
sleep 6
restart_influxd
sleep 2
touch "$T/stop-c"
wait_for 60 drained_c || fail "c: the workload's points did not drain"
stop_qosd
dropped=$(grep '^qosd_sink,' "$T/copy-c.lp" | grep 'sink=influx' | tail -1 | grep -oE 'dropped=[0-9]+' | cut -d= -f2)
[ -n "$dropped" ] || fail "c: no dropped figure reported"
[ "$dropped" -gt 0 ] || fail "c: the cap dropped nothing ($(produced c) produced): not a test"
exact c dc "$dropped"
grep -q 'over its cap' "$T/qosd-c.log" || fail "c: the drop was not logged"
ok "(c) cap: produced $(produced c), in InfluxDB $(in_influx dc), still spooled $(spooled_lines c), dropped=$dropped as reported"
