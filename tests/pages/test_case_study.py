"""CasePage sections on a small hand-made trafficking frame, gated with k=5.

Fiscalía (offences, placed in time by the event date): 20 dated records, 10 in 2019 and 10
in 2020, 8 classified as smuggling (411 bis) and 12 as trafficking (411 quáter); stages:
10 investigation, 5 judicial exit, 5 conviction; plus 6 undated records.
Apoyo a Víctimas (persons, placed in time by the report date): 10 records, 5 in 2019 and 5
in 2020, half 411 bis.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from _records_fixture import canonical_records

from datajusta_lib.gate.publish import gate_counts, gated_sources
from datajusta_lib.pages.case_study import CasePage, gated_frame

STAGES_OF_FISCALIA = ["investigation"] * 10 + ["judicial_exit"] * 5 + ["conviction"] * 5


def frame() -> pd.DataFrame:
    rows = []
    for i in range(20):
        rows.append(
            {
                "institution": "FISCALIA",
                "event_date": f"{2019 + i // 10}-0{1 + i % 9}-15",
                "classification": "smuggling_411_bis" if i < 8 else "trafficking_411_quater",
                "procedural_stage": STAGES_OF_FISCALIA[i],
                "region_code": "13",
                "sex": "female",
            }
        )
    for _ in range(6):
        rows.append({"institution": "FISCALIA", "classification": "trafficking_411_quater"})
    for i in range(10):
        rows.append(
            {
                "institution": "SPD_PAV",
                "report_date": f"{2019 + i // 5}-03-0{1 + i % 5}",
                "classification": "smuggling_411_bis" if i % 2 else "trafficking_411_quater",
                "migrant_status": "irregular",
                "region_code": "01",
            }
        )
    return canonical_records(rows, "trafficking")


@pytest.fixture(scope="module")
def page():
    return CasePage("trafficking", frame(), lang="es", seed=7, k=5)


def test_selection_and_scope(page):
    assert page.institutions == ("FISCALIA", "SPD_PAV")  # only institutions with records
    assert page.sel.start == pd.Timestamp("2019-01-01")
    assert page.sel.undated == {"FISCALIA": 6, "SPD_PAV": 0}
    assert "Fiscalía, Apoyo a Víctimas" in page.scope()
    assert "2 unidades distintas (delitos, personas)" in page.scope()
    assert page.source_line().startswith(
        "Fuente: datos sintéticos (generador Data Justa, semilla 7)."
    )


def test_coverage_table(page):
    t = page.coverage_table().table
    assert t["Registros en esta página"].tolist() == [20, 10]
    assert t["Fecha que ubica el registro en el tiempo"].tolist() == [
        "fecha del hecho",
        "fecha de ingreso (no registra la del hecho)",
    ]


def test_volumes_view_yearly_with_undated_in_the_gated_table(page):
    v = page.volumes_view()
    d = v.data
    assert d.loc[d["institution"] == "FISCALIA", "n"].tolist() == [10, 10]
    assert d.loc[d["institution"] == "SPD_PAV", "n"].tolist() == [5, 5]
    assert d["period"].unique().tolist() == ["2019", "2020"]
    fis = v.counts[0]
    assert fis.name == "volumes_fiscalia"
    assert fis.visible.tolist() == [10, 10, 6] and fis.totals["grand"] == 26
    assert "Fiscalía 6" in v.note  # the undated records, listed under the chart
    assert gated_sources(v.figure, v.counts) == v.counts


def test_classification_view_and_finding(page):
    v = page.classification_view()
    d = v.data.set_index(["institution", "category"])
    assert d.loc[("FISCALIA", "smuggling_411_bis"), "n"] == 8
    assert d.loc[("FISCALIA", "smuggling_411_bis"), "share"] == pytest.approx(8 / 20 * 100)
    assert d.loc[("SPD_PAV", "smuggling_411_bis"), "share"] == pytest.approx(50.0)
    assert page.finding() == (
        "Apoyo a Víctimas registra como tráfico de migrantes (art. 411 bis), y no como trata, "
        "50 % de lo que clasifica, y Fiscalía solo 40 %; solo 1 de 2 instituciones registran "
        "la situación migratoria de la víctima (Apoyo a Víctimas)."
    )


def test_funnel_view(page):
    v = page.funnel_view()
    f = v.data.set_index("step")
    assert set(v.data["institution"]) == {"FISCALIA"}  # Apoyo a Víctimas records no stage
    assert f["n"].tolist()[:5] == [20, 20, 10, 10, 5]
    assert f["share_of_first"].tolist()[:5] == [100, 100, 50, 50, 25]
    assert "Apoyo a Víctimas" in v.note  # named as not recording the stage


def test_profile_view_hides_small_cells_and_names_who_does_not_record(page):
    v = page.profile_view("migrant_status")
    d = v.data
    spd = d[d["institution"] == "SPD_PAV"].set_index("category")
    assert spd.loc["irregular", "n"] == 10
    assert "Fiscalía" in v.note
    v = page.profile_view("sex")
    fis = v.data[v.data["institution"] == "FISCALIA"].set_index("category")
    assert fis.loc["female", "n"] == 20


def test_comparison_view_uses_the_figures_in_the_page_period(page):
    v = page.comparison_view()
    d = v.data.set_index("figure")
    assert list(d.index) == ["tp04", "tp05"]  # 2019 and 2020; tp03 (2018), tp06 (2021) outside
    assert d["n"].tolist() == [5, 5]
    assert d["published_value"].tolist() == [19, 47]
    assert v.published.kind == "published"
    assert "source_url" not in v.published.table.columns  # shown as the Fuente/Source column
    assert any("Fuente" in c for c in v.published.table.columns)


def test_regional_page_skips_regions_and_comparison():
    p = CasePage("trafficking", frame(), lang="en", region="13", k=5)
    assert p.regions_view().figure is None
    assert "Metropolitana" in p.regions_view().note
    assert p.comparison_view().figure is None
    assert p.sel.outside_region == {"FISCALIA": 0, "SPD_PAV": 10}


def test_gated_frame_maps_gated_values_back():
    long = pd.DataFrame(
        {
            "institution": ["A", "A", "A", "B"],
            "unit": ["persons"] * 3 + ["cases"],
            "category": ["x", "y", "z", "not_recorded"],
            "n": [3, 40, 57, 9],
        }
    )
    g = gate_counts(pd.Series([3, 40, 57], index=["x", "y", "z"]), name="t", k=5)
    out = gated_frame(long, "category", {"A": g})
    a = out[out["institution"] == "A"]
    assert np.isnan(a["n"].iloc[0])  # 3 < k: hidden (and its complement too)
    assert a["total"].tolist() == [100.0] * 3
    b = out[out["institution"] == "B"]
    assert np.isnan(b["n"].iloc[0])  # not recorded: no count drawn


def test_attempted_femicide_finding_compares_full_years_around_the_ley_gabriela():
    # frustrado / tentado per year: 2019 15/5, 2020 10/10 (straddles the change: left out),
    # 2021 12/8, 2022 10/10 -> before 5/20 = 25 %, after 18/40 = 45 %
    counts = {2019: (15, 5), 2020: (10, 10), 2021: (12, 8), 2022: (10, 10)}
    rows = [
        {"institution": "FISCALIA", "event_date": f"{y}-06-{1 + i % 28:02d}", "classification": c}
        for y, (fr, te) in counts.items()
        for i, c in enumerate(["femicidio_frustrado"] * fr + ["femicidio_tentado"] * te)
    ]
    p = CasePage(
        "attempted_femicide",
        canonical_records(rows, "attempted_femicide"),
        lang="es",
        k=5,
        period_end="2022-12-31",
    )
    assert p.finding() == (
        "En Fiscalía, el femicidio tentado es 45 % de los femicidios frustrados y tentados "
        "registrados en 2021–2022, frente a 25 % en 2019, antes de la Ley Gabriela "
        "(4 de marzo de 2020)."
    )


def test_protest_violence_finding_leaves_unidentified_agents_and_blanks_out():
    # INDH: carabineros 30, pdi 5, unidentified 5, blank 10 -> 30 / (50 - 5 - 10) = 86 %
    values = ["carabineros"] * 30 + ["pdi"] * 5 + ["unknown_agent"] * 5 + [pd.NA] * 10
    rows = [
        {"institution": "INDH", "event_date": "2019-10-20", "perpetrator_type": v} for v in values
    ]
    p = CasePage("protest_violence", canonical_records(rows, "protest_violence"), lang="en", k=5)
    assert p.finding() == (
        "Where INDH identifies the agent's institution, 86% of its records point to Carabineros."
    )
    assert p.perpetrator_view() is p.perpetrator_view()  # the lead reads the page's own table


def _protest_page():
    values = ["carabineros"] * 30 + ["pdi"] * 5 + ["unknown_agent"] * 5 + [pd.NA] * 10
    rows = [
        {"institution": "INDH", "event_date": "2019-10-20", "perpetrator_type": v} for v in values
    ]
    return CasePage("protest_violence", canonical_records(rows, "protest_violence"), lang="en", k=5)


def test_findings_are_declared_as_data_for_every_case_study():
    from datajusta_lib.core.canon import case_studies
    from datajusta_lib.pages import case_study as cs

    for name in case_studies():
        spec = cs.finding_spec(name)  # checked: kind, view, required keys, texts
        assert spec["kind"] in cs._FINDINGS


def test_a_declared_finding_changes_the_lead_without_code(monkeypatch):
    from datajusta_lib.pages import case_study as cs

    spec = dict(cs.finding_spec("protest_violence"), values=["pdi"])
    monkeypatch.setattr(cs, "finding_spec", lambda name: spec)
    # INDH: pdi 5 of the 35 with an identified agent -> 14 %
    assert _protest_page().finding() == (
        "Where INDH identifies the agent's institution, 14% of its records point to Carabineros."
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "median"}, "kind 'median' is not one of"),
        ({"view": "_category_view"}, "is not a view of the case-study page"),
        ({"view": "nothing_view"}, "is not a view of the case-study page"),
        ({"text": "no_such_text"}, "no text ['no_such_text']"),
        ({"field": None}, None),
    ],
)
def test_a_wrong_finding_declaration_is_named(monkeypatch, change, message):
    from datajusta_lib.pages import case_study as cs

    spec = dict(cs._findings_file()["protest_violence"], **change)
    if change == {"field": None}:
        del spec["field"]
        message = "a first_share finding needs ['field']"
    monkeypatch.setattr(cs, "_findings_file", lambda: {"protest_violence": spec})
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        cs.finding_spec("protest_violence")
    assert "data/analysis/case_findings.yaml: protest_violence" in str(err.value)
