#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The formats issue's "done when", end to end: the real indexer over corpus/ plus three
# hostile files, the real server, real HTTP. French/Italian elisions and accents, the
# FR/IT/EN thesaurus, acronyms and units; bad files reported failed while the run goes on.
. "$(dirname "$0")/lib.sh"
src="$T/src"
mkdir -p "$src/bad"
cp -r "$KB_SOURCE_DIR/corpus/." "$src/"
cp "$KB_TEST_DATA/formats/invalid-report.xml" "$KB_TEST_DATA/formats/truncated.pdf" \
   "$KB_TEST_DATA/formats/binary.html" "$src/bad/"

set +e
"$KB_BIN_DIR/kb-indexer" --index="$T/var/new/index" --json "$src" >"$T/report.json" 2>"$T/indexer.err"
rc=$?
set -e
expect_eq "indexer exit code with failed files" "$rc" 1
expect_eq "failed count" "$(jq .failed "$T/report.json")" 3
n_corpus=$(find "$KB_SOURCE_DIR/corpus" -type f | wc -l)
expect_eq "every corpus file indexed" "$(jq .added "$T/report.json")" "$n_corpus"
for f in bad/invalid-report.xml bad/truncated.pdf bad/binary.html; do
    reason=$(jq -r --arg p "$f" '.failures[] | select(.path == $p) | .reason' "$T/report.json")
    if [ -n "$reason" ]; then ok; else fail "no failure recorded for $f"; fi
done
jq -r '.failures[] | "\(.path): \(.reason)"' "$T/report.json"
reason=$(jq -r '.failures[] | select(.path == "bad/invalid-report.xml") | .reason' "$T/report.json")
case "$reason" in *abstract*|*topic*|*Element*) ok ;; *) fail "xml reason lacks the validator message: $reason" ;; esac

# the index folder and its missing parents were created by the indexer
start_server "$T/var/new/index"

# "hydrogène", "hydrogene" and "Hydrogène" all find the brief that only says "l'hydrogène"
for q in "hydrogène" "hydrogene" "Hydrogène" "HYDROGÈNE"; do
    expect_hit "$q" "fr/securite-ateliers-maintenance-h2.txt"
done
# "idrogeno" finds the brief that only says "dell'idrogeno"
expect_hit "idrogeno" "it/produzione-elettrolitica-h2.md"
# accent-insensitive both ways
expect_hit "electricite" "fr/electrification-vehicules-utilitaires-legers.md"
# "pile à combustible" finds the Italian and English fuel-cell briefs
expect_hit "pile à combustible" "it/camion-celle-combustibile.xml"
expect_hit "pile à combustible" "it/autobus-celle-combustibile.html"
expect_hit "pile à combustible" "en/fuel-cell-heavy-duty-trucks.md"
# "PHEV" finds "hybride rechargeable" (a brief that never says PHEV), and back
expect_hit "PHEV" "fr/hybride-rechargeable-usage-reel.md"
expect_hit "hybride rechargeable" "en/phev-real-world-emissions-and-utility-factor.md"
# "800 V" finds "800V"
expect_hit "800 V" "fr/onduleurs-sic-architecture-800v.md"
expect_hit "800V" "en/sic-inverters-for-800-v-architectures.md"
# H₂ = H2
expect_hit "H₂" "en/hydrogen-internal-combustion-engines.md"
expect_hit "CO₂" "fr/reglementation-co2-2035-flottes.xml"

# topics come from metadata and from the thesaurus; the language filter restricts
langs=$(search_ids "hydrogen" --data-urlencode "lang=it" | cut -d/ -f1 | sort -u | tr '\n' ' ')
expect_eq "lang=it keeps only Italian documents" "$langs" "it "
n=$(curl -sf "$BASE/api/v1/search?q=&topic=fuel-cells&size=100&snippets=false" | jq '.hits | length')
if [ "$n" -ge 6 ]; then ok; else fail "topic=fuel-cells gives $n documents"; fi

# snippets show the original text, highlighted, and PDF hits say on which page
snip=$(curl -sf -G "$BASE/api/v1/search" --data-urlencode "q=hydrogène" \
    --data-urlencode "lang=fr" --data-urlencode "size=20" | jq -r '.hits[].snippet' | tr '\n' ' ')
case "$snip" in *"<mark>l'hydrogène</mark>"*|*"<mark>hydrogène</mark>"*|*"<mark>l’hydrogène</mark>"*) ok ;; *) fail "no original-text highlight in: ${snip:0:300}" ;; esac
page=$(curl -sf -G "$BASE/api/v1/search" --data-urlencode "q=PEMFC SOFC" \
    --data-urlencode "size=50" | jq '[.hits[] | select(.id | endswith(".pdf")) | .page] | map(select(. != null)) | length')
if [ "$page" -ge 1 ]; then ok; else fail "no PDF hit with a page number"; fi

finish
