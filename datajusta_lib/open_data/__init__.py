"""Real open data: what Chilean institutions published, as one long series table.

``open_series(case_study, ...)`` reads the files under ``data/open/<source>/`` (committed;
nothing is fetched at run time) through one reader per source, each validated against
:class:`SeriesModel` (``contract.py``). Places are matched to official CUT codes
(``geo.py``); the eye-trauma capture histories across the INDH, PVI and PACTO lists are in
``eye_trauma.py``; charts in ``charts.py``; the page sections in ``sections.py``.
See ``docs/open_data.md``.
"""

from __future__ import annotations

import pandas as pd

from .contract import SeriesContractError, SeriesModel, check_series, validate_series
from .readers import READERS, SourceRead, read_source, source_meta

__all__ = [
    "SeriesContractError",
    "SeriesModel",
    "SourceRead",
    "check_series",
    "open_series",
    "read_source",
    "source_meta",
    "sources",
    "validate_series",
]


def sources() -> list[str]:
    """The open-data sources that have a reader."""
    return list(READERS)


def open_series(
    case_study: str | None = None,
    *,
    source: str | list[str] | None = None,
    institution: str | list[str] | None = None,
    phenomenon: str | list[str] | None = None,
    unit: str | list[str] | None = None,
) -> pd.DataFrame:
    """The validated series table (one row per published value), filtered.

    ``case_study``: trafficking | attempted_femicide | protest_violence, or None for every
    row (rows of context series such as homicides have no case study). The other filters
    take a value or a list. Units differ by institution: never add ``value`` across
    institutions or units.
    """
    from ..core import canon

    if case_study is not None and case_study not in canon.case_studies():
        raise ValueError(
            f"unknown case study {case_study!r}; expected one of {canon.case_studies()}"
        )

    def as_list(v):
        return None if v is None else ([v] if isinstance(v, str) else list(v))

    names = as_list(source) or sources()
    unknown = set(names) - set(READERS)
    if unknown:
        raise ValueError(f"unknown open-data source(s) {sorted(unknown)}; expected {sources()}")
    df = pd.concat([read_source(n).table for n in names], ignore_index=True)
    if case_study is not None:
        df = df[df["case_study"] == case_study]
    for col, wanted in (("institution", institution), ("phenomenon", phenomenon), ("unit", unit)):
        wanted = as_list(wanted)
        if wanted is not None:
            df = df[df[col].isin(wanted)]
    return df.reset_index(drop=True)
