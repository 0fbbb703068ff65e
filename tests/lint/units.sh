#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lint: the systemd units of deploy/ pass `systemd-analyze verify` without a message. They
# are checked where the package puts them (/usr/lib/systemd/system, the programs in
# /usr/bin), in a scratch root that also holds this machine's own units, so that
# ExecStart= and the targets they name resolve. The shard and replication units run the
# stock Xapian tools (xapian-tools); their templates are checked through an instance.
set -euo pipefail
src=${KB_SOURCE_DIR:?}
bin=${KB_BIN_DIR:?}
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing (apt-get install systemd)"; exit 1; }
root=$(mktemp -d "${TMPDIR:-/tmp}/kb-units.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/bin" "$root/usr/lib/systemd/system" "$root/etc/systemd/system"
cp -a /lib/systemd/system/. "$root/usr/lib/systemd/system/"
cp "$bin/kb-server" "$bin/kb-indexer" "$root/usr/bin/"
for t in xapian-tcpsrv xapian-replicate xapian-replicate-server; do
    p=$(command -v $t) || { echo "$t is missing (apt-get install xapian-tools)"; exit 1; }
    cp "$p" "$root/usr/bin/"
done
units="kb-server.service kb-indexer.service kb-indexer.timer kb-replicate-server.service"
templates="kb-shard@.service kb-replica@.service"
for u in $units $templates; do
    cp "$src/deploy/$u" "$root/usr/lib/systemd/system/"
done
checked="$units$(for t in $templates; do printf " %s" "${t%@.service}@shard00.service"; done)"
out=$(systemd-analyze verify --root="$root" --man=no \
    $(for u in $checked; do echo "/usr/lib/systemd/system/$u"; done) 2>&1) && rc=0 || rc=$?
if [ $rc != 0 ] || [ -n "$out" ]; then
    echo "systemd-analyze verify: exit $rc"
    echo "$out"
    exit 1
fi
echo "ok: $checked verify clean"
