#!/bin/bash
# The control API and the prometheus sink beside the scheduler: one daemon
# with 1000 jobs at 1 s (as sched.sh) and a prometheus sink, whose series
# (each job's testcoll and qosd_job fields) make about 10,000; three
# windows of BENCH_SECONDS (30) each: the API idle, the API under load
# (CLIENTS, 8, curl loops of status, a job, the list of 1000 jobs,
# run-now, result and bad requests; bounded by count and time), and scrapes back to back.  Rows:
# the scheduler's lag p99 and max in each window (qosd_job.lag_us of
# every run that ended in it), beside the machine's own in the same
# window (cyclictest at the daemon's priority, as in sched.sh); the
# scheduler's target holds under API load and under scrapes: at most
# 200 us over the machine's p99.  A scrape of the ~10,000 series (time,
# size); the daemon's CPU per scrape beyond the idle window's; requests
# served.  BENCH_SETTLE (12) seconds after the start before the first
# window, BENCH_SELF (5) the daemon's self_interval (each window's runs
# are read one self interval after it).
. "$(dirname "$0")/lib.sh"
needs curl curl
needs cyclictest rt-tests
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

# lag NAME T0 T1 (ns): "p99 max" of the lag of every run that ended in
# [T0, T1), and the machine's "p99 max" from NAME's histogram.
lag() {
	awk -v t0="$2" -v t1="$3" '/^qosd_job,/ && $NF >= t0 && $NF < t1 &&
	    match($0, /lag_us=[0-9]+i/) { print substr($0, RSTART + 7, RLENGTH - 8) }' \
		"$out" | sort -n >"$T/lag.$1"
	[ -s "$T/lag.$1" ] || fail "$1: no run ended in the window: $(tail -3 "$T/log")"
	read -r _ q99 qmax <<<"$(pct "$T/lag.$1")"
	read -r _ m99 mmax mn _ <<<"$(hist_pct "$T/cyc.$1.hist")"
	[ "$mn" -gt 0 ] || fail "$1: cyclictest gave no histogram: $(head -3 "$T/cyc.$1.out")"
	echo "$q99 $qmax $m99 $mmax"
}
# window: wait secs (cyclictest's too).
window() { sleep "$secs"; wait "$CYC"; }

# 1. Idle.
t0=$(date +%s%N); c0=$(cpu_s "$pid")
machine_start "$secs" "$T/cyc.idle"
window
c1=$(cpu_s "$pid"); t1=$(date +%s%N)
sleep $((self + 1))
read -r idle_p99 idle_max idle_m99 idle_mmax <<<"$(lag idle "$t0" "$t1")"

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
machine_start "$secs" "$T/cyc.load"
for i in $(seq "$clients"); do client "$i" & done
# Every job but the daemon: the clients, or the scrapers, and cyclictest.
wait_clients() { local p; for p in $(jobs -p); do [ "$p" = "$pid" ] || wait "$p"; done; }
wait_clients
t3=$(date +%s%N)
sleep $((self + 1))
read -r load_p99 load_max load_m99 load_mmax <<<"$(lag load "$t2" "$t3")"
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
machine_start "$secs" "$T/cyc.scrape"
scraper 1 & scraper 2 &
wait_clients
c5=$(cpu_s "$pid"); t5=$(date +%s%N)
sleep $((self + 1))
read -r scr_p99 scr_max scr_m99 scr_mmax <<<"$(lag scrape "$t4" "$t5")"
nscr=$(cat "$T"/scrape.* | wc -l)
stime=$(cat "$T"/scrape.* | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f %.1f", 1000 * v[int(NR / 2) + 1], 1000 * v[int(NR * 0.99) + 1] }')
kill -TERM "$pid"; wait "$pid"
# CPU per scrape: the window's CPU beyond the idle window's, per scrape.
per=$(awk -v a="$c0" -v b="$c1" -v ta="$t0" -v tb="$t1" -v c="$c4" -v d="$c5" -v tc="$t4" -v td="$t5" -v n="$nscr" \
	'BEGIN { idle = (b - a) / ((tb - ta) / 1e9); busy = (d - c) / ((td - tc) / 1e9); printf "%.2f", 1000 * (busy - idle) * ((td - tc) / 1e9) / n }')
# lagrows AREA WINDOW P99 MAX M99 MMAX TARGET: qosd's p99 and max beside
# the machine's; the p99's target +200 us over the machine's (or none).
lagrows() {
	local d99=$(($3 - $5)) dmax=$(($4 - $6)) v="-" t="-"
	if [ "$7" = yes ]; then t="+<=200" v="$(verdict_le "$d99" 200) "; else v=""; fi
	row "$1: lag p99 (us) vs machine, $2" "$3" "$5" "$(ratio "$3" "$5")" "$t" "$v($(signed "$d99"))"
	row "$1: lag max (us) vs machine, $2" "$4" "$6" "$(ratio "$4" "$6")" - "($(signed "$dmax"))"
}
lagrows control "API idle" "$idle_p99" "$idle_max" "$idle_m99" "$idle_mmax" no
lagrows control "API under load" "$load_p99" "$load_max" "$load_m99" "$load_mmax" yes
row "control: API requests served under load (per s, $clients clients)" "$rps" "-" "-" "-" "-"
lagrows prometheus "scrapes back to back" "$scr_p99" "$scr_max" "$scr_m99" "$scr_mmax" yes
row "prometheus: scrape of $series series, $((bytes / 1024)) KiB: median | p99 (ms)" "${stime% *}" "${stime#* }" "-" "-" "-"
row "prometheus: daemon CPU per scrape (ms), $nscr scrapes" "$per" "-" "-" "-" "-"
