#!/bin/bash
# The control API (issue 17) of a running daemon, through curl
# --unix-socket and qosctl: status and jobs reflect it; a job run now
# returns its points by id (tagged request=ID, in the sink too) and
# respects its exclusive group; an ad-hoc probe the collector refuses
# gets 422 with the collector's own message, a target outside
# control.targets 403 (and a log line), a collector not listed 403, a
# malformed request 400; results age out as configured; reload answers
# with its outcome; qosctl's exit statuses; the socket's mode keeps a
# user outside its group out; sd_notify STATUS= carries the summary.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || skip "curl missing"
QOSCTL="$BUILD/qosctl"
# A directory others may enter: only the socket's own mode keeps them out.
D="$T/run"
mkdir -p "$D"
chmod 755 "$T" "$D"
SOCK="$D/control"
# A throwaway group for the socket: nobody is not in it.
GROUP="qosdctl$$"
command -v groupadd >/dev/null || skip "groupadd missing"
groupadd "$GROUP" || skip "cannot create a group"
trap 'cleanup_netns; groupdel "$GROUP" 2>/dev/null' EXIT
gid=$(getent group "$GROUP" | cut -d: -f3)

cat >"$T/q.conf" <<CONF
agent: { id = "ctl"; };
daemon: { realtime = false; self_interval = 1; };
sinks = ( { type = "file"; path = "$T/out.lp"; } );
control = { socket = "$SOCK"; socket_mode = "0660"; socket_group = "$GROUP";
  allow_probes = true; collectors = [ "testcoll" ];
  targets = [ "127.0.0.0/8", "*.allowed.test" ];
  results_max = 100; results_age = 10; max_per_minute = 1000; };
# Runs only when asked: a scheduled run of slow (at a 60 s interval it
# came up now and then) made the first "run now" a 409.
jobs = (
  { name = "a"; collector = "testcoll"; interval = 86400; splay = 0; targets = [ "x1", "x2" ];
    count = 7; },
  { name = "slow"; collector = "testcoll"; interval = 86400; splay = 0; mode = "sleep";
    sleep = 1.5; exclusive = "g"; },
  { name = "other"; collector = "testcoll"; interval = 86400; splay = 0; exclusive = "g"; },
  { name = "crash"; collector = "testcoll"; interval = 86400; splay = 0; mode = "crash"; }
);
CONF
NOTIFY_SOCKET="$T/notify" "$BUILD/tools/notify_listen" "$T/notify" 120 >"$T/notes" 2>&1 &
track_pid $!
wait_for 5 test -S "$T/notify" || fail "notify_listen did not start"
NOTIFY_SOCKET="$T/notify" "$QOSD" --plugin-dir "$BUILD/tests/plugins" --config "$T/q.conf" 2>"$T/log" &
qpid=$!
track_pid "$qpid"
wait_for 10 test -S "$SOCK" || fail "no control socket: $(cat "$T/log")"
api() { curl -s --unix-socket "$SOCK" -w '\n%{http_code}' "$@" "${URL:-http://qosd}"; }

# libmicrohttpd (and GnuTLS behind it) is loaded at the first connection
# only: an agent whose API nobody asks never maps it.
grep -q 'libmicrohttpd' "/proc/$qpid/maps" && fail "libmicrohttpd mapped before any request"
call GET /v1/status
[ "$CODE" = 200 ] || fail "the first request: $CODE $BODY"
grep -q 'libmicrohttpd' "/proc/$qpid/maps" || fail "libmicrohttpd not mapped after a request"
ok "libmicrohttpd loaded at the first request, not before"

# The socket: mode, group.
[ "$(stat -c '%a %g' "$SOCK")" = "660 $gid" ] || fail "socket: $(stat -c '%a %g' "$SOCK")"
ok "socket $SOCK 0660, group $GROUP"

# Status and jobs.
call GET /v1/status
[ "$CODE" = 200 ] || fail "status: $CODE $BODY"
[ "$(jqb .agent)" = ctl ] && [ "$(jqb .jobs)" = 4 ] && [ "$(jqb .pid)" = "$qpid" ] ||
	fail "status: $BODY"
[ "$(jqb '.sinks[0].name')" = file ] && [ "$(jqb '.probes')" = true ] || fail "status sinks: $BODY"
call GET /v1/jobs
[ "$(jqb '.jobs | map(.name) | join(",")')" = "a,slow,other,crash" ] || fail "jobs: $BODY"
[ "$(jqb '.jobs[1].exclusive')" = g ] && [ "$(jqb '.jobs[0].interval_s')" = 86400 ] ||
	fail "jobs settings: $BODY"
[ "$(jqb '.jobs[0].settings | "\(.targets | join(",")) \(.count)"')" = "x1,x2 7" ] &&
	[ "$(jqb '.jobs[0].timeout_s')" = 30 ] && [ "$(jqb '.jobs[1].settings.sleep')" = 1.5 ] ||
	fail "the collector's settings, the inherited timeout: $BODY"
call GET /v1/jobs/nosuch
[ "$CODE" = 404 ] || fail "unknown job: $CODE"
ok "status and jobs: agent, pid, 4 jobs in order, settings"

# Run now, with an id of ours: its points by id.
call POST /v1/jobs/a/run '{"id":"run-1"}'
[ "$CODE" = 202 ] && [ "$(jqb .id)" = run-1 ] || fail "run: $CODE $BODY"
wait_for 10 eval 'call GET /v1/results/run-1; [ "$(jqb .state)" = done ]' ||
	fail "run-1 not done: $BODY"
[ "$(jqb '.points | length')" = 2 ] || fail "points: $BODY"
[ "$(jqb '[.points[] | select(.tags.request == "run-1" and .tags.job == "a" and .fields.count == 7)] | length')" = 2 ] ||
	fail "points' tags and fields: $BODY"
[ "$(jqb '.line_protocol' | grep -c 'request=run-1')" = 2 ] || fail "line protocol: $BODY"
[ "$(grep -c '^testcoll,.*request=run-1' "$T/out.lp")" = 2 ] || fail "the sink lacks request=run-1"
grep -q '^qosd_job,.*request=run-1' "$T/out.lp" || fail "no qosd_job point of run-1"
call POST /v1/jobs/a/run '{"id":"run-1"}'
[ "$CODE" = 409 ] || fail "a taken id: $CODE $BODY"
call GET /v1/jobs/a
[ "$(jqb .last.result)" = ok ] && [ "$(jqb .last.points)" = 2 ] && [ "$(jqb .counters.runs)" -ge 1 ] ||
	fail "job a after its run: $BODY"
ok "run now: 202 with our id, 2 points by id tagged request=run-1, in the sink too; job shows its last run"

# A run says when it began (lag_us) with its first points; one that died
# before any has no lag_us (not a lag of 0).
grep -q '^qosd_job,.*request=run-1.* .*lag_us=[0-9]*i' "$T/out.lp" || fail "run-1 has no lag_us"
call POST /v1/jobs/crash/run '{"id":"crash-1"}'
[ "$CODE" = 202 ] || fail "run crash: $CODE $BODY"
wait_for 10 grep -q '^qosd_job,.*job=crash.*result="crashed"' "$T/out.lp" || fail "no crashed run of job crash"
line=$(grep -m1 '^qosd_job,.*job=crash' "$T/out.lp")
case "$line" in *lag_us=*) fail "a run that died before its first points has a lag: $line" ;; esac
ok "lag_us: with a run's first points; none for a run that died before any"

# The exclusive group: other waits while slow runs.
call POST /v1/jobs/slow/run
sid=$(jqb .id)
call POST /v1/jobs/other/run '{"id":"other-1"}'
[ "$CODE" = 202 ] && [ "$(jqb .state)" = waiting ] || fail "other: $CODE $BODY"
call GET /v1/results/other-1
[ "$(jqb .state)" = waiting ] || fail "other-1 while slow runs: $BODY"
call POST /v1/jobs/slow/run
[ "$CODE" = 409 ] || fail "slow asked twice: $CODE $BODY"
wait_for 10 eval 'call GET /v1/results/other-1; [ "$(jqb .state)" = done ]' || fail "other-1: $BODY"
other_start=$(jqb .started)
call GET "/v1/results/$sid"
[ "$(jqb .state)" = done ] || fail "slow: $BODY"
[[ "$other_start" > "$(jqb .finished)" ]] || [ "$other_start" = "$(jqb .finished)" ] ||
	fail "other started at $other_start, before slow finished at $(jqb .finished)"
ok "exclusive group: other waited ($other_start) for slow to finish ($(jqb .finished)); a busy job 409"

# Probes.
call POST /v1/probes '{"collector":"testcoll","settings":{"targets":["127.0.0.1","ok.allowed.test"],"count":3},"id":"p-1"}'
[ "$CODE" = 202 ] && [ "$(jqb .id)" = p-1 ] || fail "probe: $CODE $BODY"
wait_for 10 eval 'call GET /v1/results/p-1; [ "$(jqb .state)" = done ]' || fail "p-1: $BODY"
[ "$(jqb '[.points[] | select(.tags.request == "p-1" and .fields.count == 3)] | length')" = 2 ] ||
	fail "probe points: $BODY"
[ "$(jqb .kind)" = probe ] || fail "kind: $BODY"
call POST /v1/probes '{"collector":"testcoll","settings":{"targets":["127.0.0.1"],"count":0}}'
[ "$CODE" = 422 ] || fail "a refused probe: $CODE $BODY"
[ "$(jqb .error)" = "settings.count: expected an integer from 1 to 1000, got 0" ] ||
	fail "422 without the collector's message: $BODY"
call POST /v1/probes '{"collector":"testcoll","settings":{"targets":["127.0.0.1"],"mode":"sleep"}}'
[ "$CODE" = 422 ] && jqb .error | grep -q 'mode "sleep" needs a sleep' || fail "collector's own check: $CODE $BODY"
call POST /v1/probes '{"collector":"testcoll","settings":{"targets":["127.0.0.1"],"nosuch":1}}'
[ "$CODE" = 422 ] && jqb .error | grep -q '^settings.nosuch: unknown setting' || fail "unknown setting: $CODE $BODY"
ok "probe: 202, points by id; 422 with the collector's messages: $(jqb .error | cut -c1-60)..."
call POST /v1/probes '{"collector":"testcoll","settings":{"targets":["127.0.0.1","192.0.2.1"]}}'
[ "$CODE" = 403 ] && jqb .error | grep -q '"192.0.2.1" is not allowed' || fail "disallowed target: $CODE $BODY"
grep -q 'probe from uid [0-9]* refused: settings.targets: "192.0.2.1" is not allowed' "$T/log" ||
	fail "no log line for the 403: $(tail -3 "$T/log")"
call POST /v1/probes '{"collector":"testcoll","settings":{"targets":"evil.example.net"}}'
[ "$CODE" = 403 ] || fail "a name outside *.allowed.test: $CODE $BODY"
call POST /v1/probes '{"collector":"exec","settings":{"command":["/bin/true"]}}'
[ "$CODE" = 403 ] && jqb .error | grep -q 'control.collectors' || fail "exec: $CODE $BODY"
ok "403: a target outside control.targets (logged), a name outside the domain, a collector not listed"
for bad in 'nope' '[1]' '{"settings":{}}' '{"collector":"testcoll","settings":{"count":{"x":1}}}' \
    '{"collector":"testcoll","settings":{"Bad-Key":1}}' '{"collector":"testcoll","settings":{"mode":"a\u0001b"}}' \
    '{"collector":"testcoll","id":"bad id","settings":{}}'; do
	call POST /v1/probes "$bad"
	[ "$CODE" = 400 ] || fail "malformed $bad: $CODE $BODY"
done
head -c 70000 /dev/zero | tr '\0' x >"$T/big"
# A body over max_request gets its 413 however the client sends it:
# after waiting for "100 Continue", at once without asking (Expect:
# empty), or after giving up waiting (1 ms here; curl waits 1 s, which a
# loaded machine can pass).  The server reads such a body and drops it:
# answering and closing while the client still sends resets the
# connection: curl, giving up after 1 ms, saw the reset (000) in 6 of 20
# such requests when the server did that.
for expect in wait -H\ Expect: --expect100-timeout\ 0.001; do
	[ "$expect" = wait ] && expect=
	for _ in 1 2 3 4 5; do
		# shellcheck disable=SC2086 # the option and its value
		code=$(curl -s -o /dev/null -w '%{http_code}' $expect --unix-socket "$SOCK" -X POST --data-binary @"$T/big" http://qosd/v1/probes)
		[ "$code" = 413 ] || fail "a body over max_request (${expect:-Expect: 100-continue}): $code"
	done
done
# One far over it (3 MB) announced by Content-Length: refused before it
# is sent: curl, waiting for "100 Continue" (up to 30 s here), sends
# none of it.
head -c 3000000 /dev/zero >"$T/huge"
out=$(curl -s -o /dev/null -w "%{http_code} %{size_upload}" --expect100-timeout 30 --unix-socket "$SOCK" -X POST --data-binary @"$T/huge" http://qosd/v1/probes)
[ "$out" = "413 0" ] || fail "3 MB body: status and bytes sent: $out"
call DELETE /v1/status
[ "$CODE" = 405 ] || fail "DELETE: $CODE"
call GET /v2/nothing
[ "$CODE" = 404 ] || fail "unknown path: $CODE"
ok "400 for malformed requests (not JSON, no collector, nested values, bad names, control characters, bad id), 413, 405, 404"

# Results age out (results_age = 10 s after they end: long enough that a
# loaded machine keeps the results the checks above read).
call POST /v1/jobs/a/run '{"id":"age-1"}'
wait_for 10 eval 'call GET /v1/results/age-1; [ "$(jqb .state)" = done ]' || fail "age-1: $BODY"
wait_for 20 eval 'call GET /v1/results/age-1; [ "$CODE" = 404 ]' || fail "age-1 still there: $BODY"
jqb .error | grep -q 'no result "age-1"' || fail "404: $BODY"
ok "results age out: age-1 there once done, gone after results_age (10 s)"

# qosctl: tables, --json, exit statuses.
"$QOSCTL" -s "$SOCK" status >"$T/st" || fail "qosctl status: $?"
grep -q '^agent *ctl ' "$T/st" || fail "qosctl status: $(cat "$T/st")"
"$QOSCTL" -s "$SOCK" jobs | grep -q '^slow  *testcoll' || fail "qosctl jobs"
"$QOSCTL" -s "$SOCK" --json run a --wait >"$T/w"; rc=$?
[ "$rc" = 0 ] && [ "$(jq -r .state "$T/w")" = done ] || fail "qosctl run --wait: $rc $(cat "$T/w")"
"$QOSCTL" -s "$SOCK" probe testcoll targets=127.0.0.1 count=2 --wait >"$T/w"; rc=$?
[ "$rc" = 0 ] && grep -q 'testcoll,agent=ctl,request=.*count=2' "$T/w" || fail "qosctl probe --wait: $rc $(cat "$T/w")"
"$QOSCTL" -s "$SOCK" probe testcoll targets=127.0.0.1 mode=crash --wait >"$T/w"; rc=$?
[ "$rc" = 1 ] || fail "a probe whose run crashed: exit $rc, not 1: $(cat "$T/w")"
"$QOSCTL" -s "$SOCK" probe testcoll count=0 2>"$T/e"; rc=$?
[ "$rc" = 65 ] && grep -q 'settings.count' "$T/e" || fail "qosctl, a refused probe: $rc $(cat "$T/e")"
"$QOSCTL" -s "$SOCK" probe testcoll targets=10.0.0.1 2>/dev/null; rc=$?
[ "$rc" = 77 ] || fail "qosctl, a disallowed target: $rc"
"$QOSCTL" -s "$T/none" status 2>/dev/null; rc=$?
[ "$rc" = 69 ] || fail "qosctl, no daemon: $rc"
"$QOSCTL" -s "$SOCK" bogus 2>/dev/null; rc=$?
[ "$rc" = 64 ] || fail "qosctl, usage: $rc"
ok "qosctl: status, jobs, run --wait 0, probe --wait 0, crashed run 1, refused 65, forbidden 77, no daemon 69, usage 64"

# Reload: its outcome, synchronously.
"$QOSCTL" -s "$SOCK" reload >"$T/r" || fail "qosctl reload: $? $(cat "$T/r")"
grep -q '^reloaded: 4 jobs' "$T/r" || fail "reload: $(cat "$T/r")"
cp "$T/q.conf" "$T/good.conf"
echo 'jobs = 5;' >>"$T/q.conf"
"$QOSCTL" -s "$SOCK" reload 2>"$T/r"; rc=$?
[ "$rc" = 78 ] && grep -q "reload refused: $T/q.conf:[0-9]*:" "$T/r" || fail "a bad reload: $rc $(cat "$T/r")"
cp "$T/good.conf" "$T/q.conf"
kill -0 "$qpid" || fail "the daemon died"
call GET /v1/status
[ "$CODE" = 200 ] || fail "status after the reloads: $CODE"
ok "reload: 0 and the new job count; a broken configuration 78 with its FILE:LINE; the daemon runs on"

# The socket's permissions: nobody (not in $GROUP) is kept out; a member
# of the group gets in.
if command -v setpriv >/dev/null; then
	nob=$(id -u nobody)
	setpriv --reuid "$nob" --regid "$(id -g nobody)" --clear-groups \
		curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" http://qosd/v1/status >"$T/nob" 2>&1; rc=$?
	[ "$rc" = 7 ] || fail "nobody: curl exit $rc ($(cat "$T/nob")), want 7 (could not connect)"
	setpriv --reuid "$nob" --regid "$(id -g nobody)" --clear-groups \
		"$QOSCTL" -s "$SOCK" status 2>"$T/nob"; rc=$?
	[ "$rc" = 77 ] || fail "qosctl as nobody: exit $rc $(cat "$T/nob")"
	code=$(setpriv --reuid "$nob" --regid "$(id -g nobody)" --groups "$gid" \
		curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" http://qosd/v1/status)
	[ "$code" = 200 ] || fail "a member of the socket's group: $code"
	ok "the socket keeps nobody out (connect refused: EACCES; qosctl 77), lets a member of its group in"
else
	echo "skip: setpriv missing, socket permissions not checked"
fi

# sd_notify: READY, then a STATUS= summary.
wait_for 15 grep -q 'STATUS=4 jobs, runs ok [0-9]*, failed [0-9]*, skipped [0-9]*; sinks ok' "$T/notes" ||
	fail "no STATUS= summary: $(grep STATUS "$T/notes" | tail -2)"
ok "sd_notify: $(grep -o 'STATUS=4 jobs[^\\]*' "$T/notes" | tail -1)"
kill -TERM "$qpid"
wait "$qpid" || fail "qosd exit status $?"
