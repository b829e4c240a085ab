#!/usr/bin/env python3
"""Three newsfeed instances on one PostgreSQL behind nginx: what holds when
one instance dies and when the database restarts. Run by bench/cluster.sh,
which builds the release binary and installs nginx; this script starts its
own PostgreSQL cluster (initdb in a temporary folder, port PG_PORT), so the
machine's server is never touched. On 2 cores this proves correctness, not
throughput. Prints a Markdown table and writes cluster.svg (requests and
errors per second through the kill and the restart) to OUT.
"""
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from client import send

BIN = os.environ["BIN"]
OUT = os.environ.get("OUT", "bench")
PG_BIN = os.environ["PG_BIN"]
PG_PORT = int(os.environ.get("PG_PORT", "55432"))
PORTS = [int(p) for p in os.environ.get("PORTS", "18281 18282 18283").split()]
LB_PORT = int(os.environ.get("LB_PORT", "18280"))
SECONDS = int(os.environ.get("SECONDS_PER_PHASE", "12"))
PASSWORD = "cluster password 1234"
WORK = tempfile.mkdtemp(prefix="newsfeed-cluster-")
URL = f"postgres://postgres@127.0.0.1:{PG_PORT}/newsfeed"
ENV = dict(os.environ, NEWSFEED_DATABASE_URL=URL, NEWSFEED_LOG="warn",
           NEWSFEED_JWT_SECRET="cluster-secret-cluster-secret-cluster")
processes = {}


def run(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def as_postgres(*args):
    run("runuser", "-u", "postgres", "--", *args, stdout=subprocess.DEVNULL)


def start_postgres():
    data = os.path.join(WORK, "pg")
    os.makedirs(data)
    shutil.chown(WORK, "postgres")
    shutil.chown(data, "postgres")
    as_postgres(f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "postgres")
    pg_ctl("start")
    run(f"{PG_BIN}/psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-qc",
        "CREATE DATABASE newsfeed", stdout=subprocess.DEVNULL)


def pg_ctl(action):
    as_postgres(f"{PG_BIN}/pg_ctl", "-D", os.path.join(WORK, "pg"), "-w", "-m", "fast",
                "-o", f"-p {PG_PORT} -k {WORK}", "-l", os.path.join(WORK, "pg.log"), action)


def start_instance(port):
    log = open(os.path.join(WORK, f"instance-{port}.log"), "a")
    processes[port] = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{port}"],
                                       env=ENV, stdout=log, stderr=log)
    wait_for(port, "/healthz")


def wait_for(port, path, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            status, _, _ = request(port, "GET", path)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.05)
    sys.exit(f"no answer on {port}{path}")


def start_nginx():
    upstream = "".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in PORTS)
    conf = os.path.join(WORK, "nginx.conf")
    # Its own temp folder: nginx takes over the folders it is given, and
    # PostgreSQL's (its user's) must stay reachable in WORK.
    temp = os.path.join(WORK, "nginx")
    os.makedirs(temp)
    with open(conf, "w") as out:
        out.write(f"""
user root; worker_processes 1; daemon off; pid {WORK}/nginx.pid; error_log {WORK}/nginx.err;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {temp}; proxy_temp_path {temp}; fastcgi_temp_path {temp};
    uwsgi_temp_path {temp}; scgi_temp_path {temp};
    upstream newsfeed {{ {upstream} keepalive 32; }}
    server {{
        listen 127.0.0.1:{LB_PORT};
        location / {{
            proxy_pass http://newsfeed;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            # Idempotent requests only (nginx never retries a POST unless told).
            proxy_next_upstream error timeout http_502;
            proxy_connect_timeout 1s;
        }}
    }}
}}""")
    processes["nginx"] = subprocess.Popen(["nginx", "-c", conf])
    wait_for(LB_PORT, "/healthz")


def request(port, method, path, body=None, token=None):
    """One request on a connection of its own (instances die under it)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    response, payload = send(conn, method, path, token, body)
    conn.close()
    return response.status, dict(response.getheaders()), payload


def api(port, method, path, body=None, token=None, expect=(200, 201)):
    status, _, payload = request(port, method, path, body, token)
    if status not in expect:
        sys.exit(f"{method} {path} on {port}: {status} {payload[:300]!r}")
    return json.loads(payload) if payload else None


def live_ids(port):
    _, _, payload = request(port, "GET", "/?json=1&lang=en")
    return {item["pk"] for item in json.loads(payload)}


def propagation(admin, group_token, rounds=40):
    """Approval on the first instance -> in `GET /` of the other two, in ms."""
    delays = []
    for n in range(rounds):
        entry = api(PORTS[0], "POST", "/api/v1/entries", {
            "group": "cluster", "kind": "announcement", "title": f"Propagated {n}",
            "content": "<p>Across instances</p>", "language": "en"}, group_token)["id"]
        api(PORTS[0], "POST", f"/api/v1/entries/{entry}/submit", {}, group_token)
        approved = time.perf_counter()
        api(PORTS[0], "POST", f"/api/v1/moderation/entries/{entry}/approve", {}, admin)
        for port in PORTS[1:]:
            while entry not in live_ids(port):
                if time.perf_counter() - approved > 5:
                    sys.exit(f"entry {entry} never reached {port}")
        delays.append((time.perf_counter() - approved) * 1000)
    delays.sort()
    return statistics.median(delays), delays[int(0.99 * (len(delays) - 1))]


def sessions_and_limits(admin_token):
    """A sign-in on A works on B and C; 30 wrong logins over three instances meet the limit."""
    token = api(PORTS[0], "POST", "/api/v1/auth/login",
                {"email": "admin@example.org", "password": PASSWORD})["access_token"]
    shared = all(request(port, "GET", "/api/v1/me", token=token)[0] == 200 for port in PORTS[1:])
    refused = 0
    for n in range(30):
        status, _, _ = request(PORTS[n % 3], "POST", "/api/v1/auth/login",
                               {"email": "limited@example.org", "password": "wrong password!"})
        refused += status == 429
    return shared, 30 - refused


class Load:
    """Feed readers and writers through nginx, counted per second."""

    def __init__(self, group_token):
        self.group_token = group_token
        self.stop = threading.Event()
        self.seconds = {}
        self.acknowledged = []
        self.write_waits = []
        self.lock = threading.Lock()
        self.started = time.time()

    def count(self, kind):
        second = int(time.time() - self.started)
        with self.lock:
            self.seconds.setdefault(second, {"ok": 0, "error": 0, "write_refused": 0})[kind] += 1

    def reader(self):
        conn = None
        while not self.stop.is_set():
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", LB_PORT, timeout=10)
                conn.request("GET", "/feed.rss")
                response = conn.getresponse()
                response.read()
                self.count("ok" if response.status == 200 else "error")
            except (OSError, http.client.HTTPException):
                self.count("error")
                conn = None

    def writer(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            started = time.perf_counter()
            try:
                status, headers, payload = request(LB_PORT, "POST", "/api/v1/entries", {
                    "group": "cluster", "kind": "announcement", "title": f"Write {n}",
                    "content": "<p>Acknowledged writes survive</p>"}, self.group_token)
            except (OSError, http.client.HTTPException):
                status, headers, payload = 0, {}, b""
            waited = time.perf_counter() - started
            if status == 201:
                with self.lock:
                    self.acknowledged.append(json.loads(payload)["id"])
            elif status == 503:
                self.count("write_refused")
                with self.lock:
                    self.write_waits.append((waited, headers.get("retry-after")))
                time.sleep(0.2)
            else:
                time.sleep(0.05)

    def run(self, events):
        threads = [threading.Thread(target=self.reader) for _ in range(4)]
        # Several writers: new entries are written together, and a batch
        # waiting for a database that is down must not make the next wait.
        threads += [threading.Thread(target=self.writer) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            for at, what, action in events:
                time.sleep(max(0, self.started + at - time.time()))
                print(f"  {at:>3} s: {what}", file=sys.stderr)
                action()
        finally:
            # Also when an action fails: the load must not outlive the run.
            self.stop.set()
            for thread in threads:
                thread.join()


def stored_ids():
    out = subprocess.run([f"{PG_BIN}/psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres",
                          "-d", "newsfeed", "-Atc", "SELECT id FROM entries"],
                         check=True, capture_output=True, text=True).stdout
    return {int(line) for line in out.split()}


def kill_and_restart(group_token):
    victim = PORTS[1]
    load = Load(group_token)
    load.run([
        (SECONDS // 3, f"kill -9 of the instance on {victim}", lambda: processes[victim].kill()),
        (2 * SECONDS // 3, f"instance on {victim} restarted", lambda: start_instance(victim)),
        (SECONDS, "end", lambda: None),
    ])
    missing = set(load.acknowledged) - stored_ids()
    caught_up = live_ids(victim) == live_ids(PORTS[0])
    return load, missing, caught_up


def database_restart(group_token, admin):
    load = Load(group_token)
    load.run([
        (SECONDS // 3, "PostgreSQL stopped", lambda: pg_ctl("stop")),
        (2 * SECONDS // 3, "PostgreSQL started", lambda: pg_ctl("start")),
        (SECONDS, "end", lambda: None),
    ])
    # After the return: an approval on A is in B's feed within a second.
    entry = api(PORTS[0], "POST", "/api/v1/entries", {
        "group": "cluster", "kind": "announcement", "title": "After the restart",
        "content": "<p>Back</p>", "language": "en"}, group_token)["id"]
    api(PORTS[0], "POST", f"/api/v1/entries/{entry}/submit", {}, group_token)
    approved = time.perf_counter()
    api(PORTS[0], "POST", f"/api/v1/moderation/entries/{entry}/approve", {}, admin)
    while entry not in live_ids(PORTS[1]):
        if time.perf_counter() - approved > 5:
            break
    return load, (time.perf_counter() - approved) * 1000


def memory_mib(port):
    with open(f"/proc/{processes[port].pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def svg(phases):
    """Requests and errors per second, one panel per phase."""
    width, height, pad = 360, 176, 30
    parts = []
    for index, (title, load, marks) in enumerate(phases):
        x0 = index * (width + 20)
        # The last second is cut short by the end of the phase.
        seconds = sorted(load.seconds)[:-1]
        peak = max([s["ok"] for s in load.seconds.values()] + [1])
        scale_x = (width - 2 * pad) / max(len(seconds), 1)
        ok = " ".join(f"{x0 + pad + i * scale_x:.1f},{height - pad - load.seconds[s]['ok'] / peak * (height - 2 * pad):.1f}"
                      for i, s in enumerate(seconds))
        errors = " ".join(f"{x0 + pad + i * scale_x:.1f},{height - pad - min(1, (load.seconds[s]['error'] + load.seconds[s]['write_refused']) / peak) * (height - 2 * pad):.1f}"
                          for i, s in enumerate(seconds))
        parts.append(f'<text x="{x0 + pad}" y="16" font-size="12">{title}</text>')
        parts.append(f'<polyline fill="none" stroke="#1a7f37" stroke-width="2" points="{ok}"/>')
        parts.append(f'<polyline fill="none" stroke="#cf222e" stroke-width="2" points="{errors}"/>')
        for at, label in marks:
            x = x0 + pad + at * scale_x
            parts.append(f'<line x1="{x:.1f}" y1="{pad}" x2="{x:.1f}" y2="{height - pad}" stroke="#888" stroke-dasharray="3"/>')
            parts.append(f'<text x="{x + 2:.1f}" y="{pad + 10}" font-size="9">{label}</text>')
        failed = sum(s["error"] + s["write_refused"] for s in load.seconds.values())
        parts.append(f'<text x="{x0 + pad}" y="{height - 18}" font-size="9">seconds; green: feed reads/s through nginx (peak {peak:,})</text>')
        parts.append(f'<text x="{x0 + pad}" y="{height - 6}" font-size="9">red, same scale: errors + refused writes/s ({failed:,} in all)</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{len(phases) * (width + 20)}" height="{height}" '
            f'font-family="sans-serif">{"".join(parts)}</svg>\n')


def main():
    start_postgres()
    subprocess.run([BIN, "create-user", "--email", "admin@example.org", "--role", "admin",
                    "--password-stdin"], input=PASSWORD, text=True, env=ENV, check=True,
                   stdout=subprocess.DEVNULL)
    for port in PORTS:
        start_instance(port)
    start_nginx()
    admin = api(PORTS[0], "POST", "/api/v1/auth/login",
                {"email": "admin@example.org", "password": PASSWORD})["access_token"]
    api(PORTS[0], "POST", "/api/v1/groups", {"slug": "cluster", "name": "Cluster", "country": "DE"}, admin)
    group_token = api(PORTS[0], "POST", "/api/v1/groups/cluster/tokens", {"name": "bench"}, admin)["token"]

    p50, p99 = propagation(admin, group_token)
    shared, allowed = sessions_and_limits(admin)
    idle = [memory_mib(port) for port in PORTS]
    killed, missing, caught_up = kill_and_restart(group_token)
    restarted, after_ms = database_restart(group_token, admin)
    kill_errors = sum(s["error"] for s in killed.seconds.values())
    kill_reads = sum(s["ok"] for s in killed.seconds.values())
    pg_errors = sum(s["error"] for s in restarted.seconds.values())
    pg_reads = sum(s["ok"] for s in restarted.seconds.values())
    waits = [wait for wait, _ in restarted.write_waits]
    retry_after = sorted({value for _, value in restarted.write_waits if value})

    rows = [
        ("approval on A -> in `GET /` of B and C (40 approvals)", f"p50 {p50:.1f} ms, p99 {p99:.1f} ms", "p99 < 100 ms"),
        ("sign-in on A used on B and C", "works" if shared else "**fails**", "works"),
        ("30 wrong logins over A, B, C: answered before 429", f"{allowed}", "10"),
        (f"`kill -9` of B under load ({SECONDS} s)", f"{kill_reads:,} feed reads, {kill_errors} errors", "only requests in flight on B"),
        ("acknowledged writes missing afterwards", f"{len(missing)} of {len(killed.acknowledged)}", "0"),
        ("B restarted: same feed as A", "yes" if caught_up else "**no**", "yes"),
        (f"PostgreSQL stopped for {SECONDS // 3} s under load", f"{pg_reads:,} feed reads, {pg_errors} errors", "0 errors"),
        ("writes while PostgreSQL is down", f"{len(waits)} refused with 503, longest wait {max(waits, default=0):.2f} s, Retry-After {', '.join(retry_after) or '-'}", "503, never past 5 s"),
        ("approval after the restart -> in B's feed", f"{after_ms:.0f} ms", "< 1 s"),
        ("memory per instance, idle", ", ".join(f"{m:.1f}" for m in idle) + " MiB", ""),
    ]
    print("| check | measured | target |\n| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    marks = [(SECONDS // 3, "kill -9 B"), (2 * SECONDS // 3, "B restarted")]
    pg_marks = [(SECONDS // 3, "PG stop"), (2 * SECONDS // 3, "PG start")]
    with open(os.path.join(OUT, "cluster.svg"), "w") as out:
        out.write(svg([("kill -9 of one instance", killed, marks),
                       ("PostgreSQL restarted", restarted, pg_marks)]))


if __name__ == "__main__":
    try:
        main()
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        try:
            pg_ctl("stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(WORK, ignore_errors=True)
