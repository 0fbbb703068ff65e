#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages that building, running and testing powertrain-kb need.
# Idempotent: packages already present are not fetched again. Needs root (apt-get) unless
# everything is already installed. Usage: scripts/deps.sh [run|test|bench|deb]
# (bench = test + the anchors and tools the benchmarks under bench/ compare against;
# deb = run + what `make deb` needs)
set -eu
mode=${1:-test}

# python3: docs/man/mkdocs.py makes the man pages and --help text at build time
build="cmake make gcc g++ pkg-config python3
 libxapian-dev libmicrohttpd-dev libjansson-dev libxml2-dev libpoppler-glib-dev
 libcmark-dev libyaml-dev libutf8proc-dev libexttextcat-dev libuchardet-dev libzip-dev
 libmagic-dev libxxhash-dev libsodium-dev zlib1g-dev"
runtime="xapian-tools curl"
# man-db and systemd: `man -l` and `systemd-analyze verify` (lint); dpkg-dev and file:
# CPack's Depends: from dpkg-shlibdeps; debootstrap and python3-seccomp: the package tests;
# clang and libclang-rt-14-dev: the bounded libFuzzer runs (make test-fuzz)
packaging="dpkg-dev file"
testing="python3 python3-jsonschema jq valgrind clang-format clang libclang-rt-14-dev
 libxml2-utils poppler-utils
 chromium fonts-dejavu-core ca-certificates man-db groff-base systemd $packaging
 debootstrap python3-seccomp"
bench="wrk xapian-omega time linux-perf sqlite3"
# Node.js may come from elsewhere (a machine image); only ask Debian for it when absent.
command -v npm >/dev/null 2>&1 || testing="$testing nodejs npm"

want="$build $runtime"
[ "$mode" = test ] && want="$want $testing"
[ "$mode" = bench ] && want="$want $testing $bench"
[ "$mode" = deb ] && want="$want $packaging"

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "deps: installing:$missing"
    if [ "$(id -u)" != 0 ]; then
        echo "deps: missing packages and not root; install them with apt-get" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
