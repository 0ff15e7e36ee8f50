#!/bin/bash
# The http collector against a real nginx: a 10 MiB download counted to the
# byte, a 100 KiB POST upload that nginx reads whole and answers 204, a PUT,
# neither with Expect: 100-continue unless configured (nginx's log), HTTPS
# with the test's own CA, a self-signed certificate refused, status codes,
# redirects, HEAD; timings ordered dns <= connect <= tls <= ttfb <= total,
# and no tls_ms on plain http.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/http_nginx.sh"
start_nginx
H="http://127.0.0.1:$NGX_PORT" S="https://127.0.0.1:$NGX_TLS_PORT"

cat >"$T/qosd.conf" <<CONF
agent = { id = "t"; };
sinks = ( { type = "file"; path = "-"; } );
defaults = { timeout = 20; };
jobs = (
	{ name = "web"; collector = "http"; url = "$H/small";
	  download_url = "$H/file.bin"; upload_url = "$H/upload"; },
	{ name = "put"; collector = "http"; upload_url = "$H/upload";
	  upload_method = "PUT"; upload_bytes = "1M"; },
	{ name = "expect"; collector = "http"; upload_url = "$H/upload";
	  headers = [ "Expect: 100-continue" ]; },
	{ name = "tls"; collector = "http"; url = "$S/small";
	  download_url = "$S/file.bin"; ca_file = "$NGX_CERT"; },
	{ name = "selfsigned"; collector = "http"; url = "$S/small"; },
	{ name = "noverify"; collector = "http"; url = "$S/small";
	  tls_verify = false; },
	{ name = "missing"; collector = "http"; url = "$H/missing"; },
	{ name = "missing_ok"; collector = "http"; url = "$H/missing";
	  expect_status = ( 404, "200-299" ); },
	{ name = "redir"; collector = "http"; url = "$H/redir"; },
	{ name = "noredir"; collector = "http"; download_url = "$H/redir";
	  max_redirects = 0; },
	{ name = "head"; collector = "http"; url = "$H/file.bin";
	  method = "HEAD"; headers = [ "X-Qosd-Test: 1" ]; },
	{ name = "cap"; collector = "http"; download_url = "$H/file.bin";
	  max_bytes = "1M"; }
);
CONF
"$QOSD" --check-config --config "$T/qosd.conf" >/dev/null || fail "config refused"
timeout 60 "$QOSD" --once --config "$T/qosd.conf" >"$T/out" 2>"$T/err"; measured $? ||
	fail "qosd --once: $(tail -5 "$T/err")"
OUT="$T/out"
cat "$OUT"

# pt JOB KIND: the job's point of that kind.  fld JOB KIND KEY: a field.
pt() { grep -E "^http,agent=t,job=$1,kind=$2," "$OUT"; }
fld() {
	pt "$1" "$2" | grep -oE "[ ,]$3=(\"[^\"]*\"|[^, ]+)" | head -1 |
		sed -E "s/^[ ,]$3=//; s/^\"//; s/\"$//; s/^([0-9-]+)i$/\1/"
}
want() {	# JOB KIND KEY VALUE
	local v
	v=$(fld "$1" "$2" "$3")
	[ "$v" = "$4" ] || fail "$1/$2: $3 is '$v', want '$4': $(pt "$1" "$2")"
}
absent() {	# JOB KIND KEY
	pt "$1" "$2" | grep -qE "[ ,]$3=" && fail "$1/$2: $3 present: $(pt "$1" "$2")"
	return 0
}
ordered() {	# JOB KIND KEY...: every KEY present and non-decreasing
	local j=$1 k=$2 prev=0 v key
	shift 2
	for key in "$@"; do
		v=$(fld "$j" "$k" "$key")
		[ -n "$v" ] || fail "$j/$k: $key missing: $(pt "$j" "$k")"
		awk -v a="$prev" -v b="$v" 'BEGIN { exit !(a <= b && b >= 0) }' ||
			fail "$j/$k: $key $v < previous $prev: $(pt "$j" "$k")"
		prev=$v
	done
}

[ "$(grep -c '^http,' "$OUT")" = 15 ] || fail "want 15 points, got $(grep -c '^http,' "$OUT")"

want web get result ok
want web get status_code 200
want web get bytes 6
ordered web get dns_ms connect_ms ttfb_ms total_ms
absent web get tls_ms
pt web get | grep -q ",method=GET,target=127.0.0.1,url=$H/small " || fail "web/get tags: $(pt web get)"

want web download result ok
want web download status_code 200
want web download bytes "$NGX_FILE_BYTES"
ordered web download dns_ms connect_ms ttfb_ms total_ms
absent web download tls_ms
absent web download error
sp=$(fld web download speed_bps) tot=$(fld web download total_ms)
awk -v s="$sp" -v t="$tot" -v b="$NGX_FILE_BYTES" \
	'BEGIN { e = b * 8 / (t / 1000); exit !(s > 0.99 * e && s < 1.01 * e) }' ||
	fail "speed_bps $sp does not match bytes over total_ms $tot"

want web upload result ok
want web upload status_code 204
want web upload bytes 102400
want web upload method POST
ordered web upload dns_ms connect_ms ttfb_ms total_ms
# nginx read the whole body before it answered.
grep -qE '^POST /upload 204 [0-9]+ ' "$NGX_DIR/access.log" ||
	fail "no POST /upload in the access log: $(cat "$NGX_DIR/access.log")"
rl=$(awk '$1 == "POST" && $2 == "/upload" { print $4 }' "$NGX_DIR/access.log" | head -1)
[ "$rl" -ge 102400 ] || fail "nginx read $rl request bytes for the upload"

want put upload result ok
want put upload status_code 204
want put upload bytes 1048576
rl=$(awk '$1 == "PUT" && $2 == "/upload" { print $4 }' "$NGX_DIR/access.log" | head -1)
[ "${rl:-0}" -ge 1048576 ] || fail "nginx read ${rl:-no} request bytes for the PUT"

# No Expect: 100-continue round trip unless configured (curl would send one
# for a PUT, and for a POST over 1 MiB); a configured one is sent.
want expect upload result ok
want expect upload status_code 204
[ "$(count_lines '^POST /upload 204 [0-9]+ -$' "$NGX_DIR/access.log")" = 1 ] ||
	fail "want one POST without Expect: $(cat "$NGX_DIR/access.log")"
[ "$(count_lines '^PUT /upload 204 [0-9]+ -$' "$NGX_DIR/access.log")" = 1 ] ||
	fail "want one PUT without Expect: $(cat "$NGX_DIR/access.log")"
[ "$(count_lines '^POST /upload 204 [0-9]+ 100-continue$' "$NGX_DIR/access.log")" = 1 ] ||
	fail "want the configured Expect sent: $(cat "$NGX_DIR/access.log")"

want tls get result ok
ordered tls get dns_ms connect_ms tls_ms ttfb_ms total_ms
want tls download result ok
want tls download bytes "$NGX_FILE_BYTES"
ordered tls download dns_ms connect_ms tls_ms ttfb_ms total_ms

want selfsigned get result tls_error
fld selfsigned get error | grep -qi certificate || fail "selfsigned: error text: $(pt selfsigned get)"
# libcurl 7.88 reports no connect time for a failed handshake, so only the
# name lookup is known; nothing after the handshake may appear.
for k in tls_ms ttfb_ms total_ms status_code bytes speed_bps; do
	absent selfsigned get "$k"
done
ordered selfsigned get dns_ms

want noverify get result ok
ordered noverify get dns_ms connect_ms tls_ms ttfb_ms total_ms

want missing get result http_error
want missing get status_code 404
want missing get error "status 404 not expected"
ordered missing get dns_ms connect_ms ttfb_ms total_ms
want missing_ok get result ok
want missing_ok get status_code 404

want redir get result ok
want redir get status_code 200
want redir get redirects 1
want noredir download result http_error
want noredir download status_code 302
want noredir download redirects 0

want head get result ok
want head get method HEAD
want head get bytes 0
absent head get speed_bps
grep -q '^HEAD /file.bin 200 ' "$NGX_DIR/access.log" || fail "no HEAD in the access log"

want cap download result error
fld cap download error | grep -q 'larger than max_bytes' || fail "cap: error text: $(pt cap download)"
absent cap download total_ms
absent cap download speed_bps

ok "15 points against nginx: bytes exact, upload read whole, no Expect unless configured, TLS, statuses, timings ordered"
