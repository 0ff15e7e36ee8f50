#!/bin/bash
# The daemon end to end with the exec collector and a file sink: faults in
# collectors (crash, hang, flood, garbage, a grandchild left behind) cost
# their run only; SIGHUP reloads, a broken config keeps the old one, a storm
# of SIGHUPs does no harm; SIGTERM stops cleanly with exit 0.
. "$(dirname "$0")/lib.sh"

out="$T/out.lp" log="$T/qosd.log" conf="$T/qosd.conf"
write_conf() {	# $1: extra job text
	cat >"$conf" <<CONF
agent: { id = "it-agent"; tags = { site = "lab"; }; };
daemon: { self_interval = 1; stop_grace = 2; };
defaults: { interval = 1; timeout = 1; splay = 1; };
sinks = ( { type = "file"; path = "$out"; } );
jobs = (
  { name = "ok"; collector = "exec"; tags = { role = "probe"; };
    command = [ "/usr/bin/printf", "probe value=1i\\n" ]; },
  { name = "crash"; collector = "exec";
    command = [ "/bin/sh", "-c", "kill -SEGV \$\$" ]; },
  { name = "hang"; collector = "exec"; interval = 2; timeout = 0.5;
    command = [ "/bin/sleep", "100" ]; },
  { name = "flood"; collector = "exec"; max_output = "1M"; interval = 2;
    command = [ "/bin/sh", "-c", "yes 'flood a=1i' | head -c 100000000" ]; },
  { name = "garbage"; collector = "exec";
    command = [ "/usr/bin/printf", "good a=1i\\nthis is not line protocol\\ngood a=2i\\n" ]; },
  { name = "orphan"; collector = "exec";
    command = [ "/bin/sh", "-c", "sleep 1000 & echo \$! >> $T/orphans; echo orphan a=1i" ]; }
  $1
);
CONF
}
write_conf ""
"$QOSD" --check-config --config "$conf" || fail "test config invalid"

"$QOSD" --config "$conf" 2>"$log" &
qpid=$!
track_pid "$qpid"
wait_for 10 grep -qs '^probe,' "$out" || fail "no probe point: $(cat "$log")"

# Each fault is a recorded run result, the daemon is fine.  Polled, not
# slept: a loaded machine only makes it slower.
expect() {	# what regexp
	wait_for 20 grep -q "$2" "$out" || fail "$1: no line matching $2"
}
expect "crash" '^qosd_job,.*job=crash.*result="crashed".*signal=11i'
expect "hang" '^qosd_job,.*job=hang.*result="timeout"'
expect "flood" '^qosd_job,.*job=flood.*result="overflow"'
expect "garbage" '^qosd_job,.*job=garbage.*rejected=1i'
expect "self-metrics" '^qosd,agent=it-agent,site=lab .*runs_crashed=[1-9]'
expect "sink self-metrics" '^qosd_sink,agent=it-agent,sink=file,site=lab,type=file sent='
kill -0 "$qpid" || fail "daemon died: $(tail "$log")"
good_lines() { [ "$(count_lines '^good,' "$out")" -ge 4 ]; }
wait_for 20 good_lines || fail "good lines of garbage job lost"
grep -q 'line rejected: .*"this is not line protocol"' "$log" || fail "no log line for the rejected line"
# Repeating failures are reported once, not once a run.
[ "$(count_lines 'exec\[crash\]: run crashed' "$log")" -eq 1 ] || fail "crash reports not rate-limited: $(grep -c crash "$log")"
[ "$(count_lines 'exec\[garbage\]: line rejected' "$log")" -eq 1 ] || fail "reject reports not rate-limited"
grep -qE 'exec\[hang\]: run timed out after [0-9.]+ s \(terminated\)' "$log" || fail "timeout not reported"
grep -q 'exec\[flood\]: run printed more than max_output allows' "$log" || fail "overflow not reported"
grep -q '^probe,agent=it-agent,job=ok,role=probe,site=lab value=1i [0-9]\{19\}$' "$out" || fail "tags not merged: $(grep -m1 '^probe' "$out")"
ok "faults recorded"

# Orphans left by the orphan job died with their run's process group.
sleep 0.5
while read -r p; do
	# The state read once: gone (no file) or a zombie both count as dead.
	st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
	if [ -n "$st" ] && [ "$st" != Z ]; then
		fail "grandchild $p of the orphan job still alive"
	fi
done <"$T/orphans"
ok "grandchildren killed ($(wc -l <"$T/orphans") checked)"

# The daemon's memory stays bounded however many 100 MB floods it reads:
# four more floods (one every 2 s) add less than 4 MB.
rss0=$(awk '/VmRSS/ {print $2}' "/proc/$qpid/status")
sleep 8
rss=$(awk '/VmRSS/ {print $2}' "/proc/$qpid/status")
[ $((rss - rss0)) -lt 4096 ] || fail "daemon RSS grew from $rss0 to $rss kB over four floods"
ok "daemon RSS ${rss0} kB, ${rss} kB four floods later"

# Phase: the ok job's probes land at the same offset in the second.
# Points are stamped on receipt, so a run's start-up delay adds noise; the
# least offset of the last few is the phase.
phase() { grep '^probe,' "$out" | tail -4 | awk '{ v = int(substr($NF, 11, 9) / 1000000); if (m == "" || v < m) m = v } END { print m }'; }
before=$(phase)

# A broken config on SIGHUP: the old one keeps running, the log says why.
write_conf ', { name = "bad"; collector = "exec"; command = [ "relative/path" ]; }'
kill -HUP "$qpid"
wait_for 5 grep -q 'reload failed, the running configuration stays' "$log" || fail "no reload failure logged"
grep -q "$conf:[0-9]*: jobs.bad.command: \"relative/path\" is not an absolute path" "$log" ||
	fail "reload failure without FILE:LINE: SETTING: $(tail -3 "$log")"
n0=$(count_lines '^probe,' "$out")
sleep 2.2
[ "$(count_lines '^probe,' "$out")" -gt "$n0" ] || fail "old config stopped after a failed reload"
ok "bad reload kept the old config"

# A good reload adds a job; the ok job keeps its phase.
write_conf ', { name = "added"; collector = "exec"; command = [ "/usr/bin/printf", "added a=1i\\n" ]; }'
kill -HUP "$qpid"
wait_for 5 grep -q 'configuration reloaded' "$log" || fail "reload not logged"
wait_for 5 grep -q '^added,' "$out" || fail "added job never ran"
sleep 2
sleep 2
after=$(phase)
d=$(( after > before ? after - before : before - after ))
[ "$d" -lt 100 ] || fail "phase moved across reload: ${before} ms -> ${after} ms into the second"
ok "phase kept across reload (${before} ms, ${after} ms)"

# A SIGHUP storm: 100 in about a second.
for _ in $(seq 100); do kill -HUP "$qpid"; sleep 0.01; done
sleep 1
kill -0 "$qpid" || fail "daemon died in the SIGHUP storm"
n0=$(count_lines '^probe,' "$out")
sleep 2.2
[ "$(count_lines '^probe,' "$out")" -gt "$n0" ] || fail "jobs stopped after the SIGHUP storm"
ok "SIGHUP storm survived"

# SIGTERM: exit 0 with a final flush.
kill -TERM "$qpid"
wait "$qpid"
rc=$?
[ $rc -eq 0 ] || fail "exit status $rc after SIGTERM: $(tail -3 "$log")"
grep -q 'stopped' "$log" || fail "no stop message"
if grep -qiE 'AddressSanitizer|runtime error' "$log"; then fail "sanitizer report: $(grep -m3 -iE 'AddressSanitizer|runtime error' "$log")"; fi
ok "clean stop"
