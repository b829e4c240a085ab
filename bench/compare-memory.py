#!/usr/bin/env python3
"""Two builds side by side on part 4 of bench/run.py, resident memory:
idle 35 s after seeding as part 1 does (with 100,000 archived entries), what
that idle memory is made of (/proc/PID/smaps), the peak under one wrk run of
`GET /` (QGIS, gzip), and the burst of 50 logins. Alternating builds in each
round, a fresh database per measurement. For a change of allocator or of
what the server keeps, which one bench/run.sh cannot tell from the day.

    BEFORE=path/to/old/newsfeed AFTER=target/release/newsfeed [ROUNDS=1] \\
        python3 bench/compare-memory.py

Needs wrk (bench/run.sh installs it).
"""
import os
import sys
import tempfile
import time

os.environ.setdefault("WORK", tempfile.mkdtemp())
os.environ.setdefault("BIN", os.environ["AFTER"])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (reads BIN and WORK when imported)


def resident_parts(pid):
    """MiB resident: the binary's own pages (code and data) and the anonymous rest."""
    parts = {"binary": 0, "anonymous": 0, "other": 0}
    binary = os.path.realpath(f"/proc/{pid}/exe")
    current = "other"
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5:
                name = fields[5] if len(fields) > 5 else ""
                current = "binary" if name == binary else "anonymous" if not name else "other"
            elif fields[0] == "Rss:":
                parts[current] += int(fields[1]) / 1024
    return parts


def idle_and_feed_peak():
    """Resident memory idle after seeding, its parts, and the peak under the feed load."""
    server = run.Server(run.sqlite_url(f"memory{time.monotonic_ns()}"))
    idle = run.idle_after_seeding(server, run.feed_targets())
    parts = resident_parts(server.pid)
    run.wrk(f"http://127.0.0.1:{run.PORT}/?lang=en", [f"User-Agent: {run.QGIS}", "Accept-Encoding: gzip"])
    peak = run.rss(server.pid, "VmHWM")
    server.stop()
    return (f"idle {idle:.1f} MiB (binary {parts['binary']:.1f}, anonymous {parts['anonymous']:.1f},"
            f" other {parts['other']:.1f})", f"feed load peak {peak:.1f} MiB")


def main():
    builds = [("before", os.environ["BEFORE"]), ("after", os.environ["AFTER"])]
    for round_number in range(1, int(os.environ.get("ROUNDS", "1")) + 1):
        for label, binary in builds:
            run.BIN = binary
            idle, peak = idle_and_feed_peak()
            burst = []
            run.login_burst(burst)
            print(" | ".join([f"round {round_number}", label, idle, peak, *burst[0][1:4]]), flush=True)


if __name__ == "__main__":
    main()
