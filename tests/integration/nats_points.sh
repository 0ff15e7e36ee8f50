#!/bin/bash
# nats_points.sh: nats.points (issue 18, item 1, the optional part): every
# line the sinks get is published on PREFIX.points.AGENT.MEASUREMENT, and
# with points_stream kept in a JetStream stream.
#  - p1 (points = true): a subscriber on qosd.points.p1.> gets every line
#    of the file sink, on the subject of its measurement (testcoll, qosd,
#    qosd_job, qosd_sink);
#  - p2 (points_stream = "qosd_points"): the server stopped for 5 s while
#    jobs run, started again (same store); after p2 stopped, the stream
#    holds every line of p2's file sink (at least once), those of the
#    outage included; its status says points_dropped 0.
. "$(dirname "$0")/lib.sh"
command -v nats-server >/dev/null || skip "nats-server not installed (apt-get install nats-server)"
command -v jq >/dev/null || skip "jq missing"
QOSCTL="$BUILD/qosctl"
SUB="$BUILD/tools/nats_sub"

NPORT=$(free_port) || fail "no free port"
NURL="nats://127.0.0.1:$NPORT"
start_nats() {
	nats-server -a 127.0.0.1 -p "$NPORT" -js -sd "$T/js" >>"$T/nats.log" 2>&1 &
	NPID=$!
	track_pid "$NPID"
	wait_for 20 sh -c "grep -c 'Server is ready' '$T/nats.log' | grep -qx '$1'" ||
		fail "nats-server did not start: $(tail -5 "$T/nats.log")"
}
start_nats 1

: >"$T/sub.err"
"$SUB" -l "$NURL" 'qosd.points.p1.>' 60 >"$T/sub.out" 2>"$T/sub.err" &
SUBPID=$!
track_pid "$SUBPID"
wait_for 10 grep -q ready "$T/sub.err" || fail "nats_sub: $(cat "$T/sub.err")"

# agent ID EXTRA
agent() {
	cat >"$T/$1.conf" <<CONF
agent: { id = "$1"; };
daemon: { realtime = false; self_interval = 1; state_dir = "$T/state-$1"; };
sinks = ( { type = "file"; path = "$T/$1.lp"; } );
control = { socket = "$T/$1.sock"; };
nats = { servers = [ "$NURL" ]; heartbeat_interval = 1; reconnect_min = 0.2;
  reconnect_max = 1; points = true; $2 };
jobs = ( { name = "w"; collector = "testcoll"; interval = 0.5; splay = 0;
  targets = [ "x1", "x2" ]; } );
CONF
	"$QOSD" --plugin-dir "$BUILD/tests/plugins" --config "$T/$1.conf" 2>>"$T/$1.log" &
	eval "PID_$1=$!"
	track_pid "$!"
}
agent p1 ""
agent p2 'points_stream = "qosd_points";'
wait_for 20 sh -c "grep -q '^qosd.points.p1.testcoll testcoll,' '$T/sub.out'" ||
	fail "no points of p1: $(head -3 "$T/sub.out") $(tail -3 "$T/p1.log")"
sleep 4

# p1: every line up to now, on its measurement's subject.
kill -TERM "$PID_p1"
wait_for 20 sh -c "! kill -0 $PID_p1 2>/dev/null" || fail "p1 did not stop"
want=$(wc -l <"$T/p1.lp")
got() { awk '{ sub(/^[^ ]* /, ""); print }' "$T/sub.out" | grep -cFxf "$T/p1.lp"; }
wait_for 10 sh -c "[ \$(awk '{ sub(/^[^ ]* /, \"\"); print }' '$T/sub.out' | sort -u | grep -cFxf '$T/p1.lp') = $want ]" ||
	fail "p1: $(got) of $want lines on the bus"
for m in testcoll qosd qosd_job qosd_sink; do
	n=$(grep -c "^$m[, ]" "$T/p1.lp")
	[ "$(grep -c "^qosd.points.p1.$m $m[, ]" "$T/sub.out")" -ge "$n" ] ||
		fail "p1: $m lines not on qosd.points.p1.$m"
done
ok "p1: all $want lines of its file sink on qosd.points.p1.MEASUREMENT"

# p2 through an outage: every line in the stream.
kill -TERM "$NPID"
wait_for 20 sh -c "! kill -0 $NPID 2>/dev/null" || fail "nats-server did not stop"
sleep 5
start_nats 2
wait_for 20 sh -c "[ \"\$(QOSD_CONTROL=$T/p2.sock $QOSCTL --json status | jq -r .bus.connected)\" = true ]" ||
	fail "p2 not back on the bus"
sleep 3
kill -TERM "$PID_p2"
wait_for 20 sh -c "! kill -0 $PID_p2 2>/dev/null" || fail "p2 did not stop"
"$SUB" -j -l "$NURL" 'qosd.points.p2.>' 3 >"$T/stream.out" 2>"$T/stream.err" ||
	fail "reading the stream: $(cat "$T/stream.err")"
want=$(sort -u "$T/p2.lp" | wc -l)
have=$(awk '{ sub(/^[^ ]* /, ""); print }' "$T/stream.out" | sort -u | grep -cFxf "$T/p2.lp")
[ "$have" = "$want" ] || fail "p2: $have of $want lines in the stream"
grep -q "NATS is away" "$T/p2.log" || fail "p2 did not see the outage"
ok "p2: all $want lines of its file sink in the stream qosd_points, through a 5 s outage ($(wc -l <"$T/stream.out") lines stored)"
