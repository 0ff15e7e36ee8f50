#!/bin/bash
# check_config: qosd --check-config exits 78 with each bad fixture's
# expected message on stderr, and 0 with nothing on stderr for
# etc/qosd.conf and the good fixtures.
set -u
: "${TOP:?run me through tests/run-integration}" "${BUILD:?}"
qosd=$BUILD/qosd
plugins=$BUILD/tests/plugins
for f in "$qosd" "$plugins/testcoll.so" "$plugins/wrongabi.so"; do
	[ -e "$f" ] || { echo "missing $f: run make tests"; exit 1; }
done
cd "$TOP" || exit 1
fail=0 n=0
err=$(mktemp /tmp/qosd-check-config.XXXXXX)
trap 'rm -f "$err"' EXIT

for f in tests/fixtures/config/bad/*.conf; do
	n=$((n + 1))
	want=$(head -n 1 "$f")
	want=${want#"# expect: "}
	"$qosd" --check-config --plugin-dir "$plugins" --config "$f" \
	    >/dev/null 2>"$err"
	rc=$?
	if [ $rc -ne 78 ]; then
		echo "FAIL $f: exit $rc, expected 78"; fail=1
	elif ! grep -qF -- "$want" "$err"; then
		echo "FAIL $f: expected: $want"
		echo "     got: $(cat "$err")"; fail=1
	fi
done

for f in etc/qosd.conf tests/fixtures/config/good/*.conf; do
	n=$((n + 1))
	"$qosd" --check-config --plugin-dir "$plugins" --config "$f" \
	    >/dev/null 2>"$err"
	rc=$?
	if [ $rc -ne 0 ] || [ -s "$err" ]; then
		echo "FAIL $f: exit $rc, expected 0; stderr: $(cat "$err")"
		fail=1
	fi
done

"$qosd" --check-config --config /nonexistent/qosd.conf 2>"$err"
rc=$?
if [ $rc -ne 78 ] || ! grep -qF "/nonexistent/qosd.conf: cannot open" \
    "$err"; then
	echo "FAIL missing file: exit $rc: $(cat "$err")"; fail=1
fi

echo "$n configs checked"
exit $fail
