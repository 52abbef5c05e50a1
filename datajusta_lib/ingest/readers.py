"""Reading institutional exports as they are delivered, and writing them (for tests, benchmarks).

Every cell is read as text; typing is the harmoniser's job. What the reader guarantees:

- the encoding is detected and reported, never silently mis-decoded: UTF-8 (with or without
  BOM) is tried strictly first; Latin-1 is used only when no byte is a C1 control character,
  Windows-1252 only when every byte is defined there; bytes that look like UTF-8 mixed with
  invalid ones, NUL bytes, UTF-16 or a workbook renamed ``.csv`` are errors naming the line;
- the delimiter (``,`` ``;`` or tab) and the header row are found from the codebook's column
  names, and any difference from what the codebook declares is reported as a note;
- every row keeps ``source_file``, ``source_sheet`` and ``source_row``: the line of a CSV or the
  row of a sheet as a person opening the file sees it (records spanning lines get the line
  they start on);
- rows that cannot be split into the header's columns are kept aside (``unparsed``) with the
  rule that failed, so that rows read = rows parsed + rows unparsed;
- workbooks: the data sheet is the codebook's (or the one holding the header), title rows
  above the header are skipped, formulas are read as their text (never computed), typed
  date cells as dates; a lean reader of the sheet XML does this fast and openpyxl takes over
  for anything unusual;
- the file is only ever opened for reading.

CSV lines are parsed by Arrow's multi-threaded parser when every record is one line; a file
with blank lines, quoted line breaks or rows of the wrong width takes a careful line-by-line
path so that each row keeps its true line number. Every physical data line is accounted for
(rows + blank lines + continuation lines), a stray quote never swallows the rows after it,
and over-long cells are set aside (:mod:`.read_guard`).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from . import read_guard
from .codebooks import Codebook, ExportSpec

LINEAGE = ["source_file", "source_sheet", "source_row"]
NOTE_COLUMNS = ["file", "row", "column", "rule", "value"]
HEADER_SEARCH_ROWS = 50
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
TYPED_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")  # how XLSX date cells are read


class ReadError(ValueError):
    """A file that cannot be read at all: names the file, the row/column if known, and the rule."""

    def __init__(
        self, file, rule: str, message: str, row: int | None = None, column: str | None = None
    ):
        self.file, self.rule, self.row, self.column = str(file), rule, row, column
        where = ", ".join(
            [str(file)]
            + ([f"row {row}"] if row is not None else [])
            + ([f"column {column}"] if column is not None else [])
        )
        super().__init__(f"{where}: rule {rule}: {message}")


@dataclass
class ReadInfo:
    """How a file was read: detected encoding, delimiter, header row and sheet, and notes."""

    file: str
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int = 1
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    n_rows: int = 0
    n_blank: int = 0
    notes: list[dict] = field(default_factory=list)
    n_lines: int | None = None  # physical data lines below the header (read_guard)
    n_continuation: int = 0  # lines that continue a multi-line record

    def note(self, rule: str, value, row=None, column=None) -> None:
        self.notes.append(
            {"file": self.file, "row": row, "column": column, "rule": rule, "value": value}
        )

    def describe(self) -> str:
        parts = [self.format.upper()]
        if self.encoding:
            parts.append(f"encoding {self.encoding}")
        if self.delimiter:
            parts.append(f"delimiter {DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))}")
        if self.sheet:
            parts.append(f"sheet {self.sheet!r} (of {', '.join(map(repr, self.sheets))})")
        parts.append(f"header on row {self.header_row}")
        if self.n_blank:
            parts.append(f"{self.n_blank} blank row(s) skipped")
        if self.n_continuation:
            parts.append(f"{self.n_continuation} line(s) continuing multi-line values")
        return ", ".join(parts)


@dataclass
class RawTable:
    """The rows of one export as text, with lineage, plus the rows that could not be split."""

    frame: pd.DataFrame
    info: ReadInfo
    unparsed: pd.DataFrame

    @property
    def n_read(self) -> int:
        return len(self.frame) + len(self.unparsed)


def _unparsed(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[*LINEAGE, "rule", "value"]).astype({"source_row": "Int64"})


# --------------------------------------------------------------------------------------
# encodings
# --------------------------------------------------------------------------------------
# "Ã" or "Â" followed by a Latin-1 continuation character: the trace of UTF-8 decoded twice
_DOUBLE_ENCODED = re.compile(
    "[\u00c2\u00c3][\u0080-\u00bf\u2018-\u201e\u2020-\u2122\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc]"
)


def _line_col(raw: bytes, pos: int) -> tuple[int, int]:
    line = raw.count(b"\n", 0, pos) + 1
    return line, pos - (raw.rfind(b"\n", 0, pos) + 1) + 1


def decode(raw: bytes, file, declared: str | None = None) -> tuple[str, str]:
    """(text, encoding used) for the bytes of a text export; see the module docstring."""
    if not raw or raw.isspace():
        raise ReadError(file, "file_is_empty", "the file has no content")
    if raw.startswith(b"PK\x03\x04"):
        raise ReadError(file, "not_a_text_file", "this is a ZIP/XLSX workbook, not a CSV file")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError(
            file,
            "unsupported_encoding",
            "UTF-16 text is not supported: re-export as UTF-8 (or Latin-1)",
        )
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, col = _line_col(raw, nul)
        raise ReadError(
            file, "binary_content", f"NUL byte at character {col}: not a text export", row=line
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            line, col = _line_col(raw, exc.start + 3)
            raise ReadError(
                file,
                "invalid_utf8",
                f"the file starts with a UTF-8 byte-order mark but byte 0x{raw[exc.start + 3]:02X} "
                f"at character {col} is not valid UTF-8",
                row=line,
            ) from None
    try:
        text = raw.decode("utf-8")
        return text, "ascii" if text.isascii() else "utf-8"
    except UnicodeDecodeError as exc:
        bad = exc.start
    line, col = _line_col(raw, bad)
    # Every valid multi-byte UTF-8 sequence shrinks the decoded text; every invalid byte
    # becomes one escape. Many valid sequences next to a few bad bytes is UTF-8 with damage
    # (or two files glued together): decoding it as Latin-1 would turn every accented letter
    # into two wrong ones ("Ã±"), so refuse. A pair of Latin-1 characters that happens to be
    # valid UTF-8 ("Ñ°") among many Latin-1 accents is Latin-1.
    n_multibyte, n_invalid, has_c1 = _utf8_census(raw)
    if n_multibyte >= 2 * n_invalid:
        raise ReadError(
            file,
            "mixed_encoding",
            f"byte 0x{raw[bad]:02X} at character {col} is not valid UTF-8, yet the file also "
            "holds UTF-8 multi-byte sequences: it mixes encodings (or is corrupt); re-export it "
            "in one encoding",
            row=line,
        )
    if not has_c1:  # no C1 control byte: true Latin-1
        return raw.decode("latin-1"), "latin-1"
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        line, col = _line_col(raw, exc.start)
        raise ReadError(
            file,
            "unknown_encoding",
            f"byte 0x{raw[exc.start]:02X} at character {col} is valid in neither UTF-8 nor "
            "Latin-1/Windows-1252",
            row=line,
        ) from None


def _utf8_census(raw: bytes) -> tuple[int, int, bool]:
    """(bytes saved by valid multi-byte UTF-8 sequences, high bytes in none, any C1 byte),
    looking only at the bytes >= 0x80 (vectorised; Spanish text has few of them)."""
    a = np.frombuffer(raw, dtype=np.uint8)
    hi = np.flatnonzero(a >= 0x80)
    if not len(hi):
        return 0, 0, False
    b = a[hi]
    last = len(a) - 1

    def cont(k: int) -> np.ndarray:
        j = hi + k
        nxt = a[np.minimum(j, last)]
        return (j <= last) & (nxt >= 0x80) & (nxt < 0xC0)

    c1, c2, c3 = cont(1), cont(2), cont(3)
    seq2 = int(((b >= 0xC2) & (b <= 0xDF) & c1).sum())
    seq3 = int(((b >= 0xE0) & (b <= 0xEF) & c1 & c2).sum())
    seq4 = int(((b >= 0xF0) & (b <= 0xF4) & c1 & c2 & c3).sum())
    covered = 2 * seq2 + 3 * seq3 + 4 * seq4
    has_c1 = bool(((b >= 0x80) & (b < 0xA0)).any())
    return seq2 + 2 * seq3 + 3 * seq4, max(len(hi) - covered, 0), has_c1


def _same_encoding(detected: str, declared: str | None) -> bool:
    if declared is None or detected == "ascii":
        return True
    family = {"latin-1": "latin", "cp1252": "latin", "utf-8": "utf-8", "utf-8-sig": "utf-8-sig"}
    return family.get(detected) == family.get(declared)


# --------------------------------------------------------------------------------------
# header detection
# --------------------------------------------------------------------------------------
def _clean_name(name) -> str:
    return "" if name is None else str(name).replace("\ufeff", "").strip()


class _Expected(dict):
    """Expected column names in codebook order (record id first); ``&`` works like a set."""

    def __and__(self, other):
        return set(self) & set(other)

    def __rand__(self, other):
        return set(other) & set(self)


def _score(names: Iterable[str], expected: set[str]) -> int:
    return len({_clean_name(n) for n in names} & expected)


def _split_line(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _find_csv_header(
    lines: list[str], expected: set[str] | None, spec: ExportSpec | None, file
) -> tuple[int, str]:
    """(0-based header line, delimiter) chosen by how many expected column names they give."""
    declared = spec.delimiter if spec and spec.delimiter else None
    candidates = [d for d in (declared, ";", ",", "\t") if d] if declared else [";", ",", "\t"]
    candidates = list(dict.fromkeys(candidates))
    if not expected:
        first = (spec.header_row - 1) if spec else 0
        if first >= len(lines):
            raise ReadError(file, "header_not_found", "the file has fewer lines than header_row")
        counts = {d: lines[first].count(d) for d in candidates}
        return first, (declared if declared and counts[declared] else max(counts, key=counts.get))
    best = (0, 0, declared or ";")
    for i, line in enumerate(lines[:HEADER_SEARCH_ROWS]):
        if not line.strip():
            continue
        for d in candidates:
            if d not in line and len(expected) > 1:
                continue
            s = _score(_split_line(line, d), expected)
            if s > best[0]:
                best = (s, i, d)
    if best[0] == 0:
        raise ReadError(
            file,
            "header_not_found",
            f"none of the expected columns ({', '.join(list(expected)[:6])}"
            f"{', ...' if len(expected) > 6 else ''}) appears in the first {HEADER_SEARCH_ROWS} "
            "lines with a comma, semicolon or tab delimiter",
        )
    return best[1], best[2]


# --------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------
def read_csv(path, spec: ExportSpec | None = None, expected: set[str] | None = None) -> RawTable:
    """Read a delimited text export (see the module docstring)."""
    path = Path(path)
    file = str(path)
    read_guard.raise_csv_field_limit()
    raw = path.read_bytes()
    declared_enc = spec.encoding if spec else None
    text, encoding = decode(raw, file, declared_enc)
    # "Ã" and "Â" in UTF-8 (C3 83, C3 82) start the trace of text decoded twice
    maybe_twice = encoding.startswith("utf-8") and (b"\xc3\x83" in raw or b"\xc3\x82" in raw)
    del raw
    info = ReadInfo(file=file, format="csv", encoding=encoding)
    if not _same_encoding(encoding, declared_enc):
        info.note("encoding_differs_from_codebook", f"declared {declared_enc}, detected {encoding}")
    twice = _DOUBLE_ENCODED.search(text) if maybe_twice else None
    if twice:  # valid text, but "Ã‘" for "Ñ": someone decoded UTF-8 as Latin-1 and saved it again
        line = text.count("\n", 0, twice.start()) + 1
        info.note(
            "possible_double_encoding",
            f"{twice.group(0)!r} looks like UTF-8 read as Latin-1",
            row=line,
        )
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    head = text.split("\n", HEADER_SEARCH_ROWS)
    h, delim = _find_csv_header(head[:HEADER_SEARCH_ROWS], expected, spec, file)
    info.delimiter, info.header_row = delim, h + 1
    if spec and spec.delimiter and delim != spec.delimiter:
        info.note(
            "delimiter_differs_from_codebook",
            f"declared {DELIMITER_NAMES[spec.delimiter]}, detected {DELIMITER_NAMES[delim]}",
            row=h + 1,
        )
    _note_header_row(info, spec, h)
    header = [_clean_name(n) for n in _split_line(head[h], delim)]
    width = len(header)
    first_line = h + 2
    body = text.split("\n", h + 1)[h + 1] if len(head) > h + 1 else ""
    del text, head
    info.n_lines = read_guard.count_lines(body)
    frame = None
    if '"' not in body and "\n\n" not in body and not body.startswith("\n"):
        # fast path: one record per line, no blank lines; Arrow parses, rows are numbered by
        # position; any line with the wrong number of fields sends us to the careful path
        frame = _parse_body(body, delim, width)
        if frame is not None:
            numbers = np.arange(first_line, first_line + len(frame))
            unparsed: list[dict] = []
    if frame is None:
        frame, numbers, unparsed = _careful_parse(body, delim, width, first_line, file, info)
    empty = _all_empty(frame)
    if empty.any():  # rows of bare delimiters (";;;;"), as spreadsheets export them
        info.n_blank += int(empty.sum())
        keep = ~empty
        frame = frame[keep].reset_index(drop=True)
        numbers = np.asarray(numbers)[keep]
    return _raw_table(frame, numbers, unparsed, header, info)


def _note_header_row(info: ReadInfo, spec: ExportSpec | None, h: int) -> None:
    if spec and h + 1 != spec.header_row:
        info.note(
            "header_row_differs_from_codebook",
            f"declared row {spec.header_row}, found row {h + 1}",
            row=h + 1,
        )


def _raw_table(
    frame: pd.DataFrame,
    numbers,
    unparsed: list[dict],
    header: list[str],
    info: ReadInfo,
    sheet: str | None = None,
) -> RawTable:
    """The rows read (columns ``c0, c1...``) as a RawTable: over-long cells set aside, every
    line accounted for, columns named by the header, lineage added (CSV and XLSX alike)."""
    file = info.file
    frame, numbers, too_long = read_guard.set_aside_long_cells(frame, numbers, file, header, sheet)
    unparsed = sorted(unparsed + too_long, key=lambda u: u["source_row"])
    read_guard.check_accounted(info, len(frame), len(unparsed))
    frame = _name_columns(frame, header, info)
    frame["source_file"] = file
    if sheet is None:
        frame["source_sheet"] = pd.Series(pd.NA, index=frame.index, dtype="str")
    else:
        frame["source_sheet"] = sheet
    frame["source_row"] = pd.array(np.asarray(numbers, dtype=np.int64), dtype="Int64")
    info.n_rows = len(frame)
    return RawTable(frame.reset_index(drop=True), info, _unparsed(unparsed))


def _all_empty(frame: pd.DataFrame) -> np.ndarray:
    empty = np.ones(len(frame), dtype=bool)
    for c in frame.columns:
        empty &= (frame[c].str.strip() == "").to_numpy(dtype=bool)
        if not empty.any():
            break
    return empty


def _careful_parse(body: str, delim: str, width: int, first_line: int, file: str, info: ReadInfo):
    """Line by line: blank lines, wrong field counts and quoted line breaks, each numbered."""
    lines = body.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    unparsed: list[dict] = []
    if any('"' in ln and read_guard.quote_open_at_end(ln, delim) for ln in lines):
        # a quote left open at the end of a line: assemble records line by line, so that
        # a stray quote never swallows the rows after it (read_guard)
        kept, kept_numbers, unparsed, n_blank, n_cont = read_guard.assemble(
            lines, delim, width, first_line, file
        )
        info.n_blank += n_blank
        info.n_continuation += n_cont
        frame = pd.DataFrame(kept, columns=[f"c{i}" for i in range(width)], dtype="str")
        if not kept:
            frame = _empty_frame(width)
        return frame, kept_numbers, unparsed
    keep_lines: list[str] = []
    numbers: list[int] = []
    blank = delim + " \t"
    for n, ln in enumerate(lines, start=first_line):
        if not ln.strip(blank):
            info.n_blank += 1
            continue
        k = (ln.count(delim) + 1) if '"' not in ln else len(_split_line(ln, delim))
        if k != width:
            unparsed.append(_bad_width(file, n, k, width))
            continue
        keep_lines.append(ln)
        numbers.append(n)
    frame = _parse_body("\n".join(keep_lines), delim, width, strict=True)
    return frame, numbers, unparsed


def _empty_frame(width: int) -> pd.DataFrame:
    return pd.DataFrame({f"c{i}": pd.Series(dtype="str") for i in range(width)})


def _bad_width(file: str, n: int, k: int, width: int) -> dict:
    # the line itself is not kept: it may hold a RUN or a name
    return {
        "source_file": file,
        "source_sheet": None,
        "source_row": n,
        "rule": "wrong_number_of_fields",
        "value": f"{k} fields, the header has {width}",
    }


def _parse_body(body: str, delim: str, width: int, strict: bool = False) -> pd.DataFrame | None:
    """Arrow's multi-threaded CSV parser on the data lines, every column as text.

    Returns None when a line has the wrong number of fields (unless ``strict``, where the
    caller has already set such lines aside)."""
    names = [f"c{i}" for i in range(width)]
    if not body.strip("\n"):
        return _empty_frame(width)
    invalid = []

    def on_invalid(row):
        invalid.append(row)
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(body.encode("utf-8")),
        read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(
            delimiter=delim,
            newlines_in_values=False,
            ignore_empty_lines=False,
            invalid_row_handler=None if strict else on_invalid,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    if invalid:
        return None
    return table.to_pandas()


def _name_columns(frame: pd.DataFrame, header: list[str], info: ReadInfo) -> pd.DataFrame:
    names = []
    drop = []
    for i, name in enumerate(header):
        col = frame.columns[i]
        if name == "":
            if (frame[col].fillna("").str.strip() == "").all():
                drop.append(col)  # a trailing delimiter / empty spreadsheet column
                continue
            name = f"(unnamed column {i + 1})"
        names.append(name)
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise ReadError(
                info.file,
                "duplicate_column_name",
                f"the header names column {name!r} twice (positions {seen[name] + 1} and {i + 1})",
                row=info.header_row,
                column=name,
            )
        seen[name] = i
    frame = frame.drop(columns=drop)
    frame.columns = names
    return frame


# --------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------
def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(v, date):
        return datetime.combine(v, time()).strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


class _FastWorkbook:
    """A lean XLSX reader for the plain workbooks institutions export: values only, formulas
    as their text ("=..."), typed dates as datetimes, exactly like openpyxl's
    ``values_only`` rows with ``data_only=False``, but without a Python object per cell.
    Anything unusual raises, and the caller falls back to openpyxl."""

    _ROW = re.compile(r"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.S)
    _CELL = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
    _ATTR = re.compile(r'([\w:]+)="([^"]*)"')
    _V = re.compile(r"<v>(.*?)</v>", re.S)
    _F = re.compile(r"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
    _T = re.compile(r"<t\b[^>]*?(?:/>|>(.*?)</t>)", re.S)
    _RPH = re.compile(r"<rPh\b.*?</rPh>", re.S)
    _REF = re.compile(r"([A-Z]+)(\d+)")

    def __init__(self, path: Path):
        import html

        self._unescape = html.unescape
        self.zip = zipfile.ZipFile(path)
        wb = self._xml("xl/workbook.xml")
        if "<sheet " not in wb and "<sheet\t" not in wb:
            raise ValueError("no <sheet> element (prefixed XML?)")
        rels = self._xml("xl/_rels/workbook.xml.rels")
        targets = {}
        for m in re.finditer(r"<Relationship\b([^>]*)/?>", rels):
            a = dict(self._ATTR.findall(m.group(1)))
            t = a.get("Target", "")
            targets[a.get("Id")] = t.lstrip("/") if t.startswith("/") else "xl/" + t
        self.sheets: dict[str, str] = {}
        for m in re.finditer(r"<sheet\b([^>]*)/?>", wb):
            a = dict(self._ATTR.findall(m.group(1)))
            self.sheets[self._unescape(a["name"])] = targets[a["r:id"]]
        self.date1904 = bool(re.search(r'date1904="(1|true)"', wb))
        self.shared = self._shared_strings()
        self.date_styles = self._date_styles()

    def _xml(self, name: str) -> str:
        return self.zip.read(name).decode("utf-8")

    def _shared_strings(self) -> list[str]:
        if "xl/sharedStrings.xml" not in self.zip.namelist():
            return []
        xml = self._RPH.sub("", self._xml("xl/sharedStrings.xml"))
        out = []
        for si in re.finditer(r"<si\b[^>]*?(?:/>|>(.*?)</si>)", xml, re.S):
            out.append(self._unescape("".join(t or "" for t in self._T.findall(si.group(1) or ""))))
        return out

    def _date_styles(self) -> set[int]:
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

        if "xl/styles.xml" not in self.zip.namelist():
            return set()
        xml = self._xml("xl/styles.xml")
        custom = {}
        for m in re.finditer(r"<numFmt\b([^>]*)/?>", xml):
            a = dict(self._ATTR.findall(m.group(1)))
            custom[int(a["numFmtId"])] = self._unescape(a.get("formatCode", ""))
        xfs = re.search(r"<cellXfs\b[^>]*>(.*?)</cellXfs>", xml, re.S)
        dates = set()
        for i, m in enumerate(re.finditer(r"<xf\b([^>]*?)(?:/>|>)", xfs.group(1) if xfs else "")):
            fid = int(dict(self._ATTR.findall(m.group(1))).get("numFmtId", 0))
            code = custom.get(fid, BUILTIN_FORMATS.get(fid, "General"))
            if is_date_format(code):
                dates.add(i)
        return dates

    def rows(self, sheet: str) -> list[tuple]:
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

        epoch = CALENDAR_MAC_1904 if self.date1904 else CALENDAR_WINDOWS_1900
        xml = self._xml(self.sheets[sheet])
        if "<sheetData" not in xml:
            raise ValueError("no <sheetData> (prefixed XML?)")
        if not _XML_END.search(xml[-200:]):  # a sheet cut mid-way: rows would be lost silently
            raise ValueError(
                f"the sheet's XML is truncated: it ends after {len(xml):,} characters without "
                "closing </worksheet>, so rows after that point are missing"
            )
        out: list[tuple] = []
        for row in self._ROW.finditer(xml):
            r = int(dict(self._ATTR.findall(row.group(1)))["r"])
            while len(out) < r - 1:
                out.append(())
            cells: list = []
            for c in self._CELL.finditer(row.group(2) or ""):
                a = dict(self._ATTR.findall(c.group(1)))
                body = c.group(2) or ""
                ref = self._REF.fullmatch(a["r"]) if "r" in a else None
                col = _col_index(ref.group(1)) if ref else len(cells)
                while len(cells) < col:
                    cells.append(None)
                kind = a.get("t", "n")
                f = self._F.search(body)
                v = self._V.search(body)
                raw = self._unescape(v.group(1)) if v else None
                if f is not None:
                    value = "=" + self._unescape(f.group(1) or "")
                elif kind == "s":
                    value = self.shared[int(raw)]
                elif kind == "inlineStr":
                    value = self._unescape(
                        "".join(t or "" for t in self._T.findall(self._RPH.sub("", body)))
                    )
                elif kind in ("str", "e"):
                    value = raw
                elif kind == "b":
                    value = raw in ("1", "true")
                elif kind == "d":
                    value = datetime.fromisoformat(raw) if raw else None
                elif raw is None or raw == "":
                    value = None
                else:
                    num = float(raw) if any(ch in raw for ch in ".eE") else int(raw)
                    if int(a.get("s", 0)) in self.date_styles:
                        value = from_excel(num, epoch)
                    else:
                        value = num
                cells.append(value)
            out.append(tuple(cells))
        return out

    def close(self) -> None:
        self.zip.close()


_XML_END = re.compile(r"</(?:\w+:)?worksheet>\s*$")
# what a damaged workbook raises while being read (zlib: a damaged deflate stream;
# SyntaxError: openpyxl's XML parser on a truncated sheet)
_BROKEN = (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error, SyntaxError)


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def read_xlsx(path, spec: ExportSpec | None = None, expected: set[str] | None = None) -> RawTable:
    """Read a workbook: find the data sheet and the header below any title rows."""
    path = Path(path)
    file = str(path)
    _check_xlsx_signature(path)
    names, sheet_rows, close = _open_workbook(path)
    info = ReadInfo(file=file, format="xlsx", sheets=names)
    declared = spec.sheet if spec else None
    try:
        best = _find_data_sheet(file, names, sheet_rows, declared, spec, expected)
    finally:
        close()
    if best is None or best[0] == 0:
        exp = ", ".join(list(expected or [])[:6])
        raise ReadError(
            file,
            "header_not_found",
            f"no sheet has the expected columns ({exp}, ...) in its first {HEADER_SEARCH_ROWS} rows",
        )
    _, sheet, rows, h = best
    info.sheet, info.header_row = sheet, h + 1
    if declared and sheet != declared:
        info.note("sheet_differs_from_codebook", f"declared {declared!r}, data found in {sheet!r}")
    _note_header_row(info, spec, h)
    if h >= len(rows):
        raise ReadError(file, "header_not_found", f"sheet {sheet!r} has fewer rows than header_row")
    header = [_clean_name(v) for v in rows[h]]
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    data, numbers, unparsed = _sheet_data_rows(rows, h, width, sheet, info)
    frame = pd.DataFrame(data, columns=[f"c{i}" for i in range(width)], dtype="str")
    if not data:
        frame = _empty_frame(width)
    info.n_lines = max(len(rows) - (h + 1), 0)
    return _raw_table(frame, numbers, unparsed, header, info, sheet)


def _check_xlsx_signature(path: Path) -> None:
    """An empty file, a CSV or an old .xls under an .xlsx name fail here, with a clear rule."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if not magic:
        raise ReadError(str(path), "file_is_empty", "the file has no content")
    if magic != b"PK\x03\x04":
        raise ReadError(
            str(path),
            "corrupt_xlsx",
            "not an XLSX workbook (no ZIP signature); is it a CSV or an old .xls?",
        )


def _open_workbook(path: Path):
    """(sheet names, a function giving a sheet's rows, close): the lean reader of the sheet
    XML, or openpyxl for anything unusual (which reads it or says why not)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = _FastWorkbook(path)
        return list(book.sheets), book.rows, book.close
    except Exception:  # noqa: BLE001 - anything unusual: openpyxl reads it (or says why not)
        try:
            wb = load_workbook(path, read_only=True, data_only=False)
        except (InvalidFileException, TypeError, *_BROKEN) as exc:
            raise ReadError(
                str(path), "corrupt_xlsx", f"the workbook cannot be opened: {exc}"
            ) from None

        def sheet_rows(name):
            return [tuple(r) for r in wb[name].iter_rows(values_only=True)]

        return list(wb.sheetnames), sheet_rows, wb.close


def _find_data_sheet(file: str, names, sheet_rows, declared, spec, expected):
    """(score, sheet, rows, header index) of the best header in the first rows of each sheet,
    the declared sheet first; without expected columns, the declared (or first) sheet."""
    order = ([declared] if declared in names else []) + [s for s in names if s != declared]
    best = None
    for name in order:
        try:
            rows = sheet_rows(name)
        except _BROKEN as exc:
            raise ReadError(file, "corrupt_xlsx", f"sheet {name!r} cannot be read: {exc}") from None
        if not expected:
            h = (spec.header_row - 1) if spec else 0
            return (1, name, rows, h)
        for i, r in enumerate(rows[:HEADER_SEARCH_ROWS]):
            sc = _score(r, expected)
            if best is None or sc > best[0]:
                best = (sc, name, rows, i)
        if best and best[0] == len(expected):
            break
    return best


def _sheet_data_rows(rows: list[tuple], h: int, width: int, sheet: str, info: ReadInfo):
    """The rows below the header as text cells, their row numbers, and the rows set aside
    (a value right of the header's last column); blank rows are counted in ``info``."""
    data, numbers, unparsed = [], [], []
    for n, r in enumerate(rows[h + 1 :], start=h + 2):
        cells = [_cell_text(v) for v in r]
        if not any(c.strip() for c in cells):
            info.n_blank += 1
            continue
        if any(c.strip() for c in cells[width:]):
            unparsed.append(
                {
                    "source_file": info.file,
                    "source_sheet": sheet,
                    "source_row": n,
                    "rule": "value_outside_header",
                    "value": f"a value in column {width + 1 + next(i for i, c in enumerate(cells[width:]) if c.strip())}, "
                    f"the header has {width} columns",
                }
            )
            continue
        data.append((cells + [""] * width)[:width])
        numbers.append(n)
    return data, numbers, unparsed


# --------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------
def read_export(path, codebook: Codebook | None = None, spec: ExportSpec | None = None) -> RawTable:
    """Read one export; with a codebook, its column names locate the header and delimiter."""
    path = Path(path)
    if not path.is_file():
        raise ReadError(path, "file_not_found", "no such file")
    spec = spec or (codebook.export if codebook else None)
    expected = _Expected(codebook.columns()) if codebook else None
    fmt = spec.format if spec else ("xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if fmt == "csv" and magic == b"PK\x03\x04":
        raise ReadError(
            path, "not_a_text_file", "this is a ZIP/XLSX workbook, but the codebook expects CSV"
        )
    if fmt == "xlsx":
        return read_xlsx(path, spec, expected)
    return read_csv(path, spec, expected)


# --------------------------------------------------------------------------------------
# writers: the same conventions, for the synthetic generator's tests and for benchmarks
# --------------------------------------------------------------------------------------
def write_export(
    frame: pd.DataFrame,
    path,
    spec: ExportSpec,
    *,
    title_rows: list[str] | None = None,
    extra_sheets: dict[str, list[list]] | None = None,
) -> Path:
    """Write ``frame`` (text cells) as an institution would deliver it under ``spec``.

    CSV: ``spec.encoding`` and ``spec.delimiter``, ``title_rows`` above the header when
    ``spec.header_row`` > 1. XLSX: ``title_rows`` fill the rows above ``spec.header_row``,
    the data go to ``spec.sheet``, and ``extra_sheets`` (name -> rows) are added after it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n_titles = max(spec.header_row - 1, 0)
    titles = list(title_rows or [])[:n_titles]
    titles += [""] * (n_titles - len(titles))
    if spec.format == "csv":
        enc = {"utf-8-sig": "utf-8-sig", "utf-8": "utf-8", "latin-1": "latin-1"}[spec.encoding]
        with open(path, "w", encoding=enc, newline="") as fh:
            for t in titles:
                fh.write(t + "\n")
            frame.to_csv(fh, sep=spec.delimiter, index=False, lineterminator="\n")
        return path
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(spec.sheet or "Datos")
    for t in titles:
        ws.append([t] if t else [])
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False, name=None):
        ws.append(
            [
                None if (v is None or (isinstance(v, float) and pd.isna(v)) or v == "") else v
                for v in row
            ]
        )
    for name, rows in (extra_sheets or {}).items():
        extra = wb.create_sheet(name)
        for r in rows:
            extra.append(r)
    wb.save(path)
    return path
