#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_pdf_helper.sh - kb-indexer reads PDFs through the kb-pdftext helper process. A
# real PDF is indexed through it with its pages intact (a word of page 2 is found on page
# 2, the stored body has its page breaks) next to a text file and a damaged PDF (a failed
# file with poppler's reason). Then $KB_PDFTEXT points at hostile stand-ins: one that
# crashes (SIGSEGV) without reading a 300 KB PDF, one that hangs (with a child of its own)
# past file_seconds. Each PDF is a failed file with the reason, the text file next to it
# is indexed, the run ends quickly with exit 1, and no helper process is left behind.
# Also: kb-indexer itself does not load poppler.
source "$(dirname "$0")/lib.sh"
idx="$KB_BIN_DIR/kb-indexer"
formats="$KB_TEST_DATA/formats"
export KB_DATA_DIR

# kb-indexer does not link poppler; kb-pdftext does (whole output first: grep -q would
# close the pipe under ldd, which pipefail reports)
libs=$(ldd "$idx")
if grep -q poppler <<<"$libs"; then fail "kb-indexer links poppler"; else ok; fi
libs=$(ldd "$KB_BIN_DIR/kb-pdftext")
if grep -q poppler <<<"$libs"; then ok; else fail "kb-pdftext without poppler"; fi

# ---- the real helper: pages intact, a damaged PDF fails with poppler's reason ----
mkdir -p "$T/c1"
cp "$formats/brief-fr.pdf" "$formats/truncated.pdf" "$formats/notes.txt" "$T/c1/"
rc=0
"$idx" --index="$T/i1" --json --quiet "$T/c1" >"$T/r1.json" 2>"$T/r1.err" || rc=$?
expect_eq "run 1 exit" "$rc" 1
expect_eq "run 1 added" "$(jq .added "$T/r1.json")" 2
expect_eq "run 1 failed" "$(jq -r '.failures[].path' "$T/r1.json")" "truncated.pdf"
case "$(jq -r '.failures[0].reason' "$T/r1.json")" in
"pdf: "*) ok ;;
*) fail "truncated.pdf reason: $(jq -r '.failures[0].reason' "$T/r1.json")" ;;
esac
start_server "$T/i1"
doc=$(curl -sf "$BASE/api/v1/documents/brief-fr.pdf")
expect_eq "pages" "$(jq .pages <<<"$doc")" 3
expect_eq "format" "$(jq -r .format <<<"$doc")" pdf
expect_eq "page breaks in body" "$(jq -r '.body | split("\f") | length' <<<"$doc")" 3
expect_eq "page 3 text" "$(jq -r '.body | split("\f")[2] | contains("pagetroiszzz")' <<<"$doc")" true
hit=$(curl -sf -G "$BASE/api/v1/search" --data-urlencode "q=pagedeuxzzz" |
    jq -c '[.hits[] | {id, page}]')
expect_eq "search page 2" "$hit" '[{"id":"brief-fr.pdf","page":2}]'
expect_hit "pagetroiszzz" "brief-fr.pdf"
stop_server

# ---- hostile stand-ins for the helper ----
# a PDF larger than a pipe buffer, so that the indexer's writes meet a dead reader
mkdir -p "$T/c2"
cp "$formats/notes.txt" "$T/c2/"
{
    cat "$formats/brief-fr.pdf"
    for _ in $(seq 1 3000); do echo "% padding padding padding padding padding padding padding padding padding padding"; done
} >"$T/c2/big.pdf"
cat >"$T/crash.sh" <<'EOF'
#!/bin/sh
kill -SEGV $$
EOF
cat >"$T/hang.sh" <<EOF
#!/bin/sh
echo \$\$ >>"$T/hang.pids"
sleep 30 &
echo \$! >>"$T/hang.pids"
wait
EOF
chmod +x "$T/crash.sh" "$T/hang.sh"

rc=0
KB_PDFTEXT="$T/crash.sh" "$idx" --index="$T/i2" --json --quiet "$T/c2" \
    >"$T/r2.json" 2>"$T/r2.err" || rc=$?
expect_eq "crash: exit" "$rc" 1
expect_eq "crash: text file indexed" "$(jq .added "$T/r2.json")" 1
expect_eq "crash: reason" "$(jq -r '.failures[] | "\(.path): \(.reason)"' "$T/r2.json")" \
    "big.pdf: pdf: extractor crashed (signal 11)"

rc=0
t0=$(date +%s%N)
KB_PDFTEXT="$T/hang.sh" "$idx" --index="$T/i3" --json --quiet --file_seconds=1 "$T/c2" \
    >"$T/r3.json" 2>"$T/r3.err" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "hang: exit" "$rc" 1
expect_eq "hang: text file indexed" "$(jq .added "$T/r3.json")" 1
expect_eq "hang: reason" "$(jq -r '.failures[] | "\(.path): \(.reason)"' "$T/r3.json")" \
    "big.pdf: pdf: extraction timed out after 1 s"
if [ "$ms" -lt 10000 ]; then ok; else fail "hang: run took $ms ms"; fi
# the helper and its own child were killed with their process group
expect_eq "hang: helper started" "$(wc -l <"$T/hang.pids" | tr -d ' ')" 2
# alive PID: running, not a zombie waiting for init to reap it
alive() { [ -r "/proc/$1/stat" ] && ! awk '{ exit $3 != "Z" }' "/proc/$1/stat"; }
while read -r pid; do
    for _ in $(seq 1 20); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
        fail "hang: process $pid still running"
        kill -9 "$pid" 2>/dev/null || true
    else
        ok
    fi
done <"$T/hang.pids"

# a helper that is missing: a failed file naming it in the report, the run goes on
rc=0
KB_PDFTEXT="$T/no-such-helper" "$idx" --index="$T/i4" --json --quiet "$T/c2" \
    >"$T/r4.json" 2>"$T/r4.err" || rc=$?
expect_eq "missing: exit" "$rc" 1
expect_eq "missing: text file indexed" "$(jq .added "$T/r4.json")" 1
case "$(jq -r '.failures[0].reason' "$T/r4.json")" in
"pdf: cannot run the helper '$T/no-such-helper'"*) ok ;;
*) fail "missing: reason $(jq -r '.failures[0].reason' "$T/r4.json")" ;;
esac
# ...but not recorded as a failed file: with the helper back, the next run indexes the
# PDF (a file that fails on its own is skipped until it changes)
rc=0
"$idx" --index="$T/i4" --json --quiet "$T/c2" >"$T/r5.json" 2>"$T/r5.err" || rc=$?
expect_eq "helper back: exit" "$rc" 0
expect_eq "helper back: the PDF is indexed" "$(jq .added "$T/r5.json")" 1
expect_eq "helper back: nothing skipped as failed" "$(jq .skipped_failed "$T/r5.json")" 0

finish
