# Sourced by CI steps: a Python venv with the checkers, and a freshly started
# server (SQLite, the group directory, a seeded admin) at $BASE with $TOKEN.
# Stops the server and removes its files on exit.

VENV="${NEWSFEED_CI_VENV:-.venv}"
if [ ! -x "$VENV/bin/schemathesis" ] || ! "$VENV/bin/python" -c 'import feedparser, icalendar' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        "schemathesis==4.32.5" "feedparser==6.0.14" "icalendar==7.3.2"
fi

cargo build --quiet
BIN=target/debug/newsfeed
WORK=$(mktemp -d)
PORT="${NEWSFEED_CI_PORT:-18181}"
BASE="http://127.0.0.1:$PORT"
DB="sqlite://$WORK/ci.db?mode=rwc"
export NEWSFEED_JWT_SECRET="ci-only-secret-0123456789abcdef0123456789"
export NEWSFEED_LOGIN_ATTEMPTS=1000000
export NEWSFEED_ACCESS_REQUESTS_PER_HOUR=1000000
export NEWSFEED_PUBLIC_URL="$BASE"

echo 'ci-admin-password' | "$BIN" create-user --email admin@example.org --role admin --password-stdin --database-url "$DB" >/dev/null
if [ -f ../shared/data/user-groups.csv ]; then
    "$BIN" import-groups ../shared/data/user-groups.csv --database-url "$DB"
fi

"$BIN" serve --bind "127.0.0.1:$PORT" --database-url "$DB" >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done

TOKEN=$(curl -sf -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"admin@example.org","password":"ci-admin-password"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

# Fails the step if the server panicked at any point.
check_server_log() {
    if grep -q "panicked" "$WORK/server.log"; then
        echo "the server panicked:"; grep -A5 panicked "$WORK/server.log"; return 1
    fi
}
