#!/bin/bash
# Names are resolved all at once: with a name server that never answers
# (198.18.1.1, routed into $NSB and dropped there; 1 s timeout, 1 attempt),
# a job with 8 names that cannot resolve and one address takes about one
# resolver timeout, not eight, reads result=dns_error for each name, and
# still measures the address.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ping_lib.bash"
netns_pair
ip -n "$NSA" route add 198.18.1.0/24 via 198.18.0.2
# ip netns exec bind-mounts /etc/netns/NAME/resolv.conf over the real one.
mkdir -p "/etc/netns/$NSA" || skip "cannot write /etc/netns"
trap 'rm -rf "/etc/netns/$NSA"; cleanup_netns' EXIT
printf 'nameserver 198.18.1.1\noptions timeout:1 attempts:1\n' \
	>"/etc/netns/$NSA/resolv.conf"
names=()
for i in $(seq 8); do names+=("\"n$i.qosd-test.invalid\""); done
for c in ping tcp; do
	extra='count = 2;'
	[ "$c" = tcp ] && extra='count = 2; port = 9;'
	cat >"$T/$c.conf" <<CONF
sinks = ( { type = "file"; path = "-"; } );
jobs = ( { name = "d"; collector = "$c"; timeout = 30; $extra
  targets = [ $(IFS=,; echo "${names[*]}"), "198.18.0.2" ]; } );
CONF
	s0=$(date +%s.%N)
	ip netns exec "$NSA" "$QOSD" --once --config "$T/$c.conf" >"$T/out" \
		2>"$T/log"; measured $? || fail "$c: $(cat "$T/log")"
	secs=$(awk -v a="$s0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	n=$(grep -c 'result="dns_error"' "$T/out")
	[ "$n" -eq 8 ] || fail "$c: $n of 8 names read dns_error: $(cat "$T/out")"
	l=$(grep "target=198.18.0.2 " "$T/out")
	case $c in
	ping) [ "$(sfield result "$l")" = ok ] || fail "ping: $l" ;;
	tcp) [ "$(sfield result "$l")" = refused ] || fail "tcp: $l" ;;
	esac
	# One timeout per query type (A, AAAA) at most, plus the probes.
	awk -v s="$secs" 'BEGIN { exit !(s < 5) }' ||
		fail "$c: $secs s for 8 names: resolved one after another?"
	echo "$c: 8 dead names and one address in $secs s"
done
ok "names resolve in parallel, bounded by the resolver timeout"
