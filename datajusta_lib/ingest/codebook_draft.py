"""Draft a codebook from an export nobody has described yet (``datajusta codebook init``).

The draft is YAML in the schema of ``docs/codebooks.md``, written for a person to review:

- the file's format, encoding, delimiter, decimal separator, header row (below any title
  rows), sheet and date format are detected from the file itself;
- each column is matched to a canonical field by the column names the shipped codebooks
  already use, then by name patterns (``FECHA_DENUNCIA`` -> ``report_date``); a column that
  matches none is listed under ``extra_columns`` with a comment asking which field it is;
- category labels are mapped to canonical values with the labels of the shipped codebooks,
  the canonical vocabulary and the region names; labels that cannot be guessed are listed in
  a comment (rows with them are quarantined as ``unknown_category`` until they are mapped);
- identifier columns (RUN, passport) and name columns are recognised; no value of theirs is
  ever written to the draft.

The draft loads as it is (``datajusta validate FILE --codebook DRAFT``); the comments marked
``REVIEW`` say what a person must check before the codebook is trusted.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from ..core import canon
from ..gate import scanner
from . import codebooks, readers
from .codebooks import CATEGORY_FIELDS, FIELD_DTYPES, NAME_FIELD, ExportSpec, normalise_label

MAX_LABELS = 200  # category labels listed per field (most frequent first)
SAMPLE_ROWS = 50  # rows looked at to find the header and the delimiter

# name patterns on the folded, upper-case column name (first match wins)
_FIELD_PATTERNS: list[tuple[str, str]] = [
    ("person_key", r"\b(RUN|RUT|CEDULA|PASAPORTE|PASSPORT|DOCUMENTO|N_?DOC)\b"),
    (NAME_FIELD, r"\b(NOMBRES?|APELLIDOS?|NAME)\b"),
    (
        "report_date",
        r"FECHA.*(DENUNCIA|INGRESO|QUERELLA|REGISTRO|RECEPCION|SOLICITUD|ATENCION|PERITAJE)",
    ),
    ("event_date", r"FECHA"),
    ("region_code", r"REGION"),
    ("gender_identity", r"(IDENTIDAD.*GENERO|GENERO)"),
    ("sex", r"\bSEXO"),
    ("age_band", r"(TRAMO|RANGO).*EDAD"),
    ("age", r"\bEDAD"),
    ("nationality", r"(NACIONALIDAD|PAIS)"),
    ("migrant_status", r"(MIGRA|SITUACION.*(MIGRATORIA|RESIDENCIA))"),
    ("indigenous_people", r"(PUEBLO|ETNIA|INDIGENA|ORIGINARIO)"),
    ("disability", r"DISCAPACIDAD"),
    ("perpetrator_type", r"(IMPUTAD|AGRESOR|VICTIMARIO|AGENTE|PERPETRADOR|VINCULO|RELACION)"),
    ("procedural_stage", r"(ESTADO|ETAPA|TERMINO|RESULTADO)"),
    ("classification", r"(DELITO|TIPO|CLASIFICACION|MATERIA|VIOLACION)"),
]
_ID_NAME = re.compile(r"^(ID|RUC|FOLIO|CODIGO|COD|NUMERO|NRO|NUM|N)(_|$)|_ID$|^ID")
_DATE_FORMATS = {
    "iso": "%Y-%m-%d",
    "%d-%m-%Y": "%d-%m-%Y",
    "%d/%m/%Y": "%d/%m/%Y",
    "%d/%m/%y": "%d/%m/%y",
    "%d-%m-%y": "%d-%m-%y",
    "%Y/%m/%d": "%Y/%m/%d",
}
_UNITS_HINT = "persons | cases | offences | complaints | legal_actions | records"


def _fold(text: str) -> str:
    d = unicodedata.normalize("NFKD", str(text))
    d = "".join(c for c in d if not unicodedata.combining(c)).upper()
    return re.sub(r"[^A-Z0-9]+", "_", d).strip("_")


def _q(value) -> str:
    """A YAML scalar: JSON double-quoted strings are valid YAML."""
    return json.dumps(value, ensure_ascii=False)


@dataclass
class Draft:
    institution: str
    case_study: str
    file: Path
    spec: ExportSpec
    columns: list[str]
    record_id: str | None
    identifier_kind: str
    fields: dict[str, dict] = field(default_factory=dict)  # field -> spec + comments
    extra: list[str] = field(default_factory=list)
    comments: dict[str, str] = field(default_factory=dict)  # column -> comment
    missing_tokens: list[str] = field(default_factory=list)
    n_rows: int = 0

    def to_yaml(self) -> str:
        return _render(self)


# ------------------------------------------------------------------------------ reading
def _rows_csv(path: Path) -> tuple[list[list[str]], dict]:
    raw = path.read_bytes()
    text, encoding = readers.decode(raw, path)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[: SAMPLE_ROWS + 1]
    best = None
    for d in (";", ",", "\t"):
        counts = [len(readers._split_line(ln, d)) for ln in lines if ln.strip()]
        if not counts:
            continue
        width, n = Counter(counts).most_common(1)[0]
        score = (width > 1, n, width)
        if best is None or score > best[0]:
            best = (score, d, width)
    delim = best[1] if best else ";"
    rows = [readers._split_line(ln, delim) for ln in lines]
    enc = {"ascii": "utf-8", "cp1252": "latin-1"}.get(encoding, encoding)
    return rows, {"format": "csv", "encoding": enc, "delimiter": delim}


def _rows_xlsx(path: Path) -> tuple[list[list[str]], dict]:
    try:
        book = readers._FastWorkbook(path)
        sheets = {n: book.rows(n) for n in book.sheets}
        book.close()
    except Exception:  # noqa: BLE001 - the reader itself says why (corrupt_xlsx)
        raw = readers.read_xlsx(path, ExportSpec(format="xlsx", filename=path.name))
        rows = [list(raw.frame.columns[:-3])] + raw.frame.iloc[:, :-3].values.tolist()
        return rows, {"format": "xlsx", "sheet": raw.info.sheet}
    name = max(sheets, key=lambda s: sum(1 for r in sheets[s] if any(v is not None for v in r)))
    rows = [[readers._cell_text(v) for v in r] for r in sheets[name]]
    return rows, {"format": "xlsx", "sheet": name}


def _header_index(rows: list[list[str]], file) -> int:
    """The first row with as many filled cells as the widest of the first rows, mostly text."""
    sample = rows[:SAMPLE_ROWS]
    filled = [sum(1 for v in r if str(v).strip()) for r in sample]
    if not filled or max(filled) == 0:
        raise readers.ReadError(file, "header_not_found", "no row with values")
    top = max(filled)
    for i, r in enumerate(sample):
        cells = [str(v).strip() for v in r if str(v).strip()]
        numeric = sum(1 for c in cells if re.fullmatch(r"[\d.,/\-: ]+", c))
        if filled[i] >= max(2, top * 0.8) and numeric <= len(cells) // 4:
            return i
    return filled.index(top)


# ------------------------------------------------------------------------------ guessing
def _known_columns() -> dict[str, str]:
    """Folded original column name -> canonical field, from every shipped codebook."""
    out: dict[str, set] = {}
    for cb in codebooks.all_codebooks():
        for k, s in cb.recorded.items():
            out.setdefault(_fold(s.original_name), set()).add(k)
    return {name: next(iter(f)) for name, f in out.items() if len(f) == 1}


def _known_labels(case_study: str) -> dict[str, dict[str, str | None]]:
    """field -> normalised label -> canonical value, when the shipped codebooks agree."""
    seen: dict[str, dict[str, set]] = {}
    for cb in codebooks.all_codebooks():
        for k, s in cb.recorded.items():
            if k == "classification" and cb.case_study != case_study:
                continue
            for label, value in (s.values or {}).items():
                seen.setdefault(k, {}).setdefault(normalise_label(label), set()).add(value)
    out = {k: {lab: next(iter(v)) for lab, v in d.items() if len(v) == 1} for k, d in seen.items()}
    for f in CATEGORY_FIELDS:
        if f == "region_code":
            continue
        try:
            vocab = canon.vocabulary(f, case_study if f == "classification" else None)
        except KeyError:
            continue
        for v in vocab:
            out.setdefault(f, {}).setdefault(normalise_label(v), v)
    regions = canon.regions()
    for r in regions.itertuples(index=False):
        for label in (r.name, r.code, r.roman, f"Región de {r.name}", f"Region {r.name}"):
            out.setdefault("region_code", {}).setdefault(normalise_label(label), r.code)
        out["region_code"].setdefault(normalise_label(_fold(r.name).replace("_", " ")), r.code)
    return out


def _guess_field(column: str, taken: set, known: dict[str, str]) -> str | None:
    f = _fold(column)
    hit = known.get(f)
    if hit and hit not in taken:
        return hit
    words = f.replace("_", " ")  # so that \b separates the words of RUT_VICTIMA
    for name, pattern in _FIELD_PATTERNS:
        if name not in taken and re.search(pattern, words):
            return name
    return None


def _date_format(values: list[str]) -> tuple[str | None, float]:
    """The declared format that parses the most values, and the share it parses."""
    values = [v for v in values if v]
    if not values:
        return None, 0.0
    if all(readers.TYPED_DATE.match(v) for v in values):
        return "iso", 1.0  # typed XLSX dates are accepted whatever the declared format
    best = (None, 0.0)
    for name, fmt in _DATE_FORMATS.items():
        ok = 0
        for v in values:
            try:
                datetime.strptime(re.sub(r"\s+\d{1,2}:\d{2}(:\d{2})?$", "", v), fmt)
                ok += 1
            except ValueError:
                pass
        if ok / len(values) > best[1]:
            best = (name, ok / len(values))
    serial = sum(1 for v in values if re.fullmatch(r"\d{5}([.,]\d+)?", v)) / len(values)
    if serial > best[1]:
        best = ("excel_serial", serial)
    return best


def _decimal(values: list[str]) -> str | None:
    comma = sum(1 for v in values if re.fullmatch(r"\d+,\d+", v))
    point = sum(1 for v in values if re.fullmatch(r"\d+\.\d+", v))
    return "," if comma > point else ("." if point else None)


def draft(path, institution: str, case_study: str) -> Draft:
    """Read ``path`` and draft its codebook (see the module docstring)."""
    path = Path(path)
    _check_draft_arguments(path, institution, case_study)
    spec = _detect_spec(path)
    table = readers.read_export(path, spec=spec)  # every row, as validate will read it
    frame = table.frame.drop(columns=readers.LINEAGE)
    columns = [c for c in frame.columns if not c.startswith("(unnamed column")]
    known = _known_columns()
    guesses = _Guesses(frame, _known_labels(case_study))
    d = Draft(institution, case_study, path, spec, columns, None, "none", n_rows=len(frame))
    _choose_record_id(d, frame, known)
    for col in columns:
        if col != d.record_id:
            guesses.add_column(d, col, known)
    guesses.finish(d)
    return d


def _check_draft_arguments(path: Path, institution: str, case_study: str) -> None:
    if not path.is_file():
        raise readers.ReadError(path, "file_not_found", "no such file")
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", institution):
        raise ValueError(f"institution {institution!r} must match ^[A-Z][A-Z0-9_]*$")
    if case_study not in canon.case_studies():
        raise ValueError(f"unknown case study {case_study!r}; known: {canon.case_studies()}")


def _detect_spec(path: Path) -> ExportSpec:
    """Format, encoding, delimiter, sheet and header row, detected from the file itself."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    rows, how = _rows_xlsx(path) if magic == b"PK\x03\x04" else _rows_csv(path)
    h = _header_index(rows, path)
    return ExportSpec(
        format=how["format"],
        filename=path.name,
        encoding=how.get("encoding"),
        delimiter=how.get("delimiter"),
        header_row=h + 1,
        sheet=how.get("sheet"),
    )


def _choose_record_id(d: Draft, frame, known: dict[str, str]) -> None:
    """A column of distinct values named like a shipped codebook's record id, else named like
    an id (ID_, RUC, FOLIO...), else the first column of distinct values."""
    columns = d.columns
    distinct = [
        c
        for c in columns
        if len(frame) and frame[c].fillna("").str.strip().ne("").all() and frame[c].is_unique
    ]
    rid_names = {_fold(cb.record_id) for cb in codebooks.all_codebooks()}
    candidates = (
        [c for c in distinct if _fold(c) in rid_names]
        or [c for c in distinct if _ID_NAME.search(_fold(c))]
        or [c for c in distinct if _guess_field(c, set(), known) is None]
    )
    if candidates:
        d.record_id = candidates[0]
    else:
        d.record_id = columns[0]
        d.comments["_record_id"] = "REVIEW: no column looked like a record id; check this one"


def _map_labels(counts: Counter, known_labels: dict) -> tuple[dict, list[str]]:
    """The most frequent labels mapped to canonical values where the shipped codebooks know
    them; the others (never a value holding an identifier) listed as unmapped."""
    mapped, unmapped, spelled = {}, [], set()
    for label, _ in counts.most_common(MAX_LABELS):
        key = normalise_label(label)
        if key in spelled:
            continue  # labels match ignoring case and spacing: one spelling is enough
        spelled.add(key)
        if scanner.mask_identifiers(label) != label:
            unmapped.append("[a value holding an identifier: not copied]")
            continue
        value = known_labels.get(key, "?")
        if value == "?":
            unmapped.append(label)
        else:
            mapped[label] = value
    if len(counts) > MAX_LABELS:
        unmapped.append(f"... {len(counts) - MAX_LABELS} more")
    return mapped, unmapped


class _Guesses:
    """What the columns of one export say, gathered column by column: the fields taken, each
    date column's format, votes for the decimal separator, and texts no column could read
    (candidates for the institution's own 'no data' labels)."""

    def __init__(self, frame, labels: dict[str, dict[str, str | None]]):
        self.frame, self.labels = frame, labels
        self.tokens = {normalise_label(t) for t in canon.missing_tokens()}
        self.taken: set = set()
        self.date_formats: dict[str, str] = {}
        self.decimal_votes: list[str] = []
        self.failed: dict[str, set] = {}  # normalised text value -> columns it could not be read in

    def values_of(self, col: str) -> list[str]:
        return [
            v.strip() for v in self.frame[col].fillna("") if normalise_label(v) not in self.tokens
        ]

    def unreadable(self, col: str, values) -> None:
        """Texts (holding no identifier) that ``col`` could not read."""
        for v in set(values):
            if re.search(r"[^\W\d_]", v) and scanner.mask_identifiers(v) == v:
                self.failed.setdefault(v, set()).add(col)

    def add_column(self, d: Draft, col: str, known: dict[str, str]) -> None:
        """Guess the field of ``col`` and describe it in ``d`` (or list it under extra)."""
        name = _guess_field(col, self.taken, known)
        if name == "person_key":
            d.identifier_kind = self._identifier_kind(col)
        if name is None:
            d.extra.append(col)
            d.comments[col] = "REVIEW: not mapped; a canonical field? (or leave it here: dropped)"
            return
        self.taken.add(name)
        dtype = FIELD_DTYPES.get(name, "category")
        spec_f: dict = {"recorded": True, "original_name": col, "dtype": dtype}
        vals = self.values_of(col)
        if dtype == "date":
            self._date(name, col, vals, spec_f)
        elif dtype == "integer":
            self.unreadable(col, [v for v in vals if re.search(r"[^\W\d_]", v)])
            dec = _decimal(vals)
            if dec:
                self.decimal_votes.append(dec)
        elif dtype == "category" and not self._category(d, name, col, vals, spec_f):
            return
        d.fields[name] = spec_f

    def _identifier_kind(self, col: str) -> str:
        """RUN, unless the column is named like a passport or its values hold no RUN check
        digit; texts without digits are noted as unreadable."""
        self.unreadable(col, [v for v in self.values_of(col) if not re.search(r"\d", v)])
        joined = " ".join(self.values_of(col)[:200])
        kind = "passport" if re.search(r"PASAP|PASSPORT|DOCUMENTO", _fold(col)) else "RUN"
        if kind == "RUN" and joined and not re.search(r"\d-?[\dkK]\b", joined):
            kind = "passport"
        return kind

    def _date(self, name: str, col: str, vals: list[str], spec_f: dict) -> None:
        fmt, share = _date_format(vals)
        if fmt is None:
            fmt = "iso"
        self.date_formats[name] = fmt
        self.unreadable(col, [v for v in vals if re.search(r"[^\W\d_]", v)])
        if share < 1:
            spec_f["_comment"] = (
                f"REVIEW: {fmt} reads {share:.0%} of the values; the others will be quarantined"
            )

    def _category(self, d: Draft, name: str, col: str, vals: list[str], spec_f: dict) -> bool:
        """Map the labels; False (the column goes to extra) when none could be mapped."""
        counts = Counter(vals)
        mapped, unmapped = _map_labels(counts, self.labels.get(name, {}))
        if not mapped:
            self.taken.discard(name)
            d.extra.append(col)
            d.comments[col] = (
                f"REVIEW: looks like {name}, but none of its {len(counts)} labels could be "
                "mapped; describe it under fields with values, or leave it here (dropped)"
            )
            return False
        spec_f["values"] = mapped
        spec_f["_unmapped"] = unmapped
        self.unreadable(col, unmapped)
        return True

    def finish(self, d: Draft) -> None:
        """'No data' labels, review comments on unmapped labels, the export's main date
        format and decimal separator."""
        # a text that no column could read in two or more columns ("SIN ANTECEDENTES", "No
        # sabe") is most likely the institution's own "no data" label
        d.missing_tokens = sorted(
            v
            for v, cols in self.failed.items()
            if len(cols) >= 2 and normalise_label(v) not in self.tokens
        )
        missing_keys = {normalise_label(t) for t in d.missing_tokens}
        for spec_f in d.fields.values():
            unmapped = [
                u for u in spec_f.pop("_unmapped", []) if normalise_label(u) not in missing_keys
            ]
            if unmapped:
                spec_f["_comment"] = (
                    "REVIEW: labels not mapped (rows with them are quarantined as "
                    "unknown_category): " + ", ".join(_q(u) for u in unmapped[:30])
                )
        main = Counter(self.date_formats.values()).most_common(1)
        main_fmt = main[0][0] if main else "iso"
        for name, fmt in self.date_formats.items():
            if fmt != main_fmt:
                d.fields[name]["date_format"] = fmt
        decimal = Counter(self.decimal_votes).most_common(1)[0][0] if self.decimal_votes else "."
        d.spec = replace(d.spec, date_format=main_fmt, decimal=decimal)


# ------------------------------------------------------------------------------ YAML
def _render(d: Draft) -> str:
    s = d.spec
    today = date.today().isoformat()
    out = [
        f"# Draft codebook for {d.file.name}, written by `datajusta codebook init` on {today}",
        f"# from its header and its {d.n_rows} rows. Lines marked REVIEW need a person; see",
        "# docs/codebooks.md for the schema. No value of an identifier or name column is copied.",
        f"institution: {d.institution}",
        f"case_study: {d.case_study}",
        "name:",
        f"  es: {_q(d.institution + ' (borrador: revisar)')}",
        f"  en: {_q(d.institution + ' (draft: review)')}",
        f"unit_of_count: records  # REVIEW: what one row counts: {_UNITS_HINT}",
        f"identifier_kind: {d.identifier_kind}",
        "export:",
        f"  format: {s.format}",
        f"  filename: {_q(s.filename)}",
    ]
    if s.format == "csv":
        out += [f"  encoding: {s.encoding}", f"  delimiter: {_q(s.delimiter)}"]
    else:
        out.append(f"  sheet: {_q(s.sheet)}")
    out += [
        f"  decimal: {_q(s.decimal)}",
        f"  date_format: {_q(s.date_format)}",
        f"  header_row: {s.header_row}",
        "record_id:",
        f"  original_name: {_q(d.record_id)}"
        + (f"  # {d.comments['_record_id']}" if "_record_id" in d.comments else ""),
        "  # pattern: a regular expression every id must match (REVIEW: recommended)",
        (
            f"missing_tokens: [{', '.join(_q(t) for t in d.missing_tokens)}]  # REVIEW: texts "
            "no column could read, found in two or more columns: 'no data' labels?"
            if d.missing_tokens
            else "missing_tokens: []  # labels meaning 'no data' beyond canonical.yaml's"
        ),
        "fields:",
    ]
    for name in codebooks.DESCRIBABLE_FIELDS:
        f = d.fields.get(name)
        if f is None:
            out.append(f"  {name}: {{recorded: false}}")
            continue
        comment = f.get("_comment")
        if comment:
            out.append(f"  # {comment}")
        out += [
            f"  {name}:",
            "    recorded: true",
            f"    original_name: {_q(f['original_name'])}",
            f"    dtype: {f['dtype']}",
        ]
        if "date_format" in f:
            out.append(f"    date_format: {_q(f['date_format'])}")
        if f.get("values"):
            out.append("    values:")
            for label, value in f["values"].items():
                out.append(f"      {_q(label)}: {'null' if value is None else _q(value)}")
    if d.extra:
        out.append("extra_columns:")
        for c in d.extra:
            out.append(f"  - {_q(c)}  # {d.comments[c]}" if c in d.comments else f"  - {_q(c)}")
    else:
        out.append("extra_columns: []")
    out += [
        "definition_changes: []",
        "notes:",
        f"  es: {_q('Borrador generado automáticamente desde ' + d.file.name + '; revisar antes de usar.')}",
        f"  en: {_q('Draft generated from ' + d.file.name + '; review before use.')}",
    ]
    return "\n".join(out) + "\n"
