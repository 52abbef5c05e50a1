"""Bootstrap intervals: reproducibility, the grouped jackknife, BCa, coverage on known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from datajusta_lib.mse import bootstrap as boot
from datajusta_lib.mse import estimator as mse
from datajusta_lib.mse.data import simulate
from datajusta_lib.mse.models import ExistenceCache
from datajusta_lib.mse.select import Spec, total_or_nan

KOREA = {"001": 41, "010": 5, "100": 5, "110": 54, "101": 6, "111": 12}


@pytest.fixture(scope="module")
def uk5(reference_dir) -> pd.DataFrame:
    return pd.read_csv(reference_dir / "uk_modern_slavery_2013_five_lists.csv")


def test_seeded_bootstrap_is_reproducible(uk5):
    a = mse.estimate(uk5, n_boot=50, seed=3)
    b = mse.estimate(uk5, n_boot=50, seed=3)
    c = mse.estimate(uk5, n_boot=50, seed=4)
    np.testing.assert_array_equal(a.bootstrap.replicates, b.bootstrap.replicates)
    assert a.interval == b.interval
    assert not np.array_equal(a.bootstrap.replicates, c.bootstrap.replicates)


def test_resampling_schemes():
    ch = mse.capture_histories(KOREA)
    fit = mse.estimate(ch, selection="main", n_boot=0).fit
    rng = np.random.default_rng(0)
    nonpar = boot.resample(ch.counts, fit, "nonparametric", 400, rng)
    assert (nonpar.sum(axis=1) == ch.n_observed).all()  # n persons redrawn
    assert (nonpar[:, ch.counts == 0] == 0).all()  # only observed histories
    par = boot.resample(ch.counts, fit, "parametric", 4000, rng)
    np.testing.assert_allclose(par.mean(axis=0), fit.mu, rtol=0.05, atol=0.3)


def test_grouped_jackknife_equals_deleting_each_person():
    ch = mse.capture_histories(KOREA)
    spec = Spec("stepwise")
    cache = ExistenceCache()
    values, weights = boot.jackknife(ch.cells, ch.counts, spec, cache)
    per_person = []
    for k in np.flatnonzero(ch.counts):
        for _ in range(ch.counts[k]):
            reduced = ch.counts.copy()
            reduced[k] -= 1
            per_person.append(total_or_nan(ch.cells, reduced, spec, cache))
    per_person = np.array(per_person)
    assert weights.sum() == len(per_person) == ch.n_observed
    np.testing.assert_allclose(np.repeat(values, weights.astype(int)), per_person)
    # the acceleration from grouped values equals the textbook one over persons
    resid = per_person.mean() - per_person
    textbook = np.sum(resid**3) / (6 * np.sum(resid**2) ** 1.5)
    assert boot.acceleration(values, weights) == pytest.approx(textbook, rel=1e-10)


def test_bca_reduces_to_percentile_without_bias_or_acceleration():
    reps = np.random.default_rng(5).normal(100, 10, 1000)
    middle = float(np.mean(np.sort(reps)[499:501]))  # exactly half the replicates below
    lo, hi, z0 = boot.bca_interval(reps, middle, 0.0, 0.9)
    assert z0 == 0.0
    assert (lo, hi) == pytest.approx(boot.percentile_interval(reps, 0.9), rel=1e-12)


def test_bca_shifts_with_bias_as_the_formula_says():
    reps = np.arange(1.0, 1001.0)
    estimate = np.quantile(reps, 0.3)  # 30 % of replicates below: z0 = Φ⁻¹(0.3)
    lo, hi, z0 = boot.bca_interval(reps, estimate, 0.05, 0.95)
    assert z0 == pytest.approx(norm.ppf(0.3), abs=0.002)
    za = norm.ppf([0.025, 0.975])
    p = norm.cdf(z0 + (z0 + za) / (1 - 0.05 * (z0 + za)))
    expected = np.quantile(reps, p, method="median_unbiased")
    assert (lo, hi) == pytest.approx(tuple(expected))


def test_fixed_model_bootstrap_does_not_reselect(uk5):
    res = mse.estimate(uk5, n_boot=30, seed=1, reselect=False, bootstrap="parametric")
    assert res.bootstrap.reselect is False and res.bootstrap.kind == "parametric"
    assert res.interval[0] < res.total < res.interval[1]
    step = mse.estimate(uk5, n_boot=30, seed=1)
    assert step.bootstrap.reselect is True


def test_failed_replicates_are_counted_not_hidden():
    # two small lists with little overlap: some resamples lose every overlap
    # (issue 14, point 12): those have an unbounded estimate, counted as +inf, never dropped
    res = mse.estimate({"10": 30, "01": 25, "11": 1}, selection="main", n_boot=200, seed=2)
    assert res.bootstrap.n_infinite > 0
    note = {"code": "bootstrap_infinite", "infinite": res.bootstrap.n_infinite, "of": 200}
    assert note in res.notes
    assert res.interval[1] == float("inf")


def test_coverage_on_known_truth_with_independent_lists():
    """Synthetic truth (our own simulation, independent homogeneous lists, N = 1,500):
    the 95 % BCa interval of the main-effects model should cover N about 95 % of the time.
    With 60 draws, coverage below 0.85 would be a 4-standard-error failure."""
    rng = np.random.default_rng(20260401)
    covered = []
    for i in range(60):
        ch = simulate(1500, [0.15, 0.25, 0.2], rng)
        res = mse.estimate(ch, selection="main", n_boot=200, seed=i)
        covered.append(res.interval[0] <= 1500 <= res.interval[1])
    assert np.mean(covered) >= 0.85
