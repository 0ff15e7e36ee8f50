#!/bin/bash
# mqtt_json.sh: what a subscriber reads, exactly.
#  (a) payload = "json", topic "lab/{tag:job}/{measurement}": one JSON
#      object per point, byte for byte (tags sorted, the agent's and the
#      job's added, fields in order and typed, time in ns);
#  (b) the broker asks for a user and password: qosd gives them from
#      password_file, QoS 0, line protocol; the password's bytes are in
#      the memory of qosd-mqttship and of no other process of qosd
#      (tests/tools/memscan, as root);
#  (c) a wrong password: refused, logged with what to fix, retried, and
#      nothing is lost: the points wait in the spool.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt_lib.bash"
command -v mosquitto_passwd >/dev/null || skip "mosquitto_passwd missing"

# The point: fixed, so that the payload is known to the byte.
cat >"$T/gen.sh" <<'GEN'
#!/bin/sh
printf '%s\n' 'probe,target=t1 rtt_ms=0.25,lost=0i,ok=true,note="a \"q\" \\ b",n=3 1764612000000000000'
GEN
chmod +x "$T/gen.sh"
# conf NAME SINK-SETTINGS: a config with one mqtt sink and the job.
conf() {
	cat >"$T/$1.conf" <<CONF
agent: { id = "edge-3"; };
daemon: { state_dir = "$T/state-$1"; self_interval = 0; };
sinks = (
	{ type = "mqtt"; name = "mq"; host = "127.0.0.1"; port = $MQTT_PORT;
	  flush_interval = 0.2; backoff_max = 1; $2 }
);
jobs = (
	{ name = "j"; collector = "exec"; interval = 0.5; timeout = 0.4;
	  splay = 0; command = [ "$T/gen.sh" ]; }
);
CONF
}
run_qosd() {
	"$QOSD" --config "$T/$1.conf" >"$T/$1.log" 2>&1 &
	QPID=$!
	track_pid "$QPID"
}
stop_qosd() {
	kill -TERM "$QPID"
	wait_for 20 sh -c "! kill -0 $QPID 2>/dev/null" || fail "qosd did not stop"
	! grep -qiE 'AddressSanitizer|LeakSanitizer|runtime error' "$T"/*.log ||
		fail "sanitizer report: $(grep -m3 -iE 'Sanitizer|runtime error' "$T"/*.log)"
}
has() { [ "$(count_lines "$1" "$2")" -ge "${3:-1}" ] 2>/dev/null; }

# (a)
start_mosquitto
subscribe json 'lab/j/probe'
conf a 'topic = "lab/{tag:job}/{measurement}"; payload = "json";'
run_qosd a
wait_for 20 has '^lab/j/probe \{' "$T/json.sub" 2 ||
	fail "(a) nothing received: $(tail -5 "$T/a.log")"
stop_qosd
want='lab/j/probe {"measurement":"probe","tags":{"agent":"edge-3","job":"j","target":"t1"},"fields":{"rtt_ms":0.25,"lost":0,"ok":true,"note":"a \"q\" \\ b","n":3.0},"time":1764612000000000000}'
got=$(grep -m1 '^lab/j/probe {' "$T/json.sub")
[ "$got" = "$want" ] || fail "(a) got:  $got
want: $want"
if command -v jq >/dev/null; then
	grep '^lab/j/probe {' "$T/json.sub" | sed 's|^lab/j/probe ||' |
		jq -e . >/dev/null 2>&1 || fail "(a) jq cannot read the payloads"
fi
ok "(a) one JSON object per point, exactly: ${got#lab/j/probe }"
stop_mosquitto

# (b) and (c): a broker with a password file.
mosquitto_passwd -c -b "$T/mosq/passwd" qosd 's3cret-pw' >/dev/null ||
	fail "mosquitto_passwd failed"
MOSQ_ANON=false start_mosquitto "password_file $T/mosq/passwd"
MQTT_AUTH=(-u qosd -P 's3cret-pw')
subscribe auth 'qosd/edge-3/probe'
printf 's3cret-pw\n' >"$T/pw"
chmod 600 "$T/pw"
conf b "qos = 0; username = \"qosd\"; password_file = \"$T/pw\";"
run_qosd b
wait_for 20 has '^qosd/edge-3/probe probe,agent=edge-3,job=j,target=t1 ' "$T/auth.sub" 2 ||
	fail "(b) nothing received: $(tail -5 "$T/b.log")"
tree() { local c; echo "$1"; for c in $(pgrep -P "$1"); do tree "$c"; done; }
if [ "$(id -u)" = 0 ]; then
	scanned=
	for p in $(tree "$QPID"); do
		out=$("$TOP/tests/tools/memscan" "$p" "$T/pw" 2>/dev/null) || continue
		comm=$(echo "$out" | cut -d' ' -f2)
		scanned="$scanned $comm"
		case "$comm:$out" in
		qosd-mqttship:*found=0*) held=1 ;;
		qosd-mqttship:*) fail "(b) the password is not in qosd-mqttship: the scan is blind" ;;
		*found=0*) fail "(b) the password is in $comm ($p)" ;;
		esac
	done
	[ -n "${held:-}" ] || fail "(b) qosd-mqttship not scanned:$scanned"
	ok "(b) the password is in qosd-mqttship only (scanned:$scanned)"
fi
stop_qosd
ok "(b) user and password_file, QoS 0, line protocol: received"

printf 'wrong\n' >"$T/pw"
conf c "username = \"qosd\"; password_file = \"$T/pw\";"
run_qosd c
wait_for 20 grep -q 'check username and password_file' "$T/c.log" ||
	fail "(c) a refused password is not logged: $(tail -5 "$T/c.log")"
! grep -q 's3cret-pw\|wrong' "$T/c.log" || fail "(c) the log shows a password"
wait_for 10 sh -c "[ \$(find '$T/state-c/spool/mq/ready' -name '*.lp' | wc -l) -gt 0 ]" ||
	fail "(c) nothing waits in the spool"
stop_qosd
ok "(c) a wrong password: '$(grep -m1 -o 'not authori[sz]ed[^"]*' "$T/c.log")', points kept in the spool"
