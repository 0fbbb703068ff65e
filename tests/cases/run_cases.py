#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""run_cases.py - the data-driven API tests. Every directory tests/cases/<name>/ holds
request.json ({method, path, headers?, body?, body_raw?, body_size?, before?, server?};
"server" holds kb-server options, plus "index": "missing" and "data": "unreadable-openapi";
"before" is a list of requests run first, each with an optional expected "status" and
"capture": {"var": "Header-Name"} to use {{var}} later; a captured Set-Cookie keeps its
name=value only, ready for a Cookie header)
and expect.json ({status, schema?, content_type?, headers? (a regex, true for present,
null for absent), body_contains?, xml?,
asserts: [{path, op, value}]}). The runner indexes corpus/ with the real kb-indexer into
a temp dir, starts the real kb-server on port 0 (one per distinct "server" option set)
with a temp keys file, runs every case in name order, validates every JSON answer against
schemas/api (errors against error.schema.json) and prints "N passed, M failed" last.

Placeholders in paths, header values and bodies: {{write_key}}, {{search_key}},
{{admin_key}}, {{members_key}} (scopes search,members), {{x*N}} (N times "x").
Paths use dotted JSONPath-like selectors:
"hits.0.id", "facets.lang", "hits.*.lang" (every element; fails on an empty list).
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
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import jsonschema
from jsonschema import Draft202012Validator

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("KB_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
BIN = os.environ.get("KB_BIN_DIR", os.path.join(SRC, "build", "bin"))
DATA = os.environ.get("KB_DATA_DIR", os.path.join(SRC, "schemas"))
SCHEMAS = os.path.join(SRC, "schemas", "api")
KEYS = {"write_key": ("writer-key-0123456789abcdef", "write"),
        "search_key": ("search-key-0123456789abcdef", "search"),
        "admin_key": ("admin-key-0123456789abcdef", "admin"),
        "members_key": ("members-key-0123456789abcdef", "search,members")}
ALL_STATUSES = {400, 401, 403, 404, 405, 409, 413, 414, 415, 429, 500, 503}


def load_schemas():
    """All schemas of schemas/api by file name, with a registry for their $refs."""
    store = {}
    for name in os.listdir(SCHEMAS):
        if name.endswith(".schema.json"):
            with open(os.path.join(SCHEMAS, name), encoding="utf-8") as f:
                s = json.load(f)
            store[name] = s
    return store


SCHEMA_STORE = load_schemas()


def validate(instance, name):
    schema = SCHEMA_STORE[name]
    resolver = jsonschema.RefResolver(base_uri=schema["$id"], referrer=schema,
                                      store={s["$id"]: s for s in SCHEMA_STORE.values()})
    Draft202012Validator(schema, resolver=resolver).validate(instance)


def expand(s, subst):
    if not isinstance(s, str):
        return s
    s = re.sub(r"\{\{(.)\*(\d+)\}\}", lambda m: m.group(1) * int(m.group(2)), s)
    for k, v in subst.items():
        s = s.replace("{{%s}}" % k, v)
    return s


def expand_tree(v, subst):
    if isinstance(v, dict):
        return {k: expand_tree(x, subst) for k, x in v.items()}
    if isinstance(v, list):
        return [expand_tree(x, subst) for x in v]
    return expand(v, subst)


def select(doc, path):
    """Values at a dotted path; '*' fans out over a list. Missing -> []."""
    cur = [doc]
    for part in path.split(".") if path else []:
        nxt = []
        for c in cur:
            if part == "*":
                if isinstance(c, list):
                    nxt.extend(c)
                elif isinstance(c, dict):
                    nxt.extend(c.values())
            elif isinstance(c, list) and re.fullmatch(r"-?\d+", part):
                i = int(part)
                if -len(c) <= i < len(c):
                    nxt.append(c[i])
            elif isinstance(c, dict) and part in c:
                nxt.append(c[part])
        cur = nxt
    return cur


def check_op(v, op, want):
    if op == "eq":
        return v == want
    if op == "ne":
        return v != want
    if op in ("gt", "ge", "lt", "le"):
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return False
        return {"gt": v > want, "ge": v >= want, "lt": v < want, "le": v <= want}[op]
    if op == "contains":
        return isinstance(v, (str, list)) and want in v
    if op == "icontains":
        return isinstance(v, str) and want.lower() in v.lower()
    if op == "not_contains":
        return isinstance(v, (str, list)) and want not in v
    if op == "len_ge":
        return hasattr(v, "__len__") and len(v) >= want
    if op == "len_le":
        return hasattr(v, "__len__") and len(v) <= want
    if op == "len_eq":
        return hasattr(v, "__len__") and len(v) == want
    if op == "matches":
        return isinstance(v, str) and re.search(want, v) is not None
    if op == "in":
        return v in want
    if op == "type":
        return type(v).__name__ == want
    raise ValueError("unknown op '%s'" % op)


def run_assert(doc, a):
    vals = select(doc, a["path"])
    op = a["op"]
    if op == "has":  # some value equals `value`
        return a.get("value") in vals, "no %r among %s: %r" % (a.get("value"), a["path"], vals[:10])
    if op == "has_item":  # some object holds every key/value of `value`
        want = a.get("value")
        ok = any(isinstance(v, dict) and all(v.get(k) == x for k, x in want.items())
                 for v in vals)
        return ok, "no item like %r at %s" % (want, a["path"])
    if op in ("sorted_asc", "sorted_desc"):  # on all the values at once
        ok = vals == sorted(vals, reverse=op == "sorted_desc") and len(vals) >= 2
        return ok, "%s not %s (or fewer than 2): %r" % (a["path"], op, vals[:10])
    if op == "exists":
        return bool(vals), "no value at '%s'" % a["path"]
    if op == "not_exists":
        return not vals, "a value at '%s': %r" % (a["path"], vals[:1])
    if not vals:
        return False, "no value at '%s'" % a["path"]
    for v in vals:
        if not check_op(v, op, a.get("value")):
            return False, "%s %s %r failed on %r" % (a["path"], op, a.get("value"),
                                                     v if not isinstance(v, str) else v[:200])
    return True, ""


class Server:
    """A kb-server on port 0 with the given extra options."""

    def __init__(self, tmp, index, keys_file, options, tag):
        self.dir = os.path.join(tmp, "srv-%s" % tag)
        os.makedirs(self.dir)
        port_file = os.path.join(self.dir, "port")
        args = [os.path.join(BIN, "kb-server"), "--index=" + index, "--port=0",
                "--port-file=" + port_file, "--keys-file=" + keys_file, "--access-log=",
                "--source=" + os.path.join(SRC, "corpus")]
        data = DATA
        if options.get("data") == "unreadable-openapi":
            # a data folder whose openapi.json cannot be read (a folder): the 500 path
            data = os.path.join(self.dir, "data")
            shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("openapi.json"))
            os.mkdir(os.path.join(data, "openapi.json"))
        for k, v in sorted(options.items()):
            if k not in ("index", "data"):
                args.append("--%s=%s" % (k.replace("_", "-"), v))
        env = dict(os.environ, KB_DATA_DIR=data)
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 15
        self.port = None
        while time.time() < deadline and self.proc.poll() is None:
            try:
                with open(port_file) as f:
                    self.port = int(f.read().strip())
                break
            except (OSError, ValueError):
                time.sleep(0.05)
        if not self.port:
            raise RuntimeError("kb-server did not start: " + open(os.path.join(self.dir, "log")).read())

    def stop(self):
        """SIGTERM; returns "" when the server stopped cleanly (exit 0), else why not."""
        why = ""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                why = "did not stop within 10 s of SIGTERM"
        else:
            why = "died during the run"
        if not why and self.proc.returncode != 0:
            why = "exit status %d after SIGTERM" % self.proc.returncode
        self.log.close()
        if why:
            with open(os.path.join(self.dir, "log"), errors="replace") as f:
                why += ": " + f.read()[-2000:]
        return why


def http(port, method, path, headers=None, body=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=body,
                                 method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def send(port, rq, subst):
    headers = {k: expand(v, subst) for k, v in rq.get("headers", {}).items()}
    body = None
    if "body" in rq:
        body = json.dumps(expand_tree(rq["body"], subst)).encode()
        headers.setdefault("Content-Type", "application/json")
    elif "body_raw" in rq:
        body = expand(rq["body_raw"], subst).encode()
    elif "body_size" in rq:
        body = b'{"q":"' + b"x" * rq["body_size"] + b'"}'
        headers.setdefault("Content-Type", "application/json")
    path = expand(rq["path"], subst)
    return http(port, rq["method"], path, headers, body)


def run_case(name, port, subst, statuses, exercised):
    d = os.path.join(HERE, name)
    with open(os.path.join(d, "request.json"), encoding="utf-8") as f:
        rq = json.load(f)
    with open(os.path.join(d, "expect.json"), encoding="utf-8") as f:
        ex = json.load(f)
    subst = dict(subst)
    for b in rq.get("before", []):
        st, h, body = send(port, b, subst)
        want = b.get("status")
        if want is not None and st != want:
            return False, "setup %s %s gave %d: %s" % (b["method"], b["path"], st, body[:200])
        h = {k.lower(): v for k, v in h.items()}
        for var, header in b.get("capture", {}).items():
            subst[var] = h.get(header.lower(), "")
            if header.lower() == "set-cookie":  # sent back as a Cookie: name=value only
                subst[var] = subst[var].split(";")[0]
    st, hdrs, body = send(port, rq, subst)
    statuses.add(st)
    exercised.add((rq["method"], expand(rq["path"], subst)))
    hdrs = {k.lower(): v for k, v in hdrs.items()}
    if st != ex["status"]:
        return False, "status %d, expected %d: %s" % (st, ex["status"], body[:300])
    ctype = hdrs.get("content-type", "")
    if "content_type" in ex and not ctype.startswith(ex["content_type"]):
        return False, "content type '%s', expected '%s'" % (ctype, ex["content_type"])
    for k, v in ex.get("headers", {}).items():
        got = hdrs.get(k.lower())
        if v is None:
            if got is not None:
                return False, "header '%s' is %r, expected none" % (k, got)
            continue
        if v is True and got is None:
            return False, "header '%s' missing" % k
        if v is not True and (got is None or re.fullmatch(v, got) is None):
            return False, "header '%s' is %r, expected /%s/" % (k, got, v)
    text = body.decode("utf-8", "replace")  # original files (/files/) may be binary
    for s in ex.get("body_contains", []):
        if s not in text:
            return False, "body lacks %r" % s
    doc = None
    if ctype.startswith("application/json") and (text or rq["method"] != "HEAD"):
        doc = json.loads(text)
        if st >= 400:
            validate(doc, "error.schema.json")
            if doc["error"]["status"] != st:
                return False, "error.status %d differs from HTTP %d" % (doc["error"]["status"], st)
        if ex.get("schema"):
            validate(doc, ex["schema"])
    elif ex.get("schema"):
        return False, "expected JSON for schema %s, got '%s'" % (ex["schema"], ctype)
    if ex.get("xml"):
        root = ET.fromstring(body)
        doc = {"root": root.tag, "entries": [
            {c.tag.split("}")[1]: (c.text or c.attrib) for c in e}
            for e in root.findall("{http://www.w3.org/2005/Atom}entry")]}
        rev = root.find("{urn:powertrain-kb}revision")
        if rev is not None:
            doc["revision"] = rev.text
    if ex.get("json_body") and doc is None:
        doc = json.loads(text)
    if ex.get("lines"):
        doc = {"lines": text.splitlines()}
    for a in ex.get("asserts", []):
        ok, why = run_assert(doc, a)
        if not ok:
            return False, why
    return True, ""


def main():
    tmp = tempfile.mkdtemp(prefix="kb-cases-")
    servers = {}
    passed = failed = 0
    try:
        index = os.path.join(tmp, "index")
        r = subprocess.run([os.path.join(BIN, "kb-indexer"), "--index=" + index, "--quiet",
                            os.path.join(SRC, "corpus")], env=dict(os.environ, KB_DATA_DIR=DATA),
                           capture_output=True, text=True)
        if r.returncode not in (0, 1):
            print("kb-indexer failed (%d): %s" % (r.returncode, r.stderr))
            print("0 passed, 1 failed")
            return 1
        keys_file = os.path.join(tmp, "keys")
        subst = {}
        with open(keys_file, "w") as f:
            f.write("# test keys\n")
            for name, (key, scope) in KEYS.items():
                line = subprocess.run([os.path.join(BIN, "kb-server"), "--hash-key=" + key,
                                       "--scopes=" + scope], capture_output=True, text=True,
                                      check=True).stdout.strip()
                f.write(line + "  # " + name + "\n")
                subst[name] = key
        names = sorted(n for n in os.listdir(HERE)
                       if os.path.isfile(os.path.join(HERE, n, "request.json")))
        statuses = set()
        exercised = set()
        for name in names:
            with open(os.path.join(HERE, name, "request.json"), encoding="utf-8") as f:
                opts = json.load(f).get("server", {})
            tag = json.dumps(opts, sort_keys=True)
            if tag not in servers:
                idx = index if opts.get("index") != "missing" else os.path.join(tmp, "missing")
                servers[tag] = Server(tmp, idx, keys_file, opts, str(len(servers)))
            try:
                ok, why = run_case(name, servers[tag].port, subst, statuses, exercised)
            except Exception as e:  # a schema violation or a broken case file
                ok, why = False, "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:400])
            if ok:
                passed += 1
                print("ok   %s" % name)
            else:
                failed += 1
                print("FAIL %s: %s" % (name, why))
        with open(os.path.join(SRC, "schemas", "openapi.json"), encoding="utf-8") as f:
            api = json.load(f)
        untested = []
        for path, item in api["paths"].items():
            rx = re.compile("^" + re.sub(r"\\\{id\\\}", "[^?]+", re.escape(path)) + r"(\?|$)")
            for method in item:
                if method == "parameters":
                    continue
                if not any(m == method.upper() and rx.match(p) for m, p in exercised):
                    untested.append("%s %s" % (method.upper(), path))
        if untested:
            failed += 1
            print("FAIL coverage: no case for %s" % ", ".join(untested))
        else:
            passed += 1
            print("ok   coverage: every operation of openapi.json has a case")
        missing = ALL_STATUSES - statuses
        if missing:
            failed += 1
            print("FAIL coverage: no case answers %s" % sorted(missing))
        else:
            passed += 1
            print("ok   coverage: every error status is exercised")
        for tag, srv in servers.items():
            why = srv.stop()
            if why:
                failed += 1
                print("FAIL server %s: %s" % (tag, why))
            else:
                passed += 1
                print("ok   server %s stopped cleanly" % tag)
    finally:
        for s in servers.values():
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
