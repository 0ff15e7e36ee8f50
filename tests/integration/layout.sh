#!/bin/bash
# The layout holds: every include points one way (tests/tools/check-layout
# passes on the tree and fails, naming FILE:LINE, on each kind of planted
# violation); every plugin and shipper.so export exactly one symbol of
# their own; the daemon exports exactly the plugin interface's functions.
. "$(dirname "$0")/lib.sh"
check="$TOP/tests/tools/check-layout"
"$check" "$TOP" >"$T/out" 2>&1 || fail "the tree: $(cat "$T/out")"
ok "the tree: $(cat "$T/out")"

# plant FILE LINE EXPECT: a copy of the tree with LINE added to FILE must
# fail with a message containing EXPECT.
plant() {
	local f=$1 line=$2 expect=$3 c="$T/copy"
	rm -rf "$c"
	mkdir -p "$c"
	for d in include lib collectors sinks scheduler proto reflector ctl; do
		[ -d "$TOP/$d" ] && cp -r "$TOP/$d" "$c/"
	done
	mkdir -p "$(dirname "$c/$f")"
	printf '%s\n' "$line" >>"$c/$f"
	if "$check" "$c" >"$T/out" 2>&1; then
		fail "planted $line in $f: check-layout passed"
	fi
	grep -qF "$expect" "$T/out" || fail "planted $line in $f: $(cat "$T/out")"
	ok "planted in $f: $(head -1 "$T/out")"
}
n=$(($(wc -l <"$TOP/lib/buf.c") + 1))
plant lib/buf.c '#include "scheduler/config.h"' \
    "lib/buf.c:$n: includes \"scheduler/config.h\": lib/ may include only qosd/ and lib/"
plant lib/buf.c '#include "sinks/spool.h"' "lib/ may include only"
plant collectors/exec.c '#include "lib/buf.h"' \
    "a collector may include only qosd/, collectors/probe/, proto/ and its own collectors/exec/"
# A collector's private modules (collectors/NAME/) are its own: another
# collector may not include them, nor may they include another's.
plant collectors/exec.c '#include "collectors/ping/icmp.h"' \
    "collectors/exec.c:$(($(wc -l <"$TOP/collectors/exec.c") + 1)): includes \"collectors/ping/icmp.h\": a collector may include only qosd/, collectors/probe/, proto/ and its own collectors/exec/"
plant collectors/ping/icmp.c '#include "collectors/tcp.c"' \
    "its own collectors/ping/"
plant collectors/probe/conf.c '#include "collectors/ping/icmp.h"' \
    "its own collectors/probe/"
plant collectors/probe/resolve.c '#include "sinks/sink.h"' \
    "a collector may include only"
plant sinks/spool.c '#include "scheduler/config.h"' \
    "sinks/ may include only qosd/, lib/ and sinks/"
plant include/qosd/log.h '#include "lib/log.h"' \
    "the plugin interface includes nothing"
plant scheduler/main.c '#include "collectors/probe/latstats.h"' \
    "scheduler/ may include"
plant sinks/file.c '#include "buf.h"' "is not spelled from the root"
plant sinks/file.c '#include "lib/nosuch.h"' '"lib/nosuch.h": no such file'
# qosctl (ctl/) is a client: the library and the interface, not the daemon.
plant ctl/qosctl.c '#include "scheduler/control.h"' \
    "ctl/qosctl.c:$(($(wc -l <"$TOP/ctl/qosctl.c") + 1)): includes \"scheduler/control.h\": ctl/ may include only qosd/, lib/ and ctl/"
plant ctl/show.c '#include "sinks/sink.h"' "ctl/ may include only"
plant scheduler/main.c '#include "ctl/client.h"' "scheduler/ may include"
plant include/sched.h '/* shadows <sched.h> */' \
    "include/sched.h: a header here would shadow <sched.h>"

# Exports.
command -v nm >/dev/null || skip "nm missing (apt-get install binutils)"
for so in "$BUILD"/collectors/*.so "$BUILD"/sinks/shipper.so \
    "$BUILD"/sinks/mqttship.so; do
	syms=$(nm -D --defined-only "$so" | awk '{ print $3 }' | tr '\n' ' ')
	want=qosd_collector
	[ "$(basename "$so")" = shipper.so ] && want=qosd_shipper_main
	[ "$(basename "$so")" = mqttship.so ] && want=qosd_mqttship_main
	[ "$syms" = "$want " ] || fail "$(basename "$so") exports: $syms"
done
ok "every plugin exports qosd_collector only, shipper.so qosd_shipper_main only, mqttship.so qosd_mqttship_main only"
"$TOP/tests/tools/exports" "$TOP"/include/qosd/*.h |
	sed -n 's/^\t\([a-z_0-9]*\);$/\1/p' | sort >"$T/want"
nm -D --defined-only "$QOSD" | awk '$2 == "T" { print $3 }' | sort >"$T/have"
[ "$(wc -l <"$T/want")" -gt 20 ] || fail "the export list is short: $(cat "$T/want")"
diff "$T/want" "$T/have" >"$T/diff" || fail "qosd's exports differ from include/qosd/: $(cat "$T/diff")"
ok "qosd exports the $(wc -l <"$T/want") functions of include/qosd/, nothing else"
