#!/bin/bash
# The control API and the prometheus sink beside the scheduler: one daemon
# with 1000 jobs at 1 s (as sched.sh) and a prometheus sink, whose series
# (each job's testcoll and qosd_job fields) make about 10,000; three
# windows of BENCH_SECONDS (30) each: the API idle, the API under load
# (CLIENTS, 8, curl loops of status, a job, the list of 1000 jobs,
# run-now, result and bad requests; bounded by count and time), and scrapes back to back.  Rows:
# the scheduler's lag p99 and max in each window, side by side; a scrape
# of the ~10,000 series (time, size); the daemon's CPU per scrape beyond
# the idle window's; requests served.  BENCH_SETTLE (12) seconds after
# the start before the first window, BENCH_SELF (5) the daemon's
# self_interval (each window's lag is read one self interval after it).
. "$(dirname "$0")/lib.sh"
needs curl curl
secs=${BENCH_SECONDS:-30}
settle=${BENCH_SETTLE:-12}
self=${BENCH_SELF:-5}
clients=${CLIENTS:-8}
out="$T/out.lp"
port=$(free_port)
SOCK="$T/control"
{
	echo 'agent: { id = "bench"; };'
	echo "daemon: { self_interval = $self; max_children = 200; realtime = ${BENCH_REALTIME:-true}; };"
	echo 'defaults: { interval = 1; timeout = 0.9; splay = 1; };'
	echo "sinks = ( { type = \"file\"; path = \"$out\"; },"
	echo "  { type = \"prometheus\"; listen = \"127.0.0.1:$port\"; } );"
	echo "control = { socket = \"$SOCK\"; socket_group = \"\"; results_max = 100000; };"
	echo 'jobs = ('
	for i in $(seq 1000); do
		[ "$i" -gt 1 ] && echo ','
		echo "{ name = \"j$i\"; collector = \"testcoll\"; targets = [ \"t\" ]; }"
	done
	echo ');'
} >"$T/bench.conf"
${BENCH_WRAP:-chrt -f 1 nice -n -5 $BUILD/tools/unit_filter} "$QOSD" --plugin-dir "$BUILD/tests/plugins" --config "$T/bench.conf" 2>"$T/log" &
pid=$!
track_pid "$pid"
sleep "$settle"	# settle; every job has run, every series exists
kill -0 "$pid" 2>/dev/null || fail "qosd died: $(tail -5 "$T/log")"

# lag WINDOW_START_NS: the largest p99 and max of the qosd points since.
lag() {
	awk -v t0="$1" '/^qosd,/ && $NF > t0 {
		if (match($0, /lag_p99_us=[0-9]+/)) { v = substr($0, RSTART + 11, RLENGTH - 11); if (v + 0 > p) p = v + 0 }
		if (match($0, /lag_max_us=[0-9]+/)) { v = substr($0, RSTART + 11, RLENGTH - 11); if (v + 0 > m) m = v + 0 }
	} END { print p + 0, m + 0 }' "$out"
}
# window: wait secs, plus one self interval for its last point.
window() { sleep "$secs"; }

# 1. Idle.
t0=$(date +%s%N); c0=$(cpu_s "$pid")
window
c1=$(cpu_s "$pid"); t1=$(date +%s%N)
sleep $((self + 1))
read -r idle_p99 idle_max <<<"$(lag "$t0")"

# 2. The API under load: bounded loops, each at most 100000 requests.
client() {
	local end=$((SECONDS + secs)) n=0 c=(curl -s -o /dev/null --max-time 5 --unix-socket "$SOCK")
	while [ $SECONDS -lt $end ] && [ $n -lt 100000 ]; do
		case $((n % 7)) in
		0) "${c[@]}" http://q/v1/status ;;
		1) "${c[@]}" "http://q/v1/jobs/j$((RANDOM % 1000 + 1))" ;;
		2) "${c[@]}" -X POST "http://q/v1/jobs/j$((RANDOM % 1000 + 1))/run" ;;
		3) "${c[@]}" "http://q/v1/results/nosuch" ;;
		4) "${c[@]}" -X POST -d '{"bad": ' http://q/v1/probes ;;
		5) "${c[@]}" -X BREW http://q/v1/status ;;
		6) "${c[@]}" http://q/v1/jobs ;;
		esac
		n=$((n + 1))
	done
	echo "$n" >"$T/served.$1"
}
t2=$(date +%s%N)
for i in $(seq "$clients"); do client "$i" & done
wait_clients() { local p; for p in $(jobs -p); do [ "$p" = "$pid" ] || wait "$p"; done; }
wait_clients
sleep $((self + 1))
read -r load_p99 load_max <<<"$(lag "$t2")"
served=$(cat "$T"/served.* | awk '{ s += $1 } END { print s }')
rps=$(awk -v n="$served" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')

# 3. Scrapes back to back, two at a time.
curl -s "http://127.0.0.1:$port/metrics" >"$T/m"
series=$(grep -vc '^#' "$T/m")
bytes=$(wc -c <"$T/m")
scraper() {
	local end=$((SECONDS + secs)) n=0
	while [ $SECONDS -lt $end ] && [ $n -lt 10000 ]; do
		curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/metrics" >>"$T/scrape.$1"
		n=$((n + 1))
	done
}
t4=$(date +%s%N); c4=$(cpu_s "$pid")
scraper 1 & scraper 2 &
wait_clients
c5=$(cpu_s "$pid"); t5=$(date +%s%N)
sleep $((self + 1))
read -r scr_p99 scr_max <<<"$(lag "$t4")"
nscr=$(cat "$T"/scrape.* | wc -l)
stime=$(cat "$T"/scrape.* | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f %.1f", 1000 * v[int(NR / 2) + 1], 1000 * v[int(NR * 0.99) + 1] }')
kill -TERM "$pid"; wait "$pid"
# CPU per scrape: the window's CPU beyond the idle window's, per scrape.
per=$(awk -v a="$c0" -v b="$c1" -v ta="$t0" -v tb="$t1" -v c="$c4" -v d="$c5" -v tc="$t4" -v td="$t5" -v n="$nscr" \
	'BEGIN { idle = (b - a) / ((tb - ta) / 1e9); busy = (d - c) / ((td - tc) / 1e9); printf "%.2f", 1000 * (busy - idle) * ((td - tc) / 1e9) / n }')
row "control: lag p99 (us), API idle | API under load" "$idle_p99" "$load_p99" "$(ratio "$load_p99" "$idle_p99")" "<= 1000" "$(verdict_le "$load_p99" 1000)"
row "control: lag max (us), API idle | API under load" "$idle_max" "$load_max" "$(ratio "$load_max" "$idle_max")" "-" "-"
row "control: API requests served under load (per s, $clients clients)" "$rps" "-" "-" "-" "-"
row "prometheus: lag p99 (us), API idle | scrapes back to back" "$idle_p99" "$scr_p99" "$(ratio "$scr_p99" "$idle_p99")" "<= 1000" "$(verdict_le "$scr_p99" 1000)"
row "prometheus: lag max (us), API idle | scrapes back to back" "$idle_max" "$scr_max" "$(ratio "$scr_max" "$idle_max")" "-" "-"
row "prometheus: scrape of $series series, $((bytes / 1024)) KiB: median | p99 (ms)" "${stime% *}" "${stime#* }" "-" "-" "-"
row "prometheus: daemon CPU per scrape (ms), $nscr scrapes" "$per" "-" "-" "-" "-"
