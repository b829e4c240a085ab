#!/usr/bin/env bash
# Memory around a burst of picture uploads: UPLOADS simultaneous uploads of
# the worst picture the pipeline accepts (examples/worst_picture.rs: an RGBA
# PNG padded to --image-max-bytes, as many pixels as the memory budget
# allows) with a group token, each to its own draft. Starts a release build
# on a fresh SQLite file and prints the server's resident memory idle, at
# peak (VmHWM, and the highest VmRSS sampled every 5 ms), and the answers.
#
# UPLOADS=12 PORT=18080 PICTURE=(a file to upload instead)
set -euo pipefail
UPLOADS="${UPLOADS:-12}"
PICTURE="${PICTURE:-}"
source "$(dirname "$0")/lib.sh"

if [ -z "$PICTURE" ]; then
    PICTURE="$WORK/worst.png"
    cargo run --quiet --release --example worst_picture -- "$PICTURE"
fi
start_newsfeed
sleep 1
python3 - "$PORT" "$UPLOADS" "$NEWSFEED_PID" "$PICTURE" "$BENCH_PASSWORD" <<'PY'
import collections, json, sys, threading, time, uuid
sys.path.insert(0, "bench")
from client import call, connect

port, uploads, pid, path, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
picture = open(path, "rb").read()

def mib(field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024

conn = connect(f"http://127.0.0.1:{port}")
_, body = call(conn, "POST", "/api/v1/auth/login", None,
               {"email": "admin@example.org", "password": password})
admin = json.loads(body)["access_token"]
call(conn, "POST", "/api/v1/groups", admin, {"slug": "bench", "name": "Bench", "country": "DE"})
_, body = call(conn, "POST", "/api/v1/groups/bench/tokens", admin, {"name": "uploads"})
token = json.loads(body)["token"]
drafts = []
for n in range(uploads):
    _, body = call(conn, "POST", "/api/v1/entries", token, {
        "group": "bench", "kind": "announcement", "title": f"Picture {n}", "content": "<p>x</p>"})
    drafts.append(json.loads(body)["id"])
time.sleep(1)
idle = mib("VmRSS")
with open(f"/proc/{pid}/clear_refs", "w") as f:
    f.write("5")  # resets VmHWM to the current VmRSS

statuses, answers = collections.Counter(), []
barrier = threading.Barrier(uploads + 1)
def upload(entry):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n1\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"worst.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + picture + f"\r\n--{boundary}--\r\n".encode()
    c = connect(f"http://127.0.0.1:{port}")
    c.timeout = 300
    barrier.wait()
    c.request("POST", f"/api/v1/entries/{entry}/image", body=body, headers={
        "authorization": f"Bearer {token}", "content-type": f"multipart/form-data; boundary={boundary}"})
    response = c.getresponse()
    text = response.read()
    statuses[response.status] += 1
    if response.status != 200:
        answers.append(text[:300])

sampled, done = [idle], threading.Event()
def sample():
    while not done.is_set():
        sampled.append(mib("VmRSS"))
        time.sleep(0.005)
threads = [threading.Thread(target=upload, args=(entry,)) for entry in drafts]
for t in threads: t.start()
sampler = threading.Thread(target=sample)
sampler.start()
barrier.wait()
started = time.perf_counter()
for t in threads: t.join()
elapsed = time.perf_counter() - started
done.set(); sampler.join()
peak = mib("VmHWM")
print(f"{uploads} uploads of {len(picture)} bytes: answers {dict(statuses)} in {elapsed:.1f} s")
for answer in answers[:3]: print("  ", answer)
print(f"resident memory, MiB: idle {idle:.1f}, peak VmHWM {peak:.1f} (sampled VmRSS max {max(sampled):.1f}), "
      f"peak above idle {peak - idle:.1f}")
time.sleep(2)
print(f"2 s after: {mib('VmRSS'):.1f} MiB")
PY
