"""Small-cell suppression, complementary suppression, its verification, rounding, k."""

from __future__ import annotations

import io
import os
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datajusta_lib.gate import disclosure as dc
from datajusta_lib.gate.publish import gate_counts, gate_estimates

SUP = dc.SUPPRESSED


@pytest.fixture(autouse=True)
def _default_k(monkeypatch):
    monkeypatch.delenv(dc.K_ENV, raising=False)


def visible_counts(gated) -> list[float]:
    frame = pd.read_csv(io.StringIO(gated.csv), dtype=str, keep_default_na=False)
    out = []
    for col in gated.gate["count_columns"]:
        out += [float(v) for v in frame[col] if v != SUP]
    return out


# ----------------------------------------------------------------------------- one-way
def test_one_way_hides_small_cell_and_its_smallest_complement():
    s = pd.Series({"a": 3, "b": 10, "c": 12, "d": 0}, name="n")
    s.index.name = "region"
    g = gate_counts(s, name="by_region")
    t = g.table
    assert list(t.columns) == ["region", "n"]
    assert list(t["region"]) == ["a", "b", "c", "d", "Total"]
    # a (3) is primary; b (10) is the smallest non-zero visible cell, so it is the complement
    assert list(t["n"]) == [SUP, SUP, 12, 0, 25]
    assert g.gate["primary_suppressed"] == 1 and g.gate["secondary_suppressed"] == 1
    assert g.gate["k"] == 5 and g.gate["zeros"] == "shown"
    # the reader can only say a + b = 13, each at least 1 (zeros are shown)
    lo, hi = g.result.intervals()
    assert lo[0] == 1 and hi[0] == 12
    assert dc.check_counts_csv(g.csv, g.gate) == []


def test_primary_suppression_alone_is_recoverable_and_secondary_fixes_it():
    values = np.array([3, 10, 12, 0, 25], dtype=float)
    structure = dc.structure_1d(4)
    naive = values.copy()
    naive[0] = np.nan  # hide only the small cell
    lo, hi = dc.feasible_intervals(structure, naive)
    assert lo[0] == hi[0] == 3  # 25 - 10 - 12 - 0: recovered by subtraction
    assert not dc.cell_protected(lo[0], hi[0], 5, 3, True)
    result = dc.suppress(structure, values, 5)
    assert result.suppressed.sum() == 2
    assert result.verification()["all_protected"]


def test_two_way_naive_pattern_recovered_from_margins_then_protected():
    cells = pd.DataFrame(
        [[1, 20, 30], [25, 8, 40], [12, 15, 2]], index=["x", "y", "z"], columns=["A", "B", "C"]
    )
    g = gate_counts(cells, name="t")
    t = g.table.set_index("category")
    # the two primaries (x,A)=1 and (z,C)=2 and the rectangle closing them: (x,C), (z,A)
    hidden = {(r, c) for r in t.index for c in t.columns if t.loc[r, c] == SUP}
    assert hidden == {("x", "A"), ("x", "C"), ("z", "A"), ("z", "C")}
    assert t.loc["Total", "Total"] == 153
    assert g.gate["primary_suppressed"] == 2 and g.gate["secondary_suppressed"] == 2
    # naive: hiding only the primaries lets the row totals give them back
    st2 = dc.structure_2d(3, 3)
    vals = dc.count_table(cells).augmented()
    naive = vals.copy()
    naive[[0, 10]] = np.nan  # (x,A) and (z,C) in the 4x4 augmented grid
    lo, hi = dc.feasible_intervals(st2, naive)
    assert lo[0] == hi[0] == 1
    assert dc.check_counts_csv(g.csv, g.gate) == []


def test_small_margin_is_itself_suppressed_and_protected():
    cells = pd.DataFrame(
        [[2, 1, 0], [30, 40, 50], [20, 25, 35]], index=list("pqr"), columns=list("ABC")
    )
    g = gate_counts(cells, name="t")
    t = g.table.set_index("category")
    assert t.loc["p", "Total"] == SUP  # the row total 3 is a small count too
    assert t.loc["p", "C"] == 0  # a zero stays visible
    assert all(v == 0 or v >= 5 for v in visible_counts(g))
    assert dc.check_counts_csv(g.csv, g.gate) == []


def test_grand_total_below_k_hides_every_non_zero_cell():
    g = gate_counts(pd.Series({"a": 1, "b": 2, "c": 0}, name="n"), name="t")
    assert list(g.table["n"]) == [SUP, SUP, 0, SUP]
    assert dc.check_counts_csv(g.csv, g.gate) == []


def test_table_without_small_cells_is_unchanged():
    g = gate_counts(pd.Series({"a": 5, "b": 0, "c": 9}, name="n"), name="t")
    assert list(g.table["n"]) == [5, 0, 9, 14]
    assert g.gate["suppressed_cells"] == 0


def test_counts_from_records_with_fixed_categories():
    records = pd.DataFrame(
        {"region": ["13"] * 12 + ["05"] * 2 + [None] * 6, "sex": ["female", "male"] * 10}
    )
    g = gate_counts(
        records, name="t", rows="region", columns="sex", row_order=["13", "05", "01", "—"]
    )
    t = g.table.set_index("region")
    assert list(t.index) == ["13", "05", "01", "—", "Total"]
    assert t.loc["01", "Total"] == 0  # a category absent from the data is shown as 0
    assert t.loc["Total", "Total"] == 20
    assert t.loc["05", "female"] == SUP
    assert dc.check_counts_csv(g.csv, g.gate) == []
    vis = g.visible
    # the hidden females of 05 and "—" (1 + 3) would be 1..3 each with 13's 6 shown (a hidden
    # cell is at least 1: zeros are shown), so 13's females are hidden too
    assert np.isnan(vis.loc["13", "female"]) and np.isnan(vis.loc["05", "male"])
    assert t.loc["13", "Total"] == 12 and t.loc["Total", "female"] == 10


def test_bad_counts_are_refused():
    with pytest.raises(dc.DisclosureError, match="non-negative whole"):
        gate_counts(pd.Series([1.5, 3]), name="t")
    with pytest.raises(dc.DisclosureError, match="non-negative whole"):
        gate_counts(pd.Series([-1, 3]), name="t")
    with pytest.raises(dc.DisclosureError, match="count"):
        gate_counts(pd.Series([None, 3]), name="t")


# ----------------------------------------------------------------------------- k and rounding
def test_k_from_environment_and_never_below_it(monkeypatch):
    assert dc.default_k() == 5
    monkeypatch.setenv(dc.K_ENV, "10")
    assert dc.default_k() == 10
    g = gate_counts(pd.Series({"a": 7, "b": 30, "c": 40}, name="n"), name="t")
    assert g.gate["k"] == 10 and g.table["n"][0] == SUP
    with pytest.raises(dc.DisclosureError, match="below the configured"):
        gate_counts(pd.Series({"a": 7, "b": 30}), name="t", k=5)
    monkeypatch.setenv(dc.K_ENV, "1")
    with pytest.raises(dc.DisclosureError, match=">= 2"):
        dc.default_k()
    monkeypatch.setenv(dc.K_ENV, "five")
    with pytest.raises(dc.DisclosureError, match="not an integer"):
        dc.default_k()


def test_k_can_be_raised_per_table():
    g = gate_counts(pd.Series({"a": 7, "b": 30, "c": 40}, name="n"), name="t", k=10)
    assert g.table["n"][0] == SUP and g.gate["k"] == 10


def test_a_table_stamped_with_a_lower_k_fails_the_site_threshold(monkeypatch):
    g = gate_counts(pd.Series({"a": 7, "b": 30, "c": 40}, name="n"), name="t")
    monkeypatch.setenv(dc.K_ENV, "10")
    problems = dc.check_counts_csv(g.csv, g.gate)
    assert any("below the threshold k=10" in p for p in problems)
    assert any("visible count 7" in p for p in problems)


def test_rounding_to_base_after_suppression():
    g = gate_counts(pd.Series({"a": 3, "b": 11, "c": 23, "d": 0}, name="n"), name="t", rounding=5)
    assert list(g.table["n"]) == [SUP, SUP, 25, 0, 35]
    assert g.gate["rounding"] == {"base": 5, "rule": "nearest_multiple_half_up"}
    assert dc.check_counts_csv(g.csv, g.gate) == []
    assert list(dc.round_to_base(np.array([0, 2, 2.5, 7, 8]), 5)) == [0, 0, 5, 5, 10]


def test_rounding_that_would_show_a_small_count_is_refused():
    with pytest.raises(dc.DisclosureError, match="base that divides k"):
        gate_counts(pd.Series({"a": 10, "b": 30}, name="n"), name="t", k=10, rounding=3)


# ----------------------------------------------------------------------------- reader-side check
def test_check_counts_csv_catches_a_visible_small_count_and_a_recoverable_cell():
    gate = {
        "passed": True,
        "k": 5,
        "shape": "1d",
        "label_columns": ["g"],
        "count_columns": ["n"],
        "total_label": "Total",
        "suppressed_marker": SUP,
        "rounding": None,
    }
    shows_three = "g,n\na,3\nb,10\nTotal,13\n"
    assert any("visible count 3" in p for p in dc.check_counts_csv(shows_three, gate))
    one_hidden = "g,n\na,[c]\nb,10\nTotal,13\n"
    assert any("narrowed to [3, 3]" in p for p in dc.check_counts_csv(one_hidden, gate))
    two_hidden_small = "g,n\na,[c]\nb,[c]\nc,10\nTotal,14\n"  # a + b = 4: both provably 0..4
    assert dc.check_counts_csv(two_hidden_small, gate) == []  # lower end 0: not provably non-empty
    ok = "g,n\na,[c]\nb,[c]\nc,12\nTotal,25\n"
    assert dc.check_counts_csv(ok, gate) == []
    not_adding_up = "g,n\na,[c]\nb,20\nc,12\nTotal,25\n"
    assert any("do not add up" in p for p in dc.check_counts_csv(not_adding_up, gate))


def test_cell_protection_rule():
    assert not dc.cell_protected(3, 3, 5)  # exact
    assert not dc.cell_protected(1, 4, 5)  # provably 1..4
    assert dc.cell_protected(0, 4, 5)  # could be empty
    assert dc.cell_protected(2, 9, 5)  # could be large
    assert not dc.cell_protected(0, 3, 5, value=3, primary=True)  # upper end is the true value


# ----------------------------------------------------------------------------- properties
small_counts = st.integers(min_value=0, max_value=40).map(lambda v: v if v > 12 else v % 7)


def _assert_gate_holds(g, cells_values, k):
    # no visible count in 1..k-1, totals included
    assert all(v == 0 or v >= k for v in visible_counts(g))
    # every hidden cell is protected against the published table alone
    assert dc.check_counts_csv(g.csv, g.gate, k=k) == []
    # ... and against the exact intervals computed at the gate (true values inside them)
    res = g.result
    lo, hi = res.intervals()
    for c in np.flatnonzero(res.suppressed):
        assert lo[c] - 1e-9 <= res.values[c] <= hi[c] + 1e-9
        assert dc.cell_protected(lo[c], hi[c], k, res.values[c], bool(res.primary[c]))
    # and the visible cells are exactly the input counts
    assert np.array_equal(res.values, cells_values)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.lists(small_counts, min_size=1, max_size=8), k=st.integers(min_value=3, max_value=10)
)
def test_property_one_way(cells, k):
    with mock.patch.dict(os.environ, {dc.K_ENV: str(k)}):
        _one_way(cells, k)


def _one_way(cells, k):
    g = gate_counts(
        pd.Series(cells, index=[f"c{i}" for i in range(len(cells))], name="n"), name="t", k=k
    )
    _assert_gate_holds(g, np.append(cells, sum(cells)).astype(float), k)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.tuples(st.integers(2, 5), st.integers(2, 5)),
    data=st.data(),
    k=st.integers(min_value=3, max_value=10),
)
def test_property_two_way(shape, data, k):
    with mock.patch.dict(os.environ, {dc.K_ENV: str(k)}):
        _two_way(shape, data, k)


def _two_way(shape, data, k):
    r, c = shape
    values = data.draw(st.lists(small_counts, min_size=r * c, max_size=r * c))
    frame = pd.DataFrame(
        np.array(values).reshape(r, c),
        index=[f"r{i}" for i in range(r)],
        columns=[f"c{j}" for j in range(c)],
    )
    g = gate_counts(frame, name="t", k=k)
    _assert_gate_holds(g, dc.count_table(frame).augmented(), k)


# ----------------------------------------------------------------------------- estimates
def test_estimates_hide_rows_resting_on_few_records_with_a_complement():
    est = pd.DataFrame(
        {
            "region": ["a", "b", "c", "d"],
            "n_observed": [3, 40, 12, 0],
            "estimate": [5.2, 61.0, 19.5, 0.0],
        }
    )
    out, gate = gate_estimates(est, name="mse", observed="n_observed")
    assert list(out["estimate"]) == [SUP, 61.0, SUP, 0.0]
    assert list(out["n_observed"]) == [SUP, 40, SUP, 0]
    assert list(out["region"]) == ["a", "b", "c", "d"]
    assert gate["suppressed_rows"] == 2
    csv = out.to_csv(index=False)
    assert dc.check_estimates_csv(csv, gate) == []
    bad = est.to_csv(index=False)
    assert any("visible count 3" in p for p in dc.check_estimates_csv(bad, gate))


def test_estimates_need_observed_counts():
    with pytest.raises(dc.DisclosureError, match="observed"):
        gate_estimates(pd.DataFrame({"x": [1.0]}), name="t", observed="n")


# ----------------------------------------------------------------------------- records
@pytest.fixture
def people():
    return pd.DataFrame(
        {
            "region": ["13"] * 6 + ["05"] * 6,
            "sex": ["female"] * 6 + ["male"] * 6,
            "age_band": ["18-29"] * 5 + ["30-44"] + ["18-29"] * 6,
            "outcome": ["a", "b", "a", "b", "c", "a", "a", "a", "a", "a", "a", "b"],
        }
    )


def test_k_anonymity_by_hand(people):
    ka = dc.k_anonymity(people, ["region", "sex", "age_band"])
    assert ka.k == 1  # the one 30-44 woman in region 13
    assert ka.records_below(5) == 1 and ka.classes_below(5) == 1
    assert ka.share_below(5) == pytest.approx(1 / 12)
    assert dc.k_anonymity(people, ["region"]).k == 6


def test_k_anonymity_counts_missing_as_a_value():
    df = pd.DataFrame({"a": ["x", "x", None], "b": [1, 1, 1]})
    ka = dc.k_anonymity(df, ["a"])
    assert sorted(ka.classes["size"]) == [1, 2]


def test_l_diversity_by_hand(people):
    ld = dc.l_diversity(people, ["region"], "outcome")
    assert ld.l == 2  # region 05: outcomes a and b
    ld = dc.l_diversity(people, ["region", "sex", "age_band"], "outcome")
    assert ld.l == 1


def test_record_level_output_refused_by_default(people):
    with pytest.raises(dc.DisclosureError, match="refused by default"):
        dc.gate_records(people, name="t", quasi_identifiers=["region"], sensitive=["outcome"])


def test_record_level_output_checked_when_allowed(people):
    out, gate = dc.gate_records(
        people[["region", "outcome"]],
        name="t",
        quasi_identifiers=["region"],
        sensitive=["outcome"],
        allow_records=True,
    )
    assert gate["min_class_size"] == 6 and gate["l_by_sensitive"] == {"outcome": 2}
    with pytest.raises(dc.DisclosureError, match="not 5-anonymous"):
        dc.gate_records(
            people,
            name="t",
            quasi_identifiers=["region", "sex", "age_band"],
            sensitive=["outcome"],
            allow_records=True,
        )
    with pytest.raises(dc.DisclosureError, match="only 2-diverse"):
        dc.gate_records(
            people[["region", "outcome"]],
            name="t",
            quasi_identifiers=["region"],
            sensitive=["outcome"],
            l=3,
            allow_records=True,
        )
    with pytest.raises(dc.DisclosureError, match="undeclared"):
        dc.gate_records(
            people,
            name="t",
            quasi_identifiers=["region"],
            sensitive=["outcome"],
            allow_records=True,
        )
    with_id = people[["region", "outcome"]].assign(person_key="abc")
    with pytest.raises(dc.DisclosureError, match="direct identifier"):
        dc.gate_records(
            with_id,
            name="t",
            quasi_identifiers=["region"],
            sensitive=["outcome", "person_key"],
            allow_records=True,
        )


def test_direct_identifier_columns():
    cols = [
        "person_key",
        "RUN_VICTIMA",
        "fecha_nacimiento",
        "region_code",
        "runtime",
        "nombre",
        "sex",
    ]
    assert dc.direct_identifier_columns(cols) == [
        "person_key",
        "RUN_VICTIMA",
        "fecha_nacimiento",
        "nombre",
    ]


def test_count_text_never_writes_a_small_count():
    assert dc.count_text(3, "es") == "menos de 5"
    assert dc.count_text(3, "en") == "fewer than 5"
    assert dc.count_text(0, "en") == "0"
    assert dc.count_text(12345, "es") == "12.345"
    assert dc.count_text(7, "en", k=10) == "fewer than 10"
