# Starts a Circle cluster on loopback ports: Redis (AOF), PostgreSQL (when the binary takes --records), N Circle
# nodes and HAProxy in front (Docs/SCALING.md). Shared by Scripts/cluster and Scripts/cluster-test.
# shellcheck shell=bash
# Use: cluster_start DIR CIRCLE SECRET_FILE (after setting the ports below if the defaults don't suit);
# cluster_stop on exit (the caller's trap). Each node's pid is in node_pids[i], its port in node_ports[i].

cluster_nodes=${CLUSTER_NODES:-3}
cluster_http_port=${CLUSTER_PORT:-8080}     # HAProxy
cluster_node_base=${CLUSTER_NODE_BASE:-8180}  # node i listens on base+i
cluster_redis_port=${CLUSTER_REDIS_PORT:-6391}
cluster_pg_port=${CLUSTER_PG_PORT:-5441}
cluster_lease_ms=${CLUSTER_LEASE_MS:-3000}
cluster_dir=""
cluster_circle=""
cluster_secret=""
cluster_records=""
redis_pid=""
haproxy_pid=""
node_pids=()
node_ports=()

cluster_deps() {
    ensure_apt redis-server haproxy postgresql curl
}

# The HAProxy configuration (Docs/SCALING.md): hashing on the room path, health from /readyz, long tunnels.
cluster_haproxy_config() {
    cat <<EOF
global
    maxconn 9000
    stats socket $cluster_dir/haproxy.sock mode 600 level admin
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 2h
    timeout client-fin 5s
    timeout http-request 10s
    # A dead node refuses at once (two refusals: down within a second); a busy one gets 2 s to answer /readyz.
    timeout check 2s
frontend circle
    bind 127.0.0.1:$cluster_http_port
    default_backend nodes
backend nodes
    # One room's clients hash together (the path is /rooms/{id}; the query with the token is left out), and a
    # node's going or coming back moves only the rooms that hashed to it.
    balance uri path-only
    hash-type consistent
    option httpchk GET /readyz
    http-check expect status 200
    # A node that refuses the connection (dead, not yet marked down) costs a retry on another, not a 503.
    retries 2
    option redispatch 1
    default-server check inter 500ms fall 2 rise 2 maxconn 8000
EOF
    for ((i = 1; i <= cluster_nodes; i++)); do
        echo "    server node$i 127.0.0.1:$((cluster_node_base + i))"
    done
}

cluster_start_redis() {
    mkdir -p "$cluster_dir/redis"
    redis-server --port "$cluster_redis_port" --bind 127.0.0.1 --appendonly yes --appendfsync everysec \
        --dir "$cluster_dir/redis" --save "" --daemonize no --logfile "$cluster_dir/redis/redis.log" &
    redis_pid=$!
    for _ in $(seq 100); do
        redis-cli -p "$cluster_redis_port" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.1
    done
    echo "redis-server did not start (see $cluster_dir/redis/redis.log)" >&2
    return 1
}

# PostgreSQL in a folder of its own, run as the postgres user (initdb refuses root); only when `circle serve` takes
# --records (the records in PostgreSQL), else the nodes keep no records.
cluster_start_postgres() {
    "$cluster_circle" serve --help 2>&1 | grep -q -- '--records <' || { cluster_records=""; return 0; }
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    local pg="$cluster_dir/pg"
    mkdir -p "$pg"
    chmod 755 "$cluster_dir"
    chown postgres "$pg"
    su postgres -s /bin/sh -c "'$bin/initdb' -D '$pg/data' -A trust -U circle >'$pg/initdb.log' 2>&1" || {
        echo "initdb failed (see $pg/initdb.log)" >&2; return 1; }
    su postgres -s /bin/sh -c "'$bin/pg_ctl' -D '$pg/data' -l '$pg/log' -w -o \
        \"-p $cluster_pg_port -k '$pg' -c listen_addresses=127.0.0.1\" start >/dev/null" || {
        echo "PostgreSQL did not start (see $pg/log)" >&2; return 1; }
    cluster_pg_bin=$bin
    cluster_records="postgres://circle@127.0.0.1:$cluster_pg_port/postgres"
}

# cluster_start_node I: node I (1-based) on base+I.
cluster_start_node() {
    local i=$1 port=$((cluster_node_base + $1))
    local records=(--data-dir none)
    # Records in PostgreSQL ride on a store of the node's own (room state itself is in Redis).
    [ -n "$cluster_records" ] && records=(--data-dir "$cluster_dir/node$i-data" --records "$cluster_records")
    "$cluster_circle" serve --host 127.0.0.1 --port "$port" --secret-file "$cluster_secret" \
        --redis "redis://127.0.0.1:$cluster_redis_port" --node-address "127.0.0.1:$port" \
        --lease-ms "$cluster_lease_ms" --drain-seconds 3 --max-connections 20000 "${records[@]}" \
        ${CLUSTER_NODE_ARGS[@]+"${CLUSTER_NODE_ARGS[@]}"} >>"$cluster_dir/node$i.log" 2>&1 &
    node_pids[i]=$!
    node_ports[i]=$port
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "node $i did not get ready (see $cluster_dir/node$i.log)" >&2
    return 1
}

cluster_start_haproxy() {
    cluster_haproxy_config >"$cluster_dir/haproxy.cfg"
    haproxy -f "$cluster_dir/haproxy.cfg" -db >"$cluster_dir/haproxy.log" 2>&1 &
    haproxy_pid=$!
    # Ready once every node passed its health checks (HAProxy starts them down until `rise` checks pass).
    for _ in $(seq 100); do
        local up
        up=$(python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"show servers state\n")
print(s.makefile().read())' "$cluster_dir/haproxy.sock" 2>/dev/null | awk '$4 ~ /^node/ && $6 == 2' | wc -l)
        [ "$up" -ge "$cluster_nodes" ] && return 0
        sleep 0.1
    done
    echo "haproxy did not start (see $cluster_dir/haproxy.log)" >&2
    return 1
}

# cluster_start DIR CIRCLE SECRET_FILE
cluster_start() {
    cluster_dir=$1 cluster_circle=$2 cluster_secret=$3
    cluster_start_redis
    cluster_start_postgres
    for ((i = 1; i <= cluster_nodes; i++)); do cluster_start_node "$i"; done
    cluster_start_haproxy
}

cluster_stop() {
    [ -n "$haproxy_pid" ] && kill "$haproxy_pid" 2>/dev/null || true
    for pid in "${node_pids[@]}"; do
        kill -CONT "$pid" 2>/dev/null || true  # a node that already exited must not stop the cleanup (set -e)
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${node_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ -n "$redis_pid" ]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    redis_pid="" haproxy_pid=""
    if [ -n "$cluster_records" ] && [ -n "${cluster_pg_bin:-}" ]; then
        su postgres -s /bin/sh -c "'$cluster_pg_bin/pg_ctl' -D '$cluster_dir/pg/data' -m fast stop >/dev/null" \
            2>/dev/null || true
        cluster_records=""
    fi
    return 0
}

# cluster_starve PID SECONDS LEASE_MS: starves a node (a loaded VM, a noisy neighbour), bounded: for SECONDS it is
# stopped 300–800 ms of every second, and every fifth second 0.8–1.15 of a lease (its lease lapses when such a stop
# starts just before a renewal). Leaves it running; prints "stops long_stops".
cluster_starve() {
    local pid=$1 end=$(($(date +%s) + $2)) lease=$3 n=0 long=0 ms run
    while [ "$(date +%s)" -lt "$end" ]; do
        n=$((n + 1))
        if ((n % 5 == 0)); then
            ms=$((lease * (80 + RANDOM % 36) / 100)) run=1000 long=$((long + 1))
        else
            ms=$((300 + RANDOM % 501)) run=$((1000 - ms))
        fi
        kill -STOP "$pid" 2>/dev/null || break
        sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
        kill -CONT "$pid" 2>/dev/null || break
        sleep "$((run / 1000)).$(printf %03d $((run % 1000)))"
    done
    kill -CONT "$pid" 2>/dev/null || true
    echo "$n $long"
}
