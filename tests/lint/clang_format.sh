#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lint: every C/C++ file of ours is formatted as .clang-format says (one clang-format run).
set -euo pipefail
cd "${KB_SOURCE_DIR:?}"
mapfile -t files < <(git ls-files '*.c' '*.h' '*.cc' 2>/dev/null)
out=$(clang-format --dry-run "${files[@]}" 2>&1 | grep -oE '^[^:]+\.(c|h|cc):[0-9]+' | cut -d: -f1 | sort -u || true)
n=$(printf '%s\n' "$out" | sed '/^$/d' | wc -l)
[ "$n" -eq 0 ] || printf 'not formatted (run clang-format -i FILE): %s\n' $out
echo "clang-format: ${#files[@]} files, $n not formatted"
[ "$n" -eq 0 ]
