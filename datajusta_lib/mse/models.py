"""Log-linear Poisson models for capture histories: design, fitting, existence of the MLE.

The model (Chan, Silverman & Vincent 2019, §2): for every observable capture history ω
(a non-empty set of lists), the count N_ω ~ Poisson(μ_ω) with
``log μ_ω = α_0 + Σ_{i∈ω} α_i + Σ_{{i,j}⊆ω} α_ij`` over the two-list interactions in the
model. The unobservable all-zero history has mean exp(α_0): that is the "dark figure".

Two details follow SparseMSE (the R package of that paper) so that results are comparable:

* a pair of lists with no person in common ("non-overlapping") whose interaction is in the
  model has extended-MLE α_ij = −∞; the cells containing that pair are dropped from the fit
  rather than iterating towards −∞, and the parameter still counts in AIC/BIC;
* before a model is used its MLE is checked for existence (the linear-programming test of
  Fienberg & Rinaldo 2012 as used by SparseMSE's ``checkident``) and identifiability (rank of
  the design), because a non-existent MLE gives a silently absurd dark figure.

Fitting uses a small Newton/IRLS solver in numpy for the thousands of fits that model
selection and the bootstrap need; :func:`fit_model` can also return the statsmodels GLM of
the same model (tests check that the two agree).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import null_space
from scipy.optimize import linprog, nnls
from scipy.special import gammaln

Pair = tuple[int, int]


# --------------------------------------------------------------------------------------
# cells and design
# --------------------------------------------------------------------------------------
def all_histories(n_lists: int) -> np.ndarray:
    """Every observable capture history (no all-zero row), by number of lists then in order.

    Row order: histories on one list first (list 1, list 2, ...), then on two lists, etc.
    """
    rows = [h for h in itertools.product((1, 0), repeat=n_lists) if any(h)]
    rows.sort(key=lambda h: (sum(h), tuple(-v for v in h)))
    return np.array(rows, dtype=np.int8)


def all_pairs(n_lists: int) -> list[Pair]:
    return list(itertools.combinations(range(n_lists), 2))


@dataclass(frozen=True)
class Cells:
    """The observable cells of a t-list study with their pair indicators, built once."""

    histories: np.ndarray  # (m, t) 0/1
    pairs: tuple[Pair, ...]  # all t(t-1)/2 pairs, in order
    pair_cols: np.ndarray  # (m, n_pairs) 0/1: cell contains both lists of the pair

    @classmethod
    def for_lists(cls, n_lists: int) -> Cells:
        h = all_histories(n_lists)
        pairs = tuple(all_pairs(n_lists))
        cols = np.array([h[:, i] * h[:, j] for i, j in pairs], dtype=np.int8).T
        return cls(histories=h, pairs=pairs, pair_cols=cols.reshape(len(h), len(pairs)))

    @property
    def n_lists(self) -> int:
        return self.histories.shape[1]

    def overlaps(self, counts: np.ndarray) -> np.ndarray:
        """N*_ij: persons on both lists of each pair, whatever other lists they are on."""
        return self.pair_cols.T @ counts

    def support_key(self, counts: np.ndarray) -> bytes:
        """Which cells are positive: existence and identifiability depend on nothing else."""
        return np.packbits(counts > 0).tobytes()


@dataclass(frozen=True)
class Design:
    """Design matrix of one model on one support: retained cells and columns."""

    pair_idx: tuple[int, ...]  # model's pairs (indices into Cells.pairs), all of them
    empty_idx: tuple[int, ...]  # those with no overlap: α = −∞, cells dropped
    keep: np.ndarray  # (m,) bool: retained cells
    X: np.ndarray  # (keep.sum(), 1 + t + n_fitted_pairs)

    @property
    def n_params(self) -> int:
        """Parameters counted for AIC/BIC, including the −∞ ones (as SparseMSE does)."""
        return self.X.shape[1] + len(self.empty_idx)


def build_design(cells: Cells, pair_idx, overlaps: np.ndarray) -> Design:
    pair_idx = tuple(sorted(pair_idx))
    empty = tuple(k for k in pair_idx if overlaps[k] == 0)
    fitted = [k for k in pair_idx if overlaps[k] > 0]
    keep = np.ones(len(cells.histories), dtype=bool)
    for k in empty:
        keep &= cells.pair_cols[:, k] == 0
    X = np.column_stack(
        [np.ones(len(cells.histories)), cells.histories, cells.pair_cols[:, fitted]]
    ).astype(float)
    return Design(pair_idx=pair_idx, empty_idx=empty, keep=keep, X=X[keep])


# --------------------------------------------------------------------------------------
# existence and identifiability (Fienberg & Rinaldo 2012; Chan, Silverman & Vincent 2019)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Existence:
    exists: bool  # the (extended) MLE exists
    identifiable: bool  # the design has full column rank on the retained cells
    rank_deficiency: int = 0
    forced_zero: tuple[int, ...] = ()  # cells every solution must leave at 0 (if not exists)

    @property
    def ok(self) -> bool:
        return self.exists and self.identifiable

    @property
    def code(self) -> int:
        """SparseMSE's ``checkident`` code: 0 fine, 1 no MLE, 2 not identifiable, 3 both."""
        return int(not self.exists) + 2 * int(not self.identifiable)


def _lp_max_min_cell(A: np.ndarray, t: np.ndarray) -> float:
    """max s subject to A y = t, y ≥ s ≥ 0: positive iff t is in the relative interior."""
    p, m = A.shape
    c = np.zeros(m + 1)
    c[-1] = -1.0
    a_ub = np.hstack([-np.eye(m), np.ones((m, 1))])
    a_eq = np.hstack([A, np.zeros((p, 1))])
    res = linprog(
        c, A_ub=a_ub, b_ub=np.zeros(m), A_eq=a_eq, b_eq=t, bounds=(0, None), method="highs"
    )
    if res.status != 0:  # pragma: no cover - the LP is always feasible (y = counts)
        raise RuntimeError(f"existence linear program failed: {res.message}")
    return float(-res.fun)


def _forced_zero_cells(A: np.ndarray, t: np.ndarray) -> tuple[int, ...]:
    """Cells that are zero in every y ≥ 0 with A y = t (only computed to explain a failure)."""
    p, m = A.shape
    forced = []
    for k in range(m):
        c = np.zeros(m)
        c[k] = -1.0
        res = linprog(c, A_eq=A, b_eq=t, bounds=(0, None), method="highs")
        if res.status == 0 and -res.fun <= 1e-9 * max(1.0, float(t[0])):
            forced.append(k)
    return tuple(forced)


def _gordan_nonexistent(X: np.ndarray, zero: np.ndarray) -> bool | None:
    """Fast exact test on the null space; None when too close to call numerically.

    The MLE exists iff some direction d in the null space of Xᵀ (margins unchanged) is
    positive on every zero cell (then y + εd is a strictly positive point with the same
    sufficient statistics). By Gordan's alternative that fails iff some w ≥ 0, w ≠ 0, has
    Σ_k w_k N_k = 0 over the zero cells' rows N_k of an orthonormal null-space basis: a
    non-negative least-squares problem.
    """
    basis = null_space(X.T)
    if basis.shape[1] == 0:
        return True  # no freedom at all: zero cells stay zero
    rows = basis[zero]
    lhs = np.vstack([rows.T, np.ones(len(rows))])
    rhs = np.zeros(lhs.shape[0])
    rhs[-1] = 1.0
    _, resid = nnls(lhs, rhs)
    if resid < 1e-10:
        return True
    if resid > 1e-6:
        return False
    return None


def check_existence(
    design: Design, counts: np.ndarray, explain: bool = False, method: str = "auto"
) -> Existence:
    """Does the MLE of this model exist on these counts, and is it identifiable?

    ``method="lp"`` is the linear program of Fienberg & Rinaldo (2012) as in SparseMSE's
    ``checkident``: maximise s subject to Xᵀy' = Xᵀy, y' ≥ s ≥ 0; the MLE exists iff the
    optimum is positive. ``"nullspace"`` is the equivalent Gordan test above, about 30 times
    faster; ``"auto"`` uses it and falls back to the LP when it is numerically undecided.
    """
    y = counts[design.keep].astype(float)
    X = design.X
    deficiency = X.shape[1] - np.linalg.matrix_rank(X)
    zero = y <= 0
    if not zero.any():  # y itself is a strictly positive point with the same margins
        return Existence(exists=True, identifiable=deficiency == 0, rank_deficiency=int(deficiency))
    nonexistent = _gordan_nonexistent(X, zero) if method in ("auto", "nullspace") else None
    if nonexistent is None:
        A = X.T
        t = A @ y
        nonexistent = not _lp_max_min_cell(A, t) > 1e-9 * max(1.0, float(t[0]))
    forced: tuple[int, ...] = ()
    if nonexistent and explain:
        kept = np.flatnonzero(design.keep)
        forced = tuple(int(kept[k]) for k in _forced_zero_cells(X.T, X.T @ y))
    return Existence(
        exists=not nonexistent,
        identifiable=deficiency == 0,
        rank_deficiency=int(deficiency),
        forced_zero=forced,
    )


class ExistenceCache:
    """Memo of existence checks keyed by (support, model): exact, since nothing else matters."""

    def __init__(self) -> None:
        self._memo: dict[tuple[bytes, tuple[int, ...]], Existence] = {}
        self.lookups = 0
        self.misses = 0

    def check(self, cells: Cells, design: Design, counts: np.ndarray) -> Existence:
        self.lookups += 1
        key = (cells.support_key(counts), design.pair_idx)
        hit = self._memo.get(key)
        if hit is None:
            self.misses += 1
            hit = check_existence(design, counts)
            self._memo[key] = hit
        return hit


# --------------------------------------------------------------------------------------
# fitting
# --------------------------------------------------------------------------------------
@dataclass
class Fit:
    """A fitted model on one set of counts."""

    design: Design
    beta: np.ndarray
    mu: np.ndarray  # fitted means on all observable cells (0 where dropped)
    loglik: float
    deviance: float
    n_observed: int
    converged: bool
    iterations: int
    cov: np.ndarray | None = field(default=None, repr=False)

    @property
    def dark(self) -> float:
        """Estimated number recorded by no list: exp(α_0)."""
        return float(np.exp(self.beta[0]))

    @property
    def total(self) -> float:
        return self.n_observed + self.dark

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.design.n_params

    @property
    def bic(self) -> float:
        # as SparseMSE / MultipleSystemsEstimation: log of the number of observed persons
        return -2.0 * self.loglik + np.log(self.n_observed) * self.design.n_params

    @property
    def df_resid(self) -> int:
        return int(self.design.X.shape[0] - self.design.X.shape[1])

    def intercept_se(self) -> float:
        if self.cov is None:
            raise ValueError("fit without covariance")
        return float(np.sqrt(self.cov[0, 0]))


def _poisson_loglik(y: np.ndarray, mu: np.ndarray) -> float:
    pos = y > 0
    return float(y[pos] @ np.log(mu[pos]) - mu.sum() - gammaln(y + 1).sum())


def _deviance(y: np.ndarray, mu: np.ndarray) -> float:
    pos = y > 0
    return float(2.0 * (y[pos] @ np.log(y[pos] / mu[pos]) - (y.sum() - mu.sum())))


def irls(
    X: np.ndarray,
    y: np.ndarray,
    beta0: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """Newton–Raphson (= IRLS for the canonical log link) for a Poisson GLM.

    Returns (beta, XtWX, converged, iterations). Converged when the relative change in
    deviance is below ``tol`` (R's ``glm`` uses 1e-8); step-halving keeps the deviance from
    rising. Written for many tiny fits: a handful of small dense products per iteration.
    """
    pos = y > 0
    ypos = y[pos]
    ylogy = float(ypos @ np.log(ypos))
    ysum = float(y.sum())

    def deviance(mu):
        return 2.0 * (ylogy - float(ypos @ np.log(mu[pos])) - ysum + float(mu.sum()))

    if beta0 is None:
        beta = np.linalg.lstsq(X, np.log(y + 0.5), rcond=None)[0]
    else:
        beta = np.array(beta0, dtype=float)
    mu = np.exp(np.minimum(X @ beta, 700.0))
    dev = deviance(mu)
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        xtwx = X.T @ (X * mu[:, None])
        try:
            step = np.linalg.solve(xtwx, X.T @ (y - mu))
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(xtwx, X.T @ (y - mu), rcond=None)[0]
        for _ in range(30):
            new_beta = beta + step
            new_mu = np.exp(np.minimum(X @ new_beta, 700.0))
            new_dev = deviance(new_mu)
            if new_dev <= dev + 1e-12 * (abs(dev) + 1.0):  # False for NaN: halve the step
                break
            step = step / 2.0
        change = abs(dev - new_dev)
        beta, mu, dev = new_beta, new_mu, new_dev
        if change <= tol * (abs(dev) + 0.1):
            converged = True
            break
    return beta, X.T @ (X * mu[:, None]), converged, it


def fit_design(
    design: Design,
    counts: np.ndarray,
    beta0: np.ndarray | None = None,
    with_cov: bool = False,
) -> Fit:
    """Fit one model (its existence should have been checked) with the numpy solver."""
    y = counts[design.keep].astype(float)
    beta, xtwx, converged, it = irls(design.X, y, beta0=beta0)
    mu_kept = np.exp(design.X @ beta)
    mu = np.zeros(len(counts))
    mu[design.keep] = mu_kept
    cov = None
    if with_cov:
        try:
            cov = np.linalg.inv(xtwx)
        except np.linalg.LinAlgError:
            cov = np.linalg.pinv(xtwx)
    return Fit(
        design=design,
        beta=beta,
        mu=mu,
        loglik=_poisson_loglik(y, mu_kept),
        deviance=_deviance(y, mu_kept),
        n_observed=int(counts.sum()),
        converged=converged,
        iterations=it,
        cov=cov,
    )


def statsmodels_fit(design: Design, counts: np.ndarray):
    """The same model fitted by statsmodels' GLM (Poisson, log link), for reporting."""
    import warnings

    import statsmodels.api as sm

    y = counts[design.keep].astype(float)
    with warnings.catch_warnings():
        # a saturated model (no residual degrees of freedom) fits perfectly, which is legitimate
        # here; statsmodels warns about dividing by zero residual df and "perfect separation"
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", message=".*[Pp]erfect separation.*")
        return sm.GLM(y, design.X, family=sm.families.Poisson()).fit()
