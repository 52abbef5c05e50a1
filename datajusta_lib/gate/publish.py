"""The only way a table reaches the site: the publish gate.

``publish_table`` decides what may be shown and stamps the result; the notebook displays the
stamped table (``show_table``), and the renderer writes the downloadable CSV only for stamped
tables whose CSV still matches the stamp's hash. Charts of counts are drawn from the same
gated objects (``show_figure(..., counts=...)``). Kinds:

- ``published``: aggregates an institution has already made public, each row with its source
  address. They are reproduced as published (suppressing them would hide public facts and
  the point is to compare them), and the stamp says so.
- ``counts``: counts of records (persons, cases, ...) in a one- or two-way table. Small-cell
  suppression with verified complementary suppression and optional rounding
  (:func:`gate_counts`).
- ``estimates``: statistics computed from records (model estimates, shares, rates); each row
  carries the observed record count(s) behind it and rows resting on fewer than k records
  are hidden (:func:`gate_estimates`).
- ``metadata``: tables about the data's structure (codebooks, field lists, checklists) that
  hold no statistic about people; the caller names the origin (e.g. ``data/codebooks``).
- ``records``: record-level output. Refused unless ``allow_records=True`` and the table is
  k-anonymous and l-diverse (:func:`datajusta_lib.gate.disclosure.gate_records`).

The stamp (name, kind, gate, sha256, csv) is computed once, at the gate: the table a
``PublishedTable`` hands out is a copy, so changing it afterwards cannot change what is
published, and a stamp whose CSV was edited no longer matches its hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import disclosure as dc
from . import linked

TABLE_MIMETYPE = "application/vnd.datajusta.table+json"
KINDS = ("published", "counts", "estimates", "metadata", "records")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, eq=False)
class PublishedTable:
    """A table that passed the gate; immutable once made."""

    name: str
    kind: str
    gate: dict
    csv: str
    sha256: str
    _frame: pd.DataFrame = field(repr=False)

    @classmethod
    def create(cls, *, name: str, kind: str, frame: pd.DataFrame, gate: dict, **extra):
        if not name or not isinstance(name, str) or "/" in name or name.startswith("."):
            raise ValueError(f"table name {name!r} must be a plain file name")
        frame = frame.reset_index(drop=True)
        csv = frame.to_csv(index=False)
        return cls(
            name=name,
            kind=kind,
            gate=dict(gate),
            csv=csv,
            sha256=_sha256(csv),
            _frame=frame.copy(),
            **extra,
        )

    @property
    def table(self) -> pd.DataFrame:
        """The table as published (a copy)."""
        return self._frame.copy()

    def verify(self) -> None:
        """Raise if the gate did not pass or the table changed after the gate."""
        if not self.gate.get("passed"):
            raise ValueError(f"table {self.name!r} did not pass the publish gate: {self.gate}")
        if _sha256(self.csv) != self.sha256 or self._frame.to_csv(index=False) != self.csv:
            raise ValueError(f"table {self.name!r} changed after the publish gate")

    def stamp(self) -> dict:
        self.verify()
        return {
            "name": self.name,
            "kind": self.kind,
            "gate": self.gate,
            "sha256": self.sha256,
            "csv": self.csv,
        }

    def allowed_values(self) -> set[float]:
        """Numbers a figure drawn from this table may show (see display.show_figure)."""
        out: set[float] = set()
        for col in self._frame.columns:
            nums = pd.to_numeric(self._frame[col], errors="coerce").dropna()
            out.update(float(v) for v in nums)
        return out


@dataclass(frozen=True, eq=False)
class GatedCounts(PublishedTable):
    """A table of counts that passed small-cell suppression.

    ``visible`` holds the counts a chart may draw (NaN where hidden), without totals: a
    Series for a one-way table, a DataFrame (rows x columns) for a two-way one. ``long()``
    gives the same in long form for seaborn. ``shares()`` gives percentages computed from
    visible cells and published totals only.
    """

    table_spec: dc.CountTable | None = field(default=None, repr=False)
    result: dc.Suppression | None = field(default=None, repr=False)
    shown: np.ndarray | None = field(default=None, repr=False)

    @property
    def k(self) -> int:
        return int(self.gate["k"])

    def _grid(self) -> tuple[np.ndarray, np.ndarray]:
        vals = np.where(self.result.suppressed, np.nan, self.shown)
        return vals, self.result.suppressed

    @property
    def visible(self) -> pd.Series | pd.DataFrame:
        vals, _ = self._grid()
        spec = self.table_spec
        if spec.column_labels is None:
            return pd.Series(
                vals[:-1],
                index=pd.Index(spec.row_labels, name=spec.label_column),
                name=spec.count_column,
            )
        r, c = len(spec.row_labels), len(spec.column_labels)
        grid = vals.reshape(r + 1, c + 1)[:r, :c]
        return pd.DataFrame(
            grid,
            index=pd.Index(spec.row_labels, name=spec.label_column),
            columns=pd.Index(spec.column_labels, name=spec.columns_variable),
        )

    @property
    def totals(self) -> dict:
        """Published totals (NaN where hidden): ``rows``, ``columns`` (two-way) and ``grand``."""
        vals, _ = self._grid()
        spec = self.table_spec
        if spec.column_labels is None:
            return {"grand": vals[-1]}
        r, c = len(spec.row_labels), len(spec.column_labels)
        grid = vals.reshape(r + 1, c + 1)
        return {
            "rows": pd.Series(grid[:r, c], index=list(spec.row_labels)),
            "columns": pd.Series(grid[r, :c], index=list(spec.column_labels)),
            "grand": grid[r, c],
        }

    def long(self) -> pd.DataFrame:
        vis = self.visible
        if isinstance(vis, pd.Series):
            out = vis.rename("count").reset_index()
        else:
            out = vis.rename_axis(columns=vis.columns.name or "column").stack(future_stack=True)
            out = out.rename("count").reset_index()
        out["suppressed"] = out["count"].isna()
        return out

    def shares(self, axis: str = "grand", percent: bool = True) -> pd.Series | pd.DataFrame:
        """Visible cells divided by their published total: ``axis`` = ``grand``, ``rows``
        (each row sums to 100) or ``columns``. Hidden cells and hidden totals give NaN."""
        vis = self.visible
        tot = self.totals
        scale = 100.0 if percent else 1.0
        if axis == "grand":
            return vis / tot["grand"] * scale
        if isinstance(vis, pd.Series):
            raise ValueError("a one-way table only has grand shares")
        if axis == "rows":
            return vis.div(tot["rows"].to_numpy(), axis=0) * scale
        if axis == "columns":
            return vis.div(tot["columns"].to_numpy(), axis=1) * scale
        raise ValueError("axis must be grand, rows or columns")

    def allowed_values(self) -> set[float]:
        out = super().allowed_values()
        vis = self.visible
        for axis in ("grand",) if isinstance(vis, pd.Series) else ("grand", "rows", "columns"):
            for percent in (True, False):
                vals = np.asarray(self.shares(axis, percent), dtype=float).ravel()
                out.update(float(v) for v in vals if np.isfinite(v))
        return out


def publish_table(
    df: pd.DataFrame | pd.Series | PublishedTable,
    *,
    name: str | None = None,
    kind: str = "published",
    k: int | None = None,
    rounding: int | None = None,
    observed: str | Sequence[str] | None = None,
    label_columns: Sequence[str] | None = None,
    origin: str | None = None,
    quasi_identifiers: Sequence[str] = (),
    sensitive: Sequence[str] = (),
    allow_records: bool = False,
    link=None,
    **count_options,
) -> PublishedTable:
    """Pass ``df`` through the gate for its ``kind`` and stamp it (see the module docstring).

    An object that already passed the gate (e.g. from ``gate_counts``) is checked and
    returned as is.
    """
    if isinstance(df, PublishedTable):
        df.verify()
        return df
    if kind not in KINDS:
        raise ValueError(f"unknown table kind {kind!r}; expected one of {KINDS}")
    if not name:
        raise ValueError("every published table needs a name (its CSV file name)")
    if kind == "counts":
        return gate_counts(df, name=name, k=k, rounding=rounding, link=link, **count_options)
    if link is not None and kind != "estimates":
        raise TypeError(f"link= applies to counts and estimates tables, not {kind!r}")
    if count_options:
        raise TypeError(f"unexpected options for kind {kind!r}: {sorted(count_options)}")
    if isinstance(df, pd.Series):
        df = df.to_frame()
    if kind == "published":
        if (
            "source_url" not in df.columns
            and "Fuente" not in df.columns
            and "Source" not in df.columns
        ):
            raise ValueError(
                f"table {name!r}: a table of published figures must carry each row's source address"
            )
        gate = {"passed": True, "rule": "already_public_with_source", "suppressed_cells": 0}
        frame = df
    elif kind == "estimates":
        if observed is None:
            raise ValueError(
                f"table {name!r}: kind='estimates' needs observed=<record count column(s)>"
            )
        frame, gate = gate_estimates(
            df, name=name, observed=observed, k=k, label_columns=label_columns, link=link
        )
    elif kind == "metadata":
        if not origin:
            raise ValueError(
                f"table {name!r}: kind='metadata' needs origin=<where the table comes from, e.g. data/codebooks>"
            )
        gate = {"passed": True, "rule": "no_statistics_about_people", "origin": origin}
        frame = df
    else:  # records
        frame, gate = dc.gate_records(
            df,
            name=name,
            quasi_identifiers=quasi_identifiers,
            sensitive=sensitive,
            k=k,
            allow_records=allow_records,
        )
    return PublishedTable.create(name=name, kind=kind, frame=frame, gate=gate)


def gate_counts(
    data: pd.DataFrame | pd.Series | dc.CountTable,
    *,
    name: str,
    rows: str | None = None,
    columns: str | None = None,
    k: int | None = None,
    rounding: int | None = None,
    row_order: Sequence | None = None,
    column_order: Sequence | None = None,
    missing: str = "—",
    label: str | None = None,
    count_label: str = "n",
    link=None,
    total_row: bool = True,
):
    """Pass a table of counts through the disclosure gate; returns a ``GatedCounts``.

    ``total_row=False``: the rows count different things (e.g. one row per institution, each
    in its own unit of count), so the row adding them up is not published. Suppression is
    still computed as if that total were known (the safe side).

    ``data``: records with ``rows=`` (and ``columns=``) to count, a Series of counts, or a
    DataFrame of counts (index = row categories, columns = column categories). ``k``
    defaults to the configured threshold and may only be raised. ``rounding``: round every
    visible count (totals included) to a multiple of this base after suppression.
    ``link``: a :class:`datajusta_lib.gate.linked.Link` saying what the cells count, so that the
    tables of one page are protected jointly (see ``linked``).
    """
    k = dc.resolve_k(k)
    table = (
        data
        if isinstance(data, dc.CountTable)
        else dc.count_table(
            data,
            rows=rows,
            columns=columns,
            row_order=row_order,
            column_order=column_order,
            missing=missing,
            label=label,
            count_label=count_label,
            name=name,
        )
    )
    result, verification = _suppressed_counts(table, name=name, k=k, rounding=rounding, link=link)
    shown = result.values if rounding is None else _rounded_counts(result, name, k, rounding)
    frame = dc._display_frame(table, shown, result.suppressed)
    if not total_row:
        frame = frame.iloc[:-1]
    gate = _counts_gate_record(table, result, verification, k=k, rounding=rounding, link=link)
    if not total_row:
        gate["total_row"] = False  # rows of different units: no total across them
    return GatedCounts.create(
        name=name,
        kind="counts",
        frame=frame,
        gate=gate,
        table_spec=table,
        result=result,
        shown=shown,
    )


def _suppressed_counts(table: dc.CountTable, *, name: str, k: int, rounding, link):
    """Suppress the small cells (jointly with the page's other tables when ``link``) and
    verify that no hidden cell can be recovered; returns (result, verification)."""
    result = dc.suppress(table.structure(), table.augmented(), k)
    page_note = None
    if link is not None:
        if rounding is not None:
            raise dc.DisclosureError(f"table {name!r}: a linked table cannot be rounded")
        result, page_note = linked.protect_counts(name, table, result, link)
    verification = result.verification()
    if page_note:
        verification["page"] = page_note
    if not verification["all_protected"]:  # dc.suppress() guarantees it; never publish otherwise
        raise dc.DisclosureError(f"table {name!r}: a hidden cell could be recovered")
    return result, verification


def _rounded_counts(result, name: str, k: int, rounding) -> np.ndarray:
    """The visible counts rounded to ``rounding``; refused when rounding would show a count
    below k (a base that does not divide k)."""
    if isinstance(rounding, bool) or not isinstance(rounding, int) or rounding < 2:
        raise dc.DisclosureError(f"rounding must be an integer base >= 2, got {rounding!r}")
    shown = dc.round_to_base(result.values, rounding)
    bad = (~result.suppressed) & (shown >= 1) & (shown <= k - 1)
    if bad.any():
        raise dc.DisclosureError(
            f"table {name!r}: rounding to base {rounding} shows a count below k={k}; "
            "use a base that divides k"
        )
    return shown


def _counts_gate_record(table: dc.CountTable, result, verification, *, k, rounding, link) -> dict:
    """The gate record a counts table is stamped with (what was hidden, how, and the proof)."""
    gate = {
        "passed": True,
        "rule": "small_cell_suppression",
        "k": k,
        "shape": table.shape,
        "label_columns": [table.label_column],
        "count_columns": dc._count_columns(table),
        "columns_variable": table.columns_variable,
        "total_label": dc.TOTAL,
        "suppressed_marker": dc.SUPPRESSED,
        "zeros": "shown",
        "cells": int(result.values.size),
        "suppressed_cells": int(result.suppressed.sum()),
        "primary_suppressed": int(result.primary.sum()),
        "secondary_suppressed": int(result.secondary.sum()),
        "rounding": {"base": rounding, "rule": "nearest_multiple_half_up"} if rounding else None,
        "verification": verification,
    }
    if link is not None:
        gate["link"] = link.to_json()
    return gate


def gate_estimates(
    df: pd.DataFrame,
    *,
    name: str,
    observed: str | Sequence[str],
    k: int | None = None,
    label_columns: Sequence[str] | None = None,
    link=None,
) -> tuple[pd.DataFrame, dict]:
    """Gate a table of statistics computed from records (model estimates, shares, rates).

    Each row must carry the number(s) of records behind it in the ``observed`` column(s).
    Those columns are treated as one-way tables whose totals are known; rows whose observed
    counts are hidden by small-cell (and complementary) suppression show ``[c]`` in every
    non-label column, so no estimate or share from fewer than k records is visible.
    """
    k = dc.resolve_k(k)
    observed = [observed] if isinstance(observed, str) else list(observed)
    if not observed:
        raise dc.DisclosureError(f"table {name!r}: estimates need the observed count column(s)")
    missing = [c for c in observed if c not in df.columns]
    if missing:
        raise dc.DisclosureError(f"table {name!r}: no observed count column {missing}")
    labels = (
        list(label_columns)
        if label_columns is not None
        else [c for c in df.columns if c not in observed and dc._is_label_column(df[c])]
    )
    hide = _rows_to_hide(df, name, observed, k)
    # one observed column: a hidden row holds at least 1 record in it (zeros are shown);
    # with several, a row hidden for one column may hold 0 in another
    floor = dc.HIDDEN_FLOOR if len(observed) == 1 else 0
    page_note = None
    if link is not None:  # the tables of the page, jointly (see ``linked``)
        link = link.with_defaults(label_column=labels[0] if labels else None, observed=observed[0])
        hide, page_note = _protect_linked_rows(df, name, link, observed, hide, k, floor)
    _verify_hidden_rows(df, name, observed, hide, k, floor)
    out = df.reset_index(drop=True).astype(object)
    value_cols = [c for c in out.columns if c not in labels]
    out.loc[hide, value_cols] = dc.SUPPRESSED
    gate = {
        "passed": True,
        "rule": "estimates_from_at_least_k_records",
        "k": k,
        "label_columns": labels,
        "observed_columns": observed,
        "value_columns": value_cols,
        "suppressed_marker": dc.SUPPRESSED,
        "suppressed_rows": int(hide.sum()),
        "rows": len(out),
        "zeros": "shown" if floor else "not_implied",
        "verification": {"method": "linear_programming", "observed_totals_assumed_known": True},
    }
    if page_note:
        gate["verification"]["page"] = page_note
    if link is not None:
        gate["link"] = link.to_json()
    return out, gate


def _observed_counts(df: pd.DataFrame, name: str, col: str) -> np.ndarray:
    return dc._as_counts(df[[col]], f"{name}.{col}")[:, 0]


def _rows_to_hide(df: pd.DataFrame, name: str, observed: list[str], k: int) -> np.ndarray:
    """Rows hidden by small-cell (and complementary) suppression in any observed column,
    each column a one-way table whose total is known."""
    hide = np.zeros(len(df), dtype=bool)
    for col in observed:
        counts = _observed_counts(df, name, col)
        res = dc.suppress(dc.structure_1d(len(counts)), np.append(counts, counts.sum()), k)
        hide |= res.suppressed[:-1]
    return hide


def _protect_linked_rows(df, name: str, link, observed, hide, k: int, floor: int):
    """Hide more rows where the page's other tables would reveal a hidden one; returns
    (rows to hide, the note on the page's joint protection)."""
    if link.label_column not in df.columns or link.observed not in observed:
        raise dc.DisclosureError(
            f"table {name!r}: the link's label column {link.label_column!r} or observed "
            f"column {link.observed!r} is not a column of the table"
        )
    counts = _observed_counts(df, name, link.observed)
    labels = [str(x) for x in df[link.label_column]]
    return linked.protect_rows(name, link, labels, counts, hide, k, floor)


def _verify_hidden_rows(df, name: str, observed, hide, k: int, floor: int) -> None:
    """Re-verify every observed column with the final pattern: no hidden row recoverable."""
    for col in observed:
        counts = _observed_counts(df, name, col)
        vals = np.append(counts, counts.sum())
        known = np.where(np.append(hide, False), np.nan, vals)
        primary = (vals >= 1) & (vals <= k - 1)
        failing = dc.unprotected_cells(
            dc.structure_1d(len(counts)), known, k, vals, primary, floor=floor
        )
        if failing:
            raise dc.DisclosureError(
                f"table {name!r}: hidden row {failing[0]} recoverable from {col!r}"
            )


def gated_sources(fig, counts) -> list:
    """Check that a figure may be shown with the gated tables it declares (``counts``: one
    gated table or a list of them) and return those tables."""
    if counts is None:
        items = []
    elif isinstance(counts, PublishedTable):
        items = [counts]
    else:
        items = list(counts)
    for item in items:
        if not isinstance(item, PublishedTable):
            raise dc.DisclosureError(
                "counts= takes tables that passed the gate (gate_counts or publish_table), "
                f"got {type(item).__name__}"
            )
        item.verify()
    problems = dc.check_figure(fig, items)
    if problems:
        raise dc.DisclosureError(
            "the figure shows small counts that did not pass the disclosure gate; draw it from "
            "dj.gate_counts(...).visible and pass counts=<the gated table>:\n  "
            + "\n  ".join(problems)
        )
    return items
