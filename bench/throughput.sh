#!/usr/bin/env bash
# Throughput and memory: wrk against a release build of `newsfeed serve` over a
# SQLite database with 20 live and 100,000 archived entries (seeded like
# bench/feeds.sh), as QGIS asks (QGIS User-Agent, Accept-Encoding: gzip), and
# against nginx serving the very same bytes. Reports requests/s, latency
# p50/p99 and the server's resident memory: after start, idle after seeding,
# and the peak (VmHWM) during each run. See BENCHMARKS.md.
#
# DURATION=15s THREADS=2 CONNECTIONS=64 ARCHIVED=100000 PORT=18080 REF_PORT=18081
set -euo pipefail
DURATION="${DURATION:-15s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"
if ! command -v wrk >/dev/null; then
    apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
command -v nginx >/dev/null || apt-get install -y nginx-light >/dev/null
source "$(dirname "$0")/lib.sh"

# Resident memory of `pid` in MB: VmRSS (now) or VmHWM (peak since start or reset).
mem() { awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
# Resets VmHWM to the current RSS (Linux >= 4.0), so each run has its own peak.
reset_peak() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || echo "(cannot reset VmHWM; peaks are cumulative)" >&2; }
# nginx's master plus workers.
nginx_pids() { echo "$NGINX_PID" $(pgrep -P "$NGINX_PID" || true); }
nginx_mem() { local sum=0; for pid in $(nginx_pids); do sum=$(awk -v a="$sum" -v b="$(mem "$pid" "$1")" 'BEGIN { print a + b }'); done; echo "$sum"; }

start_newsfeed
sleep 1
RSS_START=$(mem "$NEWSFEED_PID" VmRSS)
seed_entries
AFTER=$(( $(date +%s) - 3600 ))

# nginx serves the bytes newsfeed sends for `/?lang=en`, plain and gzip.
mkdir -p "$WORK/www"
curl -sf -A "$QGIS_AGENT" "127.0.0.1:$PORT/?lang=en" -o "$WORK/www/index.json"
curl -sf -A "$QGIS_AGENT" -H 'Accept-Encoding: gzip' "127.0.0.1:$PORT/?lang=en" -o "$WORK/www/index.json.gz"
start_nginx 2
wait_for "127.0.0.1:$REF_PORT/index.json"
sleep 2
RSS_IDLE=$(mem "$NEWSFEED_PID" VmRSS)
PEAK_SEED=$(mem "$NEWSFEED_PID" VmHWM)

echo "release build, $ARCHIVED archived + 21 live entries; wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency,"
echo "User-Agent: $QGIS_AGENT, Accept-Encoding: gzip; $(nproc) CPUs shared by wrk and the server"
echo "newsfeed RSS: ${RSS_START} MB after start, ${RSS_IDLE} MB idle after seeding, peak so far ${PEAK_SEED} MB"
printf '\n%-40s %8s %6s %10s %9s %9s %9s %s\n' target bytes gzip req/s p50 p99 peak_MB errors
SUMMARY=()
run() {
    local label="$1" url="$2" pid="$3" out="$WORK/wrk.out"
    local bytes encoding
    bytes=$(curl -sf -A "$QGIS_AGENT" -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$url")
    encoding=$(curl -sf -A "$QGIS_AGENT" -H 'Accept-Encoding: gzip' -o /dev/null -D - "$url" \
        | awk -F': ' 'tolower($1) == "content-encoding" { gsub(/\r/, "", $2); print $2 }')
    if [ "$pid" = nginx ]; then for p in $(nginx_pids); do reset_peak "$p"; done; else reset_peak "$pid"; fi
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
        -H "User-Agent: $QGIS_AGENT" -H 'Accept-Encoding: gzip' "$url" >"$out"
    local peak
    if [ "$pid" = nginx ]; then peak=$(nginx_mem VmHWM); else peak=$(mem "$pid" VmHWM); fi
    local rps p50 p99 errors
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    p50=$(awk '$1 == "50%" { print $2 }' "$out")
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    errors=$(awk '/Non-2xx|Socket errors/ { $1 = $1; printf "%s; ", $0 }' "$out")
    printf '%-40s %8s %6s %10s %9s %9s %9s %s\n' "$label" "$bytes" "${encoding:-none}" "$rps" "$p50" "$p99" "$peak" "${errors:-none}"
    cp "$out" "$WORK/wrk-$(echo "$label" | tr -c 'a-zA-Z0-9' _).out"
    sleep 2
}
run "newsfeed GET /?lang=en" "http://127.0.0.1:$PORT/?lang=en" "$NEWSFEED_PID"
run "newsfeed GET /?lang=en&after=T" "http://127.0.0.1:$PORT/?lang=en&after=$AFTER" "$NEWSFEED_PID"
run "newsfeed GET /feed.rss" "http://127.0.0.1:$PORT/feed.rss" "$NEWSFEED_PID"
run "nginx, same bytes as /?lang=en" "http://127.0.0.1:$REF_PORT/index.json" nginx
echo
echo "newsfeed RSS after the runs: $(mem "$NEWSFEED_PID" VmRSS) MB; nginx (master + workers) after its run: $(nginx_mem VmRSS) MB"
if [ -n "${VERBOSE:-}" ]; then for f in "$WORK"/wrk-*.out; do echo "== $f"; cat "$f"; done; fi
