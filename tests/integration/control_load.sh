#!/bin/bash
# The control API under load: 1,000 jobs run every second while 1,000
# requests, good and bad, arrive at once (status, jobs, run now, probes,
# results, malformed JSON, bodies over the cap, huge headers, unknown
# paths and methods, clients that give up half way); every request gets
# an HTTP answer and none a 5xx, the daemon stays up, keeps running its
# jobs, and answers afterwards.  Bounded: 1,000 requests, 30 s each at
# most.  (The lag with the API under load is measured by make bench,
# tests/bench/control.sh: no timed assertion here.)
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || skip "curl missing"
SOCK="$T/control"
{
	echo 'agent: { id = "load"; };'
	echo 'daemon: { realtime = false; self_interval = 1; max_children = 200; };'
	echo 'defaults: { interval = 1; timeout = 0.9; splay = 1; };'
	echo "sinks = ( { type = \"file\"; path = \"$T/out.lp\"; } );"
	echo "control = { socket = \"$SOCK\"; socket_group = \"\"; max_connections = 1100;"
	echo '  allow_probes = true; collectors = [ "testcoll" ]; targets = [ "127.0.0.1" ];'
	echo '  max_per_minute = 100; results_max = 2000; };'
	echo 'jobs = ('
	for i in $(seq 1000); do
		[ "$i" -gt 1 ] && echo ','
		echo "{ name = \"j$i\"; collector = \"testcoll\"; targets = [ \"t\" ]; }"
	done
	echo ');'
} >"$T/q.conf"
"$QOSD" --plugin-dir "$BUILD/tests/plugins" --config "$T/q.conf" 2>"$T/log" &
qpid=$!
track_pid "$qpid"
wait_for 15 test -S "$SOCK" || fail "no control socket: $(tail -3 "$T/log")"
sleep 3
n0=$(grep -c '^qosd_job,' "$T/out.lp")
head -c 200000 /dev/zero | tr '\0' x >"$T/big"
big_header="X-Big: $(head -c 20000 /dev/zero | tr '\0' y)"

# The requests, one of 12 kinds by turns, are made by 4 curls at once,
# each with 250 transfers in parallel (curl -Z; at most 300 each), from
# config files (curl -K): 1,000 connections open together, without the
# cost of 1,000 processes (on a machine where a curl process costs 20 ms,
# the test took 55 s with one curl a request, 18 s so).
# req I: the I-th request's lines of such a file.
req() {
	local i=$1
	echo "next"
	echo "unix-socket = \"$SOCK\""
	echo "output = \"/dev/null\""
	echo "max-time = 30"
	echo 'write-out = "%{http_code}\n"'
	case $((i % 12)) in
	0) echo 'url = "http://q/v1/status"' ;;
	1) echo "url = \"http://q/v1/jobs/j$((i % 1000 + 1))\"" ;;
	2) echo 'request = "POST"'; echo "url = \"http://q/v1/jobs/j$((i % 1000 + 1))/run\"" ;;
	3) echo 'data = "{\"collector\":\"testcoll\",\"settings\":{\"targets\":[\"127.0.0.1\"]}}"'
	   echo 'url = "http://q/v1/probes"' ;;
	4) echo 'data = "{\"collector\":\"testcoll\",\"settings\":{\"targets\":[\"192.0.2.1\"]}}"'
	   echo 'url = "http://q/v1/probes"' ;;
	5) echo 'data = "{\"collector\": "'; echo 'url = "http://q/v1/probes"' ;;
	6) echo "data-binary = \"@$T/big\""; echo 'url = "http://q/v1/probes"' ;;
	7) echo "header = \"$big_header\""; echo 'url = "http://q/v1/status"' ;;
	8) echo 'request = "BREW"'; echo 'url = "http://q/v1/../../etc/passwd"' ;;
	9) echo "url = \"http://q/v1/results/nosuch$i\"" ;;
	10) echo 'http1.0'; echo 'url = "http://q/v1/jobs"' ;;
	# A client that gives up half way: its own line, never a status.
	11) echo 'max-time = 0.3'; echo 'limit-rate = 100'; echo 'write-out = "gaveup\n"'
	    echo "data-binary = \"@$T/big\""; echo 'url = "http://q/v1/probes"' ;;
	esac
}
for k in 0 1 2 3; do
	for i in $(seq $((k + 1)) 4 1000); do req "$i"; done | sed 1d >"$T/k$k.conf"
done
for k in 0 1 2 3; do
	curl -sS -Z --parallel-immediate --parallel-max 250 -K "$T/k$k.conf" >"$T/r.$k" 2>"$T/curl.$k" &
done
wait_all() { local p; for p in $(jobs -p); do [ "$p" = "$qpid" ] || wait "$p"; done; }
wait_all
cat "$T"/r.* | sort | uniq -c | sort -rn >"$T/codes"
echo "answers: $(tr '\n' ' ' <"$T/codes" | tr -s ' ')"
kill -0 "$qpid" || fail "the daemon died: $(tail -5 "$T/log")"
! grep -qE ' (000|5[0-9][0-9])$' "$T/codes" || fail "requests without an answer or with a 5xx: $(cat "$T/codes"); curl said: $(cat "$T"/curl.* | sort | uniq -c)"
total=$(awk '{ s += $1 } END { print s }' "$T/codes")
[ "$total" = 1000 ] || fail "$total answers for 1000 requests"
for want in 200 202 400 403 404 405 413; do
	grep -q " $want$" "$T/codes" || fail "no $want among the answers: $(cat "$T/codes")"
done
ok "1000 requests at once: every one answered, no 5xx"
code=$(curl -s -o "$T/st" -w '%{http_code}' --max-time 10 --unix-socket "$SOCK" http://q/v1/status)
[ "$code" = 200 ] && [ "$(jq -r .jobs "$T/st")" = 1000 ] || fail "status afterwards: $code $(head -c 200 "$T/st")"
sleep 2
n1=$(grep -c '^qosd_job,' "$T/out.lp")
[ $((n1 - n0)) -gt 1000 ] || fail "the jobs stopped running: $((n1 - n0)) runs"
ok "the daemon answers afterwards and ran $((n1 - n0)) runs meanwhile"
kill -TERM "$qpid"
wait "$qpid" || fail "exit status $?"
