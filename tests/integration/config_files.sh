#!/bin/bash
# Configuration files as qosd reads them: @include relative to the file
# that includes it, refused with FILE:LINE when it names a directory, a
# FIFO (without hanging), a missing file or itself; a NUL byte refused;
# drop-ins in conf.d/ beside the main file, in name order, whose jobs and
# sinks join the main file's, with errors in the right file; a SIGHUP
# with a broken include keeps the daemon and its configuration.
. "$(dirname "$0")/lib.sh"

d="$T/etc" out="$T/out.lp"
mkdir -p "$d/parts/more"
check() {	# check EXPECT_RC EXPECT_TEXT: --check-config of $d/qosd.conf
	local rc
	timeout 10 "$QOSD" --check-config --config "$d/qosd.conf" >"$T/err" 2>&1
	rc=$?
	[ "$rc" -eq "$1" ] || fail "exit $rc, not $1: $(cat "$T/err")"
	[ -z "$2" ] || grep -qF -- "$2" "$T/err" || fail "expected \"$2\", got: $(cat "$T/err")"
}
cat >"$d/qosd.conf" <<CONF
agent: { id = "cf"; };
defaults: { interval = 1; timeout = 0.9; splay = 0; };
sinks = ( { type = "file"; path = "$out"; } );
@include "parts/jobs.conf"
CONF
# A relative include inside parts/ names a file beside it, not beside the
# main file, nor in the working directory.
cat >"$d/parts/jobs.conf" <<'CONF'
jobs = (
@include "more/one.conf"
);
CONF
echo '{ name = "one"; collector = "exec"; command = [ "/bin/echo", "one v=1i" ]; }' >"$d/parts/more/one.conf"
(cd / && check 0 "")
ok "includes nest, each relative to the file that includes it"

echo '{ name = "one"; collector = "exec"; interval = "x"; command = [ "/bin/true" ]; }' >"$d/parts/more/one.conf"
check 78 "$d/parts/more/one.conf:1: jobs.one.interval: expected a number"
ok "an error in an included file names that file and its line"

mkdir "$d/parts/more/dir.conf"
sed -i 's|more/one.conf|more/dir.conf|' "$d/parts/jobs.conf"
check 78 "$d/parts/jobs.conf:2: @include \"$d/parts/more/dir.conf\": a directory, not a configuration file"
mkfifo "$d/parts/more/fifo.conf"
sed -i 's|more/dir.conf|more/fifo.conf|' "$d/parts/jobs.conf"
check 78 "@include \"$d/parts/more/fifo.conf\": a FIFO, not a configuration file"
sed -i 's|more/fifo.conf|more/none.conf|' "$d/parts/jobs.conf"
check 78 "$d/parts/jobs.conf:2: @include \"$d/parts/more/none.conf\": cannot open: No such file or directory"
sed -i 's|more/none.conf|../parts/jobs.conf|' "$d/parts/jobs.conf"
check 78 "it includes itself"
sed -i 's|^@include.*|@include "more/one.conf" // a comment|' "$d/parts/jobs.conf"
check 78 "$d/parts/jobs.conf:2: @include: expected @include \"PATH\" alone on its line"
ok "a directory, a FIFO (no hang), a missing file, a cycle, a malformed line: FILE:LINE"

printf 'agent: { id = "a\0b"; };\n' >"$d/qosd.conf"
check 78 "$d/qosd.conf:1: a NUL byte"
ok "a NUL byte is an error, not cut off"

# Drop-ins: conf.d/*.conf in name order join the main file's jobs and sinks.
cat >"$d/qosd.conf" <<CONF
agent: { id = "cf"; };
daemon: { realtime = false; self_interval = 0; state_dir = "$T/state"; };
defaults: { interval = 1; timeout = 0.9; splay = 0; };
jobs = ( { name = "main"; collector = "exec"; command = [ "/bin/echo", "main v=1i" ]; } );
CONF
mkdir "$d/conf.d"
cat >"$d/conf.d/00-sink.conf" <<CONF
sinks = ( { type = "file"; path = "$out"; },
  { name = "db"; type = "influxdb"; url = "http://127.0.0.1:9"; database = "x"; } );
CONF
echo 'jobs = ( { name = "b"; collector = "exec"; command = [ "/bin/echo", "b v=1i" ]; } );' >"$d/conf.d/20-b.conf"
echo 'jobs = ( { name = "a"; collector = "exec"; command = [ "/bin/echo", "a v=1i" ]; } );' >"$d/conf.d/10-a.conf"
echo 'not even libconfig' >"$d/conf.d/README"
echo 'jobs = ( broken' >"$d/conf.d/.hidden.conf"
check 0 ""
echo 'jobs = ( { name = "main"; collector = "exec"; command = [ "/bin/true" ]; } );' >"$d/conf.d/30-dup.conf"
check 78 "$d/conf.d/30-dup.conf:1: jobs.main.name: duplicate job name \"main\": $d/qosd.conf:4 already has a job of that name"
rm "$d/conf.d/30-dup.conf"
echo 'agent: { id = "other"; };' >"$d/conf.d/40-agent.conf"
check 78 "$d/conf.d/40-agent.conf:1: agent: not in a drop-in: agent, daemon and defaults are set in $d/qosd.conf; a drop-in adds jobs and sinks"
rm "$d/conf.d/40-agent.conf"
ok "drop-ins: jobs and sinks merged, duplicates and misplaced settings named in their file"

"$QOSD" --once --config "$d/qosd.conf" >"$T/once" 2>"$T/once.err" || fail "--once: $(cat "$T/once.err")"
[ "$(grep -c ' v=1i' "$T/once")" -eq 3 ] || fail "--once ran: $(cat "$T/once")"
"$QOSD" --config "$d/qosd.conf" 2>"$T/log" &
qpid=$!
track_pid "$qpid"
wait_for 5 grep -qs '^b,' "$out" || fail "no points from the drop-in's job: $(cat "$T/log")"
# A drop-in's influxdb sink spools under the main file's state_dir.
[ -d "$T/state/spool/db/ready" ] || fail "the drop-in's spool is not under daemon.state_dir: $(ls -R "$T/state" 2>&1)"
# A reload that meets a directory include keeps the daemon and its jobs.
echo '@include "../parts"' >>"$d/conf.d/20-b.conf"
kill -HUP "$qpid"
wait_for 5 grep -q 'reload failed, the running configuration stays' "$T/log" || fail "no failed reload: $(cat "$T/log")"
grep -q '20-b.conf:2: @include .*parts": a directory' "$T/log" || fail "reason: $(cat "$T/log")"
n=$(grep -c '^a,' "$out")
sleep 2
kill -0 "$qpid" || fail "the daemon died"
[ "$(grep -c '^a,' "$out")" -gt "$n" ] || fail "jobs stopped after the failed reload"
ok "a drop-in's sink spools under the main file's state_dir"
ok "a SIGHUP meeting a directory include: reload refused with FILE:LINE, the daemon runs on"

# Jobs that can never finish in the timeout they get (their own or the
# inherited defaults.timeout) fail at --check-config.
fit() {	# fit EXPECT_RC EXPECT_TEXT JOB
	cat >"$T/fit.conf" <<CONF
defaults: { interval = 60; timeout = 5; };
sinks = ( { type = "file"; path = "-"; } );
jobs = ( $3 );
CONF
	"$QOSD" --check-config --config "$T/fit.conf" >"$T/err" 2>&1
	rc=$?
	[ $rc -eq "$1" ] || fail "exit $rc, not $1, for $3: $(cat "$T/err")"
	[ -z "$2" ] || grep -qF -- "$2" "$T/err" || fail "expected \"$2\": $(cat "$T/err")"
}
fit 78 'fit.conf:3: jobs.bw.timeout: 3 s is too short for 2 tests of omit + duration = 1 s: give at least 6 s' \
    '{ name = "bw"; collector = "iperf"; server = "127.0.0.1"; direction = "both"; duration = 1; timeout = 3; }'
fit 78 'fit.conf:3: jobs.bw: 5 s (the timeout it inherits) is too short for 2 tests of omit + duration = 3 s' \
    '{ name = "bw"; collector = "iperf"; server = "127.0.0.1"; direction = "both"; duration = 3; }'
fit 0 '' '{ name = "bw"; collector = "iperf"; server = "127.0.0.1"; direction = "both"; duration = 3; timeout = 10; }'
fit 78 'jobs.gw: 5 probes take 11 s ((count - 1) x ping_interval + ping_timeout), more than the run'"'"'s timeout of 5 s' \
    '{ name = "gw"; collector = "ping"; targets = [ "127.0.0.1" ]; ping_interval = 2; ping_timeout = 3; }'
fit 0 '' '{ name = "gw"; collector = "ping"; targets = [ "127.0.0.1" ]; }'
fit 78 'jobs.e: 10 probes take 12 s' \
    '{ name = "e"; collector = "tcp"; targets = [ "127.0.0.1" ]; port = 7; mode = "echo"; count = 10; probe_interval = 1; probe_timeout = 3; }'
fit 78 'jobs.web.request_timeout: request_timeout (8 s) is longer than the run'"'"'s timeout of 5 s' \
    '{ name = "web"; collector = "http"; url = "http://127.0.0.1/"; request_timeout = 8; }'
fit 0 '' '{ name = "web"; collector = "http"; url = "http://127.0.0.1/"; request_timeout = 4; }'
fit 0 '' '{ name = "web"; collector = "http"; url = "http://127.0.0.1/"; }'
ok "jobs that cannot fit their run's timeout (own or inherited) fail at --check-config"
