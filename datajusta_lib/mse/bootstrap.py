"""Bootstrap intervals for the estimated total: percentile and BCa.

Two ways to make replicate data sets:

* ``nonparametric`` (SparseMSE's ``estimatepopulation``, Chan, Silverman & Vincent 2019
  §3.3): resample the n observed persons with replacement, i.e. a multinomial draw of n over
  the observed capture-history cells;
* ``parametric``: draw every observable cell from Poisson(μ̂) of the selected model.

With ``reselect=True`` (the default, and the point of that paper) the whole model selection
is repeated on every replicate, so the interval carries the uncertainty of choosing the model;
with ``reselect=False`` the selected model is refitted. For AIC/BIC the re-selection is among
the models ranked best on the original data (``top_models``), as in Silverman, Chan & Vincent
(2024), which keeps 1,000 replicates to seconds.

BCa follows SparseMSE's ``bcaconfvalues``: bias correction z0 = Φ⁻¹(share of replicates below
the estimate), acceleration from a delete-one jackknife over observed persons — grouped by
capture-history cell, since deleting any of the n_ω persons in cell ω gives the same data —
and quantiles of type 8 (numpy's ``median_unbiased``), R's choice there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from .models import Cells, ExistenceCache, Fit
from .select import Spec, total_or_nan

KINDS = ("nonparametric", "parametric")


@dataclass
class Bootstrap:
    kind: str
    reselect: bool
    replicates: np.ndarray  # totals (NaN where no estimate existed, +inf where it is unbounded)
    seed: int | None

    @property
    def n_failed(self) -> int:
        return int(np.isnan(self.replicates).sum())

    @property
    def n_infinite(self) -> int:
        return int(np.isinf(self.replicates).sum())

    @property
    def finite(self) -> np.ndarray:
        return self.replicates[np.isfinite(self.replicates)]

    @property
    def usable(self) -> np.ndarray:
        """Replicates with an estimate, finite or unbounded (+inf): what the interval uses."""
        return self.replicates[~np.isnan(self.replicates)]


def resample(
    counts: np.ndarray, fit: Fit, kind: str, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """``n_boot`` replicate count vectors over the observable cells, shape (n_boot, m)."""
    if kind == "nonparametric":
        n = int(counts.sum())
        return rng.multinomial(n, counts / n, size=n_boot)
    if kind == "parametric":
        return rng.poisson(fit.mu, size=(n_boot, len(counts)))
    raise ValueError(f"bootstrap must be one of {KINDS}, got {kind!r}")


def run_bootstrap(
    cells: Cells,
    counts: np.ndarray,
    fit: Fit,
    spec: Spec,
    *,
    n_boot: int,
    kind: str = "nonparametric",
    seed: int | None = None,
    cache: ExistenceCache | None = None,
) -> Bootstrap:
    """Estimated totals of ``n_boot`` replicates, each by the procedure ``spec``."""
    rng = np.random.default_rng(seed)
    cache = cache if cache is not None else ExistenceCache()
    samples = resample(counts, fit, kind, n_boot, rng)
    totals = np.empty(n_boot)
    for b in range(n_boot):
        sample = samples[b]
        if sample.sum() > 0 and not cells.overlaps(sample).any():
            # No two lists share anybody: the estimate is unbounded, not missing. Dropping such
            # replicates would leave only the lucky ones and a falsely narrow interval.
            totals[b] = np.inf
            continue
        totals[b] = total_or_nan(cells, sample, spec, cache) if sample.sum() > 0 else np.nan
    return Bootstrap(
        kind=kind, reselect=spec.method not in ("fixed", "main"), replicates=totals, seed=seed
    )


def jackknife(
    cells: Cells, counts: np.ndarray, spec: Spec, cache: ExistenceCache | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Delete-one estimates, one per observed cell, with the cell counts as weights."""
    cache = cache if cache is not None else ExistenceCache()
    observed = np.flatnonzero(counts > 0)
    values = np.empty(len(observed))
    for i, k in enumerate(observed):
        reduced = counts.copy()
        reduced[k] -= 1
        values[i] = total_or_nan(cells, reduced, spec, cache) if reduced.sum() > 0 else np.nan
    return values, counts[observed].astype(float)


def acceleration(values: np.ndarray, weights: np.ndarray) -> float:
    """BCa acceleration from grouped jackknife values (SparseMSE's ``ahat``)."""
    ok = np.isfinite(values)
    v, w = values[ok], weights[ok]
    if len(v) < 2:
        return 0.0
    resid = np.sum(w * v) / np.sum(w) - v
    denom = 6.0 * np.sum(w * resid**2) ** 1.5
    return float(np.sum(w * resid**3) / denom) if denom > 0 else 0.0


def _quantiles(replicates: np.ndarray, probs) -> np.ndarray:
    """Type-8 quantiles where +inf replicates count as larger than any number: a quantile that
    reaches into them is +inf (an unbounded end of the interval)."""
    big = np.finfo(float).max / 4
    values = np.where(np.isinf(replicates), big, replicates)
    q = np.quantile(values, probs, method="median_unbiased")
    top = np.max(replicates[np.isfinite(replicates)], initial=-np.inf)
    return np.where(q > top, np.inf, q) if np.isinf(replicates).any() else q


def percentile_interval(replicates: np.ndarray, level: float) -> tuple[float, float]:
    alpha = (1.0 - level) / 2.0
    lo, hi = _quantiles(replicates, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def bca_interval(
    replicates: np.ndarray, estimate: float, accel: float, level: float
) -> tuple[float, float, float]:
    """(lower, upper, z0) of the BCa interval."""
    b = len(replicates)
    below = np.mean(replicates < estimate)
    below = min(max(below, 0.5 / b), 1.0 - 0.5 / b)  # keep z0 finite when all lie on one side
    z0 = float(norm.ppf(below))
    alpha = (1.0 - level) / 2.0
    za = norm.ppf([alpha, 1.0 - alpha])
    shifted = z0 + za
    probs = norm.cdf(z0 + shifted / (1.0 - accel * shifted))
    lo, hi = _quantiles(replicates, probs)
    return float(lo), float(hi), z0
