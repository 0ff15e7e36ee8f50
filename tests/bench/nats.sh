#!/bin/bash
# The bus beside the control socket: request->reply latency of "run this
# job now" (the answer that carries the id) over NATS (client -> local
# nats-server -> the bus process -> the daemon's control core and back)
# against the control API's Unix socket (HTTP, one kept-alive handle),
# both asked by one client (tests/tools/nats_rtt) in alternating order,
# ROUNDS (500) each, 20 ms apart so that the previous run is over.  The
# figures include everything the extra hops cost: the NATS server, the
# bus's channel to the daemon.  Rows: median and p99 of each, and their
# ratio (NATS / socket).
. "$(dirname "$0")/lib.sh"
command -v nats-server >/dev/null || skip "nats-server not installed"
rounds=${ROUNDS:-500}
NPORT=$(free_port)
NURL="nats://127.0.0.1:$NPORT"
nats-server -a 127.0.0.1 -p "$NPORT" -js -sd "$T/js" >"$T/nats.log" 2>&1 &
track_pid $!
wait_for 20 grep -q "Server is ready" "$T/nats.log" || fail "nats-server did not start"
SOCK="$T/control"
cat >"$T/bench.conf" <<CONF
agent: { id = "bench"; };
daemon: { realtime = false; self_interval = 5; };
sinks = ( { type = "file"; path = "$T/out.lp"; } );
control = { socket = "$SOCK"; socket_group = ""; results_max = 100000; };
nats = { servers = [ "$NURL" ]; heartbeat_interval = 1; max_per_minute = 100000; };
jobs = ( { name = "r"; collector = "testcoll"; interval = 3600; targets = [ "t" ]; } );
CONF
"$QOSD" --plugin-dir "$BUILD/tests/plugins" --config "$T/bench.conf" 2>"$T/log" &
track_pid $!
wait_for 20 sh -c "$BUILD/qosctl --nats $NURL --json agents 2>/dev/null | grep -q '\"alive\": true'" ||
	fail "the agent is not on the bus: $(tail -5 "$T/log")"
wait_for 10 test -S "$SOCK" || fail "no control socket"
"$BUILD/tools/nats_rtt" "$NURL" qosd.agent.bench.run "$SOCK" r "$rounds" 20 >"$T/rtt" ||
	fail "nats_rtt failed"
cat "$T/rtt" >&2
read -r _ n_med n_p99 n_ok n_other < <(grep '^nats ' "$T/rtt")
read -r _ s_med s_p99 s_ok s_other < <(grep '^socket ' "$T/rtt")
row "nats: run request->reply median (us), NATS | socket" "$n_med" "$s_med" "$(ratio "$n_med" "$s_med")" "-" "-"
row "nats: run request->reply p99 (us), NATS | socket" "$n_p99" "$s_p99" "$(ratio "$n_p99" "$s_p99")" "-" "-"
row "nats: runs accepted (202) of $rounds, NATS | socket" "$n_ok" "$s_ok" "-" "-" "-"
