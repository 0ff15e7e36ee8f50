#!/bin/bash
# The mqtt sink's throughput into a local mosquitto beside mosquitto_pub
# publishing the same payloads in the same run: BENCH_MQTT_POINTS (60000)
# line-protocol lines, one message each, QoS 1, to one topic, at most
# BENCH_MQTT_INFLIGHT (100) messages not yet acknowledged on both sides.
# mosquitto_pub: one process, one connection, `-l` reading the lines from
# a file.  qosd: the same lines as ready segments of 1000 lines in the
# sink's spool, published by mqttship (the topic template expands to the
# same topic), timed from the daemon's start to the last segment gone
# from ready/ (every message of it acknowledged).  Both alternate
# BENCH_RUNS (3) times; each one's best run counts.  The broker's own
# count of messages received ($SYS, sys_interval 1) checks that every
# message of every run arrived.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/mqtt_lib.bash"
n=${BENCH_MQTT_POINTS:-60000}
inflight=${BENCH_MQTT_INFLIGHT:-100}
per=1000
nb=$((n / per))
start_mosquitto "sys_interval 1"

awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++)
	printf "bench,agent=edge,host=h%d,region=r%d value=%d.5,count=%di,ok=true 1600000000%09d\n",
	    i % 100, i % 7, i % 1000, i, i }' >"$T/lines.lp"
mkdir -p "$T/segs"
split -l "$per" -a 6 -d "$T/lines.lp" "$T/segs/"
segs=("$T"/segs/*)
[ "${#segs[@]}" = "$nb" ] || fail "made ${#segs[@]} segments, want $nb"
topic=bench/edge/bench

now() { date +%s.%N; }
# received: the broker's count of PUBLISH messages received so far.
received() {
	mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -C 1 -W 5 \
		-t '$SYS/broker/publish/messages/received'
}
# delivered BEFORE: wait until the broker counted n more than BEFORE.
delivered() {
	local c
	for _ in $(seq 20); do
		c=$(received)
		[ "$c" -ge $(( $1 + n )) ] 2>/dev/null && return 0
		sleep 0.5
	done
	fail "the broker received $((c - $1)) of $n"
}

pub_run() {	# seconds
	local c0 t0 t1
	c0=$(received)
	t0=$(now)
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -M "$inflight" \
		-t "$topic" -l <"$T/lines.lp" || fail "mosquitto_pub failed"
	t1=$(now)
	delivered "$c0"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

qosd_run() {	# K: seconds
	local d="$T/q-$1" i=0 s t0 t1 pid last c0
	mkdir -p "$d/spool/ready"
	for s in "${segs[@]}"; do
		i=$((i + 1))
		cp "$s" "$d/spool/ready/$(printf '%016d' "$i")-1.lp"
	done
	cat >"$d/qosd.conf" <<CONF
agent: { id = "edge"; };
daemon: { state_dir = "$d"; self_interval = 0; };
sinks = ( { type = "mqtt"; host = "127.0.0.1"; port = $MQTT_PORT;
	topic = "bench/{agent}/{measurement}"; qos = 1;
	max_inflight = $inflight; spool_dir = "$d/spool";
	batch_size = $per; } );
CONF
	c0=$(received)
	sync
	t0=$(now)
	"$QOSD" --config "$d/qosd.conf" 2>"$d/log" &
	pid=$!
	track_pid "$pid"
	# Oldest first: when the last segment is gone, all are.
	last="$d/spool/ready/$(printf '%016d' "$nb")-1.lp"
	for _ in $(seq 60000); do
		[ -e "$last" ] || break
		sleep 0.01
	done
	t1=$(now)
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	[ -z "$(ls "$d/spool/ready" | grep -- '-1\.lp$')" ] ||
		fail "qosd: segments left in ready/: $(tail -3 "$d/log")"
	delivered "$c0"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

best() { printf '%s\n' "$@" | sort -n | head -1; }
rate() { awk -v n="$n" -v t="$1" 'BEGIN { printf "%.0f", n / t }'; }
runs=${BENCH_RUNS:-3} ps=() qs=()
for k in $(seq "$runs"); do
	ps+=("$(pub_run)") || exit 1
	qs+=("$(qosd_run "$k")") || exit 1
done
echo "mosquitto_pub: ${ps[*]} s; qosd: ${qs[*]} s" >&2
prate=$(rate "$(best "${ps[@]}")") qrate=$(rate "$(best "${qs[@]}")")
r=$(ratio "$qrate" "$prate")
row "mqtt: points/s, QoS 1, vs mosquitto_pub -l" "$qrate" "$prate" "$r" ">= 0.9" "$(verdict_ge "$r" 0.9)"
