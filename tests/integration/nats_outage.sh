#!/bin/bash
# nats_outage.sh: the NATS server stopped for 20 s while jobs run (issue
# 18): two agents with an influxdb sink (a real influxd) and a file sink,
# heartbeat_interval 1 s, a job every 0.5 s.
#  - scheduling goes on: every deadline of the outage has its run (no
#    skipped run, the job's run count as before), and the scheduler's lag
#    rows (qosd.lag_p99_us, lag_max_us, self_interval 1 s) of the outage
#    are printed beside those before it; a loop blocked on NATS would lag
#    by seconds (connect timeout 2 s), so more than 1 s fails;
#  - the influxdb sink is unaffected: every point of the file sink (the
#    same lines) is in InfluxDB, counted exactly, after the outage too;
#  - runs asked while the bus is away are not lost either: a run asked
#    over the control socket during the outage is in the bucket once
#    NATS is back (states wait in the bus);
#  - the agents are listed alive again once the server is back (same
#    port, same JetStream store).
. "$(dirname "$0")/lib.sh"
command -v nats-server >/dev/null || skip "nats-server not installed (apt-get install nats-server)"
command -v jq >/dev/null || skip "jq missing"
command -v curl >/dev/null || skip "curl missing"
QOSCTL="$BUILD/qosctl"
OUTAGE=${NATS_OUTAGE_S:-20}
BEFORE=${NATS_BEFORE_S:-5}	# the rows before the outage, to print beside
start_influxd
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE fleet" >/dev/null ||
	fail "cannot create the database"

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
Q() { "$QOSCTL" --nats "$NURL" "$@"; }

for a in o1 o2; do
	cat >"$T/$a.conf" <<CONF
agent: { id = "$a"; };
daemon: { realtime = false; self_interval = 1; state_dir = "$T/state-$a"; };
sinks = (
  { type = "influxdb"; name = "influx"; url = "$INFLUX_URL"; database = "fleet";
    flush_interval = 0.5; backoff_max = 1; spool_dir = "$T/spool-$a"; },
  { type = "file"; name = "copy"; path = "$T/$a.lp"; }
);
control = { socket = "$T/$a.sock"; };
nats = { servers = [ "$NURL" ]; heartbeat_interval = 1; reconnect_min = 0.2;
  reconnect_max = 1; };
jobs = (
  { name = "w"; collector = "testcoll"; interval = 0.5; splay = 0;
    targets = [ "t1", "t2" ]; },
  { name = "once"; collector = "testcoll"; interval = 3600; targets = [ "t" ]; }
);
CONF
	"$QOSD" --plugin-dir "$BUILD/tests/plugins" --config "$T/$a.conf" 2>"$T/$a.log" &
	eval "PID_$a=$!"
	track_pid "$!"
done
alive_list() { Q --json agents 2>/dev/null | jq -r '[.agents[] | "\(.agent):\(if .alive then "alive" else "dead" end)"] | join(" ")'; }
listed() { [ "$(alive_list)" = "$1" ]; }
wait_for 30 listed "o1:alive o2:alive" || fail "agents not alive: $(alive_list); $(tail -3 "$T"/o*.log)"
ok "o1 and o2 alive on the bus"

# qosd rows of the file sink between two times (ns): "lag_p99 lag_max skipped".
rows() {
	awk -v a="$2" -v b="$3" '$1 ~ /^qosd,/ && $NF >= a && $NF < b {
		p = m = s = "";
		n = split($2, f, ",");
		for (i = 1; i <= n; i++) { split(f[i], kv, "=");
			if (kv[1] == "lag_p99_us") p = kv[2];
			if (kv[1] == "lag_max_us") m = kv[2];
			if (kv[1] == "runs_skipped") s = kv[2] }
		gsub("i", "", p); gsub("i", "", m); gsub("i", "", s);
		print p, m, s }' "$T/$1.lp"
}
# runs of job w between two times (ns) in the file sink.
runs() { awk -v a="$2" -v b="$3" '$1 ~ /^qosd_job,/ && /job=w/ && $NF >= a && $NF < b' "$T/$1.lp" | wc -l; }
now_ns() { date +%s%N; }

sleep 5
b0=$(now_ns)
sleep "$BEFORE"
b1=$(now_ns)
kill -TERM "$NPID"
wait_for 20 sh -c "! kill -0 $NPID 2>/dev/null" || fail "nats-server did not stop"
o0=$(now_ns)
wait_for 10 sh -c "grep -q 'NATS is away' '$T/o1.log'" || fail "o1 did not see NATS go: $(tail -5 "$T/o1.log")"
# A run asked during the outage, over the control socket.
oid=$(QOSD_CONTROL="$T/o1.sock" "$QOSCTL" --id during-outage run once) || fail "run over the socket: $oid"
sleep "$OUTAGE"
o1=$(now_ns)
start_nats 2
wait_for 30 listed "o1:alive o2:alive" || fail "agents not back: $(alive_list); $(tail -5 "$T/o1.log")"
ok "NATS stopped for $OUTAGE s, started again: o1 and o2 alive again"

# Scheduling: every deadline ran, lag rows before and during the outage.
for a in o1 o2; do
	before=$(runs $a "$b0" "$b1") during=$(runs $a "$o0" "$o1")
	echo "$a: runs of w: $before in $BEFORE s before, $during in the $OUTAGE s outage"
	want=$(( OUTAGE * 2 ))
	[ "$during" -ge $(( want - 2 )) ] && [ "$during" -le $(( want + 2 )) ] ||
		fail "$a: $during runs in the outage, expected $want"
	echo "$a: lag rows (p99_us max_us skipped) before: $(rows $a "$b0" "$b1" | awk '{ printf "[%s] ", $0 }')"
	echo "$a: lag rows (p99_us max_us skipped) during: $(rows $a "$o0" "$o1" | awk '{ printf "[%s] ", $0 }')"
	rows $a "$o0" "$o1" | awk '$2 > 1000000 { bad = 1 } END { exit bad }' ||
		fail "$a: a lag over 1 s during the outage"
	last=$(rows $a "$b0" "$o1" | tail -n1 | awk '{print $3}')
	first=$(rows $a "$b0" "$o1" | head -n1 | awk '{print $3}')
	[ "$first" = "$last" ] || fail "$a: runs skipped: $first then $last"
done
ok "scheduling unaffected: a run at every deadline, no skipped run, no lag over 1 s"

# The influxdb sink: every line of the file sink is in InfluxDB.
count_w() { influx_query fleet "SELECT count(\"count\") FROM testcoll WHERE agent = '$1'" | jq -r '.results[0].series[0].values[0][1] // 0'; }
for a in o1 o2; do
	kill -TERM "$(eval echo "\$PID_$a")"
	wait_for 30 sh -c "! kill -0 $(eval echo "\$PID_$a") 2>/dev/null" || fail "$a did not stop"
	want=$(grep -c "^testcoll," "$T/$a.lp")
	wait_for 20 sh -c "[ \"\$(curl -sf -G '$INFLUX_URL/query' --data-urlencode db=fleet --data-urlencode \"q=SELECT count(\\\"count\\\") FROM testcoll WHERE agent = '$a'\" | jq -r '.results[0].series[0].values[0][1] // 0')\" = $want ]" ||
		fail "$a: $(count_w $a) points in InfluxDB, $want produced"
	echo "$a: $want points produced, $(count_w $a) in InfluxDB"
done
ok "the influxdb sink got every point through the NATS outage"

# The run asked during the outage reached the bucket once NATS was back.
Q --json result during-outage | jq -e '.state == "done" and .job == "once"' >/dev/null ||
	fail "the run asked during the outage: $(Q --json result during-outage 2>&1)"
ok "a run asked during the outage ($oid) is in the bucket after it"
