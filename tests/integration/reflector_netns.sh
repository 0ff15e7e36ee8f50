#!/bin/bash
# qosd-reflector seen through the relay: the reflector (stateful, its
# default port 862) in namespace B, tests/tools/relay's sockets in
# namespace A, tests/tools/stamp_client in A.  Forward 10 ms +- 1, 10 %
# drop, every 25th held 15 ms more; backward 2 ms, 5 % drop.  The
# reflector's own view is right:
# - it received (and answered) exactly what the relay passed forward;
# - its numbering tells the directions apart: the reflector numbers the
#   client never saw are exactly the ones the relay dropped backward, and
#   the client's numbers it never answered exactly the ones dropped
#   forward;
# - T2 - T1 covers the relay's forward hold of each probe and T4 - T3 its
#   backward hold (one clock: one-way delays are exact), with medians of
#   what is left under 0.5 ms;
# - the reordering the relay made shows in the reflector's numbering;
# - its TTL field is the TTL the probes arrived with (64: one hop).
# The udp collector's ground-truth tests (phase 2 of the STAMP issue)
# stand on this.
. "$(dirname "$0")/lib.sh"
netns_pair
A="ip netns exec $NSA" B="ip netns exec $NSB"
REFL="$BUILD/qosd-reflector" RELAY="$BUILD/tools/relay"
CLIENT="$BUILD/tools/stamp_client"
N=400

$B "$REFL" --allow 198.18.0.1 --control "$T/refl.ctl" >"$T/refl.out" 2>"$T/refl.log" &
track_pid $!
wait_for 10 "$REFL" --status --control "$T/refl.ctl" >/dev/null 2>&1 ||
	fail "reflector: $(cat "$T/refl.log")"
"$RELAY" --listen 198.18.0.1:9000 --listen-netns "$NSA" \
	--to 198.18.0.2:862 --to-netns "$NSA" \
	--fwd-delay 10 --fwd-jitter 1 --fwd-drop 0.1 --fwd-reorder 25 \
	--reorder-extra 15 --bwd-delay 2 --bwd-drop 0.05 --seed 11 \
	--duration 120 --summary "$T/relay.sum" --log "$T/relay.log" \
	>"$T/relay.out" 2>&1 &
RPID=$!
track_pid "$RPID"
wait_for 5 grep -q ready "$T/relay.out" || fail "relay: $(cat "$T/relay.out")"

$A "$CLIENT" --count $N --interval 10 --timeout 1000 198.18.0.1 9000 \
	>"$T/client.out" || fail "client: $(cat "$T/client.out")"
kill -TERM "$RPID"; wait "$RPID"
get() { sed -n "s/^$1=//p" "$T/relay.sum"; }
st=$("$REFL" --status --control "$T/refl.ctl" | grep 'protocol=stamp')
field() { echo "$st" | tr ' ,' '\n\n' | sed -n "s/^$1=//p" | sed 's/i$//'; }
got=$(grep -c '^reply' "$T/client.out")
echo "client: $(tail -1 "$T/client.out")"
echo "relay: forward $(get fwd_received) in, $(get fwd_dropped) dropped, $(get fwd_reordered) reordered; backward $(get bwd_received) in, $(get bwd_dropped) dropped"
echo "reflector: $st"

# 1. The reflector answered exactly what reached it.
[ "$(field received)" = "$(get fwd_sent)" ] && [ "$(field reflected)" = "$(get fwd_sent)" ] ||
	fail "reflector received $(field received), reflected $(field reflected); relay passed $(get fwd_sent)"
[ "$(get bwd_received)" = "$(get fwd_sent)" ] && [ "$(get bwd_sent)" = "$got" ] ||
	fail "backward counts: $(cat "$T/relay.sum")"
ok "the reflector answered the $(get fwd_sent) probes the relay passed"

# 2. Loss per direction from the two numberings, against the relay's log.
# (sorted as text, for comm)
sed -n 's/^reply seq=\([0-9]*\) .*/\1/p' "$T/client.out" | sort >"$T/rseq"
sed -n 's/^reply seq=[0-9]* sseq=\([0-9]*\) .*/\1/p' "$T/client.out" | sort >"$T/sseq"
seq 0 $(( $(get fwd_sent) - 1 )) | sort | comm -23 - "$T/rseq" >"$T/back_lost"
awk '$1 == "bwd" && $3 == "drop" { print $2 }' "$T/relay.log" | sort >"$T/back_dropped"
diff "$T/back_lost" "$T/back_dropped" >/dev/null ||
	fail "reflector numbers missing [$(tr '\n' ' ' <"$T/back_lost")] != relay's backward drops [$(tr '\n' ' ' <"$T/back_dropped")]"
# A probe the client sent and never saw answered was dropped on the way
# there, or its answer on the way back: the forward drops are the rest.
awk '$1 == "fwd" && $3 == "drop" { print $2 }' "$T/relay.log" | sort >"$T/fwd_dropped"
[ "$(comm -12 "$T/sseq" "$T/fwd_dropped" | wc -l)" = 0 ] || fail "answered a probe dropped forward"
[ $(( N - got - $(wc -l <"$T/back_lost") )) = "$(wc -l <"$T/fwd_dropped")" ] ||
	fail "forward losses: $N sent, $got answered, $(wc -l <"$T/back_lost") lost back; relay dropped $(wc -l <"$T/fwd_dropped") forward"
ok "loss per direction: $(wc -l <"$T/fwd_dropped") forward, $(wc -l <"$T/back_lost") backward (the reflector numbers it never got back), as the relay dropped them"

# 3. One-way delays against the relay's holds, probe by probe.
awk 'FNR == NR { if ($3 ~ /^hold_us=/) { sub("hold_us=", "", $3); h[$1 " " $2] = $3 } next }
	/^reply/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	f = v["fwd_us"] - h["fwd " v["sseq"]]; b = v["bwd_us"] - h["bwd " v["seq"]]
	if (f < 0 || b < 0) { printf "probe %s: forward %.1f, backward %.1f us under the hold\n", v["sseq"], f, b; bad = 1 }
	if (v["ttl"] != 64) { print "ttl " v["ttl"]; bad = 1 }
	print f, b > "/dev/stderr" }
	END { exit bad }' "$T/relay.log" "$T/client.out" 2>"$T/rest" || fail "one-way delays"
fm=$(awk '{ print $1 }' "$T/rest" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
bm=$(awk '{ print $2 }' "$T/rest" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "one-way delay - relay hold: median forward $fm us, backward $bm us"
awk -v f="$fm" -v b="$bm" 'BEGIN { exit !(f < 500 && b < 500) }' || fail "medians $fm, $bm us"
ok "T2-T1 and T4-T3 cover the relay's holds of each probe (medians beyond: $fm, $bm us); TTL 64"

# 4. Reordering: by the reflector's numbering (arrival order there), the
# sender's numbers go back exactly where the relay says it reordered.
re=$(awk '$1 == "fwd" && $3 ~ /^hold/ { if (n++ && $2 < max) r++; if ($2 > max) max = $2 }
	END { print r + 0 }' "$T/relay.log")
[ "$re" = "$(get fwd_reordered)" ] && [ "$re" -gt 0 ] || fail "relay reordered $(get fwd_reordered), log $re"
seen=$(sed -n 's/^reply seq=\([0-9]*\) sseq=\([0-9]*\) .*/\1 \2/p' "$T/client.out" | sort -n |
	awk '{ if (n++ && $2 < max) r++; if ($2 > max) max = $2 } END { print r + 0 }')
want=$(awk 'FNR == NR { ok[$2] = 1; next } $1 == "fwd" && $3 ~ /^hold/ && ($2 in ok) { print $2 }' \
	<(sed -n 's/^reply seq=[0-9]* sseq=\([0-9]*\) .*/x \1/p' "$T/client.out") "$T/relay.log" |
	awk '{ if (n++ && $1 < max) r++; if ($1 > max) max = $1 } END { print r + 0 }')
[ "$seen" = "$want" ] || fail "reordered as seen through the reflector: $seen, expected $want"
ok "reordering: the relay made $re, the reflector's numbering shows the $seen of them whose answers came back"
