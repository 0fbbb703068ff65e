# SPDX-License-Identifier: MIT
# Shared helpers for the shell integration tests: a temp dir cleaned on exit, starting the
# real kb-server on a free loopback port, and small assertions. Source it, do not run it.
set -euo pipefail
: "${KB_BIN_DIR:?run through ctest}" "${KB_SOURCE_DIR:?}"
T=$(mktemp -d /tmp/kb-it.XXXXXX)
SERVER_PID=""
fails=0
passes=0
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT

# start_server INDEX [extra flags...]: sets PORT and BASE
start_server() {
    local index=$1; shift
    "$KB_BIN_DIR/kb-server" --index="$index" --port=0 --port-file="$T/port" --access-log= "$@" \
        >"$T/server.out" 2>"$T/server.err" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        [ -s "$T/port" ] && break
        sleep 0.05
    done
    PORT=$(cat "$T/port")
    BASE="http://127.0.0.1:$PORT"
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

ok() { passes=$((passes + 1)); }
fail() { fails=$((fails + 1)); echo "FAIL: $*" >&2; }

# expect_eq WHAT GOT WANT
expect_eq() { if [ "$2" == "$3" ]; then ok; else fail "$1: got '$2', want '$3'"; fi; }

# search_ids QUERY [extra args]: the ids of the hits, one per line
search_ids() {
    local q=$1; shift
    curl -sf -G "$BASE/api/v1/search" --data-urlencode "q=$q" --data-urlencode "size=100" \
        --data-urlencode "snippets=false" "$@" | jq -r '.hits[].id'
}

# expect_hit QUERY ID: ID is among the hits of QUERY
expect_hit() {
    if search_ids "$1" | grep -qxF "$2"; then ok; else fail "query '$1' does not find '$2'"; fi
}

finish() {
    echo "$passes passed, $fails failed"
    [ "$fails" -eq 0 ]
}
