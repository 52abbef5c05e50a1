"""Multiple systems estimation: input forms, bad inputs, models, existence checks, strata."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import datajusta_lib as dj
from datajusta_lib.core import canon
from datajusta_lib.mse import estimator as mse
from datajusta_lib.mse.data import simulate
from datajusta_lib.mse.models import (
    Cells,
    ExistenceCache,
    build_design,
    check_existence,
    fit_design,
    statsmodels_fit,
)
from datajusta_lib.mse.select import Spec, all_models, select

# Artificial_3 of SparseMSE (Chan, Silverman & Vincent 2019, Table 2), as printed in the
# MultipleSystemsEstimation vignette "Reproducing Chan, Silverman and Vincent (2021)".
ARTIFICIAL_3 = {"100": 40, "010": 30, "001": 20, "110": 6}


def key(i: int) -> str:
    return f"{i:064x}"


def records_for(table: pd.DataFrame, lists: list[str]) -> pd.DataFrame:
    """Records (institution, person_key) whose exact linkage gives ``table`` back."""
    rows, person = [], 0
    for _, row in table.iterrows():
        for _ in range(int(row["count"])):
            person += 1
            rows += [{"institution": x, "person_key": key(person)} for x in lists if row[x] == 1]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def uk5(reference_dir) -> pd.DataFrame:
    return pd.read_csv(reference_dir / "uk_modern_slavery_2013_five_lists.csv")


# --------------------------------------------------------------------------------------
# input forms
# --------------------------------------------------------------------------------------
def test_dj_mse_resolves_lazily():
    assert dj.mse.estimate is mse.estimate


def test_table_forms_agree(uk5):
    lists = list(uk5.columns[:-1])
    a = mse.capture_histories(uk5)
    b = mse.capture_histories(uk5.to_numpy(), lists=lists)
    c = mse.capture_histories(
        {"".join(map(str, r[:-1])): int(r[-1]) for r in uk5.to_numpy()}, lists=lists
    )
    assert a.lists == b.lists == c.lists == tuple(lists)
    assert a.n_observed == 2744
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.counts, c.counts)
    back = {tuple(r[:-1]): r[-1] for r in a.table().to_numpy()}
    assert back == {tuple(r[:-1]): r[-1] for r in uk5.to_numpy()}


def test_records_give_the_same_histories_and_estimate(uk5):
    lists = list(uk5.columns[:-1])
    recs = records_for(uk5, lists)
    from_records = mse.capture_histories_from_records(recs, lists=lists)
    from_table = mse.capture_histories(uk5)
    np.testing.assert_array_equal(from_records.counts, from_table.counts)
    a = mse.estimate(recs, lists=lists, n_boot=0)
    b = mse.estimate(uk5, n_boot=0)
    assert a.total == pytest.approx(b.total, rel=1e-12)
    assert a.model_terms == b.model_terms


def test_records_linkage_rules():
    recs = pd.DataFrame(
        {
            "institution": ["PDI", "PDI", "FISCALIA", "FISCALIA", "SPD_PAV", "MITP", "MITP"],
            "person_key": [key(1), key(1), key(1), None, key(2), None, None],
        }
    )
    ch = mse.capture_histories_from_records(recs)
    assert ch.lists == ("FISCALIA", "PDI", "SPD_PAV")  # MITP holds no identifier
    assert ch.dropped_lists == ("MITP",)
    assert ch.unlinked == {"FISCALIA": 1, "MITP": 2, "PDI": 0, "SPD_PAV": 0}
    # person 1 is on PDI twice and on FISCALIA: one person on two lists
    assert ch.list_sizes().to_dict() == {"FISCALIA": 1, "PDI": 1, "SPD_PAV": 1}
    assert ch.n_observed == 2
    res = mse.estimate(recs, n_boot=0)
    codes = [n["code"] for n in res.notes]
    assert "lists_without_identifier" in codes and "unlinked_records" in codes


# --------------------------------------------------------------------------------------
# bad inputs get clear errors
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data, kwargs, message",
    [
        (pd.DataFrame({"A": [1], "count": [3]}), {}, "at least two lists, got 1"),
        (np.array([[1, 0, 0, 5], [0, 1, 0, 4]]), {"lists": ["A", "B"]}, "wrong width"),
        ({"10": 3, "011": 4}, {}, "wrong width"),
        ({"10": 3, "01": 4}, {"lists": ["A", "B", "C"]}, "wrong width"),
        (pd.DataFrame({"A": [1, 2], "B": [0, 1], "count": [3, 4]}), {}, "row 2, column 'A'"),
        (pd.DataFrame({"A": [1, 0], "B": [0, 1], "count": [3, -1]}), {}, "row 2, column 'count'"),
        (pd.DataFrame({"A": [1, 0], "B": [0, 1], "count": [3, 2.5]}), {}, "not a whole number"),
        (pd.DataFrame({"A": [1, 0], "B": [0, 1], "count": [3, None]}), {}, "missing or not a"),
        (pd.DataFrame({"A": [1, 0], "B": [0, 0], "count": [3, 9]}), {}, "all-zero history"),
        (pd.DataFrame({"A": [1, 0], "B": [0, 0], "count": [3, 0]}), {}, "all-zero history"),
        (pd.DataFrame({"A": [1, 0], "B": [0, 1], "count": [0, 0]}), {}, "every count is zero"),
        (pd.DataFrame({"A": [1], "B": [0], "n": [3]}), {}, "capture_histories_from_records"),
        (pd.DataFrame({"A": [1], "A ": [0], "count": [3]}), {"lists": ["A", "B"]}, "not found"),
    ],
)
def test_bad_tables_are_refused_with_a_clear_message(data, kwargs, message):
    with pytest.raises(mse.MSEInputError, match=message):
        mse.capture_histories(data, **kwargs)
    with pytest.raises(mse.MSEInputError, match=message):
        mse.estimate(data, n_boot=0, **kwargs)


def test_bad_records_are_refused_with_a_clear_message():
    one_list = pd.DataFrame({"institution": ["PDI", "PDI"], "person_key": [key(1), key(2)]})
    with pytest.raises(mse.MSEInputError, match="at least two lists"):
        mse.capture_histories_from_records(one_list)
    unlinkable = pd.DataFrame({"institution": ["PDI", "MITP"], "person_key": [key(1), None]})
    with pytest.raises(mse.MSEInputError, match=r"no identifier: \['MITP'\]"):
        mse.estimate(unlinkable, n_boot=0)
    with pytest.raises(mse.MSEInputError, match="no 'person_key' column"):
        mse.capture_histories_from_records(pd.DataFrame({"institution": ["PDI"]}))
    no_name = pd.DataFrame({"institution": ["PDI", None], "person_key": [key(1), key(2)]})
    with pytest.raises(mse.MSEInputError, match="row 2, column 'institution'"):
        mse.capture_histories_from_records(no_name)


def test_estimate_refuses_bad_settings(uk5):
    for kwargs, message in [
        ({"selection": "lasso"}, "selection must be"),
        ({"interval": "hpd"}, "interval must be"),
        ({"bootstrap": "bayesian"}, "bootstrap must be"),
        ({"level": 1.5}, "level must be"),
        ({"selection": "fixed"}, "needs pairs"),
        ({"selection": "fixed", "pairs": ["LA:XX"]}, "'XX' is not one of"),
        ({"selection": "fixed", "pairs": ["LA:LA"]}, "with itself"),
    ]:
        with pytest.raises(mse.MSEInputError, match=message):
            mse.estimate(uk5, n_boot=0, **kwargs)


def test_repeated_histories_are_summed_and_said(uk5):
    doubled = pd.concat([uk5, uk5.head(1)])
    ch = mse.capture_histories(doubled)
    assert ch.n_observed == 2744 + int(uk5["count"].iloc[0])
    assert ch.notes == ({"code": "duplicate_histories_summed"},)


# --------------------------------------------------------------------------------------
# models, fitting and the existence check
# --------------------------------------------------------------------------------------
def test_numpy_fit_matches_statsmodels_on_every_uk_model(uk5):
    ch = mse.capture_histories(uk5)
    cells, y = ch.cells, ch.counts
    ov = cells.overlaps(y)
    for model in list(all_models(len(cells.pairs)))[::37]:  # 28 models of every size
        design = build_design(cells, model, ov)
        ours = fit_design(design, y)
        glm = statsmodels_fit(design, y)
        assert ours.converged
        np.testing.assert_allclose(ours.beta, glm.params, rtol=1e-7, atol=1e-8)
        assert ours.loglik == pytest.approx(glm.llf, rel=1e-10)
        if not design.empty_idx:
            assert ours.aic == pytest.approx(glm.aic, rel=1e-10)


def test_non_overlapping_pair_is_minus_infinity_and_still_counted(uk5):
    ch = mse.capture_histories(uk5)
    assert ch.non_overlapping_pairs() == [("LA", "GP")]
    cells = ch.cells
    k = cells.pairs.index((0, 4))
    design = build_design(cells, (k,), cells.overlaps(ch.counts))
    assert design.empty_idx == (k,)
    assert design.keep.sum() == len(cells.histories) - 8  # every history with both LA and GP
    assert design.n_params == design.X.shape[1] + 1


def test_existence_codes_of_artificial_3_as_published():
    """Chan, Silverman & Vincent (2019) Table 3 via MultipleSystemsEstimation's vignette:
    [12,13,23] → 2 (not identifiable), [12,3] → 1 (no MLE), [13,23,1,2] → 0."""
    ch = mse.capture_histories(ARTIFICIAL_3)
    cells, y = ch.cells, ch.counts
    ov = cells.overlaps(y)
    ab, ac, bc = (cells.pairs.index(p) for p in [(0, 1), (0, 2), (1, 2)])
    for model, code in [((ab, ac, bc), 2), ((ab,), 1), ((ac, bc), 0)]:
        design = build_design(cells, model, ov)
        assert check_existence(design, y, method="lp").code == code
        assert check_existence(design, y, method="nullspace").code == code


def test_fast_existence_test_agrees_with_the_linear_program():
    rng = np.random.default_rng(20260101)
    disagreements, nonexistent = 0, 0
    for t in (3, 4, 5):
        cells = Cells.for_lists(t)
        for _ in range(70):
            y = rng.poisson(rng.uniform(0.2, 3.0), len(cells.histories))
            if y.sum() == 0:
                continue
            model = tuple(rng.choice(len(cells.pairs), rng.integers(0, 4), replace=False))
            design = build_design(cells, model, cells.overlaps(y))
            lp = check_existence(design, y, method="lp")
            fast = check_existence(design, y, method="nullspace")
            disagreements += lp.exists != fast.exists
            nonexistent += not lp.exists
    assert disagreements == 0
    assert nonexistent > 10  # the sample really exercises both answers


def test_existence_cache_is_keyed_on_support_only(uk5):
    ch = mse.capture_histories(uk5)
    cache = ExistenceCache()
    spec = Spec("aic", candidates=tuple(list(all_models(len(ch.cells.pairs)))[:60]))
    select(ch.cells, ch.counts, spec, cache)
    assert cache.misses == 60
    select(ch.cells, ch.counts * 3, spec, cache)  # same support, same models: all hits
    assert cache.misses == 60
    thinned = ch.counts.copy()
    thinned[np.flatnonzero(thinned == 1)[0]] = 0  # a new support: checked afresh
    select(ch.cells, thinned, spec, cache)
    assert cache.misses == 120


def test_model_without_mle_is_reported_not_estimated():
    from datajusta_lib.pages.unrecorded_victims import describe

    res = mse.estimate(ARTIFICIAL_3, selection="fixed", pairs=["A:B"], n_boot=0)
    assert not res.ok and res.total is None
    assert res.problem["code"] == "mle_does_not_exist"
    assert res.problem["forced_zero_histories"] == ["101", "011", "111"]
    assert "101, 011, 111" in describe(res, "en")
    assert "101, 011, 111" in describe(res, "es")


def test_stepwise_skips_candidates_whose_mle_would_not_exist():
    # at a loose threshold A:B is the first candidate, but with A:B the histories with C and
    # A or B would be forced to zero: SparseMSE's stepwise sets its p-value to 1 and moves on
    res = mse.estimate(ARTIFICIAL_3, pthresh=0.5, n_boot=0)
    assert res.ok
    first = res.skipped.iloc[0]
    assert (first["step"], first["term"], first["reason"]) == (1, "A:B", "mle_does_not_exist")
    assert "A:B" not in res.model_terms
    assert res.model_terms == ["A:C", "B:C"] == res.infinite_terms
    assert res.total == pytest.approx(296.0)  # 96 observed + extended MLE of the dark figure


def test_lists_without_overlap_give_no_estimate_not_infinity():
    res = mse.estimate({"10": 50, "01": 70}, n_boot=0)
    assert not res.ok
    assert res.problem["code"] == "no_overlap_at_all"
    assert {"code": "isolated_list", "list": "A"} in res.notes


def test_non_informative_lists_are_dropped():
    table = pd.DataFrame(
        {
            "A": [1, 1, 1, 1, 0, 0],
            "B": [1, 0, 1, 0, 1, 0],
            "C": [0, 0, 1, 1, 0, 1],
            "D": [0, 0, 0, 0, 0, 0],
            "count": [5, 7, 2, 4, 6, 9],
        }
    )
    res = mse.estimate(table, n_boot=0)
    assert res.dropped_lists == {"D": "empty"}
    assert res.lists == ("A", "B", "C")
    both = mse.estimate(
        pd.DataFrame({"A": [1, 1], "B": [0, 1], "C": [0, 1], "count": [4, 3]}), n_boot=0
    )
    # A holds every observed person: the estimate is the number observed (issue 14, point 11),
    # never an estimate from the other lists that could fall below it
    assert both.ok and both.total == both.n_observed == 7 and both.dark == 0
    assert [n["code"] for n in both.notes] == ["list_holds_everyone"]


def test_absurd_extrapolation_is_flagged():
    res = mse.estimate({"10": 1000, "01": 1000, "11": 1}, n_boot=0)
    assert res.ok and res.dark > 20 * res.n_observed
    assert "extreme_extrapolation" in [n["code"] for n in res.notes]


def test_wald_interval_matches_sparsemse_formula(uk5):
    res = mse.estimate(uk5, n_boot=0)
    assert res.interval_method == "wald"
    b0, se = res.glm.params[0], res.glm.bse[0]
    assert res.interval[0] == pytest.approx(2744 + np.exp(b0 - 1.959963984540054 * se))
    assert res.interval[0] < res.total < res.interval[1]


# --------------------------------------------------------------------------------------
# strata and simulation
# --------------------------------------------------------------------------------------
def test_macrozones_cover_each_region_once():
    codes = pd.Series(canon.region_codes() + [None])
    zones = mse.macrozone(codes)
    assert zones.iloc[:-1].notna().all() and pd.isna(zones.iloc[-1])
    assert zones.iloc[0] == "north" and zones.iloc[-2] == "far_south"  # north to south
    assert set(zones.dropna()) == {"north", "centre", "south", "far_south"}


def test_person_stratum_is_the_majority_of_their_records():
    recs = pd.DataFrame(
        {
            "institution": ["PDI", "FISCALIA", "SPD_PAV", "PDI"],
            "person_key": [key(1), key(1), key(1), key(2)],
            "sex": ["female", None, "male", "male"],
        }
    )
    recs.loc[3, "sex"] = "male"
    strata = mse.person_strata(recs, "sex")
    assert strata[key(1)] == "female"  # tie female/male → first in order: one person, one stratum
    assert strata[key(2)] == "male"


def test_estimate_by_stratum_says_where_data_do_not_support_it():
    rng = np.random.default_rng(7)
    big = simulate(3000, [0.3, 0.4, 0.35], rng, lists=["PDI", "FISCALIA", "SPD_PAV"])
    small = simulate(40, [0.3, 0.4, 0.35], rng, lists=["PDI", "FISCALIA", "SPD_PAV"])
    rows, person = [], 0
    for ch, sex in [(big, "female"), (small, "male")]:
        for h, n in zip(ch.cells.histories, ch.counts, strict=True):
            for _ in range(n):
                person += 1
                rows += [
                    {"institution": ch.lists[j], "person_key": key(person), "sex": sex}
                    for j in np.flatnonzero(h)
                ]
    recs = pd.DataFrame(rows)
    recs.loc[recs["person_key"] == key(person), "sex"] = None  # one person without a value
    table, results = mse.estimate_by_stratum(recs, "sex", n_boot=0, order=["male", "female"])
    assert table["stratum"].tolist()[:2] == ["male", "female"]  # order kept
    assert pd.isna(table["stratum"].iloc[-1])  # persons without a value: last row
    last = table.iloc[-1]
    assert (last["observed"], last["ok"], last["problem"]) == (1, False, "no_value")
    table = table.iloc[:-1].set_index("stratum")
    assert bool(table.loc["female", "ok"]) and not bool(table.loc["male", "ok"])
    assert table.loc["male", "problem"] == "too_few_persons"
    assert set(results) == {"female"}
    assert results["female"].total == pytest.approx(3000, rel=0.1)


def test_simulation_with_independent_homogeneous_lists_is_unbiased():
    rng = np.random.default_rng(11)
    totals = [
        mse.estimate(simulate(2000, [0.2, 0.3, 0.25, 0.15], rng), selection="main", n_boot=0).total
        for _ in range(40)
    ]
    assert np.mean(totals) == pytest.approx(2000, rel=0.02)


def test_cli_estimates_and_refuses_bad_tables(tmp_path, reference_dir):
    from typer.testing import CliRunner

    from datajusta_lib.cli import app

    runner = CliRunner()
    good = reference_dir / "uk_modern_slavery_2013_five_lists.csv"
    out = runner.invoke(app, ["mse", str(good), "--n-boot", "0"])
    assert out.exit_code == 0, out.output
    assert "11,313" in out.output and "2,744" in out.output
    bad = tmp_path / "bad.csv"
    bad.write_text("A,B,count\n1,0,4\n0,0,3\n")
    out = runner.invoke(app, ["mse", str(bad), "--n-boot", "0"])
    assert out.exit_code == 1 and "row 2 is the all-zero history" in out.output
    none = tmp_path / "none.csv"
    none.write_text("A,B,count\n1,0,4\n0,1,3\n")
    out = runner.invoke(app, ["mse", str(none), "--n-boot", "0"])
    assert out.exit_code == 3 and "No pair of lists shares anybody" in out.output
    assert runner.invoke(app, ["mse", str(tmp_path / "missing.csv")]).exit_code == 2


def test_stratum_size_is_counted_on_the_lists_the_estimate_uses():
    # every person of the stratum is on list A, which therefore says nothing and is dropped:
    # the estimate would rest on the persons on B or C only (40 of 70)
    rows, person = [], 0
    for hist, n in (("AB", 20), ("AC", 15), ("ABC", 5), ("A", 30)):
        for _ in range(n):
            person += 1
            rows += [{"institution": x, "person_key": key(person), "sex": "female"} for x in hist]
    table, results = mse.estimate_by_stratum(pd.DataFrame(rows), "sex", min_observed=50, n_boot=0)
    assert table.iloc[0][["observed", "ok", "problem"]].tolist() == [40, False, "too_few_persons"]
    assert results == {}
