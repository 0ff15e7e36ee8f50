#!/bin/bash
# The http collector's dns_error and unreachable results, inside network
# namespaces of this test, where nothing can leave: the name server of
# /etc/resolv.conf has no route there, and 198.18.0.9 is a neighbour that
# never answers ARP.
. "$(dirname "$0")/lib.sh"
netns_pair
cat >"$T/qosd.conf" <<CONF
agent = { id = "t"; };
sinks = ( { type = "file"; path = "-"; } );
jobs = (
	{ name = "dns"; collector = "http"; request_timeout = 5;
	  url = "http://qosd-test.invalid/"; },
	{ name = "unreach"; collector = "http"; request_timeout = 8;
	  url = "http://198.18.0.9/"; }
);
CONF
timeout 20 ip netns exec "$NSA" "$QOSD" --once --config "$T/qosd.conf" \
	>"$T/out" 2>"$T/err"; measured $? || fail "qosd --once: $(tail -5 "$T/err")"
cat "$T/out"
grep -q '^http,agent=t,job=dns,.* result="dns_error",error="[^"]' "$T/out" ||
	fail "dns: $(grep job=dns "$T/out")"
grep '^http,agent=t,job=dns,' "$T/out" | grep -qE '(dns|connect|total)_ms=' &&
	fail "dns: timings on a failed lookup: $(grep job=dns "$T/out")"
grep -q '^http,agent=t,job=unreach,.* result="unreachable",' "$T/out" ||
	fail "unreach: $(grep job=unreach "$T/out")"
grep '^http,agent=t,job=unreach,' "$T/out" | grep -qE '(connect|total)_ms=' &&
	fail "unreach: timings past the lookup: $(grep job=unreach "$T/out")"
ok "dns_error and unreachable, with no made-up timings"
