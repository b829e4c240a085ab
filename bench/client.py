#!/usr/bin/env python3
"""Seeds a running newsfeed for the feed benchmark and times sequential requests.

seed: 20 live entries through the API, then N archived (expired or rejected)
rows straight into the SQLite file, then one more approval so the snapshot is
rebuilt over the full table.
time: N sequential GETs over one keep-alive connection; prints latency stats.
"""
import argparse
import http.client
import json
import sqlite3
import statistics
import time
import urllib.parse

QGIS = "Mozilla/5.0 QGIS/33600/Linux"


def send(conn, method, path, token=None, body=None, agent=QGIS):
    """One request on `conn`; the response and its body, whatever the status."""
    headers = {"user-agent": agent}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["content-type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    return response, response.read()


def call(conn, method, path, token=None, body=None, agent=QGIS):
    response, payload = send(conn, method, path, token, body, agent)
    if response.status >= 400:
        raise SystemExit(f"{method} {path}: {response.status} {payload[:300]!r}")
    return response, payload


def connect(base):
    url = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=30)


def publish(conn, token, title, language):
    _, body = call(conn, "POST", "/api/v1/entries", token, {
        "group": "bench", "kind": "announcement", "title": title, "language": language,
        "content": "<p>Benchmark entry with a <a href=\"https://qgis.org\">link</a>.</p>",
        "url": "https://qgis.org/", "image": "https://qgis.org/img/bench.jpg"})
    entry = json.loads(body)["id"]
    call(conn, "POST", f"/api/v1/entries/{entry}/submit", token, {})
    call(conn, "POST", f"/api/v1/moderation/entries/{entry}/approve", token, {})


def seed(args):
    conn = connect(args.base)
    _, body = call(conn, "POST", "/api/v1/auth/login", None,
                   {"email": args.email, "password": args.password})
    token = json.loads(body)["access_token"]
    call(conn, "POST", "/api/v1/groups", token, {"slug": "bench", "name": "Bench", "country": "DE"})
    for n in range(args.live):
        publish(conn, token, f"Live entry {n}", "en" if n % 2 == 0 else "de")
    db = sqlite3.connect(args.db, timeout=30)
    group_id, author_id = db.execute(
        "SELECT g.id, u.id FROM groups g, users u WHERE g.slug = 'bench' LIMIT 1").fetchone()
    now = int(time.time())
    old = now - 400 * 86400
    live = json.dumps({"kind": "announcement", "sticky": False, "priority": 0,
                       "title": "Old", "content": "<p>Old</p>", "url": "", "image": "",
                       "publish_to": old})
    # Half expired long ago (still in_feed, approved), half rejected.
    db.execute(f"""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {args.archived})
        INSERT INTO entries (group_id, author_id, kind, status, version, title, content, url, image,
                             language, sticky, priority, publish_to, live, in_feed, live_publish_to,
                             live_changed_at, created_at, updated_at)
        SELECT ?, ?, 'announcement', CASE i % 2 WHEN 0 THEN 'approved' ELSE 'rejected' END, 3,
               'Archived ' || i, '<p>Old</p>', '', '', 'en', 0, 0, {old},
               CASE i % 2 WHEN 0 THEN ? END, i % 2 = 0, CASE i % 2 WHEN 0 THEN {old} END,
               {old}, {old}, {old}
        FROM n""", (group_id, author_id, live))
    db.commit()
    total = db.execute("SELECT count(*) FROM entries").fetchone()[0]
    started = time.perf_counter()
    publish(conn, token, "Last live entry", "en")
    print(f"seeded: {total} entries in the database, {args.live + 1} live; "
          f"last approval incl. snapshot rebuild took {(time.perf_counter() - started) * 1000:.1f} ms")


def timing(args):
    conn = connect(args.url)
    url = urllib.parse.urlsplit(args.url)
    path = url.path + (f"?{url.query}" if url.query else "")
    latencies = []
    body = b""
    for _ in range(args.requests):
        started = time.perf_counter()
        _, body = call(conn, "GET", path, agent=args.agent)
        latencies.append((time.perf_counter() - started) * 1000)
    if args.save:
        with open(args.save, "wb") as out:
            out.write(body)
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(f"{args.label:<34} n={len(latencies)} bytes={len(body)} total={sum(latencies):.0f} ms "
          f"mean={statistics.mean(latencies):.3f} p50={pick(.5):.3f} p90={pick(.9):.3f} "
          f"p99={pick(.99):.3f} max={latencies[-1]:.3f} ms")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--base", required=True)
    s.add_argument("--db", required=True)
    s.add_argument("--email", required=True)
    s.add_argument("--password", required=True)
    s.add_argument("--live", type=int, default=20)
    s.add_argument("--archived", type=int, default=100_000)
    t = sub.add_parser("time")
    t.add_argument("--url", required=True)
    t.add_argument("--label", required=True)
    t.add_argument("--agent", default=QGIS)
    t.add_argument("--requests", type=int, default=1000)
    t.add_argument("--save")
    args = parser.parse_args()
    seed(args) if args.command == "seed" else timing(args)


if __name__ == "__main__":
    main()
