#!/bin/bash
# The relay (tests/tools/relay) delays, drops and reorders what it says,
# measured with a plain UDP echo through it: tests/tools/echo_mmsg in
# namespace B, the relay's sockets in namespace A (traffic crosses the
# veth pair), tests/tools/stamp_client --echo in A.  Forward 10 ms +- 1,
# 10 % drop, every 25th held 15 ms more; backward 2 ms, 5 % drop.
# - the counts chain exactly: client sent = relay fwd received; echo
#   received = relay fwd sent; echo sent = relay bwd received; client
#   received = relay bwd sent; and received = dropped + sent each way;
# - the per-datagram log agrees with the counts, and the replies the
#   client got are exactly those the log says went both ways;
# - each probe's RTT is at least the relay's two holds of it (it cannot
#   come back sooner), and the median of what is left (the stacks and the
#   veth) is under 0.5 ms: the relay's report is the delay there was;
# - drop rates are near what was asked, and the reordering the relay
#   reports is what its log shows (RFC 4737: sent after a later one).
. "$(dirname "$0")/lib.sh"
netns_pair
A="ip netns exec $NSA" B="ip netns exec $NSB"
RELAY="$BUILD/tools/relay" CLIENT="$BUILD/tools/stamp_client"
ECHO="$BUILD/tools/echo_mmsg"
N=400

$B "$ECHO" 7 198.18.0.2 >"$T/echo.out" 2>&1 &
EPID=$!
track_pid "$EPID"
"$RELAY" --listen 198.18.0.1:9000 --listen-netns "$NSA" \
	--to 198.18.0.2:7 --to-netns "$NSA" \
	--fwd-delay 10 --fwd-jitter 1 --fwd-drop 0.1 --fwd-reorder 25 \
	--reorder-extra 15 --bwd-delay 2 --bwd-drop 0.05 --seed 7 \
	--duration 120 --summary "$T/relay.sum" --log "$T/relay.log" \
	>"$T/relay.out" 2>&1 &
RPID=$!
track_pid "$RPID"
wait_for 5 grep -q ready "$T/relay.out" || fail "relay: $(cat "$T/relay.out")"
sleep 0.2

$A "$CLIENT" --echo --count $N --interval 10 --timeout 1000 198.18.0.1 9000 \
	>"$T/client.out" || fail "client: $(cat "$T/client.out")"
kill -TERM "$RPID"; wait "$RPID"
kill -TERM "$EPID"; wait "$EPID"
cat "$T/relay.sum"
get() { sed -n "s/^$1=//p" "$T/relay.sum"; }
sent=$(sed -n 's/^summary sent=\([0-9]*\) .*/\1/p' "$T/client.out")
got=$(sed -n 's/^summary .*received=\([0-9]*\) .*/\1/p' "$T/client.out")
read -r ein eout < <(sed -n 's/^received=\([0-9]*\) sent=\([0-9]*\)/\1 \2/p' "$T/echo.out")
echo "client sent $sent received $got; echo received $ein sent $eout"

# 1. The counts chain.
[ "$sent" = $N ] && [ "$(get fwd_received)" = "$sent" ] || fail "fwd_received $(get fwd_received) != sent $sent"
[ "$(get fwd_sent)" = "$ein" ] || fail "fwd_sent $(get fwd_sent) != echo received $ein"
[ "$(get bwd_received)" = "$eout" ] || fail "bwd_received $(get bwd_received) != echo sent $eout"
[ "$(get bwd_sent)" = "$got" ] || fail "bwd_sent $(get bwd_sent) != client received $got"
for d in fwd bwd; do
	[ $(( $(get ${d}_dropped) + $(get ${d}_sent) + $(get ${d}_pending) )) = "$(get ${d}_received)" ] ||
		fail "$d: received != dropped + sent + pending"
	[ "$(get ${d}_pending)" = 0 ] || fail "$d: $(get ${d}_pending) still held at exit"
done
ok "counts chain: client $sent -> relay drops $(get fwd_dropped) -> echo $ein -> relay drops $(get bwd_dropped) -> client $got"

# 2. The log: one line per datagram, and the replies are exactly the probes
# that went both ways.
for d in fwd bwd; do
	[ "$(grep -c "^$d .* drop$" "$T/relay.log")" = "$(get ${d}_dropped)" ] &&
	[ "$(grep -c "^$d .* hold_us=" "$T/relay.log")" = "$(get ${d}_sent)" ] ||
		fail "$d log and counts differ"
done
awk '$1 == "bwd" && $3 ~ /^hold/ { print $2 }' "$T/relay.log" | sort -n >"$T/both"
sed -n 's/^reply seq=\([0-9]*\) .*/\1/p' "$T/client.out" | sort -n >"$T/replied"
diff "$T/both" "$T/replied" >/dev/null || fail "replies differ from what the relay passed both ways"
ok "the log agrees with the counts; replies = probes the relay passed both ways"

# 3. RTT against the relay's holds, probe by probe.
awk 'FNR == NR { if ($3 ~ /^hold_us=/) { sub("hold_us=", "", $3); h[$1 " " $2] = $3 } next }
	/^reply/ { split($2, s, "="); split($3, r, "="); k = s[2]
	if (!(("fwd " k) in h) || !(("bwd " k) in h)) { print "no holds for " k; bad = 1; next }
	rest = r[2] - h["fwd " k] - h["bwd " k]
	if (rest < 0) { printf "probe %s back %.1f us sooner than held\n", k, -rest; bad = 1 }
	print rest > "/dev/stderr" }
	END { exit bad }' "$T/relay.log" "$T/client.out" 2>"$T/rest" || fail "rtt below the holds"
med=$(sort -n "$T/rest" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "rtt - (forward hold + backward hold): median $med us over $(wc -l <"$T/rest") probes"
awk -v m="$med" 'BEGIN { exit !(m < 500) }' || fail "median rest $med us >= 500"
ok "every RTT covers the relay's holds; the rest (stacks, veth) has a median of $med us"

# 4. Rates near what was asked; reordering as the log shows it.
awk -v f="$(get fwd_dropped)" -v n="$(get fwd_received)" -v b="$(get bwd_dropped)" \
	-v m="$(get bwd_received)" 'BEGIN { exit !(f / n > 0.05 && f / n < 0.15 &&
	b / m > 0.01 && b / m < 0.10) }' || fail "drop rates: $(cat "$T/relay.sum")"
re=$(awk '$1 == "fwd" && $3 ~ /^hold/ { if (n++ && $2 < max) r++; if ($2 > max) max = $2 }
	END { print r + 0 }' "$T/relay.log")
[ "$(get fwd_reordered)" = "$re" ] && [ "$re" -gt 0 ] || fail "fwd_reordered $(get fwd_reordered), log shows $re"
[ "$(get bwd_reordered)" = 0 ] || fail "backward reordered $(get bwd_reordered) without being asked"
awk -v a="$(get fwd_delay_min_ms)" -v b="$(get bwd_delay_min_ms)" \
	'BEGIN { exit !(a >= 9 && b >= 2) }' || fail "held less than asked: $(cat "$T/relay.sum")"
ok "drops $(get fwd_dropped)/$(get fwd_received) and $(get bwd_dropped)/$(get bwd_received); $re reordered forward, as logged; never held less than asked"
echo "relay delays (configured 10 +- 1 forward, every 25th +15; 2 backward): forward avg $(get fwd_delay_avg_ms) ms, backward avg $(get bwd_delay_avg_ms) ms"
