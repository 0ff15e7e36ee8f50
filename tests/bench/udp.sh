#!/bin/bash
# The udp collector's CPU, in the same run as qosd's own ping collector:
# 100 loopback targets (127.0.1.1 to 127.0.1.100) x COUNT (100) probes
# 10 ms apart, qosd --once pinned to CPU 1, qosd-reflector (STAMP, every
# 127.0.0.0/8 source allowed, rate limits far above the load) pinned to
# CPU 0 at SCHED_FIFO 10 (other work on this shared machine, some of it
# real-time, would otherwise stall it for longer than its socket buffer
# holds); RUNS (5) runs of each, alternating; a run in which a probe went
# unanswered is run again (at most 3 times), so that all do the same work:
# - CPU per probe of `qosd --once` and its children (user + system,
#   tests/tools/cputime), less a run of the same job with count = 1 (the
#   daemon's start, the plugin, name lookups, sockets), over the probes
#   more: the udp collector (STAMP, kernel timestamps) beside the
#   ping collector's cost per echo.  Not the same work: ping's echo is
#   answered by the kernel in the softirq of ping's own send, which is
#   charged to ping; the reflector's answer is charged to the reflector;
# - what kernel timestamps cost: the same udp job with timestamping =
#   "application" (no SO_TIMESTAMPING, no error queue); target <= 1.10;
# - what they cost the kernel alone: tests/tools/tstamp_cost, a bare loop
#   that sends 200,000 datagrams on loopback and reads them (and their
#   transmit timestamps) back 32 at a time, with and without.
# Each figure is the least of its runs (the least disturbed: other work on
# this VM stalls runs now and then); every run is printed to the log.
. "$(dirname "$0")/lib.sh"
needs ss iproute2
runs=${RUNS:-5} count=${COUNT:-100}
REFL="$BUILD/qosd-reflector" CPUTIME="$BUILD/tools/cputime"
pin0=() pin1=()
[ "$(nproc)" -ge 2 ] && pin0=(taskset -c 0) pin1=(taskset -c 1)
P=$(free_port_udp)
rt=()
command -v chrt >/dev/null && rt=(chrt -f 10)
"${pin0[@]}" "${rt[@]}" "$REFL" --allow 127.0.0.0/8 --stamp "$P" --rate 1000000 \
	--burst 1000000 --total-rate 10000000 --control "$T/refl.ctl" \
	>"$T/refl.out" 2>&1 &
track_pid $!
wait_for 10 "$REFL" --status --control "$T/refl.ctl" >/dev/null 2>&1 ||
	fail "reflector: $(cat "$T/refl.out")"
targets=$(for i in $(seq 100); do printf '"127.0.1.%d", ' "$i"; done)
targets="[ ${targets%, } ]"

# conf NAME COLLECTOR COUNT EXTRA: a job of 100 targets.
conf() {
	local iv=probe_interval to=probe_timeout
	[ "$2" = ping ] && iv=ping_interval to=ping_timeout
	cat >"$T/$1.conf" <<CONF
sinks = ( { type = "file"; path = "-"; } );
jobs = ( { name = "$1"; collector = "$2"; timeout = 30; targets = $targets;
  count = $3; $iv = 0.01; $to = 1.0; $4 } );
CONF
}
conf udp udp "$count" "port = $P;"
conf udp1 udp 1 "port = $P;"
conf app udp "$count" "port = $P; timestamping = \"application\";"
conf app1 udp 1 "port = $P; timestamping = \"application\";"
conf ping ping "$count" ""
conf ping1 ping 1 ""

# cpu NAME: CPU microseconds of one qosd --once of NAME.conf, appended to
# $T/NAME.cpu; every target must have answered every probe (else the run
# is made again, at most 3 times).
cpu() {
	local c want=$count try
	case $1 in *1) want=1 ;; esac
	for try in 1 2 3; do
		"${pin1[@]}" "$CPUTIME" "$QOSD" --once --config "$T/$1.conf" \
			>"$T/$1.lp" 2>"$T/$1.err"
		c=$(grep -c "received=${want}i" "$T/$1.lp")
		[ "$c" = 100 ] && break
		echo "$1: $c of 100 targets answered every probe; again" >&2
	done
	[ "$c" = 100 ] || fail "$1: $c of 100 targets answered every probe, 3 times"
	case $1 in udp*) grep -q 'timestamping=software' "$T/$1.lp" || fail "$1: no kernel timestamps" ;;
	app*) grep -q 'timestamping=application' "$T/$1.lp" || fail "$1: kernel timestamps" ;; esac
	sed -n 's/^user_us=\([0-9]*\) sys_us=\([0-9]*\)$/\1 \2/p' "$T/$1.err" |
		awk '{ print $1 + $2 }' >>"$T/$1.cpu"
}
for r in $(seq "$runs"); do
	for n in udp udp1 app app1 ping ping1; do cpu "$n"; done
done
least() { sort -n "$T/$1" | head -1; }
for n in udp udp1 app app1 ping ping1; do echo "$n: $(tr '\n' ' ' <"$T/$n.cpu")"; done
per() { awk -v a="$(least "$1.cpu")" -v b="$(least "$2.cpu")" -v n=$((100 * (count - 1))) 'BEGIN { printf "%.3f", (a - b) / n }'; }
u=$(per udp udp1) a=$(per app app1) p=$(per ping ping1)
echo "per probe (us): udp $u, udp without kernel timestamps $a, ping $p"
row "udp: CPU per probe (us), 100 targets x $count at 10 ms (vs ping collector per echo)" \
	"$u" "$p" "$(ratio "$u" "$p")" "-" "-"
r=$(ratio "$u" "$a")
row "udp: CPU per probe with kernel timestamps (us) (vs timestamping=application)" \
	"$u" "$a" "$r" "<= 1.10" "$(verdict_le "$r" 1.10)"

: >"$T/k1"; : >"$T/k0"
for r in $(seq "$runs"); do
	for k in 1 0; do
		"${pin1[@]}" "$BUILD/tools/tstamp_cost" "$k" 200000 |
			sed -n 's/^cpu_us_per_datagram=\([0-9.]*\) .*/\1/p' >>"$T/k$k"
	done
done
echo "bare loop: with $(tr '\n' ' ' <"$T/k1"); without $(tr '\n' ' ' <"$T/k0")"
k1=$(least k1) k0=$(least k0)
row "kernel: CPU per datagram, bare loop, TX timestamp read back (us) (vs none)" \
	"$k1" "$k0" "$(ratio "$k1" "$k0")" "-" "-"
# The least ratio the row above could read: qosd without timestamps plus
# only what the kernel itself adds per datagram (the bare loop's
# difference), over qosd without timestamps.
row "udp: the least ratio the kernel allows: (application + kernel's extra) / application" \
	"$(awk -v a="$a" -v x="$k1" -v y="$k0" 'BEGIN { printf "%.3f", (a + x - y) / a }')" - - - -
