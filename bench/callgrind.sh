#!/usr/bin/env bash
# Instructions per feed request, counted by callgrind (stable on a busy
# machine, unlike req/s): the whole release process, once serving FEW and
# once MANY sequential requests over one keep-alive connection; the
# difference divided by MANY - FEW leaves out start-up and shutdown.
# See BENCHMARKS.md. PATHS: the feed paths to count (QGIS agent).
set -euo pipefail
ARCHIVED="${ARCHIVED:-100}"
FEW="${FEW:-500}"
MANY="${MANY:-2500}"
PATHS="${PATHS:-/?lang=en /feed.rss}"
source "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }

start_newsfeed
seed_entries
kill -INT "$NEWSFEED_PID"
wait "$NEWSFEED_PID" 2>/dev/null || true

# Total instructions of a `serve` that answers `count` GETs of `path`.
instructions() {
    local path="$1" count="$2"
    local out="$WORK/callgrind.$count.out"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" serve --bind "127.0.0.1:$PORT" \
        2>"$WORK/valgrind.log" &
    local pid=$!
    for _ in $(seq 600); do curl -sf "127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
    python3 bench/client.py time --requests "$count" --label "$path x $count" \
        --url "http://127.0.0.1:$PORT$path" >/dev/null
    kill -INT "$pid"
    wait "$pid" 2>/dev/null || true
    awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

for path in $PATHS; do
    few=$(instructions "$path" "$FEW")
    many=$(instructions "$path" "$MANY")
    echo "GET $path: $(( (many - few) / (MANY - FEW) )) instructions per request"
done
