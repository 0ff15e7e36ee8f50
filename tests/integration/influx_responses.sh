#!/bin/bash
# influx_responses.sh: the influxdb sink against a fault-injecting server
# (build/tools/fake_influx): the v1 and v2 requests exactly, then each
# response case (400/422 with InfluxDB 2 and 1.x semantics, 401/403/404,
# 413, 429/503 with Retry-After, 500, a reset mid-body, an answer after
# 30 s, a dead first URL).  Each case spools one known segment, starts
# qosd, waits for the segment to be gone and checks what the server
# stored, what it was sent, the logs and the final qosd_sink figures.
. "$(dirname "$0")/lib.sh"
FAKE="$BUILD/tools/fake_influx"
[ -x "$FAKE" ] || fail "$FAKE missing (make tests)"
command -v base64 >/dev/null || skip "base64 missing"

SEG=0000000000000001-1.lp
# segment FILE [BADLINES...]: 20 lines; the numbered ones carry BAD.
segment() {
	local f=$1 i; shift
	: >"$f"
	for i in $(seq 20); do
		if printf ' %s ' "$@" | grep -q " $i "; then
			echo "work,i=$i,t=BAD v=${i}i $((1700000000000000000 + i))" >>"$f"
		else
			echo "work,i=$i v=${i}i $((1700000000000000000 + i))" >>"$f"
		fi
	done
}

# scenario NAME DEFAULT_ACTION SCRIPT SINK_SETTINGS [WAIT_S]: sets D (its dir).
scenario() {
	local name=$1 dflt=$2 script=$3 extra=$4 wait_s=${5:-20} qpid fpid
	D="$T/$name"
	mkdir -p "$D/state/spool/influx/ready"
	printf '%s\n' "$script" >"$D/script"
	"$FAKE" -d "$D" -s "$D/script" -D "$dflt" 2>"$D/fake.log" &
	fpid=$!
	track_pid "$fpid"
	wait_for 5 test -s "$D/port" || fail "$name: fake_influx did not start"
	PORT=$(cat "$D/port")
	[ -f "$D/seg" ] || segment "$D/seg"
	cp "$D/seg" "$D/state/spool/influx/ready/$SEG"
	extra=${extra//@URL@/\"http:\/\/127.0.0.1:$PORT\"}
	cat >"$D/qosd.conf" <<CONF
daemon: { state_dir = "$D/state"; self_interval = 0; };
sinks = (
	{ type = "influxdb"; name = "influx"; $extra },
	{ type = "file"; name = "self"; path = "$D/self.lp"; }
);
CONF
	chmod 600 "$D/qosd.conf"
	local t0=$SECONDS
	"$QOSD" -v --config "$D/qosd.conf" >"$D/qosd.log" 2>&1 &
	qpid=$!
	track_pid "$qpid"
	wait_for "$wait_s" test ! -e "$D/state/spool/influx/ready/$SEG" ||
		fail "$name: segment not delivered in ${wait_s}s: $(tail -5 "$D/qosd.log")"
	ELAPSED=$((SECONDS - t0))
	sleep 0.5	# the shipper's figures reach the parent
	kill -TERM "$qpid"
	wait_for 10 sh -c "! kill -0 $qpid 2>/dev/null" || fail "$name: qosd did not stop"
	kill -TERM "$fpid"
	! grep -qiE 'AddressSanitizer|LeakSanitizer|runtime error' "$D/qosd.log" ||
		fail "$name: sanitizer report: $(grep -m3 -iE 'Sanitizer|runtime error' "$D/qosd.log")"
}

# field NAME: the final qosd_sink figure of the influx sink.
field() {
	grep '^qosd_sink,' "$D/self.lp" | grep 'sink=influx' | tail -1 |
		grep -oE "(^| |,)$1=[^,]*" | sed "s/.*$1=//; s/i\$//"
}
good_lines() { grep -v BAD "$D/seg"; }
# stored: what the server stored but the daemon's own points, its final
# self-metrics, which a stop delivers too.
stored() { grep -vE '^qosd(_sink)?[ ,]' "$D/stored.lp"; }
prepare() { D="$T/$1"; mkdir -p "$D"; segment "$D/seg" "${@:2}"; }
V1='url = @URL@; database = "qos";'
V2='api = 2; url = @URL@; org = "lab"; bucket = "qos";'


# v1: path and query, basic auth, gzip, the body byte for byte.
prepare v1
echo 's3cr3t-pw' >"$D/pw"; chmod 600 "$D/pw"
scenario v1 ok "" 'url = @URL@; database = "qos"; retention_policy = "autogen"; username = "writer"; password_file = "'"$T/v1/pw"'";'
h="$D/req-0001.head"
grep -qx 'POST /write?db=qos&rp=autogen&precision=ns HTTP/1.1.' "$h" || fail "v1 request line: $(head -1 "$h")"
grep -qix "authorization: basic $(printf 'writer:s3cr3t-pw' | base64).*" "$h" || fail "v1 basic auth missing: $(cat "$h")"
grep -qix 'content-encoding: gzip.' "$h" || fail "v1 not gzipped"
cmp -s "$D/req-0001.body" "$D/seg" || fail "v1 body differs from the segment"
cmp -s <(stored) "$D/seg" || fail "v1 stored lines differ"
grep -q '^qosd_sink,.*sink=influx' "$D/stored.lp" ||
	fail "v1: the final self-metrics were not delivered at stop"
[ "$(field sent)" = 20 ] || fail "v1 sent=$(field sent), want 20"
grep -q 's3cr3t-pw' "$D/qosd.log" "$D/self.lp" && fail "v1 password in the logs or metrics"
ok "v1 request: path, query, basic auth, gzip, body"

# v2: exactly the request an InfluxDB 2 expects.
prepare v2
echo 'tok-S3CRET-4711' >"$D/token"; chmod 600 "$D/token"
scenario v2 ok "" 'api = 2; url = @URL@; org = "my org"; bucket = "qos/a"; token_file = "'"$T/v2/token"'";'
h="$D/req-0001.head"
grep -qx 'POST /api/v2/write?org=my%20org&bucket=qos%2Fa&precision=ns HTTP/1.1.' "$h" || fail "v2 request line: $(head -1 "$h")"
grep -qx 'Authorization: Token tok-S3CRET-4711.' "$h" || fail "v2 Authorization header: $(cat "$h")"
grep -qx 'Content-Encoding: gzip.' "$h" || fail "v2 Content-Encoding"
grep -qx 'Content-Type: text/plain; charset=utf-8.' "$h" || fail "v2 Content-Type"
cmp -s "$D/req-0001.body" "$D/seg" || fail "v2 body differs from the segment"
grep -q 'tok-S3CRET-4711' "$D/qosd.log" "$D/self.lp" && fail "v2 token in the logs or metrics"
ok "v2 request: path, org, bucket, precision, Authorization, gzip, body"

# 400, InfluxDB 2 semantics: the batch is refused whole; split to the lines.
prepare bad2 5 13
scenario bad2 bad "" "$V2"
[ "$(stored | sort -u)" = "$(good_lines | sort)" ] || fail "bad2: good lines not all delivered"
[ "$(cat "$D/state/spool/influx/rejected/$SEG")" = "$(grep BAD "$D/seg")" ] || fail "bad2: rejected/ does not hold the 2 refused lines"
[ "$(grep -c 'refused 2 lines' "$D/qosd.log")" = 1 ] || fail "bad2: want one log line naming the refused lines"
grep 'refused 2 lines' "$D/qosd.log" | grep -q 'unable to parse' || fail "bad2: the log line lacks InfluxDB's reason"
[ "$(field rejected)" = 2 ] && [ "$(field sent)" = 18 ] || fail "bad2: rejected=$(field rejected) sent=$(field sent)"
ok "400 (InfluxDB 2): 18 lines delivered, 2 in rejected/, one log line"

# 400, InfluxDB 1.x semantics: a partial write.
prepare bad1 1 20
scenario bad1 bad1 "" "$V1"
[ "$(stored | sort -u)" = "$(good_lines | sort)" ] || fail "bad1: good lines not all delivered"
[ "$(cat "$D/state/spool/influx/rejected/$SEG")" = "$(grep BAD "$D/seg")" ] || fail "bad1: rejected/ content"
[ "$(field rejected)" = 2 ] || fail "bad1: rejected=$(field rejected)"
ok "400 (InfluxDB 1.x partial write): good lines kept, 2 rejected"

# 422 is a refusal too; a refusal that does not recur rejects nothing.
prepare s422 7
scenario s422 "bad 422" "" "$V2"
[ "$(cat "$D/state/spool/influx/rejected/$SEG")" = "$(grep BAD "$D/seg")" ] || fail "422: rejected/ content"
[ "$(field rejected)" = 1 ] && [ "$(field sent)" = 19 ] || fail "422: rejected=$(field rejected) sent=$(field sent)"
prepare once
scenario once ok "status 400" "$V2"
cmp -s <(stored | sort -u) <(sort "$D/seg") || fail "400 once: not all delivered"
[ "$(field rejected)" = 0 ] || fail "400 once: rejected=$(field rejected)"
ok "422: the refused line in rejected/, 19 delivered; a one-off 400 rejects nothing"

# 401, 403, 404: kept, retried, and the log says what to fix.
prepare auth
scenario auth ok $'status 401\nstatus 403\nstatus 404' "$V2"
cmp -s <(stored) "$D/seg" || fail "auth: data not delivered after the fix"
grep -q 'HTTP 401.*check the credentials' "$D/qosd.log" || fail "auth: no hint for 401: $(grep sink "$D/qosd.log")"
[ "$(field retries)" = 3 ] || fail "auth: retries=$(field retries), want 3"
[ -z "$(ls "$D/state/spool/influx/rejected/")" ] || fail "auth: lines rejected"
prepare nf
scenario nf ok 'status 404' "$V1"
grep -q 'HTTP 404.*check the URL and that the database' "$D/qosd.log" || fail "404: no hint"
cmp -s <(stored) "$D/seg" || fail "404: data lost"
ok "401/403/404: data kept, retried, the log names what to fix"

# 413: split until it fits.
prepare big
scenario big 'max 5' "" "$V1"
cmp -s <(stored | sort) <(sort "$D/seg") || fail "413: not all delivered"
[ "$(head -1 "$D/req-0001.head" | cut -c1-4)" = POST ] || fail "413: no first request"
[ "$(wc -l <"$D/req-0001.body")" = 20 ] || fail "413: first request not the whole batch"
[ "$(field sent)" = 20 ] && [ "$(field rejected)" = 0 ] || fail "413: sent=$(field sent) rejected=$(field rejected)"
ok "413: split into requests the server takes, all 20 delivered"

# gap A B: seconds between requests A and B as the server saw them.
gap() { awk -v a="$(grep x-fake-time "$D/req-$1.head" | tr -d '\r' | cut -d' ' -f2)" \
	-v b="$(grep x-fake-time "$D/req-$2.head" | tr -d '\r' | cut -d' ' -f2)" 'BEGIN { print b - a }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# 429 and 503: Retry-After honoured.
prepare r429
scenario r429 ok 'status 429 3' "$V2"
ge "$(gap 0001 0002)" 2.9 || fail "429: retried after $(gap 0001 0002)s, Retry-After said 3"
cmp -s <(stored) "$D/seg" || fail "429: not delivered"
prepare r503
scenario r503 ok 'status 503 2' "$V1"
ge "$(gap 0001 0002)" 1.9 || fail "503: retried after $(gap 0001 0002)s, Retry-After said 2"
cmp -s <(stored) "$D/seg" || fail "503: not delivered"
ok "429/503: retried after Retry-After"

# 500: exponential backoff with jitter, then delivered.
prepare r500
scenario r500 ok $'status 500\nstatus 500\nstatus 502' "$V1"
cmp -s <(stored) "$D/seg" || fail "500: not delivered"
[ "$(field retries)" = 3 ] || fail "500: retries=$(field retries)"
ge "$(gap 0003 0004)" "$(gap 0001 0002)" || fail "500: backoff did not grow"
grep -q 'last_error="[^"]*HTTP 50' "$D/self.lp" || fail "500: last_error not reported"
ok "5xx: backoff grows ($(gap 0001 0002)s, $(gap 0002 0003)s, $(gap 0003 0004)s), delivered"

# A reset in the middle of the body.
prepare reset
scenario reset ok 'reset' "$V2"
cmp -s <(stored) "$D/seg" || fail "reset: not delivered"
[ "$(field retries)" = 1 ] || fail "reset: retries=$(field retries)"
ok "reset mid-body: retried, delivered"

# A server that answers after 30 s: the timeout ends the wait.
prepare slow
scenario slow ok 'delay 30' "$V1 timeout = 2; connect_timeout = 1;" 25
[ "$ELAPSED" -lt 15 ] || fail "slow: took ${ELAPSED}s"
[ -f "$D/req-0002.head" ] || fail "slow: no second request"
grep -q 'Operation timed out\|Timeout was reached\|timed out' "$D/qosd.log" || fail "slow: no timeout logged"
ok "answer after 30 s: timed out after 2 s, retried, delivered in ${ELAPSED}s"

# Failover: the first URL refuses connections.
prepare fo
dead=$(free_port)
scenario fo ok "" "url = [ \"http://127.0.0.1:$dead\", @URL@ ]; database = \"qos\";" 10
cmp -s <(stored) "$D/seg" || fail "failover: not delivered"
[ "$ELAPSED" -lt 5 ] || fail "failover: took ${ELAPSED}s"
ok "failover to the second URL"

# A reload that changes the sink: the new instance takes over the spool
# (the old one's open segment included) and nothing is lost or repeated
# in the logs as an error.
D="$T/reload"
mkdir -p "$D"
"$FAKE" -d "$D" -D ok 2>"$D/fake.log" &
track_pid $!
wait_for 5 test -s "$D/port" || fail "reload: fake_influx did not start"
PORT=$(cat "$D/port")
cat >"$D/gen.sh" <<'GEN'
#!/bin/sh
[ -e "$1" ] && exit 0
n=$(cat "$2" 2>/dev/null || echo 0)
# The count first, and whole (written aside, then renamed): a run killed
# at its 0.1 s timeout leaves a gap, never the same lines printed again
# by the next run.  (A run killed between the truncation and the write of
# "echo >FILE" left the file empty and the count began again at 1: the
# write waited over 0.1 s for the disk while the sinks' spool synced.)
echo "$((n + 3))" >"$2.new"
mv -f "$2.new" "$2"
for i in 1 2 3; do n=$((n + 1)); echo "work seq=${n}i 1600000000$(printf '%09d' $n)"; done
GEN
chmod +x "$D/gen.sh"
conf() {
	cat >"$D/qosd.conf" <<CONF
daemon: { state_dir = "$D/state"; self_interval = 0; };
sinks = (
	{ type = "influxdb"; name = "influx"; url = "http://127.0.0.1:$PORT";
	  database = "qos"; flush_interval = $1; },
	{ type = "file"; name = "copy"; path = "$D/copy.lp"; }
);
jobs = ( { name = "w"; collector = "exec"; interval = 0.2; timeout = 0.1;
	splay = 0; command = [ "$D/gen.sh", "$D/stop", "$D/n" ]; } );
CONF
}
conf 5
"$QOSD" -v --config "$D/qosd.conf" >"$D/qosd.log" 2>&1 &
qpid=$!
track_pid "$qpid"
sleep 2
conf 0.3
kill -HUP "$qpid"
sleep 1.5
conf 4
kill -HUP "$qpid"
sleep 1
touch "$D/stop"
conf 0.2
kill -HUP "$qpid"
w() { grep -c '^work[ ,]' "$1" 2>/dev/null || echo 0; }
# The third reload done (a reload waits for the sinks' writers) before the
# counts, so that the last sink's delivery is what they check.
wait_for 10 sh -c "[ \"\$(grep -c 'configuration reloaded' '$D/qosd.log')\" -ge 3 ]" ||
	fail "reload: not reloaded 3 times: $(grep -E 'reload' "$D/qosd.log")"
wait_for 20 sh -c "[ \"\$(grep -c '^work[ ,]' '$D/stored.lp')\" = \"\$(grep -c '^work[ ,]' '$D/copy.lp')\" ]" ||
	fail "reload: produced $(w "$D/copy.lp"), delivered $(w "$D/stored.lp")"
[ "$(grep -c 'configuration reloaded' "$D/qosd.log")" = 3 ] || fail "reload: not reloaded 3 times"
grep -E 'cannot|torn|shipper (was killed|exited)' "$D/qosd.log" && fail "reload: errors in the log"
[ "$(sort -u "$D/stored.lp" | grep -c '^work')" = "$(w "$D/copy.lp")" ] ||
	fail "reload: duplicates or strays: twice in InfluxDB: $(grep '^work' "$D/stored.lp" | sort | uniq -d | head -3);" \
	    "twice in the copy: $(grep '^work' "$D/copy.lp" | sort | uniq -d | head -3);" \
	    "only in the copy: $(comm -23 <(grep '^work' "$D/copy.lp" | sort -u) <(grep '^work' "$D/stored.lp" | sort -u) | head -3);" \
	    "only in InfluxDB: $(comm -13 <(grep '^work' "$D/copy.lp" | sort -u) <(grep '^work' "$D/stored.lp" | sort -u) | head -3)"
ok "reload changing the sink 3 times: all $(w "$D/copy.lp") lines delivered once, no error logged"
