#!/bin/bash
# nats_fleet.sh: a fleet on a real NATS bus (issue 18): three qosd agents
# (agent ids n1, n2, n3, heartbeat_interval 1 s) against one nats-server
# with JetStream on a free loopback port.
#  - `qosctl --nats URL agents` lists the three, alive, with the version;
#  - n3 killed (SIGKILL): once 3 heartbeat intervals have passed without
#    one, it is listed dead, the others alive;
#  - `qosctl run` and `probe` on n1 answer an id at once; the result is
#    read by id from the KV bucket (state done, its points tagged
#    request=ID), and so is the state published on PREFIX.state.n1;
#  - n1 restarted: both results are still read by id from the bucket; a
#    run on the new n1 works;
#  - a probe outside control.targets, a collector not allowed and an
#    unknown job are refused with the reason (the control core's);
#  - the bus is its own process (qosd-bus) that maps libnats; the daemon
#    does not; a killed bus is restarted and the agent stays listed;
#  - n2 runs under the unit's system call filter (tests/tools/unit_filter):
#    its bus (libnats's threads, TLS library, JetStream) works under it.
. "$(dirname "$0")/lib.sh"
command -v nats-server >/dev/null || skip "nats-server not installed (apt-get install nats-server)"
command -v jq >/dev/null || skip "jq missing"
QOSCTL="$BUILD/qosctl"
[ -e "$BUILD/bus/bus.so" ] || fail "no $BUILD/bus/bus.so"

NPORT=$(free_port) || fail "no free port"
NURL="nats://127.0.0.1:$NPORT"
nats-server -a 127.0.0.1 -p "$NPORT" -js -sd "$T/js" >"$T/nats.log" 2>&1 &
NPID=$!
track_pid "$NPID"
wait_for 20 grep -q "Server is ready" "$T/nats.log" || fail "nats-server did not start: $(tail -5 "$T/nats.log")"
Q() { "$QOSCTL" --nats "$NURL" "$@"; }

# agent ID: write $T/ID.conf and start qosd; sets PID_ID.
agent() {
	cat >"$T/$1.conf" <<CONF
agent: { id = "$1"; tags = { site = "lab-$1"; }; };
daemon: { realtime = false; self_interval = 1; state_dir = "$T/state-$1"; };
sinks = ( { type = "file"; path = "$T/$1.lp"; } );
control = { socket = "$T/$1.sock"; allow_probes = true;
  collectors = [ "testcoll" ]; targets = [ "127.0.0.0/8", "*.allowed.test" ];
  max_per_minute = 1000; };
nats = { servers = [ "$NURL" ]; heartbeat_interval = 1; reconnect_max = 1; };
jobs = (
  { name = "a"; collector = "testcoll"; interval = 2; targets = [ "x1", "x2" ]; },
  { name = "b"; collector = "testcoll"; interval = 60; targets = [ "y" ]; }
);
CONF
	local wrap=()
	[ "$1" = n2 ] && wrap=("$BUILD/tools/unit_filter")
	"${wrap[@]}" "$QOSD" --plugin-dir "$BUILD/tests/plugins" --config "$T/$1.conf" 2>>"$T/$1.log" &
	eval "PID_$1=$!"
	track_pid "$!"
}
for a in n1 n2 n3; do agent $a; done

# alive_list: "n1:alive n2:alive ..." from qosctl --json agents.
alive_list() { Q --json agents | jq -r '[.agents[] | "\(.agent):\(if .alive then "alive" else "dead" end)"] | join(" ")'; }
listed() { [ "$(alive_list 2>/dev/null)" = "$1" ]; }
wait_for 30 listed "n1:alive n2:alive n3:alive" ||
	fail "three agents not listed alive: $(alive_list) $(Q agents 2>&1) $(tail -5 "$T"/n*.log)"
Q --json agents >"$T/agents.json"
[ "$(jq -r '.agents[0].version' "$T/agents.json")" = "$("$QOSD" --version | awk '{print $2}')" ] ||
	fail "version: $(jq -c '.agents[0]' "$T/agents.json")"
[ "$(jq -r '.agents[1].heartbeat.agent_tags.site' "$T/agents.json")" = lab-n2 ] &&
	[ "$(jq -r '.agents[1].heartbeat.jobs' "$T/agents.json")" = 2 ] &&
	[ "$(jq -r '.agents[1].heartbeat.sinks[0].type' "$T/agents.json")" = file ] ||
	fail "heartbeat: $(jq -c '.agents[1].heartbeat' "$T/agents.json")"
Q agents | grep -q "^n2  *alive .*qosd " || fail "agents table: $(Q agents)"
ok "qosctl agents lists n1, n2, n3 alive, with version, tags, jobs and sinks"

# The bus is a process of its own; the daemon does not map libnats.
bpid=$(pgrep -P "$PID_n1" -x qosd-bus) || fail "no qosd-bus child of n1"
grep -q libnats "/proc/$bpid/maps" || fail "the bus has no libnats"
grep -q libnats "/proc/$PID_n1/maps" && fail "the daemon maps libnats"
ok "the bus (pid $bpid) maps libnats, the daemon does not"

# n3 killed: dead after 3 intervals without a heartbeat.
kill -KILL "$PID_n3"
t0=$(date +%s.%N)
wait_for 20 listed "n1:alive n2:alive n3:dead" || fail "n3 not listed dead: $(alive_list)"
t1=$(date +%s.%N)
age=$(Q --json agents | jq -r '.agents[] | select(.agent == "n3") | .age_s')
awk -v a="$age" 'BEGIN { exit !(a >= 3) }' || fail "n3 dead at age $age s"
ok "n3 killed: listed dead after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s (last heartbeat $age s old), n1 and n2 alive"

# run and probe on n1: the id at once, the result by id from the bucket;
# heartbeats, states and results on their subjects meanwhile.
"$BUILD/tools/nats_sub" "$NURL" 'qosd.>' 8 >"$T/sub.out" 2>"$T/sub.err" &
SUBPID=$!
track_pid "$SUBPID"
wait_for 10 grep -q ready "$T/sub.err" || fail "nats_sub: $(cat "$T/sub.err")"
rid=$(Q run n1 a) || fail "run: $rid"
[ -n "$rid" ] || fail "no id"
pid=$(Q --id "probe-1" probe n1 testcoll 'targets=["127.0.0.1","h.allowed.test"]' count=3) ||
	fail "probe: $pid"
[ "$pid" = probe-1 ] || fail "probe id: $pid"
done_in_kv() { [ "$(Q --json result "$1" 2>/dev/null | jq -r .state)" = done ]; }
wait_for 20 done_in_kv "$rid" || fail "run $rid not done in the bucket: $(Q --json result "$rid" 2>&1)"
wait_for 20 done_in_kv probe-1 || fail "probe not done in the bucket: $(Q --json result probe-1 2>&1)"
Q --json result "$rid" >"$T/run.json"
Q --json result probe-1 >"$T/probe.json"
[ "$(jq -r '.points | length' "$T/run.json")" = 2 ] &&
	[ "$(jq -r '[.points[].tags.request] | unique | join(",")' "$T/run.json")" = "$rid" ] &&
	[ "$(jq -r '.job' "$T/run.json")" = a ] &&
	[ "$(jq -r '.points[0].tags.agent' "$T/run.json")" = n1 ] || fail "run result: $(cat "$T/run.json")"
[ "$(jq -r '[.points[].tags.target] | sort | join(",")' "$T/probe.json")" = "127.0.0.1,h.allowed.test" ] &&
	[ "$(jq -r '.points[0].fields.count' "$T/probe.json")" = 3 ] &&
	[ "$(jq -r '.kind' "$T/probe.json")" = probe ] || fail "probe result: $(cat "$T/probe.json")"
# The points went to the sink too, tagged with the request.
wait_for 10 grep -q "request=$rid" "$T/n1.lp" || fail "run's points not in the sink"
# qosctl --wait: the result once it is over, from the bucket.
out=$(Q --wait --id wait-1 run n1 b) || fail "run --wait: $out"
grep -q "state  *done" <<<"$out" && grep -q "request=wait-1" <<<"$out" || fail "run --wait: $out"
ok "run ($rid) and probe (probe-1) on n1: ids at once, results by id from the bucket"
wait "$SUBPID"
grep -q '^qosd.heartbeat.n1 {.*"agent":"n1"' "$T/sub.out" || fail "no heartbeat on qosd.heartbeat.n1: $(head -c 600 "$T/sub.out")"
grep -q '^qosd.heartbeat.n2 ' "$T/sub.out" || fail "no heartbeat on qosd.heartbeat.n2"
grep -q '^qosd.heartbeat.n3 ' "$T/sub.out" && fail "a heartbeat of the killed n3"
states=$(awk -v r="$rid" '$1 == "qosd.state.n1" && index($0, "\"id\":\"" r "\"") { match($0, /"state":"[a-z]*"/); printf "%s ", substr($0, RSTART + 9, RLENGTH - 10) }' "$T/sub.out")
[ "$states" = "queued running done " ] || fail "states of $rid on qosd.state.n1: $states"
grep "^qosd.result.n1 " "$T/sub.out" | grep -F "\"id\":\"$rid\"" | grep -q "\"request\":\"$rid\"" ||
	fail "no result of $rid with its points on qosd.result.n1"
grep "^qosd.state.n1 " "$T/sub.out" | grep -q '"id":"probe-1","state":"running"' || fail "probe's state"
ok "on the bus: heartbeats on qosd.heartbeat.AGENT, $rid's states (${states% }) on qosd.state.n1, its result with points on qosd.result.n1"

# n1 restarted: the results stay in the bucket; the new n1 takes runs.
kill -TERM "$PID_n1"
wait_for 15 sh -c "! kill -0 $PID_n1 2>/dev/null" || fail "n1 did not stop"
Q --json result "$rid" | jq -e --arg r "$rid" '.state == "done" and (.points | length) == 2 and .id == $r' >/dev/null ||
	fail "run's result gone with n1: $(Q --json result "$rid" 2>&1)"
Q --json result probe-1 | jq -e '.state == "done"' >/dev/null || fail "probe's result gone"
agent n1
wait_for 20 listed "n1:alive n2:alive n3:dead" || fail "n1 not back: $(alive_list)"
Q --json result "$rid" | jq -e '.state == "done"' >/dev/null || fail "run's result gone after the restart"
# A job whose run has begun answers 409: ask again, as qosctl's message
# says; any other error fails at once.  (A run forked ahead that has not
# begun takes the request: control_join.)
run_a() {
	rid2=$(Q run n1 a 2>"$T/run.err") && return 0
	grep -q '(409)' "$T/run.err" && return 1
	fail "run on the restarted n1: $(cat "$T/run.err")"
}
wait_for 10 run_a || fail "run on the restarted n1: $(cat "$T/run.err")"
[ -n "$rid2" ] || fail "run on the restarted n1: no id"
wait_for 20 done_in_kv "$rid2" || fail "run $rid2 on the new n1 not done"
Q --json result "$rid" | jq -e '.state == "done"' >/dev/null || fail "old result gone after a new run"
ok "n1 restarted: results $rid and probe-1 still read from the bucket; a new run ($rid2) done"

# Refusals, with the control core's reasons.
out=$(Q probe n2 testcoll 'targets=["10.1.2.3"]' 2>&1); rc=$?
[ $rc = 77 ] && grep -q '"10.1.2.3" is not allowed (control.targets)' <<<"$out" || fail "target outside: $rc $out"
out=$(Q probe n2 ping 'targets=["127.0.0.1"]' 2>&1); rc=$?
[ $rc = 77 ] && grep -q 'collector "ping" is not allowed for probes' <<<"$out" || fail "collector: $rc $out"
out=$(Q --json probe n2 testcoll 'targets=["10.1.2.3"]' 2>&1)
[ "$(jq -r .code <<<"$out")" = 403 ] || fail "403 in JSON: $out"
out=$(Q run n2 nosuch 2>&1); rc=$?
[ $rc = 65 ] && grep -q 'no job named "nosuch"' <<<"$out" || fail "unknown job: $rc $out"
out=$(Q run n3 a 2>&1); rc=$?
[ $rc = 69 ] && grep -q 'not on the bus' <<<"$out" || fail "dead agent: $rc $out"
grep -q "not allowed" "$T/n2.log" || fail "refusal not logged"
ok "refused with the reason: a target outside control.targets, a collector, an unknown job, a dead agent"

# A request larger than nats.max_request is refused by the bus.
big=$(head -c 70000 /dev/zero | tr '\0' x)
out=$(Q probe n2 testcoll "pad=$big" 2>&1); rc=$?
grep -q "nats.max_request" <<<"$out" || fail "large request: $rc $out"
ok "a request over nats.max_request refused by the bus"

# The bus killed: restarted by the daemon, the agent stays alive.
bpid=$(pgrep -P "$PID_n2" -x qosd-bus) || fail "no bus of n2"
kill -KILL "$bpid"
wait_for 15 sh -c "p=\$(pgrep -P $PID_n2 -x qosd-bus) && [ \"\$p\" != $bpid ]" || fail "bus not restarted"
sleep 2
listed "n1:alive n2:alive n3:dead" || fail "after the bus restart: $(alive_list)"
kill -0 "$PID_n2" || fail "n2 died with its bus"
ok "a killed bus is restarted; n2 stays alive"

# A reload: heartbeat_interval applies at once, the same bus goes on; a
# setting of the connection (reconnect_max) starts a new bus.
bpid=$(pgrep -P "$PID_n1" -x qosd-bus) || fail "no bus of n1"
sed -i 's/heartbeat_interval = 1;/heartbeat_interval = 2;/' "$T/n1.conf"
kill -HUP "$PID_n1"
hb2() { [ "$(Q --json agents | jq -r '.agents[] | select(.agent == "n1") | .heartbeat.heartbeat_interval_s')" = 2 ]; }
wait_for 15 hb2 || fail "heartbeat_interval not 2 after the reload: $(Q --json agents | jq -c '.agents[0].heartbeat.heartbeat_interval_s')"
[ "$(pgrep -P "$PID_n1" -x qosd-bus)" = "$bpid" ] || fail "the bus restarted for heartbeat_interval"
sed -i 's/reconnect_max = 1;/reconnect_max = 2;/' "$T/n1.conf"
kill -HUP "$PID_n1"
wait_for 15 sh -c "p=\$(pgrep -P $PID_n1 -x qosd-bus) && [ \"\$p\" != $bpid ]" || fail "no new bus after reconnect_max changed"
wait_for 15 listed "n1:alive n2:alive n3:dead" || fail "n1 after the reloads: $(alive_list)"
ok "reload: heartbeat_interval at once on the same bus; reconnect_max starts a new bus"
