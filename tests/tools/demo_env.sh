# demo_env.sh: the demo's servers and configuration, for tests/tools/demo
# and tests/integration/grafana.sh (sourced after tests/integration/lib.sh
# and tests/tools/http_nginx.sh, bash).
#
# demo_env DIR: start influxd (database qos), nginx, iperf3 -s, a TCP echo
# responder and qosd-reflector (STAMP) on free loopback ports, and write
# DIR/qosd.conf: a copy of etc/qosd.demo.conf with those ports and with DIR
# for its paths.
demo_env() {
	local dir=$1
	command -v jq >/dev/null || skip "jq missing (apt-get install jq)"
	command -v iperf3 >/dev/null || skip "iperf3 missing (apt-get install iperf3)"
	start_influxd
	curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE qos" \
		>/dev/null || fail "cannot create the database"
	start_nginx
	DEMO_IPERF_PORT=$(free_port)
	iperf3 -s -B 127.0.0.1 -p "$DEMO_IPERF_PORT" >"$T/iperf3.log" 2>&1 &
	track_pid $!
	DEMO_ECHO_PORT=$(free_port)
	"$BUILD/tools/responder" --tcp "$DEMO_ECHO_PORT" --duration 600 \
		>"$T/responder.log" 2>&1 &
	track_pid $!
	DEMO_STAMP_PORT=$(free_port_udp)
	"$BUILD/qosd-reflector" --allow 127.0.0.1 --listen 127.0.0.1 \
		--stamp "$DEMO_STAMP_PORT" --control "$T/reflector.ctl" \
		>"$T/reflector.log" 2>&1 &
	track_pid $!
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$DEMO_IPERF_PORT" 2>/dev/null ||
		fail "iperf3 -s did not start"
	wait_for 10 "$BUILD/qosd-reflector" --status --control "$T/reflector.ctl" \
		>/dev/null 2>&1 || fail "qosd-reflector did not start: $(cat "$T/reflector.log")"
	mkdir -p "$dir/state"
	sed -e "s|127.0.0.1:18086|${INFLUX_URL#http://}|" -e "s/18080/$NGX_PORT/g" \
		-e "s/15201/$DEMO_IPERF_PORT/" -e "s/17007/$DEMO_ECHO_PORT/" \
		-e "s/18862/$DEMO_STAMP_PORT/" \
		-e "s|/tmp/qosd-demo|$dir|g" \
		"$TOP/etc/qosd.demo.conf" >"$dir/qosd.conf"
	"$BUILD/qosd" --check-config --config "$dir/qosd.conf" || fail "demo config invalid"
}

# influx_points MEASUREMENT|/regex/: points stored (the largest count of
# its fields), 0 if none.
influx_points() {
	influx_query qos "SELECT count(*) FROM $1" |
		jq '[.results[0].series[]? | .values[0][1:] | max] | add // 0'
}
