# lib.sh: shared helpers for the integration scripts (sourced, bash).
# Each script gets a temp dir $T, removed at exit, and a cleanup trap that
# stops, by PID, every process registered with track_pid.
set -u
: "${TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${BUILD:=$TOP/build}"
QOSD="$BUILD/qosd"
T=$(mktemp -d /tmp/qosd-it.XXXXXX)
PIDS=()

track_pid() { PIDS+=("$1"); }

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "skip: $*"; exit 77; }
ok() { echo "ok: $*"; }

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
	local p
	for _ in $(seq 100); do
		p=$(( 20000 + RANDOM % 40000 ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"; return 0
		fi
	done
	return 1
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local n=$(( $1 * 10 )); shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}

# count_lines PATTERN FILE: lines matching an extended regexp (0 if none).
count_lines() { grep -cE "$1" "$2" 2>/dev/null || true; }

# start_influxd: a throwaway influxd on free loopback ports with data in
# $T/influx; sets INFLUX_URL.  Skips the script when influxd is missing.
start_influxd() {
	command -v influxd >/dev/null || skip "influxd not installed (apt-get install influxdb)"
	local http rpc d="$T/influx"
	http=$(free_port) rpc=$(free_port)
	mkdir -p "$d"
	cat >"$d/influxd.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$d/meta"
[data]
  dir = "$d/data"
  wal-dir = "$d/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$http"
  log-enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
CONF
	influxd -config "$d/influxd.conf" >"$d/log" 2>&1 &
	INFLUXD_PID=$!
	track_pid "$INFLUXD_PID"
	INFLUX_URL="http://127.0.0.1:$http"
	wait_for 30 curl -sf "$INFLUX_URL/ping" || fail "influxd did not start: $(tail -5 "$d/log")"
}

# influx_query DB QUERY: the JSON answer of InfluxQL QUERY.
influx_query() {
	curl -sf -G "$INFLUX_URL/query" --data-urlencode "db=$1" \
		--data-urlencode "q=$2"
}
