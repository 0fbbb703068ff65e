#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kb-server links none of the readers' libraries: the format names it needs are in core
# (core/format.c), the readers and their parsers (cmark, libzip, libmagic, uchardet,
# libyaml) only in kb-indexer and kb-pdftext. Reads the dynamic section of the built
# program with ldd; kb-indexer is the control, to show the pattern does find them.
set -euo pipefail
bin="${KB_BIN_DIR:?}"
pattern='lib(cmark|zip|magic|uchardet|yaml)[-.0-9]*\.so'
for prog in kb-server kb-indexer; do
    [ -x "$bin/$prog" ] || { echo "FAIL: $bin/$prog is not built"; exit 1; }
done
# whole output first: grep -q would close the pipe under ldd, which pipefail reports
idx_libs=$(ldd "$bin/kb-indexer")
srv_libs=$(ldd "$bin/kb-server")
if ! grep -Eq "$pattern" <<<"$idx_libs"; then
    echo "FAIL: the pattern finds no reader library in kb-indexer: the check is blind"
    echo "$idx_libs"
    exit 1
fi
found=$(grep -E "$pattern" <<<"$srv_libs" || true)
if [ -n "$found" ]; then
    echo "FAIL: kb-server links a reader library:"
    echo "$found"
    exit 1
fi
echo "kb-server links none of cmark, libzip, libmagic, uchardet, libyaml: ok"
