#!/usr/bin/env bash
# Import benchmark: a generated QGIS-Feed dump (ENTRIES entries, default
# 10,000, with users, reviews, polygons, languages and missing pictures) into
# a fresh SQLite file, and into PostgreSQL when BENCH_PG_URL names a server
# database to create and drop (e.g. postgres://postgres@127.0.0.1:5432/bench_import).
# Times the first import and the re-run (everything unchanged). Release build.
set -euo pipefail
ENTRIES="${ENTRIES:-10000}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# NEWSFEED_BIN names another binary (e.g. a debug build) and skips the build.
if [ -z "${NEWSFEED_BIN:-}" ]; then cargo build --release -q; fi
BIN="${NEWSFEED_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/newsfeed}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

python3 - "$ENTRIES" "$WORK/dump.json" <<'PY'
import json, random, sys
entries, path = int(sys.argv[1]), sys.argv[2]
random.seed(14)
records = []
users = 50
for pk in range(1, users + 1):
    records.append({"model": "auth.user", "pk": pk, "fields": {
        "username": f"user{pk}", "email": f"user{pk}@example.org" if pk % 10 else "",
        "first_name": "User", "last_name": str(pk), "is_superuser": pk == 1,
        "is_staff": True, "is_active": pk % 17 != 0, "password": "!"}})
statuses = ["published"] * 6 + ["draft", "pending_review", "changes_requested", "rejected"]
for pk in range(1, entries + 1):
    status = random.choice(statuses)
    day = 1_550_000_000 + pk * 3600
    def iso(t):
        import datetime
        return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    lon, lat = random.uniform(-170, 160), random.uniform(-80, 70)
    records.append({"model": "qgisfeed.qgisfeedentry", "pk": pk * 2, "fields": {
        "title": f"Entry {pk}", "image": f"feedimages/{pk}.png" if pk % 20 == 0 else "",
        "content": f"<p>Generated entry <strong>{pk}</strong> with a <a href=\"https://qgis.org\">link</a>.</p>",
        "url": f"https://qgis.org/news/{pk}", "action_text": "Read more" if pk % 3 == 0 else None,
        "author": random.randint(1, users), "created": iso(day)[:10], "modified": iso(day + 60),
        "status": status, "published": status == "published", "sticky": pk % 500 == 0,
        "sorting": pk % 7, "language_filter": random.choice([None, None, "en", "de", "fr", "pt"]),
        "spatial_filter": None if pk % 10 else
            f"SRID=4326;POLYGON (({lon} {lat}, {lon+5} {lat}, {lon+5} {lat+5}, {lon} {lat+5}, {lon} {lat}))",
        "publish_from": iso(day), "publish_to": iso(day + 30 * 86400) if pk % 4 else None,
        "reviewers": [], "assigned_reviewer": None}})
for pk in range(1, entries // 5 + 1):
    records.append({"model": "qgisfeed.feedentryreview", "pk": pk, "fields": {
        "entry": random.randint(1, entries) * 2, "reviewer": random.randint(1, 5),
        "comment": f"Review {pk}", "action": random.choice(["approve", "comment", "request_changes"]),
        "created_at": "2024-01-01T10:00:00+02:00"}})
records.append({"model": "auth.permission", "pk": 1, "fields": {"codename": "x"}})
json.dump(records, open(path, "w"))
PY
echo "dump: $ENTRIES entries, $(du -h "$WORK/dump.json" | cut -f1)"

run() {
    local label="$1" url="$2"
    local start end
    start=$(date +%s.%N)
    "$BIN" import-qgisfeed "$WORK/dump.json" --media-dir "$WORK/none" --media-store "$WORK/store" \
        --database-url "$url" >"$WORK/out.txt" 2>"$WORK/err.txt"
    end=$(date +%s.%N)
    printf '%-34s %6.2f s   %s\n' "$label" "$(echo "$end - $start" | bc)" \
        "$(grep qgisfeedentry "$WORK/out.txt")"
}

run "SQLite, first import" "sqlite://$WORK/bench.db?mode=rwc"
run "SQLite, re-run" "sqlite://$WORK/bench.db?mode=rwc"
cat "$WORK/out.txt"
if [ -n "${BENCH_PG_URL:-}" ]; then
    admin="${BENCH_PG_URL%/*}/postgres"
    db="${BENCH_PG_URL##*/}"
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    run "PostgreSQL, first import" "$BENCH_PG_URL"
    run "PostgreSQL, re-run" "$BENCH_PG_URL"
    psql -q "$admin" -c "DROP DATABASE $db"
fi
