#!/bin/bash
# secrets_memory.sh (issue 15 item 1): only the shipper ever holds a
# secret.  One daemon with two influxdb sinks, each with its own secret:
# "v1" delivers to a real influxd (1.x, which has no v2 API) with a
# password credential ($CREDENTIALS_DIRECTORY set by the test, as systemd
# would), "v2" to fake_influx with a token_file, beside a file sink, and
# an exec job whose run sleeps so that one exists.  The memory of every process of the daemon's
# tree (through /proc/PID/maps and /proc/PID/mem, tests/tools/memscan) is
# searched for both secrets, before and after a SIGHUP reload that
# restarts the v1 sink (new writer, new shipper) and forks a new spawner:
# each secret is in one shipper (found: the scan works) and nowhere else:
# not in the daemon, a spawner, a writer or a run.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "reading other processes' memory needs root"
command -v python3 >/dev/null || skip "python3 missing (apt-get install python3)"
FAKE="$BUILD/tools/fake_influx"
[ -x "$FAKE" ] || fail "$FAKE missing (make tests)"
SCAN="$TOP/tests/tools/memscan"
start_influxd
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode 'q=CREATE DATABASE qos' >/dev/null ||
	fail "cannot create the database"
mkdir -p "$T/fake" "$T/creds"
"$FAKE" -d "$T/fake" 2>"$T/fake.log" &
track_pid $!
wait_for 5 test -s "$T/fake/port" || fail "fake_influx did not start"

# The secrets exist in their files only: never in a variable of this
# script that a child could inherit, never on a command line.
PW=$T/creds/influxdb-password TOK=$T/token
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed 's/^/pw-SECRET-/' >"$PW"
echo >>"$PW"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | sed 's/^/tok-SECRET-/' >"$TOK"
echo >>"$TOK"
chmod 600 "$PW" "$TOK"

conf() {
	cat >"$T/qosd.conf" <<CONF
daemon: { state_dir = "$T/state"; self_interval = 0; realtime = false; };
defaults: { splay = 0; };
sinks = (
	{ type = "influxdb"; name = "v1"; url = "$INFLUX_URL"; database = "qos";
	  username = "qosd"; password_credential = "influxdb-password";
	  flush_interval = 0.2; batch_size = $1; },
	{ type = "influxdb"; name = "v2"; url = "http://127.0.0.1:$(cat "$T/fake/port")";
	  api = 2; org = "lab"; bucket = "qos"; token_file = "$TOK";
	  flush_interval = 0.2; },
	{ type = "file"; name = "copy"; path = "$T/copy.lp"; }
);
jobs = (
	{ name = "tick"; collector = "exec"; interval = 0.5; timeout = 0.4;
	  command = [ "/bin/sh", "-c", "echo tick,gen=$1 v=1i" ]; },
	{ name = "sleeper"; collector = "exec"; interval = 3; timeout = 2.9;
	  command = [ "/bin/sh", "-c", "echo sleeper v=1i; sleep 2.8" ]; }$2
);
CONF
}
conf 5000 ""
CREDENTIALS_DIRECTORY="$T/creds" "$QOSD" --check-config --config "$T/qosd.conf" ||
	fail "the configuration does not check"
CREDENTIALS_DIRECTORY="$T/creds" "$QOSD" --config "$T/qosd.conf" >"$T/qosd.log" 2>&1 &
QPID=$!
track_pid "$QPID"

# Points of generation GEN in both servers: both shippers read their
# secret and deliver.
in_influx() {
	influx_query qos "SELECT count(v) FROM tick WHERE gen = '$1'" | grep -q '"values"'
}
in_fake() { grep -qs "^tick,.*gen=$1" "$T/fake/stored.lp"; }
wait_for 20 in_influx 5000 || fail "nothing in influxd: $(tail -5 "$T/qosd.log")"
wait_for 20 in_fake 5000 || fail "nothing at fake_influx: $(tail -5 "$T/qosd.log")"

# descendants PID: PID and every process below it.
descendants() {
	local p=$1 c
	echo "$p"
	# cat, not awk FILES: mawk stops at a file gone since the glob.
	for c in $(cat /proc/[0-9]*/stat 2>/dev/null | awk -v pp="$p" '$4 == pp { print $1 }'); do
		descendants "$c"
	done
}
role() {
	local p=$1 comm
	comm=$(cat "/proc/$p/comm" 2>/dev/null) || return 1
	if [ "$p" = "$QPID" ]; then echo daemon
	elif [ "$comm" = qosd-spawner ]; then echo spawner
	elif [ "$comm" = qosd-writer ]; then echo writer
	elif grep -qs 'shipper\.so' "/proc/$p/maps"; then echo shipper
	else echo run
	fi
}
# A run of the sleeper exists (a sleep below a spawner).
run_exists() { descendants "$QPID" | while read -r p; do [ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ] && echo y; done | grep -q y; }

# scan WHEN: every process of the tree, each secret where it belongs.
scan() {
	local when=$1 p r out bad= seen found try
	# A run comes and goes: on a loaded machine the walk of the tree can
	# outlast the one it saw; the whole scan is made again (3 times at most).
	for try in 1 2 3; do
		wait_for 10 run_exists || fail "$when: no run of the sleeper to scan"
		: >"$T/scan-$when"
		# Runs first: they come and go.
		for p in $(descendants "$QPID"); do
			r=$(role "$p") || continue
			echo "$r $p"
		done >"$T/procs-$when.all"
		{ grep '^run ' "$T/procs-$when.all"; grep -v '^run ' "$T/procs-$when.all"; } >"$T/procs-$when"
		while read -r r p; do
			out=$("$SCAN" "$p" "$PW" "$TOK" 2>/dev/null) || continue
			echo "$r $out" >>"$T/scan-$when"
		done <"$T/procs-$when"
		grep -q '^run ' "$T/scan-$when" && break
		echo "    $when: no run scanned (try $try): again"
	done
	cat "$T/scan-$when" | sed "s/^/    $when: /"
	for r in daemon spawner writer shipper run; do
		grep -q "^$r " "$T/scan-$when" || bad="$bad no $r scanned;"
	done
	[ "$(grep -c '^writer ' "$T/scan-$when")" -ge 3 ] || bad="$bad fewer than 3 writers;"
	[ "$(grep -c '^shipper ' "$T/scan-$when")" = 2 ] || bad="$bad not 2 shippers;"
	grep -v '^shipper ' "$T/scan-$when" | grep -v ' found=- ' >"$T/leak-$when" &&
		bad="$bad secrets outside the shippers: $(cat "$T/leak-$when");"
	# Each shipper holds one secret; between them, both.
	seen=$(awk '$1 == "shipper" { sub("found=", "", $4); print $4 }' "$T/scan-$when" | sort | tr '\n' ' ')
	[ "$seen" = "0 1 " ] || bad="$bad the shippers hold '$seen', want one secret each (0 1);"
	! grep -E '^[a-z]+ [0-9]+ [^ ]+ found=[^ ]+ scanned=0 ' "$T/scan-$when" || bad="$bad an empty scan;"
	[ -z "$bad" ] || fail "$when:$bad"
	found=$(awk '{ n += $5 ~ /scanned=/ } END { print n }' "$T/scan-$when")
	ok "$when: $found processes scanned; each secret in its shipper only"
}

scan before
old_spawners=$(awk '$1 == "spawner" { print $2 }' "$T/scan-before")
# The reload: the v1 sink changes (its writer and shipper are new), a job
# is added (a new spawner); v2 and copy stay.
conf 4000 ',
	{ name = "added"; collector = "exec"; interval = 1; command = [ "/bin/true" ]; }'
CREDENTIALS_DIRECTORY="$T/creds" "$QOSD" --check-config --config "$T/qosd.conf" ||
	fail "the new configuration does not check"
kill -HUP "$QPID"
wait_for 10 grep -q 'configuration reloaded' "$T/qosd.log" || fail "no reload: $(tail -5 "$T/qosd.log")"
wait_for 20 in_influx 4000 || fail "nothing in influxd after the reload: $(tail -5 "$T/qosd.log")"
wait_for 20 in_fake 4000 || fail "nothing at fake_influx after the reload: $(tail -5 "$T/qosd.log")"
# The old spawner goes once its runs are over: the runs scanned next are
# the new spawner's.
for p in $old_spawners; do
	wait_for 10 sh -c "! kill -0 $p 2>/dev/null" || fail "the old spawner $p stays"
done
scan after
kill -TERM "$QPID"
wait_for 20 sh -c "! kill -0 $QPID 2>/dev/null" || fail "qosd did not stop"
! grep -qiE 'AddressSanitizer|LeakSanitizer|runtime error' "$T/qosd.log" ||
	fail "sanitizer report: $(grep -m3 -iE 'Sanitizer|runtime error' "$T/qosd.log")"
! grep -q 'SECRET' "$T/qosd.log" "$T/copy.lp" || fail "a secret in the log or the points"
ok "no secret in the log or the points"
