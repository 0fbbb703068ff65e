#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_faults_lock.sh - two indexers at once on the same index. A first kb-indexer works
# through 200 generated documents; once it has stored one, a second one is started on the
# same index and must exit 3 at once (well under the first run's length) with a message
# naming the other indexer, and without harming the first: it finishes with exit 0 and all
# 200 documents. A third run after that gets the lock again (exit 0, all unchanged).
set -u
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kb-lock-XXXXXX")
first=""
cleanup() {
    [ -n "$first" ] && kill -9 "$first" 2>/dev/null && wait "$first" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
check() { # check COND_STATUS MESSAGE
    if [ "$1" -eq 0 ]; then echo "ok   $2"; else echo "FAIL $2"; fails=$((fails + 1)); fi
}

indexer="$KB_BIN_DIR/kb-indexer"
/usr/bin/python3 "$KB_SOURCE_DIR/../shared/bench/mkcorpus" --docs 200 --seed 5 \
    --out "$tmp/src" --jobs 2 >/dev/null 2>&1
check $? "corpus generated"

mkfifo "$tmp/progress"
"$indexer" --index="$tmp/idx" --verbose --json "$tmp/src" \
    >"$tmp/first.json" 2>"$tmp/progress" &
first=$!
# wait for the first stored document: the lock is held from before that point
exec 3<"$tmp/progress"
got=1
while IFS= read -r line <&3; do
    case "$line" in "kb-indexer: indexed "*) got=0; break ;; esac
done
check $got "first indexer is running"
cat <&3 >/dev/null &
drain=$!

start=$(date +%s%N)
"$indexer" --index="$tmp/idx" --quiet "$tmp/src" >"$tmp/second.out" 2>"$tmp/second.err"
code=$?
code_second=$code
ms=$((($(date +%s%N) - start) / 1000000))
check $((code != 3)) "second indexer exits 3 (got $code)"
check $((ms > 2000)) "second indexer exits at once (${ms} ms)"
grep -q "another indexer is running" "$tmp/second.err"
check $? "clear message: $(cat "$tmp/second.err")"
kill -0 "$first" 2>/dev/null
check $? "first indexer still running when the second gave up"

wait "$first"
code=$?
first=""
wait "$drain" 2>/dev/null
exec 3<&-
check $code "first indexer finishes with exit 0"
added=$(jq -r .added "$tmp/first.json")
check $((added != 200)) "first indexer stored all 200 documents (added=$added)"

"$indexer" --index="$tmp/idx" --quiet --json "$tmp/src" >"$tmp/third.json" 2>&1
code=$?
check $code "the lock is free afterwards"
check $(($(jq -r .unchanged "$tmp/third.json") != 200)) "third run: 200 unchanged"

echo "reliability: test_faults_lock: a second indexer refused in ${ms} ms (exit $code_second), $((200 - added)) of 200 documents lost by the first"
echo "$fails failure(s)"
[ "$fails" -eq 0 ]
