#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lint: every C/C++ file of ours is formatted as .clang-format says.
set -euo pipefail
cd "${KB_SOURCE_DIR:?}"
files=$(git ls-files '*.c' '*.h' '*.cc' 2>/dev/null || find . -name '*.[ch]' -o -name '*.cc')
bad=0
for f in $files; do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "not formatted: $f (run clang-format -i $f)"
        bad=$((bad + 1))
    fi
done
echo "clang-format: $(echo "$files" | wc -w) files, $bad not formatted"
[ "$bad" -eq 0 ]
