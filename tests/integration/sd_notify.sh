#!/bin/bash
# The systemd notification protocol, without systemd: READY=1 once
# started, RELOADING=1 then READY=1 around a reload, WATCHDOG=1 at half
# of WATCHDOG_USEC, STOPPING=1 at SIGTERM.
. "$(dirname "$0")/lib.sh"
sock="$T/notify" log="$T/qosd.log"
"$BUILD/tools/notify_listen" "$sock" 8 >"$T/msgs" &
track_pid $!
wait_for 5 test -S "$sock" || fail "listener did not start"
cat >"$T/c.conf" <<CONF
daemon: { self_interval = 0; };
sinks = ( { type = "file"; path = "$T/out.lp"; } );
jobs = ( { name = "e"; collector = "exec"; interval = 1;
           command = [ "/usr/bin/printf", "m v=1i\\\\n" ]; } );
CONF
NOTIFY_SOCKET="$sock" WATCHDOG_USEC=400000 "$QOSD" --config "$T/c.conf" 2>"$log" &
qpid=$!
track_pid "$qpid"
wait_for 5 grep -q '^READY=1' "$T/msgs" || fail "no READY=1: $(cat "$T/msgs")"
sleep 1.5
kill -HUP "$qpid"
wait_for 5 grep -q 'RELOADING=1' "$T/msgs" || fail "no RELOADING=1"
sleep 0.5
kill -TERM "$qpid"
wait "$qpid" || fail "exit status $?"
sleep 0.2
grep -q 'STOPPING=1' "$T/msgs" || fail "no STOPPING=1"
[ "$(grep -c '^READY=1' "$T/msgs")" -ge 2 ] || fail "no READY=1 after the reload: $(cat "$T/msgs")"
awk '/RELOADING=1/ { r = NR } /^READY=1/ && r && NR > r { ok = 1 } END { exit !ok }' "$T/msgs" ||
	fail "READY=1 does not follow RELOADING=1"
grep -q 'RELOADING=1 MONOTONIC_USEC=[0-9]' "$T/msgs" || fail "RELOADING=1 without MONOTONIC_USEC"
w=$(grep -c '^WATCHDOG=1' "$T/msgs")
[ "$w" -ge 4 ] || fail "only $w WATCHDOG=1 in about 2 s at WATCHDOG_USEC=400 ms"
ok "READY, RELOADING+READY, $w WATCHDOG, STOPPING"
