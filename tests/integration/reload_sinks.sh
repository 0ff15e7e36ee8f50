#!/bin/bash
# A reload whose new sink cannot start keeps the running configuration
# whole: the sinks it kept go on receiving points (they were stopped once,
# leaving the daemon writing to sinks that no longer existed).
. "$(dirname "$0")/lib.sh"

out="$T/keep.lp" log="$T/qosd.log" conf="$T/qosd.conf"
write_conf() {	# write_conf EXTRA_SINK
	cat >"$conf" <<CONF
agent: { id = "rs"; };
daemon: { self_interval = 0; realtime = false; };
defaults: { interval = 1; timeout = 0.9; splay = 0; };
sinks = ( { name = "keep"; type = "file"; path = "$out"; }$1 );
jobs = ( { name = "tick"; collector = "exec"; command = [ "/bin/echo", "tick v=1i" ]; } );
CONF
}
write_conf ""
"$QOSD" --config "$conf" 2>"$log" &
qpid=$!
track_pid "$qpid"
ticks() { local n; n=$(count_lines '^tick,' "$out"); echo "${n:-0}"; }
more_ticks() { [ "$(ticks)" -gt "$1" ]; }
wait_for 10 more_ticks 0 || fail "no ticks: $(cat "$log")"
# The new sink's directory does not exist: its start fails at reload.
write_conf ", { name = \"new\"; type = \"file\"; path = \"$T/no/such/dir/x.lp\"; }"
kill -HUP "$qpid"
wait_for 5 grep -q 'reload failed, the running configuration stays' "$log" ||
	fail "reload did not fail: $(cat "$log")"
grep -q 'sink new: cannot open' "$log" || fail "no reason given: $(cat "$log")"
n=$(ticks)
wait_for 5 more_ticks "$((n + 1))" || fail "the kept sink gets nothing after the failed reload: $(tail -3 "$log")"
kill -0 "$qpid" || fail "the daemon died"
ok "failed reload: the kept sink still receives points ($n, then more)"
write_conf ""
kill -HUP "$qpid"
wait_for 5 grep -q 'configuration reloaded' "$log" || fail "no reload: $(cat "$log")"
n=$(ticks)
wait_for 5 more_ticks "$n" || fail "no points after the good reload"
kill -TERM "$qpid"
wait "$qpid" || fail "exit $?: $(tail -3 "$log")"
ok "a good reload after it works, and the daemon stops clean"
