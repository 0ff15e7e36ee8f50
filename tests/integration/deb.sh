#!/bin/bash
# make deb: lintian reports no error; the package holds the binary (built
# for /usr), the plugins, the conffile, the unit, the sysusers snippet and
# the docs the configuration names; on its files
# (extracted into a root of this test, never the host) systemd-sysusers
# creates the qosd user and systemctl enables the unit, as postinst does.
. "$(dirname "$0")/lib.sh"
command -v dpkg-deb >/dev/null || skip "dpkg-deb missing"
deb=$(make -s -C "$TOP" deb BUILD="$BUILD" | tail -1)
[ -f "$deb" ] || fail "no package built: $deb"
if command -v lintian >/dev/null; then
	lintian "$deb" >"$T/lintian" 2>&1
	! grep -q '^E:' "$T/lintian" || fail "lintian errors: $(grep '^E:' "$T/lintian")"
	ok "lintian: no errors ($(grep -c '^W:' "$T/lintian") warnings)"
else
	echo "lintian missing: not checked (apt-get install lintian)"
fi
dpkg-deb -c "$deb" | awk '{ print $6 }' >"$T/files"
for f in ./usr/sbin/qosd ./usr/bin/qosctl ./usr/lib/qosd/collectors/exec.so ./usr/lib/qosd/shipper.so \
    ./usr/lib/qosd/bus.so ./usr/share/doc/qosd/nats.md \
    ./usr/lib/qosd/mqttship.so ./usr/share/doc/qosd/mqtt.md \
    ./usr/lib/qosd/collectors/ping.so ./usr/lib/qosd/collectors/http.so ./etc/qosd/qosd.conf \
    ./lib/systemd/system/qosd.service ./usr/lib/sysusers.d/qosd.conf \
    ./usr/share/man/man8/qosd.8.gz ./usr/share/man/man5/qosd.conf.5.gz \
    ./usr/share/doc/qosd/copyright ./usr/sbin/qosd-reflector \
    ./lib/systemd/system/qosd-reflector.service ./etc/default/qosd-reflector \
    ./usr/share/man/man8/qosd-reflector.8.gz; do
	grep -qx "$f" "$T/files" || fail "package lacks $f"
done
dpkg-deb -f "$deb" Depends | grep -q 'libsystemd0' || fail "Depends: $(dpkg-deb -f "$deb" Depends)"
# The docs the shipped qosd.conf and the man pages name.
grep -qx ./usr/share/doc/qosd/influxdb.md "$T/files" || fail "package lacks influxdb.md"
dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -q conffiles || fail "no conffiles"
dpkg-deb -I "$deb" conffiles | grep -qx /etc/default/qosd-reflector ||
	fail "conffiles: $(dpkg-deb -I "$deb" conffiles)"
ok "contents"
r="$T/root"
dpkg-deb -x "$deb" "$r"
# Built for PREFIX=/usr, whatever the tree's last build was: the paths
# compiled in are the package's (a /usr/local build's objects must not
# be reused).
paths=$(grep -a -o '/usr[a-z/]*/qosd/[a-z/]*\(collectors\|shipper.so\|bus.so\|mqttship.so\)' "$r/usr/sbin/qosd" | sort -u | tr '\n' ' ')
[ "$paths" = "/usr/lib/qosd/bus.so /usr/lib/qosd/collectors /usr/lib/qosd/mqttship.so /usr/lib/qosd/shipper.so " ] ||
	fail "paths compiled into the packaged qosd: $paths"
! grep -q -a /usr/local "$r/usr/sbin/qosd" || fail "the packaged qosd names /usr/local"
[ "$(stat -c %a "$r/etc/qosd")" = 750 ] || fail "/etc/qosd is $(stat -c %a "$r/etc/qosd"), the unit says 0750"
ok "built for /usr; /etc/qosd 0750"
mkdir -p "$r/etc"
touch "$r/etc/passwd" "$r/etc/group"
systemd-sysusers --root="$r" "$r/usr/lib/sysusers.d/qosd.conf" || fail "systemd-sysusers"
grep -q '^qosd:x:[0-9]*:[0-9]*:.*:/var/lib/qosd:' "$r/etc/passwd" || fail "no qosd user: $(cat "$r/etc/passwd")"
systemctl --root="$r" enable qosd.service >/dev/null 2>&1 || fail "systemctl enable"
[ -L "$r/etc/systemd/system/multi-user.target.wants/qosd.service" ] || fail "unit not enabled"
grep -q 'systemd-sysusers' "$TOP/pkg/debian/postinst" && grep -q 'deb-systemd-helper enable' "$TOP/pkg/debian/postinst" ||
	fail "postinst does not create the user and enable the unit"
ok "user created, unit enabled"
# What the scripts do under a booted systemd (start, restart on upgrade,
# stop on remove, purge) is checked by make check-system.
