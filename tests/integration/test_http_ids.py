# SPDX-License-Identifier: MIT
#
# test_http_ids.py - documents whose ids hold spaces, accents and URL delimiters (issue
# 14, defect 7), on an index of a temporary source folder made here (so the test does
# not depend on corpus/): "rapport été.txt", "notes/plan de charge.md" and
# "essai 50% #2 ?.txt". For each, the hit's url is percent-encoded ASCII, and that url,
# its /similar and /files/ answer 200 for the right document; the feed links the same
# encoded url; a raw id in a hand-typed URL (%20, %C3%A9) opens too, and a path that is
# not UTF-8 is a JSON 400.
import os
import shutil
import sys
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbtest  # noqa: E402
from kbtest import check  # noqa: E402
from httptest import Server, get_json, index_folder, request  # noqa: E402

FILES = {
    # dated in their text: the feed leaves out documents dated only by their file
    "rapport été.txt": "Date: 2025-06-02\n\nRapport d'été : l'électrolyseur zephyrine a tenu la charge "
                       "pendant tout l'essai, et la pile à combustible aussi.\n",
    "notes/plan de charge.md": "---\ndate: 2025-06-03\n---\n# Plan de charge\n\nLe plan de charge zephyrine des "
                               "bornes rapides pour les poids lourds à hydrogène.\n",
    "essai 50% #2 ?.txt": "Date: 2025-06-04\n\nEssai zephyrine numéro deux : cinquante pour cent de charge "
                          "sur le banc de la pile à combustible.\n",
}


def main():
    tmp = tempfile.mkdtemp(prefix="kb-ids-")
    srv = None
    try:
        src = os.path.join(tmp, "src")
        for name, text in FILES.items():
            path = os.path.join(src, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        idx = os.path.join(tmp, "index")
        code = index_folder(src, idx)
        check(code == 0, "indexed the folder: exit %d" % code)
        srv = Server(tmp, idx, "--source=" + src, "--access-log=")
        st, _, doc = get_json(srv.port, "/api/v1/search?q=zephyrine&limit=10")
        hits = {h["id"]: h for h in (doc or {}).get("hits", [])}
        check(st == 200 and set(hits) == set(FILES), "search finds the three: %r" %
              sorted(hits))
        for id_, h in sorted(hits.items()):
            url = h["url"]
            want = "/api/v1/documents/" + urllib.parse.quote(id_, safe="/")
            check(url == want, "hit.url of %r is percent-encoded: %s" % (id_, url))
            st, _, d = get_json(srv.port, want)
            check(st == 200 and d.get("id") == id_ and d.get("url") == want,
                  "GET %s: %d, id %r" % (url, st, (d or {}).get("id")))
            st, _, d = get_json(srv.port, want + "/similar")
            check(st == 200 and d.get("id") == id_, "GET %s/similar: %d" % (want, st))
            st, h2, body = request(srv.port, "GET", "/files/" + want.split("/", 4)[4])
            check(st == 200 and body.decode("utf-8") == FILES[id_],
                  "GET /files/ of %r: %d" % (id_, st))
        # hand-typed encodings of the same id (lower-case hex, '+' is not a space)
        st, _, d = get_json(srv.port, "/api/v1/documents/rapport%20%c3%a9t%c3%a9.txt")
        check(st == 200 and d.get("id") == "rapport été.txt", "lower-case escapes: %d" % st)
        st, _, d = get_json(srv.port, "/api/v1/documents/rapport+%C3%A9t%C3%A9.txt")
        check(st == 404, "'+' in a path is not a space: %d" % st)
        st, _, d = get_json(srv.port, "/api/v1/documents/rapport%20%E9t%E9.txt")
        check(st == 400 and d["error"]["code"] == "invalid_path",
              "Latin-1 escapes (not UTF-8): %d %s" % (st, d and d["error"]["code"]))
        st, _, d = get_json(srv.port, "/api/v1/documents/%20lead.txt")
        check(st == 400 and d["error"]["code"] == "invalid_id",
              "a segment starting with a space: %d" % st)
        # the feed links the encoded url
        st, _, body = request(srv.port, "GET", "/feed.atom?q=zephyrine")
        root = ET.fromstring(body)
        links = [e.get("href") for e in root.iter("{http://www.w3.org/2005/Atom}link")]
        check(st == 200 and all(" " not in l and l.isascii() for l in links) and
              "/api/v1/documents/rapport%20%C3%A9t%C3%A9.txt" in links,
              "feed links are encoded: %r" % links)
        print("reliability: ids with spaces, accents and delimiters: %d documents opened "
              "through hit.url, /similar and /files" % len(hits), flush=True)
    finally:
        if srv:
            check(srv.stop() == 0, "server stopped cleanly")
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
