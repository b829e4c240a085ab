#!/usr/bin/env bash
# Slow and idle connections: SLOW connections sending a request head a byte
# a second (each replaced when the server drops it) and IDLE kept-alive ones,
# held against a release build on SQLite on loopback, while wrk measures
# GET /feed.rss for DURATION seconds; the same wrk run without them first, for
# comparison. Prints how long the server let each connection live and its
# connection metrics. Defaults: --header-read-timeout 10, --idle-timeout 60.
# See BENCHMARKS.md.
set -euo pipefail
SLOW="${SLOW:-3000}"
IDLE="${IDLE:-200}"
DURATION="${DURATION:-10}"
HOLD="${HOLD:-75}"
ARCHIVED="${ARCHIVED:-1000}"
# Every connection is a file descriptor, on both ends.
ulimit -n "$(ulimit -Hn)"
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
source "$(dirname "$0")/lib.sh"

start_newsfeed
seed_entries >/dev/null
URL="http://127.0.0.1:$PORT/feed.rss"
curl -sf "$URL" >/dev/null

echo "release build, $(nproc) CPUs, ulimit -n $(ulimit -n); wrk -t2 -c32 -d${DURATION}s --latency $URL"
echo "--- without slow connections"
wrk -t2 -c32 -d"${DURATION}s" --latency "$URL" | grep -E "Requests/sec|  99%|Socket errors|Non-2xx"
echo "--- with $SLOW slow-header and $IDLE idle connections held"
python3 bench/slow_connections.py --port "$PORT" --slow "$SLOW" --idle "$IDLE" --hold "$HOLD" \
    --header-timeout 10 >"$WORK/holders.out" &
HOLDERS=$!
PIDS+=("$HOLDERS")
sleep 3
curl -s "127.0.0.1:$PORT/metrics" | grep -E "^newsfeed_connections_open"
wrk -t2 -c32 -d"${DURATION}s" --latency "$URL" | grep -E "Requests/sec|  99%|Socket errors|Non-2xx"
wait "$HOLDERS"
cat "$WORK/holders.out"
curl -s "127.0.0.1:$PORT/metrics" | grep -E "^newsfeed_connections"
