#!/bin/bash
# The spawner: killed, it is restarted with a backoff (after reading the
# configuration again: the daemon let go of the plugins), runs start
# again, and a configuration broken meanwhile delays the new spawner, not
# the daemon.  A spawner per collector: one killed, the others' runs go
# on.  At stop, a run still going after stop_grace is recorded as
# "stopped" (not as a timeout), and no child of qosd outlives it.
. "$(dirname "$0")/lib.sh"

out="$T/out.lp" log="$T/qosd.log" conf="$T/qosd.conf"
write_conf() {	# write_conf EXTRA: the config, EXTRA appended inside jobs
	cat >"$conf" <<CONF
agent: { id = "sp"; };
daemon: { self_interval = 1; stop_grace = 1; realtime = false; };
defaults: { interval = 1; timeout = 0.9; splay = 0; };
sinks = ( { type = "file"; path = "$out"; } );
jobs = (
  { name = "tick"; collector = "exec"; command = [ "/bin/echo", "tick v=1i" ]; },
  { name = "long"; collector = "exec"; interval = 4; timeout = 3.9;
    command = [ "/bin/sleep", "15" ]; }$1
);
CONF
}
write_conf ""
"$QOSD" --check-config --config "$conf" || fail "config invalid"
"$QOSD" --config "$conf" 2>"$log" &
qpid=$!
track_pid "$qpid"
spawner() { pgrep -P "$qpid" -x qosd-spawner | head -1; }
ticks() { local n; n=$(count_lines '^tick,' "$out"); echo "${n:-0}"; }
more_ticks() { [ "$(ticks)" -gt "$1" ]; }	# evaluated at each try
has_spawner() { [ -n "$(spawner)" ]; }
wait_for 10 more_ticks 1 || fail "no ticks: $(cat "$log")"
sp1=$(spawner)
[ -n "$sp1" ] || fail "no spawner"

kill -KILL "$sp1"
wait_for 5 grep -q 'the spawner is gone: runs cannot start until a new one is forked in 1 s' "$log" ||
	fail "no restart announced: $(cat "$log")"
wait_for 5 has_spawner || fail "no new spawner: $(cat "$log")"
sp2=$(spawner)
[ "$sp2" != "$sp1" ] || fail "the same spawner"
kill -0 "$qpid" || fail "the daemon is gone"
n=$(ticks)
wait_for 5 more_ticks "$n" || fail "no runs after the new spawner"
grep -q 'a new spawner runs: runs start again' "$log" || fail "no notice: $(cat "$log")"
ok "spawner killed: a new one in 1 s, runs go on ($n ticks before)"

# Broken on disk: the new spawner waits, with a growing backoff, for a
# configuration that loads; the daemon stays up meanwhile.
echo 'jobs = ( broken' >"$conf"
kill -KILL "$sp2"
wait_for 5 grep -q 'reload failed, the running configuration stays' "$log" ||
	fail "no failed reload: $(cat "$log")"
wait_for 5 grep -q 'forked in 2 s' "$log" || fail "no backoff: $(cat "$log")"
kill -0 "$qpid" || fail "the daemon is gone"
[ -z "$(spawner)" ] || fail "a spawner from a broken configuration"
write_conf ""
wait_for 10 has_spawner || fail "no spawner once fixed: $(cat "$log")"
n=$(ticks)
wait_for 5 more_ticks "$n" || fail "no runs once fixed"
ok "broken configuration: the daemon waits (backoff 1 s, 2 s), then runs again"

# A spawner per collector: one that dies takes only its collector's runs.
# With a tcp job beside (connect to a closed port: "refused" at once), the
# configuration broken on disk and the tcp spawner killed, the exec runs
# go on while the tcp runs are counted as not started; fixed, both again.
port=$(free_port)
write_conf ",
  { name = \"conn\"; collector = \"tcp\"; targets = [ \"127.0.0.1\" ]; port = $port;
    count = 1; probe_timeout = 0.5; }"
kill -HUP "$qpid"
wait_for 10 grep -q 'configuration reloaded' "$log" || fail "no reload: $(tail -5 "$log")"
spawner_of() {	# spawner_of COLLECTOR: the current spawner that maps COLLECTOR.so
	local p
	for p in $(pgrep -P "$qpid" -x qosd-spawner); do
		grep -qs "/$1\\.so\$" "/proc/$p/maps" && echo "$p"
	done | tail -1
}
conns() { local n; n=$(count_lines '^tcp,.*job=conn' "$out"); echo "${n:-0}"; }
more_conns() { [ "$(conns)" -gt "$1" ]; }
wait_for 10 more_conns 0 || fail "no tcp points: $(tail -5 "$log")"
wait_for 10 sh -c '[ "$(pgrep -P '"$qpid"' -x qosd-spawner | wc -l)" = 2 ]' ||
	fail "not one spawner for each of exec and tcp: $(pgrep -P "$qpid" -x qosd-spawner | tr '\n' ' ')"
tsp=$(spawner_of tcp) esp=$(spawner_of exec)
[ -n "$tsp" ] && [ -n "$esp" ] && [ "$tsp" != "$esp" ] || fail "tcp spawner '$tsp', exec spawner '$esp'"
echo 'jobs = ( broken' >"$conf"
kill -KILL "$tsp"
wait_for 5 grep -q "spawner $tsp (tcp) is gone" "$log" || fail "the tcp spawner's end not logged: $(tail -5 "$log")"
sleep 1.5
n=$(ticks) c=$(conns)
sleep 3
kill -0 "$esp" || fail "the exec spawner went with the tcp one"
[ "$(ticks)" -ge $((n + 2)) ] || fail "exec runs stopped with the tcp spawner: $n then $(ticks) ticks in 3 s"
[ "$(conns)" = "$c" ] || fail "tcp runs without a tcp spawner: $c then $(conns)"
wait_for 5 grep -q '^qosd,.*runs_not_started=[1-9]' "$out" || fail "tcp runs not counted as not started"
write_conf ""
wait_for 10 sh -c '[ "$(pgrep -P '"$qpid"' -x qosd-spawner | wc -l)" = 1 ] && ! kill -0 '"$esp"' 2>/dev/null' ||
	fail "no new spawner once fixed: $(tail -5 "$log")"
n=$(ticks)
wait_for 5 more_ticks "$n" || fail "no runs once fixed"
ok "a spawner per collector: the tcp one killed, exec runs go on ($n ticks), tcp runs not started; fixed, runs again"

# Stop: "long" sleeps 15 s (its timeout: 3.9 s); stop_grace is 1 s.
kids=$(pgrep -P "$qpid" | tr '\n' ' ')
[ -n "$kids" ] || fail "no children to watch"
wait_for 5 pgrep -f '^/bin/sleep 15' >/dev/null || fail "long is not running"
kill -TERM "$qpid"
wait "$qpid"
rc=$?
[ $rc -eq 0 ] || fail "exit $rc: $(tail -5 "$log")"
for k in $kids; do
	if kill -0 "$k" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$k/stat" 2>/dev/null)" != Z ]; then
		fail "child $k ($(cat /proc/$k/comm)) outlived qosd"
	fi
done
grep '^qosd_job,.*job=long' "$out" | tail -1 | grep -q ' result="stopped"' ||
	fail "long not recorded as stopped: $(grep 'job=long' "$out" | tail -3)"
# Runs the killed spawners took with them are "stopped" too.
nstopped=$(count_lines '^qosd_job,.* result="stopped"' "$out")
last=$(grep '^qosd,' "$out" | tail -1)
echo "$last" | grep -q "runs_stopped=${nstopped}i" || fail "runs_stopped, $nstopped stopped runs: $last"
# A run may really time out on a loaded machine (a tick's 0.9 s); the
# counter must agree with the records, in which the stop is "stopped".
ntimeout=$(count_lines '^qosd_job,.* result="timeout"' "$out")
echo "$last" | grep -q "runs_timeout=${ntimeout:-0}i" ||
	fail "a stop counted as a timeout: $ntimeout timeout records: $last"
ok "stop: the run past stop_grace is \"stopped\" (runs_stopped=$nstopped), no child outlives qosd ($kids)"
