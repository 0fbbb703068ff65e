# SPDX-License-Identifier: MIT
"""httptest.py - what the HTTP-layer integration tests (test_http_*.py, test_load.py)
share: indexing a folder, a kb-server on port 0 with its stderr kept, raw requests from a
chosen loopback source address (127.x.y.z, so that per-address limits can be tested), and
the server's memory figures from /proc. Import it; it is not a test."""
import http.client
import json
import os
import resource
import socket
import subprocess
import tempfile
import time

from kbtest import INDEXER, SERVER, SRC, stop_server


def raise_nofile(want=16384):
    """Raises this process's open-file limit (the children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def index_folder(src, idx):
    """Runs kb-indexer over src into idx; returns its exit code."""
    return subprocess.run([INDEXER, "--index=" + idx, "--quiet", src],
                          capture_output=True, text=True, timeout=300).returncode


class Server:
    """A kb-server on port 0; options are "--key=value" strings."""

    def __init__(self, tmp, index, *options, stdin=None):
        self.dir = tempfile.mkdtemp(dir=tmp, prefix="srv-")
        port_file = os.path.join(self.dir, "port")
        self.err_path = os.path.join(self.dir, "stderr")
        self.err = open(self.err_path, "w")
        args = [SERVER, "--index=" + index, "--port=0", "--port-file=" + port_file]
        args += list(options)
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.err,
                                     env=dict(os.environ))
        self.pid = self.proc.pid
        self.port = None
        deadline = time.time() + 20
        while time.time() < deadline and self.proc.poll() is None:
            try:
                with open(port_file) as f:
                    self.port = int(f.read().strip())
                break
            except (OSError, ValueError):
                time.sleep(0.05)
        if not self.port:
            raise RuntimeError("kb-server did not start: " + self.stderr())

    def stderr(self):
        self.err.flush()
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def stop(self):
        """SIGTERM; returns the exit status."""
        stop_server(self.proc)
        self.err.close()
        return self.proc.returncode

    def status(self, field):
        """A /proc/PID/status figure in kB (VmRSS, VmHWM...)."""
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0


def request(port, method, path, headers=None, body=None, source="127.0.0.1", timeout=30):
    """One request over a new connection from `source`; (status, headers, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                   source_address=(source, 0))
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def get_json(port, path, headers=None, source="127.0.0.1"):
    st, h, b = request(port, "GET", path, headers, source=source)
    return st, h, json.loads(b) if b else None


def raw_socket(port, source="127.0.0.1", timeout=10):
    """A connected TCP socket from `source`."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_head(s, limit=65536):
    """Reads until the end of the first answer's headers (or EOF); returns the bytes."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < limit:
        try:
            d = s.recv(4096)
        except OSError:
            break
        if not d:
            break
        data += d
    return data


def is_closed(s, wait=0.0):
    """1 when the peer closed (or reset) the socket within `wait` seconds."""
    s.settimeout(wait if wait > 0 else 0.001)
    try:
        d = s.recv(65536, socket.MSG_PEEK)
        if not d:
            return True
        # an answer (such as a 4xx) before the close counts as closed when EOF follows
        s.recv(65536)
        return is_closed(s, wait)
    except socket.timeout:
        return False
    except BlockingIOError:
        return False
    except OSError:
        return True


def source_addresses(n, start=2):
    """n loopback source addresses 127.0.x.y, from 127.0.0.`start` on."""
    out = []
    i = start
    while len(out) < n:
        out.append("127.0.%d.%d" % (i // 250, i % 250 + 1))
        i += 1
    return out


def corpus_index(tmp):
    """An index of corpus/ in tmp (built once per test)."""
    idx = os.path.join(tmp, "index")
    code = index_folder(os.path.join(SRC, "corpus"), idx)
    if code not in (0, 1):
        raise RuntimeError("kb-indexer exit %d" % code)
    return idx
