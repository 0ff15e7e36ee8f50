# ping_lib.bash: helpers of the ping and tcp tests (sourced after lib.sh;
# not a test itself, hence not .sh).
RESPONDER="$BUILD/tools/responder"

# start_responder ARGS...: the responder in $NSB, summary in $T/summary.
start_responder() {
	local rt=()
	[ -x "$RESPONDER" ] || fail "$RESPONDER missing: make tests"
	# At SCHED_FIFO 10 where allowed: its delays are the ground truth, and
	# at nice 0 a busy machine woke it 2-9 ms late for half the echoes of
	# one make check (control_netns: rtt_p50 22.7 ms for 20 ms).
	command -v chrt >/dev/null && chrt -f 10 true 2>/dev/null && rt=(chrt -f 10)
	ip netns exec "$NSB" "${rt[@]}" "$RESPONDER" --duration 120 \
		--summary "$T/summary" "$@" >"$T/responder.out" 2>&1 &
	RESPONDER_PID=$!
	track_pid "$RESPONDER_PID"
	wait_for 5 grep -q ready "$T/responder.out" ||
		fail "responder did not start: $(cat "$T/responder.out")"
}

# stop_responder: stop it and wait for its summary.
stop_responder() {
	kill -TERM "$RESPONDER_PID"
	wait "$RESPONDER_PID" 2>/dev/null
	[ -s "$T/summary" ] || fail "the responder wrote no summary"
}

# summ KEY: a figure of the responder's summary.
summ() { sed -n "s/^$1=//p" "$T/summary"; }
# field KEY LINE: a numeric field of a line-protocol line (i stripped).
field() { sed -nE "s/.*[ ,]$1=([-0-9.e+]+)i?([ ,].*|$)/\1/p" <<<"$2"; }
# sfield KEY LINE: a string field.
sfield() { sed -nE "s/.*[ ,]$1=\"([^\"]*)\".*/\1/p" <<<"$2"; }

# check_truth NAME LINE LINK_MS: a median RTT of +20 +- 2 ms over the link,
# 20 +- 8 % loss, jitter above 0.  The median, not the mean: the responder
# is a userspace process, and on a loaded machine a few late answers moved
# the mean of 100 to 29 ms while the median stayed at 20.
check_truth() {
	local avg loss jit
	avg=$(field rtt_p50_ms "$2") loss=$(field loss_pct "$2")
	jit=$(field jitter_ms "$2")
	[ -n "$avg" ] && [ -n "$loss" ] && [ -n "$jit" ] || fail "$1: $2"
	awk -v a="$avg" -v l="$3" 'BEGIN { exit !(a >= 18 + l && a <= 22 + l) }' ||
		fail "$1: rtt_p50_ms $avg, expected 20 +- 2 over the link's $3: $2"
	awk -v x="$loss" 'BEGIN { exit !(x >= 12 && x <= 28) }' ||
		fail "$1: loss_pct $loss, expected 20 +- 8"
	awk -v x="$jit" 'BEGIN { exit !(x > 0) }' || fail "$1: jitter_ms $jit"
	echo "$1: rtt_p50_ms=$avg loss_pct=$loss jitter_ms=$jit"
}

# warm_links: resolve the neighbours of the veth pair (ARP, IPv6 neighbour
# discovery) while the kernel still answers echo, so that the first probes
# of a test do not wait a second or so in a queue for them.
warm_links() {
	wait_for 5 ip netns exec "$NSA" ping -c 1 -W 1 198.18.0.2 >/dev/null &&
	wait_for 5 ip netns exec "$NSA" ping -6 -c 1 -W 1 2001:db8::2 \
		>/dev/null || fail "no traffic over the veth pair"
}
