"""Population denominators for rates: INE projections by region, year and sex.

``data/reference/population_region_year_sex.csv`` (derived by ``scripts/derive_population.py``
from INE "Proyecciones de población", base Censo 2017, with the source on every row).

A rate over a period is per 100,000 persons **per year**: the denominator is the person-years
the period covers in each region (each calendar year's projected population times the share
of that year inside the period), so periods of different length compare. The population a
case study is about decides who is counted: women for attempted femicide (the legal
definition makes the victim a woman), everybody otherwise.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

# who the rate is "per 100,000" of, per case study (None: all inhabitants)
DENOMINATOR_SEX = {"attempted_femicide": "female"}


@cache
def table() -> pd.DataFrame:
    from .paths import data_dir

    path = data_dir() / "reference" / "population_region_year_sex.csv"
    return pd.read_csv(path, dtype={"region_code": str})


def source() -> tuple[str, str]:
    """(source title, address) of the population figures."""
    t = table()
    return str(t["source"].iloc[0]), str(t["source_url"].iloc[0])


def denominator_sex(case_study: str | None) -> str | None:
    return DENOMINATOR_SEX.get(case_study or "")


def person_years(start, end, sex: str | None = None) -> pd.Series:
    """Person-years lived in each region between ``start`` and ``end`` (inclusive dates),
    of one sex or of everybody; indexed by region code. Raises if the period leaves the
    years the table covers."""
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if end < start:
        raise ValueError(f"period ends ({end.date()}) before it starts ({start.date()})")
    t = table()
    if sex is not None:
        t = t[t["sex"] == sex]
    by_year = t.groupby(["region_code", "year"])["population"].sum().unstack("year")
    out = pd.Series(0.0, index=by_year.index)
    for year in range(start.year, end.year + 1):
        if year not in by_year.columns:
            raise ValueError(
                f"no population for {year} in population_region_year_sex.csv "
                f"(years {by_year.columns.min()}–{by_year.columns.max()})"
            )
        y0, y1 = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
        days = (min(end, y1) - max(start, y0)).days + 1
        out += by_year[year] * days / ((y1 - y0).days + 1)
    return out


def mean_population(start, end, sex: str | None = None) -> pd.Series:
    """Average population over the period (person-years / years), by region code."""
    years = ((pd.Timestamp(end) - pd.Timestamp(start)).days + 1) / 365.2425
    return person_years(start, end, sex) / years
