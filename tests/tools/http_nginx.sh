# http_nginx.sh: a throwaway nginx for the http collector's tests and
# bench (sourced after tests/integration/lib.sh, bash).
#
# start_nginx: nginx on free loopback ports with everything in $T/nginx,
# serving
#   /file.bin   10 MiB of random bytes (NGX_FILE_BYTES)
#   /small      a short text
#   /redir      302 to /small
#   /upload     reads the whole request body (up to 64 MiB), then 204: it
#               is passed to /sink through nginx's own proxy, which buffers
#               the body first; a bare `return 204` would answer before the
#               body is read
# on http://127.0.0.1:$NGX_PORT and, with a self-signed certificate for
# 127.0.0.1 made now by openssl ($NGX_CERT), https://127.0.0.1:$NGX_TLS_PORT.
# The access log $NGX_DIR/access.log has "METHOD URI STATUS request_length".
# Skips the script when nginx or openssl is missing.
NGX_FILE_BYTES=10485760

start_nginx() {
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
		skip "nginx not installed (apt-get install nginx-light)"
	command -v openssl >/dev/null || skip "openssl not installed (apt-get install openssl)"
	local ngx d="$T/nginx"
	ngx=$(command -v nginx || echo /usr/sbin/nginx)
	mkdir -p "$d/www" "$d/tmp"
	head -c "$NGX_FILE_BYTES" /dev/urandom >"$d/www/file.bin"
	echo "small" >"$d/www/small"
	NGX_CERT="$d/cert.pem"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$d/key.pem" \
		-out "$NGX_CERT" >"$d/openssl.log" 2>&1 ||
		fail "openssl req: $(tail -3 "$d/openssl.log")"
	NGX_PORT=$(free_port) NGX_TLS_PORT=$(free_port)
	[ "$NGX_PORT" != "$NGX_TLS_PORT" ] || NGX_TLS_PORT=$(free_port)
	NGX_DIR="$d"
	cat >"$d/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 256; }
http {
	log_format qosd '\$request_method \$uri \$status \$request_length';
	access_log $d/access.log qosd;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	default_type application/octet-stream;
	sendfile on;
	server {
		listen 127.0.0.1:$NGX_PORT;
		listen 127.0.0.1:$NGX_TLS_PORT ssl;
		ssl_certificate $NGX_CERT;
		ssl_certificate_key $d/key.pem;
		root $d/www;
		location = /redir { return 302 /small; }
		location = /upload {
			client_max_body_size 64m;
			client_body_buffer_size 1m;
			proxy_pass http://127.0.0.1:$NGX_PORT/sink;
		}
		location = /sink { return 204; }
	}
}
CONF
	"$ngx" -c "$d/nginx.conf" -p "$d" >"$d/stderr" 2>&1 &
	NGINX_PID=$!
	track_pid "$NGINX_PID"
	wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$NGX_PORT/small" ||
		fail "nginx did not start: $(tail -n 5 "$d/error.log" "$d/stderr" 2>&1)"
}
