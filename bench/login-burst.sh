#!/usr/bin/env bash
# Memory around a burst of concurrent logins: each argon2id check holds about
# 19 MiB; checks run one per core (the rest wait), and the memory must go back
# to the system after the burst. Starts a release build behind
# `--trust-proxy`, sends BURST simultaneous wrong-password logins (each from its
# own X-Forwarded-For address, so the rate limits do not cut the burst short),
# and prints the server's resident memory before, at peak (VmHWM) and after.
#
# BURST=50 PORT=18080
set -euo pipefail
BURST="${BURST:-50}"
export NEWSFEED_TRUST_PROXY=true
source "$(dirname "$0")/lib.sh"

mem() { awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

start_newsfeed
sleep 1
BEFORE=$(mem "$NEWSFEED_PID" VmRSS)
echo 5 >"/proc/$NEWSFEED_PID/clear_refs" 2>/dev/null || true
python3 - "$PORT" "$BURST" <<'PY'
import http.client, json, sys, threading, collections
port, burst = int(sys.argv[1]), int(sys.argv[2])
statuses = collections.Counter()
barrier = threading.Barrier(burst)
def login(n):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = json.dumps({"email": "admin@example.org", "password": "wrong password"})
    barrier.wait()
    conn.request("POST", "/api/v1/auth/login", body=body, headers={
        "content-type": "application/json", "x-forwarded-for": f"198.51.{n // 250}.{n % 250}"})
    statuses[conn.getresponse().status] += 1
threads = [threading.Thread(target=login, args=(n,)) for n in range(burst)]
for t in threads: t.start()
for t in threads: t.join()
print("statuses:", dict(statuses))
PY
PEAK=$(mem "$NEWSFEED_PID" VmHWM)
echo "threads: $(ls /proc/$NEWSFEED_PID/task | wc -l)"
sleep 2
AFTER_2S=$(mem "$NEWSFEED_PID" VmRSS)
sleep 8
AFTER_10S=$(mem "$NEWSFEED_PID" VmRSS)
echo "resident memory, MB: before $BEFORE, peak $PEAK, 2 s after $AFTER_2S, 10 s after $AFTER_10S"
