#!/bin/bash
# Every panel of the Grafana dashboard returns data: a real influxd is
# filled by a qosd run of the demo configuration (every collector) plus a
# job that fails on purpose, and each panel query is run the way Grafana
# sends it ($timeFilter, $__interval and $agent filled in).  A query for
# failures (result != 'ok') of a collector that cannot fail on loopback
# may be empty when another query of its panel has data.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/http_nginx.sh"
. "$TOP/tests/tools/demo_env.sh"
dash="$TOP/etc/grafana/dashboards/qosd.json"
jq -e '.panels | length > 10' "$dash" >/dev/null || fail "dashboard has no panels"
d="$T/demo"
demo_env "$d"
closed=$(free_port)
# iperf every 12 s so that a short run has it; one http job that fails.
sed -i -e 's/interval = 30;/interval = 12;/' -e 's/timeout = 20;/timeout = 11;/' \
	-e "s|^jobs = (|jobs = (\\n\\t{ name = \"down\"; collector = \"http\"; url = \"http://127.0.0.1:$closed/\"; },|" \
	"$d/qosd.conf"
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
		case "$e" in *"!= 'ok'"*) ;; *) fail "panel \"$title\": no data for: $e" ;; esac
	done
done
[ "$panels" -ge 15 ] || fail "only $panels panels checked"
ok "$panels panels, $queries queries, each panel with data"
