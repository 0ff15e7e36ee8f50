#!/bin/bash
# ping and tcp echo against a responder with a known delay, jitter and
# loss (+20 ms +- 5 ms, 20 % drops, count 100), in network namespaces: the
# figures must match the responder's own account.  Also: an address nobody
# answers reads loss_pct=100 and result=timeout within the job's timeout,
# an unresolvable name reads result=dns_error, and the answering target's
# figures are the same whether or not the dead one is in the job.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ping_lib.bash"
netns_pair
# The link's own RTT, from ping(8) while the kernel still answers: the
# responder adds its 20 ms on top of it.
link=$(ip netns exec "$NSA" ping -q -c 5 -i 0.01 198.18.0.2 2>/dev/null |
	sed -nE 's|.*= [0-9.]+/([0-9.]+)/.*|\1|p')
warm_links
ip netns exec "$NSB" sysctl -qw net.ipv4.icmp_echo_ignore_all=1
ip netns exec "$NSB" sysctl -qw net.ipv6.icmp.echo_ignore_all=1 ||
	skip "no net.ipv6.icmp.echo_ignore_all in this kernel"
# Nobody answers 198.18.1.1: routed to $NSB, which does not forward.
ip -n "$NSA" route add 198.18.1.0/24 via 198.18.0.2

# The seed fixes each stream's draws (the n-th request of a stream always
# meets the same fate); the figures are checked against the responder's
# own counts below, the window against the configured 20 %.
start_responder --icmp --tcp 7007 --delay 20 --jitter 5 --drop 0.2 \
	--seed 2

cat >"$T/q.conf" <<CONF
agent: { id = "t"; };
sinks = ( { type = "file"; path = "-"; } );
jobs = (
  { name = "p"; collector = "ping"; interval = 60; timeout = 30;
    targets = [ "198.18.0.2", "2001:db8::2", "198.18.1.1",
      "no-such-host.invalid" ];
    count = 100; ping_interval = 0.05; ping_timeout = 1.0; samples = true;
    dscp = 46; ttl = 33; },
  { name = "e"; collector = "tcp"; interval = 60; timeout = 30;
    targets = [ "198.18.1.1", "198.18.0.2" ]; port = 7007; mode = "echo";
    count = 100; probe_interval = 0.05; probe_timeout = 1.0; dscp = 10; }
);
CONF
s0=$(date +%s.%N)
ip netns exec "$NSA" "$QOSD" --once --config "$T/q.conf" >"$T/out" \
	2>"$T/log"; measured $? || fail "qosd --once: $(cat "$T/log")"
s1=$(date +%s.%N)
stop_responder

line() { grep -E "^$1,.*target=$2( |,)" "$T/out" | head -1; }
p4=$(line ping 198.18.0.2) p6=$(line ping 2001:db8::2)
dead=$(line ping 198.18.1.1) dns=$(line ping no-such-host.invalid)
echo=$(line tcp 198.18.0.2)
for v in p4 p6 dead dns echo; do
	[ -n "${!v}" ] || fail "no point for $v: $(cat "$T/out" "$T/log")"
done
echo "link rtt ${link:-?} ms; responder: $(tr '\n' ' ' <"$T/summary")"

# Each answering target: rtt_p50 within 20 +- 2 ms plus the link, loss
# within 20 +- 8 %, jitter > 0, and the loss exactly what the responder
# dropped (sent and received agree with its counts).
check_truth p4 "$p4" "${link:-0}"
check_truth p6 "$p6" "${link:-0}"
check_truth echo "$echo" "${link:-0}"
sent=$(( $(field sent "$p4") + $(field sent "$p6") ))
recv=$(( $(field received "$p4") + $(field received "$p6") ))
[ "$sent" -eq "$(summ icmp_requests)" ] ||
	fail "ping sent $sent, the responder saw $(summ icmp_requests)"
[ "$((sent - recv))" -eq "$(summ icmp_dropped)" ] ||
	fail "ping lost $((sent - recv)), the responder dropped $(summ icmp_dropped)"
[ "$(field sent "$echo")" -eq "$(summ tcp_probes)" ] ||
	fail "tcp sent $(field sent "$echo"), responder saw $(summ tcp_probes)"
[ "$(( $(field sent "$echo") - $(field received "$echo") ))" -eq \
	"$(summ tcp_dropped)" ] || fail "tcp loss differs from the responder's drops"
for v in p4 echo; do
	for k in r_factor mos rtt_p50_ms rtt_p95_ms rtt_p99_ms; do
		[ -n "$(field $k "${!v}")" ] || fail "$v: no $k"
	done
done
# dscp and ttl as the responder saw them on the wire (ECN bits masked).
[ $(( $(summ icmp_tos) & 252 )) -eq $((46 << 2)) ] ||
	fail "ICMP TOS $(summ icmp_tos), not DSCP 46"
[ $(( $(summ icmp6_tclass) & 252 )) -eq $((46 << 2)) ] ||
	fail "ICMPv6 traffic class $(summ icmp6_tclass), not DSCP 46"
[ "$(summ icmp_ttl)" -eq 33 ] && [ "$(summ icmp6_hops)" -eq 33 ] ||
	fail "TTL $(summ icmp_ttl), hop limit $(summ icmp6_hops), not 33"
[ $(( $(summ tcp_tos) & 252 )) -eq $((10 << 2)) ] ||
	fail "TCP TOS $(summ tcp_tos), not DSCP 10"
# One ping_sample per reply, each at its own time.
ns=$(grep -c '^ping_sample,.*target=198\.18\.0\.2 ' "$T/out")
[ "$ns" -eq "$(field received "$p4")" ] ||
	fail "$ns samples for $(field received "$p4") replies"
nu=$(grep '^ping_sample,.*target=198\.18\.0\.2 ' "$T/out" | awk '{ print $3 }' | sort -u | wc -l)
[ "$nu" -eq "$ns" ] || fail "samples share timestamps ($nu distinct of $ns)"

# The dead address and the bad name.
[ "$(field loss_pct "$dead")" = 100 ] || fail "dead: $dead"
[ "$(sfield result "$dead")" = timeout ] || fail "dead: $dead"
[ "$(sfield result "$dns")" = dns_error ] || fail "dns: $dns"
techo=$(line tcp 198.18.1.1)
[ "$(sfield result "$techo")" = timeout ] || fail "tcp dead: $techo"
# Whole run: 99 * 0.05 + 1 s of schedule, well within the 30 s timeout.
awk -v a="$s0" -v b="$s1" 'BEGIN { exit !(b - a < 15) }' ||
	fail "the run took $(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }') s"
ok "ping v4/v6 and tcp echo match the responder: $(echo "$p4" | cut -d' ' -f2)"
