# SPDX-License-Identifier: MIT
#
# test_revision_dates.py - three things a client relies on, run for real over a small
# folder: (1) the revision grows for the life of the index location, across --full (a
# new generation) and API writes, is in X-KB-Revision and in the body, and a
# --retry-failed run that changes nothing makes no new revision; (2) a file that still
# fails stays listed (report "failing", /api/v1/stats "failing") when later runs only
# skip it; (3) a .txt brief with a date line takes that date (date_source "text"), one
# without takes the file's time only as date_source "file": it sorts after the dated
# ones both ways, has no year facet and is left out of the feed.
import json
import os
import shutil
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbtest  # noqa: E402
from kbtest import BIN, SRC, check, stop_server  # noqa: E402

ENV = dict(os.environ, KB_DATA_DIR=os.path.join(SRC, "schemas"))
WKEY = "revision-test-writer-key-0123456789"


def index(tmp, *args):
    code, rep, _ = kbtest.index_json(os.path.join(tmp, "idx"), os.path.join(tmp, "src"),
                                     *args, env=ENV, timeout=120)
    return code, rep


def get(port, path, method="GET", body=None, key=None):
    return kbtest.http(port, method, path, body, key)


def get_json(port, path, **kw):
    st, h, body = get(port, path, **kw)
    return st, h, json.loads(body)


def main():
    tmp = tempfile.mkdtemp(prefix="kb-revdates-")
    server = None
    try:
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        with open(os.path.join(src, "dated-it.txt"), "w", encoding="utf-8") as f:
            f.write("Batterie quasaric per autobus\nData: 3 aprile 2024\n\n"
                    "Le celle quasaric sono provate su un autobus urbano.\n")
        with open(os.path.join(src, "dated-en.txt"), "w", encoding="utf-8") as f:
            f.write("May 1, 2022\nQuasaric cells on city buses\n\n"
                    "The quasaric cells were tried on a city bus for a winter.\n")
        with open(os.path.join(src, "undated.txt"), "w", encoding="utf-8") as f:
            f.write("Quasaric cells: open questions\n\nThe quasaric cells still raise "
                    "questions about their cost and their life.\n")
        with open(os.path.join(src, "broken.html"), "wb") as f:
            f.write(bytes(range(256)) * 8)  # binary content under an .html name

        # (2) failures stay visible
        code, r1 = index(tmp)
        check(code == 1 and r1.get("failed") == 1, "first run: 1 failure, exit 1 (%d)" % code)
        check([x["path"] for x in r1.get("failing", [])] == ["broken.html"]
              and r1.get("failing_count") == 1, "first run lists broken.html as failing")
        code, r2 = index(tmp)
        check(r2.get("failures") == [] and r2.get("skipped_failed") == 1,
              "second run skips the remembered failure: %s" % r2.get("failures"))
        check([x["path"] for x in r2.get("failing", [])] == ["broken.html"]
              and r2.get("failing_count") == 1 and r2["failing"][0]["reason"],
              "second run still lists broken.html with its reason: %s" % r2.get("failing"))
        check(r2.get("revision") == r1.get("revision"), "a run that only skips: same revision")
        code, r3 = index(tmp, "--retry-failed")
        check(r3.get("failed") == 1 and r3.get("revision") == r1.get("revision"),
              "--retry-failed that fails the same way: no new revision (%s -> %s)"
              % (r1.get("revision"), r3.get("revision")))

        keys = kbtest.write_keys(os.path.join(tmp, "keys"), (WKEY, "write,members"))
        server, port = kbtest.start_kb_server(os.path.join(tmp, "idx"),
                                              os.path.join(tmp, "port"),
                                              os.path.join(tmp, "server.log"),
                                              "--keys-file=" + keys, "--access-log=", env=ENV,
                                              required=False)
        check(port is not None, "kb-server started")
        if port is None:
            return

        # the failing paths may name member-only files: members see them, nobody else
        st, _, stats = get_json(port, "/api/v1/stats")
        check("failing" not in stats, "anonymous /api/v1/stats names no failing file")
        st, _, stats = get_json(port, "/api/v1/stats", key=WKEY)
        failing = stats.get("failing", {})
        check(failing.get("count") == 1 and [x.get("path") for x in failing.get("files", [])]
              == ["broken.html"], "/api/v1/stats lists the file that still fails: %s" % failing)

        # (3) dates
        st, _, o = get_json(port, "/api/v1/search?q=quasaric&snippets=false&facets=year")
        by_id = {h["id"]: h for h in o.get("hits", [])}
        check(by_id.get("dated-it.txt", {}).get("date") == "2024-04-03"
              and by_id["dated-it.txt"].get("date_source") == "text",
              "Data: 3 aprile 2024 -> 2024-04-03 from the text")
        check(by_id.get("dated-en.txt", {}).get("date") == "2022-05-01"
              and by_id["dated-en.txt"].get("date_source") == "text"
              and by_id["dated-en.txt"].get("title") == "Quasaric cells on city buses",
              "a dated first line (May 1, 2022) is the date, the next line the title")
        check(by_id.get("undated.txt", {}).get("date_source") == "file",
              "no date in the text: date_source file")
        years = {f["value"]: f["count"] for f in o.get("facets", {}).get("year", [])}
        check(years == {"2024": 1, "2022": 1}, "the year facet ignores file times: %s" % years)
        for sort, first in (("newest", "dated-it.txt"), ("oldest", "dated-en.txt")):
            st, _, o = get_json(port, "/api/v1/search?q=quasaric&snippets=false&sort=" + sort)
            ids = [h["id"] for h in o.get("hits", [])]
            check(ids == [first, [i for i in ("dated-it.txt", "dated-en.txt") if i != first][0],
                          "undated.txt"], "sort=%s: dated first, undated last: %s" % (sort, ids))
        st, _, o = get_json(port, "/api/v1/search?q=quasaric&snippets=false&from=2000")
        check([h["id"] for h in o.get("hits", [])].count("undated.txt") == 0,
              "a date range leaves out the document dated by its file")
        st, h, feed = get(port, "/feed.atom?q=quasaric")
        root = ET.fromstring(feed)
        entries = root.findall("{http://www.w3.org/2005/Atom}entry")
        ids = [e.find("{http://www.w3.org/2005/Atom}id").text for e in entries]
        check(len(ids) == 2 and not any("undated" in i for i in ids),
              "the feed leaves out the document dated by its file: %s" % ids)

        # (1) revision across generations and writes
        st, h, o = get_json(port, "/api/v1/search?q=quasaric&size=1")
        rev0 = o.get("revision")
        check(h.get("X-KB-Revision") == str(rev0), "X-KB-Revision %s = body revision %s"
              % (h.get("X-KB-Revision"), rev0))
        revs = [rev0]
        for i in range(2):
            code, rf = index(tmp, "--full")
            check(rf.get("revision", 0) > revs[-1], "--full #%d: report revision %s > %s"
                  % (i + 1, rf.get("revision"), revs[-1]))
            seen = None
            for _ in range(100):  # the server notices the new stub on its next request
                st, h, o = get_json(port, "/api/v1/search?q=quasaric&size=1")
                seen = o.get("revision")
                if seen == rf.get("revision"):
                    break
                time.sleep(0.05)
            check(seen == rf.get("revision") and h.get("X-KB-Revision") == str(seen),
                  "the server reads revision %s after --full #%d" % (seen, i + 1))
            revs.append(seen or 0)
        st, _, w = get_json(port, "/api/v1/documents/api/quasar-note", method="PUT",
                            body={"title": "Quasaric note", "body": "A quasaric note.",
                                  "lang": "en", "date": "2025-01-02"}, key=WKEY)
        check(st == 200 and w.get("revision", 0) > revs[-1],
              "an API write makes a higher revision: %s > %s" % (w.get("revision"), revs[-1]))
        st, h, o = get_json(port, "/api/v1/documents/nothing-here")
        check(st == 404 and o.get("error", {}).get("revision", 0) >= w.get("revision", 1)
              and h.get("X-KB-Revision") == str(o["error"].get("revision")),
              "an error that read the index carries the revision: %s" % o)
        st, h, o = get_json(port, "/api/v1/suggest?q=quasa")
        check(o.get("revision") == w.get("revision"), "suggest carries the revision: %s"
              % o.get("revision"))
    finally:
        stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    sys.exit(kbtest.finish())
