#!/bin/bash
# The control API with real measurements: a daemon in a network namespace
# whose peer answers ICMP echo with a known delay (tests/tools/responder:
# +20 ms, no jitter, no loss); a ping job run now and an ad-hoc ping probe
# return, by id, points whose figures are the responder's (rtt_avg 20 +-
# 2 ms over the link, no loss, as many echoes as asked); qosctl --wait
# prints them; a probe to an address outside control.targets is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ping_lib.bash"
command -v jq >/dev/null || skip "jq missing"
netns_pair
link=$(ip netns exec "$NSA" ping -q -c 5 -i 0.01 198.18.0.2 2>/dev/null |
	sed -nE 's|.*= [0-9.]+/([0-9.]+)/.*|\1|p')
warm_links
ip netns exec "$NSB" sysctl -qw net.ipv4.icmp_echo_ignore_all=1
start_responder --icmp --delay 20 --jitter 0 --drop 0 --seed 1
SOCK="$T/control"
cat >"$T/q.conf" <<CONF
agent: { id = "ns"; };
daemon: { realtime = false; };
sinks = ( { type = "file"; path = "$T/out.lp"; } );
control = { socket = "$SOCK"; socket_group = ""; allow_probes = true;
  collectors = [ "ping" ]; targets = [ "198.18.0.0/24" ]; };
jobs = ( { name = "gw"; collector = "ping"; interval = 3600; splay = 0;
  targets = [ "198.18.0.2" ]; count = 20; ping_interval = 0.05;
  ping_timeout = 1.0; } );
CONF
ip netns exec "$NSA" "$QOSD" --config "$T/q.conf" 2>"$T/log" &
qpid=$!
track_pid "$qpid"
wait_for 10 test -S "$SOCK" || fail "no control socket: $(cat "$T/log")"
# check_ping NAME SENT: the result's ping point against the responder.
check_ping() {
	local p avg loss sent
	p=$(jq -c '.points[] | select(.measurement == "ping" and .tags.target == "198.18.0.2")' <<<"$BODY")
	[ -n "$p" ] || fail "$1: no ping point: $BODY"
	# The median, not the mean: the responder is a userspace process on
	# a shared machine, and one late echo moves the mean by milliseconds.
	avg=$(jq -r .fields.rtt_p50_ms <<<"$p") loss=$(jq -r .fields.loss_pct <<<"$p")
	sent=$(jq -r .fields.sent <<<"$p")
	[ "$(jq -r .fields.result <<<"$p")" = ok ] || fail "$1: $p"
	[ "$sent" = "$2" ] && [ "$loss" = 0 ] || fail "$1: sent $sent loss $loss: $p"
	awk -v a="$avg" -v l="${link:-0}" 'BEGIN { exit !(a >= 18 + l && a <= 22 + l) }' ||
		fail "$1: rtt_p50_ms $avg, the responder adds 20 over the link's ${link:-0}: $p"
	[ "$(jq -r .tags.request <<<"$p")" = "$3" ] || fail "$1: request tag: $p"
	echo "$1: rtt_p50_ms=$avg sent=$sent loss_pct=$loss"
}

call POST /v1/jobs/gw/run '{"id":"gw-now"}'
[ "$CODE" = 202 ] || fail "run: $CODE $BODY"
wait_for 20 eval 'call GET /v1/results/gw-now; [ "$(jqb .state)" = done ]' || fail "gw-now: $BODY"
check_ping gw-now 20 gw-now
[ "$(jqb '.points[0].tags.job')" = gw ] || fail "job tag: $BODY"
ok "run now of ping job gw: 20 echoes, no loss, rtt as the responder's delay"

call POST /v1/probes '{"collector":"ping","settings":{"targets":["198.18.0.2"],"count":10,"ping_interval":0.05},"id":"adhoc"}'
[ "$CODE" = 202 ] || fail "probe: $CODE $BODY"
wait_for 20 eval 'call GET /v1/results/adhoc; [ "$(jqb .state)" = done ]' || fail "adhoc: $BODY"
check_ping adhoc 10 adhoc
ok "ad-hoc ping probe: 10 echoes, no loss, rtt as the responder's delay"

"$BUILD/qosctl" -s "$SOCK" probe ping targets=198.18.0.2 count=5 ping_interval=0.05 --wait >"$T/w"; rc=$?
[ "$rc" = 0 ] && grep -q '^  ping,.*agent=ns,.*target=198.18.0.2 sent=5,received=5,' "$T/w" || fail "qosctl: $rc $(cat "$T/w")"
call POST /v1/probes '{"collector":"ping","settings":{"targets":["198.18.1.1"]}}'
[ "$CODE" = 403 ] || fail "outside the allow-list: $CODE $BODY"
call POST /v1/probes '{"collector":"ping","settings":{"targets":["198.18.0.2"],"count":0}}'
[ "$CODE" = 422 ] && jqb .error | grep -q '^settings.count: ' || fail "ping's own check: $CODE $BODY"
ok "qosctl probe --wait prints the points; 403 outside 198.18.0.0/24; 422: $(jqb .error)"
stop_responder
[ "$(summ icmp_requests)" = 35 ] || fail "the responder saw $(summ icmp_requests) requests, 20 + 10 + 5 were asked"
ok "the responder saw the 35 echoes asked, no more"
