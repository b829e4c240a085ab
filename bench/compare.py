#!/usr/bin/env python3
"""Two builds side by side on part 3 of bench/run.py: submissions with a group
token (SQLite, and PostgreSQL when NEWSFEED_BENCH_PG is set) and the
moderation queue, alternating builds in each round, each run on a fresh
database. For changes whose effect is smaller than the machine's day-to-day
drift, which a single bench/run.sh cannot tell apart.

    BEFORE=path/to/old/newsfeed AFTER=target/release/newsfeed \\
        [NEWSFEED_BENCH_PG=postgres://postgres@127.0.0.1:5432] [ROUNDS=2] [DURATION=8] \\
        python3 bench/compare.py

Needs wrk (bench/run.sh installs it).
"""
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("WORK", tempfile.mkdtemp())
os.environ.setdefault("BIN", os.environ["AFTER"])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (reads BIN and WORK when imported)


def database(label):
    """A fresh database URL for one measurement."""
    if label == "PostgreSQL":
        name = f"nf_compare_{os.getpid()}_{time.monotonic_ns()}"
        subprocess.run(["psql", f"{run.PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
        return f"{run.PG}/{name}"
    return run.sqlite_url(f"compare{time.monotonic_ns()}")


def measure(binary, what):
    """wrk's result for `what` against `binary`, on a fresh database."""
    run.BIN = binary
    if what == "queue":
        return run.moderation_queue(database("SQLite"))
    return run.submissions(database(what))


def main():
    measurements = ["SQLite"] + (["PostgreSQL"] if run.PG else []) + ["queue"]
    builds = [("before", os.environ["BEFORE"]), ("after", os.environ["AFTER"])]
    for round_number in range(1, int(os.environ.get("ROUNDS", "2")) + 1):
        for label, binary in builds:
            for what in measurements:
                result = measure(binary, what)
                print(f"round {round_number} | {label} | {what} | {result['rps']:,.0f} req/s | "
                      f"p99 {result['p99']} | {result['errors'] or '-'}", flush=True)


if __name__ == "__main__":
    main()
