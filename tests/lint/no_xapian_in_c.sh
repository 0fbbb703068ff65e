#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lint: no C file includes a Xapian header; xapian-c/xapian_c.cc is the only C++ that does,
# and it is the only .cc file under the product's folders.
set -euo pipefail
cd "${KB_SOURCE_DIR:?}"
bad=$(grep -lE '#\s*include\s*[<"]xapian(\.h|/)' $(git ls-files '*.c' '*.h') | grep -v '^xapian-c/xapian_c.h$' || true)
if [ -n "$bad" ]; then
    echo "these C files include a Xapian header: $bad"
    exit 1
fi
cc=$(git ls-files 'core/*.cc' 'indexer/*.cc' 'server/*.cc' 'xapian-c/*.cc')
if [ "$cc" != "xapian-c/xapian_c.cc" ]; then
    echo "C++ outside the wrapper: $cc"
    exit 1
fi
echo "no Xapian header in C files: ok"
