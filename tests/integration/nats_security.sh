#!/bin/bash
# nats_security.sh: the bus against a nats-server that wants TLS and a
# user and password (issue 18, item 5):
#  - s1 (tls.ca_file the test's CA, password_file): on the bus, alive;
#    its status says connected; the password's bytes are in the bus
#    process's memory, not in the daemon's (tests/tools/memscan);
#  - s2 (TLS verified by default, the system's CAs, which do not know the
#    test's CA): never on the bus, and its log says why (the certificate);
#  - s3 (a wrong password): never on the bus, its log says why
#    (authorization);
#  - s4 (tls.verify = false): on the bus (the setting does what it says);
#  - qosctl --ca reads the agents over TLS; without the CA it fails.
#  - a password file others can read fails the start, FILE:LINE.
. "$(dirname "$0")/lib.sh"
command -v nats-server >/dev/null || skip "nats-server not installed (apt-get install nats-server)"
command -v openssl >/dev/null || skip "openssl missing"
command -v jq >/dev/null || skip "jq missing"
[ "$(id -u)" = 0 ] || skip "memscan reads /proc/PID/mem: run as root"
QOSCTL="$BUILD/qosctl"
SCAN="$TOP/tests/tools/memscan"

# A CA and a server certificate for 127.0.0.1.
cd "$T" || fail "no $T"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
	-subj "/CN=qosd test CA" >/dev/null 2>&1 || fail "openssl: CA"
openssl req -newkey rsa:2048 -nodes -keyout s.key -out s.csr -subj "/CN=127.0.0.1" \
	>/dev/null 2>&1 || fail "openssl: server key"
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
openssl x509 -req -in s.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out s.crt \
	-days 2 -extfile san.ext >/dev/null 2>&1 || fail "openssl: server certificate"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >pw
echo >>pw
chmod 600 pw
echo wrong-password >badpw
chmod 600 badpw

NPORT=$(free_port) || fail "no free port"
NURL="tls://127.0.0.1:$NPORT"
cat >nats.conf <<CONF
listen: 127.0.0.1:$NPORT
jetstream { store_dir: "$T/js" }
tls { cert_file: "$T/s.crt", key_file: "$T/s.key" }
authorization { user: qosd, password: "$(cat pw)" }
CONF
nats-server -c nats.conf >nats.log 2>&1 &
track_pid $!
wait_for 20 grep -q "Server is ready" nats.log || fail "nats-server did not start: $(tail -5 nats.log)"

# agent ID TLS-GROUP PASSWORD-FILE
agent() {
	cat >"$T/$1.conf" <<CONF
agent: { id = "$1"; };
daemon: { realtime = false; self_interval = 0; state_dir = "$T/state-$1"; };
sinks = ( { type = "file"; path = "$T/$1.lp"; } );
control = { socket = "$T/$1.sock"; };
nats = { servers = [ "$NURL" ]; heartbeat_interval = 1; reconnect_max = 1;
  $2 user = "qosd"; password_file = "$3"; };
jobs = ( { name = "a"; collector = "testcoll"; interval = 1; targets = [ "x" ]; } );
CONF
	"$QOSD" --plugin-dir "$BUILD/tests/plugins" --config "$T/$1.conf" 2>>"$T/$1.log" &
	eval "PID_$1=$!"
	track_pid "$!"
}
agent s1 "tls = { ca_file = \"$T/ca.crt\"; };" "$T/pw"
agent s2 "tls = { };" "$T/pw"
agent s3 "tls = { ca_file = \"$T/ca.crt\"; };" "$T/badpw"
agent s4 "tls = { verify = false; };" "$T/pw"

Q() { "$QOSCTL" --nats "nats://qosd:$(cat "$T/pw")@127.0.0.1:$NPORT" --ca "$T/ca.crt" "$@"; }
alive_list() { Q --json agents 2>/dev/null | jq -r '[.agents[] | "\(.agent):\(if .alive then "alive" else "dead" end)"] | join(" ")'; }
wait_for 30 sh -c "[ \"\$(QOSD_CONTROL=$T/s1.sock $QOSCTL --json status | jq -r .bus.connected)\" = true ]" ||
	fail "s1 not connected: $(tail -5 s1.log)"
wait_for 20 sh -c "[ \"\$($QOSCTL --nats nats://qosd:\$(cat $T/pw)@127.0.0.1:$NPORT --ca $T/ca.crt --json agents 2>/dev/null | jq -r '[.agents[].agent] | join(\" \")')\" = 's1 s4' ]" ||
	fail "agents on the bus: $(Q --json agents 2>&1 | head -20)"
[ "$(alive_list)" = "s1:alive s4:alive" ] || fail "alive: $(alive_list)"
ok "s1 (the CA, the password) and s4 (verify = false) on the TLS bus"

# s2 and s3: never on it, and they say why.
sleep 3
[ "$(alive_list)" = "s1:alive s4:alive" ] || fail "s2 or s3 on the bus: $(alive_list)"
wait_for 10 grep -qi "certificate\|verify" s2.log || fail "s2 does not say why: $(grep bus s2.log | tail -5)"
wait_for 10 grep -qi "authoriz" s3.log || fail "s3 does not say why: $(grep bus s3.log | tail -5)"
grep -F "$(cat pw)" s1.log s2.log s3.log s4.log && fail "a password in a log"
grep -F "wrong-password" s3.log && fail "the wrong password in s3's log"
ok "s2 (the system's CAs) and s3 (a wrong password) kept off, saying why: $(grep -h "NATS not reached" s2.log | head -1 | cut -c1-160) / $(grep -h "NATS not reached" s3.log | head -1 | cut -c1-160)"

# The password: in the bus's memory, not in the daemon's.
bpid=$(pgrep -P "$PID_s1" -x qosd-bus) || fail "no bus of s1"
b=$("$SCAN" "$bpid" pw) || fail "memscan of the bus"
d=$("$SCAN" "$PID_s1" pw) || fail "memscan of the daemon"
grep -q "found=0" <<<"$b" || fail "the bus has not the password? $b"
grep -q "found=0" <<<"$d" && fail "the daemon holds the password: $d"
ok "the password is in the bus ($b), not in the daemon ($d)"

# qosctl without the CA: the server's certificate is not trusted.
out=$("$QOSCTL" --nats "tls://127.0.0.1:$NPORT" agents 2>&1) && fail "qosctl without the CA: $out"
ok "qosctl without the CA refused: $(head -c 120 <<<"$out")"

# A password file others can read: the start fails, FILE:LINE.
chmod 644 "$T/pw"
"$QOSD" --check-config --plugin-dir "$BUILD/tests/plugins" --config "$T/s1.conf" 2>"$T/check.err"
rc=$?
[ $rc = 78 ] && grep -q "s1.conf:[0-9]*: nats.password_file: .*readable by others\|s1.conf:[0-9]*: nats.password_file: " "$T/check.err" ||
	fail "a readable password file: $rc $(cat "$T/check.err")"
ok "a password file others can read refused: $(cat "$T/check.err")"
