#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_syscall_filter.py - kb-server and kb-indexer under the very system call filter of
their systemd units, with real work. Without systemd as PID 1 the units cannot be started
here, so this test does what systemd does with SystemCallFilter=: it reads the filter
lines of deploy/kb-server.service and deploy/kb-indexer.service, expands the @groups with
`systemd-analyze syscall-filter` (this systemd's own lists), loads the result with
libseccomp in the child before exec, and runs the real programs:

- kb-indexer --full over corpus/ (2 threads, PDFs through kb-pdftext, compaction, the
  generation switch), then an incremental run;
- kb-server under load: 4 client threads over every route (search with facets, snippets,
  filters and wildcards, suggest, documents, similar, files, feed, stats, metrics, the
  page, openapi), API writes and deletes through the writer and its fsync'ed journal, an
  indexer --full switching generations underneath, then SIGTERM (exit 0).

Any call outside the filter kills the process (SECCOMP_RET_KILL_PROCESS: stricter than
the units' EPERM, so that nothing is hidden behind a handled error). Label "package": the
sanitizers' runtimes make calls of their own (LeakSanitizer uses ptrace), so the test is
not part of the ASan pass.
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import kbtest  # noqa: E402
from kbtest import check  # noqa: E402

try:
    import seccomp
except ImportError:
    print("python3-seccomp is missing (apt-get install python3-seccomp)")
    sys.exit(1)

SRC, BIN = kbtest.SRC, kbtest.BIN
ENV = dict(os.environ, KB_DATA_DIR=os.path.join(SRC, "schemas"))
KEY = "filter-test-writer-key-0123456789"


def syscall_groups():
    """{'@name': [members]} from `systemd-analyze syscall-filter`."""
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"],
                         capture_output=True, text=True, check=True).stdout
    groups, cur = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            cur = groups.setdefault(line.split()[0], [])
        elif cur is not None and line.strip() and not line.strip().startswith("#"):
            cur.append(line.strip())
    return groups


def expand(names, groups, seen=None):
    seen = set() if seen is None else seen
    out = set()
    for n in names:
        if n.startswith("@"):
            if n in seen:
                continue
            seen.add(n)
            out |= expand(groups[n], groups, seen)
        else:
            out.add(n)
    return out


def unit_filter(unit):
    """The syscalls a unit allows: its SystemCallFilter= lines in order (an allow list,
    then ~ lines that take groups away), as systemd combines them."""
    groups = syscall_groups()
    allowed = None
    for line in open(os.path.join(SRC, "deploy", unit)):
        m = re.match(r"SystemCallFilter=(~?)(.*)", line.strip())
        if not m:
            continue
        names = expand(m.group(2).split(), groups)
        if m.group(1):
            allowed = (allowed or set()) - names
        else:
            allowed = names if allowed is None else allowed | names
    return allowed


def loader(allowed):
    """A preexec_fn that loads the filter in the child, just before exec."""
    def load():
        f = seccomp.SyscallFilter(defaction=seccomp.KILL_PROCESS)
        for name in sorted(allowed):
            try:
                f.add_rule(seccomp.ALLOW, name)
            except (ValueError, RuntimeError, OSError):
                pass  # a name this architecture does not have (e.g. *_time64)
        f.load()
    return load


def died_of_filter(rc):
    return rc == -signal.SIGSYS


def run_indexer(allowed, index, *args):
    p = subprocess.run([os.path.join(BIN, "kb-indexer"), "--index=" + index, "--quiet",
                        "--threads=2", *args, os.path.join(SRC, "corpus")],
                       env=ENV, preexec_fn=loader(allowed), capture_output=True, text=True,
                       timeout=600)
    return p


def http(port, method, path, body=None, key=None):
    h = {"Authorization": "Bearer " + key} if key else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    r = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data,
                               method=method, headers=h)
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    tmp = tempfile.mkdtemp(prefix="kb-filter.")
    index = os.path.join(tmp, "index")
    srv_allowed = unit_filter("kb-server.service")
    idx_allowed = unit_filter("kb-indexer.service")
    check(srv_allowed and "accept4" in srv_allowed and "setuid" not in srv_allowed
          and "setrlimit" not in srv_allowed,
          "kb-server.service's filter expands (%d calls: accept4 in, setuid and setrlimit out)"
          % len(srv_allowed or ()))
    check(idx_allowed and "ptrace" not in idx_allowed,
          "kb-indexer.service's filter expands (%d calls)" % len(idx_allowed or ()))

    # the indexer: a new generation, built sharded, PDFs through the helper
    p = run_indexer(idx_allowed, index, "--full", "--json")
    check(p.returncode == 0 and json.loads(p.stdout).get("failed") == 0,
          "kb-indexer --full under the indexer's filter: exit %d%s" %
          (p.returncode, " (killed by the filter)" if died_of_filter(p.returncode)
           else "") + (" " + p.stderr[-300:] if p.returncode else ""))
    p = run_indexer(idx_allowed, index)
    check(p.returncode == 0, "an incremental run under the filter: exit %d" % p.returncode)

    keys = os.path.join(tmp, "keys")
    line = subprocess.run([os.path.join(BIN, "kb-server"), "--hash-key=" + KEY,
                           "--scopes=search,write"], capture_output=True, text=True)
    open(keys, "w").write(line.stdout)
    pf = os.path.join(tmp, "port")
    log = open(os.path.join(tmp, "server.log"), "w")
    srv = subprocess.Popen([os.path.join(BIN, "kb-server"), "--index=" + index,
                            "--port=0", "--port-file=" + pf, "--workers=4",
                            "--keys-file=" + keys, "--access-log=-",
                            "--web-dir=" + os.path.join(SRC, "server", "web")],
                           env=ENV, preexec_fn=loader(srv_allowed), stdout=log,
                           stderr=subprocess.STDOUT)
    port = None
    for _ in range(200):
        if os.path.exists(pf) and open(pf).read().strip():
            port = int(open(pf).read())
            break
        if srv.poll() is not None:
            break
        threading.Event().wait(0.05)
    check(port is not None, "kb-server starts under the server's filter (rc %s)" % srv.poll())
    if port is None:
        return kbtest.finish()

    st, body = http(port, "GET", "/api/v1/search?q=hydrogen&size=1")
    first = json.loads(body)["hits"][0]["id"] if st == 200 else "none"
    q = urllib.parse.quote
    paths = ["/api/v1/search?q=hydrogen&facets=true&snippets=true",
             "/api/v1/search?q=" + q("pile à combustible") + "&lang=fr&sort=newest",
             "/api/v1/search?q=batt*&topic=batteries&page=2",
             "/api/v1/search?q=" + q('"fuel cell" NEAR stack'),
             "/api/v1/suggest?q=hydr", "/api/v1/suggest?q=batt",
             "/api/v1/documents/" + q(first, safe=""),
             "/api/v1/documents/" + q(first, safe="") + "/similar",
             "/files/" + q(first, safe=""), "/feed.atom?q=hydrogen",
             "/api/v1/stats", "/healthz", "/metrics", "/", "/static/app.js",
             "/api/v1/openapi.json"]
    bad = []
    lock = threading.Lock()

    def client(n):
        for i in range(25):
            for path in paths:
                s, _ = http(port, "GET", path)
                if s >= 500 or (s != 200 and not path.startswith("/files/")):
                    with lock:
                        bad.append((path, s))
            doc = {"title": "filter test %d %d" % (n, i), "body": "a hybrid powertrain "
                   "note written through the API under the system call filter",
                   "lang": "en", "date": "2025-01-02", "type": "note"}
            s, _ = http(port, "PUT", "/api/v1/documents/filter-%d-%d" % (n, i), doc, KEY)
            if s not in (200, 201, 202):
                with lock:
                    bad.append(("PUT", s))
            if i % 5 == 0:
                s, _ = http(port, "DELETE", "/api/v1/documents/filter-%d-%d" % (n, i), None, KEY)
                if s not in (200, 202, 204):
                    with lock:
                        bad.append(("DELETE", s))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    # a generation switch underneath (the indexer itself outside any filter here)
    p = subprocess.run([os.path.join(BIN, "kb-indexer"), "--index=" + index, "--quiet",
                        "--full", os.path.join(SRC, "corpus")], env=ENV,
                       capture_output=True, text=True, timeout=600)
    for t in threads:
        t.join()
    check(p.returncode == 0, "kb-indexer --full during the load: exit %d" % p.returncode)
    check(srv.poll() is None, "kb-server survived %d requests under its filter (rc %s)"
          % (4 * 25 * (len(paths) + 1), srv.poll()))
    check(not bad, "every answer was the expected one: %s" % bad[:5])
    st, body = http(port, "GET", "/api/v1/search?q=" + q("filter test"))
    check(st == 200 and json.loads(body).get("total", 0) > 0,
          "API writes made under the filter are searchable")
    srv.send_signal(signal.SIGTERM)
    try:
        rc = srv.wait(timeout=30)
    except subprocess.TimeoutExpired:
        srv.kill()
        rc = srv.wait()
    check(rc == 0, "SIGTERM under the filter: exit %d%s" %
          (rc, " (killed by the filter)" if died_of_filter(rc) else ""))
    if kbtest.failures:
        log.close()
        print("".join(open(os.path.join(tmp, "server.log")).readlines()[-20:]))
    subprocess.run(["rm", "-rf", tmp])
    return kbtest.finish()


if __name__ == "__main__":
    sys.exit(main())
