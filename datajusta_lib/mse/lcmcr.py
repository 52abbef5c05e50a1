"""Bayesian non-parametric latent-class capture–recapture (LCMCR, Manrique-Vallier 2016).

The model (D. Manrique-Vallier, "Bayesian population size estimation using Dirichlet process
mixtures", *Biometrics* 72, 2016) lets capture probabilities differ between unobserved groups
of people ("latent classes"), which is what a log-linear model with pairwise interactions
cannot represent when some people are harder to see for every list at once::

    x_ij | z_i = k ~ Bernoulli(lambda_jk)             list j captures a person of class k
    z_i ~ Categorical(pi),  pi = stick-breaking(V),  V_k ~ Beta(1, alpha),  V_K = 1  (K = 10)
    alpha ~ Gamma(a_alpha = 0.25, b_alpha = 0.25),   lambda_jk ~ Beta(1, 1)
    p(N) ∝ 1/N  (the unobserved n0 is capped at 20 × observed, as the reference does)

Gibbs sampler, one sweep: class counts of the observed people per distinct capture pattern
(a multinomial per pattern, so the cost does not grow with the number of people), lambda,
the stick-breaking weights, the number n0 of people on no list (negative binomial given the
probability of being on no list), their classes, and alpha. This is the scheme of the
reference implementation (R package LCMCR 0.4.14), written here from the model; the inner
loop is compiled with numba. Several chains with independent numpy Generators (spawned from
one seed) start from dispersed values; R-hat and effective sample sizes (Vehtari et al. 2021,
:func:`split_rhat`, :func:`ess_bulk`) decide whether the chains agree. When they do not, the
result says so (``converged = False``) and carries no single number.

    res = estimate_lcmcr(ch, seed=1)          # or mse.estimate(data, method="lcmcr", seed=1)
    res.total, res.interval, res.rhat, res.ess_bulk, res.converged, res.chain_medians
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit
from scipy import stats

from ..core.i18n import check_lang, text
from ..core.style import thousands
from .data import CaptureHistories, MSEInputError, summary_row

__all__ = [
    "DEFAULTS",
    "LCMCRResult",
    "estimate_lcmcr",
    "ess_bulk",
    "ess_quantile",
    "ess_tail",
    "mcse_quantile",
    "sample_chains",
    "split_rhat",
]

#: the reference's priors (lcmCR: K, a_alpha, b_alpha) and our sampling defaults
DEFAULTS = {
    "K": 10,
    "a_alpha": 0.25,
    "b_alpha": 0.25,
    "chains": 4,
    "burnin": 20_000,
    "samples": 5_000,  # kept draws per chain
    "thinning": 40,
}
RHAT_MAX = 1.01  # Vehtari et al. (2021): use the draws only if R-hat < 1.01 ...
ESS_MIN_PER_CHAIN = 100  # ... and bulk and tail ESS above 100 per chain
WARMUP_FIXED_ALPHA = 500  # first sweeps with alpha fixed, as the reference's warm-up
N0_CAP = 20  # n0 ≤ 20 × observed (the reference rejects larger draws)
SMALL_COUNT = 4  # up to this many people: categorical draws instead of binomials


# --------------------------------------------------------------------------------------
# the sampler (compiled)
# --------------------------------------------------------------------------------------
@njit(cache=True)
def _log_gamma_draw(rng, shape):
    """log of a Gamma(shape, 1) draw, accurate for small shapes (no underflow to log 0)."""
    if shape >= 1.0:
        return math.log(rng.standard_gamma(shape))
    u = 1.0 - rng.random()  # in (0, 1]
    return math.log(rng.standard_gamma(shape + 1.0)) + math.log(u) / shape


@njit(cache=True)
def _log_add(a, b):
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


@njit(cache=True)
def _multinomial(rng, n, weights, order, out):
    """``out`` ← Multinomial(n, weights / sum(weights)).

    Small ``n``: one categorical draw per person. Otherwise sequential binomials over the
    classes in ``order`` (largest expected first), stopping when nobody is left, so that
    classes with negligible weight usually cost nothing."""
    K = weights.shape[0]
    for k in range(K):
        out[k] = 0
    if n == 0:
        return
    rest = 0.0
    for k in range(K):
        rest += weights[k]
    if n <= SMALL_COUNT:
        for _ in range(n):
            u = rng.random() * rest
            acc = 0.0
            chosen = order[K - 1]
            for i in range(K):
                k = order[i]
                acc += weights[k]
                if u < acc:
                    chosen = k
                    break
            out[chosen] += 1
        return
    left = n
    for i in range(K - 1):
        k = order[i]
        p = weights[k] / rest if rest > 0 else 1.0
        if p >= 1.0:
            out[k] = left
            return
        if p > 0.0:
            x = rng.binomial(left, p)
            out[k] = x
            left -= x
            if left == 0:
                return
        rest -= weights[k]
    out[order[K - 1]] = left


@njit(cache=True)
def _chain(rng, X, freq, K, a_alpha, b_alpha, lam_init, burnin, samples, thinning, warmup):
    """One chain. X: (P, J) 0/1 distinct observed patterns, freq: (P,) counts.
    Returns (N draws, alpha draws, occupied classes per draw).

    Each step of a sweep is its own compiled function (numba compiles them into this loop);
    they draw from ``rng`` in the same order as one loop would, so a seed gives the same chain.
    """
    P, J = X.shape
    n = 0
    for p in range(P):
        n += freq[p]
    log_l1 = np.empty((J, K))
    log_l0 = np.empty((J, K))
    for j in range(J):
        for k in range(K):
            log_l1[j, k] = math.log(lam_init[j, k])
            log_l0[j, k] = math.log1p(-lam_init[j, k])
    log_nu = _stick_breaking_start(rng, K)
    alpha = 0.3 / K
    n0 = 0
    count_z = np.zeros((P, K), dtype=np.int64)
    count0 = np.zeros(K, dtype=np.int64)
    nk = np.zeros(K, dtype=np.int64)
    s1 = np.zeros((J, K), dtype=np.int64)
    s0 = np.zeros((J, K), dtype=np.int64)
    w = np.empty(K)
    row = np.zeros(K, dtype=np.int64)
    out_N = np.empty(samples, dtype=np.int64)
    out_alpha = np.empty(samples)
    out_kstar = np.empty(samples, dtype=np.int64)
    total = burnin + samples * thinning
    kept = 0
    for it in range(total):
        # 1. classes of the observed, per distinct pattern (largest classes first)
        order = np.argsort(-log_nu)
        _draw_observed_classes(rng, X, freq, log_nu, log_l1, log_l0, order, w, row, count_z)
        # 2. lambda | classes (the unobserved n0 are on no list)
        _draw_lambda(rng, X, count_z, count0, s1, s0, log_l1, log_l0)
        # 3. stick-breaking weights | class sizes
        _draw_weights(rng, count_z, count0, n + n0, alpha, nk, log_nu)
        # 4. n0 | parameters; w becomes each class's probability of being on no list
        n0 = _draw_n0(rng, log_nu, log_l0, n, w)
        # 5. classes of the unobserved
        _multinomial(rng, n0, w, order, count0)
        # 6. alpha | V (fixed during the warm-up, as the reference)
        if it >= warmup:
            alpha = rng.standard_gamma(a_alpha + K - 1.0) / (b_alpha - log_nu[K - 1])
        if it >= burnin and (it - burnin) % thinning == thinning - 1:
            out_N[kept] = n + n0
            out_alpha[kept] = alpha
            ks = 0
            for k in range(K):
                if nk[k] > 0:
                    ks += 1
            out_kstar[kept] = ks
            kept += 1
    return out_N, out_alpha, out_kstar


@njit(cache=True)
def _stick_breaking_start(rng, K):
    """Log stick-breaking weights to start from, with V ~ Beta(1, 1)."""
    log_nu = np.empty(K)
    acc = 0.0
    for k in range(K - 1):
        g1 = _log_gamma_draw(rng, 1.0)
        g2 = _log_gamma_draw(rng, 1.0)
        s = _log_add(g1, g2)
        log_nu[k] = g1 - s + acc
        acc += g2 - s
    log_nu[K - 1] = acc
    return log_nu


@njit(cache=True)
def _draw_observed_classes(rng, X, freq, log_nu, log_l1, log_l0, order, w, row, count_z):
    """Step 1: ``count_z[p]`` ← how many people of pattern p are in each class."""
    P, J = X.shape
    K = log_nu.shape[0]
    for p in range(P):
        mx = -np.inf
        for k in range(K):
            lp = log_nu[k]
            for j in range(J):
                lp += log_l1[j, k] if X[p, j] == 1 else log_l0[j, k]
            w[k] = lp
            if lp > mx:
                mx = lp
        for k in range(K):
            w[k] = math.exp(w[k] - mx)
        _multinomial(rng, freq[p], w, order, row)
        for k in range(K):
            count_z[p, k] = row[k]


@njit(cache=True)
def _draw_lambda(rng, X, count_z, count0, s1, s0, log_l1, log_l0):
    """Step 2: log capture probabilities (``log_l1``) and their complements (``log_l0``) per
    list and class, given who is in which class; the unobserved are on no list."""
    P, J = X.shape
    K = count0.shape[0]
    for j in range(J):
        for k in range(K):
            s1[j, k] = 0
            s0[j, k] = count0[k]
    for p in range(P):
        for k in range(K):
            c = count_z[p, k]
            if c:
                for j in range(J):
                    if X[p, j] == 1:
                        s1[j, k] += c
                    else:
                        s0[j, k] += c
    for j in range(J):
        for k in range(K):
            a = _log_gamma_draw(rng, 1.0 + s1[j, k])
            b = _log_gamma_draw(rng, 1.0 + s0[j, k])
            c = _log_add(a, b)
            log_l1[j, k] = a - c
            log_l0[j, k] = b - c


@njit(cache=True)
def _draw_weights(rng, count_z, count0, N, alpha, nk, log_nu):
    """Step 3: log stick-breaking weights given the class sizes ``nk`` (which it fills in)
    of all ``N`` people, observed and not."""
    P, K = count_z.shape
    for k in range(K):
        nk[k] = count0[k]
        for p in range(P):
            nk[k] += count_z[p, k]
    acc = 0.0
    above = N
    for k in range(K - 1):
        above -= nk[k]
        g1 = _log_gamma_draw(rng, 1.0 + nk[k])
        g2 = _log_gamma_draw(rng, alpha + above)
        s = _log_add(g1, g2)
        log_nu[k] = g1 - s + acc
        acc += g2 - s
    log_nu[K - 1] = acc


@njit(cache=True)
def _draw_n0(rng, log_nu, log_l0, n, w):
    """Step 4: the number on no list, p(n0) ∝ C(n + n0 - 1, n0) p0^n0 (1 - p0)^n with the
    prior 1/N and n0 ≤ N0_CAP × n; ``w[k]`` ← P(class k and on no list)."""
    J, K = log_l0.shape
    p0 = 0.0
    for k in range(K):
        lp = log_nu[k]
        for j in range(J):
            lp += log_l0[j, k]
        w[k] = math.exp(lp)
        p0 += w[k]
    if p0 >= 1.0:
        p0 = 1.0 - 1e-12
    while True:  # negative binomial as a gamma–Poisson mixture
        lam = rng.standard_gamma(float(n)) * p0 / (1.0 - p0)
        n0 = rng.poisson(lam) if lam < 1e15 else N0_CAP * n + 1
        if n0 <= N0_CAP * n:
            return n0


def _patterns(ch: CaptureHistories) -> tuple[np.ndarray, np.ndarray]:
    h = np.asarray(ch.cells.histories, dtype=np.int64)
    c = np.asarray(ch.counts, dtype=np.int64)
    keep = (c > 0) & (h.sum(axis=1) > 0)
    return np.ascontiguousarray(h[keep]), np.ascontiguousarray(c[keep])


def sample_chains(
    X: np.ndarray,
    freq: np.ndarray,
    *,
    K: int = DEFAULTS["K"],
    a_alpha: float = DEFAULTS["a_alpha"],
    b_alpha: float = DEFAULTS["b_alpha"],
    chains: int = DEFAULTS["chains"],
    burnin: int = DEFAULTS["burnin"],
    samples: int = DEFAULTS["samples"],
    thinning: int = DEFAULTS["thinning"],
    seed: int | None = None,
) -> dict[str, np.ndarray]:
    """Run ``chains`` chains on distinct patterns ``X`` (P × J, 0/1) with counts ``freq``.

    Each chain has its own numpy Generator spawned from ``np.random.SeedSequence(seed)``, so a
    seed reproduces every chain exactly. Chains start from dispersed capture probabilities
    (the observed list proportions scaled by a random factor in [0.3, 1.3] per chain), so that
    R-hat can see chains that have not yet forgotten where they started.
    Returns arrays of shape (chains, samples): ``N``, ``alpha``, ``k_star``.
    """
    X = np.ascontiguousarray(X, dtype=np.int64)
    freq = np.ascontiguousarray(freq, dtype=np.int64)
    n = int(freq.sum())
    marg = (X * freq[:, None]).sum(axis=0) / n
    marg = np.clip(marg, 1e-3, 1 - 1e-3)
    seqs = np.random.SeedSequence(seed).spawn(chains)
    out = {"N": [], "alpha": [], "k_star": []}
    for ss in seqs:
        rng = np.random.default_rng(ss)
        scale = rng.uniform(0.3, 1.3)
        lam = np.clip(marg[:, None] * scale * rng.uniform(0.8, 1.2, (len(marg), K)), 1e-3, 0.999)
        N, al, ks = _chain(
            rng,
            X,
            freq,
            int(K),
            float(a_alpha),
            float(b_alpha),
            lam,
            int(burnin),
            int(samples),
            int(thinning),
            min(WARMUP_FIXED_ALPHA, int(burnin)),
        )
        out["N"].append(N)
        out["alpha"].append(al)
        out["k_star"].append(ks)
    return {k: np.vstack(v) for k, v in out.items()}


# --------------------------------------------------------------------------------------
# convergence diagnostics (Vehtari, Gelman, Simpson, Carpenter & Bürkner 2021)
# --------------------------------------------------------------------------------------
def _split(draws: np.ndarray) -> np.ndarray:
    draws = np.atleast_2d(np.asarray(draws, dtype=float))
    n = draws.shape[1] // 2
    return np.vstack([draws[:, :n], draws[:, draws.shape[1] - n :]])


def _rank_normal(draws: np.ndarray) -> np.ndarray:
    r = stats.rankdata(draws, method="average").reshape(draws.shape)
    return stats.norm.ppf((r - 0.375) / (draws.size + 0.25))


def _rhat_basic(chains: np.ndarray) -> float:
    m, n = chains.shape
    w = chains.var(axis=1, ddof=1).mean()
    b = n * chains.mean(axis=1).var(ddof=1)
    if w <= 0:
        return 1.0 if b <= 0 else float("inf")
    var_plus = (n - 1) / n * w + b / n
    return float(np.sqrt(var_plus / w))


def split_rhat(draws: np.ndarray) -> float:
    """Rank-normalised split R-hat (the larger of bulk and folded), chains × draws."""
    s = _split(draws)
    bulk = _rhat_basic(_rank_normal(s))
    folded = _rhat_basic(_rank_normal(np.abs(s - np.median(s))))
    return max(bulk, folded)


def _ess(chains: np.ndarray) -> float:
    """ESS of chains (m × n) from the combined autocorrelation, Geyer's initial monotone
    sequence (as Stan and ArviZ)."""
    m, n = chains.shape
    if n < 4:
        return float("nan")
    x = chains - chains.mean(axis=1, keepdims=True)
    size = 2 ** int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(x, size, axis=1)
    acov = np.fft.irfft(f * np.conj(f), size, axis=1)[:, :n] / n  # biased, per chain
    chain_var = acov[:, 0] * n / (n - 1)
    w = chain_var.mean()
    var_plus = w * (n - 1) / n
    if m > 1:
        var_plus += chains.mean(axis=1).var(ddof=1)
    if var_plus <= 0:
        return float("nan")
    rho = 1.0 - (w - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    # Geyer: sums of adjacent pairs while positive, made monotone
    pairs = rho[: (n // 2) * 2].reshape(-1, 2).sum(axis=1)
    stop = np.argmax(pairs <= 0) if (pairs <= 0).any() else len(pairs)
    pairs = np.minimum.accumulate(pairs[:stop]) if stop else pairs[:1]
    tau = -1.0 + 2.0 * pairs.sum()
    tau = max(tau, 1.0 / np.log10(m * n))
    return float(m * n / tau)


def ess_bulk(draws: np.ndarray) -> float:
    """Bulk effective sample size: ESS of the rank-normalised split chains."""
    return _ess(_rank_normal(_split(draws)))


def ess_quantile(draws: np.ndarray, prob: float) -> float:
    """ESS for the ``prob`` quantile: ESS of the indicator draws ≤ that quantile."""
    s = _split(draws)
    ind = (s <= np.quantile(s, prob)).astype(float)
    return _ess(ind)


def ess_tail(draws: np.ndarray) -> float:
    """Tail ESS: the smaller of the ESS of the 5 % and 95 % quantiles."""
    return min(ess_quantile(draws, 0.05), ess_quantile(draws, 0.95))


def mcse_quantile(draws: np.ndarray, prob: float) -> float:
    """Monte Carlo standard error of the ``prob`` quantile (Vehtari et al. 2021, sec. 4.3):
    the interval of the draws' order statistics that a Beta with the quantile's ESS gives
    ± 1 SD, halved."""
    d = np.sort(np.asarray(draws, dtype=float).ravel())
    s = d.size
    ess = ess_quantile(draws, prob)
    if not np.isfinite(ess):
        return float("nan")
    a = stats.beta.ppf(0.1586553, ess * prob + 1, ess * (1 - prob) + 1)
    b = stats.beta.ppf(0.8413447, ess * prob + 1, ess * (1 - prob) + 1)
    lo = d[min(s - 1, max(0, int(np.ceil(a * s)) - 1))]
    hi = d[min(s - 1, max(0, int(np.ceil(b * s)) - 1))]
    return float((hi - lo) / 2)


# --------------------------------------------------------------------------------------
# the estimate
# --------------------------------------------------------------------------------------
@dataclass
class LCMCRResult:
    """Posterior of the population size N, or the reason there is no single number.

    ``ok`` is ``converged``: chains agree (split R-hat < 1.01) and have enough effective draws
    (bulk and tail ESS ≥ 100 per chain). When ``ok`` is False, ``total``, ``dark`` and
    ``interval`` are None; the per-chain medians and the draws remain for inspection.
    """

    ok: bool
    converged: bool
    lists: tuple[str, ...]
    n_observed: int
    list_sizes: pd.Series
    draws: np.ndarray  # chains × kept draws of N
    settings: dict
    seed: int | None
    rhat: float
    ess_bulk: float
    ess_tail: float
    chain_medians: list[float]
    quantiles: dict[float, float] = field(default_factory=dict)  # pooled, all chains
    mcse: dict[float, float] = field(default_factory=dict)  # MCSE of those quantiles
    mean: float | None = None
    total: float | None = None  # posterior median of N (only when converged)
    dark: float | None = None  # total − observed
    interval: tuple[float, float] | None = None  # equal-tailed credible interval
    level: float = 0.95
    method: str = "lcmcr"
    interval_method: str = "posterior"
    seconds: float = float("nan")
    alpha_draws: np.ndarray | None = field(default=None, repr=False)
    notes: list[dict] = field(default_factory=list)
    problem: dict | None = None
    model_terms: list[str] = field(default_factory=list)  # for MSEResult-like callers

    @property
    def trace(self) -> pd.DataFrame:
        """Long table of the N draws: chain, draw, N."""
        c, d = self.draws.shape
        return pd.DataFrame(
            {
                "chain": np.repeat(np.arange(c), d),
                "draw": np.tile(np.arange(d), c),
                "N": self.draws.ravel(),
            }
        )

    def as_row(self) -> dict:
        row = summary_row(self, f"latent classes (K = {self.settings['K']})")
        return {**row, "rhat": self.rhat, "ess_bulk": self.ess_bulk}


def estimate_lcmcr(
    ch: CaptureHistories,
    *,
    seed: int | None = None,
    level: float = 0.95,
    K: int = DEFAULTS["K"],
    a_alpha: float = DEFAULTS["a_alpha"],
    b_alpha: float = DEFAULTS["b_alpha"],
    chains: int = DEFAULTS["chains"],
    burnin: int = DEFAULTS["burnin"],
    samples: int = DEFAULTS["samples"],
    thinning: int = DEFAULTS["thinning"],
) -> LCMCRResult:
    """Posterior of the population size under the latent-class model, with diagnostics."""
    import time

    _check_settings(level, K, a_alpha, b_alpha, chains, burnin, samples, thinning)
    X, freq = _patterns(ch)
    if len(ch.lists) < 2 or freq.sum() == 0:
        raise MSEInputError("lcmcr: needs at least two lists and one observed person")
    settings = {
        "K": int(K),
        "a_alpha": float(a_alpha),
        "b_alpha": float(b_alpha),
        "chains": int(chains),
        "burnin": int(burnin),
        "samples": int(samples),
        "thinning": int(thinning),
    }
    t0 = time.perf_counter()
    out = sample_chains(
        X,
        freq,
        seed=seed,
        **{k: v for k, v in settings.items()},
    )
    seconds = time.perf_counter() - t0
    draws = out["N"]
    tail = round((1 - level) / 2, 10)
    probs = (tail, 0.5, 1 - tail)
    rhat = split_rhat(draws)
    eb, et = ess_bulk(draws), ess_tail(draws)
    need = ESS_MIN_PER_CHAIN * chains
    converged = bool(np.isfinite(rhat) and rhat < RHAT_MAX and eb >= need and et >= need)
    res = LCMCRResult(
        ok=converged,
        converged=converged,
        lists=tuple(ch.lists),
        n_observed=int(freq.sum()),
        list_sizes=ch.list_sizes(),
        draws=draws,
        settings=settings,
        seed=seed,
        rhat=rhat,
        ess_bulk=eb,
        ess_tail=et,
        chain_medians=[float(np.median(c)) for c in draws],
        quantiles={p: float(np.quantile(draws, p)) for p in probs},
        mcse={p: mcse_quantile(draws, p) for p in probs},
        mean=float(draws.mean()),
        level=level,
        seconds=seconds,
        alpha_draws=out["alpha"],
        notes=[dict(x) for x in ch.notes],
    )
    _conclude(res, tail, need)
    return res


def _check_settings(level, K, a_alpha, b_alpha, chains, burnin, samples, thinning) -> None:
    """Refuse settings the sampler cannot run with, naming the setting."""
    if not 0 < level < 1:
        raise MSEInputError(f"level must be between 0 and 1, got {level}")
    for name, v, low in (
        ("K", K, 2),
        ("chains", chains, 2),
        ("samples", samples, 4),
        ("thinning", thinning, 1),
        ("burnin", burnin, 0),
    ):
        if int(v) != v or v < low:
            raise MSEInputError(f"lcmcr: {name} must be an integer ≥ {low}, got {v!r}")
    if a_alpha <= 0 or b_alpha <= 0:
        raise MSEInputError(f"lcmcr: a_alpha and b_alpha must be > 0, got {a_alpha}, {b_alpha}")


def _conclude(res: LCMCRResult, tail: float, need: int) -> None:
    """Converged chains give the median and the equal-tailed interval (``tail`` in each
    tail); otherwise the result says why there is no number (``need``: the ESS required)."""
    q, n = res.quantiles, res.n_observed
    if res.converged:
        res.total = q[0.5]
        res.dark = q[0.5] - n
        res.interval = (q[tail], q[1 - tail])
        if (res.draws >= N0_CAP * n + n).mean() > 0.01:
            res.notes.append({"code": "n0_cap_reached", "cap": N0_CAP * n})
    else:
        res.problem = {
            "code": "not_converged",
            "rhat": res.rhat,
            "ess_bulk": res.ess_bulk,
            "ess_tail": res.ess_tail,
            "needed_ess": need,
            "chain_medians": res.chain_medians,
        }


def _decimals(x: float, digits: int, lang: str) -> str:
    s = f"{x:.{digits}f}"
    return s.replace(".", ",") if lang == "es" else s


def describe(res: LCMCRResult, lang: str = "es") -> str:
    """One paragraph in ``lang`` (es/en) stating the estimate or why there is none
    (texts in ``data/i18n/mse.yaml``, numbers written as the language writes them)."""
    check_lang(lang)
    rhat, ess = _decimals(res.rhat, 3, lang), thousands(res.ess_bulk, lang)
    if not res.ok:
        meds = "; ".join(thousands(m, lang) for m in res.chain_medians)
        return text("lcmcr_not_converged", lang, rhat=rhat, ess=ess, meds=meds)
    return text(
        "lcmcr_ok",
        lang,
        K=res.settings["K"],
        lo=thousands(res.interval[0], lang),
        hi=thousands(res.interval[1], lang),
        level=round(100 * res.level),
        total=thousands(res.total, lang),
        n=thousands(res.n_observed, lang),
        chains=res.settings["chains"],
        rhat=rhat,
        ess=ess,
    )
