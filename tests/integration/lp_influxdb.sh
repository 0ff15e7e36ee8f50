#!/bin/bash
# lp_influxdb.sh: lines written by qosd's encoder (lib/lp_enc.c) read back
# from a real InfluxDB 1.x byte for byte, and every value the encoder
# refuses is one that influxd rejects or reads back differently.
# Needs influxd and curl; BUILD/tools/lp_adversarial (make tests).
. "$(dirname "$0")/lib.sh"
tool="$BUILD/tools/lp_adversarial"
[ -x "$tool" ] || fail "$tool missing (make tests)"
start_influxd
dir="$T"
url="$INFLUX_URL"

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
