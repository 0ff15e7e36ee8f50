#!/bin/bash
# stack_ms is the host's own time, rtt_kernel_ms the network's and the
# far end's: starve the sending process of CPU and the first grows while
# the second does not.  qosd-reflector on CPU 0; qosd --once (nice 19) on
# CPU 1, idle, then beside a busy loop pinned to CPU 1 (bounded: 10 s),
# 200 probes 10 ms apart each time, side by side up to 3 times (a shared
# machine; the far end's wakeup, most of the loopback kernel RTT, varies
# from run to run):
# - stack_ms at least doubles (the answers wait for the CPU after the
#   kernel stamped them: stack_rx_ms);
# - the median kernel RTT (rtt_kernel_p50_ms) stays within 20 % of its
#   idle value.
. "$(dirname "$0")/lib.sh"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
command -v taskset >/dev/null || skip "taskset missing (apt-get install util-linux)"
REFL="$BUILD/qosd-reflector"
P=$(free_port_udp)
taskset -c 0 "$REFL" --allow 127.0.0.1 --stamp "$P" --rate 100000 --burst 100000 \
	--control "$T/refl.ctl" >"$T/refl.out" 2>"$T/refl.log" &
track_pid $!
wait_for 10 "$REFL" --status --control "$T/refl.ctl" >/dev/null 2>&1 ||
	fail "reflector: $(cat "$T/refl.log")"
cat >"$T/q.conf" <<CONF
sinks = ( { type = "file"; path = "-"; } );
jobs = ( { name = "s"; collector = "udp"; timeout = 30;
  targets = [ "127.0.0.1" ]; port = $P; count = 200; probe_interval = 0.01; } );
CONF
field() { grep '^udp,' "$T/$1.lp" | cut -d' ' -f2 | tr ',' '\n' | sed -n "s/^$2=//p"; }
run() {
	taskset -c 1 nice -n 19 "$QOSD" --once --config "$T/q.conf" >"$T/$1.lp" \
		2>"$T/$1.log" || fail "qosd $1: $(cat "$T/$1.log")"
	[ "$(field "$1" received)" = 200i ] || fail "$1: $(cat "$T/$1.lp")"
}

good=0
for try in 1 2 3; do
	run idle
	taskset -c 1 timeout 10 bash -c 'while :; do :; done' &
	busy=$!
	track_pid "$busy"
	sleep 0.2
	run starved
	kill "$busy"; wait "$busy" 2>/dev/null
	for r in idle starved; do
		echo "try $try, $r: stack_ms $(field $r stack_ms) (tx $(field $r stack_tx_ms), rx $(field $r stack_rx_ms)), rtt_kernel_p50_ms $(field $r rtt_kernel_p50_ms), rtt_app_p50_ms $(field $r rtt_app_p50_ms), reflector_ms $(field $r reflector_ms)"
	done
	if awk -v si="$(field idle stack_ms)" -v ss="$(field starved stack_ms)" \
	    -v ki="$(field idle rtt_kernel_p50_ms)" -v ks="$(field starved rtt_kernel_p50_ms)" \
	    'BEGIN { exit !(ss >= 2 * si && ks <= 1.2 * ki && ks >= 0.8 * ki) }'; then
		good=1
		break
	fi
done
[ "$good" = 1 ] || fail "starved of CPU: stack_ms did not double, or the kernel RTT moved by more than 20 %, in 3 tries"
ok "starved of CPU: stack_ms $(field idle stack_ms) -> $(field starved stack_ms) ms; rtt_kernel_p50_ms $(field idle rtt_kernel_p50_ms) -> $(field starved rtt_kernel_p50_ms) ms"
