"""The territorial view: counts per region north to south, rates per 100,000 and the gate.

Expected values are worked out by hand from small canonical frames and the census figures
in data/reference/regions.csv (e.g. Metropolitana 7,112,808: 30 records -> 0.42 per 100,000).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _codebook_fixture import write_codebooks

from datajusta_lib.core import canon
from datajusta_lib.gate import disclosure
from datajusta_lib.ingest import codebooks
from datajusta_lib.pages import territorial

CS = "trafficking"


@pytest.fixture(autouse=True)
def small_codebooks(tmp_path, monkeypatch):
    folder = write_codebooks(tmp_path)
    monkeypatch.setattr(codebooks, "codebooks_dir", lambda: folder)
    monkeypatch.delenv("DATAJUSTA_K", raising=False)


def recs(inst: str, region, n: int, date: str = "2020-06-01") -> list[dict]:
    # ALFA places records by the event date, BETA (no event date) by the report date
    return [
        {
            "institution": inst,
            "case_study": CS,
            "region_code": region,
            "event_date": pd.Timestamp(date) if inst == "ALFA" else pd.NaT,
            "report_date": pd.Timestamp(date),
        }
    ] * n


@pytest.fixture
def records() -> pd.DataFrame:
    rows = (
        recs("ALFA", "13", 30)
        + recs("ALFA", "15", 2)
        + recs("ALFA", "05", 10)
        + recs("ALFA", None, 6)
        + recs("ALFA", "13", 3, date="2009-01-01")  # before the offence existed: outside the period
        + recs("BETA", "08", 20)
        + recs("BETA", "16", 12)
    )
    return pd.DataFrame(rows)


@pytest.fixture
def counts(records) -> pd.DataFrame:
    sel = territorial.select(records, CS, institutions=["ALFA", "BETA"])
    return territorial.region_counts(sel.records, sel.institutions)


def test_regions_north_to_south_and_unsourced_denominators():
    r = territorial.regions_table()
    assert r["code"].iloc[0] == "15" and r["code"].iloc[-1] == "12"  # Arica first, Magallanes last
    assert territorial.unsourced_regions() == ["16", "08"]  # Ñuble and Biobío
    assert territorial.region_label("15", "es") == "Arica y Parinacota (XV)"
    assert territorial.region_label("13", "en") == "Santiago Metropolitan (RM)"


def test_region_counts_complete_grid_with_no_region_row(counts):
    alfa = counts[counts["institution"] == "ALFA"].set_index("order")
    assert len(alfa) == 17  # 16 regions + records without a region
    assert (
        alfa.loc[7, "region_code"] == "13" and alfa.loc[7, "count"] == 30
    )  # the 2009 records are out
    assert alfa.loc[1, "count"] == 2  # Arica y Parinacota
    assert alfa.loc[6, "count"] == 10  # Valparaíso
    assert pd.isna(alfa.loc[17, "region_code"]) and alfa.loc[17, "count"] == 6
    assert alfa["count"].sum() == 48
    beta = counts[counts["institution"] == "BETA"].set_index("region_code")
    assert beta.loc["08", "count"] == 20 and beta.loc["16", "count"] == 12
    assert beta["count"].sum() == 32


def test_rates_per_100000_with_census_denominator(counts):
    r = territorial.rates(counts).set_index(["institution", "order"])
    assert r.loc[("ALFA", 7), "population"] == 7_112_808
    assert r.loc[("ALFA", 7), "rate"] == pytest.approx(30 / 7_112_808 * 100_000)
    assert r.loc[("ALFA", 7), "rate"] == pytest.approx(0.42177, abs=1e-5)
    assert r.loc[("BETA", 10), "rate"] == pytest.approx(12 / 480_609 * 100_000)  # Ñuble
    assert not r.loc[("BETA", 10), "population_sourced"]
    assert r.loc[("ALFA", 7), "population_sourced"]
    assert np.isnan(r.loc[("ALFA", 17), "rate"])  # no region, no rate


def test_gate_hides_small_cells_and_a_complement(counts):
    # ALFA: Arica 2 (< k=5) is hidden; so that it cannot be recovered from the total (48),
    # the smallest other non-zero cell is hidden too: the 6 records without a region
    g = territorial.gate_regions(counts, "ALFA", CS, "es", k=5)
    f = g.frame.set_index("order")
    assert f.loc[1, "hidden"] and np.isnan(f.loc[1, "count"])
    assert f.loc[17, "hidden"]
    assert not f.loc[7, "hidden"] and f.loc[7, "count"] == 30
    assert f.loc[7, "rate"] == 0.4 and f.loc[6, "rate"] == 0.6  # 10 / 1,815,902 * 1e5 = 0.55
    assert g.counts.gate["primary_suppressed"] == 1 and g.counts.gate["secondary_suppressed"] == 1
    assert g.counts.totals["grand"] == 48
    # the published rate table hides the same rows
    rates = g.rates.table
    assert rates.iloc[0, 1] == disclosure.SUPPRESSED  # Arica's count
    assert rates.iloc[0, 3] == disclosure.SUPPRESSED  # and its rate
    assert g.unit == "persons"


def test_gate_keeps_zeros_and_flags_unsourced_rates(counts):
    g = territorial.gate_regions(counts, "BETA", CS, "en", k=5)
    f = g.frame.set_index("region_code")
    assert not f["hidden"].any()  # 20 and 12 are >= k; zeros are shown
    assert f.loc["01", "count"] == 0
    assert f.loc["16", "rate"] == 2.5 and not f.loc["16", "population_sourced"]
    src = g.rates.table.set_index("Region")["Source of the population"]
    assert src["Ñuble (XVI)"].startswith("no verified source")
    assert src["Arica y Parinacota (XV)"].startswith("https://")


def test_lead_finding_groups_institutions_by_region(counts):
    gated = territorial.gate_all(counts, CS, "es", k=5)
    assert territorial.lead_finding(gated, "es") == (
        "La región con más registros es Metropolitana (RM) para ALFA; Biobío (VIII) para BETA. "
        "Por población, la tasa por 100.000 habitantes más alta está en Valparaíso (V) para ALFA; "
        "Ñuble (XVI)† para BETA."
    )


def test_lead_finding_reports_visible_records_without_region():
    rows = recs("ALFA", "13", 40) + recs("ALFA", None, 10)
    sel = territorial.select(pd.DataFrame(rows), CS, institutions=["ALFA"])
    gated = territorial.gate_all(territorial.region_counts(sel.records, ["ALFA"]), CS, "en", k=5)
    assert territorial.lead_finding(gated, "en").endswith("Some records give no region: ALFA 20%.")


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_chart_regions_north_at_top_values_written(counts):
    gated = territorial.gate_all(counts, CS, "es", k=5)
    fig = territorial.plot_regions(gated, CS, "count", "es")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Arica y Parinacota (XV)" and labels[-1] == "Magallanes (XII)"
    bottom, top = ax.get_ylim()
    assert bottom > top  # the first region (north) is drawn at the top
    assert "30" in _texts(ax) and "10" in _texts(ax) and "[c]" in _texts(ax)
    assert ax.get_title(loc="left") == "ALFA · personas\nregistros sin región: [c]"
    assert "personas" in ax.get_xlabel()
    assert disclosure.check_figure(fig, [t for g in gated for t in g.tables]) == []


def test_rate_chart_marks_unsourced_regions(counts):
    gated = territorial.gate_all(counts, CS, "en", k=5)
    fig = territorial.plot_regions(gated, CS, "rate", "en")
    beta = fig.axes[1]
    assert "2.5†" in _texts(beta) and "1.3†" in _texts(
        beta
    )  # Ñuble 12/480,609; Biobío 20/1,556,805
    hatched = [p for p in beta.patches if p.get_hatch()]
    assert len(hatched) == 2
    key = fig.texts[-1].get_text()
    assert "† Ñuble was created in 2018" in key and "2,037,414" in key
    assert disclosure.check_figure(fig, [t for g in gated for t in g.tables]) == []


def test_alt_text_lists_every_region_with_hidden_and_flagged_values(counts):
    gated = territorial.gate_all(counts, CS, "es", k=5)
    alt = territorial.alt_text(gated, CS, "rate", "es")
    assert "ALFA (personas): Arica y Parinacota (XV) [c];" in alt
    assert "Ñuble (XVI) 2,5†" in alt
    assert alt.count("Magallanes (XII)") == 2  # one per panel


def test_population_source_is_visible_with_address_and_date():
    line = territorial.population_source_line("es")
    assert "22-12-2017" in line
    assert set(canon.regions()["source_url"].dropna()) <= set(line.split())


def test_what_region_means_uses_codebook_notes():
    t = territorial.what_region_means(CS, ["ALFA", "GAMMA"], "en")
    assert t.iloc[0].tolist()[:4] == ["ALFA", "persons", "«REGION»", "Region of the event."]
    assert t.iloc[1, 3] == "—"


def test_selection_by_institution_and_period(records):
    sel = territorial.select(
        records, CS, institutions=["BETA"], period_start="2020-01-01", period_end="2020-12-31"
    )
    assert set(sel.records["institution"]) == {"BETA"}
    assert len(sel.records) == 32
    none = territorial.select(records, CS, institutions=["ALFA"], period_end="2019-12-31")
    assert (
        len(none.records) == 0
    )  # the 2020 records are after the end; the 2009 ones before the law
    counts = territorial.region_counts(none.records, none.institutions)
    assert counts["count"].sum() == 0 and len(counts) == 17
    assert territorial.selection_sentence(sel, "en").startswith(
        "Period: 2020-01-01 to 2020-12-31. Institutions: BETA."
    )


def test_region_meaning_table_is_published_as_metadata():
    pub = territorial.what_region_means_table(CS, ["ALFA", "BETA"], "es")
    assert pub.kind == "metadata" and pub.name == "trafficking_region_meaning"
    assert pub.table.iloc[1].tolist()[:3] == ["BETA", "causas", "«REG»"]
    assert territorial.page_title(CS, "en") == "The regions, north to south: Human trafficking"
