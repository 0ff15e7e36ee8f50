#!/bin/bash
# The installed unit: systemd-analyze verify is clean and the offline
# security exposure is 1.5 or less.  No systemd is booted.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip "systemd-analyze missing (apt-get install systemd)"
make -s -C "$TOP" install BUILD="$BUILD" DESTDIR="$T/root" PREFIX=/usr >/dev/null || fail "make install"
unit="$T/root/lib/systemd/system/qosd.service"
[ -f "$unit" ] || fail "unit not installed"
[ -f "$T/root/usr/lib/sysusers.d/qosd.conf" ] || fail "sysusers.d snippet not installed"
# verify checks that ExecStart= binaries exist: point them at the staged one.
sed "s|/usr/sbin/qosd|$T/root/usr/sbin/qosd|g" "$unit" >"$T/qosd.service"
out=$(systemd-analyze verify --man=no "$T/qosd.service" 2>&1) || fail "verify: $out"
[ -z "$out" ] || fail "verify warns: $out"
ok "systemd-analyze verify clean"
exp=$(systemd-analyze security --offline=true "$unit" 2>&1 | sed -n 's/.*Overall exposure level for qosd.service: \([0-9.]*\).*/\1/p')
[ -n "$exp" ] || fail "no exposure level: $(systemd-analyze security --offline=true "$unit" 2>&1 | tail -3)"
awk -v e="$exp" 'BEGIN { exit !(e <= 1.5) }' || fail "exposure $exp > 1.5"
for k in 'Type=notify' 'WatchdogSec=' 'Restart=on-failure' 'ExecReload=/bin/kill -HUP $MAINPID' \
    'AmbientCapabilities=CAP_NET_RAW' 'CapabilityBoundingSet=CAP_NET_RAW' 'User=qosd' \
    'StateDirectory=qosd' 'ConfigurationDirectory=qosd' 'LoadCredential=influxdb-token:'; do
	grep -qF "$k" "$unit" || fail "unit lacks $k"
done
ok "exposure $exp"
# Real-time for the daemon only: whatever it forks starts at SCHED_OTHER
# (RestrictRealtime= keeps any of them from coming back).
if grep -q '^CPUSchedulingPolicy=fifo' "$unit"; then
	grep -qx 'CPUSchedulingResetOnFork=yes' "$unit" || fail "SCHED_FIFO without CPUSchedulingResetOnFork=yes: runs would measure real-time"
	grep -qx 'RestrictRealtime=yes' "$unit" || fail "SCHED_FIFO without RestrictRealtime=yes"
	ok "SCHED_FIFO for the daemon, reset on fork, RestrictRealtime"
fi
