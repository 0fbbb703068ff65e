#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_shards_remote.py - an index in three shards, each indexed on its own by
kb-indexer and served by a stock xapian-tcpsrv on 127.0.0.1, read by kb-server through
a stub file of `remote` lines, against kb-server on one local index of the same files
(the reference, also the lexicon: spelling, synonyms, metadata, revision).

- The same answers: hits (id and score; equal scores compared as sets), totals, facet
  counts, sorting, collapsed duplicates (copies of a file put in every shard, which
  Xapian's own collapse counts get wrong over remote shards), did-you-mean, wildcards,
  suggest, similar documents, the Atom feed. The shards hold disjoint documents, so the
  statistics Xapian combines from them equal the reference's.
- A shard that hangs (SIGSTOP) or is killed gets the configured answer within
  shard_timeout: 503 naming it, or (partial_results) results with "partial": true and
  the shard in "missing_shards"; back on its port, the server answers in full again by
  itself, also after xapian-tcpsrv dropped its idle connections.
- The server is read-only: API writes get 405, nothing is written beside the stub.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import kbtest
from kbtest import check

DATA = os.environ.get("KB_DATA_DIR", os.path.join(kbtest.SRC, "schemas"))
TIMEOUT = 2.0  # shard_timeout of the servers under test (seconds)
PARTS = 3
QUERIES = ["hydrogen", "batterie", "celle a combustibile", "pile à combustible 700 bar",
           "inverter SiC", "title:hydrogen", "lang:it idrogeno", "moteur -diesel",
           "motor", "hydro*", "hydrogne", "battery electric vehicle"]
VARIANTS = ["&facets=true", "&collapse=true&facets=true", "&sort=newest",
            "&sort=oldest", "&snippets=true"]


def start_server(tmp, name, index, *extra):
    return kbtest.start_kb_server(index, os.path.join(tmp, name + ".port"),
                                  os.path.join(tmp, name + ".log"), "--access-log=",
                                  "--workers=2", *extra,
                                  env=dict(os.environ, KB_DATA_DIR=DATA))


WKEY = "shards-writer-key-0123456789"


def request(port, path, method="GET", body=None, timeout=60):
    st, _, raw = kbtest.http(port, method, path, body, None if method == "GET" else WKEY,
                             {"Content-Type": "application/json"}, timeout)
    return st, raw


def get(port, path):
    st, raw = request(port, path)
    try:
        return st, json.loads(raw)
    except ValueError:
        return st, raw.decode("utf-8", "replace")


SNIPPETS = {}  # (port, id, query) -> snippet, compared apart (see below)


def norm_hit(h, port=None, q=None, collapsed=False):
    """A hit with its score to 12 significant digits: the remote matcher adds the
    same weights in another order, which may change the last bit of a sum (seen:
    10.851743427594018 locally, 10.85174342759402 through the shards). Its snippet is
    compared apart (SNIPPETS): its window is chosen by each word's idf over all the
    shards (XAP_SNIP_IDF); with the match's own weights, bounded from each shard's
    statistics, 0.7 % of them took another window. Of a group of identical
    copies (collapsed, same score) Xapian shows the one with the lowest docid, and the
    docid order of interleaved shards is not that of one database: the copy's name is
    compared as "-copy*"."""
    h = dict(h)
    if collapsed or h.get("duplicates"):  # identical copies, equal scores: the one that
        for k in ("id", "source", "url"):  # stands for them follows the docid order
            if isinstance(h.get(k), str):
                h[k] = re.sub(r"-copy\d+\.", "-copy*.", h[k])
    if "score" in h:
        h["score"] = float("%.12g" % h["score"])
    for k in ("snippet", "title_highlight"):
        if k in h:
            SNIPPETS[(port, h.get("id"), q, k)] = h.pop(k)
    return h


def norm_search(b, port=None, q=None):
    """A search answer without what may differ by nature (time taken, the revision),
    its hits as groups of equal score (order within a group is Xapian's docid order,
    which differs between a single database and interleaved shards)."""
    if not isinstance(b, dict):
        return b
    b = dict(b)
    b.pop("took_ms", None)
    b.pop("revision", None)
    groups, hits = [], [norm_hit(h, port, q) for h in b.pop("hits", [])]
    for h in hits:
        key = h.get("score", 0)
        if not groups or groups[-1][0] != key:
            groups.append((key, []))
        groups[-1][1].append(json.dumps(h, sort_keys=True))
    b["hits"] = [(k, sorted(v)) for k, v in groups]
    return b


def search_answers(port):
    out = {}
    for q in QUERIES:
        for v in VARIANTS:
            st, b = get(port, "/api/v1/search?size=20&q=%s%s" % (urllib.parse.quote(q), v))
            out[q + v] = (st, norm_search(b, port, q + v))
    return out


def other_answers(port, ids):
    out = {}
    for q in ["hyd", "batt", "moteur el", "idro"]:
        st, b = get(port, "/api/v1/suggest?q=" + urllib.parse.quote(q))
        if isinstance(b, dict):
            b.pop("took_ms", None)
            b.pop("revision", None)
        if isinstance(b, dict) and "titles" in b:  # ranked by a title match: many ties,
            b["titles"] = sorted(json.dumps(t, sort_keys=True) for t in b["titles"])
        out["suggest " + q] = (st, b)  # which come in docid order (as for the feed)
    for i in ids:
        st, b = get(port, "/api/v1/documents/%s/similar" % urllib.parse.quote(i, safe=""))
        if isinstance(b, dict):
            b.pop("took_ms", None)
            b.pop("revision", None)
            b["hits"] = sorted(json.dumps(norm_hit(h, collapsed=True), sort_keys=True)
                               for h in b.get("hits", []))
        out["similar " + i] = (st, b)
        out["document " + i] = get(port, "/api/v1/documents/" + urllib.parse.quote(i, safe=""))
    for q in ["", "hydrogen"]:
        st, raw = request(port, "/feed.atom?q=" + urllib.parse.quote(q))
        out["feed " + q] = (st, norm_feed(raw))
    st, b = get(port, "/api/v1/stats")
    if isinstance(b, dict):
        b = {k: b.get(k) for k in ("documents", "languages", "last_run")}
    out["stats"] = (st, b)
    return out


def norm_feed(raw):
    """The feed's entries, newest first; those dated as the last one kept as a set: the
    feed is cut at its size, and documents of the same date come in Xapian's docid order
    (the date sorts, nothing else: a tie-breaking key maker cannot run on a stock
    xapian-tcpsrv), which differs between one database and interleaved shards."""
    text = raw.decode("utf-8", "replace")
    entries = re.findall(r"<entry>(.*?)</entry>", text, re.S)
    head = re.sub(r"<entry>.*</entry>", "", text, flags=re.S)
    dated = [(re.search(r"<updated>(.*?)</updated>", e).group(1), e) for e in entries]
    last = dated[-1][0] if dated else None
    return (head, len(entries), [e for d, e in dated if d != last],
            sorted(e for d, e in dated if d == last) if len(dated) < 20 else last)


def differ(a, b):
    return sorted(k for k in a if a[k] != b.get(k))


def split_corpus(tmp):
    """corpus/ split into PARTS folders (round robin, each file under its own relative
    path: ids stay distinct), plus copies of two files in every part (duplicates whose
    collapse spans every shard)."""
    files = []
    src = os.path.join(kbtest.SRC, "corpus")
    for d, _dirs, names in os.walk(src):
        for n in names:
            files.append(os.path.relpath(os.path.join(d, n), src))
    files.sort()
    parts = [os.path.join(tmp, "src", "part%d" % k) for k in range(PARTS)]
    for i, rel in enumerate(files):
        dst = os.path.join(parts[i % PARTS], rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy(os.path.join(src, rel), dst)
    dups = [f for f in files if f.endswith(".md") and "hydrogen" in f][:2]
    for rel in dups:
        base, ext = os.path.splitext(rel)
        for k in range(PARTS):
            dst = os.path.join(parts[k], "%s-copy%d%s" % (base, k, ext))
            shutil.copy(os.path.join(src, rel), dst)
    return parts, files


def index(where, sources):
    r = subprocess.run([kbtest.INDEXER, "--index=" + where, "--quiet"] + sources,
                       env=dict(os.environ, KB_DATA_DIR=DATA), timeout=600)
    check(r.returncode == 0, "indexed %s (exit %d)" % (os.path.basename(where),
                                                       r.returncode))


def wait_full(port, ref, what, seconds=20):
    """Polls until the server answers hydrogen as the reference does, 6 times in a row
    (each worker thread has its own handles)."""
    end = time.monotonic() + seconds
    last, good = None, 0
    while time.monotonic() < end:
        st, b = get(port, "/api/v1/search?size=20&facets=true&q=hydrogen")
        last = (st, b if st != 200 else b.get("partial"))
        good = good + 1 if st == 200 and norm_search(b) == ref else 0
        if good >= 6:
            return True
        time.sleep(0.1)
    check(False, "%s: never answered in full again (last: %s)" % (what, last))
    return False


def main():
    if kbtest.missing_xapian_tools(kbtest.TCPSRV):
        return 1
    tmp = tempfile.mkdtemp(prefix="kb-shards-")
    procs, shards = [], []
    try:
        parts, files = split_corpus(tmp)
        ref_index = os.path.join(tmp, "ref")
        index(ref_index, parts)
        shard_dirs = [os.path.join(tmp, "shard%d" % k) for k in range(PARTS)]
        for k in range(PARTS):
            index(shard_dirs[k], [parts[k]])
        for k in range(PARTS):  # idle connections are dropped after 1.5 s
            shards.append(kbtest.start_tcpsrv(shard_dirs[k],
                                              os.path.join(tmp, "tcpsrv%d.log" % k),
                                              idle_timeout_ms=1500))
        stubdir = os.path.join(tmp, "replica")
        os.makedirs(stubdir)
        stub = kbtest.write_stub(os.path.join(stubdir, "shards.stub"),
                                 [kbtest.remote_line(s.port) for s in shards])
        before = sorted(os.listdir(stubdir))
        common = ["--lexicon=" + ref_index, "--shard-timeout=%g" % TIMEOUT]
        keys = kbtest.write_keys(os.path.join(tmp, "keys"), (WKEY, "write"))
        common.append("--keys-file=" + keys)
        ref, rport = start_server(tmp, "ref", ref_index, "--analytics-file=off")
        procs.append(ref)
        full, fport = start_server(tmp, "remote", stub, *common)
        procs.append(full)
        part, pport = start_server(tmp, "partial", stub, "--partial-results=true", *common)
        procs.append(part)

        # --- the same answers -------------------------------------------------------
        a, b = search_answers(rport), search_answers(fport)
        st, h = a["hydrogen&facets=true"]
        check(st == 200 and h.get("total", 0) > 5 and h.get("facets"),
              "the reference finds documents with facets (hydrogen: %s)" % h.get("total"))
        d = differ(a, b)
        check(not d, "through 3 remote shards, %d searches answer as the local index%s" % (
            len(a), (": differ " + str(d[:6])) if d else ""))
        for q in d[:3]:
            print("  ref:   ", json.dumps(a[q])[:600])
            print("  remote:", json.dumps(b[q])[:600])
        keys = [k for k in SNIPPETS if k[0] == rport]
        same = sum(1 for k in keys if SNIPPETS.get((fport,) + k[1:]) == SNIPPETS[k])
        check(keys and same == len(keys), "snippets and title highlights: %d of %d the "
              "same" % (same, len(keys)))
        dup = [h2 for _k, g in a["hydrogen&collapse=true&facets=true"][1]["hits"]
               for h2 in g if '"duplicates"' in h2]
        coll = [a[k][1] for k in a if "collapse" in k and a[k][0] == 200]
        ndup = sum(1 for r in coll for _k, g in r["hits"] for h2 in g
                   if '"duplicates": %d' % PARTS in h2)
        check(ndup > 0, "collapsed copies in every shard are compared (%d hits with "
              "duplicates=%d; %s)" % (ndup, PARTS, len(dup)))
        sug = a["hydrogne&facets=true"][1].get("suggestion")
        check(sug and b["hydrogne&facets=true"][1].get("suggestion") == sug,
              "did-you-mean through the lexicon: %r" % sug)
        ids = [json.loads(g[1][0])["id"] for g in a["hydrogen&facets=true"][1]["hits"][:3]]
        oa, ob = other_answers(rport, ids), other_answers(fport, ids)
        # Similar documents: the expand set takes exact term frequencies over the
        # shards (USE_EXACT_TERMFREQ); without them Xapian estimates each term's
        # frequency from the shard holding the document, and the lists differed.
        sim = [k for k in oa if k.startswith("similar ")]
        check(sim and all(oa[k][0] == 200 and len(oa[k][1].get("hits", [])) >= 3
                          for k in sim),
              "the reference answers similar documents (%d ids)" % len(sim))
        d = differ(oa, ob)
        check(oa["suggest hyd"][0] == 200 and oa["feed "][0] == 200,
              "the reference answers suggest and the feed")
        check(not d, "suggest, similar documents, documents, feed and stats answer as "
              "the local index%s" % ((": differ " + str(d)) if d else ""))
        for k in d[:3]:
            if k.startswith("similar ") and isinstance(ob[k][1], dict):
                ha, hb = set(oa[k][1].get("hits", [])), set(ob[k][1].get("hits", []))
                print("  only ref:   ", [h[:200] for h in ha - hb])
                print("  only remote:", [h[:200] for h in hb - ha])
            print("  ref:   ", str(oa[k])[:600])
            print("  remote:", str(ob[k])[:600])
        st, b2 = get(fport, "/api/v1/search?q=hydrogen")
        st, r2 = get(rport, "/api/v1/search?q=hydrogen")
        check(b2.get("revision") and b2.get("revision") == r2.get("revision"),
              "the revision is the lexicon's (%s, local %s)" % (b2.get("revision"),
                                                               r2.get("revision")))
        ref_hyd = a["hydrogen&facets=true"][1]

        # --- idle connections dropped by xapian-tcpsrv ---------------------------------
        time.sleep(2.5)
        st, b3 = get(fport, "/api/v1/search?size=20&facets=true&q=hydrogen")
        check(st == 200 and norm_search(b3) == ref_hyd,
              "after xapian-tcpsrv dropped the idle connections: the same answer at once "
              "(%d)" % st)

        # --- a shard that hangs ---------------------------------------------------------
        victim = shards[1]
        name = "127.0.0.1:%d" % victim.port
        kbtest.pause_xapian(victim)
        t0 = time.monotonic()
        st, body = get(fport, "/api/v1/search?q=hydrogen")
        took = time.monotonic() - t0
        msg = body.get("error", {}).get("message", "") if isinstance(body, dict) else ""
        check(st == 503 and name in msg,
              "a hung shard: 503 naming it (%d, %s)" % (st, msg))
        check(took < TIMEOUT + 1.5, "... within shard_timeout (%.1f s)" % took)
        t0 = time.monotonic()
        st, body = get(pport, "/api/v1/search?size=20&facets=true&q=hydrogen")
        took = time.monotonic() - t0
        check(st == 200 and body.get("partial") is True and
              body.get("missing_shards") == [name] and
              0 < body.get("total", 0) < ref_hyd["total"],
              "partial_results: a hung shard left out, named (%d, %s, %s, total %s of %s)"
              % (st, body.get("partial"), body.get("missing_shards"), body.get("total"),
                 ref_hyd["total"]))
        check(took < TIMEOUT + 1.5, "... within shard_timeout (%.1f s)" % took)
        t0 = time.monotonic()
        for _ in range(3):
            get(pport, "/api/v1/search?q=hydrogen")
        check(time.monotonic() - t0 < 3 * TIMEOUT + 1,
              "later requests do not each wait for the hung shard (%.1f s for 3)" %
              (time.monotonic() - t0))
        kbtest.pause_xapian(victim, False)
        wait_full(fport, ref_hyd, "the hung shard resumed (503 mode)")
        wait_full(pport, ref_hyd, "the hung shard resumed (partial mode)")
        check(True, "a resumed shard is used again by itself")

        # --- a shard killed, then restarted ---------------------------------------------
        victim = shards[2]
        name = "127.0.0.1:%d" % victim.port
        kbtest.stop_xapian(victim, signal.SIGKILL)
        t0 = time.monotonic()
        st, body = get(fport, "/api/v1/search?q=hydrogen")
        msg = body.get("error", {}).get("message", "") if isinstance(body, dict) else ""
        check(st == 503 and name in msg and time.monotonic() - t0 < TIMEOUT + 1.5,
              "a killed shard: 503 naming it at once (%d, %s, %.1f s)" % (
                  st, msg, time.monotonic() - t0))
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v1/search?size=20&facets="
                                    "true&q=hydrogen" % pport, timeout=10) as r:
            st, body, shdr = r.status, json.loads(r.read()), r.headers.get(
                "X-KB-Missing-Shards")
        check(st == 200 and body.get("partial") is True and name in (shdr or "").split(", ") and
              name in (body.get("missing_shards") or []),
              "partial_results: the killed shard named (%d, %s)" %
              (st, body.get("missing_shards")))
        # (a worker may still count the hung shard above out until its retry is due:
        # the killed one must be named, maybe beside it)
        # every other door says so too: similar documents, suggest (JSON), the feed (a
        # header: Atom has no field for it)
        sims = [get(pport, "/api/v1/documents/%s/similar" % urllib.parse.quote(i, safe=""))
                for i in ids]
        ok = [b for st2, b in sims if st2 == 200]
        check(ok and all(b.get("partial") is True and name in (b.get("missing_shards") or [])
                         for b in ok),
              "partial_results: similar documents flagged (%d answers, %s)" %
              (len(ok), [b.get("missing_shards") for b in ok]))
        st, body = get(pport, "/api/v1/suggest?q=hydro")
        check(st == 200 and body.get("partial") is True and
              name in (body.get("missing_shards") or []),
              "partial_results: suggest flagged (%d, %s)" % (st, body.get("missing_shards")
                                                             if isinstance(body, dict)
                                                             else body))
        with urllib.request.urlopen("http://127.0.0.1:%d/feed.atom?q=hydrogen" % pport,
                                    timeout=10) as r:
            fst, fhdr = r.status, r.headers.get("X-KB-Missing-Shards")
        check(fst == 200 and name in (fhdr or "").split(", "),
              "partial_results: the feed names the shard in X-KB-Missing-Shards (%d, %s)"
              % (fst, fhdr))
        shards[2] = kbtest.start_tcpsrv(shard_dirs[2], os.path.join(tmp, "tcpsrv2.log"),
                                        idle_timeout_ms=1500, port=victim.port)
        if wait_full(fport, ref_hyd, "the killed shard restarted (503 mode)") and \
                wait_full(pport, ref_hyd, "the killed shard restarted (partial mode)"):
            d = differ(a, search_answers(fport))
            check(not d, "after the restart, every search answers as the local index%s"
                  % ((": differ " + str(d[:6])) if d else ""))
            st, body = get(pport, "/api/v1/suggest?q=hydro")
            check(st == 200 and "partial" not in body and body.get("completions"),
                  "a partial suggest answer was not cached: whole again (%s)" %
                  body.get("partial"))

        # --- read-only ------------------------------------------------------------------
        st, body = get(fport, "/api/v1/stats")
        st, raw = request(fport, "/api/v1/documents/new-doc", "PUT",
                          json.dumps({"title": "x", "body": "y"}).encode())
        check(st == 405 and b"read_only" in raw,
              "an API write on the replica: 405 read_only (%d, %s)" % (st, raw[:120]))
        after = sorted(os.listdir(stubdir))
        check(after == before, "nothing written beside the stub (%s)" % after)
        made = [p for k in range(PARTS) for p in os.listdir(shard_dirs[k])
                if p.startswith("api") or p.startswith("analytics")]
        check(not made, "nothing written in the shards (%s)" % made)
    finally:
        for p in procs:
            kbtest.stop_server(p)
        for s in shards:
            try:
                os.killpg(s.pid, signal.SIGCONT)
            except (ProcessLookupError, AttributeError):
                pass
            kbtest.stop_xapian(s)
        kbtest.remove_unless_failed(tmp)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
