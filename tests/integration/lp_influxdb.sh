#!/bin/bash
# lp_influxdb.sh: lines written by qosd's encoder (lp.c) read back from a
# real InfluxDB 1.x byte for byte, and every value the encoder refuses is
# one that influxd rejects or reads back differently.
# Needs influxd and curl; BUILD/tools/lp_adversarial (make tests).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
tool="$BUILD/tools/lp_adversarial"

influxd=$(command -v influxd) ||
    { echo "SKIP: influxd not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
[ -x "$tool" ] || { echo "FAIL: $tool missing (make tests)"; exit 1; }

dir=$(mktemp -d /tmp/qosd-lp-influx.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*"; [ -f "$dir/influxd.log" ] &&
	tail -n 20 "$dir/influxd.log"; exit 1; }

port_free() { [ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }
pick_port() {
	local p i
	for i in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		port_free "$p" && [ "$p" != "${1:-}" ] && { echo "$p"; return; }
	done
	return 1
}
http=$(pick_port) || fail "no free port"
rpc=$(pick_port "$http") || fail "no free port"

cat >"$dir/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$dir/meta"
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$http"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
CONF

"$influxd" run -config "$dir/influxdb.conf" >"$dir/influxd.log" 2>&1 &
pid=$!
url="http://127.0.0.1:$http"
for i in $(seq 100); do
	curl -fsS -o /dev/null "$url/ping" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || fail "influxd exited"
	sleep 0.1
done
curl -fsS -o /dev/null "$url/ping" || fail "influxd not ready"

query() {	# query OUTFILE INFLUXQL
	curl -sS -o "$1" -G "$url/query" --data-urlencode "db=lp" \
	    --data-urlencode "epoch=ns" --data-urlencode "q=$2" ||
	    fail "query $2"
}
curl -fsS -o /dev/null -XPOST "$url/query" \
    --data-urlencode 'q=CREATE DATABASE lp' || fail "create database"

# 1. Everything the encoder writes is taken as a whole.
"$tool" lines >"$dir/lines.lp" || fail "lp_adversarial lines"
code=$(curl -sS -o "$dir/resp" -w '%{http_code}' \
    --data-binary @"$dir/lines.lp" "$url/write?db=lp")
[ "$code" = 204 ] || fail "write of $(wc -l <"$dir/lines.lp") lines:" \
    "HTTP $code $(cat "$dir/resp")"

# 2. What the encoder refuses, written naively, is refused or mangled.
mkdir "$dir/refused"
"$tool" refused "$dir/refused" || fail "lp_adversarial refused"
for f in "$dir"/refused/*.lp; do
	want=$(cat "${f%.lp}.expect")
	code=$(curl -sS -o "$dir/resp" -w '%{http_code}' \
	    --data-binary @"$f" "$url/write?db=lp")
	[ "$code" = "$want" ] || fail "$(cat -v "$f"): HTTP $code, want" \
	    "$want: $(cat "$dir/resp")"
	echo "influxd answers $code to: $(cat -v "$f") $(cat "$dir/resp")"
done

# 3. Read back and compare byte for byte.
query "$dir/adv.json" 'SELECT * FROM "adv" GROUP BY *'
query "$dir/advf.json" 'SELECT * FROM "advf"'
query "$dir/meas.json" 'SHOW MEASUREMENTS'
query "$dir/mangled.json" 'SELECT * FROM "mangled_utf8"'
"$tool" check "$dir/adv.json" "$dir/advf.json" "$dir/meas.json" \
    "$dir/mangled.json" || fail "values read back differ"
echo "PASS: lp_influxdb"
