#!/bin/bash
# The http collector beside curl(1) on loopback nginx, in the same run,
# interleaved: a 10 MiB download and a 100 KiB POST upload, BENCH_HTTP_N
# (20) of each; medians of qosd's total_ms and curl's %{time_total}.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/http_nginx.sh"
n=${BENCH_HTTP_N:-20}
start_nginx
H="http://127.0.0.1:$NGX_PORT"
head -c 102400 /dev/urandom >"$T/up.bin"
cat >"$T/qosd.conf" <<CONF
sinks = ( { type = "file"; path = "-"; } );
jobs = (
	{ name = "dl"; collector = "http"; download_url = "$H/file.bin"; },
	{ name = "up"; collector = "http"; upload_url = "$H/upload";
	  upload_bytes = 102400; }
);
CONF
total_ms() { sed -nE 's/.* result="ok",.*total_ms=([0-9.e+-]+).*/\1/p'; }
for _ in $(seq "$n"); do
	"$QOSD" --once --config "$T/qosd.conf" --job dl | total_ms >>"$T/q.dl"
	curl -sf -o /dev/null -w '%{time_total}\n' "$H/file.bin" |
		awk '{ print $1 * 1000 }' >>"$T/c.dl"
	"$QOSD" --once --config "$T/qosd.conf" --job up | total_ms >>"$T/q.up"
	curl -sf -o /dev/null -H 'Expect:' --data-binary @"$T/up.bin" \
		-w '%{time_total}\n' "$H/upload" | awk '{ print $1 * 1000 }' >>"$T/c.up"
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for k in dl up; do
	[ "$(wc -l <"$T/q.$k")" -eq "$n" ] || fail "$k: $(wc -l <"$T/q.$k") of $n qosd runs ok"
	[ "$(wc -l <"$T/c.$k")" -eq "$n" ] || fail "$k: $(wc -l <"$T/c.$k") of $n curl runs ok"
done
q=$(median "$T/q.dl") c=$(median "$T/c.dl") r=$(ratio "$q" "$c")
row "http: 10 MiB download total_ms, median of $n" "$q" "$c" "$r" "<= 1.1" "$(verdict_le "$r" 1.1)"
q=$(median "$T/q.up") c=$(median "$T/c.up") r=$(ratio "$q" "$c")
row "http: 100 KiB upload total_ms, median of $n" "$q" "$c" "$r" "<= 1.1" "$(verdict_le "$r" 1.1)"
