#!/bin/bash
# make install: the FHS layout under DESTDIR, and an installed binary (built
# for its PREFIX) finds the installed plugins, not the build tree's.  The
# binary is hardened: PIE, full RELRO, stack protector, FORTIFY.
. "$(dirname "$0")/lib.sh"
command -v readelf >/dev/null || skip "readelf missing (binutils)"

# 1. DESTDIR staging with the Debian layout.
make -s -C "$TOP" install BUILD="$BUILD" DESTDIR="$T/stage" PREFIX=/usr >/dev/null ||
	fail "make install DESTDIR failed"
for f in usr/sbin/qosd usr/bin/qosctl usr/lib/qosd/collectors/exec.so usr/lib/qosd/shipper.so \
    usr/lib/qosd/bus.so usr/share/doc/qosd/nats.md \
    usr/lib/qosd/mqttship.so usr/share/doc/qosd/mqtt.md \
    etc/qosd/qosd.conf usr/share/man/man8/qosctl.8 usr/share/doc/qosd/api.md \
    usr/share/man/man5/qosd.conf.5 usr/share/man/man8/qosd.8 \
    usr/share/doc/qosd/metrics.md usr/share/doc/qosd/influxdb.md \
    usr/sbin/qosd-reflector usr/share/man/man8/qosd-reflector.8 \
    lib/systemd/system/qosd-reflector.service etc/default/qosd-reflector; do
	[ -f "$T/stage/$f" ] || fail "not installed: /$f"
done
[ "$(stat -c %a "$T/stage/etc/qosd/qosd.conf")" = 640 ] || fail "qosd.conf mode not 0640"
[ "$(stat -c %a "$T/stage/etc/qosd")" = 750 ] || fail "/etc/qosd mode not 0750 (ConfigurationDirectoryMode)"
ok "DESTDIR layout"

# 2. A build for PREFIX=$T/prefix, installed there, finds its plugins.
make -s -C "$TOP" install BUILD="$T/build" PREFIX="$T/prefix" SYSCONFDIR="$T/prefix/etc" >/dev/null 2>&1 ||
	fail "make install PREFIX failed"
cat >"$T/c.conf" <<CONF
sinks = ( { type = "file"; path = "-"; } );
jobs = ( { name = "e"; collector = "exec"; command = [ "/usr/bin/printf", "m v=1i\\\\n" ]; } );
CONF
env -u QOSD_PLUGIN_DIR "$T/prefix/sbin/qosd" --once --config "$T/c.conf" >"$T/o" 2>"$T/e" ||
	fail "installed qosd --once: $(cat "$T/e")"
grep -q '^m,agent=.*,job=e v=1i ' "$T/o" || fail "installed qosd output: $(cat "$T/o")"
rm "$T/prefix/lib/qosd/collectors/exec.so"
env -u QOSD_PLUGIN_DIR "$T/prefix/sbin/qosd" --check-config --config "$T/c.conf" 2>"$T/e"
grep -qE "unknown collector \"exec\" \((available: [a-z, ]+|none installed) in $T/prefix/lib/qosd/collectors\)" "$T/e" ||
	fail "installed qosd looked elsewhere: $(cat "$T/e")"
ok "installed binary uses the installed plugin dir"

# 3. Hardening of the built binaries.
for bin in "$BUILD/qosd" "$BUILD/qosd-reflector"; do
	readelf -h "$bin" | grep -q 'Type:.*DYN' || fail "$bin: not PIE"
	readelf -l "$bin" | grep -q GNU_RELRO || fail "$bin: no RELRO"
	readelf -d "$bin" | grep -q 'BIND_NOW' || fail "$bin: RELRO not full (no BIND_NOW)"
	readelf -s "$bin" | grep -q '__stack_chk_fail' || fail "$bin: no stack protector"
	case "$BUILD" in *san*) ;; *) readelf -s "$bin" | grep -q '_chk@' || fail "$bin: no FORTIFY_SOURCE" ;; esac
done
bin="$BUILD/qosd"
ok "qosd, qosd-reflector: PIE, full RELRO, stack protector, FORTIFY"

# The daemon maps no collector's or shipper's libraries: they are loaded
# by the processes that use them.  (jansson it links since the control
# API, issue 17, answers JSON in the daemon's loop; libmicrohttpd it loads
# at the API's first connection, lib/httpd.c, so it does not link it.)
if readelf -d "$bin" | grep -E 'NEEDED.*(libcurl|libiperf|libz\.|libmicrohttpd|libgnutls|libnats|libmosquitto)'; then
	fail "the daemon links a library only runs, shippers, the bus or the API's first request need"
fi
ok "daemon links $(readelf -d "$bin" | grep -c NEEDED) libraries, none of curl, iperf, zlib, microhttpd, gnutls, nats, mosquitto"
