#!/bin/bash
# mqtt_reload.sh: a reload that changes the mqtt sink (its topic) starts
# a new sink on the same spool: the old qosd-mqttship finishes what it
# has under way and is reaped, a new one publishes the rest to the new
# topic, and every point produced arrives (counted by seq); a reload that
# changes nothing of the sink keeps its qosd-mqttship.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt_lib.bash"
start_mosquitto
subscribe rl 'rl/#'
cat >"$T/gen.sh" <<'GEN'
#!/bin/sh
# gen.sh COUNTER STOP
[ -e "$2" ] && exit 0
n=$(cat "$1" 2>/dev/null || echo 0)
echo "work seq=$((n + 1))i"
echo $((n + 1)) >"$1.tmp" && mv "$1.tmp" "$1"
GEN
chmod +x "$T/gen.sh"
conf() {
	cat >"$T/q.conf" <<CONF
agent: { id = "edge-5"; };
daemon: { state_dir = "$T/state"; self_interval = 0; };
sinks = (
	{ type = "mqtt"; name = "mq"; host = "127.0.0.1"; port = $MQTT_PORT;
	  topic = "rl/$1/{measurement}"; flush_interval = 0.2; }
);
jobs = (
	{ name = "w"; collector = "exec"; interval = ${2:-0.5}; timeout = 0.45;
	  splay = 0; command = [ "$T/gen.sh", "$T/counter", "$T/stop" ]; }
);
CONF
}
ship() { pgrep -P "$QPID" -x qosd-mqttship; }
got() { sed -n "s|^rl/$1/work work,.* seq=\([0-9]*\)i .*|\1|p" "$T/rl.sub" | sort -un | wc -l; }
has() { [ "$(got "$1")" -ge "$2" ]; }
reloaded() { [ "$(count_lines 'configuration reloaded' "$T/qosd.log")" -ge "$1" ]; }

conf a
"$QOSD" --config "$T/q.conf" >"$T/qosd.log" 2>&1 &
QPID=$!
track_pid "$QPID"
wait_for 20 has a 5 || fail "nothing published to rl/a: $(tail -5 "$T/qosd.log")"
s1=$(ship) || fail "no qosd-mqttship"

# The same sink, another job interval: the sink and its process stay.
conf a 0.6
kill -HUP "$QPID"
wait_for 20 reloaded 1 || fail "no reload: $(tail -5 "$T/qosd.log")"
[ "$(ship)" = "$s1" ] || fail "an unchanged sink got a new qosd-mqttship ($s1 -> $(ship))"

# Another topic: a new sink on the same spool.
conf b 0.6
kill -HUP "$QPID"
wait_for 20 reloaded 2 || fail "no second reload: $(tail -5 "$T/qosd.log")"
wait_for 20 has b 5 || fail "nothing published to rl/b after the reload"
s2=$(ship) || fail "no qosd-mqttship after the reload"
[ "$s2" != "$s1" ] || fail "the changed sink kept its qosd-mqttship"
! kill -0 "$s1" 2>/dev/null || fail "the old qosd-mqttship ($s1) is still there"
touch "$T/stop"
sleep 1
total=$(cat "$T/counter")
all() { [ "$(sed -n 's|^rl/[ab]/work work,.* seq=\([0-9]*\)i .*|\1|p' "$T/rl.sub" | sort -un | wc -l)" -ge "$total" ]; }
wait_for 20 all || fail "produced $total, received $(sed -n 's|^rl/[ab]/work work,.* seq=\([0-9]*\)i .*|\1|p' "$T/rl.sub" | sort -un | wc -l)"
kill -TERM "$QPID"
wait_for 20 sh -c "! kill -0 $QPID 2>/dev/null" || fail "qosd did not stop"
! grep -qiE 'AddressSanitizer|LeakSanitizer|runtime error' "$T/qosd.log" ||
	fail "sanitizer report: $(grep -m3 -iE 'Sanitizer|runtime error' "$T/qosd.log")"
ok "a reload kept the unchanged sink's qosd-mqttship ($s1); a new topic: a new one ($s2), the old reaped; all $total points arrived ($(got a) on rl/a, $(got b) on rl/b)"
