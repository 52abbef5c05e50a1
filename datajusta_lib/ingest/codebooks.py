"""Codebooks: what each institution records and how it maps to the canonical vocabulary.

One YAML file per institution × case study, ``data/codebooks/<case_study>/<INSTITUTION>.yaml``
(schema in ``docs/codebooks.md``). :func:`load_codebook` parses one strictly (duplicate keys
and YAML 1.1 booleans such as an unquoted ``No`` are errors, not silent surprises), checks it
against the contracts and returns a :class:`Codebook`; any problem raises
:class:`CodebookError` naming the file and every problem found.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import yaml
from pandera.typing import Series

from ..core import canon, contracts
from ..core.paths import codebooks_dir

FORMATS = ("csv", "xlsx")
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1")
DELIMITERS = (",", ";", "\t")
IDENTIFIER_KINDS = ("RUN", "passport", "none")
SPECIAL_DATE_FORMATS = ("iso", "excel_serial")

# Fields the reader derives itself: a codebook may not describe them.
DERIVED_FIELDS = contracts.DERIVED_FIELDS
NAME_FIELD = "person_name"  # read only to be dropped: names never leave ingestion
# Each canonical field has one possible dtype, so harmonisation never has to guess.
FIELD_DTYPES = {
    "person_key": "identifier",
    NAME_FIELD: "identifier",
    "event_date": "date",
    "report_date": "date",
    "age": "integer",
}
CATEGORY_FIELDS = contracts.CATEGORY_FIELDS
DESCRIBABLE_FIELDS = tuple(
    [c for c in contracts.RECORD_COLUMNS if c not in DERIVED_FIELDS] + [NAME_FIELD]
)


class CodebookError(ValueError):
    """A codebook that breaks the schema; the message names the file and every problem."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = Path(path)
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"codebook {self.path}: {len(self.problems)} problem(s)\n{lines}")


# --------------------------------------------------------------------------------------
# strict YAML: duplicate keys are errors; only true/false are booleans (YAML 1.2)
# --------------------------------------------------------------------------------------
class _StrictLoader(yaml.SafeLoader):
    pass


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first at line {seen[key]})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path | str) -> dict:
    """Parse a codebook file strictly; a YAML error becomes a CodebookError naming the file."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.load(fh, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CodebookError(path, [f"not valid YAML: {exc}"]) from None
    if not isinstance(doc, dict):
        raise CodebookError(path, ["the file must hold a YAML mapping"])
    return doc


# --------------------------------------------------------------------------------------
# the parsed codebook
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportSpec:
    """How an institution delivers its file (the ``export`` block)."""

    format: str
    filename: str
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str = "."
    date_format: str = "iso"
    header_row: int = 1
    sheet: str | None = None


@dataclass(frozen=True)
class FieldSpec:
    """One canonical field as an institution records it."""

    name: str
    recorded: bool
    original_name: str | None = None
    dtype: str | None = None
    values: dict | None = None  # original label -> canonical value (None = explicit missing)
    date_format: str | None = None
    notes: dict | None = None

    def lookup(self) -> dict[str, str | None]:
        """Normalised label -> canonical value (labels match ignoring case and spacing)."""
        return {normalise_label(k): v for k, v in (self.values or {}).items()}

    def spelled(self) -> dict[str, str]:
        """Normalised label -> the label as the codebook spells it."""
        return {normalise_label(k): k for k in (self.values or {})}


@dataclass
class Codebook:
    """A validated codebook. ``fields``/``mappings`` are tables; ``specs`` the parsed fields."""

    institution: str
    case_study: str
    path: Path
    name: dict
    unit_of_count: str
    identifier_kind: str
    export: ExportSpec
    record_id: str
    record_id_pattern: str | None
    missing_tokens: tuple[str, ...]
    specs: dict[str, FieldSpec]
    extra_columns: tuple[str, ...]
    definition_changes: list[dict]
    notes: dict
    raw: dict = field(repr=False)
    sha256: str = ""

    @property
    def recorded(self) -> dict[str, FieldSpec]:
        return {k: s for k, s in self.specs.items() if s.recorded}

    def columns(self) -> dict[str, str]:
        """Original column name -> role (a canonical field, 'record_id' or 'extra')."""
        cols = {self.record_id: "record_id"}
        cols.update({s.original_name: k for k, s in self.recorded.items()})
        cols.update({c: "extra" for c in self.extra_columns})
        return cols

    def required_columns(self) -> list[str]:
        """Columns an export must have (names may be left out: nothing is lost without them)."""
        return [self.record_id] + [
            s.original_name for k, s in self.recorded.items() if k != NAME_FIELD
        ]

    @property
    def fields(self) -> pd.DataFrame:
        return _fields_table(self)

    @property
    def mappings(self) -> pd.DataFrame:
        return _mappings_table(self)

    def date_format(self, field_name: str) -> str:
        return self.specs[field_name].date_format or self.export.date_format

    def __repr__(self) -> str:
        return (
            f"Codebook({self.institution}, {self.case_study}: {len(self.recorded)} fields recorded, "
            f"unit {self.unit_of_count}, identifier {self.identifier_kind}, {self.export.format})"
        )


def normalise_label(label) -> str:
    return " ".join(str(label).split()).casefold()


def _fields_table(cb: Codebook) -> pd.DataFrame:
    changes: dict[str, str] = {}
    for ch in cb.definition_changes:
        changes[ch["field"]] = max(changes.get(ch["field"], ""), str(ch["date"]))
    rows = [
        {
            "institution": cb.institution,
            "case_study": cb.case_study,
            "field": k,
            "recorded": s.recorded,
            "original_name": s.original_name,
            "dtype": s.dtype,
            "date_format": (s.date_format or cb.export.date_format) if s.dtype == "date" else None,
            "n_values": len(s.values) if s.values else None,
            "definition_changed": changes.get(k),
            "notes": (s.notes or {}).get("en"),
        }
        for k, s in cb.specs.items()
    ]
    df = pd.DataFrame(rows)
    df["definition_changed"] = pd.to_datetime(df["definition_changed"])
    df["n_values"] = df["n_values"].astype("Int64")
    return df


def _mappings_table(cb: Codebook) -> pd.DataFrame:
    rows = [
        {
            "institution": cb.institution,
            "case_study": cb.case_study,
            "field": k,
            "original_value": label,
            "canonical_value": value,
        }
        for k, s in cb.specs.items()
        for label, value in (s.values or {}).items()
    ]
    return pd.DataFrame(
        rows, columns=["institution", "case_study", "field", "original_value", "canonical_value"]
    )


# --------------------------------------------------------------------------------------
# contracts for codebook tables (extend core/contracts.py's models with person_name, regions
# and nationality codes)
# --------------------------------------------------------------------------------------
class CodebookFieldContract(contracts.CodebookFieldModel):
    field: Series[str] = pa.Field(isin=list(DESCRIBABLE_FIELDS))


class CodebookMappingContract(contracts.CodebookMappingModel):
    field: Series[str] = pa.Field(isin=list(CATEGORY_FIELDS))

    @pa.dataframe_check(name="maps_to_a_region_code_or_iso3_nationality")
    def _coded(cls, df: pd.DataFrame) -> Series[bool]:
        regions = set(canon.region_codes())
        value = df["canonical_value"]
        bad_region = (df["field"] == "region_code") & value.notna() & ~value.isin(regions)
        bad_nat = (
            (df["field"] == "nationality")
            & value.notna()
            & ~value.fillna("").str.fullmatch(r"[A-Z]{3}")
        )
        return ~(bad_region | bad_nat)


def _contract_problems(table: pd.DataFrame, model, what: str) -> list[str]:
    if table.empty:
        return []
    report = contracts.validate(table, model, source=what)
    out = []
    for f in report.failures.itertuples(index=False):
        where = ""
        if pd.notna(f.row) and f.row in table.index:
            r = table.loc[f.row]
            label = r.get("original_value")
            where = f"field {r['field']}" + (f", label {label!r}" if isinstance(label, str) else "")
        out.append(f"{what}: {where or f.column}: rule {f.rule}; value {f.value!r}")
    return out


# --------------------------------------------------------------------------------------
# parsing and checking
# --------------------------------------------------------------------------------------
def _check_date(value, what: str, problems: list[str]) -> str | None:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        problems.append(f"{what}: {value!r} is not an ISO date (YYYY-MM-DD)")
        return None


def _check_date_format(fmt, what: str, problems: list[str]) -> None:
    if fmt in SPECIAL_DATE_FORMATS:
        return
    if (
        not isinstance(fmt, str)
        or not re.fullmatch(r"[^%]*(%[dmyYHMS][^%]*)+", fmt)
        or not all(c in fmt for c in ("%d", "%m"))
    ):
        problems.append(
            f"{what}: date_format {fmt!r} must be 'iso', 'excel_serial' or a strftime pattern "
            "with %d, %m and %Y or %y"
        )
    elif "%Y" not in fmt and "%y" not in fmt:
        problems.append(f"{what}: date_format {fmt!r} has no year (%Y or %y)")


def _parse_export(doc: dict, problems: list[str]) -> ExportSpec | None:
    ex = doc.get("export")
    if not isinstance(ex, dict):
        problems.append("export: missing or not a mapping")
        return None
    known = {
        "format",
        "filename",
        "encoding",
        "delimiter",
        "decimal",
        "date_format",
        "header_row",
        "sheet",
    }
    for k in sorted(set(ex) - known):
        problems.append(f"export: unknown key {k!r}")
    fmt = ex.get("format")
    if fmt not in FORMATS:
        problems.append(f"export.format: {fmt!r} is not one of {list(FORMATS)}")
    if not isinstance(ex.get("filename"), str) or not ex["filename"]:
        problems.append("export.filename: missing")
    if fmt == "csv":
        if ex.get("encoding") not in ENCODINGS:
            problems.append(
                f"export.encoding: {ex.get('encoding')!r} is not one of {list(ENCODINGS)}"
            )
        if ex.get("delimiter") not in DELIMITERS:
            problems.append(
                f"export.delimiter: {ex.get('delimiter')!r} is not one of {list(DELIMITERS)}"
            )
    if fmt == "xlsx" and ex.get("sheet") is not None and not isinstance(ex["sheet"], str):
        problems.append("export.sheet: must be a sheet name")
    if ex.get("decimal", ".") not in (".", ","):
        problems.append(f"export.decimal: {ex.get('decimal')!r} is not '.' or ','")
    _check_date_format(ex.get("date_format", "iso"), "export", problems)
    header = ex.get("header_row", 1)
    if not isinstance(header, int) or isinstance(header, bool) or header < 1:
        problems.append(f"export.header_row: {header!r} is not a 1-based row number")
    try:
        return ExportSpec(
            format=fmt,
            filename=ex.get("filename"),
            encoding=ex.get("encoding"),
            delimiter=ex.get("delimiter"),
            decimal=ex.get("decimal", "."),
            date_format=ex.get("date_format", "iso"),
            header_row=header,
            sheet=ex.get("sheet"),
        )
    except TypeError:
        return None


def _parse_field(name: str, spec, problems: list[str]) -> FieldSpec | None:
    what = f"fields.{name}"
    if not isinstance(spec, dict):
        problems.append(f"{what}: must be a mapping with at least 'recorded'")
        return None
    known = {"recorded", "original_name", "dtype", "values", "date_format", "notes"}
    for k in sorted(set(spec) - known):
        problems.append(f"{what}: unknown key {k!r}")
    recorded = spec.get("recorded")
    if not isinstance(recorded, bool):
        problems.append(f"{what}: 'recorded' must be true or false, got {recorded!r}")
        return None
    dtype = spec.get("dtype")
    values = spec.get("values")
    if recorded:
        if not isinstance(spec.get("original_name"), str) or not spec["original_name"].strip():
            problems.append(f"{what}: recorded but has no original_name")
        if dtype not in contracts.CODEBOOK_DTYPES:
            problems.append(f"{what}: dtype {dtype!r} is not one of {contracts.CODEBOOK_DTYPES}")
        expected = FIELD_DTYPES.get(name, "category" if name in CATEGORY_FIELDS else None)
        if expected and dtype in contracts.CODEBOOK_DTYPES and dtype != expected:
            if expected == "category":
                problems.append(
                    f"{what}: unmapped category: {name} has a closed canonical vocabulary, so it "
                    f"must be dtype category with values, not {dtype!r}"
                )
            else:
                problems.append(f"{what}: dtype must be {expected!r}, not {dtype!r}")
        if dtype == "category" and not values:
            problems.append(f"{what}: unmapped category: dtype category but no 'values' mapping")
        if "date_format" in spec:
            if dtype != "date":
                problems.append(f"{what}: date_format given for a {dtype} field")
            else:
                _check_date_format(spec["date_format"], what, problems)
    if values is not None:
        if dtype != "category":
            problems.append(f"{what}: 'values' given for a field that is not a category")
        if not isinstance(values, dict):
            problems.append(f"{what}: 'values' must map each original label to a canonical value")
            values = None
        else:
            normalised: dict[str, str] = {}
            for label, value in values.items():
                if not isinstance(label, str | int) or isinstance(label, bool):
                    problems.append(f"{what}: label {label!r} is not text (quote it in the YAML)")
                    continue
                if value is not None and not isinstance(value, str):
                    problems.append(
                        f"{what}: label {label!r} maps to {value!r}, which is not text "
                        "(quote it, or write null for an explicit missing value)"
                    )
                key = normalise_label(label)
                if key in normalised:
                    problems.append(
                        f"{what}: labels {normalised[key]!r} and {label!r} are the same label "
                        "(labels match ignoring case and spacing)"
                    )
                normalised[key] = str(label)
            values = {str(k): v for k, v in values.items()}
    return FieldSpec(
        name=name,
        recorded=recorded,
        original_name=spec.get("original_name").strip()
        if isinstance(spec.get("original_name"), str)
        else None,
        dtype=dtype,
        values=values,
        date_format=spec.get("date_format"),
        notes=spec.get("notes"),
    )


def _passed_marker(cb: Codebook) -> Path | None:
    """Where a codebook whose tables passed the pandera contracts is remembered, keyed by
    the content of the codebook and of everything the contracts read (so a change to any of
    them checks it again). The contract pass costs ~0.1 s a codebook; notebooks load many."""
    try:
        from ..core.paths import data_dir, outputs_dir, reference_dir

        h = hashlib.sha256(json.dumps(cb.raw, sort_keys=True, default=str).encode())
        library = Path(__file__).resolve().parent.parent
        for f in (
            library / "ingest" / "ingest/codebooks.py",
            library / "core" / "core/contracts.py",
            data_dir() / "canonical.yaml",
            reference_dir() / "regions.csv",
        ):
            if f.is_file():
                h.update(f.read_bytes())
        h.update(str(cb.path.name).encode() + str(cb.path.parent.name).encode())
        return outputs_dir() / "cache" / "codebooks" / f"{h.hexdigest()[:32]}.passed"
    except OSError:
        return None


def _touch(marker: Path) -> None:
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass  # a read-only outputs folder only costs the check next time


def _shipped(path: Path) -> bool:
    """Whether a codebook file is laid out like the project's: in a folder named after its
    case study, or anywhere under data/codebooks/."""
    if path.parent.name in canon.case_studies():
        return True
    try:
        return path.resolve().is_relative_to(codebooks_dir().resolve())
    except (OSError, FileNotFoundError):
        return True


def parse_codebook(doc: dict, path: Path | str) -> Codebook:
    """Check a parsed YAML document and build the Codebook, or raise CodebookError."""
    path = Path(path)
    problems: list[str] = []
    known = {
        "institution",
        "case_study",
        "name",
        "unit_of_count",
        "identifier_kind",
        "export",
        "record_id",
        "missing_tokens",
        "fields",
        "extra_columns",
        "definition_changes",
        "notes",
        "status",
    }
    for k in sorted(set(doc) - known):
        problems.append(f"unknown top-level key {k!r}")
    from .codebook_status import check as check_status

    problems += check_status(doc.get("status"))
    inst, cs = doc.get("institution"), doc.get("case_study")
    if not isinstance(inst, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]*", inst):
        problems.append(f"institution: {inst!r} must match ^[A-Z][A-Z0-9_]*$")
    elif path.suffix in (".yaml", ".yml") and path.stem != inst and _shipped(path):
        # (a draft elsewhere, checked with `validate --codebook`, may be named anything)
        problems.append(f"institution: {inst!r} does not match the file name {path.name!r}")
    if cs not in canon.case_studies():
        problems.append(f"case_study: {cs!r} is not one of {canon.case_studies()}")
    elif path.parent.name in canon.case_studies() and path.parent.name != cs:
        problems.append(f"case_study: {cs!r} does not match the folder {path.parent.name!r}")
    name = doc.get("name")
    if not (isinstance(name, dict) and {"es", "en"} <= set(name)):
        problems.append("name: must give 'es' and 'en'")
    unit = doc.get("unit_of_count")
    if unit not in canon.canonical()["units_of_count"]:
        problems.append(
            f"unit_of_count: {unit!r} is not one of {canon.canonical()['units_of_count']}"
        )
    idk = doc.get("identifier_kind")
    if idk not in IDENTIFIER_KINDS:
        problems.append(f"identifier_kind: {idk!r} is not one of {list(IDENTIFIER_KINDS)}")
    export = _parse_export(doc, problems)

    rid = doc.get("record_id")
    rid_name = rid.get("original_name") if isinstance(rid, dict) else None
    rid_pattern = rid.get("pattern") if isinstance(rid, dict) else None
    if not isinstance(rid_name, str) or not rid_name.strip():
        problems.append("record_id: needs original_name (the institution's own record id column)")
    if rid_pattern is not None:
        try:
            re.compile(rid_pattern)
        except (re.error, TypeError) as exc:
            problems.append(
                f"record_id.pattern: {rid_pattern!r} is not a regular expression: {exc}"
            )

    tokens = doc.get("missing_tokens") or []
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        problems.append("missing_tokens: must be a list of text values")
        tokens = []

    fields_doc = doc.get("fields")
    specs: dict[str, FieldSpec] = {}
    if not isinstance(fields_doc, dict) or not fields_doc:
        problems.append("fields: missing or empty")
        fields_doc = {}
    for fname, fspec in fields_doc.items():
        if fname in DERIVED_FIELDS:
            problems.append(f"fields.{fname}: derived by ingestion; a codebook may not describe it")
            continue
        if fname not in DESCRIBABLE_FIELDS:
            problems.append(
                f"fields.{fname}: not a canonical RecordModel column (nor {NAME_FIELD}); "
                f"known fields: {', '.join(DESCRIBABLE_FIELDS)}"
            )
            continue
        parsed = _parse_field(fname, fspec, problems)
        if parsed:
            specs[fname] = parsed

    pk = specs.get("person_key")
    if idk == "none" and pk is not None and pk.recorded:
        problems.append("fields.person_key: recorded, but identifier_kind is none")
    if idk in ("RUN", "passport") and (pk is None or not pk.recorded):
        problems.append(f"identifier_kind is {idk} but fields.person_key is not recorded")

    extras = doc.get("extra_columns") or []
    if not isinstance(extras, list) or not all(isinstance(c, str) for c in extras):
        problems.append("extra_columns: must be a list of column names")
        extras = []

    # one column, one role
    owners: dict[str, str] = {}
    claims = [(rid_name, "record_id")] if isinstance(rid_name, str) else []
    claims += [
        (s.original_name, f"fields.{k}") for k, s in specs.items() if s.recorded and s.original_name
    ]
    claims += [(c, "extra_columns") for c in extras]
    for col, owner in claims:
        col = col.strip()
        if col in owners:
            problems.append(f"column {col!r} is claimed twice: by {owners[col]} and by {owner}")
        owners[col] = owner

    changes = doc.get("definition_changes") or []
    if not isinstance(changes, list):
        problems.append("definition_changes: must be a list")
        changes = []
    clean_changes = []
    for i, ch in enumerate(changes):
        what = f"definition_changes[{i}]"
        if not isinstance(ch, dict):
            problems.append(f"{what}: must be a mapping with date, field and note")
            continue
        when = _check_date(ch.get("date"), what, problems)
        if ch.get("field") not in specs:
            problems.append(f"{what}: field {ch.get('field')!r} is not described in fields")
        note = ch.get("note")
        if not (isinstance(note, dict) and {"es", "en"} <= set(note)):
            problems.append(f"{what}: note must give 'es' and 'en'")
        clean_changes.append({"date": when, "field": ch.get("field"), "note": note})

    cb = None
    if not problems:
        all_tokens = tuple(dict.fromkeys([*canon.missing_tokens(), *tokens]))
        cb = Codebook(
            institution=inst,
            case_study=cs,
            path=path,
            name=name,
            unit_of_count=unit,
            identifier_kind=idk,
            export=export,
            record_id=rid_name.strip(),
            record_id_pattern=rid_pattern,
            missing_tokens=all_tokens,
            specs=specs,
            extra_columns=tuple(c.strip() for c in extras),
            definition_changes=clean_changes,
            notes=doc.get("notes") or {},
            raw=doc,
        )
        marker = _passed_marker(cb)
        if marker is None or not marker.is_file():
            contract = _contract_problems(cb.fields, CodebookFieldContract, "fields")
            contract += _contract_problems(cb.mappings, CodebookMappingContract, "values")
            problems += contract
            if marker is not None and not contract:
                _touch(marker)
        for k, s in cb.recorded.items():
            for label, value in (s.values or {}).items():
                if value is not None and normalise_label(label) in {
                    normalise_label(t) for t in cb.missing_tokens
                }:
                    problems.append(
                        f"fields.{k}: label {label!r} is also a missing-value token, so it could "
                        f"never map to {value!r}"
                    )
    if problems:
        raise CodebookError(path, problems)
    return cb


def load_codebook(path: Path | str) -> Codebook:
    """Read, check and return one codebook file."""
    path = Path(path)
    if not path.is_file():
        raise CodebookError(path, ["file not found"])
    data = path.read_bytes()
    cb = _load_cached(str(path.resolve()), hashlib.sha256(data).hexdigest())
    return cb


@cache
def _load_cached(path: str, sha256: str) -> Codebook:
    cb = parse_codebook(read_yaml(path), path)
    cb.sha256 = sha256
    return cb


def codebook_path(institution: str, case_study: str) -> Path:
    return codebooks_dir() / case_study / f"{institution}.yaml"


def get(institution: str, case_study: str) -> Codebook:
    """The codebook of one institution in one case study."""
    if case_study not in canon.case_studies():
        raise ValueError(f"unknown case study {case_study!r}; known: {canon.case_studies()}")
    path = codebook_path(institution, case_study)
    if not path.is_file():
        known = institutions(case_study)
        raise LookupError(
            f"no codebook for {institution!r} in {case_study!r} ({path}); "
            f"institutions with a codebook: {', '.join(known)}"
        )
    return load_codebook(path)


def institutions(case_study: str) -> list[str]:
    """Institutions with a codebook for a case study, in file-name order."""
    return sorted(p.stem for p in (codebooks_dir() / case_study).glob("*.yaml"))


def case_studies_of(institution: str) -> list[str]:
    return [cs for cs in canon.case_studies() if codebook_path(institution, cs).is_file()]


def all_codebooks(case_study: str | None = None) -> list[Codebook]:
    studies = [case_study] if case_study else canon.case_studies()
    return [get(inst, cs) for cs in studies for inst in institutions(cs)]


def institutions_table(lang: str = "en") -> pd.DataFrame:
    """One row per codebook: unit of count, identifier, file format and conventions."""
    rows = []
    for cb in all_codebooks():
        ex = cb.export
        if ex.format == "csv":
            delim = {"\t": "tab", ",": "comma", ";": "semicolon"}[ex.delimiter]
            fmt = f"CSV, {delim}, {ex.encoding}, decimal '{ex.decimal}'"
        else:
            fmt = f"XLSX, sheet '{ex.sheet}', header on row {ex.header_row}"
        if ex.format == "csv" and ex.header_row > 1:
            fmt += f", header on row {ex.header_row}"
        rows.append(
            {
                "case_study": cb.case_study,
                "institution": cb.institution,
                "unit_of_count": cb.unit_of_count,
                "identifier": cb.identifier_kind,
                "file": f"`{ex.filename}`",
                "format": fmt,
                "dates": ex.date_format,
                "fields_recorded": sum(1 for k in cb.recorded if k != NAME_FIELD),
                "names": "yes (dropped)" if NAME_FIELD in cb.recorded else "no",
            }
        )
    return pd.DataFrame(rows)


def institutions_markdown() -> str:
    df = institutions_table()
    head = "| " + " | ".join(df.columns) + " |"
    sep = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])
