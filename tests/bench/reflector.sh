#!/bin/bash
# qosd-reflector beside the least a UDP echo server can do
# (tests/tools/echo_mmsg: recvmmsg, sendmmsg, nothing else), on loopback,
# in the same run: tests/tools/stamp_client --load keeps 256 packets of 44
# octets (a STAMP test packet) in flight for BENCH_SECONDS (2) per run,
# the server pinned to one CPU and the client (spinning) to the other;
# RUNS (9) runs of each server, alternating.  Other processes on this VM
# (other tests, at SCHED_FIFO some of them) stall a run now and then for
# tens of ms, which the client sees as a lost window ("stalls"): each
# server's figure is its best run (most packets per second, least CPU per
# packet), the run least disturbed.
# - packets reflected per second: qosd-reflector answering STAMP (kernel
#   timestamps, allow-list, rate limits on but not binding, stateful
#   sessions) and UDP echo, each against echo_mmsg; target >= 0.9x.
#   Both servers on a socket bound to 127.0.0.1 (--listen), as echo_mmsg
#   is; STAMP on every address (the default, which learns each
#   datagram's destination to answer from it: a control message in and
#   one out per packet) is a row of its own, without a target;
# - CPU time of the server per reflected packet (user + system), beside
#   echo_mmsg's.
. "$(dirname "$0")/lib.sh"
needs ss iproute2
secs=${BENCH_SECONDS:-2}
runs=${RUNS:-9}
REFL="$BUILD/qosd-reflector" CLIENT="$BUILD/tools/stamp_client"
ECHO="$BUILD/tools/echo_mmsg"
pin0=() pin1=()
[ "$(nproc)" -ge 2 ] && pin0=(taskset -c 0) pin1=(taskset -c 1)

best_max() { sort -n | tail -1; }
best_min() { sort -n | head -1; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# measure NAME PORT ECHOFLAG CMD...: start the server (pinned), load it,
# append "pps us_per_packet" to $T/NAME.
measure() {
	local name=$1 port=$2 flag=$3 pid t0 t1 out pps n; shift 3
	"${pin1[@]}" "$@" >"$T/$name.srv" 2>&1 &
	pid=$!
	track_pid "$pid"
	sleep 0.3
	t0=$(ticks "$pid")
	out=$("${pin0[@]}" "$CLIENT" --load "$secs" --window 256 $flag 127.0.0.1 "$port")
	t1=$(ticks "$pid")
	kill -TERM "$pid"; wait "$pid" 2>/dev/null
	pps=$(echo "$out" | sed -n 's/.* pps=\([0-9]*\).*/\1/p')
	n=$(echo "$out" | sed -n 's/^load replies=\([0-9]*\) .*/\1/p')
	[ -n "$n" ] && [ "$n" -gt 0 ] || { echo "$name: $out $(cat "$T/$name.srv")" >&2; return 1; }
	awk -v p="$pps" -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$n" \
		-v s="$(echo "$out" | sed -n 's/.* stalls=\([0-9]*\).*/\1/p')" \
		'BEGIN { printf "%s %.3f %s\n", p, t / hz * 1e6 / n, s }' >>"$T/$name"
}

: >"$T/echo" ; : >"$T/stamp" ; : >"$T/uecho" ; : >"$T/stampw"
for r in $(seq "$runs"); do
	p=$(free_port_udp)
	measure echo "$p" --echo "$ECHO" "$p" 127.0.0.1 || fail "echo_mmsg"
	p=$(free_port_udp)
	measure stamp "$p" "" "$REFL" --listen 127.0.0.1 --allow 127.0.0.1 --stamp "$p" \
		--rate 10000000 --burst 100000 --total-rate 10000000 --control none ||
		fail "qosd-reflector stamp"
	p=$(free_port_udp)
	measure uecho "$p" --echo "$REFL" --listen 127.0.0.1 --allow 127.0.0.1 --stamp 0 \
		--udp-echo "$p" --rate 10000000 --burst 100000 --total-rate 10000000 \
		--control none || fail "qosd-reflector udp echo"
	p=$(free_port_udp)
	measure stampw "$p" "" "$REFL" --allow 127.0.0.1 --stamp "$p" \
		--rate 10000000 --burst 100000 --total-rate 10000000 --control none ||
		fail "qosd-reflector stamp, every address"
done
for f in echo stamp uecho stampw; do
	echo "$f: $(tr '\n' ';' <"$T/$f")"
	read -r "${f}_pps" < <(awk '{ print $1 }' "$T/$f" | best_max)
	read -r "${f}_us" < <(awk '{ print $2 }' "$T/$f" | best_min)
done
# shellcheck disable=SC2154
{
r=$(ratio "$stamp_pps" "$echo_pps")
row "reflector: STAMP reflected/s, loopback (vs echo_mmsg)" "$stamp_pps" "$echo_pps" "$r" ">= 0.9" "$(verdict_ge "$r" 0.9)"
r=$(ratio "$uecho_pps" "$echo_pps")
row "reflector: UDP echo reflected/s, loopback (vs echo_mmsg)" "$uecho_pps" "$echo_pps" "$r" ">= 0.9" "$(verdict_ge "$r" 0.9)"
row "reflector: STAMP reflected/s, every address (vs echo_mmsg on one)" "$stampw_pps" "$echo_pps" "$(ratio "$stampw_pps" "$echo_pps")" "-" "-"
row "reflector: STAMP CPU per reflected packet (us)" "$stamp_us" "$echo_us" "$(ratio "$stamp_us" "$echo_us")" "-" "-"
row "reflector: UDP echo CPU per reflected packet (us)" "$uecho_us" "$echo_us" "$(ratio "$uecho_us" "$echo_us")" "-" "-"
}
