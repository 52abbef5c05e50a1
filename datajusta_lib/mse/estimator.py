"""Multiple systems estimation (capture–recapture): how many did no institution record?

Public API (``dj.mse``, the ``datajusta_lib.mse`` package)::

    ch = mse.capture_histories(table)                          # one 0/1 column per list + count
    ch = mse.capture_histories_from_records(records)           # list name + person key per record
    res = mse.estimate(ch, selection="stepwise", n_boot=1000, seed=1)
    res.total, res.dark, res.interval, res.model_terms, res.notes

``estimate`` also accepts either input form directly. The models are Poisson log-linear
models with main effects and two-list interactions (:mod:`.models`), chosen by stepwise
p-values, AIC or BIC (:mod:`.select`), with percentile or BCa bootstrap intervals
(:mod:`.bootstrap`). Bad inputs raise :class:`MSEInputError` naming the row, column and
rule; data that do not support an estimate give a result with ``ok = False`` and the reason
(``problem``), never an exception from deep inside a fit and never a silently absurd number.

Validated against published analyses in ``tests/test_mse_published.py`` (the UK 2013
modern-slavery lists and the Korean data of the MultipleSystemsEstimation documentation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..analysis.counts import MACRO_ZONES
from . import bootstrap as boot
from .data import (
    MAX_LISTS,
    CaptureHistories,
    MSEInputError,
    capture_histories,
    capture_histories_from_records,
    summary_row,
)
from .models import Cells, Design, Existence, ExistenceCache, Fit, build_design, check_existence
from .select import DEFAULT_PTHRESH, METHODS, Selection, Spec, select

__all__ = [
    "MAX_LISTS",
    "CaptureHistories",
    "MSEInputError",
    "MSEResult",
    "capture_histories",
    "capture_histories_from_records",
    "estimate",
    "estimate_by_stratum",
    "informative",
    "macrozone",
    "person_strata",
]

EXTRAPOLATION_WARNING = 20.0  # dark figure above 20 × observed: flag it, never pass it silently


# --------------------------------------------------------------------------------------
# estimation
# --------------------------------------------------------------------------------------
@dataclass
class MSEResult:
    """An estimate of the number of persons on no list, or the reason there is none."""

    ok: bool
    lists: tuple[str, ...]
    n_observed: int
    list_sizes: pd.Series
    method: str
    pthresh: float | None
    model_terms: list[str] = field(default_factory=list)  # two-list interactions in the model
    infinite_terms: list[str] = field(default_factory=list)  # those estimated at −∞ (no overlap)
    dark: float | None = None  # estimated number on no list
    total: float | None = None  # n_observed + dark
    interval: tuple[float, float] | None = None  # for the total
    interval_method: str | None = None
    level: float = 0.95
    wald_interval: tuple[float, float] | None = None  # conditional on the model: too narrow
    bootstrap: boot.Bootstrap | None = None
    acceleration: float | None = None
    bias_z0: float | None = None
    selection_path: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: pd.DataFrame = field(default_factory=pd.DataFrame)
    dropped_lists: dict[str, str] = field(default_factory=dict)  # list -> reason
    notes: list[dict] = field(default_factory=list)  # {"code": ..., values}
    problem: dict | None = None  # why there is no estimate (ok is False)
    fit: Fit | None = field(default=None, repr=False)
    glm: object | None = field(default=None, repr=False)  # statsmodels results of the final fit
    histories: CaptureHistories | None = field(default=None, repr=False)

    def as_row(self) -> dict:
        return summary_row(self, " + ".join(self.model_terms) or "main effects")


def _as_histories(data, lists, count, list_col, key_col) -> CaptureHistories:
    if isinstance(data, CaptureHistories):
        return data
    if (
        isinstance(data, pd.DataFrame)
        and count not in data.columns
        and {list_col, key_col} <= set(data.columns)
    ):
        return capture_histories_from_records(data, list_col=list_col, key_col=key_col, lists=lists)
    return capture_histories(data, lists=lists, count=count)


def informative(ch: CaptureHistories) -> tuple[CaptureHistories, dict[str, str]]:
    """Drop lists that carry no information about the unrecorded (as SparseMSE's
    ``removenoninformativelists``): empty lists, lists holding every observed person, and
    lists identical to an earlier one."""
    sizes = ch.list_sizes()
    h = ch.cells.histories
    dropped: dict[str, str] = {}
    seen: dict[bytes, str] = {}
    for j, name in enumerate(ch.lists):
        if sizes[name] == 0:
            dropped[name] = "empty"
            continue
        if sizes[name] == ch.n_observed:
            dropped[name] = "holds_everyone"
            continue
        members = np.packbits((h[:, j] == 1) & (ch.counts > 0)).tobytes()
        if members in seen:
            dropped[name] = f"same_as:{seen[members]}"
            continue
        seen[members] = name
    if not dropped:
        return ch, dropped
    kept = [x for x in ch.lists if x not in dropped]
    if len(kept) < 2:
        return ch, dropped
    return ch.subset(kept), dropped


def _parse_pairs(pairs, lists: tuple[str, ...], cells: Cells) -> tuple[int, ...]:
    out = []
    for p in pairs or ():
        a, b = p.split(":") if isinstance(p, str) else p
        for x in (a, b):
            if x not in lists:
                raise MSEInputError(f"interaction {a}:{b}: list {x!r} is not one of {list(lists)}")
        i, j = sorted((lists.index(a), lists.index(b)))
        if i == j:
            raise MSEInputError(f"interaction {a}:{b} pairs a list with itself")
        out.append(cells.pairs.index((i, j)))
    return tuple(sorted(set(out)))


def estimate(
    data,
    *,
    selection: str = "stepwise",
    pthresh: float = DEFAULT_PTHRESH,
    pairs=None,
    n_boot: int = 1000,
    bootstrap: str = "nonparametric",
    reselect: bool = True,
    interval: str = "bca",
    level: float = 0.95,
    seed: int | None = None,
    top_models: int = 20,
    lists=None,
    count: str = "count",
    list_col: str = "institution",
    key_col: str = "person_key",
    method: str = "loglinear",
    **lcmcr_options,
) -> MSEResult:
    """Estimate how many persons are on none of the lists.

    ``data``: :class:`CaptureHistories`, a capture-history table (0/1 list columns + count)
    or records (``list_col`` + ``key_col``). ``selection``: ``stepwise`` (p-value threshold
    ``pthresh``, default 0.02 as SparseMSE), ``aic``, ``bic``, ``main`` or ``fixed`` (with
    ``pairs`` such as ``["LA:NG", ("NG", "GO")]``). ``n_boot`` replicates of kind
    ``bootstrap`` (``nonparametric`` or ``parametric``), re-running the selection when
    ``reselect``; ``interval`` is ``bca``, ``percentile`` or ``wald`` (model-conditional,
    the only one when ``n_boot=0``). ``seed`` seeds a numpy Generator.

    ``method="lcmcr"``: the Bayesian latent-class model instead (:mod:`.mse_lcmcr`; options
    ``K``, ``a_alpha``, ``b_alpha``, ``chains``, ``burnin``, ``samples``, ``thinning``, plus
    ``seed`` and ``level``); returns an :class:`.mse_lcmcr.LCMCRResult`.
    """
    if method == "lcmcr":
        from .lcmcr import estimate_lcmcr

        ch = _as_histories(data, lists, count, list_col, key_col)
        return estimate_lcmcr(ch, seed=seed, level=level, **lcmcr_options)
    _check_options(
        method=method,
        lcmcr_options=lcmcr_options,
        selection=selection,
        interval=interval,
        bootstrap=bootstrap,
        level=level,
        n_boot=n_boot,
        pairs=pairs,
    )
    ch0 = _as_histories(data, lists, count, list_col, key_col)
    ch, dropped = informative(ch0)
    base = {
        "lists": ch.lists,
        "n_observed": ch.n_observed,
        "list_sizes": ch0.list_sizes(),
        "method": selection,
        "pthresh": pthresh if selection == "stepwise" else None,
        "level": level,
        "dropped_lists": dropped,
        "histories": ch,
    }
    notes = _input_notes(ch0)
    settled = _settled_by_the_lists(ch0, ch, dropped, notes, base)
    if settled is not None:
        return settled

    spec, cache, sel = _select_model(ch, selection, pthresh, pairs)
    path = pd.DataFrame([{k: v for k, v in r.items() if k != "pairs"} for r in sel.path])
    base |= {"selection_path": path, "skipped": pd.DataFrame(sel.skipped)}
    if sel.fit is None:
        return MSEResult(
            ok=False, notes=notes, problem=_explain_failure(ch, spec, sel.existence), **base
        )

    res, final = _point_estimate(ch, sel.fit, level, notes, base)
    if n_boot > 0 and interval != "wald":
        boot_spec = _bootstrap_spec(spec, sel, final, reselect=reselect, top_models=top_models)
        _bootstrap_interval(
            res, ch, boot_spec, cache, n_boot=n_boot, kind=bootstrap, seed=seed, interval=interval
        )
    else:
        res.interval, res.interval_method = res.wald_interval, "wald"
    _extrapolation_notes(res, ch.n_observed)
    return res


def _check_options(
    *, method, lcmcr_options, selection, interval, bootstrap, level, n_boot, pairs
) -> None:
    """Refuse options the log-linear estimate cannot honour, before reading the data."""
    if method != "loglinear":
        raise MSEInputError(f"method must be loglinear or lcmcr, got {method!r}")
    if lcmcr_options:
        raise MSEInputError(f"options {sorted(lcmcr_options)} apply only to method='lcmcr'")
    if selection not in METHODS:
        raise MSEInputError(f"selection must be one of {METHODS}, got {selection!r}")
    if interval not in ("bca", "percentile", "wald"):
        raise MSEInputError(f"interval must be bca, percentile or wald, got {interval!r}")
    if bootstrap not in boot.KINDS:
        raise MSEInputError(f"bootstrap must be one of {boot.KINDS}, got {bootstrap!r}")
    if not 0 < level < 1:
        raise MSEInputError(f"level must be between 0 and 1, got {level}")
    if n_boot < 0:
        raise MSEInputError(f"n_boot must be 0 or more, got {n_boot}")
    if selection == "fixed" and pairs is None:
        raise MSEInputError("selection='fixed' needs pairs, e.g. pairs=['A:B']")


def _input_notes(ch0: CaptureHistories) -> list[dict]:
    """Notes on the input itself: what building the histories noted, lists without an
    identifier, records that could not be linked."""
    notes: list[dict] = [dict(n) for n in ch0.notes]
    if ch0.dropped_lists:
        notes.append({"code": "lists_without_identifier", "lists": list(ch0.dropped_lists)})
    if any(ch0.unlinked.values()):
        notes.append(
            {"code": "unlinked_records", "records": {k: v for k, v in ch0.unlinked.items() if v}}
        )
    return notes


def _settled_by_the_lists(
    ch0: CaptureHistories,
    ch: CaptureHistories,
    dropped: dict[str, str],
    notes: list[dict],
    base: dict,
) -> MSEResult | None:
    """Note the dropped, non-overlapping and isolated lists; return the result when the lists
    alone settle it (a list holds everyone, too few informative lists, no overlap at all),
    None when a model has to be fitted. ``ch0``: all lists; ``ch``: the informative ones."""
    everyone = [name for name, reason in dropped.items() if reason == "holds_everyone"]
    if everyone:
        # Every observed person is on this list: the number on no list is estimated at 0 under
        # any model that includes it (SparseMSE gives the number observed). Dropping the list and
        # estimating from the others would estimate a total below the number observed.
        n = ch0.n_observed
        notes.append({"code": "list_holds_everyone", "list": everyone[0]})
        base = base | {"lists": ch0.lists, "n_observed": n, "histories": ch0, "dropped_lists": {}}
        return MSEResult(
            ok=True,
            dark=0.0,
            total=float(n),
            interval=(float(n), float(n)),
            interval_method="holds_everyone",
            wald_interval=(float(n), float(n)),
            notes=notes,
            **base,
        )
    for name, reason in dropped.items():
        notes.append({"code": "list_dropped", "list": name, "reason": reason})
    if len([x for x in ch0.lists if x not in dropped]) < 2:
        return MSEResult(
            ok=False,
            notes=notes,
            problem={"code": "fewer_than_two_informative", "dropped": dropped},
            **base,
        )
    for a, b in ch.non_overlapping_pairs():
        notes.append({"code": "no_overlap", "pair": f"{a}:{b}"})
    for name in ch.isolated_lists():
        notes.append({"code": "isolated_list", "list": name})
    if not ch.cells.overlaps(ch.counts).any():
        return MSEResult(ok=False, notes=notes, problem={"code": "no_overlap_at_all"}, **base)
    return None


def _select_model(
    ch: CaptureHistories, selection: str, pthresh: float, pairs
) -> tuple[Spec, ExistenceCache, Selection]:
    """Choose the model (the fixed one, or by ``selection``); returns its spec, the existence
    cache (the bootstrap reuses it) and the selection."""
    spec = Spec(
        method=selection,
        pthresh=pthresh,
        pairs=_parse_pairs(pairs, ch.lists, ch.cells) if selection == "fixed" else (),
    )
    cache = ExistenceCache()
    sel = select(ch.cells, ch.counts, spec, cache, names=list(ch.lists))
    return spec, cache, sel


def _bootstrap_spec(
    spec: Spec, sel: Selection, final: Design, *, reselect: bool, top_models: int
) -> Spec:
    """What each bootstrap replicate fits: the chosen model as it is (``reselect=False``),
    the best ``top_models`` of an AIC/BIC ranking, or the same stepwise selection again."""
    if not reselect:
        return Spec(method="fixed", pairs=final.pair_idx)
    if spec.method in ("aic", "bic"):
        ranked = [r["pairs"] for r in sel.path][: max(1, top_models)]
        return Spec(method=spec.method, candidates=tuple(ranked))
    return spec


def _point_estimate(
    ch: CaptureHistories, fit: Fit, level: float, notes: list[dict], base: dict
) -> tuple[MSEResult, Design]:
    """The selected model's estimate with its Wald interval (conditional on the model), from
    the statsmodels refit; returns the result (no interval yet) and the final design."""
    cells, counts = ch.cells, ch.counts
    final = build_design(cells, fit.design.pair_idx, cells.overlaps(counts))
    glm = _statsmodels_check(final, counts, fit, notes)
    names = list(ch.lists)
    terms = [f"{names[cells.pairs[k][0]]}:{names[cells.pairs[k][1]]}" for k in final.pair_idx]
    infinite = [f"{names[cells.pairs[k][0]]}:{names[cells.pairs[k][1]]}" for k in final.empty_idx]
    beta0, se0 = float(glm.params[0]), float(glm.bse[0])
    dark = float(np.exp(beta0))
    z = norm.ppf(0.5 + level / 2)
    wald = (
        ch.n_observed + float(np.exp(beta0 - z * se0)),
        ch.n_observed + float(np.exp(beta0 + z * se0)),
    )
    res = MSEResult(
        ok=True,
        model_terms=terms,
        infinite_terms=infinite,
        dark=dark,
        total=ch.n_observed + dark,
        wald_interval=wald,
        notes=notes,
        fit=fit,
        glm=glm,
        **base,
    )
    return res, final


def _bootstrap_interval(
    res: MSEResult,
    ch: CaptureHistories,
    boot_spec: Spec,
    cache: ExistenceCache,
    *,
    n_boot: int,
    kind: str,
    seed: int | None,
    interval: str,
) -> None:
    """Set ``res``'s interval from ``n_boot`` bootstrap replicates (BCa or percentile), or
    the Wald interval, with a note, when too few replicates are usable."""
    b = boot.run_bootstrap(
        ch.cells, ch.counts, res.fit, boot_spec, n_boot=n_boot, kind=kind, seed=seed, cache=cache
    )
    res.bootstrap = b
    notes = res.notes
    finite = b.usable  # unbounded replicates (+inf) count: they make the interval unbounded
    if b.n_failed:
        notes.append({"code": "bootstrap_failures", "failed": b.n_failed, "of": n_boot})
    if b.n_infinite:
        notes.append({"code": "bootstrap_infinite", "infinite": b.n_infinite, "of": n_boot})
    if len(finite) < max(20, n_boot // 2):
        notes.append({"code": "bootstrap_unreliable", "finite": len(finite)})
        res.interval, res.interval_method = res.wald_interval, "wald"
    elif interval == "bca":
        jack, weights = boot.jackknife(ch.cells, ch.counts, boot_spec, cache)
        a = boot.acceleration(jack, weights)
        lo, hi, z0 = boot.bca_interval(finite, res.total, a, res.level)
        res.interval, res.interval_method = (lo, hi), "bca"
        res.acceleration, res.bias_z0 = a, z0
    else:
        res.interval, res.interval_method = (
            boot.percentile_interval(finite, res.level),
            "percentile",
        )


def _extrapolation_notes(res: MSEResult, n_observed: int) -> None:
    """Flag, never pass silently, a dark figure or an interval far beyond the observed."""
    if res.dark > EXTRAPOLATION_WARNING * n_observed:
        res.notes.append({"code": "extreme_extrapolation", "ratio": res.dark / n_observed})
    if res.interval and res.interval[1] > EXTRAPOLATION_WARNING * n_observed:
        res.notes.append({"code": "interval_unbounded", "upper": res.interval[1]})


def _statsmodels_check(design, counts, fit: Fit, notes: list[dict]):
    """Refit the chosen model with statsmodels (what is reported) and compare with numpy."""
    from .models import statsmodels_fit

    glm = statsmodels_fit(design, counts)
    if not np.allclose(glm.params, fit.beta, rtol=1e-5, atol=1e-6):
        notes.append(
            {
                "code": "solver_disagreement",
                "max_diff": float(np.max(np.abs(glm.params - fit.beta))),
            }
        )
    if not glm.converged:
        notes.append({"code": "not_converged"})
    return glm


def _explain_failure(ch: CaptureHistories, spec: Spec, ex: Existence | None) -> dict:
    """Why no model could be fitted: the main-effects model (or the fixed one) fails."""
    cells = ch.cells
    pairs = spec.pairs if spec.method == "fixed" else ()
    design = build_design(cells, pairs, cells.overlaps(ch.counts))
    full = check_existence(design, ch.counts, explain=True)
    forced = ["".join(str(v) for v in cells.histories[k]) for k in full.forced_zero]
    return {
        "code": "mle_does_not_exist" if not full.exists else "not_identifiable",
        "model": "fixed" if pairs else "main effects",
        "forced_zero_histories": forced,
        "rank_deficiency": full.rank_deficiency,
    }


# --------------------------------------------------------------------------------------
# strata
# --------------------------------------------------------------------------------------
def macrozone(region_code: pd.Series) -> pd.Series:
    """Macro-zone of each region code (null stays null), as in :data:`.analysis.MACRO_ZONES`."""
    lookup = {code: zone for zone, codes in MACRO_ZONES.items() for code in codes}
    return region_code.map(lookup)


def person_strata(records: pd.DataFrame, by: str, key_col: str = "person_key") -> pd.Series:
    """One stratum per person: the value most of their linked records give (ties: first in
    sorted order), so that a person recorded differently by two institutions is not split
    into two people. Persons with no value get null."""
    linked = records.loc[records[key_col].notna() & records[by].notna(), [key_col, by]]
    if linked.empty:
        return pd.Series(dtype=object)
    counts = linked.value_counts().rename("n").reset_index()
    counts = counts.sort_values(["n", by], ascending=[False, True], kind="stable")
    return counts.drop_duplicates(key_col).set_index(key_col)[by]


def estimate_by_stratum(
    records: pd.DataFrame,
    by: str,
    *,
    min_observed: int = 50,
    order=None,
    list_col: str = "institution",
    key_col: str = "person_key",
    **kwargs,
) -> tuple[pd.DataFrame, dict]:
    """Estimate separately in each stratum of ``by`` (a records column, e.g. ``sex``).

    A stratum is estimated only where the data support it: at least ``min_observed`` linked
    persons, two informative lists and an estimable model; otherwise its row says why.
    Linked persons with no value for ``by`` get a last row (stratum None, ``no_value``), so
    that nobody silently drops out. ``order`` fixes the order of the strata (others follow,
    sorted). Returns (one row per stratum, {stratum: MSEResult}).
    """
    if by not in records.columns:
        raise MSEInputError(f"records: no {by!r} column to stratify by")
    strata = person_strata(records, by, key_col)
    keyed = records[records[key_col].notna()]
    stratum_of_record = keyed[key_col].map(strata)
    present = set(strata.dropna().unique())
    values = [v for v in (order or []) if v in present]
    values += sorted(present - set(values))
    rows, results = [], {}
    for value in values:
        sub = keyed[stratum_of_record == value]
        if sub[list_col].nunique() < 2:
            rows.append(
                {
                    "stratum": value,
                    "observed": sub[key_col].nunique(),
                    "ok": False,
                    "problem": "fewer_than_two_lists",
                }
            )
            continue
        ch = capture_histories_from_records(
            sub, list_col=list_col, key_col=key_col, source=f"stratum {by}={value}"
        )
        basis = informative(ch)[0]  # the persons the estimate would rest on
        if basis.n_observed < min_observed:
            rows.append(
                {
                    "stratum": value,
                    "observed": basis.n_observed,
                    "ok": False,
                    "problem": "too_few_persons",
                }
            )
            continue
        res = estimate(ch, **kwargs)
        results[value] = res
        rows.append({"stratum": value, **res.as_row()})
    missing = keyed.loc[stratum_of_record.isna(), key_col].nunique()
    if missing:
        rows.append({"stratum": None, "observed": int(missing), "ok": False, "problem": "no_value"})
    return pd.DataFrame(rows), results
