#!/bin/bash
# influx_stop.sh: an orderly stop of the influxdb sink against a real
# influxd (1.x), as systemd's `systemctl stop` does it (SIGTERM to the
# daemon; KillMode=mixed SIGKILLs whatever is left once it has exited):
#  (a) InfluxDB up: right after qosd has exited, every point it produced
#      (the workload's, the per-run ones and its final self-metrics, most
#      of them still in the open segment: flush_interval is long) is in
#      InfluxDB, ready/ and the spool are empty, and its writers and its
#      shipper are gone, reaped by qosd itself: nothing left to SIGKILL,
#      no kill logged;
#  (b) InfluxDB down at the stop: qosd exits all the same, the points it
#      could not deliver stay in the spool (produced = in InfluxDB +
#      spooled, exactly), and the next start delivers them.
# What qosd produced is counted from a file sink that gets the same lines.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq missing (apt-get install jq)"
start_influxd
for db in sa sb; do
	curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE $db" >/dev/null ||
		fail "cannot create database $db"
done

# The workload: N points a run, each with its own timestamp.
cat >"$T/gen.sh" <<'GEN'
#!/bin/sh
# gen.sh COUNTER STOP N
[ -e "$2" ] && exit 0
n=$(cat "$1" 2>/dev/null || echo 0)
awk -v s="$n" -v k="$3" 'BEGIN { for (i = 1; i <= k; i++)
	printf "work seq=%di 1600000000%09d\n", s + i, s + i }'
echo $((n + $3)) >"$1.tmp" && mv "$1.tmp" "$1"
GEN
chmod +x "$T/gen.sh"

# config PART DB: write $T/PART.conf.
config() {
	cat >"$T/$1.conf" <<CONF
daemon: { state_dir = "$T/state-$1"; self_interval = 1; };
sinks = (
	{ type = "influxdb"; name = "influx"; url = "$INFLUX_URL"; database = "$2";
	  flush_interval = 30; backoff_max = 1; },
	{ type = "file"; name = "copy"; path = "$T/copy-$1.lp"; }
);
jobs = (
	{ name = "w"; collector = "exec"; interval = 0.5; timeout = 0.4; splay = 0;
	  command = [ "$T/gen.sh", "$T/counter-$1", "$T/stop-$1", "20" ]; }
);
CONF
	chmod 600 "$T/$1.conf"
}
start_qosd() {
	"$QOSD" -v --config "$T/$1.conf" >>"$T/qosd-$1.log" 2>&1 &
	QPID=$!
	track_pid "$QPID"
	wait_for 10 test -s "$T/copy-$1.lp" || fail "$1: qosd produces nothing: $(tail -5 "$T/qosd-$1.log")"
}
# stop_qosd PART: SIGTERM, then check that no sink process of qosd (its
# writers, its shipper) outlived it.  (The spawner is the scheduler's: at
# this writing the daemon closes its channel and exits without waiting for
# it, and its parent-death signal, SIGKILL, ends it if it is still there.)
stop_qosd() {
	local kids p rc t0=$SECONDS log="$T/qosd-$1.log" from
	from=$(wc -l <"$log")
	kids=$(pgrep -P "$QPID" -x 'qosd-(writer|shipper)' | tr '\n' ' ')
	[ -n "$(pgrep -P "$QPID" -x qosd-shipper)" ] || fail "$1: no shipper: $kids"
	[ "$(pgrep -P "$QPID" -x qosd-writer | wc -l)" = 2 ] || fail "$1: not 2 writers: $kids"
	kill -TERM "$QPID"
	# systemd gives a stop TimeoutStopSec=30s; the sinks' budget is less.
	wait_for 25 sh -c "! kill -0 $QPID 2>/dev/null" || fail "$1: qosd did not stop"
	wait "$QPID"
	rc=$?
	# Right away: a child qosd did not wait for would still be there.
	for p in $kids; do
		[ -e "/proc/$p" ] && fail "$1: child $p ($(cat "/proc/$p/comm" 2>/dev/null)) outlived qosd"
	done
	[ "$rc" = 0 ] || fail "$1: exit status $rc: $(tail -5 "$log")"
	STOP_S=$((SECONDS - t0))
	# What this stop logged.
	tail -n +$((from + 1)) "$log" >"$T/stop.log"
	grep -E 'killed|did not (stop|finish)' "$T/stop.log" &&
		fail "$1: something was killed at stop"
	grep -q 'sink influx: the shipper stopped' "$T/stop.log" ||
		fail "$1: qosd did not reap its shipper: $(tail -5 "$T/stop.log")"
	[ "$(grep -c 'the writer stopped' "$T/stop.log")" = 2 ] ||
		fail "$1: qosd did not reap its 2 writers: $(grep writer "$T/stop.log")"
	! grep -qiE 'AddressSanitizer|LeakSanitizer|runtime error' "$log" ||
		fail "sanitizer report: $(grep -m3 -iE 'Sanitizer|runtime error' "$log")"
}
# Lines produced, and points InfluxDB holds (one per line: every line has
# its own series and timestamp).
produced() { grep -c . "$T/copy-$1.lp"; }
in_influx() {
	influx_query "$1" 'SELECT * FROM /.*/' |
		jq '[.results[0].series[]?.values | length] | add // 0'
}
spool_files() { find "$T/state-$1/spool/influx" -name '*.lp' -not -path '*/rejected/*'; }
spooled_lines() { spool_files "$1" | xargs -r cat | grep -c . || true; }

# (a) InfluxDB up.
config a sa
start_qosd a
sleep 3
stop_qosd a
p=$(produced a) n=$(in_influx sa)
[ "$p" -gt 100 ] || fail "a: too few lines to mean anything: $p"
[ "$n" = "$p" ] || fail "a: produced $p lines, $n points in InfluxDB right after the stop (spool: $(spool_files a | tr '\n' ' '))"
[ -z "$(spool_files a)" ] || fail "a: left in the spool: $(spool_files a | tr '\n' ' ')"
grep -q '^qosd_sink,.*sink=influx' "$T/copy-a.lp" || fail "a: no final self-metrics"
ok "(a) InfluxDB up: all $p lines in InfluxDB when qosd exited ($STOP_S s), spool empty, writers and shipper reaped by qosd"

# (b) InfluxDB down at the stop.
config b sb
start_qosd b
sleep 2
kill -TERM "$INFLUXD_PID"
wait_for 30 sh -c "! kill -0 $INFLUXD_PID 2>/dev/null" || fail "influxd did not stop"
sleep 2
touch "$T/stop-b"
sleep 1
stop_qosd b
grep -q 'sink influx: stopping with [0-9]* segments not delivered' "$T/qosd-b.log" ||
	fail "b: the undelivered segments were not logged: $(tail -5 "$T/qosd-b.log")"
influxd -config "$T/influx/influxd.conf" >>"$T/influx/log" 2>&1 &
INFLUXD_PID=$!
track_pid "$INFLUXD_PID"
wait_for 30 curl -sf "$INFLUX_URL/ping" || fail "influxd did not restart"
p=$(produced b) n=$(in_influx sb) l=$(spooled_lines b)
[ "$l" -gt 0 ] || fail "b: nothing left in the spool with InfluxDB down"
[ $((n + l)) = "$p" ] || fail "b: produced $p, in InfluxDB $n, spooled $l"
ok "(b) InfluxDB down: qosd stopped in $STOP_S s, $l of $p lines kept in the spool"
# The next start delivers them (and its own lines: the workload is off).
start_qosd b
wait_for 30 sh -c "[ -z \"\$(find '$T/state-b/spool/influx/ready' -name '*.lp')\" ]" ||
	fail "b: the spool did not drain after the restart"
stop_qosd b
p=$(produced b) n=$(in_influx sb)
[ "$n" = "$p" ] || fail "b: after the restart produced $p, in InfluxDB $n"
ok "(b) the next start delivered them: all $p lines in InfluxDB"
