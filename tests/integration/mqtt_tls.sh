#!/bin/bash
# mqtt_tls.sh: the mqtt sink over TLS to a mosquitto that the test starts
# with a TLS listener and its own CA (openssl), requiring a client
# certificate:
#  (a) tls = { ca_file; cert_file; key_file; } (verify on, the default):
#      points arrive, the broker checked the name (IP 127.0.0.1 in the
#      certificate) and the client certificate;
#  (b) the broker's certificate from another CA: refused (verify on), the
#      log says why, nothing is published, the points wait in the spool;
#  (c) a key file others may read: the sink does not start (78 at
#      --check-config, with the file and line);
#  (d) verify = false (a test broker): the same broker of another CA is
#      taken, and the points of (b) left in the spool arrive.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mqtt_lib.bash"
command -v openssl >/dev/null || skip "openssl missing (apt-get install openssl)"
P="$T/pki"
mkdir -p "$P"
# ca NAME: a CA; leaf NAME CA EXT: a key and a certificate signed by CA.
ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
		-keyout "$P/$1.key" -out "$P/$1.crt" 2>/dev/null || fail "openssl: CA $1"
}
leaf() {
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$P/$1.key" \
		-out "$P/$1.csr" 2>/dev/null || fail "openssl: $1 request"
	printf '%s\n' "$3" >"$P/$1.ext"
	openssl x509 -req -in "$P/$1.csr" -CA "$P/$2.crt" -CAkey "$P/$2.key" \
		-CAcreateserial -days 2 -extfile "$P/$1.ext" -out "$P/$1.crt" \
		2>/dev/null || fail "openssl: $1 certificate"
}
ca ca
ca other
leaf broker ca 'subjectAltName = IP:127.0.0.1, DNS:localhost'
leaf client ca 'extendedKeyUsage = clientAuth'
chmod 600 "$P"/*.key
start_mosquitto "cafile $P/ca.crt" "certfile $P/broker.crt" \
	"keyfile $P/broker.key" "require_certificate true"
MQTT_AUTH=(--cafile "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key")
subscribe tls 'qosd/+/work'

cat >"$T/gen.sh" <<'GEN'
#!/bin/sh
n=$(cat "$1" 2>/dev/null || echo 0)
echo "work seq=$((n + 1))i"
echo $((n + 1)) >"$1"
GEN
chmod +x "$T/gen.sh"
conf() {
	cat >"$T/$1.conf" <<CONF
agent: { id = "edge-4"; };
daemon: { state_dir = "$T/state-$1"; self_interval = 0; };
sinks = (
	{ type = "mqtt"; name = "mq"; host = "127.0.0.1"; port = $MQTT_PORT;
	  flush_interval = 0.2; backoff_max = 1;
	  tls = { $2 }; }
);
jobs = (
	{ name = "w"; collector = "exec"; interval = 0.5; timeout = 0.4;
	  splay = 0; command = [ "$T/gen.sh", "$T/counter-$1" ]; }
);
CONF
}
run_qosd() {
	"$QOSD" --config "$T/$1.conf" >"$T/$1.log" 2>&1 &
	QPID=$!
	track_pid "$QPID"
}
stop_qosd() {
	kill -TERM "$QPID"
	wait_for 20 sh -c "! kill -0 $QPID 2>/dev/null" || fail "qosd did not stop"
	! grep -qiE 'AddressSanitizer|LeakSanitizer|runtime error' "$T"/*.log ||
		fail "sanitizer report: $(grep -m3 -iE 'Sanitizer|runtime error' "$T"/*.log)"
}
has() { [ "$(count_lines "$1" "$2")" -ge "${3:-1}" ] 2>/dev/null; }

# (a)
conf a "ca_file = \"$P/ca.crt\"; cert_file = \"$P/client.crt\"; key_file = \"$P/client.key\";"
"$QOSD" --check-config --config "$T/a.conf" || fail "(a) the configuration does not check"
run_qosd a
wait_for 20 has '^qosd/edge-4/work work,' "$T/tls.sub" 3 ||
	fail "(a) nothing received over TLS: $(tail -5 "$T/a.log")"
stop_qosd
ok "(a) TLS with the broker's name and a client certificate checked: $(count_lines '^qosd/edge-4/work work,' "$T/tls.sub") points received"

# (b)
conf b "ca_file = \"$P/other.crt\"; cert_file = \"$P/client.crt\"; key_file = \"$P/client.key\";"
before=$(count_lines '^qosd/edge-4/work work,' "$T/tls.sub")
run_qosd b
wait_for 20 grep -q 'sink mq: .*certificate verify failed.*will retry' "$T/b.log" ||
	fail "(b) a broker of another CA is not refused, or not said why: $(tail -5 "$T/b.log")"
sleep 2
wait_for 10 sh -c "[ \$(find '$T/state-b/spool/mq/ready' -name '*.lp' | wc -l) -gt 0 ]" ||
	fail "(b) nothing waits in the spool"
stop_qosd
[ "$(count_lines '^qosd/edge-4/work work,' "$T/tls.sub")" = "$before" ] ||
	fail "(b) points were published to a broker that could not be verified"
ok "(b) a broker certificate of another CA: refused ($(grep -m1 -o 'sink mq: .*will retry' "$T/b.log")), points kept in the spool"

# (c)
chmod 644 "$P/client.key"
conf c "ca_file = \"$P/ca.crt\"; cert_file = \"$P/client.crt\"; key_file = \"$P/client.key\";"
"$QOSD" --check-config --config "$T/c.conf" 2>"$T/c.err"
rc=$?
[ "$rc" = 78 ] || fail "(c) --check-config exited $rc with a key others may read"
grep -q "c.conf:[0-9]*: sinks.mq.tls.key_file: " "$T/c.err" ||
	fail "(c) no FILE:LINE: $(cat "$T/c.err")"
ok "(c) a key file others may read: $(cat "$T/c.err")"

# (d)
chmod 600 "$P/client.key"
conf b "ca_file = \"$P/other.crt\"; cert_file = \"$P/client.crt\"; key_file = \"$P/client.key\"; verify = false;"
spooled=$(find "$T/state-b/spool/mq/ready" -name '*.lp' | xargs -r cat | wc -l)
run_qosd b
wait_for 20 sh -c "[ \$(find '$T/state-b/spool/mq/ready' -name '*.lp' | wc -l) = 0 ]" ||
	fail "(d) verify = false: the spool does not drain: $(tail -5 "$T/b.log")"
wait_for 10 has '^qosd/edge-4/work work,' "$T/tls.sub" $((before + spooled)) ||
	fail "(d) the $spooled spooled points did not arrive"
stop_qosd
ok "(d) verify = false: connected, the $spooled points spooled in (b) arrived"
