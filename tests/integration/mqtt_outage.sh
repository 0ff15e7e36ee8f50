#!/bin/bash
# mqtt_outage.sh: at least once through a broker outage and a kill -9.
# An exec job emits points numbered by a seq field; the mqtt sink
# publishes them at QoS 1 to netstats/{agent}/minute on a mosquitto the
# test starts, where a persistent subscriber (QoS 1, clean session off)
# counts them.  The broker is stopped for 20 s; during it qosd is killed
# with SIGKILL (between two runs, so that the file sink beside has every
# line the spool has) and started again.  Runs go on all along; once the
# broker is back, every seq produced arrives (duplicates are allowed: at
# least once, and counted), and the spool ends empty.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt_lib.bash"
start_mosquitto
subscribe minute 'netstats/+/minute'

cat >"$T/gen.sh" <<'GEN'
#!/bin/sh
# gen.sh COUNTER STOP N
[ -e "$2" ] && exit 0
n=$(cat "$1" 2>/dev/null || echo 0)
awk -v s="$n" -v k="$3" 'BEGIN { for (i = 1; i <= k; i++)
	printf "work seq=%di 1600000000%09d\n", s + i, s + i }'
echo $((n + $3)) >"$1.tmp" && mv "$1.tmp" "$1"
GEN
chmod +x "$T/gen.sh"
cat >"$T/q.conf" <<CONF
agent: { id = "edge-2"; };
daemon: { state_dir = "$T/state"; self_interval = 0; };
sinks = (
	{ type = "mqtt"; name = "mq"; host = "127.0.0.1"; port = $MQTT_PORT;
	  topic = "netstats/{agent}/minute"; flush_interval = 0.3;
	  backoff_max = 1; },
	{ type = "file"; name = "copy"; path = "$T/copy.lp"; }
);
jobs = (
	{ name = "w"; collector = "exec"; interval = 0.5; timeout = 0.4;
	  splay = 0; command = [ "$T/gen.sh", "$T/counter", "$T/stop", "20" ]; }
);
CONF
start_qosd() {
	"$QOSD" --config "$T/q.conf" >>"$T/qosd.log" 2>&1 &
	QPID=$!
	track_pid "$QPID"
}
work() { local n; n=$(count_lines '^work[ ,]' "$T/copy.lp"); echo "${n:-0}"; }
grown() { [ "$(work)" -gt "$1" ]; }
# The distinct seq numbers the subscriber has, and all its work messages.
got() { sed -n 's|^netstats/edge-2/minute work,.* seq=\([0-9]*\)i .*|\1|p' "$T/minute.sub" | sort -un | wc -l; }
msgs() { local n; n=$(count_lines '^netstats/edge-2/minute work,' "$T/minute.sub"); echo "${n:-0}"; }
spooled() { find "$T/state/spool/mq" -name '*.lp' | wc -l; }

start_qosd
wait_for 10 grown 0 || fail "qosd produces nothing: $(tail -5 "$T/qosd.log")"
sleep 2
wait_for 10 sh -c "[ \$(sed -n 's/.* seq=\([0-9]*\)i .*/\1/p' '$T/minute.sub' | wc -l) -gt 0 ]" ||
	fail "nothing published before the outage: $(tail -5 "$T/qosd.log")"
before=$(work)

stop_mosquitto
down_at=$(date +%s)
sleep 5
[ "$(spooled)" -gt 0 ] || fail "nothing spooled during the outage"
c0=$(cat "$T/counter")
wait_for 5 sh -c "[ \"\$(cat '$T/counter')\" != '$c0' ]"
sleep 0.1
kill -KILL "$QPID"
{ wait "$QPID"; } 2>/dev/null
! kill -0 "$QPID" 2>/dev/null || fail "qosd survived SIGKILL"
killed=$(work)
start_qosd
wait_for 20 grown "$killed" || fail "qosd does not run after the restart: $(tail -5 "$T/qosd.log")"
# The rest of the 20 s.
while [ $(( $(date +%s) - down_at )) -lt 20 ]; do sleep 0.5; done
during=$(( $(work) - before ))
[ "$(msgs)" -le "$before" ] || fail "more messages than points before the outage: the broker was not down"
grep -q 'will retry' "$T/qosd.log" || fail "the outage was not logged"
restart_mosquitto
sleep 2
touch "$T/stop"
sleep 1
total=$(work)
wait_for 60 sh -c "[ \$(sed -n 's|^netstats/edge-2/minute work,.* seq=\([0-9]*\)i .*|\1|p' '$T/minute.sub' | sort -un | wc -l) -ge $total ]" ||
	fail "produced $total, the subscriber has $(got) distinct seq ($(msgs) messages)"
[ "$(got)" = "$total" ] || fail "produced $total, received $(got) distinct"
seqmax=$(sed -n 's/.* seq=\([0-9]*\)i .*/\1/p' "$T/copy.lp" | sort -n | tail -1)
[ "$seqmax" = "$total" ] || fail "the file sink has seq up to $seqmax of $total"
wait_for 10 sh -c "[ \$(find '$T/state/spool/mq' -name '*.lp' | wc -l) = 0 ]" ||
	fail "the spool is not empty: $(find "$T/state/spool/mq" -name '*.lp')"
kill -TERM "$QPID"
wait_for 20 sh -c "! kill -0 $QPID 2>/dev/null" || fail "qosd did not stop"
! grep -qiE 'AddressSanitizer|LeakSanitizer|runtime error' "$T/qosd.log" ||
	fail "sanitizer report: $(grep -m3 -iE 'Sanitizer|runtime error' "$T/qosd.log")"
ok "broker down 20 s, qosd killed (SIGKILL) and restarted during it: all $total points arrived ($during produced during the outage, $(( $(msgs) - total )) duplicates)"
