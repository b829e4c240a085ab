#!/usr/bin/env bash
# Scale-out, shown: three instances on one PostgreSQL behind nginx (the load
# balancer), an approval crossing instances, sessions and login limits shared,
# `kill -9` of one instance and a PostgreSQL restart under load. Prints the
# table of BENCHMARKS.md and writes bench/cluster.svg. bench/cluster.py starts
# its own PostgreSQL cluster on PG_PORT (55432), leaving the machine's alone.
#
# SECONDS_PER_PHASE=12 (each load phase; the kill/stop at a third, the restart at two thirds)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nginx >/dev/null; then
    apt-get install -y nginx-light >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y nginx-light >/dev/null; }
fi
cargo build --release -q
export BIN="$PWD/target/release/newsfeed"
export PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}"
export OUT="$PWD/bench"
echo "newsfeed cluster, $(date -u +%Y-%m-%d), $(nproc) CPUs, $(nginx -v 2>&1), PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}')"
python3 bench/cluster.py
