# Shared by the benchmark scripts (sourced, not run): a release build of
# newsfeed on a fresh SQLite file seeded with live and archived entries, and
# an nginx serving saved responses as the reference. Servers started here
# are stopped on exit.
#
# Uses: PORT, REF_PORT, ARCHIVED (set defaults before sourcing, or take these).
PORT="${PORT:-18080}"
REF_PORT="${REF_PORT:-18081}"
ARCHIVED="${ARCHIVED:-100000}"
QGIS_AGENT="Mozilla/5.0 QGIS/33600/Linux"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# NEWSFEED_BENCH_BIN=path measures that binary instead of building one.
if [ -n "${NEWSFEED_BENCH_BIN:-}" ]; then
    BIN="$NEWSFEED_BENCH_BIN"
else
    cargo build --release -q
    BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/newsfeed"
fi
WORK="$(mktemp -d)"
PIDS=()
NEWSFEED_PID=""
NGINX_PID=""
bench_cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap bench_cleanup EXIT

export NEWSFEED_DATABASE_URL="sqlite://$WORK/bench.db?mode=rwc"
export NEWSFEED_JWT_SECRET="bench-secret-bench-secret-bench-secret"
export NEWSFEED_LOG=warn
BENCH_PASSWORD="bench password 1234"

# Waits until `url` answers 2xx (up to 10 s).
wait_for() {
    for _ in $(seq 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done
    echo "no answer from $1" >&2
    return 1
}

# Creates the admin and starts `newsfeed serve` on PORT; sets NEWSFEED_PID.
start_newsfeed() {
    echo "$BENCH_PASSWORD" | "$BIN" create-user --email admin@example.org --role admin --password-stdin >/dev/null
    "$BIN" serve --bind "127.0.0.1:$PORT" 2>"$WORK/server.log" &
    NEWSFEED_PID=$!
    PIDS+=("$NEWSFEED_PID")
    wait_for "127.0.0.1:$PORT/healthz"
}

# 20 live entries through the API, ARCHIVED archived rows straight into the
# file, then one more approval so the snapshot is rebuilt over the full table.
seed_entries() {
    python3 bench/client.py seed --base "http://127.0.0.1:$PORT" --db "$WORK/bench.db" \
        --email admin@example.org --password "$BENCH_PASSWORD" --archived "$ARCHIVED"
}

# Starts nginx on REF_PORT serving $WORK/www (put files there first);
# `.gz` siblings are sent to clients that accept gzip (gzip_static). Sets NGINX_PID.
start_nginx() {
    local workers="${1:-1}"
    mkdir -p "$WORK/www" "$WORK/tmp"
    cat >"$WORK/nginx.conf" <<CONF
user root;
worker_processes $workers;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
    uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
    types { application/json json; }
    server { listen 127.0.0.1:$REF_PORT; root $WORK/www; etag on; gzip_static on; }
}
CONF
    nginx -c "$WORK/nginx.conf" &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
}
