"""Data problems the readers must catch, injected at a low rate so that quarantine has content.

Five kinds, each in a column the harmoniser reads (names and extra columns never leave
ingestion, so a problem there would rightly go unnoticed):

- ``invalid_run_check_digit``: the RUN's check digit changed (a typing error);
- ``future_date``: the year typed as 2060-2067 (also a future year when written ``%y``);
- ``age_out_of_range``: a '1' typed before the age (34 -> 134), or 999;
- ``formula_like``: ``=HYPERLINK(...)`` pasted into a mapped column;
- ``unknown_category``: a double-coded label (``F/M``) the codebook does not know.

Each export with at least 100 rows gets at least one of every kind its fields allow; only
original rows are corrupted, at most one problem per row, and every one is recorded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..ingest.codebooks import Codebook, normalise_label
from .formats import format_dates

FORMULA = '=HYPERLINK("http://example.invalid/ficha","ver ficha")'
FUTURE_YEAR = 2060  # a future year that also survives two-digit-year formats (%y: 00-68 -> 20xx)
KINDS = (
    "invalid_run_check_digit",
    "future_date",
    "age_out_of_range",
    "formula_like",
    "unknown_category",
)
COLUMNS = ["row_index", "kind", "field", "column", "original_value", "written_value"]
_DV = "0123456789K"


def corrupt(rng, table: dict, cols: dict, missing: dict, cb: Codebook, rate: float) -> pd.DataFrame:
    """Change a few cells of ``table`` in place; return what was changed, one row per problem.

    ``missing`` gives, per canonical field, the rows whose cell was written as missing.
    """
    n = len(cols["row_kind"])
    k = max(int(round(rate * n)), 1 if n >= 100 else 0)
    taken = cols["row_kind"] != "original"
    recorded = cb.recorded
    out: list[dict] = []

    def pick(field: str) -> np.ndarray:
        free = np.flatnonzero(~missing[field] & ~taken)
        chosen = rng.choice(free, size=min(k, len(free)), replace=False) if len(free) else free
        taken[chosen] = True
        return np.sort(chosen)

    def change(field: str, kind: str, idx: np.ndarray, new_values) -> None:
        col = recorded[field].original_name
        before = table[col][idx].copy()
        table[col][idx] = new_values
        out.extend(
            {
                "row_index": int(i),
                "kind": kind,
                "field": field,
                "column": col,
                "original_value": b,
                "written_value": table[col][i],
            }
            for i, b in zip(idx, before, strict=True)
        )

    if cb.identifier_kind == "RUN" and "person_key" in recorded:
        idx = pick("person_key")
        cells = table[recorded["person_key"].original_name][idx]
        shift = rng.integers(1, 11, size=len(idx))
        wrong = [
            _DV[(_DV.index(v[-1].upper()) + s) % 11] for v, s in zip(cells, shift, strict=True)
        ]
        change(
            "person_key",
            "invalid_run_check_digit",
            idx,
            [v[:-1] + w for v, w in zip(cells, wrong, strict=True)],
        )
    dates = [f for f in ("event_date", "report_date") if f in recorded]
    if dates:
        field = dates[0]
        idx = pick(field)
        d = pd.DatetimeIndex(
            cols["event_recorded" if field == "event_date" else "report_date"][idx]
        )
        future = pd.to_datetime(
            {"year": FUTURE_YEAR + d.year % 8, "month": d.month, "day": np.minimum(d.day, 28)}
        ).to_numpy()
        change(field, "future_date", idx, format_dates(future, cb.date_format(field)))
    if "age" in recorded:
        idx = pick("age")
        typed = np.array([int("1" + str(int(a))) for a in cols["age"][idx]], dtype=np.int64)
        change("age", "age_out_of_range", idx, np.where(typed > 110, typed, 999).astype(str))
    cats = [f for f, spec in recorded.items() if spec.dtype == "category"]
    formula_field = next(
        (
            f
            for f in (
                "classification",
                "perpetrator_type",
                "procedural_stage",
                "nationality",
                "region_code",
                "sex",
            )
            if f in cats
        ),
        None,
    )
    if formula_field:
        change(formula_field, "formula_like", pick(formula_field), FORMULA)
    unknown_field = next(
        (
            f
            for f in ("sex", "region_code", "nationality", *cats)
            if f in cats and (f != formula_field or len(cats) == 1)
        ),
        None,
    )
    if unknown_field:
        values = recorded[unknown_field].values
        labels = [lab for lab, v in values.items() if v is not None]
        unknown = f"{labels[0]}/{labels[1]}" if len(labels) > 1 else "PENDIENTE DE CLASIFICAR"
        known = {normalise_label(x) for x in [*values, *cb.missing_tokens]}
        if normalise_label(unknown) in known:
            raise ValueError(f"{cb.institution}: the 'unknown' label {unknown!r} is a real label")
        change(unknown_field, "unknown_category", pick(unknown_field), unknown)
    return pd.DataFrame(out, columns=COLUMNS)
