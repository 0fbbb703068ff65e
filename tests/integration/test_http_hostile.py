# SPDX-License-Identifier: MIT
#
# test_http_hostile.py - kb-server against clients that mean harm (issue 14, defects 3,
# 4 and 5), over loopback with the real server on port 0:
#   - bodies are refused on the headers alone: a write without a key, a declared length
#     over a route's limit, a body on /healthz are answered at once (401 / 413), without
#     "100 Continue" and without waiting for the body;
#   - a 15 MB search body of 5 million small objects is refused before it is parsed, and
#     so is one that is allowed in size but holds too many values: the server's peak
#     memory (VmHWM) grows by less than 100 MB (it grew by 1.1 GB before the fix);
#   - slowloris: connections that trickle a header line every 0.5 s are shut at the
#     request deadline (request_seconds), however often they send; one address gets no
#     more than max_connections_per_ip connections; a client that stops reading its
#     answer is let go; a normal client is answered meanwhile, and libmicrohttpd's
#     messages do not flood stderr.
# Prints "reliability: <test>: <figure>" lines for docs/reliability.md.
import http.client
import os
import shutil
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kbtest  # noqa: E402
from kbtest import SERVER, check  # noqa: E402
from httptest import (Server, corpus_index, get_json, raise_nofile, raw_socket,  # noqa: E402
                      read_head, request, is_closed)
import subprocess  # noqa: E402

KEY = "hostile-test-key-0123456789"


def early_answers(tmp, idx):
    keys = os.path.join(tmp, "keys")
    line = subprocess.run([SERVER, "--hash-key=" + KEY, "--scopes=write"],
                          capture_output=True, text=True, check=True).stdout
    with open(keys, "w") as f:
        f.write(line)
    srv = Server(tmp, idx, "--keys-file=" + keys, "--access-log=")
    try:
        cases = [
            ("PUT without a key, 15 MB declared", "PUT", "/api/v1/documents/api/x",
             {"Content-Type": "application/json"}, 15000000, "401"),
            ("PUT with a key, 20 MB declared", "PUT", "/api/v1/documents/api/x",
             {"Content-Type": "application/json", "Authorization": "Bearer " + KEY},
             20000000, "413"),
            ("search POST, 1 MB declared", "POST", "/api/v1/search",
             {"Content-Type": "application/json"}, 1000000, "413"),
            ("/healthz with a body", "GET", "/healthz", {}, 100, "413"),
            ("a body on an unknown path", "POST", "/nowhere", {}, 100, "404"),
        ]
        for what, method, path, headers, length, want in cases:
            for expect in (True, False):
                s = raw_socket(srv.port, timeout=5)
                head = "%s %s HTTP/1.1\r\nHost: kb\r\nContent-Length: %d\r\n" % (
                    method, path, length)
                for k, v in headers.items():
                    head += "%s: %s\r\n" % (k, v)
                if expect:
                    head += "Expect: 100-continue\r\n"
                t0 = time.time()
                s.sendall((head + "\r\n").encode())
                got = read_head(s)  # the body is never sent
                dt = time.time() - t0
                s.close()
                first = got.split(b"\r\n", 1)[0].decode(errors="replace")
                check(first.startswith("HTTP/1.1 " + want) and b"100 Continue" not in got,
                      "%s%s: '%s' at once, before any body byte (%.2f s)" %
                      (what, " (Expect: 100-continue)" if expect else "", first, dt))
        # a body within the limits still works, with Expect: 100-continue
        st, h, b = request(srv.port, "POST", "/api/v1/search",
                           {"Content-Type": "application/json",
                            "Expect": "100-continue"}, b'{"q":"hydrogen"}')
        check(st == 200, "a small search body with Expect: 100-continue: %d" % st)
        print("reliability: early refusal: %d refusals answered before any body byte"
              % (2 * len(cases)), flush=True)
    finally:
        check(srv.stop() == 0, "server stopped cleanly")


def post_big(port, body, timeout=60):
    """Sends a whole POST body (the server may answer and close before the end)."""
    s = raw_socket(port, timeout=timeout)
    head = ("POST /api/v1/search HTTP/1.1\r\nHost: kb\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % len(body)).encode()
    answer = [b""]

    def reader():
        answer[0] = read_head(s)

    t = threading.Thread(target=reader)
    t.start()
    try:
        s.sendall(head + body)
    except OSError:
        pass  # refused and closed before the end: expected
    t.join(timeout)
    s.close()
    return answer[0].split(b"\r\n", 1)[0].decode(errors="replace")


def memory_bound(tmp, idx):
    body = b'{"q":"hydrogen","lang":[' + b",".join([b"{}"] * 5000000) + b"]}"
    # default limits: refused on its declared length
    srv = Server(tmp, idx, "--access-log=")
    try:
        before = srv.status("VmHWM")
        first = post_big(srv.port, body)
        hwm = srv.status("VmHWM")
        check(" 413 " in first + " ", "15 MB search body: '%s'" % first)
        check(hwm - before < 100 * 1024, "peak memory after it: %d MB (before %d MB; "
              "growth bound 100 MB)" % (hwm // 1024, before // 1024))
        print("reliability: 15 MB search body, default limits: peak RSS %d MB" %
              (hwm // 1024), flush=True)
    finally:
        check(srv.stop() == 0, "server stopped cleanly")
    # a size limit that lets it in: the value count refuses it before jansson parses it
    srv = Server(tmp, idx, "--access-log=", "--max-search-body-bytes=33554432")
    try:
        before = srv.status("VmHWM")
        first = post_big(srv.port, body)
        hwm = srv.status("VmHWM")
        check(" 413 " in first + " ", "15 MB body of 5 million objects within the size "
              "limit: '%s'" % first)
        check(hwm - before < 100 * 1024, "peak memory after it: %d MB (before %d MB; "
              "growth bound 100 MB)" % (hwm // 1024, before // 1024))
        deep = b'{"q":"x","lang":' + b"[" * 100000 + b"]" * 100000 + b"}"
        first = post_big(srv.port, deep)
        check(" 400 " in first + " ", "a body nested 100,000 deep: '%s'" % first)
        st, _, doc = get_json(srv.port, "/api/v1/search?q=hydrogen")
        check(st == 200, "the server still answers: %d" % st)
        print("reliability: 15 MB body of 5M objects within the size limit: peak RSS %d MB"
              % (srv.status("VmHWM") // 1024), flush=True)
    finally:
        check(srv.stop() == 0, "server stopped cleanly")


def slowloris(tmp, idx):
    srv = Server(tmp, idx, "--access-log=", "--request-seconds=2",
                 "--max-connections-per-ip=20")
    socks = []
    try:
        # 1. trickled headers: a line every 0.5 s does not keep a connection alive
        for i in range(15):
            s = raw_socket(srv.port, source="127.0.0.2")
            s.sendall(b"GET /api/v1/search?q=hydrogen HTTP/1.1\r\nHost: kb\r\n")
            socks.append(s)
        t0 = time.time()
        sent = 0
        while time.time() - t0 < 5:
            for s in socks:
                try:
                    s.sendall(b"X-Slow-%d: trickle\r\n" % sent)
                except OSError:
                    pass
            sent += 1
            time.sleep(0.5)
        closed = sum(is_closed(s, 0.5) for s in socks)
        check(closed == len(socks), "trickling connections shut at the 2 s deadline: "
              "%d of %d closed after 5 s of a header line every 0.5 s" % (closed, len(socks)))
        st, _, metrics = request(srv.port, "GET", "/metrics", source="127.0.0.6")
        check(b"kb_http_connections_expired_total 15" in metrics,
              "/metrics counts the 15 expired connections")
        print("reliability: slowloris deadline: %d of %d trickling connections shut within "
              "5 s (deadline 2 s)" % (closed, len(socks)), flush=True)
        for s in socks:
            s.close()
        socks = []
        # 2. one address, 40 idle connections: no more than 20 are kept
        for i in range(40):
            try:
                socks.append(raw_socket(srv.port, source="127.0.0.3"))
            except OSError:
                pass
        time.sleep(0.5)
        kept = sum(not is_closed(s, 0.05) for s in socks)
        check(kept <= 20, "one address, 40 idle connections: %d kept (limit 20)" % kept)
        st, _, _ = get_json(srv.port, "/healthz", source="127.0.0.4")
        check(st == 200, "another address is answered meanwhile: %d" % st)
        print("reliability: per-address limit: %d of 40 connections kept (limit 20)" % kept,
              flush=True)
        for s in socks:
            s.close()
        socks = []
        # 3. a client that asks for a large answer and stops reading it
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.bind(("127.0.0.7", 0))
        s.connect(("127.0.0.1", srv.port))
        s.sendall(b"GET /api/v1/search?q=hydrogen&limit=100&facets=true HTTP/1.1\r\n"
                  b"Host: kb\r\n\r\n")
        time.sleep(9)  # 3 deadlines without a byte read, plus the watchdog's tick
        s.settimeout(3)
        ended = False
        try:
            while True:
                if not s.recv(65536):
                    ended = True
                    break
        except socket.timeout:
            pass
        except OSError:
            ended = True
        s.close()
        check(ended, "a client that stopped reading its answer is let go within 12 s")
        # 4. a kept-alive client that pauses less than the deadline between requests
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10,
                                       source_address=("127.0.0.5", 0))
        ok = 0
        for i in range(3):
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            ok += r.status == 200
            time.sleep(1)
        c.close()
        check(ok == 3, "a kept-alive client with 1 s pauses: %d of 3 answered" % ok)
    finally:
        for s in socks:
            s.close()
        time.sleep(0.5)
        err = srv.stderr()
        lines = [l for l in err.splitlines() if l.strip()]
        check(len(lines) < 5 and "closed" not in err,
              "stderr stays quiet: %d lines (%r)" % (len(lines), lines[:3]))
        check(srv.stop() == 0, "server stopped cleanly")


def main():
    raise_nofile()
    tmp = tempfile.mkdtemp(prefix="kb-hostile-")
    try:
        idx = corpus_index(tmp)
        early_answers(tmp, idx)
        memory_bound(tmp, idx)
        slowloris(tmp, idx)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
