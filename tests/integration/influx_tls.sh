#!/bin/bash
# The influxdb sink over TLS, against a real influxd behind nginx (TLS with
# a certificate made now for 127.0.0.1 by a CA made now): with ca_file the
# points arrive; with the system's CAs (tls_verify on, the default) the
# certificate is refused, the log says so, and nothing is lost: after a
# reload with the CA, the spooled points arrive too.
. "$(dirname "$0")/lib.sh"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || skip "nginx missing (apt-get install nginx-light)"
command -v openssl >/dev/null || skip "openssl missing (apt-get install openssl)"
start_influxd
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE qos" >/dev/null || fail "create db"

d="$T/tls"
mkdir -p "$d"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=qosd-test-ca \
	-keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1 || fail "CA"
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$d/srv.key" \
	-out "$d/srv.csr" >/dev/null 2>&1 || fail "CSR"
printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext"
openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
	-days 1 -extfile "$d/ext" -out "$d/srv.pem" >/dev/null 2>&1 || fail "server cert"
port=$(free_port)
cat >"$d/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fastcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	server {
		listen 127.0.0.1:$port ssl;
		ssl_certificate $d/srv.pem;
		ssl_certificate_key $d/srv.key;
		client_max_body_size 64m;
		location / { proxy_pass $INFLUX_URL; }
	}
}
CONF
ngx=$(command -v nginx || echo /usr/sbin/nginx)
"$ngx" -c "$d/nginx.conf" -p "$d" &
track_pid $!
wait_for 10 curl -sf --cacert "$d/ca.pem" "https://127.0.0.1:$port/ping" || fail "nginx TLS: $(cat "$d/error.log")"

conf() {	# extra sink settings
	cat >"$T/qosd.conf" <<CONF
agent: { id = "tls"; };
daemon: { state_dir = "$T/state"; self_interval = 0; };
sinks = ( { type = "influxdb"; name = "influx"; url = "https://127.0.0.1:$port";
	database = "qos"; flush_interval = 0.5; backoff_max = 1; $1 },
	{ type = "file"; path = "$T/made.lp"; } );
jobs = ( { name = "p"; collector = "exec"; interval = 0.5; timeout = 0.4; splay = 0;
	command = [ "/usr/bin/printf", "m v=1i\\\\n" ]; } );
CONF
}
count() { influx_query qos 'SELECT count(v) FROM m' | sed -n 's/.*"values":\[\["[^"]*",\([0-9]*\)\]\].*/\1/p'; }

# 1. The default: verification against the system's CAs, which refuse it.
conf ""
"$QOSD" --config "$T/qosd.conf" 2>"$T/log" &
qpid=$!
track_pid "$qpid"
wait_for 15 grep -qi 'certificate' "$T/log" || fail "no certificate error logged: $(tail -5 "$T/log")"
[ -z "$(count)" ] || fail "points arrived through an unverified certificate"
ok "certificate refused by default: $(grep -im1 certificate "$T/log" | cut -c1-120)"

# 2. Reload with the CA: the points spooled meanwhile arrive as well.
conf "ca_file = \"$d/ca.pem\";"
kill -HUP "$qpid"
arrived() { [ -n "$(count)" ]; }
wait_for 20 arrived || fail "nothing arrived with ca_file: $(tail -5 "$T/log")"
sleep 3
kill -TERM "$qpid"
wait "$qpid" || fail "exit $?"
# Every point made (the file sink has each) reaches InfluxDB, also those
# spooled while the certificate was refused.
made=$(grep -c '^m,' "$T/made.lp")
all_in() { [ "$(count)" = "$made" ]; }
# The same sink with no jobs, to drain the spool without making more.
sed -i '/^jobs = (/,/);$/c jobs = ( );' "$T/qosd.conf"
"$QOSD" --config "$T/qosd.conf" 2>>"$T/log" &
qpid=$!
track_pid "$qpid"
wait_for 20 all_in || fail "$(count) of $made points in InfluxDB"
[ "$made" -ge 5 ] || fail "only $made points made"
ok "with ca_file: all $made points in InfluxDB, those spooled while refused too"
