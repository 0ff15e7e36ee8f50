#!/bin/bash
# A sink that falls behind holds runs back instead of losing their
# points: with the sink's reader stopped, a run printing ~2 million lines
# (more than the writer's 64 MiB queue once tagged) fills the queue to
# 75 %; the daemon then stops reading runs' points (the run blocks on its
# pipe) and reads again below 25 % once the reader goes on.  Every line
# arrives, the sink reports no drops, and the hold is counted and logged.
. "$(dirname "$0")/lib.sh"

fifo="$T/fifo" got="$T/got.lp" ref="$T/ref.lp" conf="$T/qosd.conf"
n=2000000
mkfifo "$fifo"
cat "$fifo" >"$got" &
rpid=$!
track_pid "$rpid"
exec 3>"$fifo"
cat >"$conf" <<CONF
agent: { id = "bp"; };
daemon: { self_interval = 1; realtime = false; };
defaults: { interval = 3600; splay = 0; };
control = { socket = "$T/control"; };
sinks = ( { name = "slow"; type = "file"; path = "$fifo"; },
          { name = "ref"; type = "file"; path = "$ref"; } );
jobs = ( { name = "flood"; collector = "exec"; max_output = "1G"; timeout = 240;
  command = [ "/bin/sh", "-c", "yes 'flood v=1i' | head -n $n" ]; } );
CONF
"$QOSD" --check-config --config "$conf" || fail "config invalid"
kill -STOP "$rpid"
"$QOSD" --config "$conf" 2>"$T/log" &
qpid=$!
track_pid "$qpid"
# Run now (the control API), with a timeout that leaves room for a slow
# machine: under make sanitize, beside other work, 2 million lines took
# 34 s.
wait_for 10 test -S "$T/control" || fail "no control socket: $(tail -3 "$T/log")"
curl -sf --unix-socket "$T/control" -X POST http://qosd/v1/jobs/flood/run >/dev/null ||
	fail "run now refused: $(tail -3 "$T/log")"
wait_for 60 grep -q 'runs are held' "$T/log" || fail "runs never held: $(tail -3 "$T/log")"
sleep 2
kill -CONT "$rpid"
wait_for 60 grep -q 'reading runs.* points again' "$T/log" || fail "never read again: $(tail -3 "$T/log")"
done_run() { grep -q '^qosd_job,.*job=flood' "$ref"; }
wait_for 240 done_run || fail "the run did not end: $(tail -3 "$T/log")"
kill -TERM "$qpid"
wait "$qpid" || fail "exit $?: $(tail -3 "$T/log")"
exec 3>&-
wait "$rpid" 2>/dev/null
got_n=$(grep -c '^flood,' "$got")
ref_n=$(grep -c '^flood,' "$ref")
last=$(grep '^qosd_sink,.*sink=slow' "$ref" | tail -1)
job=$(grep '^qosd_job,.*job=flood' "$ref" | tail -1)
held=$(grep '^qosd,' "$ref" | tail -1 | sed -n 's/.*runs_held=\([0-9]*\)i.*/\1/p')
echo "flood: $got_n lines in the slow sink, $ref_n in the other, held $held times"
echo "$job" | grep -q ' result="ok"' || fail "the run: $job"
[ "$ref_n" -eq "$n" ] || fail "$ref_n of $n lines in the reference sink: $job; $(tail -5 "$T/log")"
[ "$got_n" -eq "$n" ] || fail "$got_n of $n lines reached the slow sink"
echo "$last" | grep -q 'dropped=0i' || fail "drops: $last"
[ "${held:-0}" -ge 1 ] || fail "runs_held: $held"
ok "a stalled sink held the run back: all $n lines in both sinks, none dropped, held $held times"
