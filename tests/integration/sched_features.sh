#!/bin/bash
# Scheduler features: exclusive groups never overlap, the child cap holds,
# runs drop every capability and priority (under the unit's system call
# filter too), --once and --once --job print line protocol and exit, and
# --check-config refuses a plugin built for another ABI.
. "$(dirname "$0")/lib.sh"

out="$T/out.lp" log="$T/qosd.log" conf="$T/qosd.conf"
# Each run prints its own start and end (ms) so overlap is visible.
span='s=$(date +%s%3N); sleep 0.4; e=$(date +%s%3N); echo span,g=$0 s=${s}i,e=${e}i'
cat >"$conf" <<CONF
agent: { id = "feat"; };
daemon: { self_interval = 1; max_children = 2; };
defaults: { interval = 1; timeout = 0.9; splay = 0; };
sinks = ( { type = "file"; path = "$out"; } );
jobs = (
  { name = "x1"; collector = "exec"; exclusive = "bw"; command = [ "/bin/sh", "-c", "$span", "x" ]; },
  { name = "x2"; collector = "exec"; exclusive = "bw"; command = [ "/bin/sh", "-c", "$span", "x" ]; },
  { name = "c1"; collector = "exec"; command = [ "/bin/sh", "-c", "$span", "c" ]; },
  { name = "c2"; collector = "exec"; command = [ "/bin/sh", "-c", "$span", "c" ]; },
  { name = "c3"; collector = "exec"; command = [ "/bin/sh", "-c", "$span", "c" ]; },
  { name = "web"; collector = "http"; interval = 5; timeout = 2;
    url = "http://127.0.0.1:9/"; },
  { name = "prio"; collector = "exec";
    command = [ "/bin/sh", "-c", "echo prio,n=\$(nice),pol=\$(chrt -p \$\$ | awk '/policy/ {print \$NF}'),rtprio=\$(awk '/Max realtime priority/ {print \$4}' /proc/self/limits) v=1i" ]; },
  { name = "caps"; collector = "exec";
    command = [ "/bin/sh", "-c", "echo caps,eff=\$(awk '/CapEff/ {print \$2}' /proc/self/status) v=1i" ]; }
);
CONF
"$QOSD" --check-config --config "$conf" || fail "config invalid"
# At Nice=-5 as the systemd unit starts it; runs put themselves back at 0.
nice -n -5 "$QOSD" --config "$conf" 2>"$log" &
qpid=$!
track_pid "$qpid"
sleep 5.5
# daemon.realtime (on by default): the daemon and its spawner at
# SCHED_FIFO 1 (root may); every run back at SCHED_OTHER (checked below).
grep -q 'scheduling at SCHED_FIFO priority 1' "$log" || fail "no real-time scheduling: $(cat "$log")"
chrt -p "$qpid" | grep -q 'SCHED_FIFO' || fail "daemon not SCHED_FIFO: $(chrt -p "$qpid")"
# The daemon maps no collector's libraries; a spawner per collector (exec,
# http) maps its own: the http one libcurl, the exec one no libcurl (its
# runs' forks do not copy it).
if grep -q libcurl "/proc/$qpid/maps"; then fail "the daemon maps libcurl"; fi
sps=$(pgrep -P "$qpid" -x qosd-spawner)
[ "$(echo $sps | wc -w)" = 2 ] || fail "want 2 spawners (exec, http), found: $sps"
hsp= esp=
for sp in $sps; do
	grep -q '/http\.so$' "/proc/$sp/maps" && hsp=$sp
	grep -q '/exec\.so$' "/proc/$sp/maps" && esp=$sp
	chrt -p "$sp" | grep -q 'SCHED_FIFO' || fail "spawner $sp not SCHED_FIFO: $(chrt -p "$sp")"
done
[ -n "$hsp" ] && [ -n "$esp" ] && [ "$hsp" != "$esp" ] ||
	fail "no spawner of its own for http ($hsp) and exec ($esp)"
grep -q libcurl "/proc/$hsp/maps" || fail "the http spawner has no libcurl: an http run could not work"
if grep -q -e libcurl -e '/http\.so$' "/proc/$esp/maps"; then
	fail "the exec spawner maps libcurl or http.so: $(grep -e libcurl -e http.so "/proc/$esp/maps" | head -3)"
fi
wr=$(pgrep -P "$qpid" -x qosd-writer | head -1)
[ -n "$wr" ] || fail "no writer process for the file sink"
chrt -p "$wr" | grep -q 'SCHED_OTHER' || fail "writer not SCHED_OTHER: $(chrt -p "$wr")"
ok "daemon and spawner SCHED_FIFO 1, the sink's writer SCHED_OTHER"
# web's first run: at most 5 s in (interval 5, aligned), and it may wait
# for one of the 2 slots the 1 s exec jobs share (max_children).
wait_for 15 grep -q '^http,.*job=web.*result="refused"' "$out" ||
	fail "http run did not work after the daemon let go of its plugin: $(grep -c '^qosd_job,.*job=web' "$out") web runs"
ok "daemon maps no libcurl; the http spawner does, the exec one not; http runs work"
kill -TERM "$qpid"; wait "$qpid" || fail "exit status $?"

# Exclusive group bw: no two x spans overlap.
grep '^span,.*g=x' "$out" | sed -E 's/.*s=([0-9]+)i,e=([0-9]+)i.*/\1 \2/' | sort -n >"$T/x"
[ "$(wc -l <"$T/x")" -ge 4 ] || fail "too few exclusive runs: $(cat "$T/x")"
awk 'NR > 1 && $1 < pe { print "overlap: " ps "-" pe " and " $1 "-" $2; bad = 1 } { ps = $1; pe = $2 } END { exit bad }' "$T/x" ||
	fail "exclusive group runs overlapped"
ok "exclusive group: $(wc -l <"$T/x") runs, none overlapping"
# Waiting for the group is counted, and kept out of the lag percentiles.
grep -q '^qosd,.*runs_waited=[1-9]' "$out" || fail "no runs_waited in the self-metrics"
grep -q '^qosd_job,.*job=x[12] .*lag_us=[0-9]\{5,\}i' "$out" || fail "a waiting run's lag_us is not its wait"
p99=$(grep '^qosd,' "$out" | sed -n 's/.*lag_p99_us=\([0-9]*\)i.*/\1/p' | sort -n | tail -1)
[ -n "$p99" ] && [ "$p99" -lt 300000 ] || fail "lag_p99_us $p99 counts the waits"

# The cap: at no instant more than 2 runs (of all jobs) were alive.
grep '^span,' "$out" | sed -E 's/.*s=([0-9]+)i,e=([0-9]+)i.*/\1 1\n\2 -1/' | sort -n -k1,1 -k2,2 |
	awk '{ n += $2; if (n > m) m = n } END { print m }' >"$T/max"
[ "$(cat "$T/max")" -le 2 ] || fail "$(cat "$T/max") runs at once with max_children = 2"
grep -q 'result="skipped"' "$out" || fail "a saturated cap should skip runs"
ok "child cap: at most $(cat "$T/max") at once"

# Capabilities: none in a run (exec runs as root here).
grep -q '^caps,agent=feat,eff=0000000000000000,job=caps v=1i' "$out" || fail "run kept capabilities: $(grep -m1 '^caps' "$out")"
ok "runs hold no capabilities"
grep -q '^prio,agent=feat,job=prio,n=0,pol=SCHED_OTHER,rtprio=0 v=1i' "$out" || fail "a run kept the daemon's priority: $(grep -m1 '^prio' "$out")"
ok "runs at nice 0, SCHED_OTHER, RLIMIT_RTPRIO 0 under a daemon at -5 and SCHED_FIFO"

# Where real-time scheduling is refused (no CAP_SYS_NICE, no
# RLIMIT_RTPRIO), the daemon says so and runs on at its nice value.
chmod 0711 "$T"
mkdir -m 0777 "$T/nobody"
sed -e "s|$out|$T/nobody/out.lp|" -e 's/self_interval = 1;/self_interval = 1; realtime = true;/' "$conf" >"$T/nobody/qosd.conf"
chmod 0644 "$T/nobody/qosd.conf"
# (Under ASan: LeakSanitizer's tracer crashes in a process that changed
# its uid, a limit of LSan's; leaks are checked in every other run.)
ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$QOSD" --config "$T/nobody/qosd.conf" 2>"$T/nobody/log" &
npid=$!
track_pid "$npid"
wait_for 10 grep -q '^qosd_job,' "$T/nobody/out.lp" 2>/dev/null || fail "no runs without real-time scheduling: $(cat "$T/nobody/log")"
grep -q 'real-time scheduling refused (Operation not permitted): scheduling at nice 0' "$T/nobody/log" ||
	fail "refusal not reported: $(cat "$T/nobody/log")"
chrt -p "$npid" | grep -q SCHED_OTHER || fail "$(chrt -p "$npid")"
kill -TERM "$npid"; wait "$npid" || fail "unprivileged daemon exit status $?"
ok "real-time refused: reported, the daemon runs on at SCHED_OTHER"

# Under the unit's system call filter (tests/tools/unit_filter): of
# @resources only stepping down is allowed, and RestrictRealtime= refuses
# any real-time policy.
under_unit() {
	local name=$1 rt=$2
	shift 2
	mkdir -p "$T/$name"
	sed -e "s|$out|$T/$name/out.lp|" -e "s/self_interval = 1;/self_interval = 1; realtime = $rt;/" "$conf" >"$T/$name/qosd.conf"
	# (Under ASan: LeakSanitizer's tracer crashes under a seccomp
	# filter, as after a change of uid; the same config is checked for
	# leaks in the first run above.)
	ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
	"$@" "$QOSD" --config "$T/$name/qosd.conf" 2>"$T/$name/log" &
	upid=$!
	track_pid "$upid"
	wait_for 10 grep -q '^prio,' "$T/$name/out.lp" 2>/dev/null || fail "$name: no runs: $(cat "$T/$name/log")"
	upol=$(chrt -p "$upid" | head -1 | sed 's/.*: //')
	usp=$(pgrep -P "$upid" -x qosd-spawner | head -1)
	usp=$(chrt -p "$usp" | head -1 | sed 's/.*: //')
	uprio=$(grep -m1 '^prio,' "$T/$name/out.lp")
	kill -TERM "$upid"; wait "$upid" || fail "$name: exit status $?"
}
uf="$BUILD/tools/unit_filter"
# As the unit starts it: SCHED_FIFO 1, Nice=-5.
under_unit unit true chrt -f 1 nice -n -5 "$uf"
[ "$upol" = SCHED_FIFO ] && [ "$usp" = SCHED_FIFO ] || fail "under the unit: daemon $upol, spawner $usp"
case "$uprio" in *n=0,pol=SCHED_OTHER,rtprio=0\ *) ;; *) fail "under the unit, a run: $uprio" ;; esac
if grep -E 'refused|inherit' "$T/unit/log"; then fail "under the unit, a false complaint"; fi
ok "under the unit's filter: daemon and spawner SCHED_FIFO, runs SCHED_OTHER at nice 0, nothing refused"
# daemon.realtime = false under the unit: the daemon steps down itself.
under_unit off false chrt -f 1 nice -n -5 "$uf"
[ "$upol" = SCHED_OTHER ] || fail "realtime = false under the unit: daemon $upol"
grep -q 'real-time scheduling off (daemon.realtime)' "$T/off/log" || fail "no word of it: $(cat "$T/off/log")"
case "$uprio" in *n=0,pol=SCHED_OTHER,*) ;; *) fail "realtime = false, a run: $uprio" ;; esac
ok "daemon.realtime = false under the unit: the daemon at SCHED_OTHER, runs at nice 0"
# Real time refused (the drop-in CPUSchedulingPolicy=other, say).
under_unit other false chrt -o 0 nice -n -5 "$uf"
case "$uprio" in *n=0,pol=SCHED_OTHER,*) ;; *) fail "policy other, a run: $uprio" ;; esac
if grep -E 'refused|inherit' "$T/other/log"; then fail "policy other, a false complaint"; fi
ok "CPUSchedulingPolicy=other: runs at nice 0, no complaint"
# A filter that denies setpriority() too (all of @resources): runs keep
# -5, and the daemon says what to fix.
under_unit strict false nice -n -5 "$uf" -a
case "$uprio" in *n=-5,*) ;; *) fail "renice denied, yet a run at: $uprio" ;; esac
grep -q 'runs will inherit nice -5: setpriority() is refused here (Operation not permitted)' "$T/strict/log" ||
	fail "runs at nice -5 without a warning: $(cat "$T/strict/log")"
ok "renicing denied: runs at -5, and the log says how to fix it"

# --once: each job once, line protocol on stdout, then exit.
cat >"$T/once.conf" <<CONF
agent: { id = "once"; };
sinks = ( { type = "file"; path = "$T/never.lp"; } );
jobs = (
  { name = "a"; collector = "exec"; command = [ "/usr/bin/printf", "m v=1i\\n" ]; },
  { name = "b"; collector = "exec"; command = [ "/usr/bin/printf", "m v=2i 1700000000000000000\\n" ]; }
);
CONF
timeout 10 "$QOSD" --once --config "$T/once.conf" >"$T/once.out" 2>"$T/once.err" || fail "--once failed: $(cat "$T/once.err")"
grep -q '^m,agent=once,job=a v=1i [0-9]\{19\}$' "$T/once.out" || fail "--once output: $(cat "$T/once.out")"
grep -qx 'm,agent=once,job=b v=2i 1700000000000000000' "$T/once.out" || fail "--once kept no timestamp"
[ "$(wc -l <"$T/once.out")" -eq 2 ] || fail "--once printed more than the points: $(cat "$T/once.out")"
[ ! -s "$T/never.lp" ] || fail "--once wrote to the configured sinks"
timeout 10 "$QOSD" --once --job b --config "$T/once.conf" >"$T/one.out" || fail "--once --job failed"
[ "$(cat "$T/one.out")" = 'm,agent=once,job=b v=2i 1700000000000000000' ] || fail "--job b: $(cat "$T/one.out")"
"$QOSD" --once --job nope --config "$T/once.conf" 2>"$T/err"; rc=$?
[ $rc -eq 78 ] && grep -q 'no job named "nope"' "$T/err" || fail "--job nope: exit $rc, $(cat "$T/err")"
# Measured, with a result that is not ok: 2; a run that failed: 1.
sed -i 's|"m v=1i|"m result=\\"timeout\\",v=1i|' "$T/once.conf"
timeout 10 "$QOSD" --once --config "$T/once.conf" >"$T/once.out" 2>"$T/err"; rc=$?
[ $rc -eq 2 ] || fail "--once with a result not ok exited $rc: $(cat "$T/once.out" "$T/err")"
sed -i 's|result=\\"timeout\\"|result=\\"ok\\"|' "$T/once.conf"
timeout 10 "$QOSD" --once --config "$T/once.conf" >"$T/once.out" 2>"$T/err"; rc=$?
[ $rc -eq 0 ] || fail "--once, every result ok, exited $rc: $(cat "$T/once.out" "$T/err")"
sed -i 's|/usr/bin/printf", "m result|/bin/false", "m result|' "$T/once.conf"
timeout 10 "$QOSD" --once --config "$T/once.conf" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "--once with a failing run exited $rc"
ok "--once and --once --job; exit 0 all ok, 2 a result not ok, 1 a run failed"

# A run cannot forge qosd's own measurements.
cat >"$T/forge.conf" <<CONF
agent: { id = "forge"; };
sinks = ( { type = "file"; path = "-"; } );
jobs = ( { name = "f"; collector = "exec"; command = [ "/usr/bin/printf",
  "qosd_job,collector=exec result=\\"ok\\"\\nqosd runs_ok=5i\\nqosd_sink,sink=x sent=1i\\nreal v=1i\\n" ]; } );
CONF
timeout 10 "$QOSD" --once --config "$T/forge.conf" >"$T/forge.out" 2>"$T/forge.err"
grep -q '^real,' "$T/forge.out" || fail "the run's own point is missing: $(cat "$T/forge.out" "$T/forge.err")"
! grep -q '^qosd' "$T/forge.out" || fail "a forged point passed: $(cat "$T/forge.out")"
grep -q 'line rejected: measurement "qosd_job" is qosd.s own' "$T/forge.err" || fail "no reason logged: $(cat "$T/forge.err")"
ok "a run's qosd, qosd_job, qosd_sink lines are rejected"

# Usage errors are exit 64.
"$QOSD" --bogus 2>/dev/null; [ $? -eq 64 ] || fail "unknown option not exit 64"
"$QOSD" --job a 2>/dev/null; [ $? -eq 64 ] || fail "--job without --once not exit 64"
"$QOSD" --version | grep -q '^qosd [0-9]' || fail "--version"
ok "usage"

# A plugin built for another ABI is refused with a clear message.
cat >"$T/abi.conf" <<CONF
sinks = ( { type = "file"; path = "-"; } );
jobs = ( { name = "w"; collector = "wrongabi"; } );
CONF
"$QOSD" --check-config --plugin-dir "$BUILD/tests/plugins" --config "$T/abi.conf" 2>"$T/err"; rc=$?
[ $rc -eq 78 ] && grep -q 'built for collector ABI 3, this qosd needs ABI 2' "$T/err" || fail "wrong ABI: exit $rc, $(cat "$T/err")"
ok "wrong ABI refused"
