#!/usr/bin/env bash
# Feed benchmark: GET /?lang=en (QGIS agent) x 1,000 sequential requests on a
# release build over a SQLite database with 100,000 archived entries, against
# nginx serving the very same bytes as a static file. See BENCHMARKS.md.
set -euo pipefail
REQUESTS="${REQUESTS:-1000}"
source "$(dirname "$0")/lib.sh"

start_newsfeed
seed_entries

mkdir -p "$WORK/www"
python3 bench/client.py time --requests 1 --label warm-up --url "http://127.0.0.1:$PORT/?lang=en" \
    --save "$WORK/www/index.json" >/dev/null
start_nginx 1
wait_for "127.0.0.1:$REF_PORT/index.json"

echo "release build, $ARCHIVED archived entries, $REQUESTS sequential requests over one keep-alive connection"
python3 bench/client.py time --requests "$REQUESTS" --label "newsfeed GET /?lang=en" \
    --url "http://127.0.0.1:$PORT/?lang=en"
python3 bench/client.py time --requests "$REQUESTS" --label "newsfeed GET /?lang=en&after=T" \
    --url "http://127.0.0.1:$PORT/?lang=en&after=$(( $(date +%s) - 3600 ))"
python3 bench/client.py time --requests "$REQUESTS" --label "newsfeed GET /feed.rss" \
    --url "http://127.0.0.1:$PORT/feed.rss"
python3 bench/client.py time --requests "$REQUESTS" --label "nginx, same bytes (reference)" \
    --url "http://127.0.0.1:$REF_PORT/index.json"
