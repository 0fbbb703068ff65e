#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lint: dependencies point down (programs -> core -> xapian-c). The programs under
# indexer/ and server/ never include the binding's header nor call it; the index
# location's file names (the stub and the generation directories) are spelled in
# core/index.c alone; kb-server does not link the indexer's format libraries.
set -euo pipefail
cd "${KB_SOURCE_DIR:?}"
fail=0
bad() { echo "FAIL $*"; fail=1; }

inc=$(grep -lE '#\s*include\s*[<"]xapian_c\.h[">]|\bxap_[a-z_]+\(' \
    $(git ls-files 'indexer/*.c' 'indexer/*.h' 'server/*.c' 'server/*.h') || true)
[ -z "$inc" ] || bad "the binding used outside core/: $inc"

names=$(grep -lE '"XAPIANDB|gen-%|"gen-' $(git ls-files 'core/*.c' 'core/*.h' \
    'indexer/*.c' 'indexer/*.h' 'server/*.c' 'server/*.h') | grep -vx 'core/index.c' || true)
[ -z "$names" ] || bad "the stub or generation names spelled outside core/index.c: $names"

if [ -n "${KB_BIN_DIR:-}" ] && [ -x "$KB_BIN_DIR/kb-server" ]; then
    libs=$(ldd "$KB_BIN_DIR/kb-server" | grep -E 'libcmark|libzip|libmagic|libuchardet|libyaml' || true)
    [ -z "$libs" ] || bad "kb-server links format libraries: $libs"
fi
[ $fail = 0 ] && echo "layering: ok"
exit $fail
