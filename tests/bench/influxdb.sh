#!/bin/bash
# The influxdb sink's throughput into a local influxd beside curl posting
# the same batches in the same run: BENCH_POINTS (500000) points as
# batches of 5000 lines.  curl: one process, one kept-alive connection,
# `--data-binary @batch` per batch (--next), uncompressed.  qosd: the same
# batches as ready segments of a spool, shipped by the sink's shipper
# (gzip off: the same bytes as curl; and gzip on, the default), timed from
# the daemon's start to the last batch gone from ready/.  The three
# alternate BENCH_RUNS (5) times, each run into a fresh database; each
# one's best run counts, and every point is checked to be in InfluxDB.
# Then what the spool costs the parent per batch: append (one write per
# line) and seal, with and without fsync.
. "$(dirname "$0")/lib.sh"
needs influxd influxdb
needs curl curl
needs libdeflate-gzip libdeflate-tools
n=${BENCH_POINTS:-500000}
per=5000
nb=$((n / per))
start_influxd

mkdir -p "$T/batches"
awk -v n="$n" -v per="$per" -v dir="$T/batches" 'BEGIN {
	for (i = 0; i < n; i++) {
		if (i % per == 0) {
			if (f != "") close(f)
			f = sprintf("%s/%06d.lp", dir, i / per)
		}
		printf "bench,host=h%d,region=r%d value=%d.5,count=%di,ok=true 1600000000%09d\n",
		    i % 100, i % 7, i % 1000, i, i >> f
	}
}'
batches=("$T"/batches/*.lp)
[ "${#batches[@]}" = "$nb" ] || fail "made ${#batches[@]} batches, want $nb"

mkdb() { curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE $1" >/dev/null; }
points() {
	influx_query "$1" "SELECT count(count) FROM bench" |
		sed -n 's/.*"values":\[\["[^"]*",\([0-9]*\)\]\].*/\1/p'
}
now() { date +%s.%N; }

# The same batches gzipped as the shipper does (libdeflate, level 1: the
# same bytes), made beforehand: curl posts them without paying for
# compression.
mkdir -p "$T/gz"
for b in "${batches[@]}"; do libdeflate-gzip -1 -c "$b" >"$T/gz/$(basename "$b").gz"; done

curl_run() {	# DB [gz]: seconds
	local db=$1 args=() b t0 t1
	mkdb "$db"
	for b in "${batches[@]}"; do
		[ ${#args[@]} -gt 0 ] && args+=(--next)
		if [ "${2:-}" = gz ]; then
			args+=(-sf -o /dev/null -H 'Content-Encoding: gzip' \
				--data-binary "@$T/gz/$(basename "$b").gz" \
				"$INFLUX_URL/write?db=$db&precision=ns")
		else
			args+=(-sf -o /dev/null --data-binary "@$b" "$INFLUX_URL/write?db=$db&precision=ns")
		fi
	done
	t0=$(now)
	curl "${args[@]}" || fail "curl failed"
	t1=$(now)
	[ "$(points "$db")" = "$n" ] || fail "curl: $(points "$db") points in $db, want $n"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

qosd_run() {	# DB GZIP: seconds
	local db=$1 d="$T/q-$1" i=0 b t0 t1 pid last
	mkdb "$db"
	mkdir -p "$d/spool/ready"
	for b in "${batches[@]}"; do
		i=$((i + 1))
		cp "$b" "$d/spool/ready/$(printf '%016d' "$i")-1.lp"
	done
	cat >"$d/qosd.conf" <<CONF
daemon: { state_dir = "$d"; self_interval = 0; };
sinks = ( { type = "influxdb"; url = "$INFLUX_URL"; database = "$db";
	spool_dir = "$d/spool"; batch_size = $per; gzip = $2; } );
CONF
	sync
	t0=$(now)
	"$QOSD" --config "$d/qosd.conf" 2>"$d/log" &
	pid=$!
	track_pid "$pid"
	# Oldest first: when the last batch is gone, all are.
	last="$d/spool/ready/$(printf '%016d' "$nb")-1.lp"
	for _ in $(seq 60000); do
		[ -e "$last" ] || break
		sleep 0.01
	done
	t1=$(now)
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	[ -z "$(ls "$d/spool/ready" | grep -- '-1\.lp$')" ] || fail "qosd: batches left in ready/: $(tail -3 "$d/log")"
	[ "$(points "$db")" = "$n" ] || fail "qosd: $(points "$db") points in $db, want $n"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

best() { printf '%s\n' "$@" | sort -n | head -1; }
rate() { awk -v n="$n" -v t="$1" 'BEGIN { printf "%.0f", n / t }'; }
# The machine is shared: alternate the three, BENCH_RUNS (5) times each,
# and keep each one's best run.
runs=${BENCH_RUNS:-5} cs=() qs=() gs=() zs=()
for k in $(seq "$runs"); do
	cs+=("$(curl_run "c$k")") || exit 1
	zs+=("$(curl_run "z$k" gz)") || exit 1
	qs+=("$(qosd_run "q$k" false)") || exit 1
	gs+=("$(qosd_run "g$k" true)") || exit 1
	curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=DROP DATABASE c$k" >/dev/null
	curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=DROP DATABASE z$k" >/dev/null
	curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=DROP DATABASE q$k" >/dev/null
	curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=DROP DATABASE g$k" >/dev/null
done
echo "curl: ${cs[*]} s; curl gzip: ${zs[*]} s; qosd: ${qs[*]} s; qosd gzip: ${gs[*]} s" >&2
ct=$(best "${cs[@]}")
crate=$(rate "$ct") qrate=$(rate "$(best "${qs[@]}")") grate=$(rate "$(best "${gs[@]}")")
zrate=$(rate "$(best "${zs[@]}")")
r=$(ratio "$qrate" "$crate")
row "influxdb: points/s, same bytes as curl (gzip off)" "$qrate" "$crate" "$r" ">= 0.9" "$(verdict_ge "$r" 0.9)"
r=$(ratio "$grate" "$zrate")
row "influxdb: points/s, gzip on, curl the same gzip bodies" "$grate" "$zrate" "$r" ">= 0.9" "$(verdict_ge "$r" 0.9)"
row "influxdb: points/s, gzip on, curl plain (info)" "$grate" "$crate" "$(ratio "$grate" "$crate")" "-" "-"

# The spool's cost to the parent, per batch, beside curl's post of one.
sf=$("$BUILD/tools/spool_bench" -f "$T/sb-f" "${batches[@]:0:20}") || fail "spool_bench"
sn=$("$BUILD/tools/spool_bench" "$T/sb-n" "${batches[@]:0:20}") || fail "spool_bench"
post=$(awk -v t="$ct" -v b="$nb" 'BEGIN { printf "%.0f", 1e6 * t / b }')
row "spool: append+fsync+seal per batch (us)" "$sf" "$post" "$(ratio "$sf" "$post")" "-" "-"
row "spool: append+seal, fsync off, per batch (us)" "$sn" "$post" "$(ratio "$sn" "$post")" "-" "-"
