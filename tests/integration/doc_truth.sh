#!/bin/bash
# The documentation says what the daemon does:
# 1. every setting a collector accepts (its *_settings[] list) is shown in
#    that collector's example job in etc/qosd.conf and described under its
#    section of qosd.conf(5);
# 2. the tags docs/metrics.md names for the daemon's own measurements
#    (qosd, qosd_job, qosd_sink) are the tags their points carry;
# 3. qosd.conf(5)'s example error message is the one qosd prints.
. "$(dirname "$0")/lib.sh"
conf="$TOP/etc/qosd.conf" man="$TOP/docs/qosd.conf.5" doc="$TOP/docs/metrics.md"

# 1. Settings.  The example jobs of etc/qosd.conf are commented blocks
# "# {" ... "# }" holding `collector = "NAME";`.
n=0 tab=$'\t'
for f in "$TOP"/collectors/*.c; do
	c=$(sed -n 's/^static const char \*const \([a-z]*\)_settings\[\] = {.*/\1/p' "$f")
	[ -n "$c" ] || continue
	keys=$(awk -v s="static const char *const ${c}_settings[] = {" \
		'index($0, s) == 1 { on = 1 } on { print } on && /};/ { exit }' "$f" |
		grep -o '"[a-z_]*"' | tr -d '"')
	block=$(awk -v c="$c" '
		/^\t# \{/ { b = ""; on = 1 }
		on { b = b $0 "\n" }
		/^\t# \}/ { if (b ~ "collector = \"" c "\";") printf "%s", b; on = 0 }' "$conf")
	[ -n "$block" ] || fail "etc/qosd.conf has no example job for the $c collector"
	sect=$(awk -v c="$c" '$0 == ".Ss " c { on = 1; next } /^\.S[sh] / { on = 0 } on' "$man")
	[ -n "$sect" ] || fail "qosd.conf(5) has no section for the $c collector"
	for k in $keys; do
		n=$((n + 1))
		printf '%s' "$block" | grep -qE "^${tab}#${tab}(# )?$k = " ||
			fail "etc/qosd.conf: the $c example does not show $k"
		printf '%s\n' "$sect" | grep -qE "^\.It Ic ([a-z_]+ , )*$k( |$)" ||
			fail "qosd.conf(5): the $c section does not describe $k"
	done
done
[ "$n" -gt 40 ] || fail "only $n collector settings found"
ok "$n collector settings shown in etc/qosd.conf and described in qosd.conf(5)"

# 2. Tags of the daemon's own points.
cat >"$T/tags.conf" <<CONF
agent = { id = "a1"; tags = { site = "lab"; }; };
daemon = { self_interval = 1; };
sinks = ( { type = "file"; path = "$T/out.lp"; } );
jobs = ( { name = "e"; collector = "exec"; interval = 1;
	command = [ "/usr/bin/printf", "m v=1i\\\\n" ]; env = [ "LANG=C" ]; } );
CONF
"$QOSD" --check-config --config "$T/tags.conf" || fail "config"
"$QOSD" --config "$T/tags.conf" 2>"$T/log" &
qpid=$!
track_pid "$qpid"
has_all() { grep -q '^qosd_job,' "$T/out.lp" 2>/dev/null && grep -q '^qosd_sink,' "$T/out.lp"; }
wait_for 20 has_all || fail "no qosd_job and qosd_sink points: $(tail -3 "$T/log")"
kill -TERM "$qpid"
wait "$qpid"
for m in qosd qosd_job qosd_sink; do
	seen=$(grep "^$m," "$T/out.lp" | head -1 | cut -d' ' -f1 | tr ',' '\n' | tail -n +2 |
		cut -d= -f1 | sort | tr '\n' ' ')
	# "Tags: `agent`, the agent's tags, `job` and ..." in its section;
	# the agent's tags here: site.
	said=$(awk -v h="## \`$m\`" '$0 == h { on = 1; next } /^## / { on = 0 } on' "$doc" |
		tr '\n' ' ' | sed -n 's/.*Tags: \([^.]*\)\..*/\1/p')
	[ -n "$said" ] || fail "metrics.md names no tags for $m"
	want=$(printf '%s' "$said" | grep -o '`[a-z_]*`' | tr -d '`')
	case "$said" in *"agent's tags"*) want="$want site" ;; esac
	want=$(printf '%s\n' $want | sort | tr '\n' ' ')
	[ "$seen" = "$want" ] || fail "$m: points carry tags [$seen], metrics.md says [$want] ($said)"
done
ok "qosd, qosd_job, qosd_sink carry the tags metrics.md names"

# 3. The example error message of qosd.conf(5).
printf 'sinks = ( { type = "file"; path = "-"; } );\n\n\n\njobs = (\n\t{ name = "gw"; collector = "ping"; targets = [ "127.0.0.1" ];\n\t  count = "five"; }\n);\n' >"$T/qosd.conf"
got=$("$QOSD" --check-config --config "$T/qosd.conf" 2>&1 | sed "s|$T/||")
said=$(sed -n '/^qosd.conf:7: jobs.gw.count/,/^\.Ed/p' "$man" | grep -v '^\.Ed' | tr -s ' \n' ' ' | sed 's/ $//')
[ -n "$said" ] || fail "qosd.conf(5) has no example error for jobs.gw.count"
[ "$got" = "$said" ] || fail "qosd prints [$got], qosd.conf(5) says [$said]"
ok "qosd.conf(5)'s example error is what qosd prints"
