#!/bin/bash
# The http collector against servers that misbehave (build/tools/hostile_http
# and a self-signed nginx): a refused connection, a server that accepts and
# never answers, headers then a stall, a body trickled one byte a second, an
# endless body, an invalid status line, a redirect loop, a self-signed
# certificate.  Each yields its result within its request_timeout, the run
# ends on its own (qosd_job result ok, not timeout), and the child's memory
# stays bounded through an endless body.  Then dscp is checked on a live
# connection with ss --tos.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/http_nginx.sh"
[ -x "$BUILD/tools/hostile_http" ] || fail "$BUILD/tools/hostile_http missing (make tests)"
start_nginx
"$BUILD/tools/hostile_http" 0 >"$T/hport" 2>"$T/hostile.log" &
track_pid $!
wait_for 5 test -s "$T/hport" || fail "hostile_http did not start"
HP=$(cat "$T/hport") B="http://127.0.0.1:$HP"
CLOSED=$(free_port)

# job NAME TIMEOUT SETTINGS: a job with request_timeout TIMEOUT seconds.
jobs=() limits=()
job() {
	jobs+=("$1")
	limits+=("$2")
	printf '\t{ name = "%s"; collector = "http"; request_timeout = %s; %s },\n' "$1" "$2" "$3"
}
{
	echo 'agent = { id = "t"; };'
	echo 'daemon = { self_interval = 0; };'
	echo "sinks = ( { type = \"file\"; path = \"$T/out\"; } );"
	echo 'defaults = { interval = 10; timeout = 8; splay = 0; };'
	echo 'jobs = ('
	job refused 2 "url = \"http://127.0.0.1:$CLOSED/\";"
	job silent 2 "url = \"$B/silent\";"
	job stall 2 "url = \"$B/stall\";"
	job trickle 3 "download_url = \"$B/trickle\";"
	job slow 6 "download_url = \"$B/trickle\"; low_speed_limit = 100; low_speed_time = 2;"
	job endless 2 "download_url = \"$B/endless\"; max_bytes = \"1T\";"
	job endless_cap 2 "download_url = \"$B/endless\"; max_bytes = \"8M\";"
	job badstatus 2 "url = \"$B/badstatus\";"
	job loop 2 "url = \"$B/loop\";"
	job selfsigned 2 "url = \"https://127.0.0.1:$NGX_TLS_PORT/small\";"
	echo '	{ name = "idle"; collector = "exec"; command = [ "/bin/true" ]; enabled = false; }'
	echo ');'
} >"$T/qosd.conf"
"$QOSD" --check-config --config "$T/qosd.conf" >/dev/null 2>"$T/check" ||
	fail "config refused: $(cat "$T/check")"
"$QOSD" --config "$T/qosd.conf" 2>"$T/log" &
QPID=$!
track_pid "$QPID"
njobs=${#jobs[@]}
done_count() {
	local c
	c=$(grep -c '^qosd_job,.*collector=http' "$T/out" 2>/dev/null)
	[ "${c:-0}" -ge "$njobs" ]
}
wait_for 30 done_count || fail "not every job finished within 30 s: $(cat "$T/out" "$T/log" 2>/dev/null | tail -20)"
kill -TERM "$QPID"
wait "$QPID"
cat "$T/out"

pt() { grep -E "^http,agent=t,job=$1,kind=" "$T/out" | head -1; }
jpt() { grep -E "^qosd_job,agent=t,collector=http,job=$1 " "$T/out" | head -1; }
fld() {
	grep -oE "[ ,]$2=(\"[^\"]*\"|[^, ]+)" <<<"$1" | head -1 |
		sed -E "s/^[ ,]$2=//; s/^\"//; s/\"$//; s/^([0-9-]+)i$/\1/"
}
want() {	# JOB KEY VALUE
	local v
	v=$(fld "$(pt "$1")" "$2")
	[ "$v" = "$3" ] || fail "$1: $2 is '$v', want '$3': $(pt "$1")"
}
has() { pt "$1" | grep -qE "[ ,]$2=" || fail "$1: $2 missing: $(pt "$1")"; }
absent() { pt "$1" | grep -qE "[ ,]$2=" && fail "$1: $2 present: $(pt "$1")"; return 0; }

# Every job: one point, a run that ended by itself within its limit.
for i in "${!jobs[@]}"; do
	j=${jobs[$i]} lim=${limits[$i]}
	[ -n "$(pt "$j")" ] || fail "$j: no http point"
	r=$(jpt "$j")
	[ "$(fld "$r" result)" = ok ] || fail "$j: the run did not end by itself: $r"
	d=$(fld "$r" duration_ms)
	awk -v d="$d" -v l="$lim" 'BEGIN { exit !(d <= l * 1000 + 1500) }' ||
		fail "$j: run took $d ms for a $lim s request_timeout"
	# No made-up figures on a failure.
	absent "$j" total_ms
	absent "$j" speed_bps
	has "$j" error
done

want refused result refused
has refused dns_ms
absent refused connect_ms

want silent result timeout
has silent connect_ms
absent silent ttfb_ms
absent silent status_code

want stall result timeout
want stall status_code 200
has stall ttfb_ms

want trickle result timeout
b=$(fld "$(pt trickle)" bytes)
[ "${b:-0}" -ge 1 ] && [ "$b" -le 5 ] || fail "trickle: $b bytes in 3 s at 1 byte/s"

want slow result timeout
fld "$(pt slow)" error | grep -q 'too slow' || fail "slow: not the low-speed limit: $(pt slow)"

want endless result timeout
b=$(fld "$(pt endless)" bytes)
[ "${b:-0}" -gt 10000000 ] || fail "endless: only ${b:-no} bytes in 2 s"
rss=$(fld "$(jpt endless)" maxrss_bytes)
[ "$rss" -lt $((64 * 1024 * 1024)) ] || fail "endless: the child grew to $rss bytes"

want endless_cap result error
fld "$(pt endless_cap)" error | grep -q 'larger than max_bytes' || fail "endless_cap: $(pt endless_cap)"

want badstatus result error
absent badstatus status_code

want loop result http_error
want loop status_code 302
want loop redirects 5

want selfsigned result tls_error
absent selfsigned tls_ms
absent selfsigned ttfb_ms

# dscp: the connection carries the DSCP (EF = 46, TOS byte 0xb8) while it
# waits on the silent server.
command -v ss >/dev/null || skip "ss(8) missing (apt-get install iproute2)"
cat >"$T/dscp.conf" <<CONF
sinks = ( { type = "file"; path = "-"; } );
jobs = ( { name = "dscp"; collector = "http"; url = "$B/silent";
	request_timeout = 3; dscp = "ef"; } );
CONF
"$QOSD" --once --config "$T/dscp.conf" >"$T/dscp.out" 2>&1 &
OPID=$!
track_pid "$OPID"
tos() { ss -tn --tos state established "( dport = :$HP )" | grep -o 'tos:0x[0-9a-f]*' | head -1; }
has_tos() { [ -n "$(tos)" ]; }
wait_for 3 has_tos || fail "no connection to the silent server"
[ "$(tos)" = tos:0xb8 ] || fail "dscp ef: socket has $(tos), want tos:0xb8"
wait "$OPID"
grep -q 'result="timeout"' "$T/dscp.out" || fail "dscp run: $(cat "$T/dscp.out")"
ok "${#jobs[@]} hostile servers each gave their result in time; dscp set"
