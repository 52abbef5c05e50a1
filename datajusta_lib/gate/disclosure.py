"""Statistical disclosure control: small-cell suppression, rounding, k-anonymity, l-diversity.

A table of counts drawn from records reaches the site only through :func:`gate_counts`
(directly, or via ``publish_table(..., kind="counts")`` / ``show_table``). The gate

1. adds the margins (row, column and grand totals): a reader who knows a total from
   elsewhere on the site must not be able to subtract their way to a hidden cell, so the
   totals are always treated as known and, being known, are also published;
2. **primary suppression**: every cell, margins included, holding between 1 and k-1 is
   hidden (zeros are shown: a true or structural zero names nobody);
3. **secondary (complementary) suppression**: every additive line (a row with its total, a
   column with its total, the margins with the grand total) that hides one cell hides at
   least two, choosing the smallest non-zero visible cells and preferring cells that close a
   pattern, to a fixed point;
4. **verification**: for every hidden cell, two small linear programmes give the range of
   values the published table still allows (the attacker's view: visible cells, totals,
   and hidden cells >= 1, since zeros are shown). A cell is protected when the range is not
   a single value, does not prove the cell holds between 1 and k-1 people (its upper end
   >= k), and,
   for primary cells, reaches above the true value. Failures get more suppression until
   every hidden cell is protected. The constraint matrices of one- and two-way tables with
   margins are totally unimodular, so the LP bounds are the integer bounds;
5. optional **rounding** of the visible values to a base (after suppression);
6. a **stamp** recording k, the rule, the cells suppressed (primary/secondary) and the
   verification, hashed together with the CSV so that the site builder refuses a table
   altered after the gate.

Hidden cells are written ``[c]`` (confidential) in the HTML table and in the CSV.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from ..core.i18n import text

SUPPRESSED = "[c]"
TOTAL = "Total"
DEFAULT_K = 5
K_ENV = "DATAJUSTA_K"
DEFAULT_L = 2
# Zeros are published, so a reader knows that every hidden cell holds at least 1: the
# protection check bounds hidden cells below by 1, not 0 (issue 14, point 7).
HIDDEN_FLOOR = 1


class DisclosureError(ValueError):
    """A table or record set that must not be published, and why."""


def default_k() -> int:
    """The disclosure threshold: ``DATAJUSTA_K`` if set, else :data:`DEFAULT_K` (5)."""
    raw = os.environ.get(K_ENV)
    if raw is None or raw.strip() == "":
        return DEFAULT_K
    try:
        k = int(raw)
    except ValueError:
        raise DisclosureError(f"{K_ENV}={raw!r} is not an integer") from None
    return check_k(k)


def check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise DisclosureError(f"the disclosure threshold k must be an integer >= 2, got {k!r}")
    return int(k)


def resolve_k(k: int | None) -> int:
    """``k`` if given (never below the configured threshold), else the configured threshold."""
    floor = default_k()
    if k is None:
        return floor
    k = check_k(k)
    if k < floor:
        raise DisclosureError(
            f"k={k} is below the configured disclosure threshold {floor} ({K_ENV} or the default)"
        )
    return k


# ======================================================================== additive structure
@dataclass(frozen=True)
class Structure:
    """Cells of a table with its margins, and the additive lines that tie them.

    ``lines`` holds ``(parts, total)``: the cells ``parts`` add up to the cell ``total``.
    """

    n_cells: int
    lines: tuple[tuple[tuple[int, ...], int], ...]
    is_margin: np.ndarray

    def cell_lines(self) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in range(self.n_cells)]
        for li, (parts, total) in enumerate(self.lines):
            for c in (*parts, total):
                out[c].append(li)
        return out


def structure_1d(n: int) -> Structure:
    """``n`` cells followed by their total (cell ``n``)."""
    margin = np.zeros(n + 1, dtype=bool)
    margin[n] = True
    return Structure(n + 1, ((tuple(range(n)), n),), margin)


def structure_2d(r: int, c: int) -> Structure:
    """An ``r`` x ``c`` table augmented with row totals (last column), column totals (last
    row) and the grand total, flattened row-major over the ``(r+1) x (c+1)`` grid."""
    w = c + 1

    def idx(i: int, j: int) -> int:
        return i * w + j

    lines = []
    for i in range(r):
        lines.append((tuple(idx(i, j) for j in range(c)), idx(i, c)))
    for j in range(c):
        lines.append((tuple(idx(i, j) for i in range(r)), idx(r, j)))
    lines.append((tuple(idx(r, j) for j in range(c)), idx(r, c)))
    lines.append((tuple(idx(i, c) for i in range(r)), idx(r, c)))
    margin = np.zeros((r + 1) * w, dtype=bool)
    margin.reshape(r + 1, w)[r, :] = True
    margin.reshape(r + 1, w)[:, c] = True
    return Structure((r + 1) * w, tuple(lines), margin)


@dataclass(frozen=True)
class _Component:
    """Hidden cells tied together by additive lines, with the equalities they satisfy."""

    cells: np.ndarray
    a_eq: np.ndarray
    b_eq: np.ndarray
    floor: np.ndarray | None = None  # lowest value each hidden cell may take (default 0)

    def lower(self, i: int) -> float:
        return 0.0 if self.floor is None else float(self.floor[i])

    def solve(self, objective: np.ndarray, cap: float | None = None):
        """Minimise ``objective`` over x >= floor (and x <= ``cap``); returns (status, x):
        0 optimal, 2 infeasible, 3 unbounded."""
        floor = np.zeros(self.cells.size) if self.floor is None else self.floor
        res = linprog(
            objective,
            A_eq=self.a_eq,
            b_eq=self.b_eq,
            bounds=[(float(f), None if cap is None else max(cap, float(f))) for f in floor],
            method="highs",
        )
        return res.status, (res.x if res.status == 0 else None)


def _floors(known: np.ndarray, floor) -> np.ndarray:
    """``floor`` (a number or one value per cell) as one lower bound per cell."""
    out = np.zeros(known.shape, dtype=float)
    if floor is not None:
        out[:] = floor
    return out


def _components(structure: Structure, known: np.ndarray, floor=None) -> list[_Component]:
    """Split the hidden (NaN) cells into independent groups and write each group's lines as
    equalities over its hidden cells (known cells move to the right-hand side). ``floor``:
    the lowest value a hidden cell may take (a number or one per cell; default 0). When the
    publication shows its zeros, a hidden cell is at least 1, and the reader knows it."""
    unknown = np.isnan(known)
    floors = _floors(known, floor)
    parent = {c: c for c in np.flatnonzero(unknown)}

    def find(c):
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    line_cells = []
    for parts, total in structure.lines:
        members = [c for c in (*parts, total) if unknown[c]]
        line_cells.append(members)
        if not members:
            b = known[total] - known[list(parts)].sum()
            if abs(b) > 1e-6:
                raise DisclosureError("the published cells do not add up to their totals")
        for m in members[1:]:
            parent[find(m)] = find(members[0])
    groups: dict[int, list[int]] = {}
    for c in parent:
        groups.setdefault(find(c), []).append(c)
    out = []
    for cells in groups.values():
        cells = np.array(sorted(cells))
        col = {c: i for i, c in enumerate(cells)}
        rows, rhs = [], []
        for (parts, total), members in zip(structure.lines, line_cells, strict=True):
            if not members or members[0] not in col:
                continue
            coef = np.zeros(cells.size)
            b = 0.0
            for p in parts:
                if p in col:
                    coef[col[p]] += 1.0
                else:
                    b -= known[p]
            if total in col:
                coef[col[total]] -= 1.0
            else:
                b += known[total]
            rows.append(coef)
            rhs.append(b)
        a_eq = np.array(rows) if rows else np.zeros((0, cells.size))
        out.append(_Component(cells, a_eq, np.array(rhs), floors[cells]))
    return out


def _bound(comp: _Component, i: int, upper: bool) -> float:
    objective = np.zeros(comp.cells.size)
    objective[i] = -1.0 if upper else 1.0
    status, x = comp.solve(objective)
    if status == 2:
        raise DisclosureError("the published cells do not add up to their totals")
    if status == 3:
        return math.inf if upper else comp.lower(i)
    return round(float(x[i]), 6)


def feasible_intervals(
    structure: Structure, known: np.ndarray, floor=None, cells=None
) -> tuple[np.ndarray, np.ndarray]:
    """For each unknown cell (NaN in ``known``), the smallest and largest value the known
    cells, the additive lines and the lower bound ``floor`` (0 by default; 1 when the
    publication shows its zeros) allow (two linear programmes per cell; ``inf`` when
    unbounded). Known cells get their own value. Raises if the known values are
    inconsistent. The bounds are integers: these constraint matrices are totally
    unimodular and the bounds are whole numbers. ``cells``: bound only these unknown cells
    (the others stay NaN)."""
    known = np.asarray(known, dtype=float)
    lo, hi = known.copy(), known.copy()
    wanted = None if cells is None else {int(c) for c in cells}
    for comp in _components(structure, known, floor):
        for i, cell in enumerate(comp.cells):
            if wanted is not None and int(cell) not in wanted:
                continue
            lo[cell] = _bound(comp, i, upper=False)
            hi[cell] = _bound(comp, i, upper=True)
    return lo, hi


def cell_protected(
    lo: float, hi: float, k: int, value: float | None = None, primary: bool = False
) -> bool:
    """The protection rule for one hidden cell (see the module docstring)."""
    if hi - lo < 1 - 1e-9:  # a single value: recovered
        return False
    if lo >= 1 - 1e-9 and hi <= k - 1 + 1e-9:  # provably a small non-zero count
        return False
    return not (primary and value is not None and hi < value + 1 - 1e-9)


def unprotected_cells(
    structure: Structure,
    known: np.ndarray,
    k: int,
    values: np.ndarray | None = None,
    primary: np.ndarray | None = None,
    floor=None,
    check: np.ndarray | None = None,
) -> list[int]:
    """The hidden (NaN) cells of ``known`` that fail :func:`cell_protected`.

    ``floor``: the lowest value a hidden cell may take (see :func:`feasible_intervals`).
    ``check``: the cells to judge (default every hidden cell; other unknowns, such as a
    total no table publishes, only constrain).

    The rule only gets easier to meet as an interval widens, so any feasible tables found
    along the way give inner bounds that certify most cells at once (a few LPs per group of
    hidden cells: push all up, all down); exact bounds are computed only for the rest.
    ``values``/``primary`` (the true table, at the gate) add the upper-protection rule.
    """
    known = np.asarray(known, dtype=float)
    cell_lines = structure.cell_lines()
    failing: list[int] = []
    for comp in _components(structure, known, floor):
        failing += _component_failures(comp, cell_lines, k, values, primary, check)
    return failing


def _component_failures(comp: _Component, cell_lines, k, values, primary, check=None) -> list[int]:
    n = comp.cells.size
    judged = np.ones(n, dtype=bool) if check is None else np.asarray(check)[comp.cells]
    seen_lo = np.full(n, math.inf)
    seen_hi = np.full(n, -math.inf)
    if values is not None:  # the true table is one feasible point
        np.minimum(seen_lo, values[comp.cells], out=seen_lo)
        np.maximum(seen_hi, values[comp.cells], out=seen_hi)
    true_v = values[comp.cells] if values is not None else [None] * n
    is_primary = primary[comp.cells] if primary is not None else np.zeros(n, dtype=bool)

    def ok(i: int) -> bool:
        if not judged[i]:
            return True
        return cell_protected(seen_lo[i], seen_hi[i], k, true_v[i], bool(is_primary[i]))

    # Feasible tables inside a box (still feasible without it): push up, then down, groups of
    # cells that share no line (they do not compete for the same totals), so that one LP
    # moves many cells to their extremes at once.
    cap = float(k + 1 + np.abs(comp.b_eq).sum() + (np.nanmax(values) if values is not None else 0))
    for sign in (-1.0, 1.0):  # minimising -x pushes up
        pending = [i for i in range(n) if not ok(i)]
        while pending:
            used: set[int] = set()
            group, rest = [], []
            for i in pending:
                lines = set(cell_lines[comp.cells[i]])
                if lines & used:
                    rest.append(i)
                else:
                    group.append(i)
                    used |= lines
            direction = np.zeros(n)
            direction[group] = sign
            status, x = comp.solve(direction, cap)
            if status == 2:  # nothing feasible inside the box: try without it
                status, x = comp.solve(direction)
            if status == 2:
                raise DisclosureError("the published cells do not add up to their totals")
            if status == 0:
                np.minimum(seen_lo, x, out=seen_lo)
                np.maximum(seen_hi, x, out=seen_hi)
            pending = rest
    failing = []
    for i in range(n):  # exact bounds for whatever the groups could not certify
        if ok(i):
            continue
        seen_hi[i] = max(seen_hi[i], _bound(comp, i, upper=True))
        if ok(i):
            continue
        seen_lo[i] = min(seen_lo[i], _bound(comp, i, upper=False))
        if not ok(i):
            failing.append(int(comp.cells[i]))
    return failing


# ======================================================================== suppression
@dataclass(frozen=True)
class Suppression:
    values: np.ndarray  # exact counts, margins included
    primary: np.ndarray
    secondary: np.ndarray
    structure: Structure
    k: int

    @property
    def suppressed(self) -> np.ndarray:
        return self.primary | self.secondary

    def intervals(self) -> tuple[np.ndarray, np.ndarray]:
        """Exact range of each hidden cell given the published cells (visible: own value)
        and that a hidden cell is at least 1 (zeros are shown)."""
        known = np.where(self.suppressed, np.nan, self.values)
        return feasible_intervals(self.structure, known, floor=HIDDEN_FLOOR)

    def verification(self) -> dict:
        """Re-checks every hidden cell (``suppress`` only returns protected tables)."""
        known = np.where(self.suppressed, np.nan, self.values)
        failing = unprotected_cells(
            self.structure, known, self.k, self.values, self.primary, floor=HIDDEN_FLOOR
        )
        return {
            "method": "linear_programming",
            "rule": "range not a single value; not provably 1..k-1; primary cells may exceed their value",
            "hidden_lower_bound": HIDDEN_FLOOR,
            "cells_checked": int(self.suppressed.sum()),
            "all_protected": not failing,
        }


def _choose(candidates: list[int], values, cell_lines, counts, exclude_line: int | None, margin):
    """The complementary cell: the one that closes most patterns (fewest new lines holding a
    single hidden cell), then the smallest value, then an inner cell before a margin."""

    def score(c: int):
        delta = 0
        for li in cell_lines[c]:
            if li == exclude_line:
                continue
            if counts[li] == 0:
                delta += 1
            elif counts[li] == 1:
                delta -= 1
        return (delta, values[c], bool(margin[c]), c)

    return min(candidates, key=score)


def _line_counts(structure: Structure, hidden: np.ndarray) -> np.ndarray:
    return np.array([hidden[list(parts)].sum() + hidden[total] for parts, total in structure.lines])


def _complete_lines(structure: Structure, values, hidden, secondary, cell_lines) -> None:
    """Make every line hide 0 or >= 2 cells (in place), to a fixed point."""
    changed = True
    while changed:
        changed = False
        counts = _line_counts(structure, hidden)
        for li, (parts, total) in enumerate(structure.lines):
            if counts[li] != 1:
                continue
            members = (*parts, total)
            cands = [c for c in members if not hidden[c] and values[c] > 0]
            if (
                not cands
            ):  # cannot happen for consistent counts: a non-zero hidden cell has a partner
                raise DisclosureError(
                    "no complementary cell available; the counts are inconsistent"
                )
            best = _choose(cands, values, cell_lines, counts, li, structure.is_margin)
            hidden[best] = True
            secondary[best] = True
            counts = _line_counts(structure, hidden)
            changed = True


def suppress(structure: Structure, values: Sequence[int], k: int) -> Suppression:
    """Primary + secondary suppression over ``structure`` with verified protection."""
    k = check_k(k)
    values = np.asarray(values, dtype=float)
    if values.shape != (structure.n_cells,):
        raise DisclosureError("values do not match the table structure")
    if np.isnan(values).any() or (values < 0).any() or (values != np.round(values)).any():
        raise DisclosureError("counts must be non-negative whole numbers")
    for parts, total in structure.lines:
        if values[list(parts)].sum() != values[total]:
            raise DisclosureError("the counts do not add up to their totals")
    primary = (values >= 1) & (values <= k - 1)
    hidden = primary.copy()
    secondary = np.zeros_like(primary)
    cell_lines = structure.cell_lines()
    _complete_lines(structure, values, hidden, secondary, cell_lines)
    while True:
        known = np.where(hidden, np.nan, values)
        failing = unprotected_cells(structure, known, k, values, primary, floor=HIDDEN_FLOOR)
        if not failing:
            return Suppression(values, primary, secondary, structure, k)
        counts = _line_counts(structure, hidden)
        added = False
        touched: set[int] = set()  # lines that got a new hidden cell in this pass
        for c in failing:
            if touched & set(cell_lines[c]):
                continue  # re-check before hiding more on the same line
            neighbours = {
                m for li in cell_lines[c] for m in (*structure.lines[li][0], structure.lines[li][1])
            }
            cands = [m for m in neighbours if not hidden[m] and values[m] > 0]
            if not cands:  # widen the search to every visible non-zero cell
                cands = [m for m in range(structure.n_cells) if not hidden[m] and values[m] > 0]
            if cands:
                best = _choose(cands, values, cell_lines, counts, None, structure.is_margin)
                hidden[best] = True
                secondary[best] = True
                touched |= set(cell_lines[best])
                counts = _line_counts(structure, hidden)
                added = True
        if not added:  # everything non-zero is hidden: nothing more can be done (or needed)
            raise DisclosureError(
                "could not protect the table even with every non-zero cell hidden"
            )
        _complete_lines(structure, values, hidden, secondary, cell_lines)


def round_to_base(values: np.ndarray, base: int) -> np.ndarray:
    """Conventional rounding to the nearest multiple of ``base`` (halves up)."""
    return base * np.floor(np.asarray(values, dtype=float) / base + 0.5)


# ======================================================================== tables of counts
@dataclass(frozen=True)
class CountTable:
    """A one- or two-way table of counts with its labels, before the gate."""

    cells: np.ndarray  # (r,) or (r, c) whole numbers
    row_labels: tuple
    column_labels: tuple | None  # None for a one-way table
    label_column: str  # header of the label column
    count_column: str  # header of the count column (one-way tables)
    columns_variable: str | None = None

    @property
    def shape(self) -> str:
        return "1d" if self.column_labels is None else "2d"

    def structure(self) -> Structure:
        if self.column_labels is None:
            return structure_1d(len(self.row_labels))
        return structure_2d(len(self.row_labels), len(self.column_labels))

    def augmented(self) -> np.ndarray:
        if self.column_labels is None:
            return np.append(self.cells, self.cells.sum())
        r, c = self.cells.shape
        grid = np.zeros((r + 1, c + 1))
        grid[:r, :c] = self.cells
        grid[:r, c] = self.cells.sum(axis=1)
        grid[r, :c] = self.cells.sum(axis=0)
        grid[r, c] = self.cells.sum()
        return grid.ravel()


def _as_counts(values, what: str) -> np.ndarray:
    arr = pd.DataFrame(values).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if np.isnan(arr).any():
        raise DisclosureError(
            f"{what}: every cell must be a count (found missing or non-numeric values)"
        )
    if (arr < 0).any() or (arr != np.round(arr)).any():
        raise DisclosureError(f"{what}: counts must be non-negative whole numbers")
    return arr


def count_table(
    data: pd.DataFrame | pd.Series,
    *,
    rows: str | None = None,
    columns: str | None = None,
    row_order: Sequence | None = None,
    column_order: Sequence | None = None,
    missing: str = "—",
    label: str | None = None,
    count_label: str = "n",
    name: str = "table",
) -> CountTable:
    """Build a :class:`CountTable` from records (``rows=``, optional ``columns=``), from a
    Series of counts (one-way), or from a DataFrame of counts (index = rows; one column =
    one-way, several = two-way). ``row_order``/``column_order`` fix the categories shown
    (categories absent from the data appear with 0)."""
    if rows is not None:
        if not isinstance(data, pd.DataFrame):
            raise DisclosureError(f"{name}: rows= needs a DataFrame of records")
        for col in (rows, columns):
            if col is not None and col not in data.columns:
                raise DisclosureError(f"{name}: the records have no column {col!r}")
        keys = [rows] + ([columns] if columns else [])
        recs = data[keys].astype("object").where(data[keys].notna(), missing)
        if columns:
            counts = pd.crosstab(recs[rows], recs[columns])
            counts.columns.name = columns
        else:
            counts = recs[rows].value_counts().rename(count_label)
        counts.index.name = rows
        data = counts
    if isinstance(data, pd.Series):
        series = data
        if row_order is not None:
            series = series.reindex(list(row_order), fill_value=0)
        cells = _as_counts(series.to_frame(), name)[:, 0]
        return CountTable(
            cells=cells,
            row_labels=tuple(series.index),
            column_labels=None,
            label_column=label or str(series.index.name or "category"),
            count_column=str(series.name) if series.name is not None else count_label,
        )
    if not isinstance(data, pd.DataFrame):
        raise DisclosureError(
            f"{name}: expected a DataFrame or Series of counts, got {type(data).__name__}"
        )
    frame = data
    if row_order is not None:
        frame = frame.reindex(list(row_order), fill_value=0)
    if column_order is not None:
        frame = frame.reindex(columns=list(column_order), fill_value=0)
    if frame.shape[1] == 1:
        return count_table(frame.iloc[:, 0], label=label, name=name, count_label=count_label)
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise DisclosureError(f"{name}: the table is empty")
    return CountTable(
        cells=_as_counts(frame, name),
        row_labels=tuple(frame.index),
        column_labels=tuple(frame.columns),
        label_column=label or str(frame.index.name or "category"),
        count_column=count_label,
        columns_variable=str(frame.columns.name) if frame.columns.name is not None else None,
    )


def _display_frame(table: CountTable, shown: np.ndarray, hidden: np.ndarray) -> pd.DataFrame:
    """The published layout: labels, counts (``[c]`` when hidden) and totals."""

    def cell(v, h):
        return SUPPRESSED if h else int(v)

    labels = [str(x) for x in table.row_labels] + [TOTAL]
    if table.column_labels is None:
        data = {
            table.label_column: labels,
            table.count_column: [cell(v, h) for v, h in zip(shown, hidden, strict=True)],
        }
        return pd.DataFrame(data, dtype=object)
    r, c = len(table.row_labels), len(table.column_labels)
    grid_v = shown.reshape(r + 1, c + 1)
    grid_h = hidden.reshape(r + 1, c + 1)
    headers = [str(x) for x in table.column_labels] + [TOTAL]
    if len(set(headers)) != len(headers) or table.label_column in headers:
        raise DisclosureError("column labels must be distinct and differ from the label column")
    data = {table.label_column: labels}
    for j, h in enumerate(headers):
        data[h] = [cell(grid_v[i, j], grid_h[i, j]) for i in range(r + 1)]
    return pd.DataFrame(data, dtype=object)


def _count_columns(table: CountTable) -> list[str]:
    if table.column_labels is None:
        return [table.count_column]
    return [str(x) for x in table.column_labels] + [TOTAL]


# ======================================================================== checking a published CSV
def published_floor(gate: dict) -> int:
    """The lowest value a reader knows a hidden cell holds: 1 when the table shows its
    zeros (its stamp says so), else 0."""
    return HIDDEN_FLOOR if gate.get("zeros") == "shown" else 0


def check_counts_csv(csv_text: str, gate: dict, *, k: int | None = None) -> list[str]:
    """Re-check a published counts CSV from the reader's side; returns the problems found.

    Every count cell must be ``[c]`` or a whole number outside 1..k-1 (k = the stamp's k,
    never below the configured threshold). For unrounded tables the hidden cells are
    re-verified by linear programming against the published cells only.
    """
    problems = []
    k_floor = resolve_k(k)
    k_table = int(gate.get("k", 0) or 0)
    if k_table < k_floor:
        problems.append(f"stamped with k={k_table}, below the threshold k={k_floor}")
    k_use = max(k_table, k_floor)
    frame = pd.read_csv(io.StringIO(csv_text), dtype=str, keep_default_na=False)
    cols = gate.get("count_columns") or []
    missing_cols = [c for c in cols if c not in frame.columns]
    if missing_cols:
        return [*problems, f"count columns {missing_cols} missing from the CSV"]
    marker = gate.get("suppressed_marker", SUPPRESSED)
    rounding = (gate.get("rounding") or {}).get("base") if gate.get("rounding") else None
    values = np.full((len(frame), len(cols)), np.nan)
    for j, col in enumerate(cols):
        for i, raw in enumerate(frame[col]):
            raw = raw.strip()
            if raw == marker:
                continue
            try:
                v = float(raw)
            except ValueError:
                problems.append(
                    f"row {i + 2}, column {col!r}: {raw!r} is neither a count nor {marker}"
                )
                continue
            if v < 0 or v != round(v):
                problems.append(f"row {i + 2}, column {col!r}: {raw!r} is not a whole count")
            elif 1 <= v <= k_use - 1:
                problems.append(
                    f"row {i + 2}, column {col!r}: visible count {int(v)} is below k={k_use}"
                )
            elif rounding and v % rounding:
                problems.append(
                    f"row {i + 2}, column {col!r}: {int(v)} is not rounded to base {rounding}"
                )
            values[i, j] = v
    if problems or rounding:
        return problems  # rounded margins no longer add up: the LP does not apply
    labels = gate.get("label_columns") or [None]
    if labels[0] not in frame.columns:
        return [f"label column {labels[0]!r} missing from the CSV"]
    withheld = gate.get("total_row") is False  # no total across rows of different units
    if withheld:
        if len(frame) and str(frame.iloc[-1][labels[0]]) == gate.get("total_label", TOTAL):
            return ["a total row adds rows the stamp says count different units"]
        values = np.vstack([values, np.full((1, len(cols)), np.nan)])  # unknown to a reader
    r = len(values) - 1
    if r < 1 or (not withheld and str(frame.iloc[-1][labels[0]]) != gate.get("total_label", TOTAL)):
        return [f"the last row is not the {gate.get('total_label', TOTAL)!r} row"]
    if gate.get("shape") == "1d":
        structure = structure_1d(r)
        known = values[:, 0]
    else:
        structure = structure_2d(r, len(cols) - 1)
        known = values.ravel()
    floor = published_floor(gate)
    try:
        failing = unprotected_cells(structure, known, k_use, floor=floor)
    except DisclosureError as exc:
        return [str(exc)]
    if withheld:  # the withheld totals are not hidden cells: only [c] cells must be protected
        failing = [c for c in failing if np.isnan(values.ravel()[c]) and c < (r * len(cols))]
    if failing:
        lo, hi = feasible_intervals(structure, known, floor=floor)
    for cell in failing:
        i, j = (cell, 0) if gate.get("shape") == "1d" else divmod(cell, len(cols))
        problems.append(
            f"row {i + 2}, column {cols[j]!r}: the hidden cell can be narrowed to "
            f"[{lo[cell]:g}, {hi[cell]:g}] from the published cells"
        )
    return problems


# ======================================================================== estimates
def _is_label_column(col: pd.Series) -> bool:
    """A column of words only (no value parses as a number): it names rows, it is not a
    statistic, so it stays visible on a hidden row."""
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return False
    numbers = pd.to_numeric(
        col.dropna().astype(str).str.replace(",", ".", regex=False), errors="coerce"
    )
    return bool(numbers.isna().all())


def check_estimates_csv(csv_text: str, gate: dict, *, k: int | None = None) -> list[str]:
    """Every visible observed count in a published estimates CSV is 0 or >= k."""
    k_use = max(resolve_k(k), int(gate.get("k", 0) or 0))
    problems = (
        [] if int(gate.get("k", 0) or 0) >= resolve_k(k) else [f"stamped with k={gate.get('k')}"]
    )
    frame = pd.read_csv(io.StringIO(csv_text), dtype=str, keep_default_na=False)
    for col in gate.get("observed_columns", []):
        if col not in frame.columns:
            problems.append(f"observed column {col!r} missing from the CSV")
            continue
        for i, raw in enumerate(frame[col]):
            if raw.strip() == gate.get("suppressed_marker", SUPPRESSED):
                continue
            try:
                v = float(raw)
            except ValueError:
                problems.append(f"row {i + 2}, column {col!r}: {raw!r} is not a count")
                continue
            if 1 <= v <= k_use - 1:
                problems.append(
                    f"row {i + 2}, column {col!r}: visible count {v:g} is below k={k_use}"
                )
    return problems


# ======================================================================== record-level outputs
DIRECT_IDENTIFIER_HINTS = (
    "person_key",
    "record_id",
    "person_name",
    "nombre",
    "name",
    "run",
    "rut",
    "passport",
    "pasaporte",
    "email",
    "correo",
    "phone",
    "telefono",
    "fono",
    "birth",
    "nacimiento",
    "address",
    "direccion",
    "domicilio",
    "ruc",
)


@dataclass(frozen=True)
class KAnonymity:
    """Equivalence classes of records sharing the same quasi-identifier values."""

    quasi_identifiers: tuple[str, ...]
    classes: pd.DataFrame  # quasi-identifier values + "size"
    n_records: int

    @property
    def k(self) -> int:
        """The size of the smallest class (0 for no records)."""
        return int(self.classes["size"].min()) if len(self.classes) else 0

    def records_below(self, k: int) -> int:
        """Records in classes of fewer than ``k`` records (1 = unique on these attributes)."""
        return int(self.classes.loc[self.classes["size"] < k, "size"].sum())

    def share_below(self, k: int) -> float:
        return self.records_below(k) / self.n_records if self.n_records else 0.0

    def classes_below(self, k: int) -> int:
        return int((self.classes["size"] < k).sum())


def k_anonymity(df: pd.DataFrame, quasi_identifiers: Sequence[str]) -> KAnonymity:
    """k-anonymity over ``quasi_identifiers``; a missing value is a value of its own (it is
    visible in an output)."""
    qi = list(quasi_identifiers)
    if not qi:
        raise DisclosureError("k-anonymity needs at least one quasi-identifier")
    missing = [c for c in qi if c not in df.columns]
    if missing:
        raise DisclosureError(f"no quasi-identifier column {missing}")
    classes = df.groupby(qi, dropna=False, observed=True).size().rename("size").reset_index()
    return KAnonymity(tuple(qi), classes, len(df))


@dataclass(frozen=True)
class LDiversity:
    quasi_identifiers: tuple[str, ...]
    sensitive: str
    classes: pd.DataFrame  # quasi-identifier values + "size" + "distinct"

    @property
    def l(self) -> int:  # noqa: E743 - the name of the measure
        """The fewest distinct sensitive values in any class (distinct l-diversity)."""
        return int(self.classes["distinct"].min()) if len(self.classes) else 0


def l_diversity(df: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: str) -> LDiversity:
    """Distinct l-diversity of ``sensitive`` within each quasi-identifier class; a missing
    sensitive value counts as one more value."""
    qi = list(quasi_identifiers)
    if sensitive not in df.columns:
        raise DisclosureError(f"no sensitive column {sensitive!r}")
    k_anonymity(df, qi)  # validates the quasi-identifiers
    grouped = df.groupby(qi, dropna=False, observed=True)[sensitive]
    classes = pd.concat(
        [grouped.size().rename("size"), grouped.nunique(dropna=False).rename("distinct")], axis=1
    ).reset_index()
    return LDiversity(tuple(qi), sensitive, classes)


def direct_identifier_columns(columns: Sequence[str]) -> list[str]:
    """Columns whose names say they hold a direct identifier."""
    out = []
    for col in columns:
        low = str(col).lower()
        tokens = set(low.replace("-", "_").split("_"))
        if low in DIRECT_IDENTIFIER_HINTS or tokens & set(DIRECT_IDENTIFIER_HINTS):
            out.append(col)
    return out


def gate_records(
    df: pd.DataFrame,
    *,
    name: str,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str] = (),
    k: int | None = None,
    l: int = DEFAULT_L,  # noqa: E741 - the name of the measure
    allow_records: bool = False,
) -> tuple[pd.DataFrame, dict]:
    """Record-level output: refused by default. With ``allow_records=True`` the table must
    hold no direct identifier, be k-anonymous over ``quasi_identifiers`` and l-diverse for
    every ``sensitive`` column, and have no column outside these two lists."""
    if not allow_records:
        raise DisclosureError(
            f"table {name!r}: record-level outputs are refused by default; publish counts "
            "(gate_counts) or pass allow_records=True with quasi_identifiers and sensitive columns"
        )
    k = resolve_k(k)
    ids = direct_identifier_columns(df.columns)
    if ids:
        raise DisclosureError(
            f"table {name!r}: direct identifier columns {ids} cannot be published"
        )
    undeclared = [c for c in df.columns if c not in set(quasi_identifiers) | set(sensitive)]
    if undeclared:
        raise DisclosureError(
            f"table {name!r}: every column must be declared a quasi-identifier or sensitive; "
            f"undeclared: {undeclared}"
        )
    ka = k_anonymity(df, quasi_identifiers)
    if len(df) and ka.k < k:
        raise DisclosureError(
            f"table {name!r}: not {k}-anonymous over {list(quasi_identifiers)}: "
            f"{ka.records_below(k)} record(s) in classes smaller than {k}"
        )
    diversity = {}
    for s in sensitive:
        ld = l_diversity(df, quasi_identifiers, s)
        diversity[s] = ld.l
        if len(df) and ld.l < l:
            raise DisclosureError(f"table {name!r}: {s!r} is only {ld.l}-diverse (need l={l})")
    gate = {
        "passed": True,
        "rule": "record_level_k_anonymity_l_diversity",
        "k": k,
        "l": l,
        "quasi_identifiers": list(quasi_identifiers),
        "sensitive": list(sensitive),
        "min_class_size": ka.k,
        "l_by_sensitive": diversity,
    }
    return df.reset_index(drop=True), gate


# ======================================================================== figures
_NUMERIC_TEXT = re.compile(r"^\s*[<>≈~]?\s*-?(\d{1,3}(?:([.,\s ])\d{3})*|\d+)([.,]\d+)?\s*%?\s*$")


def _parse_number(text: str) -> float | None:
    """The number a pure-number label shows ('4', '1.234', '12,5 %'), else None."""
    m = _NUMERIC_TEXT.match(text or "")
    if not m:
        return None
    whole, sep, frac = m.group(1), m.group(2), m.group(3)
    if sep:
        whole = re.sub(r"[.,\s ]", "", whole)
    value = float(whole)
    if frac:
        value += float("0." + frac[1:])
    return -value if "-" in text.split(m.group(1))[0] else value


def _categorical(axis) -> bool:
    """An axis whose tick labels are words (categories placed at positions 0, 1, 2...)."""
    labels = [t.get_text() for t in axis.get_ticklabels() if t.get_text().strip()]
    return bool(labels) and any(_parse_number(lbl) is None for lbl in labels)


def _as_floats(values) -> np.ndarray:
    try:
        arr = np.ma.filled(np.ma.asarray(values, dtype=float), np.nan)
    except (TypeError, ValueError):
        return np.array([])
    return np.asarray(arr, dtype=float).ravel()


def figure_values(fig) -> list[tuple[str, float]]:
    """The numbers a figure draws as data: bar lengths, line and marker positions on value
    axes, heatmap cells and pure-number labels (what a reader could read off the chart)."""
    from matplotlib.collections import PathCollection, QuadMesh
    from matplotlib.container import BarContainer

    out: list[tuple[str, float]] = []
    for ax in fig.axes:
        cat_x, cat_y = _categorical(ax.xaxis), _categorical(ax.yaxis)
        for container in ax.containers:
            if isinstance(container, BarContainer):
                out += [("bar", v) for v in _as_floats(container.datavalues)]
        for line in ax.lines:
            x = _as_floats(line.get_xdata())
            y = _as_floats(line.get_ydata())
            if len(x) == 2 and (x[0] == x[1] or (len(y) == 2 and y[0] == y[1])):
                continue  # a reference line (axhline, axvline), not data
            if not cat_y:
                out += [("line", v) for v in y]
            if not cat_x and x.size and np.nanmax(np.abs(x)) < 1e4:  # dates/years are not counts
                out += [("line", v) for v in x]
        for coll in ax.collections:
            if isinstance(coll, PathCollection):
                offsets = np.asarray(coll.get_offsets(), dtype=float)
                if offsets.size:
                    if not cat_y:
                        out += [("marker", v) for v in offsets[:, 1]]
                    if not cat_x and np.nanmax(np.abs(offsets[:, 0])) < 1e4:
                        out += [("marker", v) for v in offsets[:, 0]]
            elif isinstance(coll, QuadMesh):
                out += [("cell", v) for v in _as_floats(coll.get_array())]
        for image in ax.images:
            out += [("cell", v) for v in _as_floats(image.get_array())]
        for t in ax.texts:
            v = _parse_number(t.get_text())
            if v is not None:
                out.append(("label", v))
    return out


def check_figure(fig, gated: Sequence = (), *, k: int | None = None) -> list[str]:
    """Problems with a figure: a drawn number that looks like a count between 1 and k-1
    and is not a value of the gated tables the figure declares it was drawn from."""
    k_use = max([resolve_k(k), *(int(g.gate.get("k", 0) or 0) for g in gated)])
    allowed: set[float] = set()
    for g in gated:
        allowed |= g.allowed_values()
    allowed_arr = np.array(sorted(allowed)) if allowed else np.array([])
    problems = []
    for what, v in figure_values(fig):
        if not np.isfinite(v) or abs(v - round(v)) > 1e-9 or not 1 <= round(v) <= k_use - 1:
            continue
        if allowed_arr.size and np.isclose(allowed_arr, v, rtol=0, atol=1e-9).any():
            continue
        problems.append(
            f"{what} value {v:g} is a count below k={k_use} not taken from a gated table"
        )
    return sorted(set(problems))


# ======================================================================== the whole site
class _PageParser(HTMLParser):
    """What the site check needs from a page: stamped tables, tables, figures, images."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stamped: list[dict] = []  # data-dj-* attributes + the CSV link
        self.tables: list[tuple[int, str, bool]] = []  # (line, class, inside a stamped wrapper)
        self.figures: list[tuple[int, str | None]] = []  # (line, data-dj-gate)
        self.loose_images: list[int] = []
        self.records_page = False
        self._stack: list[tuple[str, dict | None, bool]] = []  # (tag, stamp, is figure)

    def _current_stamp(self) -> dict | None:
        for _tag, stamp, _fig in reversed(self._stack):
            if stamp is not None:
                return stamp
        return None

    def _in_figure(self) -> bool:
        return any(fig for _t, _s, fig in self._stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        line = self.getpos()[0]
        cls = a.get("class") or ""
        if "dj-banner-synthetic" in cls or "dj-banner-private" in cls:
            self.records_page = True
        stamp = None
        if "data-dj-sha256" in a:
            stamp = {key[8:]: value for key, value in a.items() if key.startswith("data-dj-")}
            stamp["line"] = line
            self.stamped.append(stamp)
        is_fig = tag == "figure" and "dj-figure" in cls
        if is_fig:
            self.figures.append((line, a.get("data-dj-gate")))
        if tag == "table":
            self.tables.append((line, cls, self._current_stamp() is not None))
        if tag == "img" and not self._in_figure():
            self.loose_images.append(line)
        if tag == "a" and "dj-download" in cls and self._current_stamp() is not None:
            self._current_stamp().setdefault("href", a.get("href"))
        if tag not in _VOID:
            self._stack.append((tag, stamp, is_fig))

    def handle_endtag(self, tag):
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break


_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


def _sha_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_published_csv(csv_text: str, kind: str, gate: dict) -> list[str]:
    """The gate's rule re-checked on a published CSV, by kind."""
    if not gate.get("passed"):
        return ["the stamp says the table did not pass the gate"]
    if kind == "counts":
        return check_counts_csv(csv_text, gate)
    if kind == "estimates":
        return check_estimates_csv(csv_text, gate)
    if kind == "records":
        frame = pd.read_csv(io.StringIO(csv_text), dtype=str, keep_default_na=False)
        qi = [c for c in gate.get("quasi_identifiers", []) if c in frame.columns]
        k_use = max(resolve_k(None), int(gate.get("k", 0) or 0))
        ids = direct_identifier_columns(frame.columns)
        out = [f"direct identifier columns {ids}"] if ids else []
        if not qi:
            return [*out, "a record-level table without its quasi-identifiers"]
        ka = k_anonymity(frame, qi)
        if len(frame) and ka.k < k_use:
            out.append(f"{ka.records_below(k_use)} record(s) in classes smaller than k={k_use}")
        return out
    if kind in ("published", "metadata"):
        return []
    return [f"unknown table kind {kind!r}"]


def site_check(site_dir) -> list[str]:
    """Render hook: the disclosure check of a whole rendered site. Returns the problems.

    - every ``<table>`` is a gated table (inside a stamped wrapper written by show_table);
    - every stamped table's CSV exists, matches the stamp's hash and passes the gate's rule
      again (counts: no visible 1..k-1, hidden cells not recoverable from the CSV alone;
      k never below the configured threshold);
    - every CSV under a ``tables/`` folder belongs to a stamped table;
    - on pages showing records (synthetic or private banner), every figure declares the
      gated tables it was drawn from and those tables are on the page, and no image sits
      outside a figure;
    - manifest.json, when it lists tables with hashes, agrees with the files.
    """
    site = Path(site_dir)
    problems: list[str] = []
    referenced: set[Path] = set()
    for page in sorted(site.rglob("*.html")):
        rel = page.relative_to(site)
        parser = _PageParser()
        parser.feed(page.read_text(encoding="utf-8"))
        parser.close()
        for line, cls, stamped in parser.tables:
            if not stamped or "dj-table" not in cls.split():
                problems.append(f"{rel}:{line}: a table that did not pass the publish gate")
        shas = set()
        for stamp in parser.stamped:
            where = f"{rel}:{stamp['line']} table {stamp.get('table')!r}"
            href = stamp.get("href")
            if not href:
                problems.append(f"{where}: no CSV link")
                continue
            csv_path = (page.parent / href).resolve()
            if not csv_path.is_file():
                problems.append(f"{where}: CSV {href} missing")
                continue
            referenced.add(csv_path)
            if _sha_file(csv_path) != stamp.get("sha256"):
                problems.append(
                    f"{where}: {href} does not match its stamp (changed after the gate)"
                )
                continue
            shas.add(stamp["sha256"])
            try:
                gate = json.loads(stamp.get("gate") or "{}")
            except json.JSONDecodeError:
                problems.append(f"{where}: unreadable gate record")
                continue
            for p in check_published_csv(
                csv_path.read_text(encoding="utf-8"), stamp.get("kind", ""), gate
            ):
                problems.append(f"{where}: {p}")
        for line, gate_attr in parser.figures:
            declared = [s for s in (gate_attr or "").split(",") if s and s != "none"]
            missing = [s for s in declared if s not in shas]
            if missing:
                problems.append(
                    f"{rel}:{line}: a figure declares gated data not published on the page"
                )
            if parser.records_page and not declared:
                problems.append(
                    f"{rel}:{line}: a figure on a page with records that declares no gated data (counts=)"
                )
        if parser.records_page:
            for line in parser.loose_images:
                problems.append(
                    f"{rel}:{line}: an image outside a gated figure on a page with records"
                )
    for csv_path in sorted(site.rglob("*.csv")):
        if "tables" in csv_path.relative_to(site).parts and csv_path.resolve() not in referenced:
            problems.append(
                f"{csv_path.relative_to(site)}: a downloadable table without a gate stamp"
            )
    problems += _check_manifest(site)
    return problems


def _check_manifest(site: Path) -> list[str]:
    """Tables listed in manifest.json (entries with a path and a sha256) match the files."""
    path = site / "manifest.json"
    if not path.is_file():
        return []
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return ["manifest.json: not valid JSON"]
    problems = []

    def walk(obj):
        if isinstance(obj, dict):
            if (
                "sha256" in obj
                and isinstance(obj.get("path"), str)
                and obj["path"].endswith(".csv")
            ):
                yield obj
            for v in obj.values():
                yield from walk(v)
        elif isinstance(obj, list):
            for v in obj:
                yield from walk(v)

    for entry in walk(manifest):
        f = site / entry["path"]
        if not f.is_file():
            problems.append(f"manifest.json: {entry['path']} listed but missing")
        elif _sha_file(f) != entry["sha256"]:
            problems.append(f"manifest.json: {entry['path']} does not match its recorded hash")
        gate = entry.get("gate")
        if isinstance(gate, dict) and not gate.get("passed"):
            problems.append(f"manifest.json: {entry['path']} did not pass the gate")
    return problems


# ======================================================================== notes for readers
def count_text(n: int, lang: str = "es", k: int | None = None) -> str:
    """A count for a sentence: the number when 0 or >= k, else "fewer than k" -- a sentence
    must not show what a table hides."""
    k = resolve_k(k)
    if n == 0 or n >= k:
        out = f"{int(n):,}"
        return out.replace(",", ".") if lang == "es" else out
    return text("fewer_than", lang, k=k)


def reader_note(gate: dict, lang: str = "es") -> str:
    """The note under a gated table: what ``[c]`` means and any rounding."""
    rule = gate.get("rule")
    note = ""
    if rule == "small_cell_suppression" and gate.get("suppressed_cells"):
        note = text("suppressed_note", lang, k_minus_1=int(gate["k"]) - 1)
    elif rule == "estimates_from_at_least_k_records" and gate.get("suppressed_rows"):
        note = text("estimates_note", lang, k=gate["k"])
    if rule == "small_cell_suppression" and gate.get("total_row") is False:
        note = (note + " " + text("no_total_row_note", lang)).strip()
    if rule == "small_cell_suppression" and gate.get("rounding"):
        note = (note + " " + text("rounded_note", lang, base=gate["rounding"]["base"])).strip()
    return note
