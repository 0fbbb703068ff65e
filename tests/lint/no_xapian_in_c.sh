#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lint: no C file includes a Xapian header; the binding's files in xapian-c/ (its .cc files
# and their private internal.h) are the only ones that do, and the only C++ under the
# product's folders.
set -euo pipefail
cd "${KB_SOURCE_DIR:?}"
bad=$(grep -lE '#\s*include\s*[<"]xapian(\.h|/)' $(git ls-files '*.c' '*.h') | grep -v '^xapian-c/xapian_c.h$' | grep -v '^xapian-c/internal.h$' || true)
if [ -n "$bad" ]; then
    echo "these C files include a Xapian header: $bad"
    exit 1
fi
cc=$(git ls-files 'core/*.cc' 'indexer/*.cc' 'server/*.cc')
if [ -n "$cc" ]; then
    echo "C++ outside the wrapper: $cc"
    exit 1
fi
echo "no Xapian header in C files: ok"
