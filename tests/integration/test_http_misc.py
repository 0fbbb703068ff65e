# SPDX-License-Identifier: MIT
#
# test_http_misc.py - the smaller HTTP defects of issue 14 (defect 8) and the HTTP work of
# issue 15, each against the real kb-server on port 0:
#   - a title holding U+FFFE / U+FFFF (written through the API) keeps the Atom feed
#     well-formed; the Host header never reaches feed links; public_url does;
#   - an error never shows the absolute index path to the client (the log has it);
#   - --bind=bogus exits 2 (usage);
#   - keys made off the command line: --hash-key=- (stdin) and --new-key, and the new key
#     opens a server that needs one;
#   - gzip when asked (same JSON once inflated, Vary, weak ETag that still gives 304),
#     never when refused (q=0) nor for small answers;
#   - the client's X-Request-Id is echoed and logged, an unsafe one is replaced;
#   - every "$ref" of the served OpenAPI description resolves over HTTP.
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbtest  # noqa: E402
from kbtest import SERVER, check  # noqa: E402
from httptest import Server, corpus_index, get_json, request  # noqa: E402

WRITE_KEY = "misc-write-key-0123456789abcdef"


def keys_line(key, scopes):
    return subprocess.run([SERVER, "--hash-key=" + key, "--scopes=" + scopes],
                          capture_output=True, text=True, check=True).stdout.strip()


def feed(tmp, idx, keys):
    srv = Server(tmp, idx, "--keys-file=" + keys, "--access-log=")
    try:
        doc = {"title": "Quarzite \ufffe bilan \uffff de l'essai", "body": "Le banc quarzite "
               "a mesuré la pile à combustible \ufffe pendant l'essai.", "lang": "fr",
               "date": "2025-06-02"}
        st, _, b = request(srv.port, "PUT", "/api/v1/documents/api/quarzite",
                           {"Authorization": "Bearer " + WRITE_KEY,
                            "Content-Type": "application/json"},
                           json.dumps(doc).encode())
        check(st in (200, 202), "PUT a title with U+FFFE and U+FFFF: %d %s" % (st, b[:200]))
        for _ in range(50):
            st, _, d = get_json(srv.port, "/api/v1/search?q=quarzite")
            if d and d.get("total"):
                break
            time.sleep(0.1)
        st, h, body = request(srv.port, "GET", "/feed.atom?q=quarzite",
                              {"Host": "evil.example.net"})
        try:
            root = ET.fromstring(body)
            titles = [e.text for e in root.iter("{http://www.w3.org/2005/Atom}title")]
            ok = any(t and "Quarzite" in t and "\ufffe" not in t for t in titles)
        except ET.ParseError as e:
            ok, titles = False, [str(e)]
        check(st == 200 and ok, "the feed stays well-formed XML: %r" % titles)
        check(b"evil.example.net" not in body, "the Host header is not in the feed")
    finally:
        check(srv.stop() == 0, "server stopped cleanly")
    srv = Server(tmp, idx, "--public-url=https://kb.example.org", "--access-log=")
    try:
        st, _, body = request(srv.port, "GET", "/feed.atom?q=hydrogen",
                              {"Host": "evil.example.net"})
        root = ET.fromstring(body)
        links = [e.get("href") for e in root.iter("{http://www.w3.org/2005/Atom}link")]
        check(links and all(l.startswith("https://kb.example.org/") for l in links),
              "feed links under public_url: %r" % links[:2])
    finally:
        check(srv.stop() == 0, "server stopped cleanly")
    p = subprocess.run([SERVER, "--public-url=javascript:alert(1)"], capture_output=True,
                       text=True, timeout=30)
    check(p.returncode == 2, "a public_url that is not http(s): exit %d" % p.returncode)


def hidden_paths(tmp):
    missing = os.path.join(tmp, "no-such-index-here")
    srv = Server(tmp, missing, "--access-log=")
    try:
        for path in ("/healthz", "/api/v1/search?q=hydrogen", "/api/v1/stats",
                     "/api/v1/documents/en/x.md"):
            st, _, body = request(srv.port, "GET", path)
            check(st == 503 and tmp.encode() not in body and b"/" not in
                  json.loads(body)["error"]["message"].encode(),
                  "%s: %d without the index path: %s" % (path, st, body[:160]))
        time.sleep(0.2)
        check(missing in srv.stderr(), "the server log has the details")
    finally:
        check(srv.stop() == 0, "server stopped cleanly")


def usage_and_keys(tmp, idx):
    p = subprocess.run([SERVER, "--bind=bogus", "--port=0"], capture_output=True, text=True,
                       timeout=30)
    check(p.returncode == 2 and "bogus" in p.stderr, "--bind=bogus: exit %d (%s)" %
          (p.returncode, p.stderr.strip()))
    key = "stdin-key-0123456789abcdef"
    p = subprocess.run([SERVER, "--hash-key=-", "--scopes=search"], input=key + "\n",
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and p.stdout.strip() == keys_line(key, "search"),
          "--hash-key=- reads the key from stdin: %r" % p.stdout.strip())
    p = subprocess.run([SERVER, "--hash-key=-"], input="", capture_output=True, text=True,
                       timeout=30)
    check(p.returncode == 2, "--hash-key=- with nothing on stdin: exit %d" % p.returncode)
    p = subprocess.run([SERVER, "--new-key", "--scopes=search"], capture_output=True,
                       text=True, timeout=30)
    lines = [l for l in p.stdout.splitlines() if l and not l.startswith("#")]
    check(p.returncode == 0 and len(lines) == 2 and len(lines[0]) >= 32 and
          lines[1].endswith(" search") and lines[1] == keys_line(lines[0], "search"),
          "--new-key prints a random key and its keys-file line")
    p2 = subprocess.run([SERVER, "--new-key"], capture_output=True, text=True, timeout=30)
    check(p2.stdout.splitlines()[1] != p.stdout.splitlines()[1], "two new keys differ")
    keys = os.path.join(tmp, "keys-new")
    with open(keys, "w") as f:
        f.write(lines[1] + "\n")
    srv = Server(tmp, idx, "--keys-file=" + keys, "--search-needs-key=true", "--access-log=")
    try:
        st, _, _ = request(srv.port, "GET", "/api/v1/search?q=hydrogen",
                           {"Authorization": "Bearer " + lines[0]})
        st2, _, _ = request(srv.port, "GET", "/api/v1/search?q=hydrogen")
        check(st == 200 and st2 == 401, "the new key opens search (%d), no key does not (%d)"
              % (st, st2))
    finally:
        check(srv.stop() == 0, "server stopped cleanly")


def gzip_and_ids(tmp, idx):
    log = os.path.join(tmp, "access.log")
    srv = Server(tmp, idx, "--access-log=" + log)
    try:
        path = "/api/v1/search?q=hydrogen&limit=20"
        st, h, plain = request(srv.port, "GET", path)
        st2, h2, packed = request(srv.port, "GET", path, {"Accept-Encoding": "gzip, br"})
        same = False
        try:
            a, b = json.loads(plain), json.loads(gzip.decompress(packed))
            same = [x["id"] for x in a["hits"]] == [x["id"] for x in b["hits"]]
        except (OSError, ValueError):
            pass
        check(st2 == 200 and h2.get("content-encoding") == "gzip" and same and
              len(packed) < len(plain) // 2, "search gzipped: %d -> %d bytes, same hits" %
              (len(plain), len(packed)))
        check("Accept-Encoding" in h2.get("vary", "") and "Accept-Encoding" in
              h.get("vary", ""), "Vary: Accept-Encoding on both")
        _, h3, _ = request(srv.port, "GET", path, {"Accept-Encoding": "gzip;q=0"})
        check("content-encoding" not in h3, "gzip;q=0 is not gzipped")
        _, h4, _ = request(srv.port, "GET", "/healthz", {"Accept-Encoding": "gzip"})
        check("content-encoding" not in h4, "a small answer is not gzipped")
        _, h5, js = request(srv.port, "GET", "/static/app.js", {"Accept-Encoding": "gzip"})
        check(h5.get("content-encoding") == "gzip" and b"function" in gzip.decompress(js),
              "the page's script is gzipped")
        doc_url = json.loads(plain)["hits"][0]["url"]
        _, h6, _ = request(srv.port, "GET", doc_url, {"Accept-Encoding": "gzip"})
        etag = h6.get("etag", "")
        st7, _, _ = request(srv.port, "GET", doc_url,
                            {"Accept-Encoding": "gzip", "If-None-Match": etag})
        check(etag.startswith('W/"') and st7 == 304,
              "gzipped document: weak ETag %s, 304 on it (%d)" % (etag, st7))
        # request ids
        _, h8, _ = request(srv.port, "GET", "/healthz", {"X-Request-Id": "trace-abc.123"})
        _, h9, _ = request(srv.port, "GET", "/healthz", {"X-Request-Id": "x" * 200})
        _, h10, _ = request(srv.port, "GET", "/healthz", {"X-Request-Id": "a b\"c"})
        check(h8.get("x-request-id") == "trace-abc.123", "a sane X-Request-Id is echoed")
        check(h9.get("x-request-id") not in (None, "x" * 200) and
              h10.get("x-request-id") not in (None, "a b\"c"),
              "an unsafe X-Request-Id is replaced: %r, %r" % (h9.get("x-request-id"),
                                                             h10.get("x-request-id")))
        time.sleep(0.3)
        with open(log) as f:
            ids = [json.loads(l)["id"] for l in f if l.strip()]
        check("trace-abc.123" in ids, "the access log has the client's request id")
    finally:
        check(srv.stop() == 0, "server stopped cleanly")


def resolve_pointer(doc, fragment):
    cur = doc
    for part in fragment.lstrip("/").split("/") if fragment else []:
        part = urllib.parse.unquote(part).replace("~1", "/").replace("~0", "~")
        cur = cur[int(part)] if isinstance(cur, list) else cur[part]
    return cur


def openapi_refs(tmp, idx):
    srv = Server(tmp, idx, "--access-log=")
    try:
        base = "http://127.0.0.1:%d" % srv.port
        docs = {}
        todo = [base + "/api/v1/openapi.json"]
        refs = 0
        bad = []
        while todo:
            url = todo.pop()
            if url in docs:
                continue
            st, _, body = request(srv.port, "GET", urllib.parse.urlsplit(url).path)
            if st != 200:
                bad.append("%s: %d" % (url, st))
                docs[url] = None
                continue
            docs[url] = json.loads(body)
            stack = [docs[url]]
            while stack:
                v = stack.pop()
                if isinstance(v, dict):
                    if isinstance(v.get("$ref"), str):
                        refs += 1
                        target, _, frag = urllib.parse.urljoin(url, v["$ref"]).partition("#")
                        todo.append(target)
                        v["__check"] = (target, frag)
                    stack.extend(x for k, x in v.items() if k != "__check")
                elif isinstance(v, list):
                    stack.extend(v)
        for url in list(docs):  # fragments resolve in the fetched documents
            stack = [docs[url]]
            while stack:
                v = stack.pop()
                if isinstance(v, dict):
                    if "__check" in v:
                        target, frag = v.pop("__check")
                        try:
                            resolve_pointer(docs[target], frag)
                        except (KeyError, IndexError, TypeError, ValueError):
                            bad.append("%s#%s" % (target, frag))
                    stack.extend(v.values())
                elif isinstance(v, list):
                    stack.extend(v)
        check(refs > 10 and not bad, "%d $refs over %d documents resolve over HTTP (%s)"
              % (refs, len(docs), bad[:3]))
        print("reliability: served OpenAPI: %d $refs in %d documents resolved over HTTP"
              % (refs, len(docs)), flush=True)
    finally:
        check(srv.stop() == 0, "server stopped cleanly")


def main():
    tmp = tempfile.mkdtemp(prefix="kb-misc-")
    try:
        idx = corpus_index(tmp)
        keys = os.path.join(tmp, "keys")
        with open(keys, "w") as f:
            f.write(keys_line(WRITE_KEY, "write") + "\n")
        feed(tmp, idx, keys)
        hidden_paths(tmp)
        usage_and_keys(tmp, idx)
        gzip_and_ids(tmp, idx)
        openapi_refs(tmp, idx)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
