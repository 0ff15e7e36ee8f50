#!/bin/bash
# Without CAP_NET_RAW: one clear error naming the capability when
# unprivileged ICMP is not allowed either; with net.ipv4.ping_group_range
# open, the collector works over unprivileged ICMP sockets.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ping_lib.bash"
command -v setpriv >/dev/null || skip "setpriv missing (util-linux)"
netns_pair
cat >"$T/q.conf" <<CONF
sinks = ( { type = "file"; path = "-"; } );
jobs = ( { name = "p"; collector = "ping"; targets = [ "127.0.0.1", "::1" ];
  count = 3; ping_interval = 0.01; ping_timeout = 0.5; } );
CONF
noraw() { ip netns exec "$NSA" setpriv --bounding-set -net_raw "$@"; }

ip netns exec "$NSA" sysctl -qw net.ipv4.ping_group_range="1 0"
noraw "$QOSD" --once --config "$T/q.conf" >"$T/out" 2>"$T/log" &&
	fail "a run without CAP_NET_RAW succeeded: $(cat "$T/out")"
n=$(grep -c 'CAP_NET_RAW' "$T/log")
[ "$n" -eq 1 ] || fail "$n lines name CAP_NET_RAW: $(cat "$T/log")"
grep -q 'ping_group_range' "$T/log" || fail "no hint at ping_group_range"
[ "$(grep -c 'result="error"' "$T/out")" -eq 2 ] ||
	fail "expected result=error for both targets: $(cat "$T/out")"
echo "without CAP_NET_RAW: $(grep CAP_NET_RAW "$T/log")"

ip netns exec "$NSA" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
noraw "$QOSD" --once --config "$T/q.conf" >"$T/out" 2>"$T/log" ||
	fail "unprivileged ICMP: $(cat "$T/log")"
for a in 127.0.0.1 ::1; do
	l=$(grep "^ping,.*target=$a " "$T/out")
	[ "$(field received "$l")" = 3 ] || fail "unprivileged $a: $l"
	[ -n "$(field ttl "$l")" ] || fail "unprivileged $a: no ttl: $l"
done
ok "CAP_NET_RAW named once; unprivileged ICMP sockets work"
