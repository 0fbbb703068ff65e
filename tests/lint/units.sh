#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lint: the systemd units of deploy/ pass `systemd-analyze verify` without a message. They
# are checked where the package puts them (/usr/lib/systemd/system, the programs in
# /usr/bin), in a scratch root that also holds this machine's own units, so that
# ExecStart= and the targets they name resolve.
set -euo pipefail
src=${KB_SOURCE_DIR:?}
bin=${KB_BIN_DIR:?}
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing (apt-get install systemd)"; exit 1; }
root=$(mktemp -d "${TMPDIR:-/tmp}/kb-units.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/bin" "$root/usr/lib/systemd/system" "$root/etc/systemd/system"
cp -a /lib/systemd/system/. "$root/usr/lib/systemd/system/"
cp "$bin/kb-server" "$bin/kb-indexer" "$root/usr/bin/"
units="kb-server.service kb-indexer.service kb-indexer.timer"
for u in $units; do
    cp "$src/deploy/$u" "$root/usr/lib/systemd/system/"
done
out=$(systemd-analyze verify --root="$root" --man=no \
    $(for u in $units; do echo "/usr/lib/systemd/system/$u"; done) 2>&1) && rc=0 || rc=$?
if [ $rc != 0 ] || [ -n "$out" ]; then
    echo "systemd-analyze verify: exit $rc"
    echo "$out"
    exit 1
fi
echo "ok: $units verify clean"
