#!/bin/bash
# Every panel of the Grafana dashboard returns data: a real influxd is
# filled by a qosd run of the demo configuration (every collector) plus
# jobs that fail on purpose (http, tcp and iperf to a closed port, a
# program that exits 1), and each panel query is run the way Grafana
# sends it ($timeFilter, $__interval and $agent filled in).  A query for
# failures (result != 'ok') may be empty only for ping, which cannot fail
# on loopback.  The dashboard names no datasource uid (a datasource
# variable instead, so that it imports into any Grafana), its failures
# panel covers every measuring collector and counts no ok run, and its
# delivery panel shows what was spooled.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/http_nginx.sh"
. "$TOP/tests/tools/demo_env.sh"
dash="$TOP/etc/grafana/dashboards/qosd.json"
jq -e '.panels | length > 10' "$dash" >/dev/null || fail "dashboard has no panels"
# The datasource: a variable of type datasource, and every reference to it.
jq -e '.templating.list[] | select(.name == "datasource" and .type == "datasource" and .query == "influxdb")' \
	"$dash" >/dev/null || fail "no datasource variable of InfluxDB"
uids=$(jq -r '[.. | objects | select(has("datasource")) | .datasource | objects | .uid] | unique | join(" ")' "$dash")
[ "$uids" = '${datasource}' ] || fail "datasource uids in the dashboard: $uids (want only \${datasource})"
ok "datasource: the variable \$datasource, no hard-coded uid"
failq=$(jq -r '.panels[] | select(.title == "Failed measurements by result") | .targets[].query' "$dash")
for m in ping tcp iperf http qosd_job; do
	printf '%s\n' "$failq" | grep -F "FROM \"$m\"" | grep -qF "\"result\" != 'ok'" ||
		fail "failures panel: no query of $m results other than ok"
done
jq -r '.panels[] | select(.title | startswith("Delivery")) | .targets[].query' "$dash" |
	grep -q 'last("spooled")' || fail "the delivery panel does not plot spooled"
ok "failures panel: ping, tcp, iperf, http, qosd_job, ok excluded; delivery plots spooled"
d="$T/demo"
demo_env "$d"
closed=$(free_port)
# iperf every 12 s so that a short run has it; jobs that fail: http, tcp
# and iperf to a closed port, a program that exits 1.
fails="\\t{ name = \"down\"; collector = \"http\"; url = \"http://127.0.0.1:$closed/\"; },"
fails="$fails\\n\\t{ name = \"tcp-down\"; collector = \"tcp\"; targets = [ \"127.0.0.1\" ]; port = $closed; count = 1; },"
fails="$fails\\n\\t{ name = \"bw-down\"; collector = \"iperf\"; server = \"127.0.0.1\"; port = $closed; exclusive = false; interval = 5; timeout = 4; duration = 1; busy_retries = 0; },"
fails="$fails\\n\\t{ name = \"broken\"; collector = \"exec\"; interval = 5; command = [ \"/bin/false\" ]; },"
sed -i -e 's/interval = 30;/interval = 12;/' -e 's/timeout = 20;/timeout = 11;/' \
	-e "s|^jobs = (|jobs = (\\n$fails|" "$d/qosd.conf"
"$QOSD" --check-config --config "$d/qosd.conf" || fail "config"
"$QOSD" --config "$d/qosd.conf" 2>"$d/qosd.log" &
qpid=$!
track_pid "$qpid"
sleep 26
kill -TERM "$qpid"
wait "$qpid" || fail "qosd exit $?: $(tail -3 "$d/qosd.log")"
sink_points() { [ "$(influx_points '"qosd_sink"')" -gt 0 ]; }
wait_for 10 sink_points || fail "nothing reached InfluxDB: $(tail -5 "$d/qosd.log")"

panels=0 queries=0
np=$(jq '.panels | length' "$dash")
for i in $(seq 0 $((np - 1))); do
	[ "$(jq -r ".panels[$i].type" "$dash")" = row ] && continue
	title=$(jq -r ".panels[$i].title" "$dash")
	panels=$((panels + 1))
	any=0 empty=()
	while IFS= read -r query; do
		queries=$((queries + 1))
		sql=$(printf '%s' "$query" | sed -e 's/\$timeFilter/time > now() - 1h/g' \
			-e 's/\$__interval/10s/g' -e 's/\$agent/.*/g')
		res=$(influx_query qos "$sql") || fail "$title: query failed: $sql"
		if printf '%s' "$res" | jq -e '.results[0].error' >/dev/null; then
			fail "$title: $(printf '%s' "$res" | jq -r '.results[0].error'): $sql"
		fi
		if printf '%s' "$res" | jq -e '[.results[0].series[]?.values[][1:][] | select(. != null)] | length > 0' >/dev/null; then
			any=1
		else
			empty+=("$query")
		fi
	done < <(jq -r ".panels[$i].targets[].query" "$dash")
	[ "$any" = 1 ] || fail "panel \"$title\" has no data"
	for e in "${empty[@]}"; do
		case "$e" in *'FROM "ping"'*"!= 'ok'"*) ;; *) fail "panel \"$title\": no data for: $e" ;; esac
	done
done
[ "$panels" -ge 15 ] || fail "only $panels panels checked"
ok "$panels panels, $queries queries, each panel with data"
