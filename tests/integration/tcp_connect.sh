#!/bin/bash
# tcp connect mode: an open port reads result=ok with connect times, a
# closed one result=refused, an address nobody answers result=timeout
# within the job's timeout, a bad name result=dns_error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ping_lib.bash"
netns_pair
warm_links
ip -n "$NSA" route add 198.18.1.0/24 via 198.18.0.2
start_responder --tcp 7007 --delay 0
cat >"$T/q.conf" <<CONF
sinks = ( { type = "file"; path = "-"; } );
jobs = (
  { name = "open"; collector = "tcp"; timeout = 10; port = 7007;
    targets = [ "198.18.0.2", "2001:db8::2", "198.18.1.1",
      "no-such-host.invalid" ];
    count = 5; probe_interval = 0.1; probe_timeout = 1.0; },
  { name = "closed"; collector = "tcp"; timeout = 10; port = 7008;
    targets = [ "198.18.0.2" ]; count = 2; }
);
CONF
s0=$(date +%s.%N)
ip netns exec "$NSA" "$QOSD" --once --config "$T/q.conf" >"$T/out" \
	2>"$T/log"; measured $? || fail "qosd: $(cat "$T/log")"
s1=$(date +%s.%N)
stop_responder
cat "$T/out"
line() { grep -E "^tcp,.*job=$1,.*target=$2( |,)" "$T/out"; }
for a in 198.18.0.2 2001:db8::2; do
	l=$(line open "$a")
	[ "$(sfield result "$l")" = ok ] && [ "$(field received "$l")" = 5 ] ||
		fail "open $a: $l"
	[ -n "$(field connect_ms "$l")" ] || fail "open $a: no connect_ms"
done
[ "$(summ tcp_connections)" -eq 10 ] ||
	fail "the responder saw $(summ tcp_connections) connections, not 10"
l=$(line open 198.18.1.1)
[ "$(sfield result "$l")" = timeout ] && [ "$(field loss_pct "$l")" = 100 ] ||
	fail "dead: $l"
[ "$(sfield result "$(line open no-such-host.invalid)")" = dns_error ] ||
	fail "dns: $(line open no-such-host.invalid)"
[ "$(sfield result "$(line closed 198.18.0.2)")" = refused ] ||
	fail "closed: $(line closed 198.18.0.2)"
# A target's attempts are one at a time: the dead one's 5 take 5 s, well
# within the job's 10 s timeout.
awk -v a="$s0" -v b="$s1" 'BEGIN { exit !(b - a < 7) }' ||
	fail "took $(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }') s"
ok "connect: ok, refused, timeout, dns_error"
