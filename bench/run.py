#!/usr/bin/env python3
"""Every benchmark of BENCHMARKS.md in one run, with ratios from the same run.

Started by bench/run.sh (which builds the release binary and installs wrk and
nginx). Each part starts its own `newsfeed serve` on loopback over a fresh
database, seeds it, measures with wrk (the feeds also against nginx serving
the very same bytes), and prints one table. Nothing here is a test: the
numbers are what the machine gives today.

Environment: BIN (the release binary), WORK (a scratch directory),
NEWSFEED_BENCH_PG (a PostgreSQL server URL, optional), DURATION (wrk seconds),
ROUNDS (alternating rounds of the nginx comparison), ARCHIVE_LARGE.
"""
import http.client
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

from client import QGIS, send

BIN = os.environ["BIN"]
WORK = os.environ["WORK"]
DURATION = os.environ.get("DURATION", "8")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
ARCHIVE_LARGE = int(os.environ.get("ARCHIVE_LARGE", "1000000"))
PG = os.environ.get("NEWSFEED_BENCH_PG")
# PARTS=feeds_against_nginx,writes runs only those parts (all by default).
PARTS = [part for part in os.environ.get("PARTS", "").split(",") if part]
PASSWORD = "bench password 1234"
PORT = 18090
NGINX_PORT = 18091
SECRET = "bench-secret-bench-secret-bench-secret"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def rss(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


RUNNING = []


class Server:
    """`newsfeed serve` on PORT over `url`, with an admin account."""

    def __init__(self, url, **env):
        self.url = url
        self.env = dict(os.environ, NEWSFEED_DATABASE_URL=url, NEWSFEED_JWT_SECRET=SECRET,
                        NEWSFEED_LOG="warn", NEWSFEED_TRUST_PROXY="true",
                        NEWSFEED_LOGIN_ATTEMPTS="1000000", NEWSFEED_LOGIN_ATTEMPTS_PER_IP="1000000",
                        NEWSFEED_ACCESS_REQUESTS_PER_HOUR="1000000", **env)
        subprocess.run([BIN, "create-user", "--email", "admin@example.org", "--role", "admin",
                        "--password-stdin"], input=PASSWORD.encode(), env=self.env,
                       check=True, capture_output=True)
        self.process = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{PORT}"],
                                        env=self.env, stderr=open(f"{WORK}/server.log", "ab"))
        RUNNING.append(self.process)
        for _ in range(200):
            try:
                self.call("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.05)
        self.token = self.call("POST", "/api/v1/auth/login",
                               body={"email": "admin@example.org", "password": PASSWORD})["access_token"]

    @property
    def pid(self):
        return self.process.pid

    def call(self, method, path, body=None, token=None, agent=QGIS):
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
        response, payload = send(conn, method, path, token, body, agent)
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        return json.loads(payload) if payload.startswith((b"{", b"[")) else payload

    def admin(self, method, path, body=None):
        return self.call(method, path, body, token=self.token)

    def publish(self, title, language="en", **fields):
        entry = self.admin("POST", "/api/v1/entries", {
            "group": "bench", "kind": "announcement", "title": title, "language": language,
            "content": "<p>Benchmark entry with a <a href=\"https://qgis.org\">link</a>.</p>",
            "url": "https://qgis.org/", "image": "https://qgis.org/img/bench.jpg", **fields})["id"]
        self.admin("POST", f"/api/v1/entries/{entry}/submit", {})
        started = time.perf_counter()
        self.admin("POST", f"/api/v1/moderation/entries/{entry}/approve", {})
        return entry, started

    def metric(self, name):
        text = self.call("GET", "/metrics").decode()
        match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
        return float(match.group(1)) if match else None

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def sqlite_url(name):
    return f"sqlite://{WORK}/{name}.db?mode=rwc"


def sqlite_path(url):
    return url.removeprefix("sqlite://").split("?")[0]


def archive(server, count):
    """`count` archived rows (half expired long ago, half rejected) straight into the file."""
    db = sqlite3.connect(sqlite_path(server.url), timeout=60)
    group_id, author_id = db.execute(
        "SELECT g.id, u.id FROM groups g, users u WHERE g.slug = 'bench' LIMIT 1").fetchone()
    old = int(time.time()) - 400 * 86400
    live = json.dumps({"kind": "announcement", "sticky": False, "priority": 0, "title": "Old",
                       "content": "<p>Old</p>", "url": "", "image": "", "publish_to": old})
    db.execute(f"""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})
        INSERT INTO entries (group_id, author_id, kind, status, version, title, content, url, image,
                             language, sticky, priority, publish_to, live, in_feed, live_publish_to,
                             live_changed_at, created_at, updated_at)
        SELECT ?, ?, 'announcement', CASE i % 2 WHEN 0 THEN 'approved' ELSE 'rejected' END, 3,
               'Archived ' || i, '<p>Old</p>', '', '', 'en', 0, 0, {old},
               CASE i % 2 WHEN 0 THEN ? END, i % 2 = 0, CASE i % 2 WHEN 0 THEN {old} END,
               {old}, {old}, {old}
        FROM n""", (group_id, author_id, live))
    db.commit()
    db.close()


def pending(server, count):
    """`count` entries waiting for a moderator, straight into the file."""
    db = sqlite3.connect(sqlite_path(server.url), timeout=60)
    group_id, author_id = db.execute(
        "SELECT g.id, u.id FROM groups g, users u WHERE g.slug = 'bench' LIMIT 1").fetchone()
    now = int(time.time())
    db.execute(f"""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})
        INSERT INTO entries (group_id, author_id, kind, status, version, title, content, url, image,
                             language, sticky, priority, in_feed, submitted_at, created_at, updated_at)
        SELECT ?, ?, 'announcement', 'pending', 2, 'Waiting ' || i, '<p>Please</p>', '', '',
               CASE i % 3 WHEN 0 THEN 'de' WHEN 1 THEN 'en' END, 0, 0, 0, {now} - i, {now}, {now}
        FROM n""", (group_id, author_id))
    db.commit()
    db.close()


def wrk(url, headers=(), script=None, connections=32):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{DURATION}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+(\S+)", output).group(1))
    quantile = lambda q: re.search(rf"^\s+{q}%\s+(\S+)", output, re.M).group(1)
    errors = re.findall(r"(Non-2xx or 3xx responses: \d+|Socket errors: .*)", output)
    return {"rps": rps, "p50": quantile(50), "p99": quantile(99), "errors": "; ".join(errors)}


def fetch(path, headers):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    conn.request("GET", path, headers=dict(h.split(": ", 1) for h in headers))
    response = conn.getresponse()
    headers = {name.lower(): value for name, value in response.getheaders()}
    return response.status, headers, response.read()


def start_nginx():
    www = f"{WORK}/www"
    os.makedirs(www, exist_ok=True)
    os.makedirs(f"{WORK}/tmp", exist_ok=True)
    with open(f"{WORK}/nginx.conf", "w") as conf:
        conf.write(f"""
user root; worker_processes 2; daemon off; pid {WORK}/nginx.pid; error_log {WORK}/nginx.err;
events {{ worker_connections 1024; }}
http {{
    access_log off; keepalive_requests 1000000;
    client_body_temp_path {WORK}/tmp; proxy_temp_path {WORK}/tmp; fastcgi_temp_path {WORK}/tmp;
    uwsgi_temp_path {WORK}/tmp; scgi_temp_path {WORK}/tmp;
    types {{ application/json json; application/rss+xml rss; text/calendar ics; }}
    server {{ listen 127.0.0.1:{NGINX_PORT}; root {www}; etag on; gzip_static on; }}
}}""")
    return subprocess.Popen(["nginx", "-c", f"{WORK}/nginx.conf"])


# The feeds of issue 27's target, each plain and gzip: (label, path, file nginx serves).
FEEDS = [("GET / (QGIS)", "/?lang=en", "index.json"),
         ("GET /feed.rss", "/feed.rss", "feed.rss"),
         ("GET /feed.json", "/feed.json", "feed.json"),
         ("GET /groups/bench/feed.ics", "/groups/bench/feed.ics", "group.ics")]
# Filled by feeds_against_nginx for the chart: one dict per route and encoding.
COMPARED = []


def seed_feeds(server):
    server.admin("POST", "/api/v1/groups", {"slug": "bench", "name": "Bench", "country": "DE"})
    for n in range(20):
        server.publish(f"Live entry {n}", "en" if n % 2 == 0 else "de")
    day = 86_400
    for n in range(10):
        starts = time.gmtime(time.time() + (n + 2) * 7 * day)
        server.publish(f"Meetup {n}", kind="event", timezone="Europe/Berlin",
                       location_name="Bonn, Haus der Geschichte",
                       starts_at=time.strftime("%Y-%m-%dT18:00:00Z", starts),
                       ends_at=time.strftime("%Y-%m-%dT20:00:00Z", starts))
    archive(server, 100_000)
    server.publish("Last live entry")


def idle_after_seeding(server, targets):
    """Seeds `server` as part 1 does and saves `targets` for nginx; its
    resident MiB once idle, with the peak counter reset from there."""
    seed_feeds(server)
    save_for_nginx(targets)
    # Idle: once the pool has closed the connections the seeding opened
    # (`db::IDLE_CONNECTION`, 30 s), as a server that sees no writes would be.
    time.sleep(35)
    idle = rss(server.pid)
    reset_peak(server.pid)
    return idle


def feed_targets():
    """(label, path, file nginx serves, request headers) of each feed, gzip and plain."""
    gzip = "Accept-Encoding: gzip"
    agent = f"User-Agent: {QGIS}"
    return [(f"{label}, {encoding}", path, name, [agent] + ([gzip] if encoding == "gzip" else []))
            for label, path, name in FEEDS for encoding in ("gzip", "plain")]


def save_for_nginx(targets):
    """Our answer to each target, saved where nginx serves it (`.gz` for gzip_static)."""
    os.makedirs(f"{WORK}/www", exist_ok=True)
    for _, path, name, headers in targets:
        _, response_headers, body = fetch(path, headers)
        gz = response_headers.get("content-encoding") == "gzip"
        with open(f"{WORK}/www/{name}" + (".gz" if gz else ""), "wb") as out:
            out.write(body)


def against_nginx(targets, rows, part):
    """Each target from us and from nginx in ROUNDS alternating rounds: one row each."""
    for label, path, name, headers in targets:
        ours, theirs = [], []
        for _ in range(ROUNDS):
            ours.append(wrk(f"http://127.0.0.1:{PORT}{path}", headers))
            theirs.append(wrk(f"http://127.0.0.1:{NGINX_PORT}/{name}", headers))
        ratio = statistics.median(o["rps"] / t["rps"] for o, t in zip(ours, theirs))
        p99 = statistics.median(milliseconds(o["p99"]) for o in ours)
        nginx_p99 = statistics.median(milliseconds(t["p99"]) for t in theirs)
        if part == "1.":
            COMPARED.append({"label": label, "ratio": ratio,
                             "p50": statistics.median(milliseconds(o["p50"]) for o in ours),
                             "p99": p99,
                             "nginx_p50": statistics.median(milliseconds(t["p50"]) for t in theirs),
                             "nginx_p99": nginx_p99})
        errors = "; ".join(o["errors"] for o in ours if o["errors"])
        rows.append((f"{part} {label}", f"{statistics.median(o['rps'] for o in ours):,.0f} req/s",
                     f"nginx {statistics.median(t['rps'] for t in theirs):,.0f} req/s",
                     f"{ratio:.2f}x nginx (median of {ROUNDS})",
                     f"p99 {p99:.2f} ms (nginx {nginx_p99:.2f})", errors or "-"))


def feeds_against_nginx(rows):
    """Part 1: the hot feeds against nginx serving the same bytes, alternating rounds."""
    server = Server(sqlite_url("feeds"))
    targets = feed_targets()
    nginx = start_nginx()
    idle = idle_after_seeding(server, targets)
    against_nginx(targets, rows, "1.")
    # Conditional requests: 304 against 200 of the same variant.
    agent = f"User-Agent: {QGIS}"
    _, headers_plain, _ = fetch("/?lang=en", [agent])
    etag = headers_plain["etag"]
    not_modified = wrk(f"http://127.0.0.1:{PORT}/?lang=en", [agent, f"If-None-Match: {etag}"])
    full = wrk(f"http://127.0.0.1:{PORT}/?lang=en", [agent])
    rows.append(("1. GET / 304 (If-None-Match)", f"{not_modified['rps']:,.0f} req/s",
                 f"200: {full['rps']:,.0f} req/s", f"{not_modified['rps'] / full['rps']:.2f}x the 200",
                 f"p99 {not_modified['p99']}", not_modified["errors"] or "-"))
    rows.append(("4. memory: idle, 35 s after seeding 100,000 archived", f"{idle:.1f} MiB", "",
                 "target < 30 MiB", "", "-"))
    rows.append(("4. memory: peak under the feed load", f"{rss(server.pid, 'VmHWM'):.1f} MiB",
                 "", "target < 64 MiB", "", "-"))
    nginx.terminate()
    nginx.wait()
    server.stop()


def http_threads(rows):
    """Part 1b: the QGIS feed and RSS served on threads of their own (--http-threads 2)."""
    server = Server(sqlite_url("threads"), NEWSFEED_HTTP_THREADS="2")
    seed_feeds(server)
    targets = feed_targets()[:4]
    save_for_nginx(targets)
    nginx = start_nginx()
    against_nginx(targets, rows, "1b. --http-threads 2:")
    nginx.terminate()
    nginx.wait()
    server.stop()


def milliseconds(text):
    """wrk's latency ("850.00us", "1.84ms", "1.20s") in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


APPROVALS = 30
WRITES_PER_SECOND = 200


def approval_to_visible(server):
    """Milliseconds from the approval's request to the entry in `GET /`."""
    entry, started = server.publish("The approval to see")
    while entry not in [item["pk"] for item in server.call("GET", "/?lang=en")]:
        pass
    return (time.perf_counter() - started) * 1000


class Writer(threading.Thread):
    """Submissions with a group token at a steady rate, on one keep-alive connection."""

    def __init__(self, token, per_second):
        super().__init__(daemon=True)
        self.token, self.interval = token, 1 / per_second
        self.done, self.sent, self.failures = threading.Event(), 0, 0

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        body = {"group": "bench", "kind": "announcement", "title": "Meanwhile", "content": "<p>Written</p>"}
        self.started = time.perf_counter()
        while not self.done.is_set():
            response, _ = send(conn, "POST", "/api/v1/entries", self.token, body)
            self.sent += 1
            self.failures += response.status != 201
            pause = self.started + self.sent * self.interval - time.perf_counter()
            if pause > 0:
                time.sleep(pause)

    def __enter__(self):
        self.start()
        time.sleep(1)
        return self

    def __exit__(self, *_):
        self.done.set()
        self.join()
        self.rate = self.sent / (time.perf_counter() - self.started)


def archive_independence(rows):
    """Part 2: the same feed over 100 and over ARCHIVE_LARGE archived rows."""
    results = {}
    for size in (100, ARCHIVE_LARGE):
        server = Server(sqlite_url(f"archive{size}"))
        server.admin("POST", "/api/v1/groups", {"slug": "bench", "name": "Bench", "country": "DE"})
        for n in range(20):
            server.publish(f"Live entry {n}")
        log(f"archiving {size:,} rows")
        archive(server, size)
        rebuilds, spent = server.metric("newsfeed_feed_rebuilds_total"), \
            server.metric("newsfeed_feed_rebuild_duration_seconds_total")
        secret = server.admin("POST", "/api/v1/groups/bench/tokens", {"name": "writer"})["token"]
        with Writer(secret, WRITES_PER_SECOND) as writer:
            visible = sorted(approval_to_visible(server) for _ in range(APPROVALS))
        rebuild_ms = (server.metric("newsfeed_feed_rebuild_duration_seconds_total") - spent) / \
            (server.metric("newsfeed_feed_rebuilds_total") - rebuilds) * 1000
        p99 = visible[min(len(visible) - 1, int(len(visible) * 0.99))]
        load = wrk(f"http://127.0.0.1:{PORT}/?lang=en", [f"User-Agent: {QGIS}", "Accept-Encoding: gzip"])
        results[size] = load["rps"]
        rows.append((f"2. {size:,} archived: GET / (QGIS), gzip", f"{load['rps']:,.0f} req/s", "",
                     "", f"p99 {load['p99']}", load["errors"] or "-"))
        rows.append((f"2. {size:,} archived: approval -> visible in GET /, {APPROVALS} approvals "
                     f"during {writer.rate:.0f} writes/s",
                     f"p50 {statistics.median(visible):.1f} ms, p99 {p99:.1f} ms", "",
                     "target p99 < 50 ms", f"snapshot rebuild {rebuild_ms:.1f} ms",
                     f"{writer.failures} failed writes" if writer.failures else "-"))
        server.stop()
    rows.append((f"2. throughput {ARCHIVE_LARGE:,} vs 100 archived",
                 f"{results[ARCHIVE_LARGE] / results[100]:.2f}", "", "", "", "-"))


SUBMIT_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"group":"bench","kind":"announcement","title":"From CI","content":"<p>Built</p>","language":"en"}'
"""


def submissions(url):
    """wrk against POST /api/v1/entries with a group token, a fresh server over `url`."""
    script = f"{WORK}/submit.lua"
    with open(script, "w") as out:
        out.write(SUBMIT_LUA)
    server = Server(url)
    server.admin("POST", "/api/v1/groups", {"slug": "bench", "name": "Bench", "country": "DE"})
    secret = server.admin("POST", "/api/v1/groups/bench/tokens", {"name": "ci"})["token"]
    load = wrk(f"http://127.0.0.1:{PORT}/api/v1/entries", [f"Authorization: Bearer {secret}"],
               script=script)
    server.stop()
    return load


def moderation_queue(url):
    """wrk against the moderation queue with 100,000 pending, a fresh server over `url` (SQLite)."""
    server = Server(url)
    server.admin("POST", "/api/v1/groups", {"slug": "bench", "name": "Bench", "country": "DE"})
    pending(server, 100_000)
    load = wrk(f"http://127.0.0.1:{PORT}/api/v1/moderation/queue",
               [f"Authorization: Bearer {server.token}"])
    server.stop()
    return load


def writes(rows):
    """Part 3: submissions with a group token (SQLite and PostgreSQL) and the queue."""
    databases = [("SQLite", sqlite_url("writes"))]
    if PG:
        name = f"nf_bench_{os.getpid()}"
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
        databases.append(("PostgreSQL", f"{PG}/{name}"))
    for label, url in databases:
        load = submissions(url)
        rows.append((f"3. {label}: POST /api/v1/entries with a group token", f"{load['rps']:,.0f} req/s",
                     "", "target >= 2,000/s", f"p99 {load['p99']}", load["errors"] or "-"))
    load = moderation_queue(sqlite_url("queue"))
    rows.append(("3. moderation queue, 100,000 pending", f"{load['rps']:,.0f} req/s", "",
                 "target p99 < 20 ms", f"p99 {load['p99']}", load["errors"] or "-"))


def login_burst(rows):
    """Part 4: memory around 50 simultaneous password checks."""
    # Its own file each time: bench/compare-memory.py runs this per build.
    server = Server(sqlite_url(f"burst{time.monotonic_ns()}"))
    time.sleep(1)
    before = rss(server.pid)
    reset_peak(server.pid)
    barrier = threading.Barrier(50)

    def login(n):
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
        body = json.dumps({"email": "admin@example.org", "password": "wrong password"})
        barrier.wait()
        conn.request("POST", "/api/v1/auth/login", body=body, headers={
            "content-type": "application/json", "x-forwarded-for": f"198.51.100.{n}"})
        conn.getresponse().read()

    threads = [threading.Thread(target=login, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    peak = rss(server.pid, "VmHWM")
    time.sleep(10)
    rows.append(("4. memory: 50 concurrent logins", f"before {before:.1f} MiB", f"peak {peak:.1f} MiB",
                 f"10 s after {rss(server.pid):.1f} MiB", "target < 64 MiB after", "-"))
    server.stop()


def chart(compared):
    """An SVG: req/s against nginx per feed (bars around the 1.0x line) and p50/p99 of both."""
    bar, gap, left, width = 18, 10, 250, 360
    height = 40 + len(compared) * (bar + gap)
    scale = width / max([1.2] + [c["ratio"] for c in compared])
    slowest = max([c["p99"] for c in compared] + [c["nginx_p99"] for c in compared] + [0.1])
    parts = ['<text x="10" y="18" font-size="13" font-weight="bold">req/s as a multiple of nginx '
             '(median of the rounds; the line is 1.0x)</text>',
             f'<text x="{left + width + 60}" y="18" font-size="13" font-weight="bold">latency, ms: '
             'ours (blue) and nginx (grey), p50 | p99</text>']
    for index, item in enumerate(compared):
        y = 30 + index * (bar + gap)
        colour = "#1a7f37" if item["ratio"] >= 1.0 else "#cf222e"
        parts.append(f'<text x="{left - 8}" y="{y + 13}" font-size="11" text-anchor="end">'
                     f'{item["label"]}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{item["ratio"] * scale:.1f}" height="{bar}" fill="{colour}"/>')
        parts.append(f'<text x="{left + item["ratio"] * scale + 4:.1f}" y="{y + 13}" font-size="11">'
                     f'{item["ratio"]:.2f}x</text>')
        x0 = left + width + 60
        lane = 150 / slowest
        for offset, (ours, theirs) in enumerate(((item["p50"], item["nginx_p50"]), (item["p99"], item["nginx_p99"]))):
            x = x0 + offset * 190
            parts.append(f'<rect x="{x}" y="{y}" width="{ours * lane:.1f}" height="{bar / 2:.0f}" fill="#0969da"/>')
            parts.append(f'<rect x="{x}" y="{y + bar / 2:.0f}" width="{theirs * lane:.1f}" height="{bar / 2:.0f}" fill="#8c959f"/>')
            parts.append(f'<text x="{x + max(ours, theirs) * lane + 3:.1f}" y="{y + 13}" font-size="10">'
                         f'{ours:.2f} / {theirs:.2f}</text>')
    one = left + 1.0 * scale
    parts.append(f'<line x1="{one:.1f}" y1="24" x2="{one:.1f}" y2="{height - 6}" stroke="#000" stroke-dasharray="4"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 460}" height="{height}" '
            f'font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>{"".join(parts)}</svg>\n')


RESULTS_START = "<!-- bench/run.sh results: start -->"
RESULTS_END = "<!-- bench/run.sh results: end -->"


def write_results(rows, header):
    """The table (and the chart) into BENCHMARKS.md between its markers, replacing the last run's."""
    table = ["| measurement | ours | reference | ratio / target | latency | errors |",
             "| --- | ---: | ---: | --- | --- | --- |"]
    table += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    text = [RESULTS_START, "", header, ""] + table
    if COMPARED:
        with open(os.path.join(ROOT, "bench", "run.svg"), "w") as out:
            out.write(chart(COMPARED))
        text += ["", "![req/s against nginx and latency per feed](bench/run.svg)"]
    text += ["", RESULTS_END]
    path = os.path.join(ROOT, "BENCHMARKS.md")
    with open(path) as current:
        document = current.read()
    if RESULTS_START in document and RESULTS_END in document:
        before, rest = document.split(RESULTS_START, 1)
        document = before + "\n".join(text) + rest.split(RESULTS_END, 1)[1]
        with open(path, "w") as out:
            out.write(document)
        log(f"results written to {path} and bench/run.svg")
    else:
        log(f"{path} has no {RESULTS_START} marker: the table is printed only")


def main():
    rows = []
    try:
        for part in (feeds_against_nginx, http_threads, archive_independence, writes, login_burst):
            if PARTS and part.__name__ not in PARTS:
                continue
            log(f"== {part.__doc__.splitlines()[0]}")
            part(rows)
    finally:
        for process in RUNNING:
            if process.poll() is None:
                process.kill()
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths)))
    write_results(rows, os.environ.get("BENCH_HEADER", ""))


if __name__ == "__main__":
    main()
