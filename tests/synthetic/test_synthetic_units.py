"""Building blocks of the synthetic generator: identifiers, calibration, formats, labels."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from stdnum.cl import rut

from datajusta_lib.synthetic import capture as capture
from datajusta_lib.synthetic import formats as fmt
from datajusta_lib.synthetic import population as pop


def test_vectorised_check_digit_equals_python_stdnum():
    rng = np.random.default_rng(1)
    bodies = np.r_[rng.integers(1_000_000, 99_999_999, 5000), [40_000_000, 49_999_999, 6, 11]]
    ours = pop.run_check_digit(bodies)
    theirs = [rut.calc_check_digit(str(b)) for b in bodies]
    assert list(ours) == theirs
    assert {"K", "0"} <= set(theirs)


def test_runs_are_distinct_draws_from_the_unassigned_range():
    runs = pop.draw_runs(np.random.default_rng(2), 50_000)
    assert len(np.unique(runs)) == 50_000
    assert runs.min() >= 40_000_000 and runs.max() <= 49_999_999
    with pytest.raises(ValueError, match="cannot draw"):
        pop.draw_runs(np.random.default_rng(2), 10_000_001)


@pytest.mark.parametrize("style", ["dotted", "dash", "compact"])
def test_formatted_runs_validate(style):
    body = pop.draw_runs(np.random.default_rng(3), 500)
    cells = fmt.format_runs(body, pop.run_check_digit(body), style)
    assert all(rut.is_valid(c) for c in cells)
    assert ("." in cells[0]) == (style == "dotted") and ("-" in cells[0]) == (style != "compact")


def test_names_are_composed_from_the_invented_syllables():
    given, s1, _ = pop.draw_names(np.random.default_rng(4), np.array([True, False] * 500))
    starts = tuple(pop._SURNAME_START)
    assert all(str(s).startswith(starts) for s in s1)
    assert all(str(g).split()[0].startswith(tuple(pop._GIVEN_START)) for g in given)
    assert len(set(map(str, s1))) > 200


def test_solve_alpha_captures_exactly_the_target():
    rng = np.random.default_rng(5)
    u = rng.random(10_000)
    eta = rng.normal(size=10_000)
    threshold = np.log(u) - np.log1p(-u) - eta
    persons = rng.integers(0, 6000, size=10_000)
    for target in (0, 1, 1234, 4000):
        a = capture.solve_alpha(capture.unit_thresholds(threshold, persons), target)
        assert capture.count_units(threshold < a, persons) == target
    everyone = len(np.unique(persons))
    a = capture.solve_alpha(capture.unit_thresholds(threshold, persons), everyone + 50)
    assert capture.count_units(threshold < a, persons) == everyone  # clamped, never more


def test_cell_target_from_figure_value_and_rate():
    figures = pd.DataFrame({"id": ["pv18"], "value": [3023.0]})
    assert capture.cell_target({"figure": "pv18"}, figures, 2.0, 0)[0] == 6046
    assert capture.cell_target({"value": 1800}, figures, 0.5, 0)[0] == 900
    assert capture.cell_target({"rate": 0.25}, figures, 1.0, 401)[0] == 100
    with pytest.raises(KeyError, match="pv99"):
        capture.cell_target({"figure": "pv99"}, figures, 1.0, 0)


@pytest.mark.parametrize("pattern", ["%d-%m-%Y", "%d/%m/%y", "%Y%m%d", "iso"])
def test_format_dates_equals_strftime(pattern):
    days = np.array(["2011-04-08", "2019-10-18", "2020-02-29", "2024-12-31"], dtype="datetime64[D]")
    expected = [pd.Timestamp(d).strftime("%Y-%m-%d" if pattern == "iso" else pattern) for d in days]
    assert list(fmt.format_dates(days, pattern)) == expected


def test_excel_serial_dates():
    days = np.array(["1900-03-01", "2019-10-18"], dtype="datetime64[D]")
    assert list(fmt.format_dates(days, "excel_serial")) == [
        "61",
        str((date(2019, 10, 18) - date(1899, 12, 30)).days),
    ]


def test_label_choice_inverts_with_period_and_row_rules():
    values = {
        "FEMICIDIO FRUSTRADO": "femicidio_frustrado",
        "FEMICIDIO INTIMO FRUSTRADO": "femicidio_frustrado",
        "OTRO": None,
        "LESIONES": "lesiones_vif",
    }
    rules = {
        "FEMICIDIO FRUSTRADO": {"until": "2020-03-04"},
        "FEMICIDIO INTIMO FRUSTRADO": {"from": "2020-03-04", "where": {"perp": ["partner"]}},
    }
    n = 400
    cols = {
        "event_date": np.where(
            np.arange(n) < 200, np.datetime64("2019-05-01"), np.datetime64("2021-05-01")
        ),
        "perp": np.where(np.arange(n) % 2 == 0, "partner", "stranger"),
    }
    canonical = np.array(["femicidio_frustrado"] * (n - 2) + ["other", None], dtype=object)
    out = fmt.label_choice(np.random.default_rng(6), canonical, values, rules, cols)
    assert set(out[:200]) == {"FEMICIDIO FRUSTRADO"}
    later = out[200:-2]
    assert set(later[::2]) == {"FEMICIDIO INTIMO FRUSTRADO"}
    assert set(later[1::2]) == {
        "FEMICIDIO FRUSTRADO",
        "FEMICIDIO INTIMO FRUSTRADO",
    }  # no rule fits: any
    assert (
        out[-2] == "OTRO" and out[-1] is None
    )  # no label of its own: the null label; missing stays


def test_render_template_pads_and_joins():
    values = {
        "seq": np.array([1, 23]),
        "year": np.array([2019, 2020]),
        "ruc": np.array(["1900100001-5", "x"]),
    }
    assert list(fmt.render_template("PDI-{year}-{seq:05}", values, 2)) == [
        "PDI-2019-00001",
        "PDI-2020-00023",
    ]
    with pytest.raises(KeyError, match="unknown field"):
        fmt.render_template("{nope}", values, 2)


def test_ruc_numbers_share_a_case_and_carry_a_check_digit():
    key = np.array([5, 5, 9, 2, 9])
    year = np.array([2019, 2019, 2020, 2020, 2020])
    ruc = fmt.ruc_numbers(np.random.default_rng(7), key, year)
    assert ruc[0] == ruc[1] and ruc[2] == ruc[4] and len(set(ruc)) == 3
    for r in ruc:
        body, dv = r.split("-")
        assert len(body) == 10 and rut.calc_check_digit(body) == dv
    assert ruc[2].startswith("20") and ruc[0].startswith("19")


def _one_edit(a: str, b: str) -> bool:
    """b is a with one substitution, deletion, insertion or swap of neighbours."""
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) <= 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = sorted((a, b), key=len)
    return len(long_) - len(short) == 1 and any(
        long_[:i] + long_[i + 1 :] == short for i in range(len(long_))
    )


def test_typo_is_one_edit():
    rng = np.random.default_rng(8)
    name = "VALTORIA QUENSEL MIRABÚ"
    typos = [fmt.typo(rng, name) for _ in range(200)]
    assert all(_one_edit(name, t) for t in typos)
    assert sum(t != name for t in typos) > 180
    assert fmt.typo(rng, "Al") == "Al"  # too short to mangle


def test_region_distribution_keeps_overrides_and_population_shares():
    dist = pop.region_distribution({"13": 0.469})
    assert dist["13"] == pytest.approx(0.469)
    assert sum(dist.values()) == pytest.approx(1.0)
    assert dist["05"] > dist["11"]  # Valparaíso is more populous than Aysén


def test_weighted_sample_without_replacement():
    w = np.r_[np.full(100, 10.0), np.full(900, 1.0)]
    picks = pop.weighted_sample(np.random.default_rng(9), w, 100)
    assert len(set(picks)) == 100
    assert (picks < 100).mean() > 0.3  # 10x weight: far more than the 10% uniform share
