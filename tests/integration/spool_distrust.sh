#!/bin/bash
# spool_distrust.sh (issue 15 item 4): the spool trusts nothing on disk.
#  (a) a symlink planted as a leftover segment, to a root-owned file with
#      a torn last line, and one in ready/: the target is untouched
#      (recovery would have cut it), nothing of it is sent, the refusals
#      are logged; the spool's own segments are delivered;
#  (b) the daemon as another user (nobody, setpriv): a leftover segment
#      that is a root-owned file others may write, and a symlink to one:
#      both refused and left alone, never truncated or sent;
#  (c) a symlink in rejected/: InfluxDB refuses a line, which is not
#      appended to the link's target; the log says why;
#  (d) a spool directory (or ready/, rejected/) its group may write, and
#      one owned by another user: the daemon exits 78 saying what to fix.
# The server is tests/tools/fake_influx, which records every request.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "planting root-owned files needs root"
FAKE="$BUILD/tools/fake_influx"
[ -x "$FAKE" ] || fail "$FAKE missing (make tests)"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${NOBODY[@]}" true || skip "setpriv cannot switch to nobody here"

# fake D [DEFAULT]: a fake InfluxDB recording into D; sets PORT.
fake() {
	mkdir -p "$1"
	"$FAKE" -d "$1" -D "${2:-ok}" 2>"$1.log" &
	track_pid $!
	wait_for 5 test -s "$1/port" || fail "fake_influx did not start"
	PORT=$(cat "$1/port")
}
# conf D: a configuration for a spool in D/spool, one exec job.
conf() {
	cat >"$1/qosd.conf" <<CONF
daemon: { state_dir = "$1/state"; self_interval = 0; realtime = false; };
sinks = (
	{ type = "influxdb"; name = "influx"; url = "http://127.0.0.1:$PORT";
	  api = 2; org = "o"; bucket = "b"; spool_dir = "$1/spool";
	  flush_interval = 0.2; backoff_max = 1; }
);
jobs = ( { name = "w"; collector = "exec"; interval = 0.5; timeout = 0.4;
	   command = [ "/bin/sh", "-c", "${2:-echo work v=1i}" ]; } );
CONF
}
# victim FILE: a root-owned file with a torn last line; its checksum.
victim() {
	printf 'victim,k=root v=1i 1700000000000000000\nvictim,k=root v=2i 1700000000000000001\ntorn v=' >"$1"
	chmod "${2:-644}" "$1"
	sha256sum "$1" | cut -d' ' -f1
}
untouched() { [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ] || fail "$1 was changed: $(od -c "$1" | tail -3)"; }
sent() { cat "$1"/req-*.body 2>/dev/null; }
run() {
	"$@" "$QOSD" --config "$D/qosd.conf" >"$D/qosd.log" 2>&1 &
	QPID=$!
	track_pid "$QPID"
}
stop() {
	kill -TERM "$QPID"
	wait_for 20 sh -c "! kill -0 $QPID 2>/dev/null" || fail "qosd did not stop"
	! grep -qiE 'AddressSanitizer|LeakSanitizer|runtime error' "$D/qosd.log" ||
		fail "sanitizer report: $(grep -m3 -iE 'Sanitizer|runtime error' "$D/qosd.log")"
}

# (a) As root: a leftover segment and a ready segment that are symlinks.
D=$T/a
fake "$D/fake"
conf "$D"
mkdir -p "$D/spool/ready"
chmod 700 "$D/spool"
sum=$(victim "$T/victim-a")
ln -s "$T/victim-a" "$D/spool/0000000000000001-1.lp"
ln -s "$T/victim-a" "$D/spool/ready/0000000000000000-1.lp"
echo 'leftover v=1i 1700000000000000002' >"$D/spool/0000000000000002-1.lp"
run
wait_for 10 grep -qs '^work' "$D/fake/stored.lp" || fail "(a) nothing delivered: $(tail -5 "$D/qosd.log")"
wait_for 10 grep -qs '^leftover' "$D/fake/stored.lp" || fail "(a) the real leftover was not delivered"
sleep 1
stop
untouched "$T/victim-a" "$sum"
! sent "$D/fake" | grep -q victim || fail "(a) the link's target was sent"
[ -L "$D/spool/0000000000000001-1.lp" ] && [ -L "$D/spool/ready/0000000000000000-1.lp" ] ||
	fail "(a) the links were not left alone: $(ls -l "$D/spool" "$D/spool/ready")"
grep -q '"'"$D"'/spool/0000000000000001-1.lp" is refused as a segment of a previous run: a symbolic link; left alone' "$D/qosd.log" ||
	fail "(a) the leftover link is not logged: $(grep -i refused "$D/qosd.log")"
grep -q 'ready/0000000000000000-1.lp is refused: a symbolic link; left alone, never sent' "$D/qosd.log" ||
	fail "(a) the link in ready/ is not logged: $(grep -i refused "$D/qosd.log")"
ok "(a) symlinks as a leftover and a ready segment: refused, logged, left alone; the target untouched, nothing of it sent"

# (b) As nobody: a root-owned leftover others may write, and a link to one.
D=$T/b
fake "$D/fake"
conf "$D"
mkdir -p "$D/spool/ready" "$D/state"
sum=$(victim "$T/victim-b" 666)
sum2=$(victim "$D/spool/0000000000000001-1.lp" 666)
ln -s "$T/victim-b" "$D/spool/0000000000000002-1.lp"
chown -R 65534:65534 "$D/spool" "$D/state"
chown 0:0 "$D/spool/0000000000000001-1.lp"
chmod 700 "$D/spool"
chmod 711 "$T" "$D"
chmod 644 "$D/qosd.conf"
run "${NOBODY[@]}"
wait_for 10 grep -qs '^work' "$D/fake/stored.lp" || fail "(b) nothing delivered: $(tail -5 "$D/qosd.log")"
sleep 1
stop
untouched "$T/victim-b" "$sum"
untouched "$D/spool/0000000000000001-1.lp" "$sum2"
! sent "$D/fake" | grep -q victim || fail "(b) a root-owned file was sent"
grep -q '0000000000000001-1.lp" is refused as a segment of a previous run: owned by uid 0, not 65534; left alone' "$D/qosd.log" ||
	fail "(b) the root-owned leftover is not logged: $(grep -i refused "$D/qosd.log")"
grep -q '0000000000000002-1.lp" is refused as a segment of a previous run: a symbolic link; left alone' "$D/qosd.log" ||
	fail "(b) the link is not logged: $(grep -i refused "$D/qosd.log")"
ok "(b) as nobody: a root-owned leftover (mode 0666) and a link to one, refused, untouched, not sent"

# (c) A symlink in rejected/ named as the ready segment whose line
# InfluxDB refuses.
D=$T/c
fake "$D/fake" bad
conf "$D"
mkdir -p "$D/spool/ready" "$D/spool/rejected"
chmod 700 "$D/spool"
printf 'work,t=BAD v=1i 1700000000000000000\nwork,t=good v=1i 1700000000000000001\n' \
	>"$D/spool/ready/0000000000000001-1.lp"
echo precious >"$T/victim-c"
sum=$(sha256sum "$T/victim-c" | cut -d' ' -f1)
ln -s "$T/victim-c" "$D/spool/rejected/0000000000000001-1.lp"
run
wait_for 10 grep -qs '^work,t=good' "$D/fake/stored.lp" || fail "(c) nothing delivered: $(tail -5 "$D/qosd.log")"
wait_for 10 grep -q 'refused 1 lines of segment "0000000000000001-1.lp", not kept: "'"$D"'/spool/rejected/0000000000000001-1.lp": a symbolic link: HTTP 400' "$D/qosd.log" ||
	fail "(c) a refusal into a symlink is not logged: $(grep -i 'refused' "$D/qosd.log" | tail -3)"
stop
untouched "$T/victim-c" "$sum"
[ -L "$D/spool/rejected/0000000000000001-1.lp" ] || fail "(c) the link went"
ok "(c) a symlink in rejected/: the refused line is not appended to its target; logged"

# (d) Directories others may write, or another user's: exit 78.
refused_dir() {
	local what=$1 want=$2 rc
	run
	wait_for 15 sh -c "! kill -0 $QPID 2>/dev/null" || fail "(d) $what: qosd runs"
	wait "$QPID"; rc=$?
	[ "$rc" = 78 ] || fail "(d) $what: exit $rc: $(tail -3 "$D/qosd.log")"
	grep -qF "$want" "$D/qosd.log" || fail "(d) $what: want $want: $(tail -3 "$D/qosd.log")"
	ok "(d) $what: exit 78, $(grep -F "$want" "$D/qosd.log" | head -1 | sed "s|$T/||g")"
}
D=$T/d
fake "$D/fake"
conf "$D"
mkdir -p "$D/spool/ready" "$D/spool/rejected"
chmod 770 "$D/spool"
refused_dir "a spool its group may write" "sink influx: spool: \"$D/spool\" may be written by its group or others (mode 0770): chmod go-w \"$D/spool\""
chmod 700 "$D/spool"
chmod 757 "$D/spool/rejected"
refused_dir "rejected/ others may write" "\"$D/spool/rejected\" may be written by its group or others (mode 0757)"
chmod 700 "$D/spool/rejected"
chown 65534:65534 "$D/spool"
refused_dir "a spool of another user" "\"$D/spool\" is owned by uid 65534, not by the user qosd runs as (uid 0): chown -R it to that user, or give the sink another spool_dir"
