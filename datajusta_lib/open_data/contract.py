"""The contract of the long "series" table every open-data reader produces.

One row is one number a publisher published (or one cell of an aggregate a collecting
repository derived from a publisher's file): who counted, what, in which unit, for which
period and place, with which breakdown, and where it comes from. Units differ by institution
and are never added across institutions (``unit`` says what a row counts).

``validate_series(df, source=...)`` validates lazily (every failing row and rule, through
``datajusta_lib.core.contracts.validate``) and raises :class:`SeriesContractError` naming file,
row, column and rule when any row is rejected: readers never drop a bad row silently.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from ..core import canon
from ..core.contracts import _ISO, Date, validate

UNITS = [
    "court_cases",  # causas ingresadas (Poder Judicial)
    "sentences",  # sentencias (Poder Judicial)
    "police_cases",  # casos policiales (CEAD)
    "victims",  # víctimas (SernamEG, Red Chilena, INDH)
    "persons",  # personas (PVI, PACTO)
    "acts",  # hechos represivos (INDH map)
    "legal_actions",  # acciones judiciales: querellas, amparos (INDH)
    "suits",  # demandas civiles (CDE)
    "claimants",  # demandantes (CDE)
]
GRANULARITIES = ["day", "month", "year", "period"]
GEO_LEVELS = [
    "country",
    "region",
    "region_not_stated",
    "appeals_court",
    "state_office",  # e.g. a CDE procuraduría fiscal
    "comuna",
    "comuna_not_stated",
]
SEXES = ["female", "male", "non_binary", "other", "not_stated"]


class SeriesModel(pa.DataFrameModel):
    """One published (or collected) aggregate value with its provenance."""

    source: Series[str] = pa.Field(str_matches=r"^[a-z][a-z0-9_]*$")
    dataset: Series[str] = pa.Field(str_length={"min_value": 1})
    publisher: Series[str] = pa.Field(str_length={"min_value": 1})
    institution: Series[str] = pa.Field(str_matches=r"^[A-Z][A-Z0-9_]*$")
    case_study: Series[str] = pa.Field(nullable=True, isin=canon.case_studies())
    phenomenon: Series[str] = pa.Field(str_matches=r"^[a-z][a-z0-9_]*$")
    category: Series[str] = pa.Field(nullable=True)
    detail: Series[str] = pa.Field(nullable=True)
    unit: Series[str] = pa.Field(isin=UNITS)
    period_start: Series[Date] = pa.Field(dtype_kwargs=_ISO)
    period_end: Series[Date] = pa.Field(dtype_kwargs=_ISO)
    granularity: Series[str] = pa.Field(isin=GRANULARITIES)
    geo_level: Series[str] = pa.Field(isin=GEO_LEVELS)
    region_code: Series[str] = pa.Field(nullable=True, isin=canon.region_codes())
    comuna_code: Series[str] = pa.Field(nullable=True, str_matches=r"^\d{5}$")
    geo_name: Series[str] = pa.Field(nullable=True)
    sex: Series[str] = pa.Field(nullable=True, isin=SEXES)
    age_band: Series[str] = pa.Field(nullable=True)
    value: Series[float] = pa.Field(ge=0)
    note: Series[str] = pa.Field(nullable=True)
    source_url: Series[str] = pa.Field(str_matches=r"^https?://\S+\.\S+")
    as_of: Series[Date] = pa.Field(dtype_kwargs=_ISO)

    class Config:
        strict = True
        coerce = True

    @pa.dataframe_check(name="period_end_not_before_period_start")
    def _period_order(cls, df: pd.DataFrame) -> Series[bool]:
        return df["period_end"] >= df["period_start"]

    @pa.dataframe_check(name="region_level_needs_region_code")
    def _region_code(cls, df: pd.DataFrame) -> Series[bool]:
        return (df["geo_level"] != "region") | df["region_code"].notna()

    @pa.dataframe_check(name="comuna_level_needs_comuna_code")
    def _comuna_code(cls, df: pd.DataFrame) -> Series[bool]:
        return (df["geo_level"] != "comuna") | df["comuna_code"].notna()

    @pa.dataframe_check(name="comuna_code_within_its_region")
    def _comuna_in_region(cls, df: pd.DataFrame) -> Series[bool]:
        both = df["comuna_code"].notna() & df["region_code"].notna()
        # CUT 2018: a comuna code starts with its region code (Ñuble 16xxx)
        prefix = df["comuna_code"].astype("string").str[:2]
        return ~both | (prefix == df["region_code"].astype("string"))

    @pa.dataframe_check(name="count_is_a_whole_number")
    def _whole(cls, df: pd.DataFrame) -> Series[bool]:
        return (df["value"] % 1) == 0


COLUMNS = list(SeriesModel.to_schema().columns)
KEY = [
    "dataset",
    "institution",
    "phenomenon",
    "category",
    "detail",
    "unit",
    "period_start",
    "period_end",
    "geo_level",
    "region_code",
    "comuna_code",
    "geo_name",
    "sex",
    "age_band",
]


class SeriesContractError(ValueError):
    """Rows of an open-data file broke the series contract (the report says which and why)."""

    def __init__(self, report):
        self.report = report
        super().__init__(report.to_text())


def validate_series(df: pd.DataFrame, *, source: str = "<series>"):
    """Lazy validation (``ValidationReport``) of a series table, plus the duplicate-key rule."""
    lineage = [c for c in ("source_file", "source_row") if c in df.columns]
    frame = df.reindex(columns=[*COLUMNS, *lineage]) if set(COLUMNS) <= set(df.columns) else df
    return validate(frame, SeriesModel, source=source)


def check_series(df: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """The accepted table, or :class:`SeriesContractError` if any row was rejected or two
    rows describe the same cell."""
    report = validate_series(df, source=source)
    if len(report.rejected):
        raise SeriesContractError(report)
    out = report.accepted
    dup = out.duplicated(KEY, keep=False)
    if dup.any():
        rows = (out["source_row"] if "source_row" in out.columns else out.index)[dup].tolist()[:10]
        raise ValueError(
            f"{source}: {int(dup.sum())} rows describe the same cell twice (rule unique_cell), "
            f"first rows {rows}"
        )
    return out.reset_index(drop=True)
