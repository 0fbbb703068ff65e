#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh - NPL ranking-quality benchmark: kb (real indexer + server) vs SQLite FTS5 and
# plain Xapian BM25; prints MAP, nDCG@10, P@10, Recall@100. See README.md and run.py.
# Usage: bench/relevance/run.sh [--build=DIR] [--split=odd|even] [--systems=kb,sqlite,xapian]
exec /usr/bin/python3 "$(dirname "$0")/run.py" "$@"
