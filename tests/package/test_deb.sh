#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_deb.sh - the .deb as an admin meets it, in a fresh Debian 12 tree: it builds the
# package from this build tree (cpack), installs it with `apt-get install ./x.deb` (so its
# Depends: must bring every library in), checks its files, user, conffile and man pages,
# indexes a folder of reports with the installed kb-indexer as the powertrain-kb user
# (PDFs through /usr/lib/powertrain-kb/kb-pdftext), starts the installed kb-server on a
# loopback port with the package's kb.conf, searches with curl, stops it with SIGTERM,
# then purges the package and checks that nothing of it is left: no file, no user or
# group, no /var/lib/powertrain-kb, no /etc/powertrain-kb. Nothing of the source tree is
# visible inside the tree: the reports are copied in as plain files.
#
# The base tree (debootstrap --variant=minbase bookworm, plus curl) is made once and kept
# in $KB_PACKAGE_CACHE (default /var/tmp/kb-package-bookworm), with the .debs apt fetched,
# so later runs copy it and fetch nothing new. Needs root (chroot, mount); skipped (77)
# otherwise. Label "package"; not in the ASan pass.
set -euo pipefail
trap 'echo "FAIL test_deb.sh line $LINENO: $BASH_COMMAND"' ERR
src=${KB_SOURCE_DIR:?}
build=${KB_BUILD_DIR:?}
cache=${KB_PACKAGE_CACHE:-/var/tmp/kb-package-bookworm}
fails=0
passes=0
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then
        echo "ok   $what"
        passes=$((passes + 1))
    else
        echo "FAIL $what"
        fails=$((fails + 1))
    fi
}

if [ "$(id -u)" != 0 ]; then
    echo "test_deb: needs root (chroot and mount); skipped"
    exit 77
fi
for tool in debootstrap cpack dpkg-deb; do
    command -v "$tool" >/dev/null || { echo "test_deb: $tool is missing (scripts/deps.sh test)"; exit 1; }
done

tmp=$(mktemp -d /var/tmp/kb-package-run.XXXXXX)
root=$tmp/root
cleanup() {
    if [ -n "${server_pid:-}" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -9 "$server_pid" 2>/dev/null || true
    fi
    for m in dev proc; do umount -l "$root/$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT

# ---- the package --------------------------------------------------------------------------
(cd "$build" && cpack -G DEB -B "$tmp/deb" >"$tmp/cpack.log" 2>&1) ||
    { cat "$tmp/cpack.log"; echo "FAIL cpack"; exit 1; }
deb=$(ls "$tmp"/deb/powertrain-kb_*_amd64.deb)
version=$(sed -n 's/^project(powertrain_kb VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
check "cpack made powertrain-kb_${version}_amd64.deb" test "$(basename "$deb")" = "powertrain-kb_${version}_amd64.deb"
depends=$(dpkg-deb -f "$deb" Depends)
echo "     Depends: $depends"
check "Depends: computed from the shared libraries" \
    bash -c "grep -q 'libxapian30' <<<'$depends' && grep -q 'libmicrohttpd12' <<<'$depends' && grep -q 'libpoppler-glib8' <<<'$depends' && grep -q 'libc6' <<<'$depends'"
check "Recommends: xapian-tools (the shard and replication units)" \
    test "$(dpkg-deb -f "$deb" Recommends)" = "xapian-tools"
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/kb-server ./usr/bin/kb-indexer ./usr/lib/powertrain-kb/kb-pdftext \
    ./usr/share/powertrain-kb/thesaurus.json ./usr/share/powertrain-kb/stopwords/ \
    ./usr/share/powertrain-kb/openapi.json ./usr/share/powertrain-kb/web/index.html \
    ./etc/powertrain-kb/kb.conf ./usr/lib/systemd/system/kb-server.service \
    ./usr/lib/systemd/system/kb-indexer.service ./usr/lib/systemd/system/kb-indexer.timer \
    ./usr/lib/systemd/system/kb-shard@.service ./usr/lib/systemd/system/kb-replica@.service \
    ./usr/lib/systemd/system/kb-replicate-server.service \
    ./usr/share/man/man1/kb-server.1.gz ./usr/share/man/man1/kb-indexer.1.gz \
    ./usr/share/man/man5/kb.conf.5.gz; do
    grep -qxF "$f" <<<"$contents" || { echo "     missing from the package: $f"; missing=1; }
done
check "the package holds the programs, helper, data, page, conffile, units and man pages" test -z "${missing:-}"

# ---- a fresh Debian 12 tree ---------------------------------------------------------------
# this machine's mirror (deb822 sources, else sources.list, as a debootstrapped tree has)
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1 || true)
[ -n "$mirror" ] || mirror=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
exec 9>"$cache.lock"
flock 9 # one builder of the cache at a time
if [ ! -f "$cache/.ready" ]; then
    echo "     making the Debian 12 base tree in $cache (once)"
    rm -rf --one-file-system "$cache"
    debootstrap --variant=minbase --include=curl,ca-certificates bookworm "$cache" "$mirror" \
        >"$tmp/debootstrap.log" 2>&1 || { tail -20 "$tmp/debootstrap.log"; echo "FAIL debootstrap"; exit 1; }
    touch "$cache/.ready"
fi
cp -a "$cache/." "$root/"
flock -u 9
cp /etc/resolv.conf "$root/etc/resolv.conf"
# the registries are reached through this machine's certificate authorities (as fresh-check)
mkdir -p "$root/usr/local/share/ca-certificates"
cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/" 2>/dev/null || true
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"; }

# what the tree holds before: compared after the purge
snapshot() {
    in_root find / -xdev \( -path /proc -o -path /dev -o -path /sys -o -path /tmp -o \
        -path /run -o -path /var/cache -o -path /var/lib/apt -o -path /var/lib/dpkg -o \
        -path /var/log -o -path /srv \) -prune -o -print | sort
}
snapshot >"$tmp/before"

cp "$deb" "$root/tmp/"
in_root apt-get update -qq >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log"; echo "FAIL apt-get update"; exit 1; }
if ! in_root apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$deb")" >>"$tmp/apt.log" 2>&1; then
    tail -30 "$tmp/apt.log"
    echo "FAIL apt-get install ./$(basename "$deb")"
    exit 1
fi
echo "ok   apt-get install ./$(basename "$deb") (with its dependencies)"
passes=$((passes + 1))
# keep what apt fetched for the next run
cp -n "$root"/var/cache/apt/archives/*.deb "$cache/var/cache/apt/archives/" 2>/dev/null || true

check "kb-server --version prints $version" test "$(in_root kb-server --version)" = "kb-server $version"
check "kb-indexer --version prints $version" test "$(in_root kb-indexer --version)" = "kb-indexer $version"
check "the powertrain-kb system user and group exist" \
    bash -c "chroot '$root' getent passwd powertrain-kb | grep -q ':/var/lib/powertrain-kb:/usr/sbin/nologin$' && chroot '$root' getent group powertrain-kb >/dev/null"
check "/var/lib/powertrain-kb belongs to powertrain-kb" \
    test "$(in_root stat -c %U:%G "/var/lib/powertrain-kb")" = "powertrain-kb:powertrain-kb"
check "/etc/powertrain-kb/kb.conf is a conffile" \
    bash -c "chroot '$root' dpkg-query -W -f='\${Conffiles}' powertrain-kb | grep -q '/etc/powertrain-kb/kb.conf'"
nsettings=$(grep -c '^\[\[setting\]\]' "$src/docs/man/kb.conf.toml")
check "kb.conf has all $nsettings settings, in comments but index, source and max_changesets" \
    bash -c "test \$(grep -oE '^#?[a-z0-9_]+ =' '$root/etc/powertrain-kb/kb.conf' | tr -d '#= ' | sort -u | wc -l) = $nsettings &&
             test \"\$(grep -oE '^[a-z0-9_]+ =' '$root/etc/powertrain-kb/kb.conf' | tr -d '= ' | tr '\n' ' ')\" = 'index source max_changesets '"
check "man kb-server renders from the installed page" \
    bash -c "MANWIDTH=80 man -l '$root/usr/share/man/man1/kb-server.1.gz' 2>/dev/null | grep -q 'EXIT STATUS'"

# ---- index and serve with the installed programs -----------------------------------------
mkdir -p "$root/srv/powertrain-kb/reports"
cp -r "$src/corpus/." "$root/srv/powertrain-kb/reports/"
ndocs=$(find "$root/srv/powertrain-kb/reports" -type f | wc -l)
as_kb() { in_root setpriv --reuid=powertrain-kb --regid=powertrain-kb --init-groups -- "$@"; }
rc=0
as_kb kb-indexer --config=/etc/powertrain-kb/kb.conf --quiet --json >"$tmp/report.json" 2>"$tmp/indexer.err" || rc=$?
check "the installed kb-indexer indexes /srv/powertrain-kb/reports as powertrain-kb (exit $rc)" test $rc = 0
check "every report was read, PDFs by /usr/lib/powertrain-kb/kb-pdftext ($ndocs files)" \
    /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(not (r["failed"]==0 and r["added"]>=int(sys.argv[2])-2))' "$tmp/report.json" "$ndocs"
[ $rc = 0 ] || { cat "$tmp/indexer.err" "$tmp/report.json"; }

# no shell function here: chroot, env and setpriv each exec the next, so $! is kb-server
chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8 \
    setpriv --reuid=powertrain-kb --regid=powertrain-kb --init-groups -- \
    kb-server --config=/etc/powertrain-kb/kb.conf --port=0 --port-file=/var/lib/powertrain-kb/port \
    >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    [ -s "$root/var/lib/powertrain-kb/port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
port=$(cat "$root/var/lib/powertrain-kb/port" 2>/dev/null || true)
check "the installed kb-server listens on a loopback port" test -n "$port"
if [ -n "$port" ]; then
    url=http://127.0.0.1:$port
    in_root curl -fsS "$url/api/v1/search?q=hydrogen&facets=true" >"$tmp/search.json" || true
    check "a search answers hits (curl in the tree)" /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(not (r["total"]>0 and r["hits"]))' "$tmp/search.json"
    id=$(/usr/bin/python3 -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.load(open(sys.argv[1]))["hits"][0]["id"], safe=""))' "$tmp/search.json" 2>/dev/null || echo none)
    check "the search page comes from /usr/share/powertrain-kb/web" \
        bash -c "chroot '$root' curl -fsS '$url/' | grep -qi '<html'"
    check "openapi.json comes from /usr/share/powertrain-kb" \
        bash -c "chroot '$root' curl -fsS '$url/api/v1/openapi.json' | grep -q openapi"
    check "/files/ID serves the original report from the source folder" \
        bash -c "chroot '$root' curl -fsS -o /dev/null '$url/files/$id'"
    check "/healthz answers 200" bash -c "chroot '$root' curl -fsS -o /dev/null '$url/healthz'"
fi
rc=0
kill -TERM "$server_pid" 2>/dev/null || true
wait "$server_pid" || rc=$?
server_pid=
check "SIGTERM stops kb-server with exit 0" test $rc = 0
[ $fails = 0 ] || tail -20 "$tmp/server.log"

# ---- purge ----------------------------------------------------------------------------------
in_root apt-get purge -y -qq powertrain-kb >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log"; echo "FAIL apt-get purge"; exit 1; }
in_root apt-get autoremove --purge -y -qq >>"$tmp/purge.log" 2>&1 || true
check "purge removes the user and group" \
    bash -c "! grep -q powertrain-kb '$root/etc/passwd' '$root/etc/group' '$root/etc/shadow' '$root/etc/gshadow'"
for d in /var/lib/powertrain-kb /etc/powertrain-kb /usr/share/powertrain-kb /usr/lib/powertrain-kb; do
    check "purge removes $d" test ! -e "$root$d"
done
snapshot >"$tmp/after"
# useradd's backups (/etc/passwd- ...) are the shadow tools' own, not the package's
stray=$(comm -13 "$tmp/before" "$tmp/after" | grep -vE '^/etc/(passwd|group|shadow|gshadow)-$' || true)
check "nothing stray is left after the purge and autoremove" test -z "$stray"
[ -z "$stray" ] || echo "$stray" | head -30

echo "$passes passed, $fails failed"
[ $fails = 0 ]
