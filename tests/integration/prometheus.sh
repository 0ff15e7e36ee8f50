#!/bin/bash
# The prometheus sink: /metrics passes promtool check metrics; the names,
# units and labels of docs/prometheus.md (ms to seconds, pct to ratio,
# bits to bytes per second, counters as _total, result as a label); a
# real Prometheus server (Debian's, on free loopback ports, its own data
# directory) scrapes it and its query API returns the values; points of
# a request (run now) are left out; a reload that removes a job removes
# its series.
. "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || skip "prometheus missing (apt-get install prometheus)"
command -v promtool >/dev/null || skip "promtool missing (apt-get install prometheus)"
command -v jq >/dev/null || skip "jq missing"
port=$(free_port) pport=$(free_port)
SOCK="$T/control"
conf() {
	cat <<CONF
agent: { id = "prom"; tags = { site = "lab"; }; };
daemon: { realtime = false; self_interval = 1; };
sinks = ( { type = "file"; path = "$T/out.lp"; },
  { type = "prometheus"; listen = "127.0.0.1:$port"; } );
control = { socket = "$SOCK"; socket_group = ""; };
jobs = (
  { name = "e1"; collector = "exec"; interval = 1;
    command = [ "/usr/bin/printf", "demo,target=a\\\\\\\\b rtt_ms=20,loss_pct=50,speed_bps=800,n=3i,ok=true,result=\\"ok\\"\\\\n" ]; }$1
);
CONF
}
# e2 says when a run begins and prints 1.2 s later: a run of it goes on
# through the reload below.
printf '#!/bin/sh\ntouch "%s/e2.began"\nsleep 1.2\nprintf '"'"'demo rtt_ms=5,n=9i,result="timeout"\\n'"'"'\n' "$T" >"$T/e2.sh"
E2=",
  { name = \"e2\"; collector = \"exec\"; interval = 2; timeout = 1.9;
    command = [ \"/bin/sh\", \"$T/e2.sh\" ]; }"
conf "$E2" >"$T/q.conf"
"$QOSD" --config "$T/q.conf" 2>"$T/log" &
qpid=$!
track_pid "$qpid"
M="http://127.0.0.1:$port/metrics"
wait_for 15 eval 'curl -sf "$M" | grep -q "^qosd_demo_n{.*job=\"e2\"" && curl -sf "$M" | grep -q "^qosd_demo_result{.*job=\"e1\"" && curl -sf "$M" | grep -q "^qosd_runs_ok_total"' ||
	fail "no series: $(curl -s "$M" | head; tail -3 "$T/log")"
curl -sf "$M" >"$T/m1"
promtool check metrics <"$T/m1" >"$T/lint" 2>&1 || fail "promtool check metrics: $(cat "$T/lint")"
ok "/metrics: $(grep -vc '^#' "$T/m1") series, promtool check metrics clean"

has() { grep -qxF "$1" "$T/m1" || fail "no line '$1' in: $(grep "${1%%\{*}" "$T/m1")"; }
has 'qosd_demo_rtt_seconds{agent="prom",job="e1",site="lab",target="a\\b"} 0.02'
has 'qosd_demo_loss_ratio{agent="prom",job="e1",site="lab",target="a\\b"} 0.5'
has 'qosd_demo_speed_bytes_per_second{agent="prom",job="e1",site="lab",target="a\\b"} 100'
has 'qosd_demo_n{agent="prom",job="e1",site="lab",target="a\\b"} 3'
has 'qosd_demo_ok{agent="prom",job="e1",site="lab",target="a\\b"} 1'
has 'qosd_demo_result{agent="prom",job="e1",site="lab",target="a\\b",result="ok"} 1'
has 'qosd_demo_result{agent="prom",job="e2",site="lab",result="timeout"} 1'
has '# TYPE qosd_runs_ok_total counter'
has '# TYPE qosd_demo_rtt_seconds gauge'
has '# TYPE qosd_job_duration_seconds gauge'
grep -q '^qosd_sink_sent_total{agent="prom",sink="file",site="lab",type="file"} [0-9]' "$T/m1" ||
	fail "no sink counter: $(grep sink_sent "$T/m1")"
ok "names and units: rtt_ms 20 -> rtt_seconds 0.02, loss_pct 50 -> ratio 0.5, speed_bps 800 -> 100 bytes/s, result a label, counters _total"

# A run asked by id: its points (request=ID) stay out.
curl -s --unix-socket "$SOCK" -X POST http://q/v1/jobs/e1/run >/dev/null
sleep 1.5
! curl -sf "$M" | grep -q 'request=' || fail "a request's points in /metrics"
ok "points of a request are left out"

# A real Prometheus scrapes it.
mkdir -p "$T/prom"
cat >"$T/prom.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: qosd
    honor_labels: true
    static_configs:
      - targets: [ "127.0.0.1:$port" ]
YML
prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom" \
	--web.listen-address="127.0.0.1:$pport" >"$T/prom.log" 2>&1 &
track_pid $!
P="http://127.0.0.1:$pport"
wait_for 30 curl -sf "$P/-/ready" >/dev/null || fail "prometheus did not start: $(tail -5 "$T/prom.log")"
query() { curl -sf -G "$P/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty'; }
wait_for 30 eval '[ -n "$(query "qosd_demo_rtt_seconds{job=\"e1\"}")" ]' ||
	fail "prometheus has no qosd_demo_rtt_seconds: $(curl -s "$P/api/v1/targets" | jq -c '.data.activeTargets[0] | {health, lastError}')"
[ "$(query 'qosd_demo_rtt_seconds{job="e1",site="lab"}')" = 0.02 ] || fail "rtt: $(query 'qosd_demo_rtt_seconds{job="e1"}')"
[ "$(query 'qosd_demo_loss_ratio{job="e1"}')" = 0.5 ] || fail "loss"
[ "$(query 'qosd_demo_n{job="e2"}')" = 9 ] || fail "n of e2"
[ "$(query 'qosd_demo_result{job="e2",result="timeout"}')" = 1 ] || fail "result of e2"
[ "$(query 'qosd_demo_rtt_seconds{job="e1",target="a\\b"}')" = 0.02 ] || fail "a label with a backslash"
wait_for 15 eval 'r=$(query "increase(qosd_runs_ok_total[5s])"); [ -n "$r" ] && awk -v r="$r" "BEGIN { exit !(r > 0) }"' ||
	fail "runs_ok_total does not increase in prometheus"
h=$(curl -sf "$P/api/v1/targets" | jq -r '.data.activeTargets[0].health')
[ "$h" = up ] || fail "target health $h"
ok "a real prometheus scrapes it (target $h): rtt 0.02 s, loss 0.5, n 9, result timeout, a backslash label, runs_ok_total increases"

# A reload without e2, while a run of e2 goes on: its series go, and
# that run's point, which comes after the reload, does not bring them
# back (it did: the series stayed until the next reload).
rm -f "$T/e2.began"
wait_for 5 test -e "$T/e2.began" || fail "no run of e2 began"
ne2=$(grep -c '^demo,.*job=e2' "$T/out.lp")
conf "" >"$T/q.conf"
"$BUILD/qosctl" -s "$SOCK" reload >/dev/null || fail "reload"
curl -sf "$M" >"$T/m2"
! grep -q 'job="e2"' "$T/m2" || fail "e2's series after the reload: $(grep 'job="e2"' "$T/m2")"
wait_for 5 eval '[ "$(grep -c "^demo,.*job=e2" "$T/out.lp")" -gt "$ne2" ]' ||
	fail "the run of e2 going through the reload wrote no point"
curl -sf "$M" >"$T/m3"
! grep -q 'job="e2"' "$T/m3" || fail "e2's series back with its last run's point: $(grep 'job="e2"' "$T/m3")"
grep -q 'qosd_demo_n{.*job="e1"' "$T/m2" || fail "e1's series went too"
promtool check metrics <"$T/m2" >"$T/lint" 2>&1 || fail "promtool after the reload: $(cat "$T/lint")"
wait_for 15 eval '[ -z "$(query "qosd_demo_n{job=\"e2\"}")" ]' || fail "prometheus still has e2"
ok "a reload that removes job e2 removes its series (in /metrics, also after its last run ends, and, stale, in prometheus)"
kill -TERM "$qpid"
wait "$qpid" || fail "exit status $?"
