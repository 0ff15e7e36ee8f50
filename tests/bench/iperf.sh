#!/bin/bash
# Loopback TCP for BENCH_IPERF_SECS (5) s: the iperf collector's
# received_bps beside `iperf3 -c`'s against the same `iperf3 -s`,
# alternated (qosd, iperf3, qosd, ...) BENCH_ROUNDS (7) times per direction
# (BENCH_IPERF_DIRS, "upload download"); the medians compared.
. "$(dirname "$0")/lib.sh"
needs iperf3 iperf3
needs python3 python3
rounds=${BENCH_ROUNDS:-7}
isecs=${BENCH_IPERF_SECS:-5}
port=$(free_port)
# Loopback TCP is CPU-bound: the server on one core, the clients (qosd's
# test process and iperf3 -c alike) on the other, so that both meet the
# same placement.
# (taskset execs its command, so $! is the server's own PID.)
pin0=() pin1=()
[ "$(nproc)" -ge 2 ] && pin0=(taskset -c 0) pin1=(taskset -c 1)
"${pin1[@]}" iperf3 -s -B 127.0.0.1 -p "$port" >"$T/server.log" 2>&1 &
track_pid $!
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null ||
	fail "iperf3 -s did not start: $(tail -3 "$T/server.log")"
sleep 0.5
cat >"$T/bench.conf" <<CONF
agent: { id = "bench"; };
sinks = ( { type = "file"; path = "-"; } );
jobs = (
  { name = "upload"; collector = "iperf"; server = "127.0.0.1";
    port = $port; duration = $isecs; interval = 60; timeout = 30; },
  { name = "download"; collector = "iperf"; server = "127.0.0.1";
    port = $port; duration = $isecs; direction = "download"; interval = 60;
    timeout = 30; }
);
CONF
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for dir in ${BENCH_IPERF_DIRS:-upload download}; do
	: >"$T/q.$dir"; : >"$T/c.$dir"
	flag=; [ $dir = download ] && flag=-R
	for _ in $(seq "$rounds"); do
		"${pin0[@]}" "$QOSD" --once --config "$T/bench.conf" --job "$dir" >"$T/q.lp" 2>>"$T/qosd.log" ||
			fail "qosd --once: $(tail -3 "$T/qosd.log")"
		sed -nE 's/.*[ ,]received_bps=([0-9.e+]+).*/\1/p' "$T/q.lp" >>"$T/q.$dir"
		grep -q 'result="ok"' "$T/q.lp" || fail "qosd: $(tail -3 "$T/q.lp")"
		sleep 0.5
		"${pin0[@]}" iperf3 -c 127.0.0.1 -p "$port" -t "$isecs" $flag -J >"$T/c.json" ||
			fail "iperf3 -c failed"
		python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"])' \
			"$T/c.json" >>"$T/c.$dir"
		sleep 0.5
	done
	echo "$dir qosd: $(tr '\n' ' ' <"$T/q.$dir")" >&2
	echo "$dir iperf3: $(tr '\n' ' ' <"$T/c.$dir")" >&2
	q=$(median <"$T/q.$dir") c=$(median <"$T/c.$dir")
	r=$(ratio "$q" "$c")
	row "iperf: loopback TCP $isecs s $dir, received Gbit/s" \
		"$(awk -v v="$q" 'BEGIN { printf "%.2f", v / 1e9 }')" \
		"$(awk -v v="$c" 'BEGIN { printf "%.2f", v / 1e9 }')" \
		"$r" ">= 0.95" "$(verdict_ge "$r" 0.95)"
done
