#!/usr/bin/env python3
"""Generate the PDF / DOCX / ODT documents of the powertrain-kb corpus.

Usage:
    python3 scripts/mkoffice.py [--src corpus-src] [--out corpus] [--strict] [FILE.md ...]

Reads every ``<src>/<lang>/<name>.<ext>.md`` (ext = pdf | docx | odt): a
Markdown file with a small YAML-like front matter (title, date, lang,
organisation, type, topics, authors) between ``---`` lines, then a body of
``# `` / ``## `` headings, paragraphs and ``<!-- page -->`` page-break lines.
Writes ``<out>/<lang>/<name>.<ext>``.

Python 3 standard library only.  The output is deterministic: the same input
gives byte-identical files (timestamps are derived from the document date,
identifiers from the content).

The functions ``parse_source``, ``make_pdf``, ``make_docx`` and ``make_odt``
are also used by scripts/mksamples.py.
"""

import argparse
import datetime
import hashlib
import os
import re
import sys
import unicodedata
import zipfile

GENERATOR = "powertrain-kb mkoffice.py"

LANG_TAGS = {"fr": "fr-FR", "it": "it-IT", "en": "en-GB"}
TYPES = ("brief", "report", "study", "note")
TOPICS = ("electrification", "hybrids", "hydrogen", "fuel-cells", "combustion",
          "e-fuels", "batteries", "power-electronics", "electric-motors",
          "charging", "regulation", "control-systems", "sensors",
          "diagnostics", "cooperation")
FORMATS = ("pdf", "docx", "odt")


# ---------------------------------------------------------------------------
# Source parsing
# ---------------------------------------------------------------------------

class Doc:
    """A parsed source document."""

    def __init__(self, meta, blocks, name="document"):
        self.meta = meta          # dict: title, date, lang, organisation, type, topics, authors
        self.blocks = blocks      # list of (kind, text): kind in h1, h2, h3, p, page
        self.name = name

    # convenience accessors -------------------------------------------------
    @property
    def title(self):
        return self.meta.get("title") or self.name

    @property
    def authors(self):
        return list(self.meta.get("authors") or [])

    @property
    def topics(self):
        return list(self.meta.get("topics") or [])

    @property
    def lang(self):
        return self.meta.get("lang") or ""

    @property
    def lang_tag(self):
        return LANG_TAGS.get(self.lang, self.lang)

    @property
    def date(self):
        """The document date as 'YYYY-MM-DD' (falls back to 2000-01-01)."""
        d = str(self.meta.get("date") or "")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", d):
            try:
                datetime.date(int(d[:4]), int(d[5:7]), int(d[8:10]))
                return d
            except ValueError:
                pass
        return "2000-01-01"

    @property
    def date_tuple(self):
        return (int(self.date[:4]), int(self.date[5:7]), int(self.date[8:10]))

    @property
    def organisation(self):
        return self.meta.get("organisation") or ""

    @property
    def doctype(self):
        return self.meta.get("type") or ""

    @property
    def summary(self):
        """First paragraph, truncated to at most 200 characters."""
        for kind, text in self.blocks:
            if kind == "p":
                return truncate(text, 200)
        return ""


def truncate(text, limit):
    text = re.sub(r"[ \t\r\n]+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "\u2026"


def _unquote(value):
    value = value.strip()
    # a quoted scalar followed by a comment: "text"  # comment
    m = re.match(r'^("(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\')\s+#.*$', value)
    if m:
        value = m.group(1)
    if len(value) >= 2 and value[0] == value[-1] == '"':
        body = value[1:-1]
        return re.sub(r'\\(["\\/nt])',
                      lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)),
                      body)
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    # strip a trailing comment on a plain scalar
    value = re.sub(r"\s+#.*$", "", value)
    return value.strip()


def _split_list(inner):
    """Split the inside of a flow list [a, "b, c", 'd'] on top-level commas."""
    items, cur, quote = [], "", None
    i = 0
    while i < len(inner):
        c = inner[i]
        if quote:
            cur += c
            if c == "\\" and quote == '"' and i + 1 < len(inner):
                cur += inner[i + 1]
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
            cur += c
        elif c == ",":
            items.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    items.append(cur)
    return [_unquote(x) for x in items if x.strip()]


def parse_front_matter(lines):
    """Parse the simple YAML subset used by the corpus front matter.

    Supports ``key: scalar``, quoted scalars, flow lists ``[a, "b"]`` and
    block lists (``key:`` followed by ``- item`` lines).
    """
    meta = {}
    current_list = None
    for raw in lines:
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^\s+-\s+(.*)$", line) or re.match(r"^-\s+(.*)$", line)
        if m and current_list is not None:
            meta[current_list].append(_unquote(m.group(1)))
            continue
        m = re.match(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$", line)
        if not m:
            continue
        key, value = m.group(1).lower(), m.group(2).strip()
        current_list = None
        if value == "":
            meta[key] = []
            current_list = key
        elif value.startswith("[") and value.rstrip().endswith("]"):
            meta[key] = _split_list(value.strip()[1:-1])
        else:
            meta[key] = _unquote(value)
    for key in ("topics", "authors"):
        v = meta.get(key)
        if isinstance(v, str):
            meta[key] = [x.strip() for x in re.split(r"[;,]", v) if x.strip()]
    for key, v in list(meta.items()):
        if isinstance(v, list) and key not in ("topics", "authors"):
            meta[key] = ", ".join(v)
    return meta


_INLINE_RULES = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),        # images -> alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),         # links -> text
    (re.compile(r"<(https?://[^>]+)>"), r"\1"),            # autolinks
    (re.compile(r"</?[A-Za-z][^>]*>"), ""),                 # inline HTML tags
    (re.compile(r"`([^`]*)`"), r"\1"),                      # code spans
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # strong
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),  # emphasis *x*
    (re.compile(r"(?<![\w])_(?=\S)(.+?)(?<=\S)_(?![\w])"), r"\1"),      # emphasis _x_
]


def strip_inline(text):
    """Remove inline Markdown markup, keeping the text."""
    for rx, rep in _INLINE_RULES:
        text = rx.sub(rep, text)
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>])", r"\1", text)
    text = text.replace("&nbsp;", "\u00a0").replace("&amp;", "&") \
               .replace("&lt;", "<").replace("&gt;", ">")
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


PAGE_RX = re.compile(r"^\s*<!--\s*page(?:\s*break)?\s*-->\s*$", re.I)


def parse_body(lines):
    """Turn Markdown body lines into a list of (kind, text) blocks."""
    blocks = []
    para = []
    in_comment = False
    in_fence = False

    def flush():
        if para:
            text = strip_inline(" ".join(s.strip() for s in para))
            if text:
                blocks.append(("p", text))
            del para[:]

    for raw in lines:
        line = raw.rstrip("\n").rstrip("\r")
        stripped = line.strip()
        if in_comment:
            if "-->" in stripped:
                in_comment = False
            continue
        if stripped.startswith("```") or stripped.startswith("~~~"):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            if stripped:
                blocks.append(("p", stripped))
            continue
        if PAGE_RX.match(line):
            flush()
            blocks.append(("page", ""))
            continue
        if stripped.startswith("<!--"):
            flush()
            if "-->" not in stripped:
                in_comment = True
            continue
        if not stripped:
            flush()
            continue
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", stripped)
        if m:
            flush()
            level = min(len(m.group(1)), 3)
            text = strip_inline(m.group(2))
            if text:
                blocks.append(("h%d" % level, text))
            continue
        if re.match(r"^(-{3,}|\*{3,}|_{3,})$", stripped):      # thematic break
            flush()
            continue
        if stripped.startswith("|"):                            # table row
            flush()
            if re.match(r"^\|?[\s:|-]+\|?$", stripped):
                continue
            cells = [strip_inline(c) for c in stripped.strip("|").split("|")]
            text = " \u2014 ".join(c for c in cells if c)
            if text:
                blocks.append(("p", text))
            continue
        m = re.match(r"^([-*+]|\d+[.)])\s+(.*)$", stripped)
        if m:                                                   # list item
            flush()
            bullet = "\u2022" if m.group(1) in "-*+" else m.group(1)
            para.append(bullet + " " + m.group(2))
            continue
        if stripped.startswith(">"):
            stripped = stripped.lstrip("> ")
        para.append(stripped)
    flush()
    # drop leading / trailing / doubled page breaks
    out = []
    for b in blocks:
        if b[0] == "page" and (not out or out[-1][0] == "page"):
            continue
        out.append(b)
    while out and out[-1][0] == "page":
        out.pop()
    return out


def parse_source(text, name="document"):
    """Parse a source file's text into a Doc."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    meta = {}
    if lines and lines[0].strip() == "---":
        for i in range(1, len(lines)):
            if lines[i].strip() in ("---", "..."):
                meta = parse_front_matter(lines[1:i])
                lines = lines[i + 1:]
                break
    blocks = parse_body(lines)
    if not meta.get("title"):
        for kind, t in blocks:
            if kind == "h1":
                meta["title"] = t
                break
    if meta.get("title") and not any(k == "h1" for k, _ in blocks[:2]):
        blocks.insert(0, ("h1", meta["title"]))
    return Doc(meta, blocks, name)


def check_meta(doc, expected_lang=None):
    """Return a list of problems with the document metadata."""
    problems = []
    m = doc.meta
    for key in ("title", "date", "lang", "organisation", "type", "topics", "authors"):
        if not m.get(key):
            problems.append("missing %s" % key)
    d = str(m.get("date") or "")
    if d and doc.date != d:
        problems.append("bad date %r" % d)
    if m.get("lang") and m["lang"] not in LANG_TAGS:
        problems.append("bad lang %r" % m["lang"])
    if expected_lang and m.get("lang") and m["lang"] != expected_lang:
        problems.append("lang %r but folder %r" % (m["lang"], expected_lang))
    if m.get("type") and m["type"] not in TYPES:
        problems.append("bad type %r" % m["type"])
    for t in doc.topics:
        if t not in TOPICS:
            problems.append("unknown topic %r" % t)
    if not any(k == "p" for k, _ in doc.blocks):
        problems.append("empty body")
    return problems


# ---------------------------------------------------------------------------
# Text helpers
# ---------------------------------------------------------------------------

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(s):
    """Escape text for XML element content / attribute values."""
    s = _XML_BAD.sub("", s)
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
             .replace('"', "&quot;"))


# Replacements for characters that cp1252 (WinAnsiEncoding) cannot encode.
CP1252_FALLBACK = {
    "\u202f": "\u00a0", "\u2007": "\u00a0", "\u2009": " ", "\u200a": " ",
    "\u2002": " ", "\u2003": " ", "\u200b": "", "\u2060": "", "\u00ad": "",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2212": "-", "\u2015": "\u2014",
    "\u2032": "'", "\u2033": '"', "\u2039": "\u2039", "\u201b": "'", "\u201f": '"',
    "\u2264": "<=", "\u2265": ">=", "\u2248": "~", "\u2260": "!=", "\u2243": "~",
    "\u2192": "->", "\u2190": "<-", "\u2194": "<->", "\u21d2": "=>", "\u2191": "^",
    "\u2193": "v", "\u221e": "inf", "\u2211": "sum", "\u221a": "sqrt", "\u2206": "Delta",
    "\u0394": "Delta", "\u03b1": "alpha", "\u03b2": "beta", "\u03b3": "gamma",
    "\u03b4": "delta", "\u03b7": "eta", "\u03bb": "lambda", "\u03bc": "\u00b5",
    "\u03c0": "pi", "\u03c1": "rho", "\u03c3": "sigma", "\u03c4": "tau",
    "\u03c6": "phi", "\u03c9": "omega", "\u03a9": "Ohm", "\u2126": "Ohm",
    "\u2022": "\u2022", "\u25cf": "\u2022", "\u25aa": "\u2022", "\u2023": "\u2022",
    "\u2713": "v", "\u2714": "v", "\u2717": "x", "\u00a0": "\u00a0",
    "\u2103": "\u00b0C", "\u2116": "No", "\u2030": "\u2030",
}


def to_cp1252(text):
    """Encode text as cp1252, replacing unencodable characters sensibly."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1252")
            continue
        except UnicodeEncodeError:
            pass
        rep = CP1252_FALLBACK.get(ch)
        if rep is None:
            nk = unicodedata.normalize("NFKD", ch)
            nk = "".join(c for c in nk if not unicodedata.combining(c))
            rep = nk if nk and nk != ch else "?"
        out += rep.encode("cp1252", errors="replace")
    # control characters have no glyph
    return bytes(b if b >= 32 else 32 for b in out)


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------

# Advance widths (1/1000 em) of the standard Helvetica and Helvetica-Bold AFM
# metrics for WinAnsiEncoding codes 32..255 (undefined codes set to 350).
HELVETICA_WIDTHS = (
     278,  278,  355,  556,  556,  889,  667,  191,  333,  333,  389,  584,  278,  333,  278,  278,  # 32-47
     556,  556,  556,  556,  556,  556,  556,  556,  556,  556,  278,  278,  584,  584,  584,  556,  # 48-63
    1015,  667,  667,  722,  722,  667,  611,  778,  722,  278,  500,  667,  556,  833,  722,  778,  # 64-79
     667,  778,  722,  667,  611,  722,  667,  944,  667,  667,  611,  278,  278,  278,  469,  556,  # 80-95
     333,  556,  556,  500,  556,  556,  278,  556,  556,  222,  222,  500,  222,  833,  556,  556,  # 96-111
     556,  556,  333,  500,  278,  556,  500,  722,  500,  500,  500,  334,  260,  334,  584,  350,  # 112-127
     556,  350,  222,  556,  333, 1000,  556,  556,  333, 1000,  667,  333, 1000,  350,  611,  350,  # 128-143
     350,  222,  222,  333,  333,  350,  556, 1000,  333, 1000,  500,  333,  944,  350,  500,  667,  # 144-159
     278,  333,  556,  556,  556,  556,  260,  556,  333,  737,  370,  556,  584,  333,  737,  333,  # 160-175
     400,  584,  333,  333,  333,  578,  537,  278,  333,  333,  365,  556,  834,  834,  834,  611,  # 176-191
     667,  667,  667,  667,  667,  667, 1000,  722,  667,  667,  667,  667,  278,  278,  278,  278,  # 192-207
     722,  722,  778,  778,  778,  778,  778,  584,  778,  722,  722,  722,  722,  667,  667,  611,  # 208-223
     556,  556,  556,  556,  556,  556,  889,  500,  556,  556,  556,  556,  278,  278,  278,  278,  # 224-239
     556,  556,  556,  556,  556,  556,  556,  584,  611,  556,  556,  556,  556,  500,  556,  500,  # 240-255
)

HELVETICA_BOLD_WIDTHS = (
     278,  333,  474,  556,  556,  889,  722,  238,  333,  333,  389,  584,  278,  333,  278,  278,  # 32-47
     556,  556,  556,  556,  556,  556,  556,  556,  556,  556,  333,  333,  584,  584,  584,  611,  # 48-63
     975,  722,  722,  722,  722,  667,  611,  778,  722,  278,  556,  722,  611,  833,  722,  778,  # 64-79
     667,  778,  722,  667,  611,  722,  667,  944,  667,  667,  611,  333,  278,  333,  584,  556,  # 80-95
     333,  556,  611,  556,  611,  556,  333,  611,  611,  278,  278,  556,  278,  889,  611,  611,  # 96-111
     611,  611,  389,  556,  333,  611,  556,  778,  556,  556,  500,  389,  280,  389,  584,  350,  # 112-127
     556,  350,  278,  556,  500, 1000,  556,  556,  333, 1000,  667,  333, 1000,  350,  611,  350,  # 128-143
     350,  278,  278,  500,  500,  350,  556, 1000,  333, 1000,  556,  333,  944,  350,  500,  667,  # 144-159
     278,  333,  556,  556,  556,  556,  280,  556,  333,  737,  370,  556,  584,  333,  737,  333,  # 160-175
     400,  584,  333,  333,  333,  611,  556,  278,  333,  333,  365,  556,  834,  834,  834,  611,  # 176-191
     722,  722,  722,  722,  722,  722, 1000,  722,  667,  667,  667,  667,  278,  278,  278,  278,  # 192-207
     722,  722,  778,  778,  778,  778,  778,  584,  778,  722,  722,  722,  722,  667,  667,  611,  # 208-223
     556,  556,  556,  556,  556,  556,  889,  556,  556,  556,  556,  556,  278,  278,  278,  278,  # 224-239
     611,  611,  611,  611,  611,  611,  611,  584,  611,  611,  611,  611,  611,  556,  611,  556,  # 240-255
)

PAGE_W, PAGE_H = 595.28, 841.89            # A4 in points
MARGIN_L, MARGIN_R = 62.0, 62.0
MARGIN_T, MARGIN_B = 70.0, 70.0

# style: (font resource, size, leading, space before, space after)
PDF_STYLES = {
    "h1": ("F2", 18.0, 22.0, 0.0, 12.0),
    "h2": ("F2", 13.5, 17.0, 12.0, 5.0),
    "h3": ("F2", 11.5, 15.0, 9.0, 4.0),
    "p": ("F1", 10.5, 14.0, 0.0, 7.0),
}


def text_width(data, font, size):
    table = HELVETICA_BOLD_WIDTHS if font == "F2" else HELVETICA_WIDTHS
    return sum(table[b - 32] if b >= 32 else 0 for b in data) * size / 1000.0


def wrap_line(data, font, size, max_width):
    """Word-wrap a cp1252 byte string into lines no wider than max_width."""
    words = []
    glue_next = False
    for w in (w for w in data.split(b" ") if w):
        # French spacing: never break before » : ; ! ? % or after «
        if words and (glue_next or w[:1] in b"\xbb:;!?%" and len(w) <= 2):
            words[-1] += b" " + w
        else:
            words.append(w)
        glue_next = w == b"\xab"
    lines, cur = [], b""
    space = text_width(b" ", font, size)
    cur_w = 0.0
    for w in words:
        ww = text_width(w, font, size)
        if ww > max_width:                      # hard-break over-long words
            if cur:
                lines.append(cur)
                cur, cur_w = b"", 0.0
            piece = b""
            for i in range(len(w)):
                c = w[i:i + 1]
                if text_width(piece + c, font, size) > max_width and piece:
                    lines.append(piece)
                    piece = b""
                piece += c
            cur, cur_w = piece, text_width(piece, font, size)
            continue
        if not cur:
            cur, cur_w = w, ww
        elif cur_w + space + ww <= max_width:
            cur, cur_w = cur + b" " + w, cur_w + space + ww
        else:
            lines.append(cur)
            cur, cur_w = w, ww
    if cur:
        lines.append(cur)
    return lines


def pdf_escape(data):
    return (data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
                .replace(b"\r", b"\\r").replace(b"\n", b"\\n"))


def pdf_text_string(s):
    """A PDF text string (Info dictionary): UTF-16BE with BOM, as hex."""
    s = _XML_BAD.sub("", s)
    return b"<FEFF" + s.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def pdf_num(x):
    s = ("%.2f" % x).rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"


def layout_pdf(doc):
    """Lay the blocks out on A4 pages; returns a list of content streams."""
    max_w = PAGE_W - MARGIN_L - MARGIN_R
    top = PAGE_H - MARGIN_T
    pages = []
    ops = []
    y = top
    first_on_page = True

    def new_page():
        nonlocal ops, y, first_on_page
        pages.append(ops)
        ops = []
        y = top
        first_on_page = True

    blocks = doc.blocks
    for idx, (kind, text) in enumerate(blocks):
        if kind == "page":
            if not first_on_page:
                new_page()
            continue
        font, size, lead, before, after = PDF_STYLES.get(kind, PDF_STYLES["p"])
        lines = wrap_line(to_cp1252(text), font, size, max_w)
        if not lines:
            continue
        if not first_on_page:
            y -= before
        need = len(lines) * lead
        if kind.startswith("h"):
            # keep a heading with at least two lines of what follows
            need += 2 * PDF_STYLES["p"][2]
        if kind.startswith("h") and y - need < MARGIN_B and not first_on_page:
            new_page()
        n = len(lines)
        for i, line in enumerate(lines):
            room = int((y - MARGIN_B) // lead)      # lines that still fit on this page
            if not first_on_page and (
                    room < 1
                    # orphan: never leave a paragraph's first line alone at the bottom
                    or (i == 0 and n >= 2 and room == 1)
                    # widow: never push a paragraph's last line alone to the next page
                    or (n >= 4 and n - i == 2 and room == 1)):
                new_page()
            y -= lead
            ops.append("BT /%s %s Tf 1 0 0 1 %s %s Tm (" % (font, pdf_num(size), pdf_num(MARGIN_L), pdf_num(y + (lead - size) * 0.5)))
            ops.append(pdf_escape(line))
            ops.append(") Tj ET\n")
            first_on_page = False
        y -= after
    if ops or not pages:
        pages.append(ops)
    streams = []
    for p in pages:
        buf = bytearray()
        for item in p:
            buf += item if isinstance(item, bytes) else item.encode("ascii")
        streams.append(bytes(buf))
    return streams


def xmp_packet(doc):
    """XMP metadata (Dublin Core + PDF + XMP basic) as UTF-8 bytes."""
    d = doc.date
    created = d + "T00:00:00Z"
    lang = doc.lang_tag or "x-default"
    authors = "".join("<rdf:li>%s</rdf:li>" % xml_text(a) for a in doc.authors)
    topics = "".join("<rdf:li>%s</rdf:li>" % xml_text(t) for t in doc.topics)
    x = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '<rdf:Description rdf:about=""\n'
        '  xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '  xmlns:pdf="http://ns.adobe.com/pdf/1.3/"\n'
        '  xmlns:xmp="http://ns.adobe.com/xap/1.0/">\n'
        ' <dc:format>application/pdf</dc:format>\n'
        ' <dc:title><rdf:Alt><rdf:li xml:lang="x-default">%(title)s</rdf:li></rdf:Alt></dc:title>\n'
        ' <dc:creator><rdf:Seq>%(authors)s</rdf:Seq></dc:creator>\n'
        ' <dc:publisher><rdf:Bag><rdf:li>%(org)s</rdf:li></rdf:Bag></dc:publisher>\n'
        ' <dc:date><rdf:Seq><rdf:li>%(date)s</rdf:li></rdf:Seq></dc:date>\n'
        ' <dc:language><rdf:Bag><rdf:li>%(lang)s</rdf:li></rdf:Bag></dc:language>\n'
        ' <dc:subject><rdf:Bag>%(topics)s</rdf:Bag></dc:subject>\n'
        ' <dc:type><rdf:Bag><rdf:li>%(type)s</rdf:li></rdf:Bag></dc:type>\n'
        ' <dc:description><rdf:Alt><rdf:li xml:lang="x-default">%(summary)s</rdf:li></rdf:Alt></dc:description>\n'
        ' <pdf:Keywords>%(keywords)s</pdf:Keywords>\n'
        ' <pdf:Producer>%(gen)s</pdf:Producer>\n'
        ' <xmp:CreatorTool>%(gen)s</xmp:CreatorTool>\n'
        ' <xmp:CreateDate>%(created)s</xmp:CreateDate>\n'
        ' <xmp:ModifyDate>%(created)s</xmp:ModifyDate>\n'
        ' <xmp:MetadataDate>%(created)s</xmp:MetadataDate>\n'
        '</rdf:Description>\n'
        '</rdf:RDF>\n'
        '</x:xmpmeta>\n'
        '<?xpacket end="w"?>'
    ) % {
        "title": xml_text(doc.title), "authors": authors,
        "org": xml_text(doc.organisation), "date": d, "lang": xml_text(lang),
        "topics": topics, "type": xml_text(doc.doctype),
        "summary": xml_text(doc.summary),
        "keywords": xml_text(", ".join(doc.topics)), "gen": GENERATOR,
        "created": created,
    }
    return x.encode("utf-8")


def make_pdf(doc):
    """Return the bytes of a PDF 1.4 file for doc."""
    streams = layout_pdf(doc)
    n_pages = len(streams)
    # object numbers
    CATALOG, PAGES, F1, F2, INFO, META = 1, 2, 3, 4, 5, 6
    first_page = 7
    objs = {}

    kids = " ".join("%d 0 R" % (first_page + 2 * i) for i in range(n_pages))
    lang = doc.lang_tag
    catalog = b"<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R"
    if lang:
        catalog += b" /Lang (" + pdf_escape(lang.encode("ascii", "replace")) + b")"
    catalog += b" >>"
    objs[CATALOG] = catalog
    objs[PAGES] = ("<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 %s %s] >>"
                   % (kids, n_pages, pdf_num(PAGE_W), pdf_num(PAGE_H))).encode("ascii")
    objs[F1] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    objs[F2] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    pdfdate = "D:%04d%02d%02d000000Z" % doc.date_tuple
    info = [
        (b"Title", pdf_text_string(doc.title)),
        (b"Author", pdf_text_string("; ".join(doc.authors))),
        (b"Subject", pdf_text_string(doc.summary)),
        (b"Keywords", pdf_text_string(", ".join(doc.topics))),
        (b"Creator", pdf_text_string(GENERATOR)),
        (b"Producer", pdf_text_string(GENERATOR)),
        (b"CreationDate", b"(" + pdfdate.encode("ascii") + b")"),
        (b"ModDate", b"(" + pdfdate.encode("ascii") + b")"),
    ]
    objs[INFO] = b"<<\n" + b"".join(b"/" + k + b" " + v + b"\n" for k, v in info) + b">>"
    xmp = xmp_packet(doc)
    objs[META] = (b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(xmp)
                  + xmp + b"\nendstream")
    for i, content in enumerate(streams):
        pobj = first_page + 2 * i
        cobj = pobj + 1
        objs[pobj] = (b"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R /F2 4 0 R >> "
                      b"/ProcSet [/PDF /Text] >> /Contents %d 0 R >>" % cobj)
        objs[cobj] = (b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    n_objs = max(objs) + 1
    # pages first, document metadata (Info, XMP) last
    order = [CATALOG, PAGES, F1, F2] + list(range(first_page, n_objs)) + [INFO, META]
    for num in order:
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n" % n_objs
    out += b"0000000000 65535 f \n"
    for num in range(1, n_objs):
        out += b"%010d 00000 n \n" % offsets[num]
    file_id = hashlib.md5(bytes(out)).hexdigest().upper().encode("ascii")
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R /ID [<%s> <%s>] >>\n"
            % (n_objs, file_id, file_id))
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


# ---------------------------------------------------------------------------
# ZIP helpers (DOCX, ODT)
# ---------------------------------------------------------------------------

def _zip_add(zf, name, data, date_tuple, compress=True):
    zi = zipfile.ZipInfo(name, date_time=date_tuple + (0, 0, 0))
    zi.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    zi.create_system = 3
    zi.create_version = 20
    zi.extract_version = 20
    zi.external_attr = 0o100644 << 16
    zi.flag_bits = 0
    if isinstance(data, str):
        data = data.encode("utf-8")
    if compress:
        zf.writestr(zi, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    else:
        zf.writestr(zi, data, compress_type=zipfile.ZIP_STORED)


def _zip_bytes(entries, date_tuple):
    """entries: list of (name, data, compress). Returns the zip bytes."""
    import io
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data, compress in entries:
            _zip_add(zf, name, data, date_tuple, compress)
    return buf.getvalue()


def _zip_date(doc):
    y, m, d = doc.date_tuple
    return (max(1980, min(y, 2107)), m, d)


# ---------------------------------------------------------------------------
# DOCX
# ---------------------------------------------------------------------------

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def docx_parts(doc, body_xml=None):
    """Return the (name, data) parts of a DOCX; body_xml overrides document.xml."""
    lang = doc.lang_tag or "en-GB"
    created = doc.date + "T00:00:00Z"
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        '</Types>')
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
        '</Relationships>')
    doc_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        '</Relationships>')
    styles = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<w:styles xmlns:w="%s">'
        '<w:docDefaults><w:rPrDefault><w:rPr>'
        '<w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:eastAsia="Calibri" w:cs="Calibri"/>'
        '<w:sz w:val="22"/><w:szCs w:val="22"/><w:lang w:val="%s"/></w:rPr></w:rPrDefault>'
        '<w:pPrDefault><w:pPr><w:spacing w:after="160" w:line="264" w:lineRule="auto"/></w:pPr></w:pPrDefault>'
        '</w:docDefaults>'
        '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>'
        '<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/>'
        '<w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="240" w:after="120"/>'
        '<w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:b/><w:sz w:val="36"/><w:szCs w:val="36"/></w:rPr></w:style>'
        '<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/>'
        '<w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="200" w:after="80"/>'
        '<w:outlineLvl w:val="1"/></w:pPr><w:rPr><w:b/><w:sz w:val="28"/><w:szCs w:val="28"/></w:rPr></w:style>'
        '<w:style w:type="paragraph" w:styleId="Heading3"><w:name w:val="heading 3"/><w:basedOn w:val="Normal"/>'
        '<w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="160" w:after="60"/>'
        '<w:outlineLvl w:val="2"/></w:pPr><w:rPr><w:b/><w:sz w:val="24"/><w:szCs w:val="24"/></w:rPr></w:style>'
        '</w:styles>') % (W_NS, xml_text(lang))
    if body_xml is None:
        body = []
        page_next = False
        for kind, text in doc.blocks:
            if kind == "page":
                page_next = True
                continue
            ppr = ""
            if kind in ("h1", "h2", "h3"):
                ppr += '<w:pStyle w:val="Heading%s"/>' % kind[1]
            if page_next:
                ppr += "<w:pageBreakBefore/>"
            page_next = False
            body.append('<w:p>%s<w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>'
                        % ("<w:pPr>%s</w:pPr>" % ppr if ppr else "", xml_text(text)))
        body_xml = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<w:document xmlns:w="%s" xmlns:r="%s"><w:body>\n%s\n'
            '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'
            '<w:pgMar w:top="1418" w:right="1247" w:bottom="1418" w:left="1247" '
            'w:header="709" w:footer="709" w:gutter="0"/></w:sectPr>'
            '</w:body></w:document>') % (W_NS, R_NS, "\n".join(body))
    core = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<dc:title>%s</dc:title>'
        '<dc:creator>%s</dc:creator>'
        '<dc:subject>%s</dc:subject>'
        '<cp:keywords>%s</cp:keywords>'
        '<dc:language>%s</dc:language>'
        '<cp:category>%s</cp:category>'
        '<dcterms:created xsi:type="dcterms:W3CDTF">%s</dcterms:created>'
        '<dcterms:modified xsi:type="dcterms:W3CDTF">%s</dcterms:modified>'
        '</cp:coreProperties>') % (
            xml_text(doc.title), xml_text("; ".join(doc.authors)), xml_text(doc.summary),
            xml_text(", ".join(doc.topics)), xml_text(lang), xml_text(doc.doctype),
            created, created)
    app = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        '<Application>%s</Application><Company>%s</Company></Properties>') % (
            GENERATOR, xml_text(doc.organisation))
    return [
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", rels),
        ("word/document.xml", body_xml),
        ("word/_rels/document.xml.rels", doc_rels),
        ("word/styles.xml", styles),
        ("docProps/core.xml", core),
        ("docProps/app.xml", app),
    ]


def make_docx(doc):
    """Return the bytes of a DOCX (Office Open XML) file for doc."""
    return _zip_bytes([(n, d, True) for n, d in docx_parts(doc)], _zip_date(doc))


# ---------------------------------------------------------------------------
# ODT
# ---------------------------------------------------------------------------

ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"')


def make_odt(doc):
    """Return the bytes of an ODT (OpenDocument Text) file for doc."""
    lang = doc.lang_tag or "en-GB"
    language, _, country = lang.partition("-")
    created = doc.date + "T00:00:00"
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">\n'
        ' <manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="application/vnd.oasis.opendocument.text"/>\n'
        ' <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>\n'
        ' <manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>\n'
        ' <manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>\n'
        '</manifest:manifest>\n')
    body = []
    page_next = False
    for kind, text in doc.blocks:
        if kind == "page":
            page_next = True
            continue
        if kind in ("h1", "h2", "h3"):
            style = "Heading_20_%s" % kind[1]
            if page_next:
                style = "PBH%s" % kind[1]
            body.append('<text:h text:style-name="%s" text:outline-level="%s">%s</text:h>'
                        % (style, kind[1], xml_text(text)))
        else:
            style = "PBP" if page_next else "Text_20_body"
            body.append('<text:p text:style-name="%s">%s</text:p>' % (style, xml_text(text)))
        page_next = False
    auto = ('<office:automatic-styles>'
            '<style:style style:name="PBP" style:family="paragraph" style:parent-style-name="Text_20_body">'
            '<style:paragraph-properties fo:break-before="page"/></style:style>'
            + "".join('<style:style style:name="PBH%d" style:family="paragraph" '
                      'style:parent-style-name="Heading_20_%d" style:default-outline-level="%d">'
                      '<style:paragraph-properties fo:break-before="page"/></style:style>' % (i, i, i)
                      for i in (1, 2, 3))
            + '</office:automatic-styles>')
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-content %s office:version="1.2">%s'
        '<office:body><office:text>\n%s\n</office:text></office:body></office:document-content>\n'
    ) % (ODF_NS, auto, "\n".join(body))
    keywords = "".join("<meta:keyword>%s</meta:keyword>" % xml_text(t) for t in doc.topics)
    authors = "; ".join(doc.authors)
    meta = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-meta %s office:version="1.2"><office:meta>\n'
        ' <meta:generator>%s</meta:generator>\n'
        ' <dc:title>%s</dc:title>\n'
        ' <dc:subject>%s</dc:subject>\n'
        ' <dc:description>%s</dc:description>\n'
        ' <meta:initial-creator>%s</meta:initial-creator>\n'
        ' <dc:creator>%s</dc:creator>\n'
        ' <dc:language>%s</dc:language>\n'
        ' <meta:creation-date>%s</meta:creation-date>\n'
        ' <dc:date>%s</dc:date>\n'
        ' %s\n'
        ' <meta:user-defined meta:name="organisation">%s</meta:user-defined>\n'
        ' <meta:user-defined meta:name="type">%s</meta:user-defined>\n'
        '</office:meta></office:document-meta>\n'
    ) % (ODF_NS, GENERATOR, xml_text(doc.title), xml_text(doc.summary), xml_text(doc.summary),
         xml_text(authors), xml_text(authors), xml_text(lang), created, created, keywords,
         xml_text(doc.organisation), xml_text(doc.doctype))
    heading_styles = "".join(
        '<style:style style:name="Heading_20_%d" style:display-name="Heading %d" style:family="paragraph" '
        'style:parent-style-name="Heading" style:next-style-name="Text_20_body" '
        'style:default-outline-level="%d" style:class="text">'
        '<style:text-properties fo:font-size="%s" fo:font-weight="bold"/></style:style>'
        % (i, i, i, size) for i, size in ((1, "18pt"), (2, "14pt"), (3, "12pt")))
    styles = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-styles %s office:version="1.2"><office:styles>'
        '<style:default-style style:family="paragraph">'
        '<style:text-properties fo:font-size="11pt" fo:language="%s" fo:country="%s"/></style:default-style>'
        '<style:style style:name="Standard" style:family="paragraph" style:class="text"/>'
        '<style:style style:name="Heading" style:family="paragraph" style:parent-style-name="Standard" '
        'style:next-style-name="Text_20_body" style:class="text">'
        '<style:paragraph-properties fo:margin-top="0.42cm" fo:margin-bottom="0.21cm" fo:keep-with-next="always"/>'
        '</style:style>'
        '<style:style style:name="Text_20_body" style:display-name="Text body" style:family="paragraph" '
        'style:parent-style-name="Standard" style:class="text">'
        '<style:paragraph-properties fo:margin-top="0cm" fo:margin-bottom="0.25cm"/></style:style>'
        '%s</office:styles>'
        '<office:automatic-styles><style:page-layout style:name="pm1">'
        '<style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm" '
        'fo:margin-top="2.5cm" fo:margin-bottom="2.5cm" fo:margin-left="2.2cm" fo:margin-right="2.2cm"/>'
        '</style:page-layout></office:automatic-styles>'
        '<office:master-styles><style:master-page style:name="Standard" style:page-layout-name="pm1"/>'
        '</office:master-styles></office:document-styles>\n'
    ) % (ODF_NS, xml_text(language), xml_text(country), heading_styles)
    return _zip_bytes([
        ("mimetype", b"application/vnd.oasis.opendocument.text", False),
        ("META-INF/manifest.xml", manifest, True),
        ("content.xml", content, True),
        ("styles.xml", styles, True),
        ("meta.xml", meta, True),
    ], _zip_date(doc))


MAKERS = {"pdf": make_pdf, "docx": make_docx, "odt": make_odt}


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def find_sources(src):
    out = []
    if not os.path.isdir(src):
        return out
    for lang in sorted(os.listdir(src)):
        d = os.path.join(src, lang)
        if not os.path.isdir(d):
            continue
        for fn in sorted(os.listdir(d)):
            m = re.fullmatch(r"(.+)\.(pdf|docx|odt)\.md", fn)
            if m:
                out.append(os.path.join(d, fn))
    return out


def convert(path, out_root, strict=False):
    """Convert one source file; returns (output path, problems)."""
    fn = os.path.basename(path)
    m = re.fullmatch(r"(.+)\.(pdf|docx|odt)\.md", fn)
    if not m:
        raise ValueError("%s: not a <name>.<pdf|docx|odt>.md file" % path)
    name, ext = m.group(1), m.group(2)
    folder_lang = os.path.basename(os.path.dirname(os.path.abspath(path)))
    with open(path, encoding="utf-8") as f:
        doc = parse_source(f.read(), name)
    problems = check_meta(doc, folder_lang if folder_lang in LANG_TAGS else None)
    if problems and strict:
        return None, problems
    lang = folder_lang if folder_lang in LANG_TAGS else (doc.lang or "xx")
    out_dir = os.path.join(out_root, lang)
    os.makedirs(out_dir, exist_ok=True)
    out_path = os.path.join(out_dir, "%s.%s" % (name, ext))
    data = MAKERS[ext](doc)
    old = None
    if os.path.exists(out_path):
        with open(out_path, "rb") as f:
            old = f.read()
    if old != data:
        with open(out_path, "wb") as f:
            f.write(data)
    return out_path, problems


def main(argv=None):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=None, help="sources folder (default: <repo>/corpus-src)")
    ap.add_argument("--out", default=None, help="output folder (default: <repo>/corpus)")
    ap.add_argument("--strict", action="store_true",
                    help="skip (and fail on) sources whose metadata is incomplete or invalid")
    ap.add_argument("-q", "--quiet", action="store_true")
    ap.add_argument("files", nargs="*", help="convert only these source files")
    args = ap.parse_args(argv)
    src = args.src or os.path.join(root, "corpus-src")
    out = args.out or os.path.join(root, "corpus")
    files = args.files or find_sources(src)
    if not files:
        print("mkoffice: no <name>.<pdf|docx|odt>.md sources under %s" % src, file=sys.stderr)
        return 0
    failed = 0
    for path in files:
        try:
            out_path, problems = convert(path, out, args.strict)
        except (OSError, UnicodeDecodeError, ValueError) as e:
            print("mkoffice: %s: %s" % (path, e), file=sys.stderr)
            failed += 1
            continue
        for p in problems:
            print("mkoffice: %s: %s" % (path, p), file=sys.stderr)
        if out_path is None:
            failed += 1
        elif not args.quiet:
            print("%s -> %s" % (path, out_path))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
