#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh - the "browser" ctest: installs playwright-core into tests/browser when missing
# or not the version package.json pins (npm ci, from the committed package-lock.json;
# 1.61 is the last to run on Debian 12's Node.js 18 and drives Debian's chromium), indexes corpus/ into a temp dir with
# $KB_BIN_DIR/kb-indexer, starts $KB_BIN_DIR/kb-server on a free port serving
# server/web, runs page.test.mjs, page-reading.test.mjs and admin.test.mjs in chromium
# (node --test) and stops the server. Screenshots land in tests/browser/artifacts/
# (git-ignored); `make screenshots` copies the README's two (readme-desktop.png,
# readme-phone.png) to docs/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${KB_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
bin=${KB_BIN_DIR:?KB_BIN_DIR must name the directory of kb-indexer and kb-server}
chromium=${KB_CHROMIUM:-/usr/bin/chromium}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kb-browser.XXXXXX")
server_pid=

cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

[ -x "$chromium" ] || { echo "browser: $chromium is missing (apt-get install chromium)" >&2; exit 1; }
command -v node >/dev/null || { echo "browser: node is missing (apt-get install nodejs npm)" >&2; exit 1; }
want=$(sed -n 's/.*"playwright-core": "\([^"]*\)".*/\1/p' "$here/package.json")
have=$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$here/node_modules/playwright-core/package.json" 2>/dev/null || true)
if [ "$have" != "$want" ]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

"$bin/kb-indexer" --index="$tmp/index" --quiet "$src/corpus" >"$tmp/indexer.log" 2>&1 ||
    { cat "$tmp/indexer.log" >&2; echo "browser: kb-indexer failed" >&2; exit 1; }

members_key="browser-members-key-$$-$RANDOM$RANDOM" # for the sign-in test only
# keys for admin.test.mjs (query analytics)
export KB_TEST_ADMIN_KEY=browser-admin-key-0123456789 KB_TEST_SEARCH_KEY=browser-search-key-0123456789
{ "$bin/kb-server" --hash-key="$members_key" --scopes=search,members
  "$bin/kb-server" --hash-key="$KB_TEST_ADMIN_KEY" --scopes=admin
  "$bin/kb-server" --hash-key="$KB_TEST_SEARCH_KEY" --scopes=search; } >"$tmp/keys"
"$bin/kb-server" --index="$tmp/index" --port=0 --port-file="$tmp/port" --workers=2 \
    --web-dir="$src/server/web" --keys-file="$tmp/keys" --source="$src/corpus" >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    [ -s "$tmp/port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
[ -s "$tmp/port" ] || { cat "$tmp/server.log" >&2; echo "browser: kb-server did not start" >&2; exit 1; }
port=$(cat "$tmp/port")

rc=0
(cd "$here" && KB_TEST_URL="http://127.0.0.1:$port" KB_SOURCE_DIR="$src" KB_CHROMIUM="$chromium" \
    KB_MEMBERS_KEY="$members_key" \
    KB_ARTIFACTS="$here/artifacts" node --test --test-concurrency=1 page.test.mjs page-reading.test.mjs admin.test.mjs) || rc=$?
if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "browser: kb-server died during the tests; its log:" >&2
    tail -n 30 "$tmp/server.log" >&2
    rc=1
fi
exit $rc
