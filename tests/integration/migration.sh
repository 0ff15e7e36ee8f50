#!/bin/bash
# docs/migration.md's compatibility scripts, as a user would run them:
# 1. the 1.x continuous queries, the 1.x backfill and the 2.x Flux task map
#    the same qosd fields to the same old qos_metrics fields, with the same
#    functions and filters, and together they cover every old field of the
#    table "Field by field";
# 2. on a real influxd (Debian's 1.x, continuous queries on) fed by qosd
#    (ping, tcp, iperf TCP and UDP, http get/download/upload on local
#    servers), where qos_metrics already holds a point as the old scripts
#    wrote it (integers for status codes and bytes), the continuous
#    queries of the doc (run every 2 s here instead of every minute, so
#    that the test does not wait minutes; their 1m groups and FOR 1h stay)
#    write every old field with the old type; a point delivered ten
#    minutes late reaches qos_metrics; the backfill fills an hour the
#    queries never look at.  A mean() of an integer field is refused by
#    this influxd (the failure the doc's last() avoids).
# No InfluxDB 2 exists here: the Flux task is only compared (1), not run.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/http_nginx.sh"
. "$TOP/tests/tools/demo_env.sh"
doc="$TOP/docs/migration.md"
command -v jq >/dev/null || skip "jq missing (apt-get install jq)"

# block MARKER: the fenced code block whose first line is MARKER.
block() {
	awk -v m="$1" '/^```/ { if (on) exit; fence = !fence; if (fence && (getline l) > 0 && l == m) { on = 1; print l }; next } on' "$doc"
}
cq=$(block "-- qosd-compat: qos_metrics from qosd's measurements (InfluxDB 1.x)")
bf=$(block "-- qosd-compat backfill: replace both times with the range to fill")
flux=$(block "// qosd-compat: qos_metrics from qosd's measurements (InfluxDB 2)")
[ -n "$cq" ] && [ -n "$bf" ] && [ -n "$flux" ] || fail "migration.md lacks a script"

# 1. The same mapping three times.  A mapping: measurement field old_field
# function filter (- when none).
# influxql TEXT: the mappings of its statements (one statement per
# CREATE ... END, or per SELECT).
influxql() {
	printf '%s\n' "$1" | tr '\n' ' ' | sed 's/CREATE CONTINUOUS QUERY/\n/g; s/ SELECT /\nSELECT /g' |
	while IFS= read -r st || [ -n "$st" ]; do
		m=$(sed -n 's/.* FROM "\([a-z_]*\)".*/\1/p' <<<"$st")
		[ -n "$m" ] || continue
		f=$(sed -n "s/.* WHERE \"\\([a-z]*\\)\" = '\\([a-z]*\\)'.*/\\1=\\2/p" <<<"$st")
		grep -o '[a-z]*("[a-z_]*")[ /0-9]* AS "[a-z_]*"' <<<"$st" |
			sed 's/\([a-z]*\)("\([a-z_]*\)")[ /0-9]* AS "\([a-z_]*\)"/\2 \3 \1/' |
			while read -r field old fn; do echo "$m $field $old $fn ${f:--}"; done
	done | sort
}
fluxmap() {
	local wheres
	wheres=$(printf '%s\n' "$1" | sed -n 's/^\([a-z]*\) = (r) => r\.\([a-z]*\) == "\([a-z]*\)"$/\1 \2=\3/p')
	printf '%s\n' "$1" | grep -E '^(compat|scaled)\(' | while IFS= read -r l; do
		m=$(sed -n 's/.*measurement: "\([a-z_]*\)".*/\1/p' <<<"$l")
		field=$(sed -n 's/.*field: "\([a-z_]*\)".*/\1/p' <<<"$l")
		old=$(sed -n 's/.*as: "\([a-z_]*\)".*/\1/p' <<<"$l")
		fn=$(sed -n 's/.*fn: \([a-z]*\).*/\1/p' <<<"$l")
		w=$(sed -n 's/.*where: \([a-z]*\).*/\1/p' <<<"$l")
		f=-
		[ -z "$w" ] || f=$(awk -v w="$w" '$1 == w { print $2 }' <<<"$wheres")
		echo "$m $field $old $fn ${f:-?}"
	done | sort
}
influxql "$cq" >"$T/cq.map"
influxql "$bf" >"$T/bf.map"
fluxmap "$flux" >"$T/flux.map"
# The old fields, from the doc's table.
sed -n 's/^| `\([a-z_]*\)` | `[a-z]*\.[a-z_]*`.*/\1/p' "$doc" | sort >"$T/old"
[ "$(wc -l <"$T/old")" = 14 ] || fail "the table lists $(wc -l <"$T/old") old fields, not the 14 of qos_metrics"
[ "$(wc -l <"$T/cq.map")" = 14 ] || fail "continuous queries map $(wc -l <"$T/cq.map") fields: $(cat "$T/cq.map")"
cut -d' ' -f3 "$T/cq.map" | sort | diff "$T/old" - >"$T/d" || fail "continuous queries vs the table: $(cat "$T/d")"
diff "$T/cq.map" "$T/bf.map" >"$T/d" || fail "backfill differs from the continuous queries: $(cat "$T/d")"
diff "$T/cq.map" "$T/flux.map" >"$T/d" || fail "Flux task differs from the continuous queries: $(cat "$T/d")"
# The old integer fields take last(), never an average.
for o in http_status_code http_download_bytes http_download_status http_upload_status; do
	grep -q " $o last " "$T/cq.map" || fail "$o is not last(): $(grep " $o " "$T/cq.map")"
done
grep -q 'RESAMPLE EVERY 1m FOR 1h' <<<"$cq" || fail "no RESAMPLE ... FOR"
[ "$(grep -c 'RESAMPLE EVERY 1m FOR 1h' <<<"$cq")" = 5 ] || fail "not every query resamples"
grep -q 'range(start: start)' <<<"$flux" && grep -q '^start = -1h$' <<<"$flux" || fail "the task does not re-read an hour"
ok "14 old fields; continuous queries, backfill and Flux task map them alike (integers with last)"

# 2. On a real influxd.
INFLUXD_CQ_EVERY=1s
d="$T/demo"
demo_env "$d"
# iperf every 12 s so that both its jobs (TCP, UDP) run in a short test.
sed -i -e 's/interval = 30;/interval = 12;/' -e 's/timeout = 20;/timeout = 11;/' "$d/qosd.conf"
post() {
	curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "db=qos" --data-urlencode "q=$1"
}
# run_script FILE: as the doc says, curl --data-urlencode 'q@FILE'; every
# statement's result without error.
run_script() {
	local res
	res=$(curl -sf -XPOST "$INFLUX_URL/query?db=qos" --data-urlencode "q@$1") ||
		fail "influxd refused $(basename "$1"): $(curl -s -XPOST "$INFLUX_URL/query?db=qos" --data-urlencode "q@$1")"
	! jq -e '.results[] | select(.error)' <<<"$res" >/dev/null ||
		fail "influxd: $(jq -r '.results[] | select(.error) | .error' <<<"$res" | head -2)"
	[ "$(jq '.results | length' <<<"$res")" = 5 ] || fail "not 5 statements run: $res"
}
write() { curl -sf -XPOST "$INFLUX_URL/write?db=qos&precision=s" --data-binary "$1"; }
now=$(date +%s)
# As the old scripts wrote it (Python ints for status codes and bytes).
write "qos_metrics,target=old.example ping_avg_ms=0.1,ping_min_ms=0.08,ping_max_ms=0.12,ping_jitter_ms=0.01,ping_packet_loss_pct=0.0,iperf_bandwidth_mbps=941.5,iperf_jitter_ms=0.0,http_ping_ms=1.5,http_status_code=200i,http_download_ms=30.5,http_download_bytes=10485760i,http_download_status=200i,http_upload_ms=5.5,http_upload_status=200i $((now - 5))" ||
	fail "cannot write an old point"
"$QOSD" --config "$d/qosd.conf" 2>"$d/qosd.log" &
qpid=$!
track_pid "$qpid"
# The doc's continuous queries, run every 2 s instead of every minute.
sed 's/RESAMPLE EVERY 1m /RESAMPLE EVERY 2s /' <<<"$cq" >"$T/qosd-compat.influxql"
run_script "$T/qosd-compat.influxql"
[ "$(post 'SHOW CONTINUOUS QUERIES' | jq '[.results[0].series[] | select(.name == "qos") | .values[]] | length')" = 5 ] ||
	fail "not 5 continuous queries: $(post 'SHOW CONTINUOUS QUERIES')"

# Every old field for the local target, in qos_metrics, written by the
# queries from qosd's points.
fields_of() {	# target since: the old fields with a value
	influx_query qos "SELECT * FROM qos_metrics WHERE \"target\" = '$1' AND time >= ${2}s" |
		jq -r '.results[0].series[0] as $s | $s.columns as $c | range(1; $c | length) as $i | select(any($s.values[]; .[$i] != null)) | $c[$i]' 2>/dev/null |
		grep -vx target | sort
}
all_fields() { fields_of 127.0.0.1 "$((now - 60))" | diff -q "$T/old" - >/dev/null; }
wait_for 120 all_fields || fail "qos_metrics lacks: $(fields_of 127.0.0.1 "$((now - 60))" | comm -23 "$T/old" - | tr '\n' ' ')($(tail -2 "$d/qosd.log"))"
ok "the continuous queries write all 14 old fields from qosd's points"
post "SHOW FIELD KEYS FROM qos_metrics" | jq -r '.results[0].series[0].values[] | "\(.[0]) \(.[1])"' | sort >"$T/types"
for o in $(cat "$T/old"); do
	case "$o" in http_status_code|http_download_bytes|http_download_status|http_upload_status) want=integer ;; *) want=float ;; esac
	grep -qx "$o $want" "$T/types" || fail "$o is not $want: $(grep "^$o " "$T/types")"
done
ok "old types kept: status codes and bytes integer, the rest float"
res=$(post "SELECT mean(\"status_code\") AS \"http_status_code\" INTO \"qos_metrics\" FROM \"http\" WHERE \"kind\" = 'get' AND time >= $((now - 60))s GROUP BY time(1m), \"target\"")
grep -q 'field type conflict' <<<"$res" || fail "mean() of an integer field was not refused: $res"
ok "mean() of http_status_code is refused (field type conflict): why last()"

# A point the spool delivers ten minutes late.
late=$(( (now - 600) / 60 * 60 ))
write "ping,agent=late,job=gw,target=late.example rtt_avg_ms=2.5,rtt_min_ms=2.0,rtt_max_ms=3.0,jitter_ms=0.5,loss_pct=0.0,result=\"ok\" $((late + 7))" ||
	fail "cannot write the late point"
late_in() { [ "$(influx_query qos "SELECT ping_avg_ms FROM qos_metrics WHERE \"target\" = 'late.example' AND time = ${late}s" | jq '.results[0].series[0].values[0][1]')" = 2.5 ]; }
wait_for 30 late_in || fail "a point 10 minutes late did not reach qos_metrics"
ok "a point delivered 10 minutes late reaches qos_metrics (RESAMPLE ... FOR 1h)"
kill -TERM "$qpid"
wait "$qpid"

# The backfill, over an hour three hours ago that no query looks at.
b0=$(( (now - 3 * 3600) / 3600 * 3600 ))
t=$((b0 + 90))
write "ping,agent=a,job=gw,target=backfill.example rtt_avg_ms=1.0,rtt_min_ms=0.5,rtt_max_ms=1.5,jitter_ms=0.2,loss_pct=20.0,result=\"ok\" $t
iperf,agent=a,job=bw,target=backfill.example,direction=upload,protocol=udp received_bps=100000000.0,jitter_ms=0.3,result=\"ok\" $t
http,agent=a,job=web,target=backfill.example,kind=get total_ms=2.0,status_code=200i,bytes=6i,result=\"ok\" $t
http,agent=a,job=web,target=backfill.example,kind=download total_ms=20.0,status_code=200i,bytes=1048576i,result=\"ok\" $t
http,agent=a,job=web,target=backfill.example,kind=upload total_ms=10.0,status_code=204i,bytes=102400i,result=\"ok\" $t" ||
	fail "cannot write the points to backfill"
sleep 3
[ -z "$(fields_of backfill.example "$b0")" ] || fail "the continuous queries reached 3 hours back"
from=$(date -u -d "@$b0" +%Y-%m-%dT%H:%M:%SZ) to=$(date -u -d "@$((b0 + 3600))" +%Y-%m-%dT%H:%M:%SZ)
sed -e "s/2026-01-01T00:00:00Z/$from/g" -e "s/2026-01-02T00:00:00Z/$to/g" <<<"$bf" >"$T/backfill.influxql"
run_script "$T/backfill.influxql"
fields_of backfill.example "$b0" | diff "$T/old" - >"$T/d" || fail "backfill: $(cat "$T/d")"
[ "$(influx_query qos "SELECT iperf_bandwidth_mbps, http_download_bytes FROM qos_metrics WHERE \"target\" = 'backfill.example'" |
	jq -c '.results[0].series[0].values[0][1:]')" = '[100,1048576]' ] || fail "backfilled values wrong"
ok "the backfill fills all 14 fields where the queries do not look"
