# Shared by the scripts: install what is missing, from Debian's packages and PyPI only.
# shellcheck shell=bash

apt_updated=0
# ensure_apt PKG...: installs the Debian packages that aren't installed yet.
ensure_apt() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    if [ $apt_updated -eq 0 ]; then $sudo apt-get update -qq; apt_updated=1; fi
    echo "installing: ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ensure_pip MODULE PACKAGE...: installs the PyPI packages when `import MODULE` fails.
ensure_pip() {
    local module=$1; shift
    python3 -c "import $module" 2>/dev/null && return 0
    echo "installing from PyPI: $*" >&2
    python3 -m pip install -q "$@"
}

ensure_build_deps() {
    ensure_apt libuv1-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev libhiredis-dev pkg-config
}

# What the Redis store's tests start (CircleRedisTests): a real redis-server on a loopback port.
ensure_redis_test_deps() {
    ensure_apt redis-server
}

# build_wsload BENCH_DIR OUT_DIR: builds ../shared/bench's wsload into OUT_DIR/wsload/wsload when it is missing or
# older than its source, and prints its path.
build_wsload() {
    local bench=$1 out=$2/wsload
    mkdir -p "$out"
    if [ ! -x "$out/wsload" ] || [ "$bench/wsload/wsload.c" -nt "$out/wsload" ]; then
        cc -O2 -g -Wall -Wextra -o "$out/wsload" "$bench/wsload/wsload.c" \
            $(pkg-config --cflags --libs libuv libcrypto) -lm >&2 || return 1
    fi
    echo "$out/wsload"
}
