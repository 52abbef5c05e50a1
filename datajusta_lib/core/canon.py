"""The canonical vocabulary (``data/canonical.yaml``) and the 16 regions, as Python objects."""

from __future__ import annotations

from datetime import date
from functools import cache

import pandas as pd
import yaml

from .paths import data_dir, reference_dir


@cache
def canonical() -> dict:
    with open(data_dir() / "canonical.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def case_studies() -> list[str]:
    return list(canonical()["case_studies"])


def case_study_label(case_study: str, lang: str = "es") -> str:
    return canonical()["case_studies"][case_study]["label"][lang]


def in_law_since(case_study: str) -> date:
    """First date on which the conduct was an offence under its current legal definition."""
    return date.fromisoformat(canonical()["case_studies"][case_study]["in_law_since"])


def plausible_dates(case_study: str) -> dict[str, tuple[date | None, date | None]]:
    """Per date field, the (earliest, latest) date a record of the case study can plausibly
    carry (``plausible_dates`` in canonical.yaml; None = no bound). Dates outside are rejected
    at ingestion as ``date_outside_plausible_range``."""
    spec = canonical()["case_studies"][case_study].get("plausible_dates") or {}
    out = {}
    for name, bounds in spec.items():
        lo, hi = (bounds or {}).get("min"), (bounds or {}).get("max")
        out[name] = (
            date.fromisoformat(lo) if lo else None,
            date.fromisoformat(hi) if hi else None,
        )
    return out


def vocabulary(field: str, case_study: str | None = None) -> list[str]:
    values = canonical()["vocabularies"][field]
    if isinstance(values, dict):
        if case_study is None:
            return sorted({v for vs in values.values() for v in vs})
        return list(values[case_study])
    return list(values)


def missing_tokens() -> list[str]:
    return list(canonical()["missing_tokens"])


@cache
def regions() -> pd.DataFrame:
    """The 16 regions north to south with official two-digit codes and 2017 census population."""
    df = pd.read_csv(reference_dir() / "regions.csv", dtype={"code": str})
    return df.sort_values("order_north_to_south").reset_index(drop=True)


def region_codes() -> list[str]:
    return regions()["code"].tolist()
