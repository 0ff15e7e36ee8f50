#!/bin/bash
# The udp collector's ground truth, through tests/tools/relay between two
# network namespaces (this kernel has no netem): qosd-reflector (stateful,
# port 862) and tests/tools/stamp_mini (stateless, written from the RFC
# without proto/) in namespace B, a relay in front of each in namespace
# A, qosd --once in A.  Forward 10 ms +- 1, 10 % drop, every 25th probe
# held 15 ms more (reordered); backward 2 ms, 5 % drop; the same seed for
# both relays, so that both see the same fates.  Sender, relay and
# reflector share this machine's clock: one-way delays are exact.
# - forward_ms and backward_ms cover the relay's hold of every probe, and
#   the point's means are within 0.5 ms of the mean holds the relay logged
#   for the probes answered (its holds, not the configured delays: it
#   overshoots);
# - forward_lost and backward_lost (stateful reflector) are exactly the
#   relay's drops of our probes each way; with the stateless reflector
#   they are absent (its numbers cannot tell) and the total is the same;
# - reordered is exactly the reordering the relay made, as seen on the
#   answers that came back;
# - both reflectors give the same counts, and the same delays beyond the
#   relay's holds;
# - TTL 64 both ways;
# - an address with no route reads result=unreachable, a name that does
#   not resolve result=dns_error.
. "$(dirname "$0")/lib.sh"
netns_pair
A="ip netns exec $NSA" B="ip netns exec $NSB"
REFL="$BUILD/qosd-reflector" RELAY="$BUILD/tools/relay"
N=400

$B "$REFL" --allow 198.18.0.1 --control "$T/refl.ctl" >"$T/refl.out" 2>"$T/refl.log" &
track_pid $!
$B "$BUILD/tools/stamp_mini" 863 198.18.0.2 >"$T/mini.out" 2>&1 &
track_pid $!
wait_for 10 "$REFL" --status --control "$T/refl.ctl" >/dev/null 2>&1 ||
	fail "reflector: $(cat "$T/refl.log")"

# relay NAME PORT TOPORT: a relay in A from 198.18.0.1:PORT to B's TOPORT.
relay() {
	"$RELAY" --listen "198.18.0.1:$2" --listen-netns "$NSA" \
		--to "198.18.0.2:$3" --to-netns "$NSA" \
		--fwd-delay 10 --fwd-jitter 1 --fwd-drop 0.1 --fwd-reorder 25 \
		--reorder-extra 15 --bwd-delay 2 --bwd-drop 0.05 --seed 11 \
		--duration 120 --summary "$T/$1.sum" --log "$T/$1.log" \
		>"$T/$1.relay" 2>&1 &
	eval "${1}_RELAY=$!"
	track_pid $!
	wait_for 5 grep -q ready "$T/$1.relay" || fail "relay: $(cat "$T/$1.relay")"
}

# measure NAME PORT: qosd --once in A through relay NAME; the udp point in
# $T/NAME.lp.
measure() {
	cat >"$T/$1.conf" <<CONF
sinks = ( { type = "file"; path = "-"; } );
jobs = ( { name = "$1"; collector = "udp"; timeout = 30;
  targets = [ "198.18.0.1" ]; port = $2; count = $N; probe_interval = 0.01;
  probe_timeout = 1.0; samples = true; } );
CONF
	$A "$QOSD" --once --config "$T/$1.conf" >"$T/$1.lp" 2>"$T/$1.qlog" ||
		fail "qosd $1: $(cat "$T/$1.qlog")"
	kill -TERM "$(eval echo "\$${1}_RELAY")"
	wait "$(eval echo "\$${1}_RELAY")"
}

relay full 9000 862
measure full 9000
relay mini 9001 863
measure mini 9001

# field LINE KEY: a field's value (integers without their i); "" if absent.
field() { echo "$1" | cut -d' ' -f2 | tr ',' '\n' | sed -n "s/^$2=//p" | sed 's/i$//'; }
get() { sed -n "s/^$2=//p" "$T/$1.sum"; }
full=$(grep '^udp,' "$T/full.lp") mini=$(grep '^udp,' "$T/mini.lp")
[ -n "$full" ] && [ -n "$mini" ] || fail "no udp point: $(cat "$T"/*.lp)"
for n in full mini; do
	echo "$n: $(grep '^udp,' "$T/$n.lp" | cut -d' ' -f2 | cut -c1-400)"
	echo "relay $n: $(tr '\n' ' ' <"$T/$n.sum")"
done

# truth NAME STATEFUL: the relay's log, per probe of ours (seq < N):
# $T/NAME.fwd "SEQ HOLD_US" and $T/NAME.bwd "SEQ HOLD_US" for what it
# passed, $T/NAME.fdrop and $T/NAME.bdrop the numbers it dropped each way.
# Backward the log names the reflector's number: a stateful reflector
# numbers packets as they arrive, in the order the relay passed them.
truth() {
	awk -v n=$N -v st="$2" -v d="$T/$1" '
		$1 == "fwd" && $3 ~ /^hold/ { m[r++] = $2 }
		$1 == "fwd" { if ($2 < n) { if ($3 == "drop") print $2 > (d ".fdrop"); else { sub("hold_us=", "", $3); print $2, $3 > (d ".fwd") } } next }
		$1 == "bwd" { s = st ? m[$2] : $2; if (s == "" || s >= n) next
			if ($3 == "drop") print s > (d ".bdrop"); else { sub("hold_us=", "", $3); print s, $3 > (d ".bwd") } }
	' "$T/$1.log"
	touch "$T/$1.fdrop" "$T/$1.bdrop" "$T/$1.fwd" "$T/$1.bwd"
}
truth full 1
truth mini 0

# 1. Counts and loss per direction.
for n in full mini; do
	l=$(grep '^udp,' "$T/$n.lp")
	fd=$(wc -l <"$T/$n.fdrop") bd=$(wc -l <"$T/$n.bdrop")
	[ "$(field "$l" sent)" = $N ] || fail "$n: sent $(field "$l" sent)"
	[ "$(field "$l" received)" = $((N - fd - bd)) ] ||
		fail "$n: received $(field "$l" received), the relay passed $((N - fd - bd)) both ways"
	[ "$(field "$l" result)" = '"ok"' ] || fail "$n: $(field "$l" result)"
	eval "${n}_fd=$fd ${n}_bd=$bd"
done
[ "$(field "$full" forward_lost)" = "$full_fd" ] && [ "$(field "$full" backward_lost)" = "$full_bd" ] ||
	fail "stateful: forward_lost $(field "$full" forward_lost) backward_lost $(field "$full" backward_lost), the relay dropped $full_fd and $full_bd"
# With this seed the last probe's answer is dropped on the way back: the
# reflector's numbers alone cannot tell which way it went, and the
# closing packet (numbered N, not a probe) is what splits it.
[ "$(get full fwd_received)" = $((N + 1)) ] ||
	fail "the relay saw $(get full fwd_received) packets: no closing packet"
ok "stateful reflector: forward_lost $full_fd, backward_lost $full_bd: the relay's drops of our probes each way (the last answer lost, split by the closing packet)"
[ -z "$(field "$mini" forward_lost)" ] && [ -z "$(field "$mini" backward_lost)" ] ||
	fail "stateless reflector: a split it cannot give: $mini"
[ "$(field "$mini" received)" = "$(field "$full" received)" ] ||
	fail "received: stateless $(field "$mini" received), stateful $(field "$full" received)"
ok "stateless reflector: no split claimed; $((mini_fd + mini_bd)) lost in all, as the relay dropped"

# 2. One-way delays against the relay's holds: every probe's covers its
# hold, and the means are within 0.5 ms of the mean holds.
for n in full mini; do
	sed -nE 's/^udp_sample,.* seq=([0-9]+)i,.*forward_ms=([0-9.e+-]+),backward_ms=([0-9.e+-]+) .*/\1 \2 \3/p' \
		"$T/$n.lp" >"$T/$n.samples"
	[ "$(wc -l <"$T/$n.samples")" = "$(field "$(grep '^udp,' "$T/$n.lp")" received)" ] ||
		fail "$n: $(wc -l <"$T/$n.samples") samples"
	awk -v out="$T/$n.rest" 'FILENAME ~ /fwd$/ { f[$1] = $2; next } FILENAME ~ /bwd$/ { b[$1] = $2; next }
		{ if (!($1 in f) || !($1 in b)) { print "probe " $1 ": no hold"; bad = 1; next }
		  rf = $2 * 1000 - f[$1]; rb = $3 * 1000 - b[$1]
		  if (rf < -1 || rb < -1) { printf "probe %s: forward %.1f, backward %.1f us under the hold\n", $1, rf, rb; bad = 1 }
		  print rf, rb > out; hf += f[$1]; hb += b[$1]; n++ }
		END { printf "%.4f %.4f\n", hf / n / 1000, hb / n / 1000 > (out ".mean"); exit bad }' \
		"$T/$n.fwd" "$T/$n.bwd" "$T/$n.samples" || fail "$n: one-way delays under the relay's holds"
	l=$(grep '^udp,' "$T/$n.lp")
	read -r hf hb <"$T/$n.rest.mean"
	mf=$(awk '{ print $1 }' "$T/$n.rest" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	mb=$(awk '{ print $2 }' "$T/$n.rest" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	echo "$n: forward_ms $(field "$l" forward_ms) (relay's holds: $hf), backward_ms $(field "$l" backward_ms) (holds: $hb); per probe beyond the hold, medians $mf and $mb us"
	awk -v a="$(field "$l" forward_ms)" -v b="$hf" -v c="$(field "$l" backward_ms)" -v d="$hb" \
		'function abs(x) { return x < 0 ? -x : x } BEGIN { exit !(abs(a - b) < 0.5 && abs(c - d) < 0.5) }' ||
		fail "$n: forward_ms $(field "$l" forward_ms) vs $hf, backward_ms $(field "$l" backward_ms) vs $hb"
	awk -v f="$mf" -v b="$mb" 'BEGIN { exit !(f < 500 && b < 500) }' || fail "$n: medians $mf, $mb us"
done
ok "forward_ms and backward_ms cover each probe's holds and are within 0.5 ms of the relay's"

# 3. Reordering: what the relay made, on the answers that came back.
for n in full mini; do
	want=$(awk 'FNR == NR { ok[$1] = 1; next } $1 == "fwd" && $3 ~ /^hold/ && ($2 in ok) { if (k++ && $2 < max) r++; if ($2 > max) max = $2 }
		END { print r + 0 }' "$T/$n.samples" "$T/$n.log")
	got=$(field "$(grep '^udp,' "$T/$n.lp")" reordered)
	[ "$got" = "$want" ] && [ "$want" -gt 0 ] || fail "$n: reordered $got, the relay reordered $want of the answered"
	[ "$(get "$n" bwd_reordered)" = 0 ] || fail "relay $n reordered backward"
done
ok "reordered: $(field "$full" reordered), exactly the relay's reordering of the probes answered ($(get full fwd_reordered) in all)"

# 4. The two reflectors agree: the same counts and TTLs (the relays'
# fates come from one seed), and the same delay beyond each relay's holds
# (the relays' own delays differ from run to run: they overshoot under
# load, which is why each run is compared with its own relay above).
for k in sent received loss_pct forward_ttl backward_ttl; do
	[ "$(field "$full" $k)" = "$(field "$mini" $k)" ] ||
		fail "$k: $(field "$full" $k) vs $(field "$mini" $k)"
done
read -r hff hbf <"$T/full.rest.mean"
read -r hfm hbm <"$T/mini.rest.mean"
awk -v a="$(field "$full" forward_ms)" -v b="$hff" -v c="$(field "$mini" forward_ms)" -v d="$hfm" \
	-v e="$(field "$full" backward_ms)" -v f="$hbf" -v g="$(field "$mini" backward_ms)" -v h="$hbm" \
	'function abs(x) { return x < 0 ? -x : x }
	BEGIN { printf "beyond the holds: forward %.1f / %.1f us, backward %.1f / %.1f us\n", (a - b) * 1000, (c - d) * 1000, (e - f) * 1000, (g - h) * 1000
		exit !(abs((a - b) - (c - d)) < 0.2 && abs((e - f) - (g - h)) < 0.2) }' ||
	fail "the reflectors disagree beyond the relay's holds"
[ "$(field "$full" forward_ttl)" = 64 ] && [ "$(field "$full" backward_ttl)" = 64 ] ||
	fail "TTL: $(field "$full" forward_ttl), $(field "$full" backward_ttl)"
ok "qosd-reflector and stamp_mini agree: the same counts, forward $(field "$full" forward_ms) / $(field "$mini" forward_ms) ms and backward $(field "$full" backward_ms) / $(field "$mini" backward_ms) ms over their relays' holds alike; TTL 64 both ways"

# 5. No route, no name.
cat >"$T/bad.conf" <<CONF
sinks = ( { type = "file"; path = "-"; } );
jobs = ( { name = "bad"; collector = "udp"; timeout = 30;
  targets = [ "198.18.5.5", "no-such-host.invalid" ]; count = 2;
  probe_interval = 0.01; probe_timeout = 0.5; } );
CONF
$A "$QOSD" --once --config "$T/bad.conf" >"$T/bad.lp" 2>"$T/bad.log"
measured $? || fail "qosd: $(cat "$T/bad.log")"
grep -q '^udp,.*target=198\.18\.5\.5 .*result="unreachable"' "$T/bad.lp" ||
	fail "no route: $(cat "$T/bad.lp")"
grep -q '^udp,.*target=no-such-host\.invalid .*result="dns_error"' "$T/bad.lp" ||
	fail "no name: $(cat "$T/bad.lp")"
ok "no route: result=unreachable; no name: result=dns_error"
