#!/bin/bash
# A sink whose disk stalls never stalls the scheduler: the file sink's
# writer process is stuck in write(2) (a FIFO whose reader is stopped) while
# runs go on and the daemon queues for it; when the reader resumes every
# line arrives.  A writer killed mid-stream is restarted and given again
# what it had not confirmed, and one killed as the daemon stops is
# replaced for the rest at once: nothing is lost.
. "$(dirname "$0")/lib.sh"

fifo="$T/fifo" ref="$T/ref.lp" got="$T/got.lp" conf="$T/qosd.conf"
mkfifo "$fifo"
cat "$fifo" >"$got" &
rpid=$!
track_pid "$rpid"
# Hold a write end, so the reader sees no EOF while a writer restarts.
exec 3>"$fifo"
targets=$(seq -f '"t%g"' 1 400 | paste -sd,)
{
	echo 'agent: { id = "stall"; };'
	echo 'daemon: { self_interval = 1; };'
	echo 'defaults: { interval = 0.5; timeout = 0.4; splay = 0.5; };'
	echo "sinks = ( { name = \"slow\"; type = \"file\"; path = \"$fifo\"; },"
	echo "          { name = \"ref\"; type = \"file\"; path = \"$ref\"; } );"
	echo 'jobs = ('
	for i in $(seq 8); do
		[ "$i" -gt 1 ] && echo ','
		echo "{ name = \"j$i\"; collector = \"testcoll\"; targets = [ $targets ]; }"
	done
	echo ');'
} >"$conf"
"$QOSD" --plugin-dir "$BUILD/tests/plugins" --config "$conf" 2>"$T/log" &
qpid=$!
track_pid "$qpid"
wait_for 10 grep -q '^qosd_job,' "$ref" 2>/dev/null || fail "no runs: $(cat "$T/log")"
sleep 1
wr=$(pgrep -P "$qpid" -x qosd-writer | tr '\n' ' ')
[ "$(echo $wr | wc -w)" -eq 2 ] || fail "expected a writer per file sink, got: $wr"

# The disk stalls: the writer blocks in write(2), the daemon goes on.
kill -STOP "$rpid"
n0=$(grep -c '^qosd_job,' "$ref")
sleep 6
n1=$(grep -c '^qosd_job,' "$ref")
runs=$((n1 - n0))
# 8 jobs every 0.5 s: 96 runs in 6 s; a blocked loop would make none.
[ "$runs" -ge 48 ] || fail "only $runs runs in 6 s while a sink was stalled"
q=$(grep '^qosd_sink,.*sink=slow' "$ref" | tail -1 | sed -n 's/.*queued_bytes=\([0-9]*\)i.*/\1/p')
[ -n "$q" ] && [ "$q" -gt 0 ] || fail "no queued_bytes reported for the stalled sink: $(grep '^qosd_sink,.*sink=slow' "$ref" | tail -1)"
ok "sink stalled 6 s: $runs runs went on, $q bytes queued for its writer"
kill -CONT "$rpid"

# A writer killed mid-stream: restarted, fed again what it had not confirmed.
# The slow sink's writer: the one holding the FIFO open.
slow_writer() {
	local p
	for p in $(pgrep -P "$qpid" -x qosd-writer); do
		if ls -l "/proc/$p/fd" 2>/dev/null | grep -q "$fifo"; then
			echo "$p"
			return
		fi
	done
	fail "cannot find the slow sink's writer"
}
sleep 1
wslow=$(slow_writer) || exit 1
kill -KILL "$wslow"
wait_for 10 grep -q "sink slow: the writer was killed by signal 9 (Killed): restarting it" "$T/log" ||
	fail "writer death not reported: $(cat "$T/log")"
sleep 3
n=$(pgrep -P "$qpid" -x qosd-writer | wc -l)
[ "$n" -eq 2 ] || fail "writer not restarted ($n writers): $(cat "$T/log")"

# A writer that dies as the daemon stops, with lines it had not written:
# the daemon starts one more for them rather than give them up.  The
# reader stops first, so that there is a queue to lose.
kill -STOP "$rpid"
sleep 2
wslow=$(slow_writer) || exit 1
kill -KILL "$wslow"
kill -TERM "$qpid"
sleep 1
kill -CONT "$rpid"
wait "$qpid" || fail "exit status $?"
grep -q "sink slow: .*bytes not written" "$T/log" &&
	fail "lines given up at stop: $(grep 'not written' "$T/log")"
grep -q "sink slow: a writer for the last [0-9]* bytes" "$T/log" ||
	fail "no last writer at stop: $(tail -5 "$T/log")"
exec 3>&-
wait "$rpid" 2>/dev/null

# Everything the reference sink got, the slow one got too (at least once).
sort -u "$ref" >"$T/ref.s"
sort -u "$got" >"$T/got.s"
missing=$(comm -23 "$T/ref.s" "$T/got.s" | grep -v '^qosd_sink,' | wc -l)
total=$(wc -l <"$T/ref.s")
[ "$total" -gt 10000 ] || fail "too few lines to mean anything: $total"
[ "$missing" -eq 0 ] || fail "$missing of $total lines never reached the stalled sink: $(comm -23 "$T/ref.s" "$T/got.s" | grep -v '^qosd_sink,' | head -3)"
grep -q '^qosd_sink,.*sink=slow.*dropped=0i' "$ref" || fail "the slow sink reports drops"
ok "after the stall and two killed writers: all $total lines delivered, none dropped"

# A disk that is full (/dev/full: every write fails with ENOSPC): the lines
# are counted as dropped, the log says so once, the daemon goes on.
{
	echo 'agent: { id = "full"; };'
	echo 'daemon: { self_interval = 1; };'
	echo "sinks = ( { name = \"full\"; type = \"file\"; path = \"/dev/full\"; },"
	echo "          { name = \"ref\"; type = \"file\"; path = \"$T/ref2.lp\"; } );"
	echo 'jobs = ( { name = "j"; collector = "testcoll"; interval = 0.5;'
	echo '  targets = [ "a", "b" ]; } );'
} >"$T/full.conf"
"$QOSD" --plugin-dir "$BUILD/tests/plugins" --config "$T/full.conf" 2>"$T/log2" &
qpid=$!
track_pid "$qpid"
wait_for 10 grep -q '^qosd_sink,.*sink=full.*dropped=[1-9]' "$T/ref2.lp" 2>/dev/null ||
	fail "no drops counted for a full disk: $(grep '^qosd_sink,.*sink=full' "$T/ref2.lp" | tail -1) $(cat "$T/log2")"
sleep 2
kill -TERM "$qpid"; wait "$qpid" || fail "exit status $? with a full disk"
last=$(grep '^qosd_sink,.*sink=full' "$T/ref2.lp" | tail -1)
case "$last" in *sent=0i*) ;; *) fail "a full disk reports lines sent: $last" ;; esac
n=$(grep -c 'sink full: write to "/dev/full" failed, [0-9]* lines lost: No space left on device' "$T/log2")
[ "$n" -eq 1 ] || fail "expected one complaint about the full disk, got $n: $(cat "$T/log2")"
d=$(echo "$last" | sed -n 's/.*dropped=\([0-9]*\)i.*/\1/p')
ok "a full disk: $d lines counted as dropped, one log line, clean stop"
