# SPDX-License-Identifier: MIT
"""kbtest.py - what the Python integration tests share: where the programs are, a check()
that prints ok/FAIL and counts failures, stopping a server cleanly, and the closing line.
Import it; it is not a test (ctest runs only test_*.py)."""
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
