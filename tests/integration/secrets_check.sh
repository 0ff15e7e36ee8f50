#!/bin/bash
# secrets_check.sh (issue 15 items 1 and 3, issue 14 item 7): secrets are
# read by --check-config as the service user would, and by the shipper;
# a secret with a control character never reaches a request.
#  (a) --check-config reads every sink's secret: a CR LF in it, an empty
#      file, a file others may read, a missing credential, a root:root
#      0600 file read as another user (User=qosd under the unit) all exit
#      78 with FILE:LINE of the *_file or *_credential setting; a root:qosd
#      0640 file (here root:nogroup, read as nobody) and a credential pass;
#      an inline token is refused with FILE:LINE and what to do instead;
#  (b) the daemon does not read the secret: started with a token file
#      holding a CR LF, it runs, and the shipper logs why it sends nothing;
#      fake_influx sees no request until the file is fixed, then exactly
#      one Authorization header and no other header made of the secret.
. "$(dirname "$0")/lib.sh"
FAKE="$BUILD/tools/fake_influx"
[ -x "$FAKE" ] || fail "$FAKE missing (make tests)"

# conf FILE SECRET_SETTING: a configuration whose sink's secret setting
# is on line 5.
conf() {
	cat >"$1" <<CONF
daemon: { state_dir = "$T/state"; self_interval = 0; realtime = false; };
sinks = (
	{ type = "influxdb"; name = "influx"; api = 2;
	  url = "http://127.0.0.1:${PORT:-9}"; org = "lab"; bucket = "qos";
	  $2 flush_interval = 0.2; }
);
CONF
}
# refused WHAT SETTING WANT [RUNNER...]: --check-config exits 78 saying
# FILE:5: sinks.influx.KEY: ... WANT.
refused() {
	local what=$1 setting=$2 want=$3 out rc
	shift 3
	conf "$T/c/qosd.conf" "$setting"
	out=$("$@" "$QOSD" --check-config --config "$T/c/qosd.conf" 2>&1); rc=$?
	[ "$rc" = 78 ] || fail "$what: --check-config exited $rc: $out"
	case "$out" in
	"$T/c/qosd.conf:5: sinks.influx."*"$want"*) ;;
	*) fail "$what: want FILE:5: sinks.influx....$want, got: $out" ;;
	esac
	! echo "$out" | grep -q 's3cr3t' || fail "$what: the secret is in the message: $out"
	ok "$what: exit 78, ${out#"$T/c/"}"
}
passes() {
	local what=$1 setting=$2 out
	shift 2
	conf "$T/c/qosd.conf" "$setting"
	out=$("$@" "$QOSD" --check-config --config "$T/c/qosd.conf" 2>&1) ||
		fail "$what: --check-config failed: $out"
	ok "$what: --check-config passes"
}
# As another user: nobody must reach the configuration and the secret's
# directory.
mkdir -p "$T/c" "$T/creds"
chmod 711 "$T"
chmod 755 "$T/c"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${NOBODY[@]}" true || skip "setpriv cannot switch to nobody here"

# (a) --check-config.
printf 's3cr3t\r\nX-Evil: 1\n' >"$T/c/crlf"; chmod 600 "$T/c/crlf"
refused "CR LF" "token_file = \"$T/c/crlf\";" \
	"token_file: \"$T/c/crlf\" holds a control character (CR) at byte 7 of its first line"
: >"$T/c/empty"; chmod 600 "$T/c/empty"
refused "empty" "token_file = \"$T/c/empty\";" "token_file: \"$T/c/empty\" is empty"
echo s3cr3t >"$T/c/world"; chmod 644 "$T/c/world"
refused "readable by others" "token_file = \"$T/c/world\";" \
	"token_file: \"$T/c/world\" may be read by others (mode 0644): chmod o-r it"
refused "missing" "token_file = \"$T/c/none\";" \
	"token_file: cannot open \"$T/c/none\": No such file or directory"
echo s3cr3t >"$T/c/rootonly"; chmod 600 "$T/c/rootonly"
passes "root:root 0600, as root" "token_file = \"$T/c/rootonly\";"
chmod 644 "$T/c/qosd.conf"
refused "root:root 0600, as the service user" "token_file = \"$T/c/rootonly\";" \
	"token_file: cannot open \"$T/c/rootonly\": Permission denied" "${NOBODY[@]}"
echo s3cr3t >"$T/c/group"; chgrp 65534 "$T/c/group"; chmod 640 "$T/c/group"
passes "root:nogroup 0640, as nobody (root:qosd 0640 under the unit)" \
	"token_file = \"$T/c/group\";" "${NOBODY[@]}"
refused "no credentials directory" 'token_credential = "influxdb-token";' \
	"token_credential: \$CREDENTIALS_DIRECTORY is not set: systemd sets it for the unit's ExecStart= and ExecReload= from LoadCredential=influxdb-token (the secret in /etc/credstore/influxdb-token" env -u CREDENTIALS_DIRECTORY
refused "a missing credential" 'token_credential = "influxdb-token";' \
	"token_credential: cannot open \"$T/creds/influxdb-token\": No such file" env CREDENTIALS_DIRECTORY="$T/creds"
echo s3cr3t >"$T/creds/influxdb-token"; chmod 400 "$T/creds/influxdb-token"
passes "a credential" 'token_credential = "influxdb-token";' env CREDENTIALS_DIRECTORY="$T/creds"
printf 's3cr3t\x1b[2J\n' >"$T/creds/influxdb-token"
refused "ESC in a credential" 'token_credential = "influxdb-token";' \
	"token_credential: \"$T/creds/influxdb-token\" holds a control character (ESC) at byte 7" env CREDENTIALS_DIRECTORY="$T/creds"
refused "inline" 'token = "s3cr3t";' \
	"token: an inline token would stay in the memory of qosd and of every process it starts: put it in a file, root:qosd mode 0640, and give token_file = \"/etc/qosd/influxdb-token\"; or in /etc/credstore/influxdb-token (root, mode 0600; qosd.service has LoadCredential=influxdb-token) and give token_credential = \"influxdb-token\""

# (b) The daemon with a token file that holds a CR LF.
mkdir -p "$T/fake"
"$FAKE" -d "$T/fake" 2>"$T/fake.log" &
track_pid $!
wait_for 5 test -s "$T/fake/port" || fail "fake_influx did not start"
PORT=$(cat "$T/fake/port")
printf 'tok-GOOD\r\nX-Evil: 1\n' >"$T/token"; chmod 600 "$T/token"
conf "$T/qosd.conf" "token_file = \"$T/token\";"
mkdir -p "$T/state/spool/influx/ready"
echo 'm v=1i 1700000000000000000' >"$T/state/spool/influx/ready/0000000000000001-1.lp"
"$QOSD" --config "$T/qosd.conf" >"$T/qosd.log" 2>&1 &
QPID=$!
track_pid "$QPID"
wait_for 10 grep -q 'shipper: token_file: .*holds a control character (CR) at byte 9' "$T/qosd.log" ||
	fail "the shipper did not refuse the secret: $(tail -5 "$T/qosd.log")"
grep -q 'nothing is sent until it is fixed' "$T/qosd.log" || fail "no advice: $(grep shipper "$T/qosd.log")"
kill -0 "$QPID" || fail "the daemon is gone: $(tail -5 "$T/qosd.log")"
sleep 2
[ ! -e "$T/fake/req-0001.head" ] || fail "a request was sent: $(cat "$T/fake/req-0001.head")"
[ -e "$T/state/spool/influx/ready/0000000000000001-1.lp" ] || fail "the segment went"
ok "a CR LF secret: the daemon runs, the shipper logs why and sends nothing"
# Fixed: the shipper, restarted, reads it again and sends it as it is.
printf 'tok-GOOD\n' >"$T/token"
wait_for 30 test ! -e "$T/state/spool/influx/ready/0000000000000001-1.lp" ||
	fail "not delivered once fixed: $(tail -5 "$T/qosd.log")"
h="$T/fake/req-0001.head"
grep -qx 'Authorization: Token tok-GOOD.' "$h" || fail "Authorization: $(cat "$h")"
[ "$(grep -ci '^authorization:' "$h")" = 1 ] || fail "$(grep -ci '^authorization:' "$h") Authorization headers"
! grep -qi 'x-evil' "$T"/fake/req-*.head || fail "an extra header: $(grep -i x-evil "$T"/fake/req-*.head)"
kill -TERM "$QPID"
wait_for 20 sh -c "! kill -0 $QPID 2>/dev/null" || fail "qosd did not stop"
! grep -qiE 'AddressSanitizer|LeakSanitizer|runtime error' "$T/qosd.log" ||
	fail "sanitizer report: $(grep -m3 -iE 'Sanitizer|runtime error' "$T/qosd.log")"
! grep -q 'tok-GOOD' "$T/qosd.log" || fail "the secret in the log"
ok "fixed: delivered with one Authorization header, no other"
