#!/bin/bash
# qosd-reflector's systemd unit, offline (no systemd is booted):
# - the installed unit passes systemd-analyze verify, and its security
#   exposure is 1.5 or less; it runs as a dynamic user with
#   CAP_NET_BIND_SERVICE alone;
# - every system call the reflector makes (traced with strace through
#   STAMP, both echoes, --status, SIGHUP and SIGTERM) is one the unit's
#   filter allows, and its sockets are of the families it allows;
# - run as nobody with only CAP_NET_BIND_SERVICE, it binds port 862 and
#   then holds no capability; without it, port 862 is refused.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip "systemd-analyze missing (apt-get install systemd)"
make -s -C "$TOP" install BUILD="$BUILD" DESTDIR="$T/root" PREFIX=/usr >/dev/null || fail "make install"
unit="$T/root/lib/systemd/system/qosd-reflector.service"
[ -f "$unit" ] || fail "unit not installed"
[ -f "$T/root/etc/default/qosd-reflector" ] || fail "/etc/default/qosd-reflector not installed"
[ -x "$T/root/usr/sbin/qosd-reflector" ] || fail "binary not installed"

# 1. verify (ExecStart= pointed at the staged binary) and exposure.
sed "s|/usr/sbin/qosd-reflector|$T/root/usr/sbin/qosd-reflector|g" "$unit" >"$T/qosd-reflector.service"
out=$(systemd-analyze verify --man=no "$T/qosd-reflector.service" 2>&1) || fail "verify: $out"
[ -z "$out" ] || fail "verify warns: $out"
exp=$(systemd-analyze security --offline=true "$unit" 2>&1 |
	sed -n 's/.*Overall exposure level for qosd-reflector.service: \([0-9.]*\).*/\1/p')
[ -n "$exp" ] || fail "no exposure level"
awk -v e="$exp" 'BEGIN { exit !(e <= 1.5) }' || fail "exposure $exp > 1.5"
for k in 'Type=notify' 'DynamicUser=yes' 'RuntimeDirectory=qosd-reflector' \
    'AmbientCapabilities=CAP_NET_BIND_SERVICE' 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE' \
    'EnvironmentFile=-/etc/default/qosd-reflector' 'NoNewPrivileges=yes'; do
	grep -qxF "$k" "$unit" || fail "unit lacks $k"
done
. "$T/root/etc/default/qosd-reflector"
[ -n "${QOSD_REFLECTOR_OPTS:-}" ] || fail "no QOSD_REFLECTOR_OPTS"
# shellcheck disable=SC2086
"$BUILD/qosd-reflector" $QOSD_REFLECTOR_OPTS --stamp 0 --control none --help >/dev/null ||
	fail "the shipped options do not parse"
ok "verify clean, exposure $exp, dynamic user, CAP_NET_BIND_SERVICE alone"

# 2. The system call filter: what the unit allows, against what the
# reflector calls.
expand() {	# expand @GROUP: its calls, nested groups expanded
	systemd-analyze syscall-filter "$1" | sed -n 's/^    \([^ #]*\)$/\1/p' |
	while read -r s; do
		case $s in @*) expand "$s" ;; *) echo "$s" ;; esac
	done
}
command -v strace >/dev/null || skip "strace missing (apt-get install strace)"
allow=$(sed -n 's/^SystemCallFilter=\([^~].*\)/\1/p' "$unit" | tr ' ' '\n')
deny=$(sed -n 's/^SystemCallFilter=~//p' "$unit" | tr ' ' '\n')
first=$(echo "$allow" | head -1)
{ expand "$first"; echo "$allow" | tail -n +2; } | sort -u >"$T/allowed0"
for g in $deny; do expand "$g"; done | sort -u >"$T/denied"
comm -23 "$T/allowed0" "$T/denied" >"$T/allowed"
echo "$allow" | tail -n +2 >>"$T/allowed"	# allowed again after the deny
sort -u -o "$T/allowed" "$T/allowed"
grep -qx capset "$T/allowed" && ! grep -qx adjtimex "$T/allowed" || fail "filter arithmetic: capset/adjtimex"

SP=$(free_port_udp) UP=$(free_port_udp) TP=$(free_port_udp)
strace -f -qq -o "$T/trace" "$BUILD/qosd-reflector" --allow 127.0.0.1 --allow ::1 \
	--stamp "$SP" --udp-echo "$UP" --tcp-echo "$TP" --control "$T/ctl" \
	--stats-interval 1 --stats-file "$T/stats.lp" >"$T/out" 2>"$T/log" &
SPID=$!
track_pid "$SPID"
wait_for 10 "$BUILD/qosd-reflector" --status --control "$T/ctl" >/dev/null 2>&1 ||
	fail "reflector under strace: $(cat "$T/log")"
RPID=$(pgrep -P "$SPID")	# strace's child: signals go to it
[ -n "$RPID" ] || fail "no traced reflector"
track_pid "$RPID"	# a killed strace would leave it running
C="$BUILD/tools/stamp_client"
"$C" --count 5 127.0.0.1 "$SP" | grep -q 'received=5 ' || fail "stamp under strace"
"$C" --count 5 --ptp ::1 "$SP" | grep -q 'received=5 ' || fail "stamp ptp under strace"
"$C" --echo --count 5 ::1 "$UP" | grep -q 'received=5 ' || fail "echo under strace"
"$C" --tcp --count 50 127.0.0.1 "$TP" | grep -q 'same=yes' || fail "tcp under strace"
"$C" --count 3 --timeout 200 --bind 127.0.0.2 127.0.0.1 "$SP" >/dev/null
sleep 1.2	# a stats tick
kill -HUP "$RPID"
sleep 0.2
kill -TERM "$RPID"
wait "$SPID" 2>/dev/null
grep -q 'SIGHUP: reopening' "$T/log" && grep -q '^stopping' "$T/log" || fail "signals: $(cat "$T/log")"
sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*/\1/p' "$T/trace" | sort -u >"$T/called"
[ "$(wc -l <"$T/called")" -gt 20 ] || fail "trace too short: $(head "$T/trace")"
# Denied on purpose, with a fallback: adjtimex(2) (glibc's is the system
# call clock_adjtime) under ProtectClock=yes: --clock auto then says not
# synchronized, and logs it once.
handled="clock_adjtime"
miss=$(comm -23 "$T/called" "$T/allowed" | grep -vxF "$handled" | tr '\n' ' ')
[ -z "$miss" ] || fail "the unit's filter denies what the reflector calls: $miss"
fams=$(sed -n 's/.*socket(\(AF_[A-Z0-9]*\),.*/\1/p' "$T/trace" | sort -u | tr '\n' ' ')
for f in $fams; do
	grep -q "^RestrictAddressFamilies=.*\b$f\b" "$unit" || fail "socket family $f not allowed by the unit"
done
ok "$(wc -l <"$T/called") system calls, all allowed by the unit's filter; socket families: $fams"

# 3. Port 862 with CAP_NET_BIND_SERVICE alone, as nobody; then no
# capability at all.  In a namespace of its own, so port 862 is free.
[ "$(id -u)" = 0 ] || skip "setpriv needs root"
command -v setpriv >/dev/null || skip "setpriv missing (util-linux)"
NS="qosdU$$"
ip netns add "$NS" || skip "cannot create a network namespace"
NETNS+=("$NS")
ip -n "$NS" link set lo up
chmod o+x "$T"	# nobody reaches its status socket
mkdir -m 1777 "$T/nobody"
caps=(--inh-caps=-all,+net_bind_service --ambient-caps=-all,+net_bind_service
	--bounding-set=-all,+net_bind_service)
ip netns exec "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups "${caps[@]}" \
	"$BUILD/qosd-reflector" --allow 127.0.0.1 --control "$T/nobody/ctl" \
	>"$T/nb.out" 2>"$T/nb.log" &
NPID=$!
track_pid "$NPID"
wait_for 10 "$BUILD/qosd-reflector" --status --control "$T/nobody/ctl" >/dev/null 2>&1 ||
	fail "as nobody with CAP_NET_BIND_SERVICE: $(cat "$T/nb.log")"
ip netns exec "$NS" "$C" --count 3 127.0.0.1 862 | grep -q 'received=3 ' || fail "no answer on port 862"
for k in CapInh CapPrm CapEff CapAmb; do
	v=$(sed -n "s/^$k:\t//p" "/proc/$NPID/status")
	[ "$v" = 0000000000000000 ] || [ "$k" = CapInh ] || fail "$k $v after binding"
done
awk '/^Uid:/ { exit !($2 == 65534) }' "/proc/$NPID/status" || fail "not running as nobody"
ok "as nobody with CAP_NET_BIND_SERVICE: port 862 answered, then no capability held"
ip netns exec "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	--bounding-set=-all "$BUILD/qosd-reflector" --allow any --stamp 863 --control none \
	>/dev/null 2>"$T/nocap.log" && fail "port 863 bound without the capability"
grep -q 'bind: Permission denied' "$T/nocap.log" || fail "without the capability: $(cat "$T/nocap.log")"
ok "without it, port 863 is refused: $(head -1 "$T/nocap.log")"
