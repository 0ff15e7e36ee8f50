#!/bin/bash
# The installed unit: systemd-analyze verify is clean and the offline
# security exposure is 1.6 or less, each system call the filter lets back
# in named in a comment; no ExecStartPre= (its exit status escapes
# RestartPreventExitStatus=), no credential by path (a missing file is
# fatal in systemd 252).  No systemd is booted here: make check-system
# starts the unit under a booted systemd.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip "systemd-analyze missing (apt-get install systemd)"
make -s -C "$TOP" install BUILD="$BUILD" DESTDIR="$T/root" PREFIX=/usr >/dev/null || fail "make install"
unit="$T/root/lib/systemd/system/qosd.service"
[ -f "$unit" ] || fail "unit not installed"
[ -f "$T/root/usr/lib/sysusers.d/qosd.conf" ] || fail "sysusers.d snippet not installed"
# verify checks that ExecStart= binaries exist: point them at the staged one.
sed -e "s|/usr/sbin/qosd|$T/root/usr/sbin/qosd|g" \
    -e "s|/usr/bin/qosctl|$T/root/usr/bin/qosctl|g" "$unit" >"$T/qosd.service"
out=$(systemd-analyze verify --man=no "$T/qosd.service" 2>&1) || fail "verify: $out"
[ -z "$out" ] || fail "verify warns: $out"
ok "systemd-analyze verify clean"
exp=$(systemd-analyze security --offline=true "$unit" 2>&1 | sed -n 's/.*Overall exposure level for qosd.service: \([0-9.]*\).*/\1/p')
[ -n "$exp" ] || fail "no exposure level: $(systemd-analyze security --offline=true "$unit" 2>&1 | tail -3)"
awk -v e="$exp" 'BEGIN { exit !(e <= 1.6) }' || fail "exposure $exp > 1.6"
for k in 'Type=notify' 'WatchdogSec=' 'Restart=on-failure' \
    'ExecReload=/usr/bin/qosctl --socket /run/qosd/control reload' \
    'RuntimeDirectory=qosd' 'RuntimeDirectoryMode=0750' \
    'AmbientCapabilities=CAP_NET_RAW' 'CapabilityBoundingSet=CAP_NET_RAW' 'User=qosd' \
    'StateDirectory=qosd' 'ConfigurationDirectory=qosd' 'LoadCredential=influxdb-token' \
    'RestartPreventExitStatus=78' 'StartLimitBurst='; do
	grep -qF "$k" "$unit" || fail "unit lacks $k"
done
! grep -q '^ExecStartPre=' "$unit" || fail "ExecStartPre=: a failure there restarts forever"
! grep -q '^LoadCredential=[^:]*:' "$unit" ||
	fail "a credential by path: systemd 252 fails the unit when the file is missing"
ok "exposure $exp"
# Each system call allowed back after the deny list is justified.
allowed=$(sed -n '/^SystemCallFilter=~/,$ { /^SystemCallFilter=[^~@]/ { s/^SystemCallFilter=//; p } }' "$unit")
for s in $allowed; do
	grep -q "^#.*\b$s\b" "$unit" || fail "SystemCallFilter allows $s back without a comment"
done
echo "$allowed" | grep -qw capset || fail "capset denied: children cannot drop CAP_NET_RAW"
ok "allowed back, each with its reason: $allowed"
# Real time for the daemon (and its spawner): every other process puts
# itself back at SCHED_OTHER and nice 0, so the filter must allow that and
# RestrictRealtime= must keep them from coming back.
if grep -q '^CPUSchedulingPolicy=fifo' "$unit"; then
	grep -qx 'RestrictRealtime=yes' "$unit" || fail "SCHED_FIFO without RestrictRealtime=yes"
	grep -q '^SystemCallFilter=sched_setscheduler setpriority' "$unit" ||
		fail "SCHED_FIFO, yet the filter keeps runs from leaving it"
	ok "SCHED_FIFO for the daemon, RestrictRealtime, runs may step down"
fi
# tests/tools/unit_filter, which tests and the bench run qosd under, denies
# what the unit denies of @resources (nice(2) is no system call on x86-64).
if systemd-analyze syscall-filter @resources >/dev/null 2>&1; then
	systemd-analyze syscall-filter @resources | sed -n 's/^    \([a-z_0-9]*\)$/\1/p' |
		grep -vx 'sched_setscheduler\|setpriority' | sort >"$T/unit.deny"
	"$BUILD/tools/unit_filter" -l | sort >"$T/tool.deny"
	miss=$(comm -23 "$T/unit.deny" "$T/tool.deny" | grep -vx nice | tr '\n' ' ')
	extra=$(comm -13 "$T/unit.deny" "$T/tool.deny" | tr '\n' ' ')
	[ -z "$miss$extra" ] || fail "unit_filter differs from the unit: misses [$miss], adds [$extra]"
	ok "unit_filter denies what the unit denies of @resources"
fi
