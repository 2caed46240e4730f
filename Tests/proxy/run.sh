#!/usr/bin/env bash
# Drives a real WebSocket client through nginx and HAProxy, configured exactly as Docs/OPERATIONS.md shows, to a
# real `circle serve` (debug build). Everything runs on 127.0.0.1 with free ports, in a temp directory, in the
# foreground of this script: no system service is touched. Prints "N passed, N failed"; non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
. Scripts/lib/deps.sh
ensure_apt nginx haproxy curl
ensure_pip websockets websockets

circle=.build/debug/circle
[ -x "$circle" ] || swift build --product circle --quiet
work=$(mktemp -d /tmp/circle-proxy.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # wait_port PORT: until something accepts on it (5 s)
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# doc_block NAME: the fenced block after `<!-- proxy-test: NAME -->` in Docs/OPERATIONS.md.
doc_block() {
    awk -v marker="<!-- proxy-test: $1 -->" '
        $0 == marker { found = 1; next }
        found && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' Docs/OPERATIONS.md
}

passed=0
failed=0
check() {  # check NAME COMMAND...
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok: $name"
    else failed=$((failed + 1)); echo "FAILED: $name"; fi
}

circle_port=$(free_port)
nginx_port=$(free_port)
haproxy_port=$(free_port)
export CIRCLE_SECRET="proxy test secret, at least sixteen bytes"
"$circle" serve --port "$circle_port" --log-level warning --data-dir none 2>"$work/circle.log" &
pids+=($!)

# nginx: the documented site inside a minimal main config of our own (pid, logs and temp files in $work).
mkdir -p "$work/nginx"
doc_block nginx \
    | sed -e "s/127\.0\.0\.1:8080/127.0.0.1:$circle_port/" -e "s/listen 80;/listen 127.0.0.1:$nginx_port;/" \
    >"$work/nginx/site.conf"
cat >"$work/nginx/nginx.conf" <<CONF
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log $work/nginx/access.log;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    include $work/nginx/site.conf;
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g "user root;" &
pids+=($!)

# HAProxy: the documented configuration, ports rendered, run in the foreground.
doc_block haproxy \
    | sed -e "s/127\.0\.0\.1:8080/127.0.0.1:$circle_port/" -e "s/bind :80/bind 127.0.0.1:$haproxy_port/" \
    >"$work/haproxy.cfg"
haproxy -db -f "$work/haproxy.cfg" &
pids+=($!)

for port in "$circle_port" "$nginx_port" "$haproxy_port"; do
    wait_port "$port" || { echo "nothing listening on $port"; cat "$work"/*.log "$work"/nginx/*.log 2>/dev/null; exit 1; }
done

token=$("$circle" token --room r --sub p1 --name "Proxy Test" --role facilitator)  # opens the session
for proxy in nginx haproxy; do
    port_var="${proxy}_port"
    port=${!port_var}
    check "$proxy: websocket join, raise_hand, ack" python3 Tests/proxy/client.py "ws://127.0.0.1:$port/rooms/r?access_token=$token"
    check "$proxy: /readyz" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
