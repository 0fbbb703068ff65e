#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_visibility.py - member-only documents have no side door, end to end with the real
kb-indexer and kb-server over a copy of corpus/.

The copy holds the two member-only briefs of corpus/ (front matter, codename "tramontex"),
a folder made member-only by its .kb-visibility file (word "quintalune"), and one
member-only file per other metadata route, each with a made-up word of its own: an XML
report (<visibility>), a DOCX (custom property), an ODT (meta:user-defined), a PDF (Info
keyword "visibility: members") and an HTML page (<meta name="visibility">), plus a public
DOCX as the control. Then, for six clients (anonymous, a search-only key, a members key,
a session cookie, Remote-User from a trusted proxy, Remote-User from an address that is
not one), every door is tried: search hits and totals, facet counts, suggest completions
and titles, did-you-mean, similar (as the source and in results), the Atom feed,
/api/v1/documents, /files, /api/v1/stats and /healthz. Each check compares with what the
client should see, so it fails if a door is open for the wrong client or shut for the
right one. Also: the suggest cache answers each client by what it may see, sessions
(cookie attributes, sign-out, the bounded table), a visibility change picked up by the
next nightly run (and the spelling dictionary following it), and API writes.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

import kbtest
from kbtest import check

sys.path.insert(0, os.path.join(kbtest.SRC, "scripts"))
import mkoffice  # noqa: E402

DATA = os.environ.get("KB_DATA_DIR", os.path.join(kbtest.SRC, "schemas"))
ENV = dict(os.environ, KB_DATA_DIR=DATA)
MKEY = "members-key-0123456789abcdef"
SKEY = "search-key-0123456789abcdef"
WKEY = "writer-key-0123456789abcdef"
MDOC = "fr/projet-tramontex-moteur-flux-axial.md"
CLUB = "fr/club/compte-rendu-quintalune.txt"
# made-up words, each held by one member-only file only (its metadata says members)
FORMAT_WORDS = {"zefiratron": "samples/rapport-zefiratron.xml",
                "brumalix": "samples/note-brumalix.docx",
                "caldorite": "samples/note-caldorite.odt",
                "nivarello": "samples/note-nivarello.pdf",
                "ombrastel": "samples/page-ombrastel.html"}
PUBLIC_WORD = "lumetrax"  # in a public DOCX: the control
procs = []


def http(port, method, path, headers=None, body=None):
    return kbtest.http(port, method, path, body, headers=headers)


def get_json(port, path, headers=None):
    st, _, body = http(port, "GET", path, headers)
    return st, (json.loads(body) if body else None)


def start_server(tmp, name, index, keys, corpus, *extra):
    p, port = kbtest.start_kb_server(index, os.path.join(tmp, name + ".port"),
                                     os.path.join(tmp, name + ".log"), "--keys-file=" + keys,
                                     "--access-log=", "--source=" + corpus, "--workers=4",
                                     *extra, env=ENV)
    procs.append(p)
    return port


def index(idx, corpus):
    r = subprocess.run([kbtest.INDEXER, "--index=" + idx, "--json", corpus], env=ENV,
                       capture_output=True, text=True)
    return r.returncode, (json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}), r.stderr


def office_doc(title, word, lang="en"):
    src = ("---\ntitle: \"%s\"\ndate: 2026-06-01\nlang: %s\norganisation: \"Test Club\"\n"
           "type: note\ntopics: [electric-motors]\nauthors: [\"Ada Tester\"]\n---\n\n# %s\n\n"
           "The %s prototype of the club is an e-axle with an axial-flux motor and a "
           "two-speed gearbox, tested on the bench for efficiency and noise.\n"
           % (title, lang, title, word))
    return mkoffice.parse_source(src, word)


def rezip(data, replace=None, add=None):
    """The zip `data` with members replaced (name -> function of bytes) or added."""
    import io
    import zipfile
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            b = src.read(info.filename)
            if replace and info.filename in replace:
                b = replace[info.filename](b)
            z.writestr(info, b)
        for name, b in (add or {}).items():
            z.writestr(name, b)
    return out.getvalue()


def make_corpus(tmp):
    corpus = os.path.join(tmp, "corpus")
    shutil.copytree(os.path.join(kbtest.SRC, "corpus"), corpus)
    club = os.path.join(corpus, "fr", "club")
    os.makedirs(club)
    with open(os.path.join(club, ".kb-visibility"), "w") as f:
        f.write("# this folder is for the members of the battery club\nmembers\n")
    with open(os.path.join(corpus, CLUB), "w") as f:
        f.write("Compte rendu du club batterie\n\nLe prototype quintalune de pack batterie "
                "à refroidissement par immersion a passé les essais thermiques du club. "
                "Les cellules quintalune gardent moins de 3 °C d'écart en charge rapide.\n")
    s = os.path.join(corpus, "samples")
    os.makedirs(s)
    xml = open(os.path.join(kbtest.SRC, "tests", "data", "formats", "report-it.xml"),
               encoding="utf-8").read()
    xml = xml.replace("<type>report</type>",
                      "<type>report</type>\n  <visibility>members</visibility>")
    xml = xml.replace("I serbatoi di tipo IV", "I serbatoi zefiratron di tipo IV")
    xml = xml.replace('id="it-valvole-h2-2025"', 'id="it-zefiratron-2026"')
    open(os.path.join(corpus, FORMAT_WORDS["zefiratron"]), "w", encoding="utf-8").write(xml)
    custom = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
              'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/'
              '2006/docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" '
              'pid="2" name="visibility"><vt:lpwstr>members</vt:lpwstr></property>'
              '</Properties>')
    docx = mkoffice.make_docx(office_doc("Club note on the brumalix e-axle", "brumalix"))
    open(os.path.join(corpus, FORMAT_WORDS["brumalix"]), "wb").write(
        rezip(docx, add={"docProps/custom.xml": custom}))
    open(os.path.join(s, "note-lumetrax.docx"), "wb").write(
        mkoffice.make_docx(office_doc("Public note on the lumetrax e-axle", PUBLIC_WORD)))
    odt = mkoffice.make_odt(office_doc("Club note on the caldorite e-axle", "caldorite"))
    open(os.path.join(corpus, FORMAT_WORDS["caldorite"]), "wb").write(rezip(odt, replace={
        "meta.xml": lambda b: b.replace(
            b"</office:meta>",
            b'<meta:user-defined meta:name="visibility">members</meta:user-defined>'
            b"</office:meta>")}))
    pdoc = office_doc("Club note on the nivarello e-axle", "nivarello")
    pdoc.meta["topics"] = ["electric-motors", "visibility: members"]
    open(os.path.join(corpus, FORMAT_WORDS["nivarello"]), "wb").write(mkoffice.make_pdf(pdoc))
    open(os.path.join(corpus, FORMAT_WORDS["ombrastel"]), "w").write(
        "<!DOCTYPE html><html lang=\"en\"><head><title>Club page on the ombrastel "
        "inverter</title><meta name=\"visibility\" content=\"members\"></head><body>"
        "<h1>Club page on the ombrastel inverter</h1><p>The ombrastel silicon carbide "
        "inverter of the club runs at 800 V with a switching frequency of 20 kHz.</p>"
        "</body></html>\n")
    return corpus


def write_keys(tmp):
    keys = kbtest.write_keys(os.path.join(tmp, "keys"),
                             (MKEY, "search,members"), (SKEY, "search"), (WKEY, "write"))
    return keys


def sign_in(port, key=MKEY, headers=None):
    h = {"X-Requested-With": "kbtest"}
    h.update(headers or {})
    st, hd, body = http(port, "POST", "/api/v1/session", h, {"key": key})
    cookie = hd.get("Set-Cookie", "")
    return st, cookie, json.loads(body) if body else None


def q(s):
    return urllib.parse.quote(s)


def doors(port, h, n_all, n_pub):
    """What a client with headers h sees through every door: door -> True (it sees
    member-only documents there), False (it does not), or None (the answer was odd)."""
    seen = {}
    st, b = get_json(port, "/api/v1/search?q=tramontex&snippets=false", h)
    seen["search hits"] = b["total"] > 0 if st == 200 else None
    words = ["quintalune"] + list(FORMAT_WORDS)
    for w in words:
        st, b = get_json(port, "/api/v1/search?q=%s&snippets=false" % w, h)
        seen["search '%s'" % w] = b["total"] == 1 if st == 200 and b["total"] <= 1 else None
    st, b = get_json(port, "/api/v1/search?q=&size=1&facets=lang,topic", h)
    if st == 200:
        seen["empty search total"] = {n_all: True, n_pub: False}.get(b["total"])
        seen["facet counts"] = {n_all: True, n_pub: False}.get(
            sum(x["count"] for x in b["facets"]["lang"]))
        em = [x["count"] for x in b["facets"]["topic"] if x["value"] == "electric-motors"]
        seen["topic facet"] = em[0] if em else None
    st, b = get_json(port, "/api/v1/suggest?q=tramon", h)
    seen["suggest completions"] = (any(c["term"] == "tramontex" for c in b["completions"])
                                   if st == 200 else None)
    seen["suggest titles"] = any(t["id"] == MDOC for t in b["titles"]) if st == 200 else None
    st, b = get_json(port, "/api/v1/suggest?q=quinta", h)
    seen["suggest folder word"] = (any(c["term"] == "quintalune" for c in b["completions"])
                                   if st == 200 else None)
    st, b = get_json(port, "/api/v1/search?q=quintalunne&snippets=false", h)
    # nobody is offered a word that only member-only documents hold
    seen["did you mean (never)"] = (st == 200 and "quintalune" in (b["suggestion"] or ""))
    st, b = get_json(port, "/api/v1/documents/%s/similar" % MDOC, h)
    seen["similar source"] = {200: True, 404: False}.get(st)
    st, b = get_json(port, "/api/v1/documents/fr/machines-electriques-sans-terres-rares.md/"
                     "similar?limit=100", h)
    seen["similar results"] = (any("tramontex" in x["id"] or x.get("visibility") != "public"
                                   for x in b["hits"]) if st == 200 else None)
    st, _, body = http(port, "GET", "/feed.atom?q=tramontex", h)  # the title holds q
    seen["feed query"] = b"<entry>" in body if st == 200 else None
    st, _, body = http(port, "GET", "/feed.atom?size=100", h)
    seen["feed newest"] = b"tramontex" in body.lower() if st == 200 else None
    st, _, _ = http(port, "GET", "/api/v1/documents/" + MDOC, h)
    seen["document"] = {200: True, 404: False}.get(st)
    st, _, _ = http(port, "GET", "/api/v1/documents/" + MDOC, dict(h, **{"If-None-Match": "*"}))
    seen["document etag"] = {304: True, 404: False}.get(st)
    st, _, _ = http(port, "HEAD", "/api/v1/documents/" + CLUB, h)
    seen["document (folder)"] = {200: True, 404: False}.get(st)
    st, _, _ = http(port, "GET", "/files/" + CLUB, h)
    seen["files"] = {200: True, 404: False}.get(st)
    st, b = get_json(port, "/api/v1/stats", h)
    seen["stats documents"] = {n_all: True, n_pub: False}.get(b["documents"]) if st == 200 else None
    seen["stats languages"] = ({n_all: True, n_pub: False}.get(sum(b["languages"].values()))
                               if st == 200 else None)
    seen["stats last run"] = "added" in (b["last_run"] or {}) if st == 200 else None
    st, b = get_json(port, "/healthz", h)
    seen["healthz"] = {n_all: True, n_pub: False}.get(b["documents"]) if st == 200 else None
    return seen


def main():
    tmp = tempfile.mkdtemp(prefix="kb-visibility-")
    try:
        corpus = make_corpus(tmp)
        idx = os.path.join(tmp, "index")
        rc, rep, err = index(idx, corpus)
        check(rc == 0 and rep.get("failed") == 0,
              "corpus with member-only files indexed (exit %d, %s)" % (rc, err[-300:]))
        n_all = rep.get("documents", 0)
        n_members = 2 + 1 + len(FORMAT_WORDS)
        n_pub = n_all - n_members
        keys = write_keys(tmp)
        port = start_server(tmp, "a", idx, keys, corpus, "--trusted-proxies=127.0.0.1")
        port_b = start_server(tmp, "b", idx, keys, corpus, "--trusted-proxies=192.0.2.7,::1")

        # the control: a public DOCX is seen by everyone, so the readers hide on purpose
        st, b = get_json(port, "/api/v1/search?q=" + PUBLIC_WORD)
        check(st == 200 and b["total"] == 1, "the public DOCX is found anonymously")

        st, cookie, who = sign_in(port)
        check(st == 200 and who["members"], "a members key signs in (%d)" % st)
        pair = cookie.split(";")[0]
        viewers = [("anonymous", port, {}, False),
                   ("search-only key", port, {"Authorization": "Bearer " + SKEY}, False),
                   ("members key", port, {"Authorization": "Bearer " + MKEY}, True),
                   ("session cookie", port, {"Cookie": pair}, True),
                   ("Remote-User from a trusted proxy", port, {"Remote-User": "alice"}, True),
                   ("Remote-User from an untrusted address", port_b, {"Remote-User": "alice"},
                    False),
                   ("a forged session cookie", port, {"Cookie": "kb_session=" + "0f" * 32}, False)]
        topic = {}
        for name, p, h, sees in viewers:
            seen = doors(p, h, n_all, n_pub)
            topic[name] = seen.pop("topic facet")
            for door, v in seen.items():
                want = False if door == "did you mean (never)" else sees
                check(v is want, "%s: %s %s" % (name, door, "seen" if want else "hidden")
                      + ("" if v is want else " (got %r)" % v))
        check(len({topic[n] for n, _, _, s in viewers if s}) == 1 and
              len({topic[n] for n, _, _, s in viewers if not s}) == 1 and
              topic["anonymous"] < topic["members key"],
              "topic facet 'electric-motors': fewer anonymously, the same within each side "
              "(%r)" % topic)

        # the spelling dictionary still works for public words
        st, b = get_json(port, "/api/v1/search?q=lumetrx")
        check(st == 200 and (b["suggestion"] or "").startswith("lumetrax"),
              "did you mean works for a public word (%r)" % (b or {}).get("suggestion"))

        # the suggest cache: the same keystrokes, members first then anonymous, and back
        for rnd in range(2):
            order = [({"Authorization": "Bearer " + MKEY}, True), ({}, False)]
            if rnd:
                order.reverse()
            for h, sees in order:
                got = set()
                for _ in range(12):  # every worker thread, twice over
                    st, b = get_json(port, "/api/v1/suggest?q=tramont", h)
                    got.add(any(c["term"] == "tramontex" for c in b["completions"]))
                check(got == {sees}, "suggest cache, round %d: %s %s" % (
                    rnd, "members see" if sees else "anonymous never sees", sorted(got)))

        # sessions
        attrs = [a.strip() for a in cookie.split(";")]
        check(re.fullmatch(r"kb_session=[0-9a-f]{64}", attrs[0]) is not None and
              MKEY not in cookie and "HttpOnly" in attrs and "SameSite=Strict" in attrs and
              "Path=/" in attrs and "Secure" not in attrs,
              "session cookie: random token, HttpOnly, SameSite=Strict, Path=/, no Secure "
              "over http (%s)" % re.sub(r"=[0-9a-f]{64}", "=...", cookie))
        st, c2, _ = sign_in(port, headers={"X-Forwarded-Proto": "https"})
        check(st == 200 and "; Secure" in c2, "over https (trusted proxy): Secure cookie")
        st, c3, _ = sign_in(port_b, headers={"X-Forwarded-Proto": "https"})
        check(st == 200 and "Secure" not in c3,
              "X-Forwarded-Proto from an untrusted address is ignored")
        st, _, _ = sign_in(port, headers={"Origin": "http://evil.example"})
        check(st == 403, "sign-in from another origin refused (%d)" % st)
        st, hd, _ = http(port, "DELETE", "/api/v1/session", {"Cookie": pair})
        check(st == 403, "sign-out without X-Requested-With refused (%d)" % st)
        st, hd, _ = http(port, "DELETE", "/api/v1/session",
                         {"Cookie": pair, "X-Requested-With": "kbtest"})
        check(st == 200 and "Max-Age=0" in hd.get("Set-Cookie", ""), "sign-out clears the cookie")
        st, b = get_json(port, "/api/v1/search?q=tramontex", {"Cookie": pair})
        check(st == 200 and b["total"] == 0, "after sign-out the old cookie sees nothing")
        port_c = start_server(tmp, "c", idx, keys, corpus, "--max-sessions=8")
        cookies = [sign_in(port_c)[1].split(";")[0] for _ in range(40)]
        alive = sum(get_json(port_c, "/api/v1/session", {"Cookie": c})[1]["signed_in"]
                    for c in cookies)
        check(1 <= alive <= 8 and get_json(port_c, "/api/v1/session", {"Cookie": cookies[-1]})[1]
              ["signed_in"], "40 sign-ins into a table of 8: %d kept, the newest among them"
              % alive)
        st, b = get_json(port_b, "/api/v1/session", {"Remote-User": "alice"})
        check(st == 200 and "user" not in b and not b["members"],
              "Remote-User from an untrusted address: ignored")
        st, b = get_json(port, "/api/v1/session", {"Remote-User": "alice"})
        check(st == 200 and b.get("user") == "alice" and b["members"],
              "Remote-User from a trusted proxy: a member named alice")

        # API writes: visibility in the body, changed by the next PUT (and the spelling
        # dictionary follows: a document made member-only takes its words out)
        doc = {"title": "Club note on the glimmervolt e-axle", "lang": "en", "type": "note",
               "body": "The glimmervolt e-axle prototype passed its first bench runs.",
               "visibility": "public"}
        wh = {"Authorization": "Bearer " + WKEY}
        mh = {"Authorization": "Bearer " + MKEY}
        st, _, _ = http(port, "PUT", "/api/v1/documents/api/glimmervolt", wh, doc)
        st2, b = get_json(port, "/api/v1/search?q=glimmervolt")
        st3, b3 = get_json(port, "/api/v1/search?q=glimmervolx")
        check(st == 200 and b["total"] == 1 and b3["suggestion"] == "glimmervolt",
              "API PUT public: found anonymously, and offered for a misspelling (%r)"
              % b3["suggestion"])
        doc["visibility"] = "members"
        st, _, _ = http(port, "PUT", "/api/v1/documents/api/glimmervolt", wh, doc)
        st2, b = get_json(port, "/api/v1/search?q=glimmervolt")
        st3, b3 = get_json(port, "/api/v1/search?q=glimmervolt", mh)
        check(st == 200 and b["total"] == 0 and b3["total"] == 1,
              "API PUT with visibility members: hidden anonymously, seen by members")
        for h in ({}, mh):
            st, b = get_json(port, "/api/v1/search?q=glimmervolx", h)
            check(st == 200 and b["suggestion"] is None,
                  "its words left the spelling dictionary (%r)" % b["suggestion"])

        # the next nightly run picks up a changed .kb-visibility and front matter
        os.unlink(os.path.join(corpus, "fr", "club", ".kb-visibility"))
        md = os.path.join(corpus, MDOC)
        text = open(md, encoding="utf-8").read()
        open(md, "w", encoding="utf-8").write(text.replace("visibility: members",
                                                           "visibility: public"))
        rc, rep, err = index(idx, corpus)
        check(rc == 0 and rep.get("updated") == 2,
              "nightly run after the visibility changes: 2 updated (%r)" % rep.get("updated"))
        time.sleep(0.2)
        st, b = get_json(port, "/api/v1/search?q=quintalune")
        check(b["total"] == 1, "folder made public: its file is found anonymously")
        st, b = get_json(port, "/api/v1/search?q=tramontex")
        check(b["total"] == 1, "front matter made public: the brief is found anonymously")
        st, b = get_json(port, "/api/v1/search?q=quintalunne")
        check("quintalune" in (b["suggestion"] or ""),
              "its words joined the spelling dictionary (%r)" % b["suggestion"])
        with open(os.path.join(corpus, "fr", "club", ".kb-visibility"), "w") as f:
            f.write("members\n")
        rc, rep, err = index(idx, corpus)
        check(rc == 0 and rep.get("updated") == 1, "folder made member-only again: 1 updated")
        time.sleep(0.2)
        st, b = get_json(port, "/api/v1/search?q=quintalune")
        check(b["total"] == 0, "the folder's file is hidden again")
        st, b = get_json(port, "/api/v1/search?q=quintalunne")
        check(b["suggestion"] is None,
              "its words left the spelling dictionary (%r)" % b["suggestion"])
        rc, rep, err = index(idx, corpus)
        check(rc == 0 and rep.get("updated") == 0 and rep.get("unchanged", 0) > 0,
              "a run with nothing changed reindexes nothing")
    finally:
        for p in procs:
            kbtest.stop_server(p)
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
