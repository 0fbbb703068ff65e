# SPDX-License-Identifier: MIT
"""kbtest.py - what the Python integration tests share: where the programs are, a check()
that prints ok/FAIL and counts failures, the closing line; kb-server on port 0 (started,
stopped cleanly) and requests to it; kb-indexer runs and the stock Xapian programs
(xapian-tcpsrv, xapian-replicate, xapian-delve, xapian-check); keys files, a tmpfs to
fill and the test's folder. Import it; it is not a test (ctest runs only test_*.py)."""
import os
import signal
import subprocess

BIN = os.environ["KB_BIN_DIR"]
SRC = os.environ["KB_SOURCE_DIR"]
INDEXER = os.path.join(BIN, "kb-indexer")
SERVER = os.path.join(BIN, "kb-server")
MKCORPUS = os.path.join(SRC, "..", "shared", "bench", "mkcorpus")

failures = 0
passes = 0


def check(cond, what):
    """Prints 'ok' or 'FAIL' with what was checked; counts failures."""
    global failures, passes
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if cond:
        passes += 1
    else:
        failures += 1


def stop_server(proc):
    """SIGTERM, then SIGKILL after 10 s; accepts None."""
    if not proc:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def finish():
    """Prints the closing line and returns the exit status."""
    print("%d passed, %d failed" % (passes, failures))
    return 1 if failures else 0


# --- stock Xapian servers on loopback (xapian-tcpsrv, xapian-replicate) -----------------
# Each process is started in a session of its own and recorded; stop_xapian() signals
# that recorded process group (the server and the children it forked per connection) and
# nothing else. stop_all_xapian() runs at exit for whatever a failed test left behind.
import atexit  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402

LOOPBACK = "127.0.0.1"
TCPSRV = "xapian-tcpsrv"
REPLICATE = "xapian-replicate"
REPLICATE_SERVER = "xapian-replicate-server"
_xapian_procs = []


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (the caller retries on a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def wait_accepting(port, proc=None, timeout=10.0):
    """True once 127.0.0.1:port accepts a connection; False on timeout or if proc died."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _start_listening(argv_for_port, log, port=None):
    """Starts argv_for_port(port) on `port`, or on free ports until one accepts; returns
    the process, with .port and .log set. Raises RuntimeError (with the log's tail) if it
    never does."""
    last = ""
    fixed = port
    for _ in range(1 if fixed else 5):
        port = fixed or free_port()
        out = open(log, "ab")
        proc = subprocess.Popen(argv_for_port(port), stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        _xapian_procs.append(proc)
        proc.port, proc.log = port, log
        if wait_accepting(port, proc):
            return proc
        stop_xapian(proc)
        with open(log, "rb") as f:
            last = f.read()[-400:].decode("utf-8", "replace")
    raise RuntimeError("%s did not start: %s" % (argv_for_port(0)[0], last))


def start_tcpsrv(dbs, log, idle_timeout_ms=None, active_timeout_ms=None, port=None):
    """Stock xapian-tcpsrv on 127.0.0.1 serving the databases `dbs` (one path or a list;
    several are served as one), on `port` or a free one; returns once it accepts."""
    if isinstance(dbs, str):
        dbs = [dbs]

    def argv(p):
        a = [TCPSRV, "--interface", LOOPBACK, "--port", str(p), "--quiet"]
        if idle_timeout_ms is not None:
            a += ["--idle-timeout", str(idle_timeout_ms)]
        if active_timeout_ms is not None:
            a += ["--active-timeout", str(active_timeout_ms)]
        return a + list(dbs)
    return _start_listening(argv, log, port)


def start_replicate_server(master_dir, log):
    """Stock xapian-replicate-server on 127.0.0.1 offering every database under
    master_dir (named relative to it); returns once it accepts."""
    return _start_listening(
        lambda p: [REPLICATE_SERVER, "-I", LOOPBACK, "-p", str(p), master_dir], log)


def missing_xapian_tools(*tools):
    """True, having said which and how to install it, when one of the stock Xapian
    programs `tools` is not on the PATH."""
    for tool in tools:
        if not shutil.which(tool):
            print("%s is missing (apt-get install xapian-tools)" % tool)
            return True
    return False


def _group_children(pgid):
    """The processes of process group `pgid` but its leader (from /proc)."""
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == pgid:
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            kids.append(int(d))
    return kids


def stop_xapian(proc, sig=signal.SIGTERM):
    """Stops a process started above and the children it forked per connection (its own
    process group), by the recorded id only: the children first, while their parent
    still reaps them (no zombie left to init), then the parent with `sig`, SIGKILL after
    5 s. SIGKILL as `sig` is a crash."""
    if proc is None:
        return
    for pid in _group_children(proc.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    end = time.monotonic() + 2
    while _group_children(proc.pid) and time.monotonic() < end:
        time.sleep(0.02)
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    if proc in _xapian_procs:
        _xapian_procs.remove(proc)


def pause_xapian(proc, paused=True):
    """SIGSTOP (a hung shard: connections are accepted by the kernel, never answered) or
    SIGCONT to the recorded process group."""
    os.killpg(proc.pid, signal.SIGSTOP if paused else signal.SIGCONT)


def stop_all_xapian():
    for proc in list(_xapian_procs):
        try:
            os.killpg(proc.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
        stop_xapian(proc, signal.SIGKILL)


atexit.register(stop_all_xapian)


def replicate_once(port, master, replica_dir, force_copy=False, timeout=120):
    """One `xapian-replicate -o` of database `master` (relative to the replicate
    server's folder) into replica_dir (its parent must exist). Returns (exit status,
    output, copies, changesets), the last two from its "Update complete: N copies,
    M changesets" line (None when absent)."""
    argv = [REPLICATE, "-v", "-o", "-r", "0", "-t", "30", "-h", LOOPBACK, "-p", str(port),
            "-m", master]
    if force_copy:
        argv.append("-f")
    r = subprocess.run(argv + [replica_dir], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout)
    out = r.stdout.decode("utf-8", "replace")
    m = re.search(r"Update complete: (\d+) copies, (\d+) changesets", out)
    copies, changesets = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    return r.returncode, out, copies, changesets


def remote_line(port, host=LOOPBACK):
    """A stub line for a shard served by xapian-tcpsrv."""
    return "remote %s:%d" % (host, port)


def write_stub(path, lines):
    """Writes a Xapian stub file (lines such as "remote 127.0.0.1:P", "glass DIR",
    "auto DIR"; relative paths are taken from the stub's folder) by rename, atomically."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("# written by a test\n")
        for line in lines:
            f.write(line + "\n")
    os.replace(tmp, path)
    return path


# --- kb-server on port 0 ----------------------------------------------------------------
def start_kb_server(index, port_file, log, *options, env=None, prefix=(), required=True):
    """kb-server --index=index --port=0 --port-file=port_file plus `options` ("--key=value"
    strings), its output appended to the file `log`, started after `prefix` (such as a
    setpriv command) when given. Returns (process, port) once it has written its port
    (an old port file is removed first). If it exits or has not written it after 15 s:
    stops it and raises RuntimeError with the log's tail, or returns (process, None) when
    not `required`."""
    if os.path.exists(port_file):
        os.unlink(port_file)
    out = open(log, "ab")
    proc = subprocess.Popen(list(prefix) + [SERVER, "--index=" + index, "--port=0",
                                            "--port-file=" + port_file] + list(options),
                            stdout=out, stderr=subprocess.STDOUT, env=env)
    out.close()
    for _ in range(300):
        try:
            with open(port_file) as f:
                text = f.read().strip()
            if text:
                return proc, int(text)
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    if not required:
        return proc, None
    stop_server(proc)
    with open(log, errors="replace") as f:
        tail = f.read()[-600:]
    raise RuntimeError("kb-server over %s did not start: %s" % (index, tail))


# --- HTTP to a kb-server on loopback ------------------------------------------------------
import json  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402


def http(port, method, path, body=None, key=None, headers=None, timeout=30):
    """One request to 127.0.0.1:port. `body`: bytes are sent as they are, anything else as
    JSON (with its Content-Type); `key`: sent as a Bearer token. Returns (status, the
    answer's headers as a dict, its body bytes); an error status is an answer like any
    other."""
    h = dict(headers or {})
    data = body
    if body is not None and not isinstance(body, bytes):
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if key:
        h["Authorization"] = "Bearer " + key
    r = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data,
                               method=method, headers=h)
    try:
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def call(port, method, path, body=None, key=None, timeout=30):
    """http() to a JSON API: (status, the parsed answer; None when it is empty)."""
    st, _, raw = http(port, method, path, body, key, timeout=timeout)
    return st, json.loads(raw or b"null")


def search_total(port):
    """(status, total) of the empty search with duplicates not collapsed: every document
    the server holds."""
    st, b = call(port, "GET", "/api/v1/search?q=&collapse=false", timeout=10)
    return st, b.get("total")


# --- kb-indexer and the stock Xapian tools ------------------------------------------------
import sys  # noqa: E402


def index_json(idx, src, *extra, env=None, timeout=300):
    """kb-indexer --index=idx --quiet --json, `extra`, src. Returns (exit status, its
    report ({} when it wrote none), its stderr)."""
    p = subprocess.run([INDEXER, "--index=" + idx, "--quiet", "--json"] + list(extra) +
                       [src], capture_output=True, text=True, env=env, timeout=timeout)
    try:
        rep = json.loads(p.stdout)
    except ValueError:
        rep = {}
    return p.returncode, rep, p.stderr


def kill_indexer_after(n, *args, env=None):
    """Runs kb-indexer --verbose with args and kills it (-9) once it has said it stored n
    documents. Returns (was it still running, documents it said it stored)."""
    proc = subprocess.Popen([INDEXER, "--verbose"] + list(args), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env)
    stored = 0
    try:
        for line in proc.stderr:
            if line.startswith("kb-indexer: indexed "):
                stored += 1
                if stored == n:
                    break
        running = proc.poll() is None
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    return running, stored


def mkcorpus(out, docs, seed):
    """Generates `docs` documents into out with ../shared/bench/mkcorpus (2 jobs)."""
    subprocess.run([sys.executable, MKCORPUS, "--docs", str(docs), "--seed", str(seed),
                    "--out", out, "--jobs", "2"], check=True, capture_output=True,
                   timeout=120)


def mkcorpus_source(tmp, docs, seed, first):
    """mkcorpus's `docs` documents in tmp/gen/0000, the `first` of them (by name) copied to
    tmp/src/0000. Returns (tmp/gen, tmp/src/0000, every name in order)."""
    gen = os.path.join(tmp, "gen")
    mkcorpus(gen, docs, seed)
    src = os.path.join(tmp, "src", "0000")
    os.makedirs(src)
    names = sorted(os.listdir(os.path.join(gen, "0000")))
    for n in names[:first]:
        shutil.copy2(os.path.join(gen, "0000", n), src)
    return gen, src, names


def delve(*args):
    """xapian-delve with args: (exit status, its output)."""
    p = subprocess.run(["xapian-delve"] + list(args), capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout


def db_info(db):
    """{'number of documents': ..., 'revision': ...} from xapian-delve's summary."""
    _, out = delve(db)
    info = {}
    for line in out.splitlines():
        if " = " in line:
            k, v = line.split(" = ", 1)
            info[k.strip()] = v.strip()
    return info


def xapian_check(db):
    """xapian-check over db; the finished process (returncode, stdout)."""
    return subprocess.run(["xapian-check", db], capture_output=True, text=True, timeout=120)


def write_keys(path, *keys):
    """A keys file for kb-server --keys-file with each (key, scopes) pair, hashed by
    kb-server --hash-key (no key in clear). Returns path."""
    with open(path, "w") as f:
        for key, scopes in keys:
            f.write(subprocess.run([SERVER, "--hash-key=" + key, "--scopes=" + scopes],
                                   capture_output=True, text=True, check=True).stdout)
    return path


# --- a small disk to fill (tmpfs), and the test's folder ----------------------------------


def mount_tmpfs(tmp, size_mb):
    """Mounts a tmpfs of size_mb MiB on tmp/mnt (root only, as in CI) and returns that
    folder. When it cannot: removes tmp, counts a failure if this is root (else says the
    test is skipped) and returns None."""
    mnt = os.path.join(tmp, "mnt")
    os.makedirs(mnt)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % size_mb, "tmpfs", mnt],
                       capture_output=True, text=True)
    if p.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        check(os.getuid() != 0, "root can mount a tmpfs (%s)" % p.stderr.strip())
        print("skipped: cannot mount a tmpfs as a non-root user")
        return None
    return mnt


def free_bytes(path):
    """Bytes free for an unprivileged writer on path's file system."""
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def write_ballast(folder, headroom):
    """Fills folder's file system with one file, another program's, but `headroom` bytes;
    returns its path."""
    path = os.path.join(folder, "other-program.dat")
    with open(path, "wb") as f:
        f.write(b"\1" * (free_bytes(folder) - headroom))
    return path


def remove_unless_failed(tmp):
    """Removes the test's folder, or keeps it (and says where) when a check failed."""
    if failures:
        print("kept for inspection:", tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
