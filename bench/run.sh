#!/usr/bin/env bash
# Every benchmark in BENCHMARKS.md, in one run: builds the release binary,
# installs what it needs (wrk, nginx), then bench/run.py starts servers on
# loopback, seeds them and prints one table with the ratios of this run.
#
# DURATION=8 (seconds per wrk run) ROUNDS=3 ARCHIVE_LARGE=1000000
# PARTS=feeds_against_nginx (a comma list of bench/run.py's parts; all by default)
# NEWSFEED_BENCH_PG=postgres://postgres@127.0.0.1:5432 (also measure writes on PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk nginx; do
    if ! command -v "$tool" >/dev/null; then
        package=$tool; [ "$tool" = nginx ] && package=nginx-light
        apt-get install -y "$package" >/dev/null 2>&1 \
            || { apt-get update >/dev/null && apt-get install -y "$package" >/dev/null; }
    fi
done
# NEWSFEED_BENCH_BIN=path measures that binary instead of building one.
if [ -n "${NEWSFEED_BENCH_BIN:-}" ]; then
    export BIN="$NEWSFEED_BENCH_BIN"
else
    cargo build --release -q
    export BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/newsfeed"
fi
WORK="$(mktemp -d)"
export WORK
trap 'pkill -f "$WORK/nginx.conf" 2>/dev/null || true; rm -rf "$WORK"' EXIT
# (wrk --version exits 1: its line is read, not its status.)
wrk_version=$(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2 || true)
BENCH_HEADER="Run on $(date -u +%Y-%m-%d) at $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, $(rustc --version | cut -d' ' -f1-2), $(nginx -v 2>&1 | sed 's/.*: //'), $wrk_version, PARTS=${PARTS:-all}, DURATION=${DURATION:-8}, ROUNDS=${ROUNDS:-3}."
export BENCH_HEADER
echo "$BENCH_HEADER"
python3 bench/run.py
