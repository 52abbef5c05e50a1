"""Identifier scanner: no direct identifier may appear anywhere in the rendered site.

Run over the whole site after every render (a render hook, :func:`site_check`) and over any
folder or file (:func:`scan_path`). It looks for:

- ``run``: Chilean RUN/RUT as ``12.345.678-5``, ``12345678-5`` (always: the format is
  unambiguous, valid check digit or not) and ``12345678K`` / ``123456785`` (compact: a K
  check digit, or a valid check digit next to the word RUN/RUT/cédula);
- ``passport``: the synthetic passports (``ZZ`` + 7 digits) and any number after
  "pasaporte"/"passport";
- ``email``: e-mail addresses (``mailto:`` links included);
- ``phone``: Chilean numbers with the country code (``+56 9 1234 5678``, ``+56 2 2123 4567``)
  and 9-digit mobiles (``912345678``, ``9 1234 5678``);
- ``birth_date``: a full date next to a birth word (nacimiento, nacido/a, birth, born, DOB)
  or under a column whose header names a birth date (``fecha_nacimiento``, ``birth_date``);
- ``name``: a name of a person of the synthetic population (given name and surname(s),
  compared without accents or letter case).

HTML is read as text nodes and attribute values (alt text, titles, aria labels, links);
embedded PNG images are opened and their text chunks scanned, embedded SVG is scanned as
text. CSV files are scanned cell by cell, manifest.json value by value.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import struct
import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import yaml
from stdnum.cl import rut as stdnum_rut

from ..core.paths import codebooks_dir, data_dir, synthetic_dir


@dataclass(frozen=True)
class Hit:
    file: str
    kind: str
    match: str
    line: int | None = None
    context: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.kind} {self.match!r}"


# ============================================================================ patterns
_MONTHS = (
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|"
    "diciembre|january|february|march|april|may|june|july|august|september|october|november|december"
)
RUN_FORMATTED = re.compile(r"(?<![\w.\-])(?:\d{1,2}\.\d{3}\.\d{3}|\d{7,8})\s?-\s?[\dkK](?![\w\-])")
RUN_COMPACT_K = re.compile(r"(?<![\w.,])\d{7,8}[kK](?!\w)")
RUN_COMPACT_DIGITS = re.compile(r"(?<![\w.,])\d{8,9}(?![\w]|[.,]\d)")
RUN_CONTEXT = re.compile(r"\b(?:run|rut|r\.u\.[nt]\.?|c[ée]dula|c\.i\.)\b", re.IGNORECASE)
PASSPORT_SYNTHETIC = re.compile(r"(?<![\w])ZZ\d{7}(?!\w)")
PASSPORT_CONTEXT = re.compile(
    r"\b(?:pasaporte|passport)(?:\s+(?:n[°ºo.]*|number|número|numero|no\.?))?\s*:?\s*([A-Z]{0,3}\d{6,9})\b",
    re.IGNORECASE,
)
EMAIL = re.compile(
    r"(?<![\w.+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}(?!\w)"
)
PHONE_CC = re.compile(
    r"(?<![\w+])(?:\+\s?56|\(\+?56\))[\s.\-]?(?:9[\s.\-]?\d{4}[\s.\-]?\d{4}|2[\s.\-]?\d{4}[\s.\-]?\d{4}"
    r"|[3-7]\d[\s.\-]?\d{3}[\s.\-]?\d{4})(?!\d)"
)
PHONE_MOBILE = re.compile(r"(?<![\w.,+\-])9(?:\d{8}|[\s.\-]\d{4}[\s.\-]\d{4})(?!\w|[.,]\d)")
DATE = re.compile(
    r"(?<![\w.\-/])(?:\d{1,2}[-/.]\d{1,2}[-/.](?:19|20)\d{2}|(?:19|20)\d{2}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}\s+(?:de\s+)?(?:{_MONTHS})\s+(?:de\s+|del\s+)?(?:19|20)\d{{2}}"
    rf"|(?:{_MONTHS})\s+\d{{1,2}},?\s+(?:19|20)\d{{2}})(?![\w])",
    re.IGNORECASE,
)
BIRTH_CONTEXT = re.compile(
    r"(?:nacimiento|nacid[oa]s?|naci[óo]|f\.?\s?nac\b|fec_nac|birth|born|\bdob\b|d\.o\.b|cumpleaños)",
    re.IGNORECASE,
)
BIRTH_COLUMN = re.compile(r"(?:nacimiento|f_?nac|fec_?nac|birth|\bdob\b)", re.IGNORECASE)
_CONTEXT_CHARS = 40


def _valid_run(text: str) -> bool:
    try:
        return stdnum_rut.is_valid(text)
    except Exception:  # noqa: BLE001 - stdnum raises several kinds for malformed input
        return False


def _fold(text: str) -> str:
    """Lower case without accents (ñ -> n), for comparing names."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


# ============================================================================ names
@dataclass(frozen=True)
class NameIndex:
    """Full names as tuples of folded words; matched as consecutive words of a text."""

    names: frozenset
    max_len: int

    @classmethod
    def build(cls, names: Iterable[str]) -> NameIndex:
        out = set()
        for n in names:
            words = tuple(_WORD.findall(_fold(str(n))))
            if len(words) < 2:  # a single word is never matched: "Rosa", "Paz", "Santiago"
                continue
            out.add(words)
            if len(words) >= 3:  # "Given Surname1 Surname2" is also written "Given Surname1"
                out.add(words[:2])
                out.add((words[0], words[-2]))
        return cls(frozenset(out), max((len(w) for w in out), default=0))

    def __len__(self) -> int:
        return len(self.names)

    def find(self, text: str) -> list[str]:
        if not self.names:
            return []
        words = _WORD.findall(_fold(text))
        found = []
        for i in range(len(words)):
            for n in range(self.max_len, 1, -1):
                if tuple(words[i : i + n]) in self.names:
                    found.append(" ".join(words[i : i + n]))
                    break
        return found


def person_name_variants(given: str, surname_1: str | None, surname_2: str | None) -> list[str]:
    """How a person's name may be written: all given names or the first one, with the first
    surname or both."""
    given = str(given or "").strip()
    if not given:
        return []
    first = given.split()[0]
    s1 = str(surname_1 or "").strip()
    s2 = str(surname_2 or "").strip()
    out = []
    for g in {given, first}:
        if s1:
            out.append(f"{g} {s1}")
            if s2:
                out.append(f"{g} {s1} {s2}")
    return out


def _names_from_frame(df) -> list[str]:
    cols = set(df.columns)
    if {"given_names", "surname_1"} <= cols:
        s2 = df["surname_2"] if "surname_2" in cols else [None] * len(df)
        out = []
        for g, a, b in zip(df["given_names"], df["surname_1"], s2, strict=True):
            if isinstance(g, str):
                out.extend(
                    person_name_variants(
                        g, a if isinstance(a, str) else None, b if isinstance(b, str) else None
                    )
                )
        return out
    for col in ("full_name", "name", "person_name"):
        if col in cols:
            return [v for v in df[col] if isinstance(v, str)]
    return []


def _read_table(path: Path, columns: list[str] | None = None):
    import pandas as pd

    if path.suffix == ".parquet":
        try:
            return pd.read_parquet(path, columns=columns)
        except (KeyError, ValueError):
            return pd.read_parquet(path)
    if path.suffix in (".csv", ".gz"):
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    return None


def synthetic_names(root: Path | None = None) -> list[str]:
    """Names of the synthetic population: from the truth under ``<synthetic>/_truth`` (person
    tables with given_names/surname_1/surname_2 or a full-name column), else from the
    synthetic exports' name columns as the codebooks declare them (``fields.person_name``)."""
    root = Path(root or synthetic_dir())
    names: list[str] = []
    truth = root / "_truth"
    if truth.is_dir():
        for path in sorted(truth.rglob("*")):
            if path.is_file() and path.suffix in (".parquet", ".csv") and "person" in path.name:
                df = _read_table(path, ["given_names", "surname_1", "surname_2"])
                if df is not None:
                    names.extend(_names_from_frame(df))
    if names:
        return names
    return _names_from_exports(root)


def _names_from_exports(root: Path) -> list[str]:
    if not root.is_dir() or not codebooks_dir().is_dir():
        return []
    import pandas as pd

    names = []
    for cb_path in sorted(codebooks_dir().glob("*/*.yaml")):
        with open(cb_path, encoding="utf-8") as fh:
            cb = yaml.safe_load(fh) or {}
        field_spec = (cb.get("fields") or {}).get("person_name") or {}
        if not field_spec.get("recorded"):
            continue
        column = field_spec.get("original_name")
        export = cb.get("export") or {}
        folder = root / cb_path.parent.name / cb_path.stem
        for path in sorted(folder.rglob(export.get("filename", "*"))) if folder.is_dir() else []:
            try:
                if export.get("format") == "xlsx":
                    df = pd.read_excel(
                        path,
                        sheet_name=export.get("sheet", 0),
                        dtype=str,
                        header=int(export.get("header_row", 1)) - 1,
                    )
                else:
                    df = pd.read_csv(
                        path,
                        dtype=str,
                        sep=export.get("delimiter", ","),
                        encoding=export.get("encoding", "utf-8"),
                        header=int(export.get("header_row", 1)) - 1,
                        keep_default_na=False,
                    )
            except (OSError, ValueError):
                continue
            if column in df.columns:
                names.extend(v for v in df[column] if isinstance(v, str) and v.strip())
    return names


@cache
def _cached_index(root: str, stamp: tuple) -> NameIndex:
    return NameIndex.build(synthetic_names(Path(root)))


def default_name_index() -> NameIndex:
    """The synthetic population's names, cached until the synthetic folder changes."""
    root = synthetic_dir()
    truth = root / "_truth"
    probe = [p for p in (truth, root) if p.exists()]
    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in probe)
    if truth.is_dir():
        stamp += tuple(
            (str(p), p.stat().st_mtime_ns) for p in sorted(truth.rglob("*")) if p.is_file()
        )
    return _cached_index(str(root), stamp)


# ============================================================================ allow-list
@cache
def _allowed() -> frozenset:
    """Values the project decided may appear (``data/audit/scanner.yaml``: ``allow``)."""
    path = data_dir() / "audit" / "scanner.yaml"
    if not path.is_file():
        return frozenset()
    with open(path, encoding="utf-8") as fh:
        spec = yaml.safe_load(fh) or {}
    return frozenset((e["kind"], str(e["value"]).lower()) for e in spec.get("allow") or [])


# ============================================================================ text
def scan_text(
    text: str,
    *,
    file: str = "",
    line: int | None = None,
    names: NameIndex | None = None,
    birth_column: bool = False,
) -> list[Hit]:
    """Identifiers in one piece of text (a text node, an attribute value, a CSV cell)."""
    if not text or not text.strip():
        return []
    hits: list[Hit] = []
    spans: list[tuple[int, int]] = []

    def add(kind: str, match: str, start: int) -> None:
        if (kind, match.lower()) in _allowed():
            return
        end = start + len(match)
        if kind != "name":  # one identifier, one hit: "+56 9 1234 5678" is not also a mobile
            if any(a < end and start < b for a, b in spans):
                return
            spans.append((start, end))
        ctx = text[max(0, start - _CONTEXT_CHARS) : start + len(match) + _CONTEXT_CHARS]
        hits.append(Hit(file, kind, match, line, " ".join(ctx.split())))

    for m in RUN_FORMATTED.finditer(text):
        add("run", m.group(0), m.start())
    for m in RUN_COMPACT_K.finditer(text):
        add("run", m.group(0), m.start())
    for m in RUN_COMPACT_DIGITS.finditer(text):
        before = text[max(0, m.start() - 30) : m.start()]
        if RUN_CONTEXT.search(before) and _valid_run(m.group(0)):
            add("run", m.group(0), m.start())
    for m in PASSPORT_SYNTHETIC.finditer(text):
        add("passport", m.group(0), m.start())
    for m in PASSPORT_CONTEXT.finditer(text):
        if not PASSPORT_SYNTHETIC.fullmatch(m.group(1)):
            add("passport", m.group(1), m.start(1))
    for m in EMAIL.finditer(text):
        add("email", m.group(0), m.start())
    for m in PHONE_CC.finditer(text):
        add("phone", m.group(0), m.start())
    for m in PHONE_MOBILE.finditer(text):
        add("phone", m.group(0), m.start())
    for m in DATE.finditer(text):
        before = text[max(0, m.start() - _CONTEXT_CHARS) : m.start()]
        if birth_column or BIRTH_CONTEXT.search(before):
            add("birth_date", m.group(0), m.start())
    if names is not None:
        for n in names.find(text):
            add("name", n, 0)
    return hits


# ============================================================================ HTML
class _HTMLTexts(HTMLParser):
    """Yields (text, line, birth_column) for text nodes and attribute values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, int, bool]] = []
        self._skip = 0  # inside <style>
        self._headers: list[list[str]] = []  # per open table: header texts
        self._col: list[int] = []
        self._in_th = False
        self._th_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        line = self.getpos()[0]
        if tag == "style":
            self._skip += 1
        if tag == "table":
            self._headers.append([])
            self._col.append(-1)
        elif tag == "tr" and self._col:
            self._col[-1] = -1
        elif tag in ("td", "th") and self._col:
            self._col[-1] += 1
            if tag == "th":
                self._in_th = True
                self._th_text = []
        for name, value in attrs:
            if not value or name in ("class", "style"):
                continue
            if value.startswith("data:"):
                for text in _data_uri_texts(value):
                    self.items.append((text, line, False))
            else:
                self.items.append((value, line, False))

    def handle_endtag(self, tag):
        if tag == "style" and self._skip:
            self._skip -= 1
        elif tag == "table" and self._headers:
            self._headers.pop()
            self._col.pop()
        elif tag == "th" and self._in_th and self._headers:
            col = self._col[-1]
            heads = self._headers[-1]
            while len(heads) <= col:
                heads.append("")
            heads[col] = " ".join(self._th_text)
            self._in_th = False

    def handle_data(self, data):
        if self._skip:
            return
        if self._in_th:
            self._th_text.append(data.strip())
        birth = False
        if self._headers and self._col and self._col[-1] >= 0:
            heads = self._headers[-1]
            col = self._col[-1]
            birth = col < len(heads) and bool(BIRTH_COLUMN.search(heads[col]))
        self.items.append((data, self.getpos()[0], birth))


def _png_texts(blob: bytes) -> Iterator[str]:
    """The text chunks (tEXt, zTXt, iTXt) of a PNG."""
    if not blob.startswith(b"\x89PNG\r\n\x1a\n"):
        return
    pos = 8
    while pos + 8 <= len(blob):
        (length,) = struct.unpack(">I", blob[pos : pos + 4])
        kind = blob[pos + 4 : pos + 8]
        data = blob[pos + 8 : pos + 8 + length]
        pos += 12 + length
        try:
            if kind == b"tEXt":
                yield data.replace(b"\x00", b" ").decode("latin-1")
            elif kind == b"zTXt":
                key, _, rest = data.partition(b"\x00")
                yield key.decode("latin-1") + " " + zlib.decompress(rest[1:]).decode("latin-1")
            elif kind == b"iTXt":
                key, _, rest = data.partition(b"\x00")
                flag, rest = rest[0], rest[2:]
                _lang, _, rest = rest.partition(b"\x00")
                _tkey, _, text = rest.partition(b"\x00")
                body = zlib.decompress(text) if flag else text
                yield key.decode("latin-1") + " " + body.decode("utf-8", "replace")
        except (zlib.error, IndexError, UnicodeDecodeError):
            continue
        if kind == b"IEND":
            return


def _data_uri_texts(uri: str) -> list[str]:
    head, _, payload = uri.partition(",")
    try:
        blob = base64.b64decode(payload) if ";base64" in head else payload.encode("utf-8")
    except (ValueError, TypeError):
        return []
    if "image/png" in head:
        return list(_png_texts(blob))
    if "svg" in head or head.startswith("data:text"):
        return [blob.decode("utf-8", "replace")]
    return []


def scan_html(text: str, *, file: str = "", names: NameIndex | None = None) -> list[Hit]:
    parser = _HTMLTexts()
    parser.feed(text)
    parser.close()
    hits = []
    for chunk, line, birth in parser.items:
        hits.extend(scan_text(chunk, file=file, line=line, names=names, birth_column=birth))
    return hits


# ============================================================================ CSV, JSON, files
def scan_csv(text: str, *, file: str = "", names: NameIndex | None = None) -> list[Hit]:
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text), dialect)
    hits: list[Hit] = []
    header: list[str] = []
    for i, row in enumerate(rows, start=1):
        if i == 1:
            header = row
        for j, cell in enumerate(row):
            birth = i > 1 and j < len(header) and bool(BIRTH_COLUMN.search(header[j]))
            hits.extend(scan_text(cell, file=file, line=i, birth_column=birth))
        if names is not None:  # a name may be split over given-name and surname columns
            for n in names.find(" ".join(row)):
                hits.append(Hit(file, "name", n, i, ""))
    return hits


def _json_strings(obj, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield f"{path}.{key}", str(key)
            yield from _json_strings(value, f"{path}.{key}")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _json_strings(value, f"{path}[{i}]")
    elif obj is not None:
        yield path, str(obj)


def scan_json(text: str, *, file: str = "", names: NameIndex | None = None) -> list[Hit]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return scan_plain(text, file=file, names=names)
    hits = []
    for path, value in _json_strings(obj):
        birth = bool(BIRTH_COLUMN.search(path.rsplit(".", 1)[-1]))
        for h in scan_text(value, file=file, names=names, birth_column=birth):
            hits.append(Hit(h.file, h.kind, h.match, None, f"{path}: {h.context}"))
    return hits


def scan_plain(text: str, *, file: str = "", names: NameIndex | None = None) -> list[Hit]:
    hits = []
    for i, line in enumerate(text.splitlines(), start=1):
        hits.extend(scan_text(line, file=file, line=i, names=names))
    return hits


TEXT_SUFFIXES = {".txt", ".md", ".js", ".css", ".svg", ".xml", ".tsv"}


def scan_file(path: Path, *, root: Path | None = None, names: NameIndex | None = None) -> list[Hit]:
    """Identifiers in one file of the site (HTML, CSV, JSON, text, PNG)."""
    path = Path(path)
    label = str(path.relative_to(root)) if root else str(path)
    suffix = path.suffix.lower()
    if suffix == ".png":
        return [
            h for t in _png_texts(path.read_bytes()) for h in scan_text(t, file=label, names=names)
        ]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = path.read_text(encoding="latin-1")
        except OSError:
            return []
    if suffix in (".html", ".htm"):
        return scan_html(text, file=label, names=names)
    if suffix == ".csv":
        return scan_csv(text, file=label, names=names)
    if suffix == ".json":
        return scan_json(text, file=label, names=names)
    if suffix in TEXT_SUFFIXES:
        return scan_plain(text, file=label, names=names)
    return []


def scan_path(path, *, names: NameIndex | None = None) -> list[Hit]:
    """Scan a file or every file under a folder. ``names`` defaults to the synthetic
    population's names."""
    path = Path(path)
    names = default_name_index() if names is None else names
    if path.is_file():
        return scan_file(path, root=path.parent, names=names)
    hits = []
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        hits.extend(scan_file(f, root=path, names=names))
    return hits


def problems(hits: Iterable[Hit]) -> list[str]:
    """One line per hit: file, line, kind and the match."""
    return [f"identifier found: {h}" for h in hits]


def site_check(site_dir) -> list[str]:
    """Render hook: one problem per identifier found in the site (file, line, kind, match)."""
    return problems(scan_path(site_dir))


def scan_frame(df, *, names: NameIndex | None = None, label: str = "table") -> list[Hit]:
    """Identifiers in the text cells of a DataFrame (used by the audit on loaded records)."""
    hits = []
    for col in df.columns:
        birth = bool(BIRTH_COLUMN.search(str(col)))
        values = df[col].dropna()
        if values.dtype.kind in "iufbmM":
            continue
        for v in values.astype(str).unique():  # each distinct value once
            hits.extend(
                scan_text(v, file=f"{label}[{col}]", line=None, names=names, birth_column=birth)
            )
    return hits


# ============================================================================ masking at rest
@dataclass(frozen=True)
class NameWords:
    """Given-name and surname words of the synthetic population (folded), for values that
    are rejected at ingestion: two adjacent words, one a given name and the other a surname
    (either order: "María Soto", "SOTO MARÍA"), make a value name-like. Cheaper to build
    than :class:`NameIndex` (sets of words, not every full name), and a superset of it."""

    given: frozenset
    surnames: frozenset

    def find(self, text: str) -> list[str]:
        if not self.given or not self.surnames:
            return []
        words = _WORD.findall(_fold(text))
        out = []
        for a, b in zip(words, words[1:], strict=False):
            if (a in self.given and b in self.surnames) or (a in self.surnames and b in self.given):
                out.append(f"{a} {b}")
        return out


@cache
def _cached_name_words(root: str, stamp: tuple) -> NameWords:
    import pyarrow.parquet as pq

    given: set = set()
    surnames: set = set()
    truth = Path(root) / "_truth"
    for path in sorted(truth.rglob("*.parquet")) if truth.is_dir() else []:
        if "person" not in path.name:
            continue
        try:
            table = pq.ParquetFile(path).read(columns=["given_names", "surname_1", "surname_2"])
        except (OSError, ValueError, KeyError):
            continue
        for col, target in (
            ("given_names", given),
            ("surname_1", surnames),
            ("surname_2", surnames),
        ):
            target.update(name_words_of(table[col].combine_chunks()))
    return NameWords(frozenset(given), frozenset(surnames))


def name_words_of(values, min_len: int = 2) -> set:
    """The folded words (as :func:`_fold` folds them) of an Arrow or pandas array of names."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = values if isinstance(values, pa.Array) else pa.array(list(values), type=pa.string())
    arr = pc.drop_null(pc.unique(arr))
    folded = pc.utf8_lower(
        pc.replace_substring_regex(pc.utf8_normalize(arr, "NFKD"), r"\p{Mn}", "")
    )
    words = pc.unique(pc.list_flatten(pc.split_pattern_regex(folded, r"[^a-z']+")))
    return {w for w in words.to_pylist() if w and len(w) >= min_len and _WORD.fullmatch(w)}


def default_name_words() -> NameWords:
    """The synthetic population's name words, cached until its truth folder changes."""
    root = synthetic_dir()
    truth = root / "_truth"
    stamp = (
        tuple((str(p), p.stat().st_mtime_ns) for p in sorted(truth.rglob("*.parquet")))
        if truth.is_dir()
        else ()
    )
    return _cached_name_words(str(root), stamp)


def mask_identifiers(text, names=None):
    """``text`` with every identifier the scanner recognises replaced by ``[kind]``
    (``"escribir a ana@example.cl"`` -> ``"escribir a [email]"``); a value holding a person's
    name (``names``: a :class:`NameIndex` or :class:`NameWords`) is replaced whole by
    ``[name]``. Anything that is not text is returned as is."""
    if not isinstance(text, str) or not text.strip():
        return text
    if names is not None and names.find(text):
        return "[name]"
    hits = scan_text(text)
    for h in sorted(hits, key=lambda h: -len(h.match)):
        text = text.replace(h.match, f"[{h.kind}]")
    return text
