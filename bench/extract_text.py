#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""extract_text.py - the text of a mkcorpus tree as one TSV line per document.

The anchors that have no document readers of their own (the plain Xapian loop in
bench_plain_index.c and SQLite FTS5 in fts5.py) index this dump, so they index the same
title and body text as kb-indexer without paying for parsing: extraction time is left out
of their figures on purpose (it favours the anchors; the README says so).

    extract_text.py CORPUS_DIR OUT.tsv

Columns: path, lang (fr/it/en), title, body (tabs and newlines turned into spaces).
"""
import html
import html.parser
import os
import re
import sys


class _Text(html.parser.HTMLParser):
    """Collects visible text, skipping <head>, <nav>, <script> and <style>."""

    SKIP = {"head", "nav", "script", "style", "header", "footer"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def one(path):
    """Returns (lang, title, body) for one corpus file."""
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    lang, title, body = "en", "", raw
    if path.endswith(".html"):
        m = re.search(r'<html lang="(\w+)"', raw)
        lang = m.group(1) if m else lang
        m = re.search(r"<title>(.*?)</title>", raw, re.S)
        title = html.unescape(m.group(1)) if m else ""
        p = _Text()
        p.feed(raw)
        body = " ".join(p.parts)
    elif path.endswith(".md"):
        m = re.match(r"---\n(.*?)\n---\n", raw, re.S)
        if m:
            head = m.group(1)
            body = raw[m.end():]
            t = re.search(r'^title:\s*"?(.*?)"?\s*$', head, re.M)
            l = re.search(r"^lang:\s*(\w+)", head, re.M)
            title = t.group(1) if t else ""
            lang = l.group(1) if l else lang
    else:
        head, _, body = raw.partition("\n\n")
        for line in head.splitlines():
            k, _, v = line.partition(":")
            if k == "Title":
                title = v.strip()
            elif k == "Language":
                lang = v.strip()
    return lang, title, body


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: extract_text.py CORPUS_DIR OUT.tsv")
    ws = re.compile(r"\s+")
    n = 0
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        for d, _, files in sorted(os.walk(sys.argv[1])):
            for name in sorted(files):
                path = os.path.join(d, name)
                lang, title, body = one(path)
                out.write("%s\t%s\t%s\t%s\n" % (path, lang, ws.sub(" ", title),
                                                ws.sub(" ", body).strip()))
                n += 1
    print("extract_text: %d documents -> %s" % (n, sys.argv[2]), file=sys.stderr)


if __name__ == "__main__":
    main()
