#!/bin/bash
# qosd-reflector on loopback, against tests/tools/stamp_client (a STAMP
# Session-Sender on proto/stamp) and beside tests/tools/stamp_mini (a
# stateless reflector written from RFC 8762 without proto/):
# - STAMP stateful numbers its answers per session (a forward gap shows in
#   the sender's numbers only), stateless copies them; T1 <= T2 <= T3 <= T4
#   on this one clock, all within a second of the sender's; TTL 64; the
#   answer has the request's size; NTP and PTP timestamps; stamp_mini and
#   qosd-reflector answer the same client alike;
# - UDP echo (IPv4, IPv6) and TCP echo (--tcp-echo) send back what came;
# - a source outside the allow-list gets nothing, and is counted;
# - a flood from one source is rate-limited (counted) while another source
#   keeps getting every answer;
# - the counters are line protocol (lib/lp parses them), written every
#   interval, and --status prints them; received is the sum of the rest;
# - no --allow, a second reflector on the same status socket, SIGTERM.
. "$(dirname "$0")/lib.sh"
command -v ss >/dev/null || skip "ss(8) missing (apt-get install iproute2)"
REFL="$BUILD/qosd-reflector" CLIENT="$BUILD/tools/stamp_client"
MINI="$BUILD/tools/stamp_mini" LPCHECK="$BUILD/tools/lp_check"

# start NAME ARGS...: a reflector with its status socket $T/NAME.ctl.
start() {
	local name=$1; shift
	"$REFL" --control "$T/$name.ctl" "$@" >"$T/$name.out" 2>"$T/$name.log" &
	track_pid $!
	eval "${name}_PID=$!"
	wait_for 10 "$REFL" --status --control "$T/$name.ctl" >/dev/null 2>&1 ||
		fail "$name did not start: $(cat "$T/$name.log")"
}
# field LINE KEY: a field's value (integers without their i).
field() { echo "$1" | tr ' ,' '\n\n' | sed -n "s/^$2=//p" | sed 's/i$//'; }
# status NAME PROTOCOL: the service's line of NAME's --status.
status() {
	"$REFL" --status --control "$T/$1.ctl" >"$T/$1.status" ||
		fail "--status $1: exit $?"
	grep "protocol=$2[, ]" "$T/$1.status" | tail -1
}
# replies FILE: the reply lines of a stamp_client run; summary FILE KEY.
summary() { field "$(grep '^summary' "$1")" "$2"; }

SP=$(free_port_udp) UP=$(free_port_udp) TP=$(free_port_udp) LP=$(free_port_udp) MP=$(free_port_udp)
LT=$(free_port_udp)
start refl --allow 127.0.0.1 --allow 127.0.0.3 --allow ::1 --stamp "$SP" \
	--udp-echo "$UP" --tcp-echo "$TP" --rate 100 --burst 100 \
	--total-rate 100000 --stats-interval 1 --stats-file "$T/stats.lp" \
	--tag site=lab
start less --allow 127.0.0.0/8 --allow ::1 --stamp "$LP" --stateless \
	--listen 127.0.0.1 --listen ::1 --tcp-echo "$LT" --tcp-max 1 --tcp-idle 1
"$MINI" "$MP" 127.0.0.1 >"$T/mini.out" 2>&1 &
MINI_PID=$!
track_pid "$MINI_PID"
grep -q 'receive timestamps from SO_TIMESTAMPING' "$T/refl.log" ||
	fail "no kernel timestamps: $(cat "$T/refl.log")"

# 1. STAMP stateful, a forward gap every 5th probe: the reflector numbers
# its answers 0, 1, 2, ... while the sender's numbers have the gaps.
"$CLIENT" --count 20 --interval 10 --skip-every 5 127.0.0.1 "$SP" >"$T/st.out" ||
	fail "stamp_client: $(cat "$T/st.out")"
[ "$(summary "$T/st.out" sent)" = 16 ] && [ "$(summary "$T/st.out" received)" = 16 ] ||
	fail "stateful: $(tail -1 "$T/st.out")"
awk '/^reply/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (v["seq"] != n++) { print "seq " v["seq"] " where " n - 1; bad = 1 }
	if (v["sseq"] % 5 == 4) { print "sseq " v["sseq"] " was never sent"; bad = 1 }
	if (!(v["t1"] <= v["t2"] && v["t2"] <= v["t3"] && v["t3"] <= v["t4"])) {
		print "times out of order: " $0; bad = 1 }
	if (v["t2"] - v["t1"] > 1e9 || v["t4"] - v["t1"] > 1e9) { print "far: " $0; bad = 1 }
	if (v["ttl"] != 64 || v["len"] != 44) { print "ttl/len: " $0; bad = 1 }
	if (v["sender_ee"] != "0x0587") { print "sender_ee: " $0; bad = 1 } }
	END { exit bad }' "$T/st.out" || fail "stateful answers: $(head -3 "$T/st.out")"
ok "STAMP stateful: 16 answers numbered 0..15, sender's 0..19 with its gaps; T1<=T2<=T3<=T4; TTL 64"
# A new session (a new source port) starts at 0 again; padding comes back.
"$CLIENT" --count 3 --size 300 127.0.0.1 "$SP" >"$T/st2.out"
[ "$(grep -c '^reply seq=[0-2] sseq=[0-2] .* len=300$' "$T/st2.out")" = 3 ] ||
	fail "second session: $(cat "$T/st2.out")"
ok "a second session numbers from 0; a 300-octet request gets a 300-octet answer"

# 2. STAMP stateless copies the sender's numbers, gaps included.
"$CLIENT" --count 20 --interval 5 --skip-every 5 127.0.0.1 "$LP" >"$T/sl.out"
[ "$(summary "$T/sl.out" received)" = 16 ] || fail "stateless: $(tail -1 "$T/sl.out")"
awk '/^reply/ { split($2, a, "="); split($3, b, "="); if (a[2] != b[2]) bad = 1 }
	END { exit bad }' "$T/sl.out" || fail "stateless numbers: $(head -3 "$T/sl.out")"
ok "STAMP stateless: the sender's numbers come back"
# --listen: an IPv4 socket and an IPv6 one, nothing on 127.0.0.2.
"$CLIENT" --count 3 ::1 "$LP" | grep -q 'received=3 ' || fail "--listen ::1"
"$CLIENT" --count 3 --timeout 300 127.0.0.2 "$LP" | grep -q 'received=0 ' ||
	fail "answered on 127.0.0.2, not listened on"
grep -q 'stamp on 127.0.0.1 port' "$T/less.log" && grep -q 'stamp on ::1 port' "$T/less.log" ||
	fail "listen: $(cat "$T/less.log")"
ok "--listen 127.0.0.1 --listen ::1: answered there, not on 127.0.0.2"

# 3. PTP timestamps (the Z bit): answered in PTP, the same order of times.
"$CLIENT" --count 5 --ptp 127.0.0.1 "$SP" >"$T/ptp.out"
[ "$(grep -c '^reply .* ee=0x4' "$T/ptp.out")" = 5 ] || fail "PTP: $(cat "$T/ptp.out")"
awk '/^reply/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	if (!(v["t1"] <= v["t2"] && v["t2"] <= v["t3"] && v["t3"] <= v["t4"])) bad = 1 }
	END { exit bad }' "$T/ptp.out" || fail "PTP times: $(cat "$T/ptp.out")"
ok "PTP timestamps: answered with the Z bit, T1<=T2<=T3<=T4"

# 4. stamp_mini and qosd-reflector (stateless) answer alike.
"$CLIENT" --count 10 --size 60 127.0.0.1 "$MP" >"$T/mini.c"
"$CLIENT" --count 10 --size 60 127.0.0.1 "$LP" >"$T/less.c"
shape() { awk '/^reply/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	print v["seq"], v["sseq"], v["ttl"], v["len"], v["sender_ee"],
	    (v["t1"] <= v["t2"] && v["t2"] <= v["t3"] && v["t3"] <= v["t4"]) }' "$1"; }
[ "$(shape "$T/mini.c" | wc -l)" = 10 ] || fail "stamp_mini: $(cat "$T/mini.c")"
diff <(shape "$T/mini.c") <(shape "$T/less.c") >"$T/diff" ||
	fail "stamp_mini and qosd-reflector differ: $(cat "$T/diff")"
ok "stamp_mini (from the RFC's layouts) and qosd-reflector answer alike"

# 5. UDP echo, IPv4 and IPv6; TCP echo on --tcp-echo's port.
for h in 127.0.0.1 ::1; do
	"$CLIENT" --echo --count 10 --size 100 "$h" "$UP" >"$T/echo.out"
	[ "$(summary "$T/echo.out" received)" = 10 ] && [ "$(grep -c 'len=100$' "$T/echo.out")" = 10 ] ||
		fail "udp echo $h: $(cat "$T/echo.out")"
	"$CLIENT" --tcp --count 2000 "$h" "$TP" >"$T/tcp.out"
	grep -q '^tcp sent=[0-9]* echoed=[0-9]* same=yes$' "$T/tcp.out" ||
		fail "tcp echo $h: $(cat "$T/tcp.out")"
done
exec 3<>"/dev/tcp/127.0.0.1/$TP" || fail "connect $TP"
printf 'hello qosd\n' >&3
read -r -t 5 line <&3
exec 3<&-
[ "$line" = "hello qosd" ] || fail "tcp echo: \"$line\""
ok "UDP echo (IPv4, IPv6) and TCP echo on port $TP send back what came"
# --tcp-max 1: a second connection is refused; --tcp-idle 1 closes the
# first once quiet.
is() { [ "$(field "$(status less tcp_echo)" "$1")" = "$2" ]; }	# is FIELD VALUE
exec 4<>"/dev/tcp/127.0.0.1/$LT" || fail "connect $LT"
wait_for 5 is open 1 || fail "not open: $(status less tcp_echo)"
"$CLIENT" --tcp --count 3 127.0.0.1 "$LT" | grep -q 'echoed=0 ' || fail "a second connection was served"
[ "$(field "$(status less tcp_echo)" refused_busy)" = 1 ] || fail "refused_busy: $(status less tcp_echo)"
wait_for 5 is closed_idle 1 ||
	fail "not closed when idle: $(status less tcp_echo)"
read -r -t 2 line <&4; rc=$?
exec 4<&-
[ $rc = 1 ] || fail "the idle connection was not closed (read: $rc)"
ok "--tcp-max 1 refused a second connection (refused_busy); --tcp-idle 1 closed the quiet one"

# 6. Outside the allow-list: nothing, counted.
"$CLIENT" --count 5 --timeout 300 --bind 127.0.0.2 127.0.0.1 "$SP" >"$T/acl.out"
[ "$(summary "$T/acl.out" received)" = 0 ] || fail "127.0.0.2 answered: $(cat "$T/acl.out")"
"$CLIENT" --tcp --count 3 --bind 127.0.0.2 127.0.0.1 "$TP" >"$T/acltcp.out"
grep -q 'echoed=0 ' "$T/acltcp.out" || fail "tcp from 127.0.0.2 echoed: $(cat "$T/acltcp.out")"
l=$(status refl stamp)
[ "$(field "$l" dropped_acl)" = 5 ] || fail "dropped_acl: $l"
[ "$(field "$(status refl tcp_echo)" refused_acl)" = 1 ] || fail "refused_acl: $(status refl tcp_echo)"
ok "127.0.0.2 (not allowed): 5 probes dropped_acl, its TCP connection refused_acl"

# 7. A flood from 127.0.0.3 (3000 at once) is held to its rate while
# 127.0.0.1 gets every answer meanwhile.
before=$(field "$(status refl stamp)" dropped_rate)
"$CLIENT" --count 50 --interval 20 127.0.0.1 "$SP" >"$T/calm.out" &
CALM=$!
"$CLIENT" --flood --count 3000 --timeout 500 --bind 127.0.0.3 127.0.0.1 "$SP" >"$T/flood.out"
wait "$CALM"
fr=$(summary "$T/flood.out" received)
[ "$(summary "$T/calm.out" received)" = 50 ] || fail "127.0.0.1 during the flood: $(tail -1 "$T/calm.out")"
[ "$fr" -ge 100 ] && [ "$fr" -lt 1000 ] || fail "flood answered $fr of 3000 (burst 100, 100/s)"
l=$(status refl stamp)
dr=$(( $(field "$l" dropped_rate) - before ))
[ "$dr" -gt 0 ] || fail "no dropped_rate: $l"
echo "flood: $fr of 3000 answered, $dr dropped_rate (the rest dropped by the kernel's buffer)"
ok "a flood from one source is rate-limited and counted; the other source got 50 of 50"

# 8. The counters: line protocol, every second, and received adds up.
ticks() { [ "$(grep -c 'protocol=stamp' "$T/stats.lp" 2>/dev/null)" -ge 2 ]; }
wait_for 5 ticks || fail "no periodic counters: $(cat "$T/stats.lp")"
"$LPCHECK" <"$T/stats.lp" >"$T/lp" || fail "stats.lp: $(cat "$T/lp")"
"$REFL" --status --control "$T/refl.ctl" | "$LPCHECK" >"$T/lp" || fail "--status: $(cat "$T/lp")"
grep -q '^qosd_reflector,port='"$SP"',protocol=stamp,site=lab received=' "$T/refl.status" ||
	fail "tags: $(cat "$T/refl.status")"
grep -q '^qosd_reflector,site=lab uptime_s=' "$T/refl.status" || fail "own line: $(cat "$T/refl.status")"
for p in stamp udp_echo; do
	l=$(status refl $p)
	sum=$(( $(field "$l" reflected) + $(field "$l" dropped_acl) + $(field "$l" dropped_rate) +
		$(field "$l" dropped_bad) + $(field "$l" send_failed) ))
	[ "$sum" = "$(field "$l" received)" ] || fail "$p: received is not the sum: $l"
done
[ "$(field "$(status refl stamp)" app_timestamps)" = 0 ] || fail "app timestamps used"
ok "counters parse as line protocol (stats file, --status); received adds up"

# 9. Refusals at start, and a clean stop.
"$REFL" --stamp "$(free_port_udp)" --control none 2>"$T/noacl" && fail "no --allow started"
[ $? = 64 ] && grep -q 'no --allow' "$T/noacl" || fail "no --allow: $(cat "$T/noacl")"
"$REFL" --allow any --stamp "$(free_port_udp)" --control "$T/refl.ctl" 2>"$T/twice" &&
	fail "a second reflector on the same status socket started"
grep -q 'another reflector answers there' "$T/twice" || fail "twice: $(cat "$T/twice")"
kill -TERM "$refl_PID"
wait "$refl_PID" || fail "SIGTERM: exit $?"
[ ! -e "$T/refl.ctl" ] || fail "status socket left behind"
"$REFL" --status --control "$T/refl.ctl" 2>/dev/null
[ $? = 3 ] || fail "--status of a stopped reflector: not 3"
ok "no --allow: 64; a second reflector on a live socket refused; SIGTERM: exit 0, socket removed; --status then 3"
