# SPDX-License-Identifier: MIT
#
# test_load.py - kb-server under load, over loopback only (issue 14, "Load and soak"):
#   (a) 1,000 connections open at once, each sending a mix of searches, suggestions,
#       document reads and API writes on its kept-alive connection: zero errors; the
#       server's RSS with the 1,000 connections open is printed and held under 100 MB;
#   (b) 2,000 slow connections (a header line now and then, never a whole request) held
#       open at the same time, while a normal client asks for /api/v1/search on new
#       connections with a 1 s client time-out: it must be answered (a few misses are
#       tolerated on a loaded 2-core machine; before the fix, none was answered);
#   (c) with KB_SOAK=1 only: a 10-minute soak (KB_SOAK_SECONDS to change it) in rounds
#       of 1,000 connections of the same mix: the idle RSS sampled after each round is
#       flat after the first two minutes (growth under 10 MB), and the peak RSS stays
#       under 100 MB.
# Connections come from many loopback source addresses (127.0.x.y), as many clients
# would, so that the per-address limit (128 by default) is not what is measured.
# Prints "reliability: <test>: <figure>" lines for docs/reliability.md.
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbtest  # noqa: E402
from kbtest import SERVER, check  # noqa: E402
from httptest import Server, corpus_index, get_json, raise_nofile, source_addresses  # noqa: E402

KEY = "load-write-key-0123456789abcdef"
# Under AddressSanitizer the server's memory is mostly the sanitizer's: figures printed,
# memory bounds not checked.
SANITIZED = bool(os.environ.get("ASAN_OPTIONS"))
QUERIES = ["hydrogen", "pile à combustible", "batterie", "idrogeno", "fuel cell truck",
           "800 V", "e-fuels", "PHEV", "recharge bidirectionnelle", "sodium-ion"]
PREFIXES = ["hydr", "batt", "pil", "idro", "elec", "moteur", "cel"]


async def http(reader, writer, method, path, body=None, headers=None):
    """One request on an open connection; returns (status, body bytes)."""
    head = "%s %s HTTP/1.1\r\nHost: kb\r\n" % (method, path)
    for k, v in (headers or {}).items():
        head += "%s: %s\r\n" % (k, v)
    if body is not None:
        head += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    writer.write(head.encode() + b"\r\n" + (body or b""))
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        k, _, v = line.decode("latin-1").partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    data = await reader.readexactly(length) if length and method != "HEAD" else b""
    parts = status_line.split()
    return (int(parts[1]) if len(parts) > 1 else 0), data


class Mix:
    """The request mix: searches, suggestions, document reads, writes (3 %)."""

    def __init__(self, doc_urls):
        self.doc_urls = doc_urls
        self.n = 0

    def next(self, rnd):
        self.n += 1
        r = rnd.random()
        if r < 0.45:
            q = rnd.choice(QUERIES).replace(" ", "%20").replace("à", "%C3%A0")
            return "GET", "/api/v1/search?q=%s&facets=%s" % (q, rnd.choice(["true", "false"])), None
        if r < 0.70:
            return "GET", "/api/v1/suggest?q=" + rnd.choice(PREFIXES), None
        if r < 0.97:
            return "GET", rnd.choice(self.doc_urls), None
        doc = {"title": "Load note %d" % self.n, "lang": "en",
               "body": "A note written under load about hydrogen fuel cells, %d." % self.n}
        return "PUT", "/api/v1/documents/api/load-%d" % (self.n % 50), json.dumps(doc).encode()


async def client(port, source, n_requests, mix, rnd, results, opened, go):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port,
                                                       local_addr=(source, 0))
    except OSError as e:
        results["errors"].append("connect: %r" % e)
        opened.append(False)
        return
    opened.append(True)
    await go.wait()
    try:
        for _ in range(n_requests):
            method, path, body = mix.next(rnd)
            headers = {"Authorization": "Bearer " + KEY} if method == "PUT" else None
            st, data = await asyncio.wait_for(http(reader, writer, method, path, body,
                                                   headers), 120)
            ok = st in ((200, 202) if method == "PUT" else (200,))
            if ok and method == "GET":
                try:
                    json.loads(data)
                except ValueError:
                    ok = False
            if ok:
                results["ok"] += 1
            else:
                results["errors"].append("%s %s: %d %s" % (method, path, st, data[:120]))
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as e:
        results["errors"].append("%r" % e)
    finally:
        writer.close()


async def concurrent(srv, doc_urls, conns, n_requests, seed=1):
    """conns connections open at once, then n_requests each; returns results and RSS."""
    rnd = random.Random(seed)
    mix = Mix(doc_urls)
    results = {"ok": 0, "errors": []}
    opened = []
    go = asyncio.Event()
    sources = source_addresses(conns // 50 + 1)
    tasks = [asyncio.ensure_future(client(srv.port, sources[i // 50], n_requests, mix,
                                          rnd, results, opened, go))
             for i in range(conns)]
    t_open = time.time()
    while len(opened) < conns:
        await asyncio.sleep(0.05)
    results["open_s"] = time.time() - t_open
    await asyncio.sleep(0.5)
    go.set()
    await asyncio.sleep(1)
    rss_open = srv.status("VmRSS")
    await asyncio.gather(*tasks)
    return results, sum(opened), max(rss_open, srv.status("VmRSS"))


async def slow_and_normal(srv, n_slow, attempts):
    """n_slow trickling connections, and a normal client with a 1 s time-out."""
    slow = []
    sources = source_addresses(n_slow // 100 + 1, start=300)
    for i in range(n_slow):
        try:
            r, w = await asyncio.open_connection("127.0.0.1", srv.port,
                                                 local_addr=(sources[i // 100], 0))
            w.write(b"GET /api/v1/search?q=hydrogen HTTP/1.1\r\nHost: kb\r\n")
            slow.append((r, w))
        except OSError:
            pass
    stop = asyncio.Event()

    async def trickle():
        k = 0
        while not stop.is_set():
            for _, w in slow:
                try:
                    w.write(b"X-Trickle-%d: 1\r\n" % k)
                except (OSError, RuntimeError):
                    pass
            k += 1
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except asyncio.TimeoutError:
                pass

    t = asyncio.ensure_future(trickle())
    await asyncio.sleep(1.0)
    answered = 0
    worst = 0.0
    for i in range(attempts):
        t0 = time.time()
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", srv.port), 1.0)
            st, _ = await asyncio.wait_for(http(r, w, "GET", "/api/v1/search?q=hydrogen"),
                                           max(0.05, 1.0 - (time.time() - t0)))
            w.close()
            if st == 200:
                answered += 1
                worst = max(worst, time.time() - t0)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            pass
        await asyncio.sleep(0.2)
    stop.set()
    await t
    still_open = 0
    for r, w in slow:
        still_open += not r.at_eof()
        w.close()
    return len(slow), answered, worst


def soak(srv, doc_urls, seconds):
    """Rounds of 1,000 connections of the mix. After each round, once its connections are
    closed, the idle RSS is sampled: a leak shows as a rising idle RSS. The peak RSS
    (VmHWM) covers the rounds at 1,000 connections."""
    samples = []
    t0 = time.time()
    errors = 0
    done = 0
    rnd_seed = 10
    first_errors = []
    while time.time() - t0 < seconds:
        results, _, _ = asyncio.run(concurrent(srv, doc_urls, 1000, 5, seed=rnd_seed))
        rnd_seed += 1
        errors += len(results["errors"])
        first_errors += results["errors"][:3 - len(first_errors)]
        done += results["ok"]
        time.sleep(2)
        samples.append((time.time() - t0, srv.status("VmRSS")))
    warm = [r for t, r in samples if t >= 120] or [r for _, r in samples]
    growth = (max(warm) - warm[0]) // 1024
    peak = srv.status("VmHWM") // 1024
    check(errors == 0, "soak: %d requests, %d errors %s" % (done, errors, first_errors))
    check(growth < 10, "soak: idle RSS after warm-up %s MB: growth %d MB (bound 10)" %
          ([r // 1024 for r in warm], growth))
    check(SANITIZED or peak < 100, "soak: peak RSS %d MB at 1,000 connections (bound 100)"
          % peak)
    print("reliability: soak %d s: %d requests in rounds of 1,000 connections, %d errors, "
          "idle RSS %d MB after warm-up, growth %d MB, peak RSS %d MB" %
          (seconds, done, errors, warm[0] // 1024, growth, peak), flush=True)


def main():
    nofile = raise_nofile(16384)
    check(nofile >= 4096, "open-file limit for the test: %d" % nofile)
    tmp = tempfile.mkdtemp(prefix="kb-load-")
    srv = None
    try:
        idx = corpus_index(tmp)
        keys = os.path.join(tmp, "keys")
        line = subprocess.run([SERVER, "--hash-key=" + KEY, "--scopes=write"],
                              capture_output=True, text=True, check=True).stdout
        with open(keys, "w") as f:
            f.write(line)
        # request_seconds=60: the connections wait for each other to open before their
        # first request, and on a loaded machine (the ASan suite beside) opening 1,000
        # took long enough for the first ones to pass the 20 s default as idle
        # connections, which the server rightly closes (2 of 3,000 requests lost)
        srv = Server(tmp, idx, "--keys-file=" + keys, "--access-log=", "--workers=4",
                     "--request-seconds=60")
        st, _, doc = get_json(srv.port, "/api/v1/search?q=hydrogen&limit=30")
        doc_urls = [h["url"] for h in doc["hits"]]
        check(st == 200 and len(doc_urls) >= 10, "document urls for the mix: %d" %
              len(doc_urls))

        t0 = time.time()
        results, opened, rss = asyncio.run(concurrent(srv, doc_urls, 1000, 3))
        dt = time.time() - t0
        rss = max(rss, srv.status("VmHWM"))
        check(opened == 1000, "1,000 connections open at once: %d" % opened)
        check(not results["errors"] and results["ok"] == 3000,
              "1,000 connections x 3 mixed requests: %d answered, %d errors %s" %
              (results["ok"], len(results["errors"]), results["errors"][:3]))
        check(SANITIZED or rss < 100 * 1024, "server peak RSS with 1,000 connections: %d MB "
              "(bound 100%s)" % (rss // 1024, ", not checked under ASan" if SANITIZED else ""))
        print("reliability: 1,000 concurrent connections: %d requests (search, suggest, "
              "document, write), %d errors, server RSS %d MB, %.1f s (opening them %.1f s)" %
              (results["ok"], len(results["errors"]), rss // 1024, dt, results["open_s"]),
              flush=True)

        n_slow, answered, worst = asyncio.run(slow_and_normal(srv, 2000, 10))
        check(n_slow == 2000, "2,000 slow connections open: %d" % n_slow)
        check(answered >= 8, "a normal client meanwhile: %d of 10 searches answered within "
              "1 s (worst %.2f s)" % (answered, worst))
        print("reliability: 2,000 slow connections: a normal client got %d of 10 answers "
              "within 1 s (slowest %.2f s)" % (answered, worst), flush=True)
        st, _, _ = get_json(srv.port, "/healthz")
        check(st == 200, "healthy afterwards: %d" % st)

        if os.environ.get("KB_SOAK") == "1":
            soak(srv, doc_urls, int(os.environ.get("KB_SOAK_SECONDS", "600")))
        else:
            print("soak skipped (KB_SOAK=1 runs it: 10 minutes)", flush=True)
    finally:
        if srv:
            check(srv.stop() == 0, "server stopped cleanly")
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
