"""Data contracts: declarative pandera models and one lazy validation report.

The models are the project's data model (docs/architecture.md): the canonical ``record``, the ``published_figure`` and the
``codebook`` (one table of fields, one of value mappings). Vocabularies come from
``data/canonical.yaml``, so the contracts change when the data say so, not the code.

``validate(df, Model, source=...)`` never raises on bad rows: it collects every failure
(file, row, column, rule, failing value) into a :class:`ValidationReport` that splits the
input into accepted and rejected rows, so that accepted + rejected = input, always.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa
from pandera.engines import pandas_engine
from pandera.typing import Int64, Series

from . import canon

FAILURE_COLUMNS = ["file", "row", "column", "rule", "value"]

_SHA256_HEX = r"^[0-9a-f]{64}$"
_INSTITUTION = r"^[A-Z][A-Z0-9_]*$"
_SNAKE = r"^[a-z][a-z0-9_]*$"
# Dates arriving as text must be ISO (readers convert institutional formats before this);
# an explicit format makes pandera report each unparseable cell instead of failing the column.
Date = pandas_engine.DateTime
_ISO = {"to_datetime_kwargs": {"format": "ISO8601"}}


# --------------------------------------------------------------------------------------
# canonical record
# --------------------------------------------------------------------------------------
# What each canonical field is, as data on the model (``record_fields``): every list of fields
# the library needs is derived from here, never typed out again.
_DERIVED = {"derived": True}  # set by ingestion from the file itself, not mapped from a column
_CATEGORY = {"category": True}  # a controlled vocabulary (or ISO code)
_PERSON = {"category": True, "profile": True}  # who the person is: the grounds of discrimination


class RecordModel(pa.DataFrameModel):
    """One row per record an institution holds, after harmonisation.

    Direct identifiers never appear here: ``person_key`` is a keyed hash (HMAC-SHA256, hex)
    made at ingestion, or null when the institution holds no identifier.
    """

    institution: Series[str] = pa.Field(metadata=_DERIVED, str_matches=_INSTITUTION)
    case_study: Series[str] = pa.Field(metadata=_DERIVED, isin=canon.case_studies())
    record_id: Series[str] = pa.Field(metadata=_DERIVED, str_length={"min_value": 1})
    person_key: Series[str] = pa.Field(nullable=True, str_matches=_SHA256_HEX)
    event_date: Series[Date] = pa.Field(nullable=True, dtype_kwargs=_ISO)
    report_date: Series[Date] = pa.Field(nullable=True, dtype_kwargs=_ISO)
    region_code: Series[str] = pa.Field(
        metadata=_CATEGORY, nullable=True, isin=canon.region_codes()
    )
    classification_recorded: Series[str] = pa.Field(metadata=_DERIVED, nullable=True)
    classification: Series[str] = pa.Field(
        metadata=_CATEGORY, nullable=True, isin=canon.vocabulary("classification")
    )
    sex: Series[str] = pa.Field(metadata=_PERSON, nullable=True, isin=canon.vocabulary("sex"))
    gender_identity: Series[str] = pa.Field(
        metadata=_PERSON, nullable=True, isin=canon.vocabulary("gender_identity")
    )
    age: Series[Int64] = pa.Field(nullable=True, ge=0, le=110)
    age_band: Series[str] = pa.Field(
        metadata=_PERSON, nullable=True, isin=canon.vocabulary("age_band")
    )
    nationality: Series[str] = pa.Field(metadata=_PERSON, nullable=True, str_matches=r"^[A-Z]{3}$")
    migrant_status: Series[str] = pa.Field(
        metadata=_PERSON, nullable=True, isin=canon.vocabulary("migrant_status")
    )
    indigenous_people: Series[str] = pa.Field(
        metadata=_PERSON, nullable=True, isin=canon.vocabulary("indigenous_people")
    )
    disability: Series[str] = pa.Field(
        metadata=_PERSON, nullable=True, isin=canon.vocabulary("disability")
    )
    perpetrator_type: Series[str] = pa.Field(
        metadata=_CATEGORY, nullable=True, isin=canon.vocabulary("perpetrator_type")
    )
    procedural_stage: Series[str] = pa.Field(
        metadata=_CATEGORY, nullable=True, isin=canon.vocabulary("procedural_stage")
    )
    source_file: Series[str] = pa.Field(metadata=_DERIVED, str_length={"min_value": 1})
    source_row: Series[Int64] = pa.Field(metadata=_DERIVED, ge=1)

    class Config:
        strict = True
        coerce = True
        unique = ["institution", "case_study", "record_id"]

    @pa.check("event_date", name="not_in_the_future")
    def _event_not_future(cls, s: Series[pd.Timestamp]) -> Series[bool]:
        return s.isna() | (s <= pd.Timestamp.now())

    @pa.check("report_date", name="not_in_the_future")
    def _report_not_future(cls, s: Series[pd.Timestamp]) -> Series[bool]:
        return s.isna() | (s <= pd.Timestamp.now())

    @pa.dataframe_check(name="event_date_not_before_offence_existed_in_law")
    def _event_after_law(cls, df: pd.DataFrame) -> Series[bool]:
        since = df["case_study"].map(
            {cs: pd.Timestamp(canon.in_law_since(cs)) for cs in canon.case_studies()}
        )
        return df["event_date"].isna() | since.isna() | (df["event_date"] >= since)

    @pa.dataframe_check(name="report_date_not_before_event_date")
    def _report_after_event(cls, df: pd.DataFrame) -> Series[bool]:
        both = df["event_date"].notna() & df["report_date"].notna()
        return ~both | (df["report_date"] >= df["event_date"])

    @pa.dataframe_check(name="classification_belongs_to_case_study")
    def _classification_in_case_study(cls, df: pd.DataFrame) -> Series[bool]:
        # vectorised: a million rows must not loop in Python (docs/architecture.md, bars)
        allowed = pd.MultiIndex.from_tuples(
            [(cs, c) for cs in canon.case_studies() for c in canon.vocabulary("classification", cs)]
        )
        pairs = pd.MultiIndex.from_arrays([df["case_study"], df["classification"]])
        return pd.Series(
            df["classification"].isna().to_numpy() | pairs.isin(allowed), index=df.index
        )


RECORD_COLUMNS: list[str] = list(RecordModel.to_schema().columns)


def record_fields(tag: str) -> tuple[str, ...]:
    """The canonical fields tagged ``tag`` (``derived``, ``category``, ``profile``) in
    :class:`RecordModel`, in the model's order."""
    columns = RecordModel.to_schema().columns
    return tuple(name for name, col in columns.items() if (col.metadata or {}).get(tag))


DERIVED_FIELDS = record_fields("derived")
CATEGORY_FIELDS = record_fields("category")
PROFILE_FIELDS = record_fields("profile")
# What a codebook may map an export's columns to.
MAPPED_FIELDS = tuple(c for c in RECORD_COLUMNS if c not in DERIVED_FIELDS)


# --------------------------------------------------------------------------------------
# published figures
# --------------------------------------------------------------------------------------
class PublishedFigureModel(pa.DataFrameModel):
    """A real published aggregate with its source (``data/published/figures.csv``)."""

    id: Series[str] = pa.Field(unique=True, str_matches=r"^[a-z]{2}\d{2,}$")
    case_study: Series[str] = pa.Field(isin=canon.case_studies())
    institution: Series[str] = pa.Field(str_matches=_INSTITUTION)
    metric: Series[str] = pa.Field(str_matches=_SNAKE)
    value: Series[float] = pa.Field(ge=0)
    unit: Series[str] = pa.Field(isin=canon.canonical()["units_of_count"])
    period_start: Series[Date] = pa.Field(dtype_kwargs=_ISO)
    period_end: Series[Date] = pa.Field(dtype_kwargs=_ISO)
    as_of: Series[Date] = pa.Field(dtype_kwargs=_ISO)
    source_url: Series[str] = pa.Field(str_matches=r"^https?://\S+\.\S+")
    source_kind: Series[str] = pa.Field(isin=canon.canonical()["source_kinds"])
    notes: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = True
        coerce = True

    @pa.dataframe_check(name="period_end_not_before_period_start")
    def _period_order(cls, df: pd.DataFrame) -> Series[bool]:
        return df["period_end"] >= df["period_start"]

    @pa.dataframe_check(name="as_of_not_before_period_start")
    def _as_of_after_start(cls, df: pd.DataFrame) -> Series[bool]:
        return df["as_of"] >= df["period_start"]


# --------------------------------------------------------------------------------------
# codebooks (flattened from data/codebooks/<institution>.yaml)
# --------------------------------------------------------------------------------------
CODEBOOK_DTYPES = ["string", "category", "date", "integer", "boolean", "identifier"]


class CodebookFieldModel(pa.DataFrameModel):
    """One row per institution × canonical field: is it recorded, under what name and type."""

    institution: Series[str] = pa.Field(str_matches=_INSTITUTION)
    case_study: Series[str] = pa.Field(isin=canon.case_studies())
    field: Series[str] = pa.Field(isin=RECORD_COLUMNS)
    recorded: Series[bool] = pa.Field()
    original_name: Series[str] = pa.Field(nullable=True)
    dtype: Series[str] = pa.Field(nullable=True, isin=CODEBOOK_DTYPES)
    definition_changed: Series[Date] = pa.Field(nullable=True, dtype_kwargs=_ISO)
    notes: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = "filter"
        coerce = True
        unique = ["institution", "case_study", "field"]

    @pa.dataframe_check(name="recorded_field_has_original_name_and_type")
    def _recorded_named(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df["recorded"] | (df["original_name"].notna() & df["dtype"].notna())


class CodebookMappingModel(pa.DataFrameModel):
    """One row per institution × field × original value, mapped to a canonical value."""

    institution: Series[str] = pa.Field(str_matches=_INSTITUTION)
    case_study: Series[str] = pa.Field(isin=canon.case_studies())
    field: Series[str] = pa.Field(isin=RECORD_COLUMNS)
    original_value: Series[str] = pa.Field()
    canonical_value: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = "filter"
        coerce = True
        unique = ["institution", "case_study", "field", "original_value"]

    @pa.dataframe_check(name="maps_to_canonical_value")
    def _canonical(cls, df: pd.DataFrame) -> Series[bool]:
        vocab = canon.canonical()["vocabularies"]

        def ok(field: str, cs: str, value) -> bool:
            if pd.isna(value):  # explicit mapping to missing
                return True
            allowed = vocab.get(field)
            if allowed is None:
                return True  # free-text or coded fields without a closed vocabulary
            if isinstance(allowed, dict):
                allowed = allowed.get(cs, [])
            return value in allowed

        flags = [
            ok(f, cs, v)
            for f, cs, v in zip(df["field"], df["case_study"], df["canonical_value"], strict=True)
        ]
        return pd.Series(flags, index=df.index)


# --------------------------------------------------------------------------------------
# the lazy validation report
# --------------------------------------------------------------------------------------
@dataclass
class ValidationReport:
    """Every failure of one validation, and the input split into accepted and rejected rows.

    ``failures`` has one row per failure with columns file, row, column, rule, value. ``row``
    is the line number in the source file when the frame carries ``source_row`` lineage,
    else the DataFrame index label. A failure with no row (a missing or unknown column, an
    empty file) applies to every row.
    """

    source: str
    n_read: int
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    failures: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FAILURE_COLUMNS))

    @property
    def ok(self) -> bool:
        return self.failures.empty

    @property
    def rejected_by_rule(self) -> pd.Series:
        return self.failures.groupby(["column", "rule"], dropna=False).size().rename("failures")

    def to_text(self, max_failures: int = 20) -> str:
        lines = [
            f"{self.source}: {self.n_read} rows read, {len(self.accepted)} accepted, "
            f"{len(self.rejected)} rejected"
        ]
        if self.ok:
            return lines[0]
        lines.append("failures by column and rule:")
        for (col, rule), n in self.rejected_by_rule.items():
            lines.append(f"  {n:>6}  {col if pd.notna(col) else '(table)'}: {rule}")
        lines.append(f"first {min(max_failures, len(self.failures))} failures:")
        for f in self.failures.head(max_failures).itertuples(index=False):
            where = f"row {f.row}" if pd.notna(f.row) else "all rows"
            col = f.column if pd.notna(f.column) else "(table)"
            lines.append(f"  {f.file}, {where}, column {col}: rule {f.rule}; value {f.value!r}")
        if len(self.failures) > max_failures:
            lines.append(f"  ... and {len(self.failures) - max_failures} more")
        return "\n".join(lines)

    def raise_if_failed(self) -> ValidationReport:
        if not self.ok:
            raise ContractError(self)
        return self

    def __str__(self) -> str:
        return self.to_text()


class ContractError(ValueError):
    """Raised by :meth:`ValidationReport.raise_if_failed`; carries the whole report."""

    def __init__(self, report: ValidationReport):
        self.report = report
        super().__init__(report.to_text())


LINEAGE_COLUMNS = ("source_file", "source_sheet", "source_row")
_MAX_PASSES = 4


def _rule_name(check) -> str:
    return re.sub(r"^<Check (.*)>$", r"\1", str(check))


def _named_columns(rule: str, columns) -> list[str]:
    """Columns a cross-field rule names (rules are named after the columns they compare)."""
    return [c for c in columns if re.search(rf"(^|_){re.escape(c)}(_|$)", rule)]


def _normalise(err: pa.errors.SchemaErrors, frame: pd.DataFrame) -> pd.DataFrame:
    """pandera's failure cases as one row per (row, column, rule), with ``_index`` kept."""
    rows = []
    seen_cross = set()
    for rec in err.failure_cases.itertuples(index=False):
        idx = (
            None
            if rec.index is None or (isinstance(rec.index, float) and pd.isna(rec.index))
            else rec.index
        )
        rule = _rule_name(rec.check)
        column, value = rec.column, rec.failure_case
        if rec.schema_context == "DataFrameSchema" and rule in (
            "column_in_dataframe",
            "column_in_schema",
        ):
            column = rec.failure_case  # the missing / unknown column itself
        elif rec.schema_context == "DataFrameSchema" and idx is not None:
            # a cross-field rule: pandera lists every column of the failing row; keep one
            # failure per row, naming the columns the rule compares and their values
            if (idx, rule) in seen_cross:
                continue
            seen_cross.add((idx, rule))
            named = _named_columns(rule, frame.columns) or list(frame.columns[:1])
            column = ",".join(named)
            value = ", ".join(f"{c}={frame.at[idx, c]}" for c in named if idx in frame.index)
        elif rec.schema_context == "DataFrameSchema":
            column = None
        if rule.startswith("dtype(") and idx is not None:
            continue  # always accompanied by the more telling coerce_dtype failure
        rows.append({"column": column, "rule": rule, "value": value, "_index": idx})
    return pd.DataFrame(rows, columns=["column", "rule", "value", "_index"])


def validate(
    df: pd.DataFrame, model: type[pa.DataFrameModel], *, source: str = "<dataframe>"
) -> ValidationReport:
    """Validate lazily; return the report with accepted (coerced) and rejected rows.

    Rows whose values cannot be coerced to the column type are set aside first, so that one
    bad cell never hides the checks on the other rows. Lineage columns (``source_file``,
    ``source_sheet``, ``source_row``) are carried through even when the model does not
    declare them. Rejected rows keep every original column plus ``reasons``.
    """
    n = len(df)
    if n == 0:
        return _no_rows_report(df, source)

    declared = set(model.to_schema().columns)
    lineage = [c for c in LINEAGE_COLUMNS if c in df.columns and c not in declared]
    accepted, found = _validate_in_passes(df.drop(columns=lineage), model)
    table = pd.concat(found, ignore_index=True) if found else _normalise_empty()
    whole_table = table["_index"].isna()
    bad_index = df.index if whole_table.any() else df.index[df.index.isin(table["_index"])]
    rejected = df.loc[bad_index].assign(
        reasons=_reasons(table, df.index, whole_table).loc[bad_index]
    )
    if lineage and len(accepted):
        accepted = accepted.join(df.loc[accepted.index, lineage])
    failures = pd.DataFrame(
        {
            "file": source,
            "row": pd.Series([_row_of(df, i) for i in table["_index"]], dtype=object),
            "column": table["column"],
            "rule": table["rule"],
            "value": table["value"],
        },
        columns=FAILURE_COLUMNS,
    )
    return ValidationReport(source, n, accepted, rejected, failures)


def _no_rows_report(df: pd.DataFrame, source: str) -> ValidationReport:
    """An empty table is one failure of the whole file (``file_has_no_rows``)."""
    failures = pd.DataFrame(
        [
            {
                "file": source,
                "row": None,
                "column": None,
                "rule": "file_has_no_rows",
                "value": None,
            }
        ],
        columns=FAILURE_COLUMNS,
    )
    return ValidationReport(
        source, 0, df.copy(), df.assign(reasons=pd.Series(dtype=object)), failures
    )


def _validate_in_passes(
    remaining: pd.DataFrame, model: type[pa.DataFrameModel]
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """(accepted rows, normalised failures of each pass).

    Each pass sets aside the rows that failed and validates the rest again: first the rows
    whose values cannot be coerced (they would hide the other checks), then the rows failing
    a check; a table-level failure rejects every row. After ``_MAX_PASSES`` passes the rows
    still left are rejected as ``unresolved_after_repeated_validation``."""
    found: list[pd.DataFrame] = []
    accepted = remaining.iloc[0:0]
    for _ in range(_MAX_PASSES):
        if remaining.empty:
            break
        try:
            accepted = model.validate(remaining, lazy=True)
            break
        except pa.errors.SchemaErrors as err:
            fails = _normalise(err, remaining)
        coerce = fails[fails["rule"].str.startswith("coerce_dtype") & fails["_index"].notna()]
        if not coerce.empty:
            found.append(coerce)
            remaining = remaining.drop(index=coerce["_index"].unique())
            continue
        found.append(fails)
        if fails["_index"].isna().any():  # a table-level failure rejects every row
            remaining = remaining.iloc[0:0]
            break
        remaining = remaining.drop(index=fails["_index"].unique())
    else:
        leftover = pd.DataFrame(
            {
                "column": None,
                "rule": "unresolved_after_repeated_validation",
                "value": None,
                "_index": remaining.index,
            }
        )
        found.append(leftover)
    return accepted, found


def _row_of(df: pd.DataFrame, idx):
    """The row a reader would look for: ``source_row`` when the table carries it."""
    if idx is None or (isinstance(idx, float) and pd.isna(idx)):
        return None
    return int(df.at[idx, "source_row"]) if "source_row" in df.columns else idx


def _normalise_empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["column", "rule", "value", "_index"])


def _reasons(table: pd.DataFrame, index: pd.Index, whole_table: pd.Series) -> pd.Series:
    def describe(t: pd.DataFrame) -> str:
        return "; ".join(
            f"{c if pd.notna(c) else '(table)'}: {r} ({v!r})"
            for c, r, v in zip(t["column"], t["rule"], t["value"], strict=True)
        )

    everywhere = describe(table[whole_table]) if whole_table.any() else ""
    out = pd.Series(everywhere, index=index, dtype=object)
    per_row = table[~whole_table]
    if not per_row.empty:  # one groupby-join, not a Python loop per rejected row
        text = pd.Series(
            [
                f"{c if pd.notna(c) else '(table)'}: {r} ({v!r})"
                for c, r, v in zip(
                    per_row["column"], per_row["rule"], per_row["value"], strict=True
                )
            ],
            index=per_row.index,
        )
        joined = text.groupby(per_row["_index"].to_numpy(), sort=False).agg("; ".join)
        if everywhere:
            joined = everywhere + "; " + joined
        out.loc[joined.index] = joined.to_numpy()
    return out
