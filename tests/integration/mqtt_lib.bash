# mqtt_lib.bash: a mosquitto broker for the mqtt tests (sourced after
# lib.sh).  The broker is the test's own: its config, persistence and log
# in $T/mosq, a free loopback port, started and stopped by its PID; the
# system's mosquitto service (Debian starts one) is never used.

MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$MOSQUITTO" ] || skip "mosquitto missing (apt-get install mosquitto)"
command -v mosquitto_sub >/dev/null ||
	skip "mosquitto_sub missing (apt-get install mosquitto-clients)"

# start_mosquitto [EXTRA-CONFIG-LINE...]: the broker; sets MQTT_PORT and
# MOSQ_PID.  Persistence is on, with no cap on queued messages, so that a
# persistent subscriber's queue outlives a restart of the broker.
start_mosquitto() {
	local try
	# A port free when chosen may be taken before the broker binds it
	# (other tests run beside): then another one.
	for try in 1 2 3; do
		mosquitto_conf "$@"
		try_mosquitto && return 0
	done
	fail "mosquitto did not start: $(tail -5 "$T/mosq/out" 2>/dev/null)"
}

mosquitto_conf() {
	local l
	mkdir -p "$T/mosq"
	MQTT_PORT=$(free_port) || fail "no free port"
	{
		echo "listener $MQTT_PORT 127.0.0.1"
		echo "allow_anonymous ${MOSQ_ANON:-true}"
		echo "persistence true"
		echo "persistence_location $T/mosq/"
		echo "max_queued_messages 0"
		echo "log_dest file $T/mosq/log"
		echo "log_type error"
		echo "log_type warning"
		echo "log_type notice"
		echo "user $(id -un)"
		for l in "$@"; do echo "$l"; done
	} >"$T/mosq/mosquitto.conf"
}

mqtt_up() { (exec 3<>"/dev/tcp/127.0.0.1/$MQTT_PORT") 2>/dev/null; }

mosq_running() { kill -0 "$MOSQ_PID" 2>/dev/null; }
mosq_ready() { mqtt_up || ! mosq_running; }

# try_mosquitto: start the broker as configured; 0 once it answers, 1 if
# it exited (its port was taken).
try_mosquitto() {
	"$MOSQUITTO" -c "$T/mosq/mosquitto.conf" >>"$T/mosq/out" 2>&1 &
	MOSQ_PID=$!
	track_pid "$MOSQ_PID"
	wait_for 20 mosq_ready || fail "mosquitto does not answer: $(tail -5 "$T/mosq/out")"
	mosq_running
}

# restart_mosquitto: the same broker again, same port and persistence.
restart_mosquitto() {
	local try
	for try in 1 2 3 4 5; do
		try_mosquitto && return 0
		sleep 1
	done
	fail "mosquitto did not restart: $(tail -5 "$T/mosq/out")"
}

stop_mosquitto() {
	kill -TERM "$MOSQ_PID"
	wait_for 20 sh -c "! kill -0 $MOSQ_PID 2>/dev/null" || fail "mosquitto did not stop"
	! mqtt_up || fail "the broker still answers"
}

# MQTT_AUTH: the clients' credentials (-u USER -P PASS), if any.
MQTT_AUTH=()

# subscribe NAME TOPIC [ARGS...]: mosquitto_sub -v at QoS 1 into
# $T/NAME.sub, with a persistent session (client id NAME, -c) so that
# messages published while it is away (a broker restart) are kept for it;
# waits until the broker has its subscription.  Sets SUB_PID.
subscribe() {
	local name=$1 topic=$2
	shift 2
	mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -c -i "$name-$$" -v \
		"${MQTT_AUTH[@]}" -t "$topic" "$@" >"$T/$name.sub" 2>"$T/$name.sub.err" &
	SUB_PID=$!
	track_pid "$SUB_PID"
	# The subscription is in place once a message to it comes back.
	local probe="${topic//+/probe}"
	probe="${probe//#/probe}"
	hello() {
		mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 \
			"${MQTT_AUTH[@]}" -t "$probe" -m "hello $name" &&
			grep -q "hello $name" "$T/$name.sub"
	}
	wait_for 10 hello ||
		fail "subscriber $name did not start: $(cat "$T/$name.sub.err")"
}
