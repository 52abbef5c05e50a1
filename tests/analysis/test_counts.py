"""The counts behind the case-study pages, on small hand-made canonical frames.

Every expected value below was counted by hand from the frame it is computed on.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from _records_fixture import canonical_records

from datajusta_lib.analysis import counts as an
from datajusta_lib.analysis.counts import MISSING, NOT_RECORDED, OTHER, InstitutionInfo

CS = "trafficking"


def records(rows: list[dict], case_study: str = CS) -> pd.DataFrame:
    return canonical_records(rows, case_study)


# A: records event dates, region, sex, age, nationality, procedural stage (unit: offences)
# B: records only the report date, sex and age band (unit: persons)
INFO = {
    "A": InstitutionInfo(
        "A",
        "offences",
        frozenset(
            {
                "event_date",
                "report_date",
                "region_code",
                "sex",
                "age",
                "nationality",
                "procedural_stage",
                "classification",
            }
        ),
        (
            {
                "date": "2020-03-04",
                "field": "classification",
                "note": {"es": "cambio", "en": "change"},
            },
        ),
    ),
    "B": InstitutionInfo("B", "persons", frozenset({"report_date", "sex", "age_band"})),
}


@pytest.fixture
def frame():
    return records(
        [
            # A: 5 records, one undated
            {
                "institution": "A",
                "event_date": "2019-01-10",
                "report_date": "2019-02-01",
                "region_code": "15",
                "sex": "female",
                "age": 16,
                "nationality": "BOL",
                "procedural_stage": "conviction",
                "classification": "trafficking_411_quater",
            },
            {
                "institution": "A",
                "event_date": "2019-06-30",
                "region_code": "13",
                "sex": "male",
                "age": 34,
                "nationality": "CHL",
                "procedural_stage": "investigation",
                "classification": "smuggling_411_bis",
            },
            {
                "institution": "A",
                "event_date": "2020-12-31",
                "region_code": "12",
                "age": 60,
                "nationality": "VEN",
                "procedural_stage": "non_judicial_exit",
                "classification": "trafficking_411_quater",
            },
            {
                "institution": "A",
                "event_date": "2021-02-01",
                "region_code": pd.NA,
                "sex": "female",
                "nationality": "BOL",
                "classification": "smuggling_411_bis",
            },
            {"institution": "A", "event_date": pd.NA, "report_date": "2020-01-01", "sex": "male"},
            # B: 3 records by report date (event dates present but B's codebook says it
            # does not record them: they must not be used)
            {
                "institution": "B",
                "event_date": "2015-01-01",
                "report_date": "2020-05-05",
                "sex": "female",
                "age_band": "18-29",
            },
            {"institution": "B", "report_date": "2021-07-07", "sex": "female", "age_band": "0-13"},
            {"institution": "B", "report_date": "2021-08-08"},
        ]
    )


def sel_of(frame, **kw):
    kw.setdefault("period_start", "2019-01-01")
    kw.setdefault("period_end", "2021-12-31")
    return an.select(frame, CS, INFO, **kw)


# ----------------------------------------------------------------------------- selection
def test_select_places_records_by_each_institutions_date_and_counts_the_undated(frame):
    sel = sel_of(frame)
    assert sel.undated == {"A": 1, "B": 0}
    assert len(sel.records) == 7
    b = sel.records[sel.records["institution"] == "B"]
    # B uses its report date even where an event date is present
    assert sorted(b["date"].dt.strftime("%Y-%m-%d")) == ["2020-05-05", "2021-07-07", "2021-08-08"]


def test_select_period_region_and_institutions(frame):
    sel = sel_of(frame, period_start="2019-06-30", period_end="2020-12-31")
    # A: 2019-06-30 and 2020-12-31 (both ends inclusive); B: 2020-05-05
    assert sel.records.groupby("institution").size().to_dict() == {"A": 2, "B": 1}
    sel = sel_of(frame, region="13")
    assert sel.records["record_id"].tolist() == ["r1"]
    # A outside 13: r0 (15), r2 (12), r3 (blank); B records no region: all 3 outside
    assert sel.outside_region == {"A": 3, "B": 3}
    # the undated record r4 has no region: not counted as undated within region 13
    assert sel.undated == {"A": 0, "B": 0}
    sel = sel_of(frame, institutions=["B"])
    assert sel.institutions == ("B",) and set(sel.records["institution"]) == {"B"}


def test_select_defaults_to_the_case_study_period_and_rejects_bad_input(frame):
    sel = an.select(frame, CS, INFO)
    assert sel.start == pd.Timestamp("2019-01-01")  # the first record's year, after 2011-04-08
    early = records(
        [
            {"institution": "B", "report_date": "2005-01-01"},
            {"institution": "B", "report_date": "2012-01-01"},
        ]
    )
    assert an.select(early, CS, INFO).start == pd.Timestamp("2011-04-08")  # the law's date
    assert sel.end == pd.Timestamp("2021-08-08")  # open end: the last date in the records
    with pytest.raises(ValueError, match="unknown region"):
        sel_of(frame, region="99")
    with pytest.raises(ValueError, match="before period_start"):
        sel_of(frame, period_start="2021-01-01", period_end="2020-01-01")
    with pytest.raises(ValueError, match="no codebook information"):
        sel_of(frame, institutions=["Z"])


# ------------------------------------------------------------------------------- volumes
def test_yearly_volumes_per_institution_with_zeros_and_units(frame):
    v = an.volumes(sel_of(frame), INFO, "year")
    a = an.counts_series(v, "A", "period")
    b = an.counts_series(v, "B", "period")
    assert a.to_dict() == {"2019": 2, "2020": 1, "2021": 1}
    assert b.to_dict() == {"2019": 0, "2020": 1, "2021": 2}
    assert set(v.loc[v["institution"] == "A", "unit"]) == {"offences"}
    assert set(v.loc[v["institution"] == "B", "unit"]) == {"persons"}
    assert not v["partial"].any()


def test_monthly_volumes_flag_partial_periods(frame):
    sel = sel_of(frame, period_start="2019-01-15", period_end="2019-03-31")
    v = an.volumes(sel, INFO, "month")
    a = v[v["institution"] == "A"]
    assert a["period"].tolist() == ["2019-01", "2019-02", "2019-03"]
    # r0 (10 January) is before the 15th: outside the selection
    assert a["n"].tolist() == [0, 0, 0]
    assert a["partial"].tolist() == [True, False, False]


def test_volumes_by_classification(frame):
    v = an.volumes(sel_of(frame, institutions=["A"]), INFO, "year", by="classification")
    got = {(r.classification, r.period): r.n for r in v.itertuples() if r.n}
    assert got == {
        ("trafficking_411_quater", "2019"): 1,
        ("trafficking_411_quater", "2020"): 1,
        ("smuggling_411_bis", "2019"): 1,
        ("smuggling_411_bis", "2021"): 1,
    }
    # vocabulary order: trafficking before smuggling
    assert v["classification"].drop_duplicates().tolist() == [
        "trafficking_411_quater",
        "smuggling_411_bis",
    ]


def test_period_labels():
    assert an.period_label(pd.Period("2019-10-21", "W-SUN"), "week") == "2019-W43"
    assert an.period_label(pd.Period("2019-10", "M"), "month") == "2019-10"
    assert an.period_label(pd.Period("2019Q4", "Q"), "quarter") == "2019-Q4"
    assert an.period_label(pd.Period("2019", "Y"), "year") == "2019"
    with pytest.raises(ValueError, match="freq"):
        an.period_index(pd.Timestamp("2019-01-01"), pd.Timestamp("2019-02-01"), "day")


def test_small_share_and_choose_frequency(frame):
    assert an.small_share([0, 0, 3, 10, 2, 7], 5) == 0.5  # 3 and 2 of 4 non-zero cells
    assert an.small_share([0, 0], 5) == 0.0
    sel = sel_of(frame)
    # 3-year span -> months first; with k=2 most monthly cells hold 1 -> coarser to years,
    # where A has 2,1,1 and B 0,1,2 (3 of 5 non-zero cells < 2): the coarsest, year
    assert an.choose_frequency(sel, INFO, k=2) == "year"
    assert an.choose_frequency(sel, INFO, k=2, freq="month") == "month"
    short = sel_of(frame, period_start="2019-01-01", period_end="2019-03-01")
    # 60 days: weeks, kept when nothing is small (k=1)
    assert an.choose_frequency(short, INFO, k=1) == "week"


# ------------------------------------------------------------------------------- regions
def test_by_region_north_to_south_with_missing_and_not_recorded(frame):
    r = an.by_region(sel_of(frame), INFO, "region")
    a = an.counts_series(r, "A", "area")
    assert list(a.index[:3]) == ["15", "01", "02"]  # north first
    assert list(a.index[-2:]) == ["12", MISSING]
    assert a["15"] == 1 and a["13"] == 1 and a["12"] == 1 and a[MISSING] == 1
    assert a.sum() == 4
    b = an.counts_series(r, "B", "area")
    assert b.to_dict() == {NOT_RECORDED: 3}


def test_by_zone(frame):
    z = an.by_region(sel_of(frame), INFO, "zone")
    a = an.counts_series(z, "A", "area")
    assert a.to_dict() == {"north": 1, "centre": 1, "south": 0, "far_south": 1, MISSING: 1}
    assert an.zone_of("13") == "centre" and an.zone_of("16") == "south"
    assert sorted(c for codes in an.MACRO_ZONES.values() for c in codes) == sorted(
        an.canon.region_codes()
    )
    with pytest.raises(ValueError, match="level"):
        an.by_region(sel_of(frame), INFO, "commune")


def test_choose_region_level(frame):
    sel = sel_of(frame)
    assert an.choose_region_level(sel, INFO, k=2) == "zone"  # every non-zero region cell is 1
    assert an.choose_region_level(sel, INFO, k=1) == "region"


# ------------------------------------------------------------------------------- profile
def test_profile_sex_shows_missing_and_not_recorded(frame):
    # A records sex: female r0, r3; male r1; blank r2 (r4 undated is out)
    p = an.profile(sel_of(frame), INFO, "sex")
    a = an.counts_series(p, "A", "category")
    assert a.to_dict() == {"female": 2, "male": 1, "intersex": 0, MISSING: 1}
    b = an.counts_series(p, "B", "category")
    assert b.to_dict() == {"female": 2, "male": 0, "intersex": 0, MISSING: 1}
    p = an.profile(sel_of(frame), INFO, "nationality")
    assert an.counts_series(p, "B", "category").to_dict() == {NOT_RECORDED: 3}


def test_profile_leaves_out_categories_no_codebook_can_record(frame):
    info = dict(INFO)
    info["A"] = InstitutionInfo(
        "A", "offences", INFO["A"].recorded, possible={"sex": frozenset({"female", "male"})}
    )
    p = an.profile(sel_of(frame), info, "sex")
    # A's codebook maps only to female and male, B's gives no mapping: intersex is left out
    assert an.counts_series(p, "A", "category").to_dict() == {"female": 2, "male": 1, MISSING: 1}
    info["A"] = InstitutionInfo(
        "A", "offences", INFO["A"].recorded, possible={"sex": frozenset({"female"})}
    )
    p = an.profile(sel_of(frame), info, "sex")
    # male is not mappable by A but is present in the records: it stays
    assert list(an.counts_series(p, "A", "category").index) == ["female", "male", MISSING]
    real = an.institution_info("protest_violence")
    assert "intimate_partner" not in real["INDH"].possible["perpetrator_type"]
    assert "carabineros" in real["INDH"].possible["perpetrator_type"]


def test_age_bands_are_computed_from_age_not_imputed(frame):
    p = an.profile(sel_of(frame), INFO, "age_band")
    a = an.counts_series(p, "A", "category")
    # ages 16, 34, 60, blank -> 14-17, 30-44, 60+, missing
    assert a.to_dict() == {
        "0-13": 0,
        "14-17": 1,
        "18-29": 0,
        "30-44": 1,
        "45-59": 0,
        "60+": 1,
        MISSING: 1,
    }
    b = an.counts_series(p, "B", "category")
    assert b["18-29"] == 1 and b["0-13"] == 1 and b[MISSING] == 1
    edges = records([{"institution": "A", "age": x} for x in (13, 14, 17, 18, 59, 60)])
    assert an.age_bands(edges).tolist() == ["0-13", "14-17", "14-17", "18-29", "45-59", "60+"]


def test_nationality_profile_chile_first_top_and_coarse(frame):
    p = an.profile(sel_of(frame, institutions=["A"]), INFO, "nationality")
    a = an.counts_series(p, "A", "category")
    assert a.to_dict() == {"CHL": 1, "BOL": 2, "VEN": 1, MISSING: 0}
    p = an.profile(sel_of(frame, institutions=["A"]), INFO, "nationality", top=1)
    assert an.counts_series(p, "A", "category").to_dict() == {"BOL": 2, OTHER: 2, MISSING: 0}
    p = an.profile(sel_of(frame, institutions=["A"]), INFO, "nationality", coarse=True)
    assert an.counts_series(p, "A", "category").to_dict() == {"CHL": 1, "foreign": 3, MISSING: 0}


def test_coarse_values_and_choose_coarse(frame):
    assert an.coarse_value("age_band", "14-17") == "minor"
    assert an.coarse_value("indigenous_people", "mapuche") == "indigenous"
    assert an.coarse_value("indigenous_people", "none") == "none"
    assert an.coarse_value("migrant_status", "refugee_or_asylum_seeker") == "irregular_or_refugee"
    assert an.coarse_value("sex", "female") == "female"
    assert an.coarse_value("nationality", MISSING) == MISSING
    sel = sel_of(frame)
    assert an.choose_coarse(sel, INFO, "age_band", k=2)  # every non-zero cell is 1
    assert not an.choose_coarse(sel, INFO, "sex", k=2)  # no coarse grouping for sex
    assert not an.choose_coarse(sel, INFO, "age_band", k=1)


# -------------------------------------------------------------------------------- funnel
def test_stage_counts_are_disjoint_and_add_up(frame):
    s = an.stage_counts(sel_of(frame), INFO)
    assert set(s["institution"]) == {"A"}  # B does not record procedural stage
    a = an.counts_series(s, "A", "stage")
    assert a.to_dict() == {
        "complaint": 0,
        "investigation": 1,
        "formalisation": 0,
        "judicial_exit": 0,
        "conviction": 1,
        "non_judicial_exit": 1,
        MISSING: 1,
    }


def test_funnel_cumulative_definition():
    counts = {
        "complaint": 10,
        "investigation": 40,
        "formalisation": 20,
        "judicial_exit": 8,
        "conviction": 12,
        "non_judicial_exit": 30,
        MISSING: 5,
    }
    f = an.funnel(counts).set_index("step")
    # first step: every record with a stage = 10+40+20+8+12+30 = 120
    assert f.loc["complaint", "n"] == 120
    assert f.loc["investigation", "n"] == 40 + 20 + 8 + 12  # 80
    assert f.loc["formalisation", "n"] == 20 + 8 + 12  # 40
    assert f.loc["judicial_exit", "n"] == 8 + 12  # 20: a conviction is a judicial exit
    assert f.loc["conviction", "n"] == 12
    assert f.loc["non_judicial_exit", "n"] == 30
    assert f.loc[MISSING, "n"] == 5
    assert f.loc["conviction", "share_of_first"] == pytest.approx(0.1)
    assert math.isnan(f.loc[MISSING, "share_of_first"])
    assert list(f.index) == [*an.STAGES, "non_judicial_exit", MISSING]


def test_funnel_hides_small_steps_worked_out_by_subtraction():
    nan = np.nan
    counts = {
        "complaint": 0,
        "investigation": 100,
        "formalisation": 3,
        "judicial_exit": 20,
        "conviction": 4,
        "non_judicial_exit": 0,
        MISSING: 0,
        "Total": 127,
    }
    f = an.funnel(counts, k=5).set_index("step")
    assert f.loc["formalisation", "n"] == 27  # 3 + 20 + 4
    assert f.loc["judicial_exit", "n"] == 24
    assert math.isnan(f.loc["conviction", "n"])  # 4 < k: not shown
    # 103 records, 100 without a stage: "3 entered" must not appear by subtraction
    tiny = {
        "complaint": 0,
        "investigation": 0,
        "formalisation": 0,
        "judicial_exit": 0,
        "conviction": 0,
        "non_judicial_exit": nan,
        MISSING: 100,
        "Total": 103,
    }
    f = an.funnel(tiny, k=5).set_index("step")
    assert math.isnan(f.loc["complaint", "n"])
    assert an.funnel(tiny).set_index("step").loc["complaint", "n"] == 3  # without k: shown


def test_funnel_from_gated_counts_uses_only_what_is_visible():
    nan = np.nan
    # formalisation and conviction hidden; total known (127)
    counts = {
        "complaint": 0,
        "investigation": 100,
        "formalisation": nan,
        "judicial_exit": 20,
        "conviction": nan,
        "non_judicial_exit": 0,
        MISSING: 0,
        "Total": 127,
    }
    f = an.funnel(counts).set_index("step")
    assert f.loc["complaint", "n"] == 127
    assert f.loc["investigation", "n"] == 127  # 127 - complaint 0 - exit 0
    # >= formalisation = 127 - 0 - 100 - 0 = 27, known although two parts are hidden
    assert f.loc["formalisation", "n"] == 27
    assert math.isnan(f.loc["judicial_exit", "n"])  # 20 + hidden; 127 - (0+100+hidden) also unknown
    assert math.isnan(f.loc["conviction", "n"])
    # missing hidden and no total: the first step is the sum of the staged counts
    counts = {
        "complaint": 5,
        "investigation": 10,
        "formalisation": 0,
        "judicial_exit": 0,
        "conviction": 0,
        "non_judicial_exit": 6,
        MISSING: nan,
    }
    f = an.funnel(counts).set_index("step")
    assert f.loc["complaint", "n"] == 21


# ------------------------------------------------------------------- published comparison
def test_published_comparison_counts_records_in_each_figures_period(frame):
    figures = pd.DataFrame(
        {
            "id": ["x1", "x2", "x3"],
            "institution": ["PUB", "PUB", "PUB"],
            "metric": ["m", "m", "m"],
            "value": [10.0, 20.0, 5.0],
            "unit": ["persons"] * 3,
            "period_start": pd.to_datetime(["2020-01-01", "2021-01-01", "2010-01-01"]),
            "period_end": pd.to_datetime(["2020-12-31", "2021-12-31", "2010-12-31"]),
            "as_of": pd.to_datetime(["2022-01-01"] * 3),
            "source_url": ["https://example.org/a"] * 3,
        }
    )
    comps = [
        {"figure": "x1", "institution": "B", "where": {}, "date": None, "note": {}},
        {
            "figure": "x2",
            "institution": "B",
            "where": {"sex": ["female"]},
            "date": None,
            "note": {},
        },
        {"figure": "x1", "institution": "A", "where": {}, "date": "report_date", "note": {}},
        {"figure": "x3", "institution": "B", "where": {}, "date": None, "note": {}},
    ]
    out = an.published_comparison(
        frame, CS, INFO, figures, comparisons=comps, period_start="2015-01-01"
    )
    got = {(r.figure, r.institution): (r.n, r.unit, r.published_value) for r in out.itertuples()}
    assert got == {
        ("x1", "B"): (1, "persons", 10.0),  # B report dates in 2020: 2020-05-05
        ("x2", "B"): (1, "persons", 20.0),  # 2021 and female: 2021-07-07 only
        ("x1", "A"): (1, "offences", 10.0),  # A by report date in 2020: r4 (2020-01-01)
    }  # x3 (2010) ends before the page's period: left out
    assert (out["source_url"] == "https://example.org/a").all()
    out = an.published_comparison(frame, CS, INFO, figures, comparisons=comps, institutions=["A"])
    assert out["institution"].unique().tolist() == ["A"]
    # an entry's own period replaces the figure's for the records (x2 is 2021)
    own = [
        {
            "figure": "x2",
            "institution": "B",
            "where": {},
            "date": None,
            "period": ["2020-01-01", "2021-07-31"],
            "note": {},
        }
    ]
    out = an.published_comparison(frame, CS, INFO, figures, comparisons=own)
    assert out["n"].tolist() == [2]  # 2020-05-05 and 2021-07-07; not 2021-08-08
    assert out["period_end"].tolist() == [pd.Timestamp("2021-12-31")]  # the figure's, as published
    bad = [{"figure": "zz", "institution": "A", "where": {}, "date": None, "note": {}}]
    with pytest.raises(KeyError, match="zz"):
        an.published_comparison(frame, CS, INFO, figures, comparisons=bad)


def test_every_listed_comparison_names_a_real_figure_and_institution():
    from datajusta_lib.ingest import codebooks
    from datajusta_lib.ingest.published import published_figures

    for cs in an.canon.case_studies():
        ids = set(published_figures(cs)["id"])
        for c in an.comparable_figures(cs):
            assert c["figure"] in ids
            assert c["institution"] in codebooks.institutions(cs)
            assert c["note"]["es"] and c["note"]["en"]
            for col, values in c["where"].items():
                assert set(values) <= set(an.canon.vocabulary(col, cs))


# ------------------------------------------------------------------ codebook information
def test_institution_info_from_codebooks():
    info = an.institution_info("trafficking")
    assert info["FISCALIA"].unit == "offences"
    assert info["FISCALIA"].date_basis == "event_date"
    assert info["SPD_PAV"].date_basis == "report_date"  # no event date recorded
    assert not info["FISCALIA"].records("migrant_status")
    assert info["FISCALIA"].records("age_band")  # from its recorded age
    assert info["PDI"].records("migrant_status")


def test_definition_changes_grouped_by_date():
    ch = an.definition_changes(INFO, ["A", "B"])
    assert ch["date"].tolist() == [pd.Timestamp("2020-03-04")]
    assert ch["institutions"].tolist() == [("A",)]
    assert an.definition_changes(INFO, ["B"]).empty
    real = an.definition_changes(
        an.institution_info("attempted_femicide"), ["CARABINEROS", "FISCALIA", "SERNAMEG"]
    )
    row = real[real["date"] == pd.Timestamp("2020-03-04")].iloc[0]
    assert set(row["institutions"]) == {"CARABINEROS", "FISCALIA", "SERNAMEG"}
