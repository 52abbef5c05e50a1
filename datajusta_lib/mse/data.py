"""Capture histories for multiple systems estimation: reading, validating, linking.

Two input forms become one :class:`CaptureHistories`: a capture-history table (one 0/1 column
per list plus a count; :func:`capture_histories`) or institutional records carrying a list
name and a pseudonymous person key (:func:`capture_histories_from_records`, exact matching on
the key). Bad input raises :class:`MSEInputError` naming the row, column and rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..core.i18n import check_lang, text
from .models import Cells

MAX_LISTS = 12  # 4,095 observable histories; beyond that the tables are too sparse to model


class MSEInputError(ValueError):
    """Input that cannot be read as capture histories (the message says where and why)."""


# Messages of MSEInputError live in data/i18n/mse_errors.yaml: raised in English, shown in
# either language (``table_input.error_text``).
def plain(value):
    """A numpy scalar as the Python number it holds (messages show 2, not np.int64(2))."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, str | bytes):
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value


def message(key: str, lang: str = "en", **values) -> str:
    """The message ``key`` in ``lang`` with ``values`` (numpy scalars shown as plain numbers)."""
    shown = {k: _show(v) for k, v in values.items()}
    return text(key, check_lang(lang), **shown)


def _show(value) -> str:
    value = plain(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else str(value)
    if isinstance(value, str):
        return repr(value)
    return str(value)


def error(source: str, key: str, **values):
    """An MSEInputError whose English text is ``source: message``, translatable later."""
    exc = MSEInputError(f"{source}: {message(key, 'en', **values)}")
    exc.key, exc.values, exc.source = key, values, source
    return exc


# --------------------------------------------------------------------------------------
# capture histories
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaptureHistories:
    """Counts of persons by the exact set of lists they are on (all 2^t − 1 observable sets)."""

    lists: tuple[str, ...]
    counts: np.ndarray  # aligned with Cells.for_lists(len(lists)).histories
    unlinked: Mapping[str, int] = field(default_factory=dict)  # records without a person key
    dropped_lists: tuple[str, ...] = ()  # lists none of whose records could be linked
    notes: tuple[dict, ...] = ()

    @property
    def cells(self) -> Cells:
        return _cells(len(self.lists))

    @property
    def n_lists(self) -> int:
        return len(self.lists)

    @property
    def n_observed(self) -> int:
        return int(self.counts.sum())

    def table(self, nonzero: bool = True) -> pd.DataFrame:
        """One 0/1 column per list and a ``count`` column."""
        df = pd.DataFrame(self.cells.histories.astype(int), columns=list(self.lists))
        df["count"] = self.counts.astype(int)
        return (df[df["count"] > 0] if nonzero else df).reset_index(drop=True)

    def list_sizes(self) -> pd.Series:
        """Persons on each list (whatever other lists they are on)."""
        sizes = self.cells.histories.T.astype(np.int64) @ self.counts
        return pd.Series(sizes, index=list(self.lists), name="persons")

    def overlaps(self) -> pd.DataFrame:
        """Persons on both lists, for every pair (symmetric; list sizes on the diagonal)."""
        h = self.cells.histories.astype(np.int64)
        m = h.T @ (h * self.counts[:, None])
        return pd.DataFrame(m, index=list(self.lists), columns=list(self.lists))

    def non_overlapping_pairs(self) -> list[tuple[str, str]]:
        ov = self.cells.overlaps(self.counts)
        return [
            (self.lists[i], self.lists[j])
            for (i, j), n in zip(self.cells.pairs, ov, strict=True)
            if n == 0
        ]

    def isolated_lists(self) -> list[str]:
        """Lists (with persons) that share nobody with any other list."""
        ov = self.overlaps().to_numpy().copy()
        sizes = np.diag(ov).copy()
        np.fill_diagonal(ov, 0)
        return [
            name
            for name, row, n in zip(self.lists, ov, sizes, strict=True)
            if n > 0 and row.sum() == 0
        ]

    def subset(self, lists) -> CaptureHistories:
        """The histories restricted to some lists (persons on none of them drop out)."""
        idx = [self.lists.index(x) for x in lists]
        new_cells = _cells(len(idx))
        masks = self.cells.histories[:, idx].astype(np.int64) @ (1 << np.arange(len(idx)))
        target = _mask_to_cell(len(idx))
        counts = np.zeros(len(new_cells.histories), dtype=np.int64)
        on_some = masks > 0
        np.add.at(counts, target[masks[on_some]], self.counts[on_some])
        return CaptureHistories(
            tuple(lists), counts, dict(self.unlinked), self.dropped_lists, self.notes
        )


_CELLS: dict[int, Cells] = {}


def _cells(t: int) -> Cells:
    if t not in _CELLS:
        _CELLS[t] = Cells.for_lists(t)
    return _CELLS[t]


def _mask_to_cell(t: int) -> np.ndarray:
    """Index of each history (as a bitmask, list i = bit i) in the Cells order."""
    masks = _cells(t).histories.astype(np.int64) @ (1 << np.arange(t))
    out = np.full(1 << t, -1, dtype=np.int64)
    out[masks] = np.arange(len(masks))
    return out


def _check_n_lists(n: int, where: str) -> None:
    if n < 2:
        raise error(where, "too_few_lists", n=n)
    if n > MAX_LISTS:
        raise error(where, "too_many_lists", max=MAX_LISTS, n=n)


def capture_histories(
    data, lists=None, count: str = "count", source: str = "capture-history table"
) -> CaptureHistories:
    """Read a capture-history table: one 0/1 column per list plus a count column.

    ``data`` is a DataFrame (list columns + ``count``), a 2-D array (list columns then the
    count; ``lists`` names them, else A, B, ...) or a mapping from history strings such as
    ``"101"`` to counts. Histories not given have count 0; repeated histories are summed.
    Raises :class:`MSEInputError` for fewer than two lists, histories of the wrong width or
    not 0/1, negative or non-integer counts, the all-zero history (it is what is estimated,
    it cannot be observed) and tables whose counts are all zero.
    """
    if isinstance(data, CaptureHistories):
        return data
    if isinstance(data, Mapping):
        df = _table_from_mapping(data, lists, source)
        lists = list(df.columns[:-1])
    elif isinstance(data, pd.DataFrame):
        if count not in data.columns:  # (records with a list name and a person key: use
            # capture_histories_from_records)
            raise error(source, "count_column_missing_api", count=count, columns=list(data.columns))
        lists = [c for c in data.columns if c != count] if lists is None else list(lists)
        missing = [c for c in lists if c not in data.columns]
        if missing:
            raise error(source, "list_columns_missing", missing=missing)
        df = data[[*lists, count]].rename(columns={count: "count"})
    else:
        arr = np.asarray(data)
        if arr.ndim != 2:
            raise MSEInputError(
                f"{source}: expected a 2-D table, got an array of shape {arr.shape}"
            )
        if lists is not None and arr.shape[1] != len(lists) + 1:
            raise MSEInputError(
                f"{source}: histories of the wrong width: {len(lists)} lists need "
                f"{len(lists) + 1} columns (one per list, then the count), got {arr.shape[1]}"
            )
        lists = list(lists) if lists is not None else _default_names(arr.shape[1] - 1)
        df = pd.DataFrame(arr, columns=[*lists, "count"])
    lists = [str(x) for x in lists]
    _check_n_lists(len(lists), source)
    if len(set(lists)) != len(lists):
        name = next(x for x in lists if lists.count(x) > 1)
        where = [i + 1 for i, x in enumerate(lists) if x == name]
        raise error(source, "duplicate_lists", name=name, columns=where)
    return _from_table(df.set_axis([*lists, "count"], axis=1), lists, source)


def _default_names(n: int) -> list[str]:
    return [chr(ord("A") + i) if n <= 26 else f"L{i + 1}" for i in range(n)]


def _table_from_mapping(data: Mapping, lists, source: str) -> pd.DataFrame:
    keys = [str(k) for k in data]
    widths = {len(k) for k in keys}
    if not keys:
        raise MSEInputError(f"{source}: no histories given")
    width = len(lists) if lists is not None else max(widths)
    for k in keys:
        if len(k) != width:
            raise MSEInputError(
                f"{source}: history {k!r} has the wrong width: {len(k)} lists, expected {width}"
            )
        if set(k) - {"0", "1"}:
            raise MSEInputError(f"{source}: history {k!r} is not made of 0s and 1s")
    names = list(lists) if lists is not None else _default_names(width)
    rows = [[int(c) for c in k] + [v] for k, v in zip(keys, data.values(), strict=True)]
    return pd.DataFrame(rows, columns=[*names, "count"])


def _from_table(df: pd.DataFrame, lists: list[str], source: str) -> CaptureHistories:
    t = len(lists)
    hist = np.zeros((len(df), t), dtype=np.int64)
    for j, name in enumerate(lists):
        col = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isin(col, (0.0, 1.0))
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise error(source, "not_binary", row=r + 1, column=name, value=df[name].iloc[r])
        hist[:, j] = col.astype(np.int64)
    raw = df["count"]
    cnt = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    for rule, bad in (
        ("count_not_a_number", ~np.isfinite(cnt)),
        ("count_negative", np.isfinite(cnt) & (cnt < 0)),
        ("count_not_whole", np.isfinite(cnt) & (cnt != np.round(cnt))),
    ):
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise error(source, rule, row=r + 1, column="count", value=raw.iloc[r])
    zero_rows = np.flatnonzero(hist.sum(axis=1) == 0)
    if len(zero_rows):
        raise error(source, "all_zero_history", row=zero_rows[0] + 1)
    if cnt.sum() == 0:
        raise error(source, "all_counts_zero")
    masks = hist @ (1 << np.arange(t))
    counts = np.zeros(len(_cells(t).histories), dtype=np.int64)
    np.add.at(counts, _mask_to_cell(t)[masks], cnt.astype(np.int64))
    notes = ()
    if len(np.unique(masks)) < len(masks):
        notes = ({"code": "duplicate_histories_summed"},)
    return CaptureHistories(tuple(lists), counts, notes=notes)


def capture_histories_from_records(
    records: pd.DataFrame,
    list_col: str = "institution",
    key_col: str = "person_key",
    lists=None,
    source: str = "records",
) -> CaptureHistories:
    """Capture histories by exact matching on a pseudonymous person key.

    One row per record with the list it belongs to (``list_col``) and the person's key
    (``key_col``, null when the institution holds no identifier). A person with several
    records on one list counts once there. Records without a key cannot be linked: they are
    counted per list in ``unlinked``, and a list none of whose records has a key is dropped
    (``dropped_lists``). Exact matching misses people whose identifier was mistyped or
    recorded differently by two institutions; it overstates the dark figure in that case.
    """
    for col in (list_col, key_col):
        if col not in records.columns:
            raise MSEInputError(f"{source}: no {col!r} column (columns: {list(records.columns)})")
    names = records[list_col]
    if names.isna().any():
        r = int(np.flatnonzero(names.isna().to_numpy())[0])
        raise MSEInputError(f"{source}: row {r + 1}, column {list_col!r}: the list name is missing")
    names = names.astype(str)
    all_lists = list(lists) if lists is not None else sorted(names.unique())
    keep_rows = names.isin(all_lists).to_numpy()  # records of lists not asked for are ignored
    keys = records[key_col]
    has_key = keys.notna().to_numpy() & keep_rows
    unlinked = (
        names[keep_rows & ~has_key].value_counts().reindex(all_lists, fill_value=0).astype(int)
    )
    linked_lists = set(names[has_key])
    dropped = tuple(x for x in all_lists if x not in linked_lists and (names == x).any())
    used = [x for x in all_lists if x not in dropped]
    _check_n_lists(
        len(used),
        f"{source}: lists that hold a person identifier "
        f"(cannot be linked, no identifier: {list(dropped) or 'none'})",
    )
    idx = pd.Series(np.arange(len(used)), index=used)
    linked = pd.DataFrame(
        {"key": keys[has_key].to_numpy(), "bit": idx.reindex(names[has_key]).to_numpy()}
    )
    linked = linked.dropna().drop_duplicates()
    masks = (np.int64(1) << linked["bit"].astype(np.int64)).groupby(linked["key"]).sum()
    t = len(used)
    counts = np.zeros(len(_cells(t).histories), dtype=np.int64)
    if len(masks):
        np.add.at(counts, _mask_to_cell(t)[masks.to_numpy()], 1)
    return CaptureHistories(
        tuple(used),
        counts,
        unlinked={k: int(v) for k, v in unlinked.items()},
        dropped_lists=dropped,
    )


def simulate(
    n: int,
    capture_probs,
    rng: np.random.Generator,
    heterogeneity: float = 0.0,
    referrals: Mapping[tuple[int, int], float] | None = None,
    lists=None,
) -> CaptureHistories:
    """Capture histories of a known population of ``n`` (synthetic truth, for coverage checks).

    Person i is on list j with probability expit(logit(p_j) + σ·z_i), z_i ~ N(0, 1): σ =
    ``heterogeneity`` makes some people more visible to every institution (σ = 0: homogeneous
    and independent lists). ``referrals[(a, b)] = r`` multiplies the odds of being on list b
    by r for persons on list a (a referral between institutions, a < b).
    """
    p = np.asarray(capture_probs, dtype=float)
    t = len(p)
    _check_n_lists(t, "simulate")
    z = rng.standard_normal(n)
    logit = np.log(p / (1 - p))[None, :] + heterogeneity * z[:, None]
    on = np.zeros((n, t), dtype=np.int64)
    for j in range(t):
        lj = logit[:, j].copy()
        for (a, b), r in (referrals or {}).items():
            if b == j:
                lj += np.log(r) * on[:, a]
        on[:, j] = rng.random(n) < 1.0 / (1.0 + np.exp(-lj))
    masks = on @ (1 << np.arange(t))
    masks = masks[masks > 0]
    counts = np.zeros(len(_cells(t).histories), dtype=np.int64)
    np.add.at(counts, _mask_to_cell(t)[masks], 1)
    names = tuple(lists) if lists is not None else tuple(_default_names(t))
    return CaptureHistories(names, counts)


def summary_row(res, model: str) -> dict:
    """One row of a results table for an estimate of either method (``as_row``)."""
    lo, hi = res.interval if res.interval else (np.nan, np.nan)
    return {
        "lists": len(res.lists),
        "observed": res.n_observed,
        "dark": res.dark if res.ok else np.nan,
        "total": res.total if res.ok else np.nan,
        "lower": lo,
        "upper": hi,
        "model": model,
        "ok": res.ok,
        "problem": res.problem["code"] if res.problem else None,
    }
