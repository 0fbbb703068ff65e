#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""perf_split.py - a kb-server search profile (profile_engine.sh's perf.data) split into
the stages of a search, as shares of all samples of the process.

    perf_split.py PERF.DATA KB_SERVER_BINARY

Each sample's call stack (perf script) is read from the outermost frame in; frames in
kb-server are resolved to their inlined function and source line with addr2line. The
first rule that matches a sample names its stage:
  kb_query_prepare                 query preparation (normalisation, thesaurus concepts)
  kb_spelling_did_you_mean         did-you-mean and typo-tolerance corrections (spelling)
  kb_search_exec's second run_query  typo retry pass (every word known, few hits)
  kb_query_run: kb_feedback_expand feedback: first pass and relevance model
  kb_query_run: parse_user_query   query parsing, language branches (+ alt); the call
                                   after the match is the parser's did-you-mean
  kb_query_run: kb_rerank_*        prefer_lang boost, translation groups
  kb_query_run: xap_enquire_run    the final match: get_data (document data), value
                                   reads (collapse keys in the match; the hits'),
                                   get_description, the rest (postings, weights, spies)
  run_once after kb_query_run      hits: metadata JSON, snippets, facets to JSON
  json_dumps                       the response's serialisation
  otherwise                        in Xapian with a stack cut short (unattributed), or
                                   HTTP (libmicrohttpd, sockets, request handling)
The two call lines (the retry, the spelling parse) are looked up in core/search.c and
core/query.c of the worktree holding this script: profile a build of the same tree.
"""
import collections
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stacks(perf):
    """Yields each sample's frames, outermost first, as (ip, sym, dso)."""
    out = subprocess.run(["perf", "script", "-i", perf, "-F", "ip,sym,dso"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True).stdout
    cur = []
    for line in out.splitlines():
        m = re.match(r"\s+([0-9a-f]+) (.*?) \((.*)\)\s*$", line)
        if m:
            cur.append((int(m.group(1), 16), m.group(2), m.group(3)))
        elif not line.strip():
            if cur:
                yield cur[::-1]
            cur = []
    if cur:
        yield cur[::-1]


def resolver(binary, addrs):
    """{ip: [(function, line), ...] innermost inline first} for ips in binary."""
    addrs = sorted(addrs)
    if not addrs:
        return {}
    out = subprocess.run(["addr2line", "-f", "-i", "-C", "-a", "-e", binary] +
                         ["0x%x" % a for a in addrs], stdout=subprocess.PIPE,
                         text=True).stdout.splitlines()
    res, cur, i = {}, None, 0
    while i < len(out):
        if out[i].startswith("0x"):
            cur = int(out[i], 16)
            res[cur] = []
            i += 1
            continue
        fn = out[i].split("(")[0]
        loc = out[i + 1] if i + 1 < len(out) else ""
        m = re.search(r":(\d+)", loc)
        res[cur].append((fn, loc.rsplit("/", 1)[-1].split(":")[0],
                         int(m.group(1)) if m else 0))
        i += 2
    return res


def source_line(path, text):
    """The 1-based line of the first line of `path` (under the worktree) holding text."""
    try:
        with open(os.path.join(ROOT, path)) as f:
            for i, line in enumerate(f, 1):
                if text in line:
                    return i
    except OSError:
        pass
    return -1


# calls whose line tells a stage apart from another call of the same function
RETRY_LINE = source_line("core/search.c", "if (corr && !run_query(sc, p, &q, &aq, &o2")
SPELL_LATER_LINE = source_line("core/query.c", "rc = parse_user_query(r, spec, lpfx, flags | XAP")


def final_match(ifn):
    """The final match's sub-stage from the inline chain below xap_enquire_run."""
    if any("get_data" in f for f in ifn):
        return "final match: the hits' document data (get_data, inflate)"
    if any("get_description" in f for f in ifn):
        return "the query's description (get_description)"
    if any("get_value" in f for f in ifn):
        if any("get_mset" in f for f in ifn):
            return "final match: value reads in the match (collapse keys)"
        return "final match: values of hits"
    if any("MatchSpy" in f or "ValueCount" in f for f in ifn):
        return "final match: facet counting (match spies)"
    return "final match: postings, weights, collapse"


def classify(frames, names):
    """The stage of one sample; frames outermost first, names[ip] the inline chain."""
    chain = []  # (function, file, line), outermost first, inline frames expanded
    for ip, sym, dso in frames:
        if dso.endswith("kb-server") and ip in names:
            chain.extend(names[ip][::-1])
        else:
            chain.append((sym, dso.rsplit("/", 1)[-1], 0))
    fns = [c[0] for c in chain]
    # a stack the unwinder cut short may lack the outer frames: look for markers anywhere
    k = fns.index("kb_search_exec") if "kb_search_exec" in fns else -1
    below = chain[k + 1:]
    bf = [c[0] for c in below]
    if "kb_query_prepare" in bf:
        return "query preparation (normalise, thesaurus concepts)"
    if "kb_spelling_did_you_mean" in bf:
        return "did-you-mean / typo corrections (spelling lookups)"
    if k >= 0 and chain[k][2] == RETRY_LINE:
        return "typo retry pass (2nd search, few hits)"
    if "kb_query_run" in bf:
        j = bf.index("kb_query_run")
        inner = below[j + 1:]
        ifn = [c[0] for c in inner]
        line = below[j][2]
        if "kb_feedback_expand" in ifn:
            return "feedback: first pass + relevance model"
        if "parse_user_query" in ifn:
            if line == SPELL_LATER_LINE:
                return "did-you-mean in the parser (after the match)"
            return "query parsing (language branches)"
        if "kb_rerank_boost" in ifn or "kb_rerank_groups" in ifn:
            return "boost / group passes"
        if "xap_enquire_run" in ifn:
            return final_match(ifn)
        return "kb_query_run: other (restrict, result)"
    if "run_once" in bf:
        if any("snippet" in f for f in bf):
            return "hits: snippets"
        return "hits and response object (metadata JSON, facets to JSON)"
    if any("json_dump" in f for f in fns):
        return "HTTP: response JSON serialisation (json_dumps)"
    if k >= 0:
        return "kb_search_exec: other"
    if any("libxapian" in dso for _, _, dso in frames):
        return "in Xapian, stack cut short (unattributed)"
    return "HTTP: libmicrohttpd, sockets, request handling"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: perf_split.py PERF.DATA KB_SERVER_BINARY")
    samples = list(stacks(sys.argv[1]))
    addrs = {ip for s in samples for ip, _, dso in s if dso.endswith("kb-server")}
    names = resolver(sys.argv[2], addrs)
    count = collections.Counter(classify(s, names) for s in samples)
    total = sum(count.values())
    print("%d samples" % total)
    print("| stage | share |")
    print("|---|---|")
    for stage, n in count.most_common():
        print("| %s | %.1f %% |" % (stage, 100.0 * n / total))


if __name__ == "__main__":
    main()
