"""Contracts: good rows pass, each bad row is named with its row, column and rule, nothing is lost."""

from __future__ import annotations

import pandas as pd
import pytest

from datajusta_lib.core import contracts
from datajusta_lib.core.contracts import PublishedFigureModel, RecordModel, validate
from datajusta_lib.ingest.published import read_figures_csv, validate_figures

GOOD_FIGURE = {
    "id": "pv90",
    "case_study": "protest_violence",
    "institution": "INDH",
    "metric": "eye_injuries",
    "value": "10",
    "unit": "persons",
    "period_start": "2019-10-18",
    "period_end": "2019-11-30",
    "as_of": "2019-12-01",
    "source_url": "https://example.org/report",
    "source_kind": "official",
    "notes": "",
}


def figures(*overrides: dict) -> pd.DataFrame:
    rows = []
    for i, o in enumerate(overrides):
        row = dict(GOOD_FIGURE, id=f"pv{90 + i}")
        row.update(o)
        rows.append(row)
    df = pd.DataFrame(rows, dtype="str").replace({"": None})
    df.insert(0, "source_row", range(2, len(df) + 2))
    return df


def test_the_shipped_figures_file_passes(root):
    report = validate_figures(root / "data/published/figures.csv")
    assert report.ok, report.to_text()
    assert len(report.accepted) == report.n_read == 47


def test_shipped_figures_copy_the_reference_facts(root, shared_reference_dir):
    if not (shared_reference_dir / "published_figures.csv").exists():
        pytest.skip("shared/reference is not beside this checkout")
    shipped = pd.read_csv(root / "data/published/figures.csv", dtype=str)
    reference = pd.read_csv(shared_reference_dir / "published_figures.csv", dtype=str)
    # every reference fact is shipped unchanged (rows may be added later, never altered);
    # a row's source may only be upgraded to the official publication of the same figure
    # (issue 13): same value, metric, institution and period, source_kind "official", and
    # the notes keep the press citation it replaced
    facts = ["id", "case_study", "institution", "metric", "value", "unit"]
    facts += ["period_start", "period_end"]
    merged = reference.merge(shipped, how="left", on=facts, indicator=True, suffixes=("", "_new"))
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    moved = merged[merged["source_url"] != merged["source_url_new"]]
    assert (moved["source_kind_new"] == "official").all(), moved
    for _, r in moved.iterrows():
        assert r["source_url"] in r["notes_new"], f"{r['id']}: the press citation is lost"


@pytest.mark.parametrize(
    ("override", "column", "rule"),
    [
        ({"source_url": None}, "source_url", "not_nullable"),
        ({"source_url": "see the report"}, "source_url", "str_matches"),
        ({"value": "-3"}, "value", "greater_than_or_equal_to(0)"),
        ({"value": "many"}, "value", "coerce_dtype('float64')"),
        ({"case_study": "robbery"}, "case_study", "isin"),
        ({"unit": "people"}, "unit", "isin"),
        (
            {"period_end": "2019-01-01"},
            "period_start,period_end",
            "period_end_not_before_period_start",
        ),
        ({"as_of": "2000-01-01"}, "period_start,as_of", "as_of_not_before_period_start"),
        ({"period_start": "18/10/2019"}, "period_start", "coerce_dtype"),
    ],
)
def test_each_bad_figure_is_named(override, column, rule):
    df = figures({}, override, {})
    report = validate(df, PublishedFigureModel, source="figures.csv")
    assert not report.ok
    assert len(report.accepted) == 2 and len(report.rejected) == 1
    failure = report.failures.iloc[0]
    assert failure["file"] == "figures.csv"
    assert failure["row"] == 3  # line 3 of the file: header + first good row before it
    assert failure["column"] == column
    assert rule in failure["rule"]
    assert rule.split("(")[0] in report.rejected["reasons"].iloc[0]


def test_duplicate_id_rejects_both_rows_with_the_rule():
    df = figures({}, {}, {})
    df.loc[2, "id"] = df.loc[1, "id"]
    report = validate(df, PublishedFigureModel, source="figures.csv")
    dup = report.failures[report.failures["rule"] == "field_uniqueness"]
    assert sorted(dup["row"]) == [3, 4]
    assert len(report.accepted) + len(report.rejected) == 3


def test_malformed_file_gives_one_report_naming_every_row_and_rule(tmp_path):
    df = figures(
        {"source_url": None},
        {"value": "-1"},
        {"case_study": "robbery"},
        {"period_end": "2019-01-01"},
        {},
        {},
    ).drop(columns="source_row")
    df.loc[5, "id"] = df.loc[4, "id"]
    path = tmp_path / "figures.csv"
    df.to_csv(path, index=False)
    report = validate_figures(path)
    text = report.to_text()
    assert report.n_read == 6 and len(report.accepted) == 0 and len(report.rejected) == 6
    expected = {
        (2, "source_url", "not_nullable"),
        (3, "value", "greater_than_or_equal_to(0)"),
        (5, "period_start,period_end", "period_end_not_before_period_start"),
        (6, "id", "field_uniqueness"),
        (7, "id", "field_uniqueness"),
    }
    got = {(f.row, f.column, f.rule) for f in report.failures.itertuples()}
    assert expected <= got
    assert any(f.row == 4 and f.column == "case_study" for f in report.failures.itertuples())
    for needle in [str(path), "row 2", "row 7", "not_nullable", "field_uniqueness"]:
        assert needle in text
    with pytest.raises(contracts.ContractError) as err:
        report.raise_if_failed()
    assert "period_end_not_before_period_start" in str(err.value)


def test_missing_and_unknown_columns_reject_every_row_with_a_table_rule(tmp_path):
    df = figures({}, {}).drop(columns="unit").assign(extra="x")
    report = validate(df, PublishedFigureModel, source="f.csv")
    assert len(report.rejected) == 2 and report.accepted.empty
    rules = dict(zip(report.failures["column"], report.failures["rule"], strict=True))
    assert rules["unit"] == "column_in_dataframe"
    assert rules["extra"] == "column_in_schema"
    assert report.failures.set_index("column").loc["unit", "row"] is None


def test_empty_file_is_an_error_not_a_silent_pass(tmp_path):
    path = tmp_path / "figures.csv"
    path.write_text(",".join(GOOD_FIGURE) + "\n", encoding="utf-8")
    report = validate(read_figures_csv(path), PublishedFigureModel, source=str(path))
    assert not report.ok and report.failures["rule"].tolist() == ["file_has_no_rows"]


# ----------------------------------------------------------------------------- records
def record(**overrides) -> dict:
    base = {
        "institution": "INDH",
        "case_study": "protest_violence",
        "record_id": "r1",
        "person_key": "a" * 64,
        "event_date": "2019-11-02",
        "report_date": "2019-11-05",
        "region_code": "13",
        "classification_recorded": "APREMIOS",
        "classification": "apremios_ilegitimos",
        "sex": "female",
        "gender_identity": None,
        "age": "24",
        "age_band": "18-29",
        "nationality": "CHL",
        "migrant_status": None,
        "indigenous_people": None,
        "disability": None,
        "perpetrator_type": "carabineros",
        "procedural_stage": "complaint",
        "source_file": "indh.csv",
        "source_row": "2",
    }
    base.update(overrides)
    return base


def records(*overrides: dict) -> pd.DataFrame:
    rows = [record(record_id=f"r{i}", source_row=str(i + 2), **o) for i, o in enumerate(overrides)]
    return pd.DataFrame(rows)


def test_good_records_pass_and_are_coerced():
    report = validate(records({}, {"sex": None, "age": None}), RecordModel, source="indh.csv")
    assert report.ok, report.to_text()
    assert str(report.accepted["age"].dtype) == "Int64"
    assert report.accepted["event_date"].dtype.kind == "M"


@pytest.mark.parametrize(
    ("override", "column", "rule"),
    [
        ({"region_code": "17"}, "region_code", "isin"),
        ({"event_date": "2099-01-01", "report_date": None}, "event_date", "not_in_the_future"),
        ({"age": "150"}, "age", "less_than_or_equal_to"),
        ({"age": "-1"}, "age", "greater_than_or_equal_to"),
        ({"person_key": "12.345.678-5"}, "person_key", "str_matches"),
        ({"sex": "F"}, "sex", "isin"),
        (
            {"classification": "femicidio_frustrado"},
            "case_study,classification",
            "classification_belongs_to_case_study",
        ),
        (
            {"report_date": "2019-10-01"},
            "event_date,report_date",
            "report_date_not_before_event_date",
        ),
    ],
)
def test_each_bad_record_is_named(override, column, rule):
    report = validate(records({}, override), RecordModel, source="indh.csv")
    assert len(report.rejected) == 1 and len(report.accepted) == 1
    f = report.failures.iloc[0]
    assert (f["row"], f["column"]) == (3, column)
    assert rule in f["rule"]


def test_event_before_the_offence_existed_is_rejected():
    df = records(
        {
            "case_study": "trafficking",
            "classification": "trafficking_411_quater",
            "event_date": "2010-05-01",
            "report_date": "2010-06-01",
        }
    )
    report = validate(df, RecordModel, source="fiscalia.csv")
    assert report.failures["rule"].tolist() == ["event_date_not_before_offence_existed_in_law"]


def test_duplicate_record_ids_are_quarantined_not_dropped():
    df = records({}, {}, {})
    df.loc[2, "record_id"] = df.loc[1, "record_id"]
    report = validate(df, RecordModel, source="indh.csv")
    assert len(report.accepted) + len(report.rejected) == 3
    assert set(report.failures["rule"]) == {"multiple_fields_uniqueness"}
