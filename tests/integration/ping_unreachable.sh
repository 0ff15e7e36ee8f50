#!/bin/bash
# An address on the link that no neighbour owns: address resolution fails
# and the kernel reports the host unreachable (an ICMP error for the probe,
# or an error from the next send), so the target reads result=unreachable,
# not timeout, for IPv4 and IPv6; a neighbour that answers still reads ok.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ping_lib.bash"
netns_pair
warm_links
cat >"$T/u.conf" <<CONF
sinks = ( { type = "file"; path = "-"; } );
jobs = ( { name = "u"; collector = "ping"; timeout = 20; count = 6;
  ping_interval = 1; ping_timeout = 1;
  targets = [ "198.18.0.99", "2001:db8::99", "198.18.0.2" ]; } );
CONF
ip netns exec "$NSA" "$QOSD" --once --config "$T/u.conf" >"$T/out" \
	2>"$T/log"; measured $? || fail "qosd: $(cat "$T/log")"
cat "$T/out"
for a in 198.18.0.99 2001:db8::99; do
	l=$(grep "target=$a " "$T/out")
	[ "$(sfield result "$l")" = unreachable ] || fail "$a: $l"
	[ "$(field loss_pct "$l")" = 100 ] || fail "$a: $l"
done
l=$(grep "target=198.18.0.2 " "$T/out")
[ "$(sfield result "$l")" = ok ] && [ "$(field received "$l")" = 6 ] ||
	fail "neighbour: $l"
ok "unreachable neighbours read result=unreachable"
