# lib.sh: shared helpers for the integration scripts (sourced, bash).
# Each script gets a temp dir $T, removed at exit, and a cleanup trap that
# stops, by PID, every process registered with track_pid.
set -u
: "${TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${BUILD:=$TOP/build}"
QOSD="$BUILD/qosd"
T=$(mktemp -d /tmp/qosd-it.XXXXXX)
# Under ASan, freed memory sits in a quarantine; keep it small so that
# memory bounds stay measurable (use-after-free detection still works).
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=4}"
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

# Ports are picked below the kernel's ephemeral range (32768-60999 here),
# where no connection's own end can take one between the pick and the
# bind: influxd once failed to start, its port taken so.
port_pick() { echo $(( 10000 + RANDOM % 22000 )); }

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
	local p
	for _ in $(seq 100); do
		p=$(port_pick)
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"; return 0
		fi
	done
	return 1
}

# free_port_udp: a port nobody uses on TCP or UDP right now (ss(8)).
free_port_udp() {
	local p
	for _ in $(seq 100); do
		p=$(port_pick)
		[ -z "$(ss -Htuan "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return 0; }
	done
	return 1
}

# call METHOD PATH [BODY]: a request to the control API on $SOCK; sets
# BODY and CODE.  jqb FILTER: jq -r FILTER of BODY.
call() {
	local out
	out=$(curl -s --unix-socket "$SOCK" -X "$1" -w '\n%{http_code}' ${3:+-d "$3"} "http://qosd$2")
	BODY=$(sed '$d' <<<"$out") CODE=$(tail -n1 <<<"$out")
}
jqb() { jq -r "$1" <<<"$BODY"; }

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local n=$(( $1 * 10 )); shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}

# measured RC: whether qosd --once measured: 0 (every result ok) or 2
# (measured, some result not ok: the targets these tests make fail).
measured() { [ "$1" -eq 0 ] || [ "$1" -eq 2 ]; }

# count_lines PATTERN FILE: lines matching an extended regexp (0 if none).
count_lines() { grep -cE "$1" "$2" 2>/dev/null || true; }

# start_influxd: a throwaway influxd on free loopback ports with data in
# $T/influx; sets INFLUX_URL.  Skips the script when influxd is missing.
# Continuous queries run only when INFLUXD_CQ_EVERY is set (how often
# influxd looks for one due, such as 1s).
start_influxd() {
	command -v influxd >/dev/null || skip "influxd not installed (apt-get install influxdb)"
	local http rpc d="$T/influx" cq="enabled = false"
	[ -z "${INFLUXD_CQ_EVERY:-}" ] ||
		cq="enabled = true
  run-interval = \"$INFLUXD_CQ_EVERY\"
  log-enabled = true"
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
  $cq
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

# netns_pair: two network namespaces of this test, $NSA and $NSB, joined by
# a veth pair (vA in $NSA: 198.18.0.1/24 and 2001:db8::1/64; vB in $NSB:
# 198.18.0.2/24 and 2001:db8::2/64; RFC 2544 and RFC 3849 test ranges that
# exist only inside these namespaces).  Loopback is up in both.  Removed
# at exit.  Skips the script without root or ip(8).  Run a command inside
# with `ip netns exec "$NSA" CMD`.
netns_pair() {
	[ "$(id -u)" = 0 ] || skip "network namespaces need root"
	command -v ip >/dev/null || skip "ip(8) missing (apt-get install iproute2)"
	NSA="qosdA$$" NSB="qosdB$$"
	ip netns add "$NSA" || skip "cannot create a network namespace"
	NETNS+=("$NSA")
	ip netns add "$NSB" || fail "ip netns add $NSB"
	NETNS+=("$NSB")
	ip link add vA netns "$NSA" type veth peer name vB netns "$NSB" || fail "veth"
	ip -n "$NSA" link set lo up
	ip -n "$NSB" link set lo up
	ip -n "$NSA" addr add 198.18.0.1/24 dev vA
	ip -n "$NSB" addr add 198.18.0.2/24 dev vB
	ip -n "$NSA" addr add 2001:db8::1/64 dev vA nodad
	ip -n "$NSB" addr add 2001:db8::2/64 dev vB nodad
	ip -n "$NSA" link set vA up
	ip -n "$NSB" link set vB up
	wait_for 5 ip netns exec "$NSA" ping -c1 -W1 198.18.0.2 >/dev/null ||
		fail "veth pair does not pass traffic"
}
NETNS=()
cleanup_netns() {
	local n
	cleanup
	for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null; done
}
trap cleanup_netns EXIT
