#!/bin/bash
# The udp collector on loopback, against qosd-reflector and ping(8):
# - on every probe (udp_sample), IPv4 and IPv6, the kernel's RTT is within
#   the application's;
# - the RTT measured as ping(8) measures it is within 20 us of ping(8)'s
#   in the same run, side by side (up to 3 tries: a shared machine).
#   ping(8) times from its own send() to the kernel's receive timestamp,
#   and its far end is the kernel, answering at once; a STAMP reflector
#   is a process, and answering costs it a wakeup (reflector_ms, T3 - T2,
#   about 60 us on this VM).  So the comparable figure is rtt_kernel_ms +
#   stack_tx_ms - reflector_ms, probe by probe; rtt_kernel_ms itself is
#   printed beside it;
# - a source outside the reflector's allow-list: result=timeout, loss
#   100 %, and the reflector counted every probe as dropped_acl (and no
#   closing packet: nothing came back);
# - a job faster than the reflector's rate limit per source loses exactly
#   what the reflector dropped (dropped_rate), every one on the way there
#   (forward_lost), while a job from another source loses nothing;
# - a port nobody listens on: result=refused;
# - ttl = 33: forward_ttl (the reflector's Ses-Sender TTL) is 33.
. "$(dirname "$0")/lib.sh"
command -v ping >/dev/null || skip "ping(8) missing (apt-get install iputils-ping)"
REFL="$BUILD/qosd-reflector"
P1=$(free_port_udp) P2=$(free_port_udp) CLOSED=$(free_port_udp)

# start NAME ARGS...: a reflector with its status socket $T/NAME.ctl.
start() {
	local name=$1; shift
	"$REFL" --control "$T/$name.ctl" "$@" >"$T/$name.out" 2>"$T/$name.log" &
	track_pid $!
	wait_for 10 "$REFL" --status --control "$T/$name.ctl" >/dev/null 2>&1 ||
		fail "$name did not start: $(cat "$T/$name.log")"
}
# counter NAME KEY: a counter of NAME's STAMP service.
counter() {
	"$REFL" --status --control "$T/$1.ctl" | grep 'protocol=stamp' |
		cut -d' ' -f2 | tr ',' '\n' | sed -n "s/^$2=//p" | sed 's/i$//'
}
# field LINE KEY: a field's value (integers without their i); "" if absent.
field() { echo "$1" | cut -d' ' -f2 | tr ',' '\n' | sed -n "s/^$2=//p" | sed 's/i$//'; }
point() { grep -E "^udp,.*job=$1,.*target=$2( |,)" "$T/$3"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

start open --allow 127.0.0.1 --allow ::1 --stamp "$P1" --rate 100000 \
	--burst 100000 --total-rate 1000000
start slow --allow 127.0.0.0/8 --stamp "$P2" --rate 20 --burst 10 \
	--total-rate 100000

# 1. Every probe: kernel RTT <= application RTT; and ping(8) beside it.
cat >"$T/lo.conf" <<CONF
sinks = ( { type = "file"; path = "-"; } );
jobs = ( { name = "lo"; collector = "udp"; timeout = 30;
  targets = [ "127.0.0.1", "::1" ]; port = $P1; count = 200;
  probe_interval = 0.01; samples = true; } );
CONF
good=0
for try in 1 2 3; do
	"$QOSD" --once --config "$T/lo.conf" >"$T/lo.lp" 2>"$T/lo.log" ||
		fail "qosd: $(cat "$T/lo.log")"
	ping -n -c 200 -i 0.01 127.0.0.1 >"$T/ping.out" 2>&1 || fail "ping: $(cat "$T/ping.out")"
	n=$(grep -c '^udp_sample,' "$T/lo.lp")
	[ "$n" = 400 ] || fail "$n samples of 400 probes: $(grep '^udp,' "$T/lo.lp")"
	awk '/^udp_sample,/ { split($2, f, ","); for (i in f) { split(f[i], kv, "="); v[kv[1]] = kv[2] }
		if (!("rtt_kernel_ms" in v) || v["rtt_kernel_ms"] > v["rtt_app_ms"]) { print; bad = 1 } }
		END { exit bad }' "$T/lo.lp" || fail "a probe whose kernel RTT is not within its application RTT"
	pm=$(sed -nE 's/.* time=([0-9.]+) ms/\1/p' "$T/ping.out" | awk '{ print $1 * 1000 }' | median)
	um=$(grep -E '^udp_sample,.*target=127\.0\.0\.1[ ,]' "$T/lo.lp" | cut -d' ' -f2 |
		awk -F, '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print (v["rtt_kernel_ms"] + v["stack_tx_ms"] - v["reflector_ms"]) * 1000 }' | median)
	l=$(point lo 127.0.0.1 lo.lp)
	echo "try $try: ping(8) median $pm us; udp: as ping(8) measures $um us, rtt_kernel_p50 $(field "$l" rtt_kernel_p50_ms) ms, rtt_app_p50 $(field "$l" rtt_app_p50_ms) ms, stack_tx $(field "$l" stack_tx_ms) ms, reflector $(field "$l" reflector_ms) ms, net_rtt $(field "$l" net_rtt_ms) ms"
	if awk -v a="$um" -v b="$pm" 'BEGIN { d = a - b; exit !(d <= 20 && d >= -20) }'; then
		good=1
		break
	fi
done
[ "$good" = 1 ] || fail "udp's RTT as ping(8) measures it differs from ping(8)'s by more than 20 us in 3 tries"
ok "every probe's kernel RTT within its application RTT (IPv4, IPv6); as ping(8) measures it, $um us against ping(8)'s $pm us"
for a in 127.0.0.1 ::1; do
	l=$(point lo "$a" lo.lp)
	[ "$(field "$l" result)" = '"ok"' ] && [ "$(field "$l" received)" = 200 ] &&
		[ "$(field "$l" forward_lost)" = 0 ] && [ "$(field "$l" backward_lost)" = 0 ] ||
		fail "$a: $l"
	echo "$l" | grep -q 'timestamping=software' || fail "$a: not software timestamps: $l"
done

# 2. The allow-list and the rate limit, seen from the collector; a closed
# port.
acl0=$(counter open dropped_acl) rate0=$(counter slow dropped_rate)
cat >"$T/lim.conf" <<CONF
sinks = ( { type = "file"; path = "-"; } );
jobs = (
  { name = "denied"; collector = "udp"; timeout = 30; targets = [ "127.0.0.1" ];
    port = $P1; source = "127.0.0.2"; count = 20; probe_interval = 0.01;
    probe_timeout = 0.5; },
  { name = "fast"; collector = "udp"; timeout = 30; targets = [ "127.0.0.1" ];
    port = $P2; source = "127.0.0.4"; count = 100; probe_interval = 0.005;
    probe_timeout = 0.5; },
  { name = "calm"; collector = "udp"; timeout = 30; targets = [ "127.0.0.1" ];
    port = $P2; source = "127.0.0.5"; count = 10; probe_interval = 0.1;
    probe_timeout = 0.5; },
  { name = "closed"; collector = "udp"; timeout = 30; targets = [ "127.0.0.1" ];
    port = $CLOSED; count = 3; probe_interval = 0.01; },
  { name = "ttl"; collector = "udp"; timeout = 30; targets = [ "127.0.0.1" ];
    port = $P1; count = 3; probe_interval = 0.01; ttl = 33; dscp = "ef";
    size = 200; }
);
CONF
"$QOSD" --once --config "$T/lim.conf" >"$T/lim.lp" 2>"$T/lim.log"
measured $? || fail "qosd: $(cat "$T/lim.log")"
grep '^udp,' "$T/lim.lp" | cut -c1-300
d=$(point denied 127.0.0.1 lim.lp)
[ "$(field "$d" result)" = '"timeout"' ] && [ "$(field "$d" loss_pct)" = 100 ] &&
	[ "$(field "$d" sent)" = 20 ] || fail "denied: $d"
acl=$(( $(counter open dropped_acl) - acl0 ))
[ "$acl" = 20 ] || fail "the reflector dropped $acl by its allow-list, not the 20 probes"
ok "outside the allow-list: result=timeout, loss_pct=100; the reflector dropped all 20 (dropped_acl)"

f=$(point fast 127.0.0.1 lim.lp) c=$(point calm 127.0.0.1 lim.lp)
rate=$(( $(counter slow dropped_rate) - rate0 ))
lost=$(( $(field "$f" sent) - $(field "$f" received) ))
[ "$rate" -gt 0 ] && [ "$lost" = "$rate" ] && [ "$(field "$f" forward_lost)" = "$rate" ] &&
	[ "$(field "$f" backward_lost)" = 0 ] && [ "$(field "$f" result)" = '"ok"' ] ||
	fail "rate limit: the reflector dropped $rate; fast: $f"
[ "$(field "$c" received)" = 10 ] && [ "$(field "$c" loss_pct)" = 0 ] || fail "calm: $c"
ok "over the rate limit: $lost of 100 lost, all forward, as the reflector dropped them (dropped_rate $rate); another source lost none"

r=$(point closed 127.0.0.1 lim.lp)
[ "$(field "$r" result)" = '"refused"' ] && [ "$(field "$r" loss_pct)" = 100 ] || fail "closed: $r"
ok "a closed port: result=refused"

# 3. TTL as the reflector saw it (its Ses-Sender TTL field), DSCP and size
# settings taken.
t=$(point ttl 127.0.0.1 lim.lp)
[ "$(field "$t" forward_ttl)" = 33 ] && [ "$(field "$t" backward_ttl)" = 64 ] &&
	[ "$(field "$t" received)" = 3 ] || fail "ttl 33: $t"
ok "ttl = 33: the reflector saw 33 (forward_ttl), its answers came with 64"
