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
    # the order of the kinds below is the order of the random draws: keep it
    cells = _Cells(rng, table, cols, missing, cb, rate)
    recorded = cb.recorded
    if cb.identifier_kind == "RUN" and "person_key" in recorded:
        _invalid_run_check_digit(cells, rng)
    dates = [f for f in ("event_date", "report_date") if f in recorded]
    if dates:
        _future_date(cells, cols, dates[0])
    if "age" in recorded:
        idx = cells.pick("age")
        typed = np.array([int("1" + str(int(a))) for a in cols["age"][idx]], dtype=np.int64)
        cells.change("age", "age_out_of_range", idx, np.where(typed > 110, typed, 999).astype(str))
    formula_field, unknown_field = _category_fields(recorded)
    if formula_field:
        cells.change(formula_field, "formula_like", cells.pick(formula_field), FORMULA)
    if unknown_field:
        unknown = _unknown_label(cb, unknown_field)
        cells.change(unknown_field, "unknown_category", cells.pick(unknown_field), unknown)
    return pd.DataFrame(cells.changed, columns=COLUMNS)


class _Cells:
    """The cells of one export open to corruption: picks free original rows, logs each change.

    A row is free while it is an original row, not written as missing in that field and not
    corrupted yet (at most one problem per row).
    """

    def __init__(self, rng, table: dict, cols: dict, missing: dict, cb: Codebook, rate: float):
        n = len(cols["row_kind"])
        self.k = max(int(round(rate * n)), 1 if n >= 100 else 0)
        self.taken = cols["row_kind"] != "original"
        self.rng, self.table, self.missing, self.cb = rng, table, missing, cb
        self.changed: list[dict] = []

    def pick(self, field: str) -> np.ndarray:
        free = np.flatnonzero(~self.missing[field] & ~self.taken)
        chosen = (
            self.rng.choice(free, size=min(self.k, len(free)), replace=False) if len(free) else free
        )
        self.taken[chosen] = True
        return np.sort(chosen)

    def change(self, field: str, kind: str, idx: np.ndarray, new_values) -> None:
        col = self.cb.recorded[field].original_name
        column = self.table[col]
        before = column[idx].copy()
        column[idx] = new_values
        self.changed.extend(
            {
                "row_index": int(i),
                "kind": kind,
                "field": field,
                "column": col,
                "original_value": b,
                "written_value": column[i],
            }
            for i, b in zip(idx, before, strict=True)
        )


def _invalid_run_check_digit(cells: _Cells, rng) -> None:
    """Shift the RUN's check digit by 1-10 places along 0-9, K (always a wrong digit)."""
    idx = cells.pick("person_key")
    runs = cells.table[cells.cb.recorded["person_key"].original_name][idx]
    shift = rng.integers(1, 11, size=len(idx))
    wrong = [_DV[(_DV.index(v[-1].upper()) + s) % 11] for v, s in zip(runs, shift, strict=True)]
    cells.change(
        "person_key",
        "invalid_run_check_digit",
        idx,
        [v[:-1] + w for v, w in zip(runs, wrong, strict=True)],
    )


def _future_date(cells: _Cells, cols: dict, field: str) -> None:
    """Type the year as 2060-2067, keeping month and day (capped at 28, valid in any month)."""
    idx = cells.pick(field)
    d = pd.DatetimeIndex(cols["event_recorded" if field == "event_date" else "report_date"][idx])
    future = pd.to_datetime(
        {"year": FUTURE_YEAR + d.year % 8, "month": d.month, "day": np.minimum(d.day, 28)}
    ).to_numpy()
    cells.change(field, "future_date", idx, format_dates(future, cells.cb.date_format(field)))


def _category_fields(recorded: dict) -> tuple[str | None, str | None]:
    """The category fields that get a pasted formula and an unknown label (different if possible)."""
    cats = [f for f, spec in recorded.items() if spec.dtype == "category"]
    formula_order = (
        "classification",
        "perpetrator_type",
        "procedural_stage",
        "nationality",
        "region_code",
        "sex",
    )
    formula_field = next((f for f in formula_order if f in cats), None)
    unknown_field = next(
        (
            f
            for f in ("sex", "region_code", "nationality", *cats)
            if f in cats and (f != formula_field or len(cats) == 1)
        ),
        None,
    )
    return formula_field, unknown_field


def _unknown_label(cb: Codebook, field: str) -> str:
    """A double-coded label (``F/M``) built from the field's own labels; never a real one."""
    values = cb.recorded[field].values
    labels = [lab for lab, v in values.items() if v is not None]
    unknown = f"{labels[0]}/{labels[1]}" if len(labels) > 1 else "PENDIENTE DE CLASIFICAR"
    known = {normalise_label(x) for x in [*values, *cb.missing_tokens]}
    if normalise_label(unknown) in known:
        raise ValueError(f"{cb.institution}: the 'unknown' label {unknown!r} is a real label")
    return unknown
