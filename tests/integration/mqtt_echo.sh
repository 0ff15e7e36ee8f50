#!/bin/bash
# mqtt_echo.sh: the mqtt sink against a real mosquitto (started here on a
# free loopback port, with its own config file): a TCP echo job against
# qosd-reflector (what the replaced agent measured: RTT, loss, jitter), its points published at QoS 1 to netstats/{agent}/minute
# (the replaced agent's topic).  A subscriber on netstats/+/minute
# (mosquitto_sub -v, QoS 1) receives every point qosd produced, each line
# exactly as the file sink beside it wrote it, with RTT, loss and jitter;
# the spool is empty afterwards; mqttship is the only process of qosd that
# maps libmosquitto.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt_lib.bash"
REFL="$BUILD/qosd-reflector"
start_mosquitto
ECHO=$(free_port)
"$REFL" --control "$T/refl.ctl" --allow 127.0.0.1 --stamp 0 \
	--tcp-echo "$ECHO" >"$T/refl.out" 2>"$T/refl.log" &
track_pid $!
wait_for 10 "$REFL" --status --control "$T/refl.ctl" >/dev/null 2>&1 ||
	fail "the reflector did not start: $(cat "$T/refl.log")"
subscribe minute 'netstats/+/minute'
points() { local n; n=$(count_lines "$1" "$2"); echo "${n:-0}"; }
produced() { [ "$(points '^tcp,' "$T/copy.lp")" -ge "$1" ]; }
received() { [ "$(points '^netstats/edge-1/minute ' "$T/minute.sub")" -ge "$1" ]; }

cat >"$T/q.conf" <<CONF
agent: { id = "edge-1"; };
daemon: { state_dir = "$T/state"; self_interval = 0; };
sinks = (
	{ type = "mqtt"; name = "mq"; host = "127.0.0.1"; port = $MQTT_PORT;
	  topic = "netstats/{agent}/minute"; qos = 1; flush_interval = 0.2; },
	{ type = "file"; name = "copy"; path = "$T/copy.lp"; }
);
jobs = (
	{ name = "echo"; collector = "tcp"; mode = "echo"; interval = 1;
	  timeout = 0.9; splay = 0; targets = [ "127.0.0.1" ]; port = $ECHO;
	  count = 10; probe_interval = 0.02; probe_timeout = 0.5; }
);
CONF
"$QOSD" --config "$T/q.conf" >"$T/qosd.log" 2>&1 &
QPID=$!
track_pid "$QPID"
wait_for 20 produced 6 ||
	fail "qosd produces nothing: $(tail -5 "$T/qosd.log")"

# Only mqttship maps libmosquitto.
ship=$(pgrep -P "$QPID" -x qosd-mqttship) || fail "no qosd-mqttship under qosd"
grep -q libmosquitto "/proc/$ship/maps" || fail "mqttship has no libmosquitto"
for p in "$QPID" $(pgrep -P "$QPID" | grep -vx "$ship"); do
	! grep -q libmosquitto "/proc/$p/maps" 2>/dev/null ||
		fail "$(cat "/proc/$p/comm") ($p) maps libmosquitto"
done
ok "libmosquitto is mapped by qosd-mqttship ($ship) only"

# Stop: the writer seals, mqttship publishes what is ready, both reaped.
kill -TERM "$QPID"
wait_for 20 sh -c "! kill -0 $QPID 2>/dev/null" || fail "qosd did not stop"
! grep -qiE 'AddressSanitizer|LeakSanitizer|runtime error' "$T/qosd.log" ||
	fail "sanitizer report: $(grep -m3 -iE 'Sanitizer|runtime error' "$T/qosd.log")"
left=$(find "$T/state/spool/mq" -name '*.lp' | xargs -r cat | wc -l)
[ "$left" = 0 ] || fail "$left lines left in the spool after a stop with the broker up"

# Every point, exactly.
n=$(wc -l <"$T/copy.lp")
sort -u "$T/copy.lp" >"$T/want"
wait_for 10 received "$n" ||
	fail "the subscriber has $(points '^netstats/edge-1/minute ' "$T/minute.sub") of $n points"
sed -n 's|^netstats/edge-1/minute ||p' "$T/minute.sub" | sort -u >"$T/got"
diff "$T/want" "$T/got" >"$T/diff" || fail "points differ: $(head -5 "$T/diff")"
tcp=$(grep -c '^tcp,' "$T/want")
line=$(grep -m1 '^tcp,' "$T/want")
for f in rtt_avg_ms loss_pct jitter_ms result; do
	echo "$line" | grep -qE "[ ,]$f=" || fail "no $f in: $line"
done
echo "$line" | grep -q 'result="ok"' || fail "the echo failed: $line"
ok "a subscriber on netstats/+/minute received all $n points ($tcp tcp echo, with rtt_avg_ms, loss_pct, jitter_ms) as the file sink wrote them"
