"""Model selection for multiple systems estimation: stepwise p-values, AIC, BIC, fixed.

* ``stepwise`` is the forward procedure of Chan, Silverman & Vincent (2019, §3.2) as coded
  in SparseMSE's ``stepwisefit``: start from main effects; for each two-list interaction not
  yet in the model, compare the number of persons on both lists (N*_ij) with its Poisson
  distribution under the current fit; add the interaction with the smallest one-sided p-value
  if it is below ``pthresh`` and the enlarged model passes the existence and identifiability
  checks; stop otherwise. SparseMSE's default threshold, and the paper's recommendation, is
  0.02. Ties (p-values that underflow to 0) go to the lowest-numbered pair, as in SparseMSE.
* ``aic`` / ``bic``: every model with main effects and a subset of the two-list interactions
  whose MLE exists and is identifiable, the one with the smallest criterion; exhaustive up to
  five lists (1,024 models), greedy forward search beyond.
* ``main``: main effects only (independent lists); ``fixed``: interactions given by the user.

Every candidate is vetted with :func:`evaluate_model`: the existence and identifiability
checks of :mod:`.models` first (memoised on the support of the counts), then the fit.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy.special import pdtr, pdtrc

from .models import Cells, Existence, ExistenceCache, Fit, build_design, fit_design

METHODS = ("stepwise", "aic", "bic", "main", "fixed")
DEFAULT_PTHRESH = 0.02  # SparseMSE's default; Chan, Silverman & Vincent (2019) recommend it
EXHAUSTIVE_MAX_PAIRS = 10  # five lists: 2**10 = 1,024 models


@dataclass(frozen=True)
class Spec:
    """How to choose the model: method plus its settings (hashable, reused by the bootstrap)."""

    method: str = "stepwise"
    pthresh: float = DEFAULT_PTHRESH
    pairs: tuple[int, ...] = ()  # for "fixed"
    candidates: tuple[tuple[int, ...], ...] | None = None  # restrict aic/bic to these models

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"selection must be one of {METHODS}, got {self.method!r}")
        if not 0 <= self.pthresh <= 1:
            raise ValueError(f"pthresh must be between 0 and 1, got {self.pthresh}")


@dataclass
class Selection:
    """The chosen model and how it was reached."""

    spec: Spec
    fit: Fit | None  # None when no model could be estimated
    existence: Existence | None  # of the chosen (or, if none, of the main-effects) model
    path: list[dict] = field(default_factory=list)  # one row per accepted step / ranked model
    skipped: list[dict] = field(default_factory=list)  # candidates refused by the checks
    n_models: int = 0  # models fitted


def evaluate_model(
    cells: Cells,
    counts: np.ndarray,
    overlaps: np.ndarray,
    pair_idx,
    cache: ExistenceCache,
    beta0: np.ndarray | None = None,
    with_cov: bool = False,
) -> tuple[Existence, Fit | None]:
    """Check and fit one model. Returns (existence, fit or None if it cannot be estimated)."""
    design = build_design(cells, pair_idx, overlaps)
    ex = cache.check(cells, design, counts)
    if not ex.ok:
        return ex, None
    if beta0 is not None and len(beta0) != design.X.shape[1]:
        beta0 = None
    fit = fit_design(design, counts, beta0=beta0, with_cov=with_cov)
    if not fit.converged and beta0 is not None:  # a poor warm start: start afresh
        fit = fit_design(design, counts, with_cov=with_cov)
    return ex, fit


def _pair_name(cells: Cells, names, k: int) -> str:
    i, j = cells.pairs[k]
    return f"{names[i]}:{names[j]}"


def _pvalues(nstar: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """min(P(X ≤ n*), P(X ≥ n*)) for X ~ Poisson(λ*): SparseMSE's ``stepwisefit`` p-value."""
    lower = pdtr(nstar, lam)
    upper = np.where(nstar > 0, pdtrc(np.maximum(nstar - 1, 0), lam), 1.0)
    return np.minimum(lower, upper)


def select_stepwise(cells, counts, overlaps, spec: Spec, cache, names=None, record=True):
    names = names or [str(i) for i in range(cells.n_lists)]
    ex, fit = evaluate_model(cells, counts, overlaps, (), cache)
    sel = Selection(spec=spec, fit=fit, existence=ex, n_models=1)
    if fit is None:
        return sel
    if record:
        sel.path.append(
            {
                "step": 0,
                "added": None,
                "p_value": None,
                "dark": fit.dark,
                "total": fit.total,
                "aic": fit.aic,
                "bic": fit.bic,
            }
        )
    if spec.pthresh <= 0:
        return sel
    included: list[int] = []
    n_pairs = len(cells.pairs)
    for step in range(1, n_pairs + 1):
        lam = cells.pair_cols.T @ fit.mu
        pval = _pvalues(overlaps, lam)
        pval[included] = 1.0
        order = sorted(range(n_pairs), key=lambda k: (pval[k], k))  # ties: lowest index
        chosen = None
        for k in order:
            if k in included or pval[k] >= spec.pthresh:
                break
            beta0 = (
                _reorder_beta(cells, overlaps, included, k, fit.beta)
                if overlaps[k] > 0
                else fit.beta
            )
            ex_k, fit_k = evaluate_model(cells, counts, overlaps, (*included, k), cache, beta0)
            sel.n_models += 1
            if fit_k is None:
                if record:
                    sel.skipped.append(
                        {
                            "step": step,
                            "term": _pair_name(cells, names, k),
                            "p_value": float(pval[k]),
                            "reason": "not_identifiable"
                            if not ex_k.identifiable
                            else "mle_does_not_exist",
                        }
                    )
                continue
            chosen = (k, ex_k, fit_k)
            break
        if chosen is None:
            break
        k, ex, fit = chosen
        included.append(k)
        sel.fit, sel.existence = fit, ex
        if record:
            sel.path.append(
                {
                    "step": step,
                    "added": _pair_name(cells, names, k),
                    "p_value": float(pval[k]),
                    "dark": fit.dark,
                    "total": fit.total,
                    "aic": fit.aic,
                    "bic": fit.bic,
                }
            )
    return sel


def _reorder_beta(cells, overlaps, included, k, beta):
    """Warm start for the model with pair k added: new coefficient 0 in its column."""
    fitted_before = sorted(i for i in included if overlaps[i] > 0)
    fitted_after = sorted([*fitted_before, k])
    t = cells.n_lists
    head = beta[: 1 + t]
    old = dict(zip(fitted_before, beta[1 + t :], strict=True))
    return np.concatenate([head, [old.get(i, 0.0) for i in fitted_after]])


def _criterion(fit: Fit, method: str) -> float:
    return fit.aic if method == "aic" else fit.bic


def all_models(n_pairs: int):
    for r in range(n_pairs + 1):
        yield from itertools.combinations(range(n_pairs), r)


def select_criterion(cells, counts, overlaps, spec: Spec, cache, names=None, record=True):
    names = names or [str(i) for i in range(cells.n_lists)]
    ex0, main = evaluate_model(cells, counts, overlaps, (), cache)
    sel = Selection(spec=spec, fit=main, existence=ex0, n_models=1)
    if main is None:
        return sel
    n_pairs = len(cells.pairs)

    def warm(model):
        fitted = [k for k in model if overlaps[k] > 0]
        return np.concatenate([main.beta, np.zeros(len(fitted))])

    scored: list[tuple[float, int, tuple[int, ...], Fit, Existence]] = []
    if spec.candidates is not None or n_pairs <= EXHAUSTIVE_MAX_PAIRS:
        models = spec.candidates if spec.candidates is not None else all_models(n_pairs)
        for model in models:
            ex, fit = (
                (ex0, main)
                if model == ()
                else evaluate_model(cells, counts, overlaps, model, cache, beta0=warm(model))
            )
            sel.n_models += 1
            if fit is None:
                if record:
                    sel.skipped.append(
                        {
                            "model": _model_name(cells, names, model),
                            "reason": "not_identifiable"
                            if not ex.identifiable
                            else "mle_does_not_exist",
                        }
                    )
                continue
            scored.append((_criterion(fit, spec.method), len(model), model, fit, ex))
    else:  # greedy forward search on the criterion
        current, best = (), (_criterion(main, spec.method), 0, (), main, ex0)
        scored.append(best)
        while True:
            improved = None
            for k in range(n_pairs):
                if k in current:
                    continue
                model = tuple(sorted((*current, k)))
                ex, fit = evaluate_model(cells, counts, overlaps, model, cache, beta0=warm(model))
                sel.n_models += 1
                if fit is None:
                    continue
                cand = (_criterion(fit, spec.method), len(model), model, fit, ex)
                scored.append(cand)
                if cand[0] < best[0] and (improved is None or cand[0] < improved[0]):
                    improved = cand
            if improved is None:
                break
            best, current = improved, improved[2]
    if not scored:  # pragma: no cover - main effects always scored when it exists
        return sel
    scored.sort(key=lambda s: (s[0], s[1]))
    _, _, model, fit, ex = scored[0]
    sel.fit, sel.existence = fit, ex
    if record:
        sel.path = [
            {
                "rank": r + 1,
                "model": _model_name(cells, names, m),
                "pairs": m,
                spec.method: c,
                "dark": f.dark,
                "total": f.total,
            }
            for r, (c, _, m, f, _) in enumerate(scored)
        ]
    return sel


def _model_name(cells, names, model) -> str:
    inter = [_pair_name(cells, names, k) for k in model]
    return " + ".join(inter) if inter else "main effects"


def select(
    cells: Cells,
    counts: np.ndarray,
    spec: Spec,
    cache: ExistenceCache | None = None,
    names=None,
    record=True,
) -> Selection:
    """Choose and fit the model by ``spec`` on these counts."""
    cache = cache if cache is not None else ExistenceCache()
    overlaps = cells.overlaps(counts)
    if spec.method == "stepwise":
        return select_stepwise(cells, counts, overlaps, spec, cache, names, record)
    if spec.method in ("aic", "bic"):
        return select_criterion(cells, counts, overlaps, spec, cache, names, record)
    pairs = () if spec.method == "main" else spec.pairs
    ex, fit = evaluate_model(cells, counts, overlaps, pairs, cache)
    sel = Selection(spec=spec, fit=fit, existence=ex, n_models=1)
    if fit is not None and record:
        sel.path.append(
            {
                "step": 0,
                "added": _model_name(cells, names or [str(i) for i in range(cells.n_lists)], pairs),
                "p_value": None,
                "dark": fit.dark,
                "total": fit.total,
                "aic": fit.aic,
                "bic": fit.bic,
            }
        )
    return sel


def total_or_nan(cells, counts, spec, cache) -> float:
    """The estimated total for bootstrap and jackknife replicates (NaN if none exists)."""
    sel = select(cells, counts, spec, cache, record=False)
    return sel.fit.total if sel.fit is not None else float("nan")
