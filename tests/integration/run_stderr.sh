#!/bin/bash
# What runs print on stderr goes through the daemon: prefixed
# "collector[job]: ", control characters escaped, at the priority the
# run's own log line says (plain text: warning), at most 20 lines a run
# and a summary of the rest: 200,000 lines with ESC and CR make a handful
# of log lines, and the run's points still arrive.  Runs see none of the
# daemon's systemd environment (NOTIFY_SOCKET, WATCHDOG_*, credentials).
. "$(dirname "$0")/lib.sh"

out="$T/out.lp" log="$T/qosd.log" conf="$T/qosd.conf"
mkdir -p "$T/creds"
echo secret >"$T/creds/token"
cat >"$conf" <<CONF
agent: { id = "se"; };
daemon: { self_interval = 0; realtime = false; };
defaults: { interval = 2; timeout = 1.9; splay = 0; };
sinks = ( { type = "file"; path = "$out"; } );
jobs = (
  { name = "noisy"; collector = "exec"; max_output = "64M"; command = [ "/bin/sh", "-c",
    "printf 'red \\\\033[31malert\\\\r\\\\n' >&2; yes 'noise line' | head -n 200000 >&2; echo m v=1i" ]; },
  { name = "gone"; collector = "exec"; command = [ "/nonexistent/probe" ]; },
  { name = "creds"; collector = "exec"; command = [ "/bin/sh", "-c",
    "if cat $T/creds/token >/dev/null 2>&1; then echo creds read=true; else echo creds read=false; fi; ls $T/creds >/dev/null && echo creds listed=true" ]; },
  { name = "link"; collector = "exec"; command = [ "/bin/sh", "-c",
    "mkdir -p $T/mv/a $T/mv/b; echo x >$T/mv/a/f; rm -f $T/mv/b/f; if ln $T/mv/a/f $T/mv/b/f; then echo link ok=true; else echo link ok=false; fi" ]; },
  { name = "env"; collector = "exec"; command = [ "/bin/sh", "-c",
    "echo env,notify=\\\\\\"\$NOTIFY_SOCKET\\\\\\",wd=\\\\\\"\$WATCHDOG_USEC\\\\\\",creds=\\\\\\"\$CREDENTIALS_DIRECTORY\\\\\\" v=1i" ]; }
);
CONF
"$QOSD" --check-config --config "$conf" || fail "config invalid"
: >"$log"
# stderr is "the journal": messages carry <N> priority prefixes.
JOURNAL_STREAM=$(stat -c '%d:%i' "$log") NOTIFY_SOCKET="$T/notify" \
    WATCHDOG_USEC=30000000 WATCHDOG_PID=1 CREDENTIALS_DIRECTORY="$T/creds" \
    "$QOSD" --config "$conf" 2>>"$log" &
qpid=$!
track_pid "$qpid"
wait_for 10 grep -qs '^m,.*job=noisy' "$out" || fail "no point from noisy: $(tail -5 "$log")"
wait_for 5 grep -q 'more lines on stderr suppressed' "$log" || fail "no summary: $(tail -5 "$log")"
kill -TERM "$qpid"
wait "$qpid"

grep -qF '<4>exec[noisy]: red \x1b[31malert\x0d' "$log" || fail "not escaped and prefixed: $(grep -m3 noisy "$log")"
n=$(grep -c 'exec\[noisy\]: noise line' "$log")
[ "$n" -le 20 ] || fail "$n noise lines logged for one run"
grep -q 'exec\[noisy\]: [0-9]* more lines on stderr suppressed' "$log" || fail "no per-run summary"
[ "$(wc -l <"$log")" -lt 200 ] || fail "$(wc -l <"$log") log lines"
! grep -q $'\x1b' "$log" || fail "a raw ESC reached the log"
ok "200,000 stderr lines: $(wc -l <"$log") log lines, escaped, prefixed, summed up"

grep -qF '<3>exec[gone]: cannot run "/nonexistent/probe": No such file or directory' "$log" ||
	fail "the run's own error: $(grep gone "$log" | head -3)"
! grep -q 'exec\[gone\]: exec\[gone\]' "$log" || fail "prefixed twice"
ok "a run's own log line keeps its priority (err) and its prefix, once"

line=$(grep -m1 '^env,' "$out") || fail "no env point"
# Tags notify, wd, creds hold the values quoted: "" when unset.
echo "$line" | grep -q '^env,agent=se,creds="",job=env,notify="",wd="" ' ||
	fail "a run saw the daemon's environment: $line"
ok "runs see no NOTIFY_SOCKET, WATCHDOG_* or CREDENTIALS_DIRECTORY: $line"

# The credentials directory, readable by the service user, is hidden from
# runs (Landlock in the spawner): a run that knows the path cannot read.
grep -q '^creds,.* read=false' "$out" || fail "a run read the credentials: $(grep '^creds' "$out")"
grep -q '^creds,.* listed=true' "$out" || fail "listing directories broke: $(grep '^creds' "$out")"
! grep -q 'cannot hide' "$log" || fail "$(grep 'cannot hide' "$log")"
ok "a run cannot read the credentials directory (it may list it)"
# Hiding takes nothing else away: Landlock denies linking or renaming a
# file into another directory unless the rules allow it (the writer moves
# segments into ready/ so).
grep -q '^link,.* ok=true' "$out" || fail "a run cannot link a file into another directory: $(grep '^link' "$out") $(grep 'link' "$log" | head -3)"
ok "a run links a file into another directory"
