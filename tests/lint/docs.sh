#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# lint: the command-line documentation cannot drift from the programs. docs/man/*.toml is
# its one source (man pages, --help, README tables and the package's kb.conf are made
# from it). This checks that it lists exactly the settings core/config.c knows and every
# option the two main.c files accept, that README.md's generated tables are current,
# that each program's --help names all its settings, and that the three man pages render
# with man(1) without a groff warning.
set -euo pipefail
src=${KB_SOURCE_DIR:?}
bin=${KB_BIN_DIR:?}
gen=$bin/../gen
fail=0
bad() { echo "FAIL $*"; fail=1; }
ok() { echo "ok   $*"; }

py=/usr/bin/python3
"$py" "$src/docs/man/mkdocs.py" --check-config "$src/core/config.c" &&
    ok "docs/man/kb.conf.toml lists exactly the settings of core/config.c" ||
    bad "settings of core/config.c and docs/man/kb.conf.toml differ"
"$py" "$src/docs/man/mkdocs.py" --check-readme "$src/README.md" &&
    ok "README.md's generated tables match docs/man" || bad "README.md is stale"

# every option that main.c compares against is documented
for prog in kb-indexer kb-server; do
    dir=${prog#kb-}
    opts=$(grep -oE 'str(n)?cmp\(a(rgv\[[ij]\])?, "-[-a-z]+=?"' "$src/$dir/main.c" |
        sed -E 's/.*"(-[-a-z]+)=?"/\1/' | grep -vx -- '--' | sort -u)
    for o in $opts; do
        grep -qE "name = \"([^\"]*[ ,])?$o([=,\" ]|$)" "$src/docs/man/$prog.toml" ||
            bad "$prog: option $o of $dir/main.c is not in docs/man/$prog.toml"
    done
    ok "$prog: options of $dir/main.c are documented ($(echo $opts | wc -w))"
    help=$("$bin/$prog" --help)
    keys=$("$py" -c 'import sys, tomllib
for s in tomllib.load(open(sys.argv[1], "rb"))["setting"]:
    if sys.argv[2] in s["used_by"]: print("--" + s["key"].replace("_", "-") + "=")' \
        "$src/docs/man/kb.conf.toml" "$prog")
    for k in $keys; do
        grep -qF -- "$k" <<<"$help" || bad "$prog --help does not name $k"
    done
    ok "$prog --help names its $(echo $keys | wc -w) settings"
    "$bin/$prog" --version | grep -qE "^$prog [0-9]+\.[0-9]+\.[0-9]+$" &&
        ok "$prog --version" || bad "$prog --version: '$("$bin/$prog" --version)'"
done

# the man pages render, without warnings, with the sections a reader looks for
for page in kb-indexer.1 kb-server.1 kb.conf.5; do
    f=$gen/$page
    [ -f "$f" ] || { bad "$f was not generated"; continue; }
    warn=$(groff -man -Tutf8 -ww -z "$f" 2>&1 || true)
    [ -z "$warn" ] && ok "$page: groff gives no warning" || bad "$page: $warn"
    out=$(MANWIDTH=80 man -l "$f" 2>&1 | col -b)
    for sec in NAME SYNOPSIS DESCRIPTION SETTINGS "SEE ALSO"; do
        grep -q "^$sec" <<<"$out" || bad "$page: no $sec section in man -l"
    done
    case $page in *.1)
        for sec in OPTIONS "EXIT STATUS" SIGNALS FILES; do
            grep -q "^$sec" <<<"$out" || bad "$page: no $sec section"
        done ;;
    esac
done
[ $fail = 0 ] && ok "man pages render with man -l"
exit $fail
