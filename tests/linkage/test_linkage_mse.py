"""The unrecorded-victims estimate from the probabilistic links (issue 15): records carry the
linked person, and the same estimate under other linkages says how much the links matter."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from datajusta_lib.linkage import link as L
from datajusta_lib.linkage import quality as Q
from datajusta_lib.linkage.settings import linkage_settings
from datajusta_lib.mse import estimator as mse
from datajusta_lib.pages import unrecorded_victims as rep


@pytest.fixture(scope="module")
def trafficking():
    from datajusta_lib import synthetic

    synthetic.generate(if_missing=True)
    records, _ = rep.eligible_records(rep.load_records("trafficking"), "trafficking")
    linked, result = L.link_records(records, "trafficking")
    return records, linked, result


def test_comparison_sql_names_columns_in_every_engine_dialect():
    # Spark reads "x" as a string literal: the conditions must name columns unquoted, or
    # splink's Spark backend fails with "requires INTEGRAL, not STRING" (seen before the fix)
    enc_columns = [f"name_bf_{i}" for i in range(16)] + [f"birth_bf_{i}" for i in range(4)]
    enc_columns += [f"event_bf_{i}" for i in range(4)]
    for comparison in L.comparison_dicts(linkage_settings(), enc_columns):
        for level in comparison["comparison_levels"]:
            if level["sql_condition"] == "ELSE":
                continue
            for dialect in ("duckdb", "spark"):
                tree = sqlglot.parse_one(level["sql_condition"], read=dialect)
                literals = [x for x in tree.find_all(exp.Literal) if x.is_string]
                assert not literals, (comparison["output_column_name"], dialect, literals)
                assert list(tree.find_all(exp.Column))


def test_records_carry_the_linked_person(trafficking):
    records, linked, result = trafficking
    assert len(linked) == len(records)
    assert linked["person_key_exact"].equals(records["person_key"])
    keyed = linked["person_key"].dropna()
    assert keyed.str.startswith("link-").all()
    # lists that hold no name, identifier or birth date stay unlinkable, as with exact keys
    ch = mse.capture_histories_from_records(linked)
    assert set(ch.dropped_lists) == {"CARABINEROS", "OSC"}
    # the links join records whose exact keys differ (mistyped or missing identifiers)
    per_person = linked.dropna(subset=["person_key"]).groupby("person_key")["person_key_exact"]
    assert (per_person.nunique(dropna=False) > 1).sum() > 50


def test_linked_records_count_persons_closer_to_the_truth_than_exact_keys(trafficking):
    _, linked, result = trafficking
    variants = Q.mse_by_linkage(linked, result, thresholds=(), case_study="trafficking")
    observed = {v["links"]: v["reselected"].n_observed for v in variants}
    assert abs(observed["estimated"] - observed["true"]) < 0.05 * observed["true"]
    assert abs(observed["exact"] - observed["true"]) > 0.15 * observed["true"]


def test_estimate_by_linkage_keeps_the_model_and_moves_with_the_threshold(trafficking):
    _, linked, result = trafficking
    page = mse.estimate(linked, n_boot=0)
    variants = Q.mse_by_linkage(
        linked, result, model_terms=page.model_terms, thresholds=(0.5, 0.99), case_study=None
    )
    assert [v["links"] for v in variants] == ["estimated"] * 3 + ["exact"]
    assert [v["threshold"] for v in variants[:3]] == [0.5, 0.9, 0.99]
    assert [v["used"] for v in variants] == [False, True, False, False]
    for v in variants:
        assert sorted(v["same_model"].model_terms) == sorted(page.model_terms)
    used = variants[1]
    assert used["reselected"].total == pytest.approx(page.total)
    # a higher threshold makes fewer links, so more distinct persons are observed
    observed = [v["same_model"].n_observed for v in variants[:3]]
    assert observed == sorted(observed) and observed[0] < observed[-1]


def test_a_record_of_a_linked_list_without_any_linking_field_gets_no_key(trafficking):
    records, linked, result = trafficking
    unlinkable = result.clusters.loc[~result.clusters["linkable"]]
    mine = unlinkable[~unlinkable["institution"].isin(["CARABINEROS", "OSC"])]
    assert len(mine) > 0
    row = mine.iloc[0]
    hit = linked[
        (linked["institution"] == row["institution"])
        & (linked["source_row"].astype(int) == int(row["source_row"]))
        & (linked["source_file"].map(lambda f: str(f).rsplit("/", 1)[-1]) == row["source_file"])
    ]
    if len(hit):  # the row may be outside the estimate's population
        assert hit["person_key"].isna().all()


def test_a_record_missing_from_the_linkage_is_an_error_naming_it(trafficking):
    records, _, result = trafficking
    moved = records.head(1).assign(source_row=10**9)
    with pytest.raises(ValueError, match=r"row 1000000000: record not in the linkage"):
        L.attach_links(pd.concat([records, moved]), result)


def test_private_records_without_a_linkage_key_keep_their_exact_keys(monkeypatch):
    from datajusta_lib.linkage import encode

    monkeypatch.delenv(encode.LINKAGE_KEY_ENV, raising=False)
    monkeypatch.delenv(encode.LINKAGE_KEY_FILE_ENV, raising=False)
    records = pd.DataFrame({"institution": ["PDI"], "person_key": ["k1"]})
    same, linkage = rep.link_records(records, "trafficking", "private")
    assert linkage is None and same is records
    with pytest.raises(Exception, match="linkage key"):
        L.link_records(records, "trafficking", "private")
