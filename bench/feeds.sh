#!/usr/bin/env bash
# Feed benchmark: GET /?lang=en (QGIS agent) x 1,000 sequential requests on a
# release build over a SQLite database with 100,000 archived entries, against
# nginx serving the very same bytes as a static file. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS="${REQUESTS:-1000}"
ARCHIVED="${ARCHIVED:-100000}"
PORT="${PORT:-18080}"
REF_PORT="${REF_PORT:-18081}"

cargo build --release -q
BIN="$PWD/target/release/newsfeed"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

export NEWSFEED_DATABASE_URL="sqlite://$WORK/bench.db?mode=rwc"
export NEWSFEED_JWT_SECRET="bench-secret-bench-secret-bench-secret"
export NEWSFEED_LOG=warn
PASSWORD="bench password 1234"
echo "$PASSWORD" | "$BIN" create-user --email admin@example.org --role admin --password-stdin >/dev/null
"$BIN" serve --bind "127.0.0.1:$PORT" 2>"$WORK/server.log" &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

python3 bench/client.py seed --base "http://127.0.0.1:$PORT" --db "$WORK/bench.db" \
    --email admin@example.org --password "$PASSWORD" --archived "$ARCHIVED"

mkdir -p "$WORK/www" "$WORK/tmp"
python3 bench/client.py time --requests 1 --label warm-up --url "http://127.0.0.1:$PORT/?lang=en" \
    --save "$WORK/www/index.json" >/dev/null
cat >"$WORK/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 64; }
http {
    access_log off;
    keepalive_requests 100000;
    client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
    uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
    types { application/json json; }
    server { listen 127.0.0.1:$REF_PORT; root $WORK/www; etag on; }
}
CONF
nginx -c "$WORK/nginx.conf" &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "127.0.0.1:$REF_PORT/index.json" >/dev/null && break; sleep 0.1; done

echo "release build, $ARCHIVED archived entries, $REQUESTS sequential requests over one keep-alive connection"
python3 bench/client.py time --requests "$REQUESTS" --label "newsfeed GET /?lang=en" \
    --url "http://127.0.0.1:$PORT/?lang=en"
python3 bench/client.py time --requests "$REQUESTS" --label "newsfeed GET /?lang=en&after=T" \
    --url "http://127.0.0.1:$PORT/?lang=en&after=$(( $(date +%s) - 3600 ))"
python3 bench/client.py time --requests "$REQUESTS" --label "newsfeed GET /feed.rss" \
    --url "http://127.0.0.1:$PORT/feed.rss"
python3 bench/client.py time --requests "$REQUESTS" --label "nginx, same bytes (reference)" \
    --url "http://127.0.0.1:$REF_PORT/index.json"
