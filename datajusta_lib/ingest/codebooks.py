"""Codebooks: what each institution records and how it maps to the canonical vocabulary.

One YAML file per institution × case study, ``data/codebooks/<case_study>/<INSTITUTION>.yaml``,
whose structure is the JSON Schema ``data/schemas/codebook.schema.json`` (``docs/codebooks.md``).
:func:`load_codebook` reads one strictly (duplicate keys and YAML 1.1 booleans such as an
unquoted ``No`` are errors, not silent surprises) and checks it in three steps:

1. structure, against the schema (every problem at once, with its line);
2. meaning a schema cannot express, in Python: names matching the file and folder, values of
   ``data/canonical.yaml``, cross-references between keys;
3. the label mappings against the canonical vocabulary and region codes (a pandera contract).

It returns a :class:`Codebook`; any problem raises :class:`CodebookError` naming the file and
every problem found, each with its line and place in the YAML.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import NamedTuple

import jsonschema
import pandas as pd
import pandera.pandas as pa
import yaml
from pandera.typing import Series

from ..core import canon, contracts
from ..core.paths import codebooks_dir, data_dir

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


class Problem(NamedTuple):
    """One problem: where it is in the YAML (keys and list indexes) and the rule broken."""

    path: tuple
    message: str


# --------------------------------------------------------------------------------------
# strict YAML: duplicate keys are errors; only true/false are booleans and dates stay text
# (YAML 1.2, the JSON data model the schema describes); every key and item keeps its line
# --------------------------------------------------------------------------------------
class _StrictLoader(yaml.SafeLoader):
    pass


_YAML11_ONLY = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _YAML11_ONLY]
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


def _node_lines(node: yaml.Node, at: tuple = (), out: dict | None = None) -> dict:
    """Path (keys and indexes, as text) -> 1-based line of every key and item of a YAML tree."""
    out = {} if out is None else out
    out.setdefault(at, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = at + (str(key_node.value),)
            out[key] = key_node.start_mark.line + 1
            _node_lines(value_node, key, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _node_lines(item, at + (str(i),), out)
    return out


def read_yaml_located(path: Path | str) -> tuple[dict, dict]:
    """Parse a codebook file strictly: the document and the line of each of its keys and
    items; a YAML error becomes a CodebookError naming the file and line."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            loader = _StrictLoader(fh)
            try:
                node = loader.get_single_node()
                doc = loader.construct_document(node) if node is not None else None
            finally:
                loader.dispose()
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CodebookError(path, [f"not valid YAML: {exc}"]) from None
    if not isinstance(doc, dict):
        raise CodebookError(path, ["the file must hold a YAML mapping"])
    return doc, _node_lines(node)


def read_yaml(path: Path | str) -> dict:
    """Parse a codebook file strictly; a YAML error becomes a CodebookError naming the file."""
    return read_yaml_located(path)[0]


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
# the vocabulary contract: core/contracts.py's mapping model, plus the region codes of
# data/reference/regions.csv (data a static schema cannot hold)
# --------------------------------------------------------------------------------------
class CodebookMappingContract(contracts.CodebookMappingModel):
    field: Series[str] = pa.Field(isin=list(CATEGORY_FIELDS))

    @pa.dataframe_check(name="maps_to_a_region_code")
    def _region(cls, df: pd.DataFrame) -> Series[bool]:
        value = df["canonical_value"]
        bad = (df["field"] == "region_code") & value.notna() & ~value.isin(canon.region_codes())
        return ~bad


_RULES = {
    "maps_to_canonical_value": "not a value of the field's vocabulary in data/canonical.yaml",
    "maps_to_a_region_code": "not a region code of data/reference/regions.csv",
}


def _contract_problems(table: pd.DataFrame, model) -> list[Problem]:
    if table.empty:
        return []
    report = contracts.validate(table, model, source="values")
    out = []
    for f in report.failures.itertuples(index=False):
        if pd.notna(f.row) and f.row in table.index:
            r = table.loc[f.row]
            where = ("fields", r["field"], "values", r["original_value"])
            about = f"field {r['field']}, label {r['original_value']!r} maps to "
            about += f"{r['canonical_value']!r}: {_RULES.get(f.rule, 'breaks the rule')}"
        else:
            where, about = ("fields",), f"column {f.column}: value {f.value!r}"
        out.append(Problem(where, f"{about} (rule {f.rule})"))
    return out


# --------------------------------------------------------------------------------------
# 1. structure: the published JSON Schema (data/schemas/codebook.schema.json)
# --------------------------------------------------------------------------------------
SCHEMA_FILE = Path("schemas") / "codebook.schema.json"


def schema_path() -> Path:
    """The codebook schema: the library's own copy (it is versioned with the parser), else
    the project's ``data/schemas/`` (a copy of the library without its repository)."""
    own = Path(__file__).resolve().parents[2] / "data" / SCHEMA_FILE
    return own if own.is_file() else data_dir() / SCHEMA_FILE


@cache
def schema() -> dict:
    return json.loads(schema_path().read_text(encoding="utf-8"))


# YAML tells 2 from 2.0: a float is never a whole number here (draft 2020-12 would accept 2.0)
_CodebookValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, x: isinstance(x, int) and not isinstance(x, bool)
    ),
)


@cache
def _validator() -> jsonschema.protocols.Validator:
    # only the "date" format is asserted; record_id.pattern is compiled by Python below
    return _CodebookValidator(schema(), format_checker=jsonschema.FormatChecker(["date"]))


_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty (null)",
}


def _got(value) -> str:
    if isinstance(value, dict | list):
        return ""
    shown = repr(value)
    return f" (got {shown[:77] + '...' if len(shown) > 80 else shown})"


def _explain(error: jsonschema.ValidationError) -> list[Problem]:
    """A schema error in plain words: the schema's own ``errorMessage`` where it gives one."""
    path = tuple(error.absolute_path)
    if "propertyNames" in error.relative_schema_path:
        path += (error.instance,)  # jsonschema reports a bad key at its mapping
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    kind, rule = error.validator, error.validator_value
    if kind == "additionalProperties" and rule is False:
        allowed = ", ".join(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in error.schema.get("properties", {})]
        return [Problem(path + (k,), f"unknown key (allowed: {allowed})") for k in extra]
    if kind == "required":
        if custom:
            return [Problem(path, custom)]
        return [Problem(path + (k,), "missing (required)") for k in rule if k not in error.instance]
    if custom:
        return [Problem(path, custom + _got(error.instance))]
    if kind == "type":
        types = [rule] if isinstance(rule, str) else rule
        words = " or ".join(_WORDS.get(t, t) for t in types)
        return [Problem(path, f"must be {words}{_got(error.instance)}")]
    if kind == "enum":
        options = ", ".join(repr(v) for v in rule)
        return [Problem(path, f"must be one of {options}{_got(error.instance)}")]
    if kind in ("minLength", "minProperties", "minItems"):
        return [Problem(path, "must not be empty")]
    if kind == "minimum":
        return [Problem(path, f"must be at least {rule}{_got(error.instance)}")]
    if kind == "pattern":
        return [Problem(path, f"must match {rule}{_got(error.instance)}")]
    return [Problem(path, error.message)]


def schema_problems(doc, part: str | None = None) -> list[Problem]:
    """Every way ``doc`` breaks the schema (all of them, not the first), in plain words.
    ``part`` checks a piece against one ``$defs`` entry (e.g. ``status``) instead."""
    validator = _validator()
    prefix: tuple = ()
    if part is not None:
        validator = validator.evolve(schema=schema()["$defs"][part])
        prefix = (part,)
    problems = [p for e in validator.iter_errors(doc) for p in _explain(e)]
    problems = [Problem(prefix + p.path, p.message) for p in problems]
    return list(dict.fromkeys(problems))  # one "missing" per missing key, not per rule


# --------------------------------------------------------------------------------------
# 2. meaning: what a schema cannot say, checked in Python once the structure is sound
# --------------------------------------------------------------------------------------
# Each check names the parts of the document it reads ("*": any key or index); it runs unless
# the schema found a problem at or above one of them, so it can trust their shape and a
# codebook with a bad delimiter still hears about its unknown unit of count in the same run.
_SEMANTIC_CHECKS: list[tuple[tuple[tuple, ...], Callable]] = []


def _semantic(*reads: str):
    def register(check):
        _SEMANTIC_CHECKS.append((tuple(tuple(r.split(".")) for r in reads), check))
        return check

    return register


def _broken(reads: tuple[tuple, ...], errors: list[tuple]) -> bool:
    return any(
        len(e) <= len(r) and all(want in ("*", str(got)) for want, got in zip(r, e, strict=False))
        for r in reads
        for e in errors
    )


def semantic_problems(doc: dict, path: Path, broken_at: list[tuple] = ()) -> list[Problem]:
    """Problems of meaning; checks reading a part the schema rejected are skipped."""
    out: list[Problem] = []
    for reads, check in _SEMANTIC_CHECKS:
        if not _broken(reads, list(broken_at)):
            out += check(doc, path)
    return out


@_semantic("institution")
def _institution_matches_file(doc: dict, path: Path) -> list[Problem]:
    inst = doc["institution"]
    # (a draft elsewhere, checked with `validate --codebook`, may be named anything)
    if path.suffix in (".yaml", ".yml") and path.stem != inst and _shipped(path):
        return [Problem(("institution",), f"{inst!r} does not match the file name {path.name!r}")]
    return []


@_semantic("case_study")
def _case_study_known(doc: dict, path: Path) -> list[Problem]:
    cs, known = doc["case_study"], canon.case_studies()
    if cs not in known:
        return [Problem(("case_study",), f"{cs!r} is not one of {known} (data/canonical.yaml)")]
    if path.parent.name in known and path.parent.name != cs:
        return [Problem(("case_study",), f"{cs!r} does not match the folder {path.parent.name!r}")]
    return []


@_semantic("unit_of_count")
def _unit_known(doc: dict, path: Path) -> list[Problem]:
    unit, known = doc["unit_of_count"], canon.canonical()["units_of_count"]
    if unit not in known:
        return [
            Problem(("unit_of_count",), f"{unit!r} is not one of {known} (data/canonical.yaml)")
        ]
    return []


@_semantic("record_id.pattern")
def _record_id_pattern_compiles(doc: dict, path: Path) -> list[Problem]:
    pattern = doc["record_id"].get("pattern")
    try:
        re.compile(pattern or "")
    except re.error as exc:
        return [
            Problem(("record_id", "pattern"), f"{pattern!r} is not a regular expression: {exc}")
        ]
    return []


@_semantic("fields.*.values")
def _labels_distinct(doc: dict, path: Path) -> list[Problem]:
    out = []
    for name, spec in doc["fields"].items():
        seen: dict[str, str] = {}
        for label in spec.get("values") or {}:
            key = normalise_label(label)
            if key in seen:
                out.append(
                    Problem(
                        ("fields", name, "values", label),
                        f"labels {seen[key]!r} and {str(label)!r} are the same label "
                        "(labels match ignoring case and spacing)",
                    )
                )
            seen[key] = str(label)
    return out


@_semantic("missing_tokens.*", "fields.*.recorded", "fields.*.values.*")
def _labels_not_missing_tokens(doc: dict, path: Path) -> list[Problem]:
    tokens = {
        normalise_label(t) for t in [*canon.missing_tokens(), *(doc.get("missing_tokens") or [])]
    }
    return [
        Problem(
            ("fields", name, "values", label),
            f"label {str(label)!r} is also a missing-value token, so it could never map to "
            f"{value!r}",
        )
        for name, spec in doc["fields"].items()
        if spec["recorded"]
        for label, value in (spec.get("values") or {}).items()
        if value is not None and normalise_label(label) in tokens
    ]


@_semantic("identifier_kind", "fields.person_key.recorded")
def _identifier_matches_person_key(doc: dict, path: Path) -> list[Problem]:
    idk, pk = doc["identifier_kind"], doc["fields"].get("person_key")
    recorded = pk is not None and pk["recorded"]
    if idk == "none" and recorded:
        return [Problem(("fields", "person_key"), "recorded, but identifier_kind is none")]
    if idk != "none" and not recorded:
        return [Problem(("identifier_kind",), f"{idk}, but fields.person_key is not recorded")]
    return []


@_semantic(
    "record_id.original_name", "fields.*.recorded", "fields.*.original_name", "extra_columns.*"
)
def _one_column_one_role(doc: dict, path: Path) -> list[Problem]:
    claims = [(doc["record_id"]["original_name"], "record_id", ("record_id", "original_name"))]
    claims += [
        (s["original_name"], f"fields.{k}", ("fields", k, "original_name"))
        for k, s in doc["fields"].items()
        if s["recorded"]
    ]
    extras = doc.get("extra_columns") or []
    claims += [(c, "extra_columns", ("extra_columns", i)) for i, c in enumerate(extras)]
    owners: dict[str, str] = {}
    out = []
    for col, owner, where in claims:
        col = col.strip()
        if col in owners:
            out.append(
                Problem(where, f"column {col!r} is claimed twice: by {owners[col]} and by {owner}")
            )
        owners[col] = owner
    return out


@_semantic("definition_changes.*.field", "fields")
def _changes_name_described_fields(doc: dict, path: Path) -> list[Problem]:
    return [
        Problem(
            ("definition_changes", i),
            f"field {ch['field']!r} is not described in fields",
        )
        for i, ch in enumerate(doc.get("definition_changes") or [])
        if ch["field"] not in doc["fields"]
    ]


# --------------------------------------------------------------------------------------
# 3. the Codebook, from a document that passed 1 and 2; then the vocabulary contract
# --------------------------------------------------------------------------------------
def _export_spec(ex: dict) -> ExportSpec:
    return ExportSpec(
        format=ex["format"],
        filename=ex["filename"],
        encoding=ex.get("encoding"),
        delimiter=ex.get("delimiter"),
        decimal=ex.get("decimal", "."),
        date_format=ex.get("date_format", "iso"),
        header_row=ex.get("header_row", 1),
        sheet=ex.get("sheet"),
    )


def _field_spec(name: str, spec: dict) -> FieldSpec:
    values = spec.get("values")
    original = spec.get("original_name")
    return FieldSpec(
        name=name,
        recorded=spec["recorded"],
        original_name=original.strip() if original is not None else None,
        dtype=spec.get("dtype"),
        values={str(k): v for k, v in values.items()} if values is not None else None,
        date_format=spec.get("date_format"),
        notes=spec.get("notes"),
    )


def _build(doc: dict, path: Path) -> Codebook:
    own_tokens = doc.get("missing_tokens") or []
    return Codebook(
        institution=doc["institution"],
        case_study=doc["case_study"],
        path=path,
        name=doc["name"],
        unit_of_count=doc["unit_of_count"],
        identifier_kind=doc["identifier_kind"],
        export=_export_spec(doc["export"]),
        record_id=doc["record_id"]["original_name"].strip(),
        record_id_pattern=doc["record_id"].get("pattern"),
        missing_tokens=tuple(dict.fromkeys([*canon.missing_tokens(), *own_tokens])),
        specs={k: _field_spec(k, s) for k, s in doc["fields"].items()},
        extra_columns=tuple(c.strip() for c in doc.get("extra_columns") or []),
        definition_changes=[
            {
                "date": date.fromisoformat(ch["date"]).isoformat(),
                "field": ch["field"],
                "note": ch["note"],
            }
            for ch in doc.get("definition_changes") or []
        ],
        notes=doc.get("notes") or {},
        raw=doc,
    )


def _vocabulary_problems(cb: Codebook) -> list[Problem]:
    """The mappings against the canonical vocabulary and region codes (the pandera contract),
    skipped when this very codebook already passed it."""
    marker = _passed_marker(cb)
    if marker is not None and marker.is_file():
        return []
    problems = _contract_problems(cb.mappings, CodebookMappingContract)
    if marker is not None and not problems:
        _touch(marker)
    return problems


def _passed_marker(cb: Codebook) -> Path | None:
    """Where a codebook whose mappings passed the pandera contract is remembered, keyed by
    the content of the codebook and of everything the contract reads (so a change to any of
    them checks it again). The contract pass costs ~0.1 s a codebook; notebooks load many."""
    try:
        from ..core.paths import data_dir, outputs_dir, reference_dir

        h = hashlib.sha256(repr(cb.raw).encode())  # (labels may be numbers: no json)
        library = Path(__file__).resolve().parent.parent
        for f in (
            library / "ingest" / "codebooks.py",
            library / "core" / "contracts.py",
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


def dotted_path(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]" if isinstance(part, str) else f"[{part}]"
    return out or "(top level)"


def _line_of(path: tuple, lines: dict | None) -> int | None:
    """The line of ``path`` in the file, else of its nearest parent the loader placed."""
    if not lines:
        return None
    keys = tuple(str(p) for p in path)
    for n in range(len(keys), -1, -1):
        if keys[:n] in lines:
            return lines[keys[:n]]
    return None


def _raise(path: Path, problems: list[Problem], lines: dict | None) -> None:
    located = [(_line_of(p.path, lines), p) for p in problems]
    located.sort(key=lambda lp: lp[0] if lp[0] is not None else 10**9)
    raise CodebookError(
        path,
        [
            f"{path}{f':{line}' if line else ''}: {dotted_path(p.path)}: {p.message}"
            for line, p in located
        ],
    )


def parse_codebook(doc: dict, path: Path | str, lines: dict | None = None) -> Codebook:
    """Check a parsed YAML document and build the Codebook, or raise CodebookError listing
    every problem with its line (``lines``: from :func:`read_yaml_located`)."""
    path = Path(path)
    problems = schema_problems(doc)
    problems += semantic_problems(doc, path, [p.path for p in problems])
    if problems:
        _raise(path, problems, lines)
    cb = _build(doc, path)
    problems = _vocabulary_problems(cb)
    if problems:
        _raise(path, problems, lines)
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
    doc, lines = read_yaml_located(path)
    cb = parse_codebook(doc, path, lines)
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
