#!/bin/bash
# spool_lock.sh (issue 15 item 5): one qosd per state_dir and per spool.
#  (a) who holds the locks: state_dir/qosd.lock only the daemon; the
#      spool's lock the daemon, the sink's writer and its shipper; never
#      the spawner or a run;
#  (b) a second daemon on the same state_dir exits 78 naming the first
#      one's pid, and the first one keeps delivering to a real influxd;
#  (c) a daemon with another state_dir but the first one's spool as its
#      spool_dir exits 78 naming the first one's pid;
#  (d) two sinks with the same spool_dir: --check-config exits 78 with
#      FILE:LINE of the second, and a reload to it fails, the old one runs;
#  (e) kill -9 of the daemon during an InfluxDB outage: once its children
#      are gone a new daemon starts and every point spooled is delivered.
. "$(dirname "$0")/lib.sh"
start_influxd
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode 'q=CREATE DATABASE qos' >/dev/null ||
	fail "cannot create the database"

cat >"$T/gen.sh" <<'GEN'
#!/bin/sh
# gen.sh COUNTER: 20 points a run, numbered on from COUNTER.
n=$(cat "$1" 2>/dev/null || echo 0)
awk -v s="$n" 'BEGIN { for (i = 1; i <= 20; i++)
	printf "work seq=%di 1600000000%09d\n", s + i, s + i }'
echo $((n + 20)) >"$1.tmp" && mv "$1.tmp" "$1"
GEN
chmod +x "$T/gen.sh"
# conf FILE STATE_DIR [SINK SETTINGS]
conf() {
	cat >"$1" <<CONF
daemon: { state_dir = "$2"; self_interval = 0; realtime = false; };
sinks = (
	{ type = "influxdb"; name = "influx"; url = "$INFLUX_URL"; database = "qos";
	  flush_interval = 0.2; backoff_max = 1; ${3:-} }
);
jobs = (
	{ name = "w"; collector = "exec"; interval = 0.5; timeout = 0.4;
	  command = [ "$T/gen.sh", "$T/counter" ]; },
	{ name = "sleeper"; collector = "exec"; interval = 2; timeout = 1.9;
	  command = [ "/bin/sh", "-c", "echo sleeper v=1i; sleep 1.8" ]; }
);
CONF
}
S=$T/state
conf "$T/a.conf" "$S"
count() {
	influx_query qos "SELECT count(seq) FROM work" |
		sed -n 's/.*"values":\[\["[^"]*",\([0-9]*\)\]\].*/\1/p' | grep . || echo 0
}
start() {
	"$QOSD" --config "$1" >>"$2" 2>&1 &
	QPID=$!
	track_pid "$QPID"
}
start "$T/a.conf" "$T/a.log"
A=$QPID
more_than() { [ "$(count)" -gt "$1" ]; }
wait_for 20 more_than 0 || fail "(a) nothing in influxd: $(tail -5 "$T/a.log")"

# (a) Who has the lock files open.
descendants() {
	local p=$1 c
	echo "$p"
	# cat, not awk FILES: mawk stops at a file gone since the glob.
	for c in $(cat /proc/[0-9]*/stat 2>/dev/null | awk -v pp="$p" '$4 == pp { print $1 }'); do
		descendants "$c"
	done
}
holders() {	# holders FILE: "COMM" of each process of A's tree with FILE open
	local p
	for p in $(descendants "$A"); do
		if ls -l "/proc/$p/fd" 2>/dev/null | grep -q " -> $1\$"; then
			if [ "$p" = "$A" ]; then echo daemon; else cat "/proc/$p/comm"; fi
		fi
	done | sort | tr '\n' ' '
}
# held_by FILE WANT: the holders are WANT (HELD: what was seen).
held_by() { HELD=$(holders "$1"); [ "$HELD" = "$2" ]; }
run_below() { descendants "$A" | while read -r p; do [ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ] && echo y; done | grep -q y; }
wait_for 10 run_below || fail "(a) no run of the sleeper"
held_by "$S/qosd.lock" "daemon " || fail "(a) state_dir lock held by: '$HELD'"
held_by "$S/spool/influx/lock" "daemon qosd-shipper qosd-writer " ||
	fail "(a) spool lock held by: '$HELD': $(tail -5 "$T/a.log")"
[ "$(cat "$S/qosd.lock")" = "$A" ] && [ "$(cat "$S/spool/influx/lock")" = "$A" ] ||
	fail "(a) the lock files do not name $A"
ok "(a) state_dir lock: the daemon alone; spool lock: the daemon, its writer and shipper (not the spawner, not a run)"

# (b) A second daemon on the same state_dir.
"$QOSD" --config "$T/a.conf" >"$T/b.log" 2>&1 &
B=$!
wait_for 10 sh -c "! kill -0 $B 2>/dev/null" || fail "(b) the second daemon runs"
wait "$B"; rc=$?
[ "$rc" = 78 ] || fail "(b) exit $rc: $(cat "$T/b.log")"
grep -qF "state_dir \"$S\": in use by qosd, pid $A: one qosd per state_dir" "$T/b.log" ||
	fail "(b) the pid is not named: $(cat "$T/b.log")"
kill -0 "$A" || fail "(b) the first daemon is gone"
n1=$(count)
wait_for 10 more_than "$n1" || fail "(b) the first daemon no longer delivers"
ok "(b) a second daemon on $S exits 78: $(sed "s|$T/||" "$T/b.log"); the first delivers on ($n1, then $(count) points)"

# (c) Another state_dir, the first one's spool as spool_dir.
conf "$T/c.conf" "$T/state-c" "spool_dir = \"$S/spool/influx\";"
"$QOSD" --config "$T/c.conf" >"$T/c.log" 2>&1 &
C=$!
wait_for 20 sh -c "! kill -0 $C 2>/dev/null" || fail "(c) the daemon with the same spool_dir runs"
wait "$C"; rc=$?
[ "$rc" = 78 ] || fail "(c) exit $rc: $(cat "$T/c.log")"
grep -qF "sink influx: spool \"$S/spool/influx\": in use by qosd, pid $A: one qosd per spool" "$T/c.log" ||
	fail "(c) the pid is not named: $(cat "$T/c.log")"
kill -0 "$A" || fail "(c) the first daemon is gone"
ok "(c) the same spool_dir under another state_dir: exit 78, $(grep -o 'sink influx: spool.*' "$T/c.log" | sed "s|$T/||g")"

# (d) Two sinks with the same spool_dir.
cp "$T/a.conf" "$T/a.good"
cat >"$T/a.conf" <<CONF
daemon: { state_dir = "$S"; self_interval = 0; realtime = false; };
sinks = (
	{ type = "influxdb"; name = "influx"; url = "$INFLUX_URL"; database = "qos"; },
	{ type = "influxdb"; name = "again"; url = "$INFLUX_URL"; database = "qos";
	  spool_dir = "$S/spool/influx/"; }
);
CONF
out=$("$QOSD" --check-config --config "$T/a.conf" 2>&1); rc=$?
[ "$rc" = 78 ] || fail "(d) --check-config exited $rc: $out"
[ "$out" = "$T/a.conf:5: sinks.again.spool_dir: \"$S/spool/influx\" is already the spool of the sink \"influx\" at line 3: give each sink its own spool_dir" ] ||
	fail "(d) $out"
kill -HUP "$A"
wait_for 10 grep -q 'reload failed' "$T/a.log" || fail "(d) the reload did not fail: $(tail -3 "$T/a.log")"
grep -qF "$T/a.conf:5: sinks.again.spool_dir" "$T/a.log" || fail "(d) no FILE:LINE in the log"
cp "$T/a.good" "$T/a.conf"
kill -0 "$A" || fail "(d) the daemon is gone"
ok "(d) the same spool_dir twice: ${out#"$T/"}; a reload to it fails, the daemon runs on"

# (e) kill -9 during an outage, then a new daemon once its children died.
kill -TERM "$INFLUXD_PID"
wait_for 30 sh -c "! kill -0 $INFLUXD_PID 2>/dev/null" || fail "(e) influxd did not stop"
sleep 3
children=$(descendants "$A" | grep -vx "$A" | tr '\n' ' ')
kill -KILL "$A"
for p in $children; do
	wait_for 15 sh -c "! kill -0 $p 2>/dev/null" || fail "(e) pid $p ($(cat /proc/$p/comm 2>/dev/null)) of the killed daemon stays"
done
spooled=$(find "$S/spool/influx" -name '*.lp' -not -path '*/rejected/*' | xargs -r cat | grep -c '^work')
last=$(find "$S/spool/influx" -name '*.lp' -not -path '*/rejected/*' | xargs -r cat | grep '^work' |
	sed 's/.*seq=\([0-9]*\)i.*/\1/' | sort -n | tail -1)
[ "$spooled" -gt 0 ] || fail "(e) nothing spooled during the outage: not a test"
influxd -config "$T/influx/influxd.conf" >>"$T/influx/log" 2>&1 &
INFLUXD_PID=$!
track_pid "$INFLUXD_PID"
wait_for 30 curl -sf "$INFLUX_URL/ping" || fail "(e) influxd did not restart"
start "$T/a.conf" "$T/e.log"
upto() {
	influx_query qos "SELECT count(seq) FROM work WHERE seq <= $last" |
		sed -n 's/.*"values":\[\["[^"]*",\([0-9]*\)\]\].*/\1/p'
}
all_in() { [ "$(upto)" = "$last" ]; }
wait_for 60 all_in ||
	fail "(e) points 1 to $last: $(upto) in influxd after the restart: $(tail -5 "$T/e.log")"
grep -q 'in use' "$T/e.log" && fail "(e) $(grep 'in use' "$T/e.log")"
kill -TERM "$QPID"
wait_for 20 sh -c "! kill -0 $QPID 2>/dev/null" || fail "qosd did not stop"
! grep -qiE 'AddressSanitizer|LeakSanitizer|runtime error' "$T"/*.log ||
	fail "sanitizer report: $(grep -m3 -iE 'Sanitizer|runtime error' "$T"/*.log)"
ok "(e) kill -9 with $spooled points spooled: once its children were gone a new daemon started and delivered points 1 to $last"
