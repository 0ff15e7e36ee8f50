#!/bin/bash
# "Run now" in the 50 ms before a job's deadline, while its scheduled run
# is forked and waits for its time (docs/architecture.md, "Runs are
# forked ahead"): the request takes that run (202, no 409 and no second
# run); its points carry request=ID and are the scheduled run's, made
# 0.3 s after the deadline (a whole second: interval 1 s, splay 0; the
# run sleeps 0.3 s, then prints), not 0.3 s after it was asked.  A
# second request for the same run is a 409, and keeps no result: with
# results_max = 2, the run before (done) is still there after it.  The request is
# sent at 0.955-0.975 s past a whole second; one that comes late (a busy
# machine) finds the run begun: a 409, and the next second is tried, up
# to 15.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || skip "curl missing"
command -v jq >/dev/null || skip "jq missing"
SOCK="$T/control"
cat >"$T/q.conf" <<CONF
agent: { id = "join"; };
daemon: { realtime = false; self_interval = 0; };
sinks = ( { type = "file"; path = "$T/out.lp"; } );
control = { socket = "$SOCK"; max_per_minute = 1000; results_max = 2; };
jobs = ( { name = "tick"; collector = "testcoll"; interval = 1; splay = 0;
  timeout = 0.8; count = 1; mode = "sleep"; sleep = 0.3; } );
CONF
"$QOSD" -v --plugin-dir "$BUILD/tests/plugins" --config "$T/q.conf" 2>"$T/log" &
track_pid $!
wait_for 10 test -S "$SOCK" || fail "no control socket: $(cat "$T/log")"
# frac: milliseconds past the current whole second.
frac() { echo $(( $(date +%N | sed 's/^0*//; s/^$/0/') / 1000000 )); }

joined=0 late=0 prev=
for n in $(seq 15); do
	# Into the lead: 955-975 ms past a second (a run is due at each).
	for _ in $(seq 2000); do
		f=$(frac)
		[ "$f" -ge 955 ] && [ "$f" -lt 975 ] && break
		[ "$f" -lt 900 ] && sleep 0.$(( (900 - f) / 100 ))
	done
	call POST /v1/jobs/tick/run "{\"id\":\"j-$n\"}"
	case "$CODE" in
	409) late=$((late + 1)); sleep 0.2; continue ;;
	202) ;;
	*) fail "run j-$n: $CODE $BODY" ;;
	esac
	call POST /v1/jobs/tick/run "{\"id\":\"k-$n\"}"
	[ "$CODE" = 409 ] || fail "k-$n, asked for a run j-$n took: $CODE $BODY"
	if [ -n "$prev" ]; then
		call GET "/v1/results/$prev"
		[ "$CODE" = 200 ] || fail "$prev gone after the refused k-$n: $CODE $BODY"
	fi
	wait_for 5 eval 'call GET /v1/results/j-'"$n"'; [ "$(jqb .state)" = done ]' ||
		fail "j-$n not done: $BODY"
	[ "$(jqb '[.points[] | select(.tags.request == "j-'"$n"'" and .tags.job == "tick")] | length')" = 1 ] ||
		fail "j-$n: its point: $BODY"
	grep -q "asked by id j-$n: the run due in [0-9]* us is its run" "$T/log" ||
		fail "j-$n: not the scheduled run (no join in the log): $(grep "j-$n" "$T/log")"
	# The point's time (ns): 0.3 s past the deadline's second (within
	# 50 ms); a run begun when asked would print 0.255-0.275 s past.
	ts=$(grep "^testcoll,.*request=j-$n" "$T/out.lp" | awk '{ print $NF }')
	ms=$(( (ts % 1000000000) / 1000000 ))
	[ "$ms" -ge 300 ] && [ "$ms" -lt 350 ] ||
		fail "j-$n printed $ms ms past a second, not 0.3 s after its deadline: $ts"
	joined=$((joined + 1)) prev=j-$n
	[ "$joined" -ge 3 ] && break
	sleep 0.2
done
[ "$joined" -ge 1 ] || fail "no request reached a run forked ahead in 15 s ($late came after it began)"
# One run per deadline: no second run of tick beside a joined one.
dups=$(grep '^qosd_job,.*job=tick' "$T/out.lp" | awk '{ print int($NF / 1000000000) }' | sort | uniq -d)
[ -z "$dups" ] || fail "two runs of tick in one second: $dups"
ok "run now in the lead: $joined requests took the scheduled run forked ahead (202, request=ID, its point 0.3 s after the deadline), a second request 409; $late came after the run began (409)"
