"""Tables of one page protected jointly: linked tables (issue 14, point 6).

A reader of a page sees every table on it at once. If one table hides Carabineros'
quarantined rows but shows their total (152), and another table on the same page shows
their accepted rows (149), the hidden cell is 152 - 149 = 3, although each table on its own
passes the gate. Cells and margins of different tables that count the same people are one
unknown for that reader, so the tables of a page are protected as one additive system.

What a cell counts is declared with a :class:`Link` (``gate_counts(..., link=...)`` or
``publish_table(..., kind="estimates", link=...)``): a *universe* (the records counted,
e.g. ``"rows_read"``) and the *conditions* a cell puts on them, from its row label, its
column label and the table's fixed conditions. Two cells of a page with the same universe
and the same conditions are the same number; a total drops its dimension. A ``group``
declares a subtotal that is not a row of the table (e.g. the dated records of a table of
records by year that also has an "undated" row). Tables without a link stand alone, as
before.

Two places use the declarations:

- **at the gate**, during a page's execution: every linked table gated on the page is kept
  in a page ledger (started by ``display.banner``, the first output of every page with
  records). A new linked table is suppressed against the ledger: a cell hidden in an earlier
  table is hidden here too, and while any hidden cell of the page (earlier tables included)
  can be narrowed below k from everything the page shows, more cells of the new table are
  hidden (the one that leaves fewest cells unprotected, then the gate's usual choice). A
  table that cannot be protected this way is refused with the cell and the tables involved;
- **in the site check** (:func:`site_check`, a render hook): for every rendered page, the
  published CSVs of its linked tables are read back, the joint system is solved (linear
  programmes, hidden cells at least 1 when the stamps say zeros are shown) and any hidden
  cell recoverable within the protection interval fails the render.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import disclosure as dc

LINK_VERSION = 1


# ======================================================================== declarations
@dataclass(frozen=True, eq=False)
class Link:
    """What every cell of a table counts, so that tables of one page can be tied together.

    ``universe``: the records counted (the same string in every table of the page that
    counts them). ``rows`` / ``columns``: the dimension the row / column labels are values
    of (``None``: the labels put no condition). ``fixed``: conditions shared by every cell
    (e.g. ``{"status": "accepted"}``). ``labels``: conditions of particular labels instead
    of ``{rows: label}`` (e.g. ``{"Accepted": {"status": "accepted"}}``, or
    ``{"undated": {"dated": "no"}}``). ``groups``: subtotals that are not rows of the table,
    as ``(conditions, row labels)``: the rows listed add up to the cell with these
    conditions (e.g. ``({"dated": "yes"}, years)``).

    For an estimates table, ``label_column`` names the column whose values are the row labels
    and ``observed`` the count column (defaults: the first label column and the only observed
    column). Its rows must cover the universe under the fixed conditions (they add up to the
    total with those conditions, which the table does not publish): link an estimates table
    only when its rows are every category.
    """

    universe: str
    rows: str | None = None
    columns: str | None = None
    fixed: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    groups: tuple = ()
    label_column: str | None = None
    observed: str | None = None

    def __post_init__(self):
        if not isinstance(self.universe, str) or not self.universe:
            raise dc.DisclosureError("a link needs a universe (what the cells count)")

    def conditions(self, row: str | None, column: str | None) -> dict:
        """Conditions of the cell at row label ``row`` and column label ``column`` (None for
        a total)."""
        out = {str(k): str(v) for k, v in self.fixed.items()}
        for label, dim in ((row, self.rows), (column, self.columns)):
            if label is None:
                continue
            if label in self.labels:
                out.update({str(k): str(v) for k, v in self.labels[label].items()})
            elif dim is not None:
                out[dim] = str(label)
        return out

    def key(self, row: str | None, column: str | None = None, extra: dict | None = None) -> str:
        conds = self.conditions(row, column)
        conds.update({str(k): str(v) for k, v in (extra or {}).items()})
        return cell_key(self.universe, conds)

    def to_json(self) -> dict:
        return {
            "version": LINK_VERSION,
            "universe": self.universe,
            "rows": self.rows,
            "columns": self.columns,
            "fixed": {str(k): str(v) for k, v in self.fixed.items()},
            "labels": {
                str(lbl): {str(k): str(v) for k, v in c.items()} for lbl, c in self.labels.items()
            },
            "groups": [
                [{str(k): str(v) for k, v in conds.items()}, [str(x) for x in labels]]
                for conds, labels in self.groups
            ],
            "label_column": self.label_column,
            "observed": self.observed,
        }

    @classmethod
    def from_json(cls, data: dict) -> Link:
        return cls(
            universe=data["universe"],
            rows=data.get("rows"),
            columns=data.get("columns"),
            fixed=dict(data.get("fixed") or {}),
            labels={k: dict(v) for k, v in (data.get("labels") or {}).items()},
            groups=tuple((dict(c), tuple(lbls)) for c, lbls in data.get("groups") or []),
            label_column=data.get("label_column"),
            observed=data.get("observed"),
        )

    def with_defaults(self, *, label_column: str, observed: str) -> Link:
        return Link(
            self.universe,
            self.rows,
            self.columns,
            dict(self.fixed),
            dict(self.labels),
            tuple(self.groups),
            self.label_column or label_column,
            self.observed or observed,
        )


def cell_key(universe: str, conditions: dict) -> str:
    """The name of the number a cell holds: its universe and sorted conditions."""
    return json.dumps([universe, sorted(conditions.items())], ensure_ascii=False)


def describe(key: str) -> str:
    """A key for a message: ``universe[dim=value, ...]``."""
    try:
        universe, conds = json.loads(key)
    except (ValueError, TypeError):
        return key
    return f"{universe}[{', '.join(f'{d}={v}' for d, v in conds)}]"


# ======================================================================== one table's part
@dataclass
class Part:
    """One table's contribution to its page's system.

    ``keys[c]`` names cell ``c``; ``shown`` holds the published value (NaN where hidden or
    not published); ``published`` marks the cells the table shows (a value or ``[c]``);
    ``lines`` are the table's additive lines over its cells, ``extra`` lines over keys
    (subtotals declared by groups). ``floor``: the lowest value a reader knows a hidden cell
    of this table holds. ``truth``/``primary``: the true counts and the primary cells (at
    the gate only). ``where[c]``: the cell's row and column label, for messages."""

    name: str
    keys: list[str]
    shown: np.ndarray
    published: np.ndarray
    lines: list[tuple[tuple[int, ...], int]]
    extra: list[tuple[tuple[str, ...], str]]
    floor: float
    k: int
    where: list[tuple[str, str | None]]
    truth: np.ndarray | None = None
    primary: np.ndarray | None = None

    @property
    def hidden(self) -> np.ndarray:
        return self.published & np.isnan(self.shown)


def _group_lines(link: Link, row_labels: list[str], col_labels: list[str | None]):
    """Subtotal lines declared by the link's groups, one per column."""
    out = []
    for conds, labels in link.groups:
        members = [r for r in row_labels if r in set(labels)]
        if not members:
            continue
        for col in col_labels:
            parts = tuple(link.key(r, col) for r in members)
            total = cell_key(link.universe, {**link.conditions(None, col), **conds})
            out.append((parts, total))
    return out


def counts_part(
    name: str,
    link: Link,
    row_labels: list[str],
    column_labels: list[str] | None,
    shown: np.ndarray,
    *,
    floor: float,
    k: int,
    truth: np.ndarray | None = None,
    primary: np.ndarray | None = None,
    withheld_total: bool = False,
) -> Part:
    """The part of a one- or two-way counts table (cells flattened as the gate does:
    rows then the Total row, each with its Total column). ``withheld_total``: the Total row
    is not published (its rows count in different units), so its cells are unknown to a
    reader without being hidden cells to protect."""
    rows = [str(r) for r in row_labels]
    if column_labels is None:
        structure = dc.structure_1d(len(rows))
        keys = [link.key(r) for r in rows] + [link.key(None)]
        where = [(r, None) for r in rows] + [(dc.TOTAL, None)]
        cols: list[str | None] = [None]
    else:
        cols = [str(c) for c in column_labels]
        structure = dc.structure_2d(len(rows), len(cols))
        keys, where = [], []
        for r in [*rows, None]:
            for c in [*cols, None]:
                keys.append(link.key(r, c))
                where.append((r or dc.TOTAL, c or dc.TOTAL))
    shown = np.asarray(shown, dtype=float)
    if shown.shape != (len(keys),):
        raise dc.DisclosureError(f"table {name!r}: values do not match its layout")
    published = np.ones(len(keys), dtype=bool)
    if withheld_total:
        total_cells = 1 if column_labels is None else len(cols) + 1
        published[-total_cells:] = False  # the Total row's cells
    return Part(
        name=name,
        keys=keys,
        shown=shown,
        published=published,
        lines=[(tuple(p), t) for p, t in structure.lines],
        extra=_group_lines(link, rows, cols),
        floor=floor,
        k=k,
        where=where,
        truth=None if truth is None else np.asarray(truth, dtype=float),
        primary=None if primary is None else np.asarray(primary, dtype=bool),
    )


def rows_part(
    name: str,
    link: Link,
    row_labels: list[str],
    shown: np.ndarray,
    *,
    floor: float,
    k: int,
    truth: np.ndarray | None = None,
    primary: np.ndarray | None = None,
) -> Part:
    """The part of an estimates table: its observed counts (one per row) and their total,
    which the table does not publish (another table may)."""
    rows = [str(r) for r in row_labels]
    n = len(rows)
    keys = [link.key(r) for r in rows] + [link.key(None)]
    shown = np.append(np.asarray(shown, dtype=float), np.nan)
    published = np.ones(n + 1, dtype=bool)
    published[n] = False
    return Part(
        name=name,
        keys=keys,
        shown=shown,
        published=published,
        lines=[(tuple(range(n)), n)],
        extra=_group_lines(link, rows, [None]),
        floor=floor,
        k=k,
        where=[(r, link.observed) for r in rows] + [(dc.TOTAL, link.observed)],
        truth=None if truth is None else np.append(np.asarray(truth, dtype=float), np.sum(truth)),
        primary=None if primary is None else np.append(np.asarray(primary, dtype=bool), False),
    )


# ======================================================================== the page's system
@dataclass
class Finding:
    """A hidden cell of the page that a reader can narrow below the protection interval."""

    key: str
    lo: float
    hi: float
    cells: list[tuple[str, str, str | None]]  # (table, row, column) where it is hidden
    shown_in: list[str]  # tables that show it (a cell hidden in one and shown in another)

    def message(self) -> str:
        where = "; ".join(
            f"table {t!r} row {r!r}" + (f" column {c!r}" if c else "") for t, r, c in self.cells
        )
        if self.shown_in:
            return f"{where}: hidden there but shown in {', '.join(map(repr, self.shown_in))}"
        return (
            f"{where}: the hidden cell can be narrowed to [{self.lo:g}, {self.hi:g}] "
            "from the tables published on the page"
        )


def joint_findings(
    parts: list[Part], focus: Part | None = None, bounds: bool = True
) -> list[Finding]:
    """Solve the page's system (every part at once) and return the hidden cells that are not
    protected: recovered exactly, provably between 1 and k-1, or shown in another table.

    ``focus``: a part just added to parts already verified together; only the hidden cells
    tied to it (through unknowns and lines) can have changed, so only they are judged.
    ``bounds=False``: do not compute the exact ranges of the failing cells (for messages).

    Raises :class:`disclosure.DisclosureError` when the tables contradict each other (two
    values for one key, or lines that do not add up): the links are then declared wrongly."""
    ids = _key_ids(parts)
    n = len(ids)
    k = max([p.k for p in parts] or [dc.default_k()])
    cells = _page_cells(parts, ids)
    structure = dc.Structure(n, _page_lines(parts, ids), np.zeros(n, dtype=bool))
    known, hidden = cells.known, cells.hidden
    findings = []
    # hidden in one table, shown in another: a leak if the number is small (a larger one
    # hidden as a complement protects nothing there, and the system treats it as known)
    both = hidden & np.isfinite(known) & (known >= 1) & (known <= k - 1)
    for i in np.flatnonzero(both):
        findings.append(
            Finding(_key_of(ids, i), known[i], known[i], cells.where[i], cells.shown_in[i])
        )
    check = hidden & np.isnan(known)
    if focus is not None:
        check &= _touching(structure, known, {ids[key] for key in _all_keys(focus)})
    truth = cells.truth
    values = _complete_truth(structure, truth) if np.isfinite(truth).any() else None
    failing = dc.unprotected_cells(
        structure,
        known,
        k,
        values,
        cells.primary if values is not None else None,
        floor=cells.floor,
        check=check,
    )
    if failing:
        if bounds:
            lo, hi = dc.feasible_intervals(structure, known, floor=cells.floor, cells=failing)
        else:
            lo = hi = np.full(n, np.nan)
        for i in failing:
            findings.append(Finding(_key_of(ids, i), lo[i], hi[i], cells.where.get(i, []), []))
    return findings


def _key_ids(parts: list[Part]) -> dict[str, int]:
    """Number every key of the page once, in order of first appearance."""
    ids: dict[str, int] = {}
    for p in parts:
        for key in p.keys:
            ids.setdefault(key, len(ids))
        for extra_parts, total in p.extra:
            for key in (*extra_parts, total):
                ids.setdefault(key, len(ids))
    return ids


@dataclass
class _PageCells:
    """Per key of the page (indexed as in :func:`_key_ids`): what the tables show and hide."""

    known: np.ndarray  # the value a table shows; NaN if none does
    hidden: np.ndarray  # hidden in at least one published table
    floor: np.ndarray  # the largest floor of the tables that hide it
    truth: np.ndarray  # the true value if a part gives it; NaN otherwise
    primary: np.ndarray  # hidden for being small (not as a complement)
    where: dict[int, list]  # (table, row, column) of each hiding place
    shown_in: dict[int, list[str]]  # tables that show it


def _page_cells(parts: list[Part], ids: dict[str, int]) -> _PageCells:
    """Gather every part's cells by key; two tables showing different values for one key
    mean the links are declared wrongly."""
    n = len(ids)
    cells = _PageCells(
        known=np.full(n, np.nan),
        hidden=np.zeros(n, dtype=bool),
        floor=np.zeros(n),
        truth=np.full(n, np.nan),
        primary=np.zeros(n, dtype=bool),
        where={},
        shown_in={},
    )
    known = cells.known
    for p in parts:
        for c, key in enumerate(p.keys):
            i = ids[key]
            if p.truth is not None and np.isfinite(p.truth[c]):
                cells.truth[i] = p.truth[c]
                if p.primary is not None and p.primary[c]:
                    cells.primary[i] = True
            if not p.published[c]:
                continue
            v = p.shown[c]
            if np.isnan(v):
                cells.hidden[i] = True
                cells.floor[i] = max(cells.floor[i], p.floor)
                cells.where.setdefault(i, []).append((p.name, *p.where[c]))
            else:
                if np.isfinite(known[i]) and known[i] != v:
                    raise dc.DisclosureError(
                        f"table {p.name!r} shows {v:g} for {describe(key)}, another table of "
                        f"the page {known[i]:g}: the links are declared wrongly"
                    )
                known[i] = v
                cells.shown_in.setdefault(i, []).append(p.name)
    return cells


def _page_lines(parts: list[Part], ids: dict[str, int]) -> tuple:
    """Every additive line of the page once, as (part indices, total index); a line whose
    total is also one of its parts says nothing and is left out."""
    lines: dict[tuple, tuple[tuple[int, ...], int]] = {}
    for p in parts:
        for cells, total in p.lines:
            line = (tuple(ids[p.keys[c]] for c in cells), ids[p.keys[total]])
            if line[1] not in line[0]:
                lines.setdefault((tuple(sorted(line[0])), line[1]), line)
        for extra_parts, total in p.extra:
            line = (tuple(ids[x] for x in extra_parts), ids[total])
            if line[1] not in line[0]:
                lines.setdefault((tuple(sorted(line[0])), line[1]), line)
    return tuple(lines.values())


def _all_keys(part: Part) -> set[str]:
    out = set(part.keys)
    for extra_parts, total in part.extra:
        out |= {*extra_parts, total}
    return out


def _touching(structure: dc.Structure, known: np.ndarray, seeds: set[int]) -> np.ndarray:
    """Unknown cells connected to ``seeds`` by lines through unknown cells (the groups of
    hidden cells whose ranges a new table can change)."""
    unknown = np.isnan(known)
    parent = list(range(len(known)))

    def find(c: int) -> int:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for parts, total in structure.lines:
        members = [c for c in (*parts, total) if unknown[c]]
        for m in members[1:]:
            parent[find(m)] = find(members[0])
    # a seed that is known still reaches the unknown cells of its lines
    roots = set()
    for c in seeds:
        if unknown[c]:
            roots.add(find(c))
    for parts, total in structure.lines:
        cells = (*parts, total)
        if any(c in seeds for c in cells):
            roots |= {find(c) for c in cells if unknown[c]}
    return np.array([unknown[c] and find(c) in roots for c in range(len(known))], dtype=bool)


def _key_of(ids: dict[str, int], i: int) -> str:
    for key, j in ids.items():
        if j == i:
            return key
    raise KeyError(i)


def _complete_truth(structure: dc.Structure, truth: np.ndarray) -> np.ndarray | None:
    """True values of keys no table holds (declared subtotals), from the lines; None if some
    stay unknown (the gate's upper-protection rule is then left to each table's own gate)."""
    truth = truth.copy()
    changed = True
    while changed and np.isnan(truth).any():
        changed = False
        for parts, total in structure.lines:
            vals = truth[list(parts)]
            if np.isnan(truth[total]) and np.isfinite(vals).all():
                truth[total] = vals.sum()
                changed = True
            elif np.isfinite(truth[total]) and np.isnan(vals).sum() == 1:
                missing = list(parts)[int(np.flatnonzero(np.isnan(vals))[0])]
                truth[missing] = truth[total] - np.nansum(vals)
                changed = True
    return None if np.isnan(truth).any() else truth


# ======================================================================== the page ledger (gate time)
_LEDGER: dict[str, Part] = {}
_ACTIVE = False


def start_page() -> None:
    """A new page starts (``display.banner`` calls this): forget the tables of any earlier
    page and protect linked tables jointly from now on."""
    global _ACTIVE
    _LEDGER.clear()
    _ACTIVE = True


def stop_page() -> None:
    """Leave page mode (tests; a library call outside a page links nothing)."""
    global _ACTIVE
    _LEDGER.clear()
    _ACTIVE = False


def page_tables() -> list[str]:
    """Names of the linked tables gated on the current page."""
    return list(_LEDGER)


def _others(name: str) -> list[Part]:
    return [p for n, p in _LEDGER.items() if n != name]


def protect_counts(name: str, table: dc.CountTable, result: dc.Suppression, link: Link):
    """Suppress ``table`` (already protected on its own: ``result``) against the linked
    tables gated earlier on the page; register it; return the final suppression and a note
    for the stamp."""
    rows = [str(r) for r in table.row_labels]
    cols = None if table.column_labels is None else [str(c) for c in table.column_labels]
    values = result.values
    structure = result.structure

    def part_for(hidden: np.ndarray) -> Part:
        return counts_part(
            name,
            link,
            rows,
            cols,
            np.where(hidden, np.nan, values),
            floor=dc.HIDDEN_FLOOR,
            k=result.k,
            truth=values,
            primary=result.primary,
        )

    hidden = result.suppressed.copy()
    secondary = result.secondary.copy()
    if _ACTIVE:
        hidden, secondary = _joint_suppression(name, part_for, structure, values, hidden, secondary)
        _LEDGER[name] = part_for(hidden)
    final = dc.Suppression(values, result.primary, secondary, structure, result.k)
    return final, _note(name)


def protect_rows(
    name: str,
    link: Link,
    row_labels: list[str],
    counts: np.ndarray,
    hide: np.ndarray,
    k: int,
    floor: float,
):
    """The estimates version of :func:`protect_counts`: ``hide`` marks the rows hidden so
    far; returns the final mask and a note for the stamp."""
    counts = np.asarray(counts, dtype=float)
    primary = (counts >= 1) & (counts <= k - 1)
    n = len(counts)
    structure = dc.structure_1d(n)
    values = np.append(counts, counts.sum())

    def part_for(hidden: np.ndarray) -> Part:
        return rows_part(
            name,
            link,
            row_labels,
            np.where(hidden[:n], np.nan, counts),
            floor=floor,
            k=k,
            truth=counts,
            primary=primary,
        )

    hidden = np.append(np.asarray(hide, dtype=bool), False)
    secondary = hidden & ~np.append(primary, False)
    if _ACTIVE:
        # lines=True: the estimates gate treats the observed total as known, so a row hidden
        # here gets a complement as the gate's own rule wants
        hidden, _ = _joint_suppression(
            name, part_for, structure, values, hidden, secondary, lines=True, fixed=[n]
        )
        _LEDGER[name] = part_for(hidden)
    return hidden[:n], _note(name)


def _note(name: str) -> dict | None:
    if not _ACTIVE:
        return None
    return {"page_tables_checked": len(_LEDGER), "all_protected": True}


def _adds_nothing(new: Part, seen: dict[str, set]) -> bool:
    """True when every number the new table shares with earlier tables is shown by it and was
    already shown by one of them: the system of the earlier tables gains no known value, the
    new table's hidden cells no tie, so the table's own gate is the whole check."""
    shown = {
        key for c, key in enumerate(new.keys) if new.published[c] and np.isfinite(new.shown[c])
    }
    for key in _all_keys(new):
        if key in seen and (key not in shown or "shown" not in seen[key]):
            return False
    return True


def _joint_suppression(
    name, part_for, structure, values, hidden, secondary, *, lines=True, fixed=()
):
    """Hide more cells of the new table until no hidden cell of the page is recoverable."""
    others = _others(name)
    if not others:
        return hidden, secondary
    seen: dict[str, set] = {}  # how earlier tables hold each key: shown, hidden, virtual
    for p in others:
        for c, key in enumerate(p.keys):
            if p.published[c]:
                seen.setdefault(key, set()).add("hidden" if np.isnan(p.shown[c]) else "shown")
        for key in _all_keys(p) - {k for c, k in enumerate(p.keys) if p.published[c]}:
            seen.setdefault(key, set()).add("virtual")
    probe = part_for(hidden)
    shown_elsewhere = {key for key, s in seen.items() if "shown" in s}
    hidden = hidden.copy()
    secondary = secondary.copy()
    cell_lines = structure.cell_lines()
    for c, key in enumerate(probe.keys):
        hidden_before = "hidden" in seen.get(key, ()) and key not in shown_elsewhere
        if hidden_before and not hidden[c] and c not in fixed:
            hidden[c] = secondary[c] = True  # hidden earlier on the page: hide it here too

    def completed(h, s):
        h, s = h.copy(), s.copy()
        if lines:
            dc._complete_lines(structure, values, h, s, cell_lines)
        return h, s

    def failures(h) -> int:
        new = part_for(h)
        return len(joint_findings([*others, new], focus=new, bounds=False))

    hidden, secondary = completed(hidden, secondary)
    if _adds_nothing(part_for(hidden), seen):
        return hidden, secondary
    while True:
        new = part_for(hidden)
        found = joint_findings([*others, new], focus=new, bounds=False)
        if not found:
            return hidden, secondary
        cands = [
            c
            for c in range(len(values))
            if not hidden[c]
            and values[c] > 0
            and c not in fixed
            and probe.keys[c] not in shown_elsewhere
        ]
        if not cands:
            found = joint_findings([*others, new], focus=new)  # with the ranges, to explain
            raise dc.DisclosureError(
                f"table {name!r}: cannot protect the page's tables jointly: "
                + "; ".join(f.message() for f in found[:3])
                + ". Hide the cell in the table published earlier, or publish fewer linked numbers."
            )
        counts = dc._line_counts(structure, hidden)
        scored = []
        for c in cands:
            h, s = hidden.copy(), secondary.copy()
            h[c] = s[c] = True
            h, s = completed(h, s)
            base = dc._choose([c], values, cell_lines, counts, None, structure.is_margin)
            scored.append(((failures(h), int(h.sum()), base), h, s))
        _, hidden, secondary = min(scored, key=lambda t: t[0])


# ======================================================================== the site check
def _csv_frame(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def _number(raw: str, marker: str) -> float:
    raw = raw.strip()
    if raw == marker:
        return np.nan
    return float(raw)


def part_from_csv(name: str, kind: str, gate: dict, csv_text: str) -> Part | None:
    """A published table's part, read from its stamp and CSV alone (the reader's view)."""
    if not isinstance(gate.get("link"), dict):
        return None
    link = Link.from_json(gate["link"])
    frame = _csv_frame(csv_text)
    marker = gate.get("suppressed_marker", dc.SUPPRESSED)
    floor = dc.published_floor(gate)
    k = int(gate.get("k", 0) or 0) or dc.default_k()
    if kind == "counts":
        label = (gate.get("label_columns") or [None])[0]
        cols = gate.get("count_columns") or []
        grid = np.array([[_number(v, marker) for v in frame[c]] for c in cols]).T
        if gate.get("total_row") is False:  # the total across rows is withheld: unknown here
            rows = [str(x) for x in frame[label]]
            grid = np.vstack([grid, np.full(grid.shape[1], np.nan)])
        else:
            rows = [str(x) for x in frame[label]][:-1]
        withheld = gate.get("total_row") is False
        if gate.get("shape") == "1d":
            return counts_part(
                name, link, rows, None, grid[:, 0], floor=floor, k=k, withheld_total=withheld
            )
        return counts_part(
            name, link, rows, cols[:-1], grid.ravel(), floor=floor, k=k, withheld_total=withheld
        )
    if kind == "estimates":
        labels = [str(x) for x in frame[link.label_column]]
        shown = np.array([_number(v, marker) for v in frame[link.observed]])
        return rows_part(name, link, labels, shown, floor=floor, k=k)
    return None


def page_findings(page: Path, site: Path | None = None) -> list[str]:
    """The joint check of one rendered page: its linked tables, read from their CSVs."""
    parser = dc._PageParser()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    parts, seen = [], set()
    for stamp in parser.stamped:
        href = stamp.get("href")
        if not href or stamp.get("sha256") in seen:
            continue  # a chart's data published twice is one table
        csv_path = (page.parent / href).resolve()
        if not csv_path.is_file():
            continue  # the disclosure site check reports it
        try:
            gate = json.loads(stamp.get("gate") or "{}")
        except json.JSONDecodeError:
            continue
        try:
            part = part_from_csv(
                stamp.get("table", "?"),
                stamp.get("kind", ""),
                gate,
                csv_path.read_text(encoding="utf-8"),
            )
        except (KeyError, ValueError, IndexError) as exc:
            return [f"table {stamp.get('table')!r}: cannot read its linked cells ({exc})"]
        if part is not None:
            seen.add(stamp.get("sha256"))
            parts.append(part)
    if len(parts) < 2:
        return []
    try:
        return [f.message() for f in joint_findings(parts)]
    except dc.DisclosureError as exc:
        return [str(exc)]


def site_check(site_dir) -> list[str]:
    """Render hook: on every page, no hidden cell of a linked table can be narrowed below the
    protection interval from every number the page publishes (differencing across tables)."""
    site = Path(site_dir)
    problems = []
    for page in sorted(site.rglob("*.html")):
        rel = page.relative_to(site).as_posix()
        problems += [f"{rel}: {p}" for p in page_findings(page, site)]
    return problems
