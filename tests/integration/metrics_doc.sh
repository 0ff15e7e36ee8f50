#!/bin/bash
# Every field a collector or the daemon can emit is documented in
# docs/metrics.md, under its measurement's section.  Fields are found in the
# source: the literal keys given to qosd_point_{float,int,bool,str}() after
# a qosd_point_begin(out, "measurement") in collectors/*.c, and to
# lp_point_field_*()/F_INT() in the daemon's self-metrics, and in
# qosd-reflector's counters.
. "$(dirname "$0")/lib.sh"
doc="$TOP/docs/metrics.md"
missing=0 checked=0

# section MEASUREMENT: the text of "## `MEASUREMENT`" up to the next "## ".
section() { awk -v h="## \`$1\`" '$0 == h { on = 1; next } /^## / { on = 0 } on' "$doc"; }

check() {	# measurement field source
	checked=$((checked + 1))
	if ! section "$1" | grep -q "^| \`$2\` |"; then
		echo "undocumented: $1.$2 (from $3)"
		missing=$((missing + 1))
	fi
}

# Collectors: track the measurement of the latest qosd_point_begin.
# latstats.c writes the RTT fields of every latency measurement.
for f in "$TOP"/collectors/probe/latstats.c; do
	while IFS= read -r k; do
		for m in ping tcp; do check "$m" "$k" latstats.c; done
	done < <(grep -oE 'qosd_point_(float|int|bool|str)\(out, *"[a-z0-9_]+"' "$f" |
		awk -F'"' '{ print $2 }')
done
for f in "$TOP"/collectors/*.c; do
	case "$(basename "$f")" in exec.c | latstats.c) continue ;; esac
	while IFS=$'\t' read -r m k; do
		check "$m" "$k" "$(basename "$f")"
	done < <(grep -oE 'qosd_point_(begin|float|int|bool|str)\([a-z_>-]+, *"[a-z0-9_]+"' "$f" |
		awk -F'"' '/begin/ { m = $2; next } { print m "\t" $2 }')
done
# The daemon: the qosd / qosd_job / qosd_sink points.
while IFS=$'\t' read -r m k; do
	check "$m" "$k" scheduler
done < <(grep -ohE '(lp_point_set_measurement\(p, "[a-z_]+"|F_INT\("[a-z0-9_]+"|lp_point_field_[a-z]+\(p, "[a-z0-9_]+"|^\s+"[a-z0-9_]+",)' "$TOP"/scheduler/selfmetrics.c |
	awk -F'"' '/set_measurement/ { m = $2; next } { print m "\t" $2 }')
for f in "$TOP"/sinks/*.c; do
	while IFS=$'\t' read -r m k; do
		check qosd_sink "$k" "$(basename "$f")"
	done < <(grep -oE 'lp_point_field_[a-z]+\(p, "[a-z0-9_]+"' "$f" | awk -F'"' '{ print "x\t" $2 }')
done
# qosd-reflector's counters (reflector/stats.c).
n=0
while IFS= read -r k; do
	check qosd_reflector "$k" stats.c
	n=$((n + 1))
done < <(grep -oE 'lp_point_field_[a-z]+\(p, "[a-z0-9_]+"' "$TOP/reflector/stats.c" | awk -F'"' '{ print $2 }')
[ "$n" -gt 10 ] || fail "only $n reflector fields found: the source scan is broken"
[ "$checked" -gt 20 ] || fail "only $checked fields found: the source scan is broken"
[ "$missing" -eq 0 ] || fail "$missing of $checked fields undocumented in docs/metrics.md"
ok "$checked fields documented"
