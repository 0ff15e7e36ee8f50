#!/bin/bash
# The http collector beside curl(1) on loopback nginx, in the same run,
# interleaved, who goes first alternating: a 10 MiB download and a 100 KiB
# POST upload, BENCH_HTTP_N (20) of each; medians of qosd's total_ms and
# curl's %{time_total} (both libcurl's CURLINFO_TOTAL_TIME: from the start
# of curl_easy_perform() to its end, no fork, exec or setup in it).
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
q_dl() { "$QOSD" --once --config "$T/qosd.conf" --job dl | total_ms >>"$T/q.dl"; }
c_dl() {
	curl -sf -o /dev/null -w '%{time_total}\n' "$H/file.bin" |
		awk '{ print $1 * 1000 }' >>"$T/c.dl"
}
q_up() { "$QOSD" --once --config "$T/qosd.conf" --job up | total_ms >>"$T/q.up"; }
# No Expect: 100-continue from either: qosd sends none unless configured.
c_up() {
	curl -sf -o /dev/null -H 'Expect:' --data-binary @"$T/up.bin" \
		-w '%{time_total}\n' "$H/upload" | awk '{ print $1 * 1000 }' >>"$T/c.up"
}
# Who goes first alternates, so that neither side is always the one that
# follows a 10 MiB download, or the other side's request of the same kind:
# in a fixed order the position is measured along with the tool.
for i in $(seq "$n"); do
	if [ $((i % 2)) -eq 1 ]; then
		q_dl; c_dl; q_up; c_up
	else
		c_dl; q_dl; c_up; q_up
	fi
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
