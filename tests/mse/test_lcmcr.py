"""Bayesian latent-class MSE (LCMCR): diagnostics on known chains, agreement with the R
reference on three real data sets, reproducibility, and the "not converged" answer.

The reference posteriors (``data/reference/lcmcr_reference.csv``) come from LCMCR 0.4.14 in R
(K = 10, a_alpha = b_alpha = 0.25, burn-in 100,000, 10,000 draws thinned by 100), two seeds per
data set. A quantile of ours agrees when it lies within 3 combined Monte Carlo standard errors
of the mean of the two reference runs:

* ours: the MCSE of the quantile from the ESS of the indicator draws ≤ quantile (Vehtari et
  al. 2021, :func:`mse_lcmcr.mcse_quantile`) over all our chains;
* the reference's: |seed 11 − seed 12| / 2, the standard error of the mean of two independent
  runs estimated from their spread.

No R is needed: the numbers and the data are in the repository.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from datajusta_lib.cli import app
from datajusta_lib.mse import estimator as mse
from datajusta_lib.mse import lcmcr as lc

REF = "data/reference/"


# --------------------------------------------------------------------------------------
# diagnostics on chains whose answer is known
# --------------------------------------------------------------------------------------
def _ar1(rng, rho, chains, n):
    x = np.empty((chains, n))
    x[:, 0] = rng.standard_normal(chains)
    e = rng.standard_normal((chains, n)) * np.sqrt(1 - rho**2)
    for t in range(1, n):
        x[:, t] = rho * x[:, t - 1] + e[:, t]
    return x


def test_independent_draws_have_rhat_one_and_ess_equal_to_the_number_of_draws():
    draws = np.random.default_rng(7).standard_normal((4, 1000))
    assert lc.split_rhat(draws) < 1.01
    assert 3400 < lc.ess_bulk(draws) < 4600
    assert 3000 < lc.ess_tail(draws) < 5000


def test_ess_of_an_ar1_chain_matches_theory():
    rho = 0.8  # ESS = draws × (1 − ρ) / (1 + ρ)
    draws = _ar1(np.random.default_rng(3), rho, 4, 5000)
    theory = draws.size * (1 - rho) / (1 + rho)
    assert abs(lc.ess_bulk(draws) / theory - 1) < 0.2


def test_chains_that_disagree_have_large_rhat():
    draws = np.random.default_rng(5).standard_normal((4, 500))
    draws[0] += 3.0  # one chain stuck elsewhere
    assert lc.split_rhat(draws) > 1.1
    trend = np.tile(np.linspace(0, 5, 500), (4, 1)) + draws  # non-stationary within chains
    assert lc.split_rhat(trend) > 1.1


def test_mcse_of_the_median_matches_the_iid_formula():
    draws = np.random.default_rng(11).standard_normal((4, 2500))
    theory = np.sqrt(0.25 / draws.size) / 0.3989423  # sqrt(p(1-p)/n) / density at median
    assert abs(lc.mcse_quantile(draws, 0.5) / theory - 1) < 0.3


# --------------------------------------------------------------------------------------
# the three reference data sets
# --------------------------------------------------------------------------------------
def _kosovo(root):
    people = pd.read_csv(root / REF / "kosovo_aggregate.csv")
    return people.value_counts().rename("count").reset_index()


def _uk(root):
    return pd.read_csv(root / REF / "uk_modern_slavery_2013_five_lists.csv")


def _eye(root):
    t = pd.read_csv(root / REF / "listado_victimas_historial_capturas.csv", index_col=0)
    t = t.dropna(subset=["Freq"])  # the all-zero row has no count (NA)
    return t.rename(columns={"Freq": "count"}).astype(int)


def _reference(root, key: str) -> pd.DataFrame:
    ref = pd.read_csv(root / REF / "lcmcr_reference.csv")
    return ref[ref["data"].str.startswith(key)]


# settings per data set: shorter than the defaults to fit the CI budget (about 30 CPU-s in
# all), long enough that the chains roughly agree and the ESS-based MCSE means something.
# The UK posterior is bimodal (a minor mode near 12,000 that chains visit for hundreds of
# thousands of sweeps): its lower tail is not estimable within a CI budget, by us or by the
# reference (its two seeds give 14,245 and 15,559), so in CI the UK check covers the median
# and the 97.5 % quantile; benchmarks/lcmcr_reference.py compares all three at the
# reference's own length.
ALL = ("q2_5", "median", "q97_5")
CASES = {
    "kosovo": (
        _kosovo,
        "kosovo_aggregate",
        {"burnin": 10_000, "samples": 2_500, "thinning": 40},
        ALL,
        1.05,
    ),
    "eye": (
        _eye,
        "open-data/listado_victimas",
        {"burnin": 10_000, "samples": 2_500, "thinning": 20},
        ALL,
        1.05,
    ),
    "uk": (
        _uk,
        "uk_modern_slavery",
        {"burnin": 50_000, "samples": 2_500, "thinning": 100},
        ("median", "q97_5"),
        1.1,
    ),
}
PROB = {"q2_5": 0.025, "median": 0.5, "q97_5": 0.975}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_posterior_quantiles_agree_with_the_r_reference(root, case):
    load, key, settings, checked, rhat_max = CASES[case]
    ch = mse.capture_histories(load(root))
    ref = _reference(root, key)
    assert len(ref) == 2 and ch.n_observed == ref["n_observed"].iloc[0]
    res = mse.estimate(ch, method="lcmcr", seed=2016, **settings)
    # chains roughly agree (the strict ``converged`` bar, R-hat < 1.01, is for the defaults)
    assert res.rhat < rhat_max, (res.rhat, res.chain_medians)
    for col in checked:
        p = PROB[col]
        a, b = ref[col].to_numpy(dtype=float)
        se_ref = abs(a - b) / 2
        se = np.hypot(res.mcse[p], se_ref)
        ours = res.quantiles[p]
        assert abs(ours - (a + b) / 2) <= 3 * se, (case, col, ours, a, b, res.mcse[p])
        assert 3 * se < 0.15 * (a + b) / 2, (case, col, se)  # the tolerance is not vacuous


def test_same_seed_same_draws_other_seed_other_draws(root):
    ch = mse.capture_histories(_eye(root))
    kw = {"burnin": 200, "samples": 50, "thinning": 2, "chains": 2}
    a = lc.estimate_lcmcr(ch, seed=1, **kw)
    b = lc.estimate_lcmcr(ch, seed=1, **kw)
    c = lc.estimate_lcmcr(ch, seed=2, **kw)
    assert np.array_equal(a.draws, b.draws)
    assert not np.array_equal(a.draws, c.draws)
    assert a.draws.shape == (2, 50) and (a.draws >= ch.n_observed).all()
    assert list(a.trace.columns) == ["chain", "draw", "N"] and len(a.trace) == 100


# --------------------------------------------------------------------------------------
# not converged: no single number
# --------------------------------------------------------------------------------------
def test_chains_that_disagree_give_not_converged_and_no_figure(root):
    # the UK lists: a multimodal posterior that the sampler crosses slowly; 60 sweeps per
    # chain from dispersed starts cannot agree
    ch = mse.capture_histories(_uk(root))
    res = mse.estimate(ch, method="lcmcr", seed=3, burnin=10, samples=50, thinning=1)
    assert not res.ok and not res.converged
    assert res.total is None and res.dark is None and res.interval is None
    assert res.problem["code"] == "not_converged"
    assert res.rhat > lc.RHAT_MAX or res.ess_bulk < res.problem["needed_ess"]
    assert len(res.chain_medians) == 4
    text_es, text_en = lc.describe(res, "es"), lc.describe(res, "en")
    assert "no convergen" in text_es and "No se informa una cifra" in text_es
    assert "do not converge" in text_en and "No figure" in text_en
    assert np.isnan(res.as_row()["total"])


# --------------------------------------------------------------------------------------
# API and CLI
# --------------------------------------------------------------------------------------
def test_estimate_rejects_unknown_method_and_misplaced_options(root):
    table = _eye(root)
    with pytest.raises(mse.MSEInputError, match="method must be loglinear or lcmcr"):
        mse.estimate(table, method="bayes")
    with pytest.raises(mse.MSEInputError, match="only to method='lcmcr'"):
        mse.estimate(table, K=5)
    with pytest.raises(mse.MSEInputError, match="thinning must be an integer"):
        mse.estimate(table, method="lcmcr", thinning=0)


def test_cli_lcmcr(root, tmp_path):
    path = tmp_path / "eye.csv"
    _eye(root).to_csv(path, index=False)
    runner = CliRunner()
    quick = ["--burnin", "10000", "--samples", "2500", "--thinning", "20"]
    ok = runner.invoke(app, ["mse", str(path), "--method", "lcmcr", "--lang", "es", *quick])
    assert ok.exit_code == 0, ok.output
    assert "clases latentes" in ok.output and "R-hat" in ok.output
    short = ["--burnin", "0", "--samples", "20", "--thinning", "1"]
    uk = root / REF / "uk_modern_slavery_2013_five_lists.csv"
    bad = runner.invoke(app, ["mse", str(uk), "--method", "lcmcr", *short])
    assert bad.exit_code == 3 and "No figure" in bad.output
    usage = runner.invoke(app, ["mse", str(path), "--method", "nope"])
    assert usage.exit_code == 2


# --------------------------------------------------------------------------------------
# the page's reading (mse_report)
# --------------------------------------------------------------------------------------
def test_page_text_beside_the_log_linear_estimate_and_no_figure_when_not_converged(root):
    from datajusta_lib.pages import unrecorded_victims as rep

    table = _eye(root)
    loglinear = mse.estimate(table, n_boot=0)
    quick = {"burnin": 10_000, "samples": 2_500, "thinning": 20}
    latent = mse.estimate(table, method="lcmcr", seed=2016, **quick)
    assert latent.ok
    es, en = (
        rep.latent_class_text(loglinear, latent, "es"),
        rep.latent_class_text(loglinear, latent, "en"),
    )
    assert "clases latentes" in es and "latent classes" in en
    assert f"{round(latent.total)}" in en.replace(",", "")
    lo, hi = loglinear.interval
    assert f"{round(lo)}" in en.replace(",", "") and f"{round(hi)}" in en.replace(",", "")
    short = mse.estimate(_uk(root), method="lcmcr", seed=3, burnin=10, samples=50, thinning=1)
    text = rep.latent_class_text(mse.estimate(_uk(root), n_boot=0), short, "es")
    assert "no se muestra una cifra" in text
    assert not any(ch.isdigit() for ch in text.split("R-hat")[0])  # no number before R-hat
    # the estimate on its own writes numbers as each language does (one text lookup)
    es_alone, en_alone = lc.describe(latent, "es"), lc.describe(latent, "en")
    total = round(latent.total)
    assert f"{total:,}".replace(",", ".") in es_alone and f"{total:,}" in en_alone
    assert f"{latent.rhat:.3f}".replace(".", ",") in es_alone
    assert "95 %" in es_alone and "95 %" in en_alone
