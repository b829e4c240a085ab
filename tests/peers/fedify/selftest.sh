#!/usr/bin/env bash
# Proves the peer without the Rust side: two peers, A and B; A follows B's
# alice (by handle, through WebFinger over http), B accepts with a signed
# Accept, A unfollows and deletes itself; an unsigned POST is refused. Then
# selftest-group.mjs plays a newsfeed group (signing as the Rust server
# does) against a third peer, C.
set -euo pipefail
cd "$(dirname "$0")"
bash ../../../.ci/peer-deps fedify

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

start_peer() { node peer.mjs >"$WORK/$1.out" 2>"$WORK/$1.err" & PIDS+=($!); }
wait_ready() { # name -> sets ORIGIN_<name>
    for _ in $(seq 300); do
        if [ -s "$WORK/$1.out" ]; then
            printf -v "ORIGIN_$1" '%s' "$(json "$(cat "$WORK/$1.out")" 'j.origin')"
            return
        fi
        sleep 0.1
    done
    echo "peer $1 did not get ready"; cat "$WORK/$1.err"; exit 1
}

# json TEXT EXPR: prints EXPR evaluated with j = the parsed TEXT.
json() { node -e 'const j = JSON.parse(process.argv[1]); const v = eval(process.argv[2]); console.log(typeof v === "string" ? v : JSON.stringify(v))' "$1" "$2"; }

PASSED=0
FAILED=0
check() { # description, actual, expected
    if [ "$2" = "$3" ]; then
        PASSED=$((PASSED + 1)); echo "ok   $1"
    else
        FAILED=$((FAILED + 1)); echo "FAIL $1: got '$2', want '$3'"
    fi
}

post() { curl -sS -X POST -H 'content-type: application/json' --data "$2" "$1"; }

# Waits until the peer at $1 recorded an activity of type $2; prints the list.
wait_for() {
    for _ in $(seq 50); do
        local got
        got=$(curl -sS "$1/control/received")
        if [ "$(json "$got" "j.activities.some(a => a.type === '$2')")" = "true" ]; then
            echo "$got"; return
        fi
        sleep 0.1
    done
    curl -sS "$1/control/received"
}

start_peer A
start_peer B
start_peer C
wait_ready A
wait_ready B
wait_ready C
A=$ORIGIN_A
B=$ORIGIN_B
echo "A=$A B=$B"

# A looks B's alice up as a Fedify object.
actor=$(curl -sS "$A/control/lookup?url=$B/users/alice")
check "lookup: type" "$(json "$actor" j.type)" "Person"
check "lookup: inbox" "$(json "$actor" j.inbox)" "$B/users/alice/inbox"
check "lookup: shared inbox" "$(json "$actor" j.endpoints.sharedInbox)" "$B/inbox"
check "lookup: key id" "$(json "$actor" j.publicKey.id)" "$B/users/alice#main-key"
check "lookup: key owner" "$(json "$actor" j.publicKey.owner)" "$B/users/alice"

# A follows B by handle.
followed=$(post "$A/control/follow" "{\"handle\": \"alice@${B#http://}\"}")
check "follow: actor" "$(json "$followed" j.actor)" "$B/users/alice"
check "follow: inbox" "$(json "$followed" j.inbox)" "$B/users/alice/inbox"
check "follow: shared inbox" "$(json "$followed" j.sharedInbox)" "$B/inbox"
follow_id=$(json "$followed" j.follow)

at_b=$(wait_for "$B" Follow)
check "B got the Follow" "$(json "$at_b" "j.activities.find(a => a.type === 'Follow')?.id")" "$follow_id"
check "B: Follow's actor" "$(json "$at_b" "j.activities.find(a => a.type === 'Follow')?.actor")" "$A/users/alice"

at_a=$(wait_for "$A" Accept)
accept=$(json "$at_a" "j.activities.find(a => a.type === 'Accept')")
check "A got the Accept from B" "$(json "$accept" j.actor)" "$B/users/alice"
check "Accept's object is A's Follow" "$(json "$accept" j.object.id)" "$follow_id"
check "Accept's object parsed as a Follow" "$(json "$accept" j.object.type)" "Follow"
check "Accept raw carries a signature block" "$(json "$accept" "typeof j.raw.signature")" "object"

# An unsigned POST to an inbox is refused and counted.
status=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/activity+json' \
    --data "{\"@context\":\"https://www.w3.org/ns/activitystreams\",\"id\":\"$B/users/alice#forged\",\"type\":\"Create\",\"actor\":\"$B/users/alice\",\"object\":{\"type\":\"Note\",\"content\":\"forged\"}}" \
    "$A/users/alice/inbox")
check "unsigned POST answered 401" "$status" "401"
at_a=$(curl -sS "$A/control/received")
check "unsigned POST counted" "$(json "$at_a" j.unverified)" "1"
check "unsigned POST not recorded" "$(json "$at_a" "j.activities.some(a => a.type === 'Create')")" "false"

# Errors are JSON with a message; nothing off this machine is fetched.
off=$(post "$A/control/follow" '{"actor": "https://example.org/users/bob"}')
check "off-machine actor refused" "$(json "$off" "j.error.includes('loopback')")" "true"
missing=$(post "$A/control/follow" "{\"actor\": \"$B/users/nobody\"}")
check "missing actor explained" "$(json "$missing" "j.error.includes('404')")" "true"

# A unfollows: B gets Undo(Follow).
post "$A/control/unfollow" "{\"actor\": \"$B/users/alice\"}" >/dev/null
at_b=$(wait_for "$B" Undo)
undo=$(json "$at_b" "j.activities.find(a => a.type === 'Undo')")
check "B got Undo" "$(json "$undo" j.actor)" "$A/users/alice"
check "Undo's object is the Follow" "$(json "$undo" j.object.id)" "$follow_id"

# A follows again and deletes itself: B gets Delete(actor) at its shared inbox.
post "$A/control/follow" "{\"actor\": \"$B/users/alice\"}" >/dev/null
deleted=$(post "$A/control/delete-self" '{"gone": true}')
check "delete-self sent to B" "$(json "$deleted" "j.sentTo.join(' ')")" "$B/users/alice"
at_b=$(wait_for "$B" Delete)
delete=$(json "$at_b" "j.activities.find(a => a.type === 'Delete')")
check "B got Delete" "$(json "$delete" j.actor)" "$A/users/alice"
check "Delete's object is A's actor URL" "$(json "$delete" j.object)" "$A/users/alice"
status=$(curl -sS -o /dev/null -w '%{http_code}' -H 'accept: application/activity+json' "$A/users/alice")
check "deleted actor is gone" "$status" "410"
check "B refused nothing" "$(json "$(curl -sS "$B/control/received")" "j.refused.length")" "0"

echo "--- a newsfeed-like group and peer C"
group_out=$(node selftest-group.mjs "$ORIGIN_C") || true
echo "$group_out" | grep -v ' passed, '
counts=$(echo "$group_out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' || echo "0 passed, 1 failed")
PASSED=$((PASSED + $(echo "$counts" | cut -d' ' -f1)))
FAILED=$((FAILED + $(echo "$counts" | cut -d' ' -f3)))

if [ "$FAILED" -ne 0 ] || [ -n "${SELFTEST_LOGS:-}" ]; then
    for name in A B C; do echo "--- peer $name stderr"; cat "$WORK/$name.err"; done
fi
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
