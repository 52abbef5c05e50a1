"""Issue 14, points 6 and 7: no hidden cell recoverable by differencing the tables of one page,
and hidden cells are known to hold at least 1 when zeros are shown.

The attacks are run as a reader would: on the published CSVs only, matching rows by their
labels across the tables of one page."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from datajusta_lib.gate import disclosure as dc
from datajusta_lib.pages import audit as au

try:  # absent before issue 14: the attacks below then show what the old gate published
    from datajusta_lib.gate import linked
except ImportError:  # pragma: no cover
    linked = None
from datajusta_lib.analysis.display import TABLE_LINK_PREFIX, banner, table_html
from datajusta_lib.gate.publish import PublishedTable, gate_counts, gate_estimates

SUP = dc.SUPPRESSED
SLUG = "data_justice_audit--trafficking"
# the synthetic trafficking world (seed 2019): rows accepted and quarantined per institution
INGESTION = {
    "CARABINEROS": (149, 3),
    "FISCALIA": (1931, 20),
    "OSC": (537, 4),
    "PDI": (1079, 8),
    "SERMIG": (789, 8),
    "SPD_PAV": (447, 4),
}
IDENTIFIER = {"CARABINEROS": "none", "OSC": "none", "FISCALIA": "RUN"}


@pytest.fixture(autouse=True)
def _page(monkeypatch):
    monkeypatch.delenv(dc.K_ENV, raising=False)
    books = [
        SimpleNamespace(
            institution=i, identifier_kind=IDENTIFIER.get(i, "passport"), recorded=("sex",)
        )
        for i in INGESTION
    ]
    monkeypatch.setattr(au, "_codebooks", lambda case_study: books)
    yield
    stop = getattr(linked, "stop_page", None)
    if stop:
        stop()


def audit_records() -> pd.DataFrame:
    rows = [
        {"institution": inst, "person_key": None}
        for inst, (accepted, _) in INGESTION.items()
        for _ in range(accepted)
    ]
    records = pd.DataFrame(rows)
    records.attrs["ingestion"] = [
        {"institution": i, "n_read": a + q, "n_accepted": a, "n_rejected": q}
        for i, (a, q) in INGESTION.items()
    ]
    return records


def read(t) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(t.csv), dtype=str, keep_default_na=False)


def differencing_attack(ingestion: pd.DataFrame, others: list[pd.DataFrame]) -> dict:
    """The reader's attack of issue 14: the ingestion table hides an institution's quarantined
    rows but shows its total; another table of the page shows its accepted rows (the column
    'Records'): quarantined = total - accepted. Returns {institution: recovered value}."""
    accepted = {}
    for t in others:
        label = t.columns[0]
        if "Records" in t.columns:
            for inst, v in zip(t[label], t["Records"], strict=True):
                if v != SUP:
                    accepted[inst] = int(v)
        if "Total" in t.columns and t.columns[0] == "Institution":  # a row total
            for inst, v in zip(t[label], t["Total"], strict=True):
                if v != SUP and inst != "Total":
                    accepted[inst] = int(v)
    out = {}
    for _, row in ingestion.iterrows():
        inst = row["Institution"]
        if row["Quarantined"] == SUP and row["Total"] != SUP and inst in accepted:
            out[inst] = int(row["Total"]) - accepted[inst]
    return out


def audit_page():
    """The trafficking audit page's tables of rows by institution, in page order."""
    records = audit_records()
    banner("synthetic", "en")  # a page starts
    ident = au.identifier_table("trafficking", records, "en")
    by_class = au.reidentification_counts(
        [
            au.Reidentification(i, a, ("sex",), a // 3, a // 3 + a // 4, None, 0, 0)
            for i, (a, _) in INGESTION.items()
        ],
        5,
        "en",
    )
    ingestion = au.ingestion_table(records, "en")
    return [ident, by_class, ingestion]


# ----------------------------------------------------------------------------- point 6
def test_the_differencing_attack_on_the_audit_page_recovers_nothing():
    ident, by_class, ingestion = audit_page()
    recovered = differencing_attack(read(ingestion), [read(ident), read(by_class)])
    # before the fix: {'Carabineros': 3, 'OSC': 4, 'Apoyo a Víctimas': 4}
    assert recovered == {}
    # the small cells are still hidden
    t = read(ingestion).set_index("Institution")
    assert t.loc["Carabineros", "Quarantined"] == SUP
    assert t.loc["Fiscalía", "Quarantined"] == "20"


def write_page(tmp_path, tables) -> object:
    site = tmp_path / "site"
    folder = site / "en" / "tables" / SLUG
    folder.mkdir(parents=True)
    body = "".join(
        table_html(t.table, caption=t.name, source="Synthetic", name=t.name, lang="en", published=t)
        for t in tables
    ).replace(TABLE_LINK_PREFIX, f"tables/{SLUG}/")
    banner_html = '<div class="dj-banner dj-banner-synthetic" role="note"><p>S</p></div>'
    (site / "en" / f"{SLUG}.html").write_text(
        f"<!DOCTYPE html><html><body>{banner_html}<main>{body}</main></body></html>",
        encoding="utf-8",
    )
    for t in tables:
        (folder / f"{t.name}.csv").write_text(t.csv, encoding="utf-8")
    return site


def test_the_site_check_runs_the_attack_on_a_rendered_page(tmp_path):
    tables = audit_page()
    site = write_page(tmp_path, tables)
    assert linked.site_check(site) == []
    assert dc.site_check(site) == []
    # today's ingestion table (total shown, accepted hidden) with the same stamp: refused
    ingestion = tables[-1]
    # (the audit now withholds the cross-institution Total row: today's table still showed it)
    labels = [*ingestion.table["Institution"]]
    today = pd.DataFrame(
        {
            "Institution": labels if "Total" in labels else [*labels, "Total"],
            "Accepted": [SUP, 1931, SUP, 1079, 789, SUP, 4932],
            "Quarantined": [SUP, 20, SUP, 8, 8, SUP, 47],
            "Total": [152, 1951, 541, 1087, 797, 451, 4979],
        },
        dtype=object,
    )
    gate = {k: v for k, v in ingestion.gate.items() if k != "total_row"}
    bad = PublishedTable.create(name=ingestion.name, kind="counts", frame=today, gate=gate)
    site = write_page(tmp_path / "today", [*tables[:-1], bad])
    problems = linked.site_check(site)
    assert any(
        "'accepted_and_quarantined' row 'Carabineros' column 'Quarantined'" in p
        and "narrowed to [3, 3]" in p
        for p in problems
    ), problems
    assert any("row 'OSC' column 'Quarantined'" in p and "[4, 4]" in p for p in problems)


def test_tables_that_contradict_their_links_are_reported(tmp_path):
    tables = audit_page()
    ident = tables[0]
    frame = ident.table
    frame.loc[0, "Records"] = 150  # not the 149 accepted rows the other tables show
    bad = PublishedTable.create(name=ident.name, kind="estimates", frame=frame, gate=ident.gate)
    site = write_page(tmp_path, [bad, *tables[1:]])
    assert any("the links are declared wrongly" in p for p in linked.site_check(site))


def test_a_cell_hidden_in_one_table_and_shown_in_another_is_hidden_in_both():
    banner("synthetic", "en")
    link = linked.Link("people", rows="region")
    first = gate_counts(pd.Series({"a": 3, "b": 10, "c": 12}, name="n"), name="one", link=link)
    assert read(first)["n"].tolist() == [SUP, SUP, "12", "25"]
    # a second table of the same people by region and sex: b (10) must not appear in it
    two = pd.DataFrame({"f": [2, 5, 6], "m": [1, 5, 6]}, index=["a", "b", "c"])
    second = gate_counts(two, name="two", link=linked.Link("people", rows="region", columns="sex"))
    t = read(second).set_index("category")
    assert t.loc["b", "Total"] == SUP and t.loc["a", "Total"] == SUP
    assert linked.joint_findings([p for p in linked._LEDGER.values()]) == []


def test_outside_a_page_tables_stand_alone():
    linked.stop_page()
    link = linked.Link("people", rows="region")
    gate_counts(pd.Series({"a": 3, "b": 10, "c": 12}, name="n"), name="one", link=link)
    assert linked.page_tables() == []


def test_a_subtotal_group_ties_the_undated_row_to_the_dated_records():
    # the trafficking page: volumes by year with an undated row (total 149) and a coverage
    # table showing the 145 dated records: undated = 149 - 145 unless the gate hides more
    banner("synthetic", "en")
    cov = linked.Link("page_records", rows="institution", fixed={"dated": "yes"})
    coverage = gate_estimates(
        pd.DataFrame({"Institution": ["Carabineros", "PDI"], "Records": [145, 1044]}),
        name="coverage",
        observed="Records",
        link=cov,
    )[0]
    assert coverage["Records"].tolist() == [145, 1044]
    years = [str(y) for y in range(2011, 2016)]
    series = pd.Series([2, 40, 50, 51, 2, 4], index=[*years, "undated"], name="n")
    link = linked.Link(
        "page_records",
        rows="period",
        fixed={"institution": "Carabineros"},
        labels={"undated": {"dated": "no"}},
        groups=(({"dated": "yes"}, tuple(years)),),
    )
    g = gate_counts(series, name="volumes_carabineros", link=link)
    t = read(g).set_index("category")
    assert t.loc["undated", "n"] == SUP
    assert t.loc["Total", "n"] == SUP  # 149 would give undated = 149 - 145
    assert linked.joint_findings(list(linked._LEDGER.values())) == []


# ----------------------------------------------------------------------------- point 7
def test_hidden_cells_are_at_least_one_when_zeros_are_shown():
    # two hidden cells adding up to 4: with a lower bound of 0 each could be empty; but zeros
    # are shown, so each holds 1..3 people
    gate = {
        "passed": True,
        "k": 5,
        "shape": "1d",
        "label_columns": ["g"],
        "count_columns": ["n"],
        "total_label": "Total",
        "suppressed_marker": SUP,
        "rounding": None,
        "zeros": "shown",
    }
    csv = "g,n\na,[c]\nb,[c]\nc,10\nTotal,14\n"
    problems = dc.check_counts_csv(csv, gate)
    assert any("narrowed to [1, 3]" in p for p in problems), problems
    assert dc.check_counts_csv(csv, dict(gate, zeros=None)) == []  # zeros not implied: 0..4
    # the gate no longer publishes such a pattern: it hides a third cell
    g = gate_counts(pd.Series({"a": 2, "b": 2, "c": 10}, name="n"), name="t")
    assert read(g)["n"].tolist() == [SUP, SUP, SUP, "14"]
    lo, hi = g.result.intervals()
    assert lo[0] == 1 and hi[0] >= 5
    assert g.gate["verification"]["hidden_lower_bound"] == 1


def test_todays_published_patterns_that_pin_a_cell_between_1_and_4_are_now_protected():
    # patterns the gate published before (lower bound 0): a line whose hidden cells add up
    # to less than k + 1, so each is 1..4 once a hidden cell is known to hold at least 1
    cases = [
        pd.Series({"a": 3, "b": 1, "c": 20}, name="n"),
        pd.Series({"a": 2, "b": 2, "c": 2, "d": 30}, name="n"),
        pd.DataFrame({"x": [1, 40, 30], "y": [3, 50, 60]}, index=["p", "q", "r"]),
    ]
    for data in cases:
        g = gate_counts(data, name="t")
        lo, hi = g.result.intervals()
        hidden = np.flatnonzero(g.result.suppressed)
        assert hidden.size
        assert all(hi[c] >= 5 and lo[c] >= 1 for c in hidden), (data, lo, hi)
        assert dc.check_counts_csv(g.csv, g.gate) == []


def test_the_stamp_says_zeros_are_shown_and_the_link():
    banner("synthetic", "en")
    g = gate_counts(
        pd.Series({"a": 30, "b": 10}, name="n"), name="t", link=linked.Link("people", rows="r")
    )
    assert g.gate["zeros"] == "shown"
    assert linked.Link.from_json(json.loads(json.dumps(g.gate["link"]))).key("a") == (
        linked.cell_key("people", {"r": "a"})
    )


def test_the_undated_cell_of_the_trafficking_page_is_not_total_minus_coverage():
    # the trafficking page's attack: the volumes table hides the undated records (and a
    # complement) but shows its total; the coverage table shows the dated records
    from datajusta_lib.core.contracts import RECORD_COLUMNS
    from datajusta_lib.pages.case_study import CasePage

    rows = [
        {"event_date": f"{2019 + i // 10}-0{1 + i % 9}-15", "region_code": "13"} for i in range(20)
    ] + [{"region_code": "13"}] * 3  # 3 undated
    df = pd.DataFrame(
        [
            {
                **{c: pd.NA for c in RECORD_COLUMNS},
                **r,
                "institution": "FISCALIA",
                "case_study": "trafficking",
                "classification": "trafficking_411_quater",
                "record_id": f"r{i}",
                "source_file": "f.csv",
                "source_row": i + 2,
            }
            for i, r in enumerate(rows)
        ],
        columns=RECORD_COLUMNS,
    )
    for c in ("event_date", "report_date"):
        df[c] = pd.to_datetime(df[c])
    banner("synthetic", "en")
    page = CasePage("trafficking", df, lang="en", k=5)
    coverage = read(page.coverage_table())
    volumes = read(page.volumes_view(freq="year").counts[0])
    dated = int(coverage.iloc[0, -1])
    assert dated == 20
    undated, total = volumes.iloc[-2, 1], volumes.iloc[-1, 1]
    assert undated == SUP
    recovered = None if total == SUP else int(total) - dated
    # before the fix: 23 - 20 = 3
    assert recovered is None


PDI_REGIONS = {  # the trafficking page's PDI regions table as published before issue 14
    "Arica y Parinacota": 97,
    "Tarapacá": 73,
    "Antofagasta": 91,
    "Atacama": SUP,
    "Coquimbo": 12,
    "Valparaíso": 52,
    "Metropolitana": 488,
    "O'Higgins": 16,
    "Maule": 41,
    "Ñuble": 6,
    "Biobío": 47,
    "La Araucanía": 13,
    "Los Ríos": 11,
    "Los Lagos": 15,
    "Aysén": SUP,
    "Magallanes": 51,
    "missing (left blank)": 28,
    "Total": 1044,
}


def test_the_published_pdi_regions_table_pinned_two_cells_between_1_and_2():
    # one of the 14 cells (per language) of the site rendered before issue 14: Atacama +
    # Aysén = 1044 - 1041 = 3, each at least 1 since zeros are shown: each is 1 or 2
    csv = "Region,n\n" + "".join(f"{r},{v}\n" for r, v in PDI_REGIONS.items())
    gate = gate_counts(pd.Series({"a": 30, "b": 2}, name="n"), name="t").gate
    gate = dict(gate, label_columns=["Region"], count_columns=["n"])
    problems = dc.check_counts_csv(csv, gate)
    assert len(problems) == 2 and all("narrowed to [1, 2]" in p for p in problems), problems
    # the gate now hides a third region (the smallest, Ñuble's 6)
    counts = {
        r: (1 if r == "Atacama" else 2 if r == "Aysén" else v) for r, v in PDI_REGIONS.items()
    }
    del counts["Total"]
    g = gate_counts(pd.Series(counts, name="n"), name="regions_pdi")
    t = read(g).set_index("category")["n"]
    assert t["Atacama"] == t["Aysén"] == t["Ñuble"] == SUP
    assert dc.check_counts_csv(g.csv, g.gate) == []


def test_a_table_that_cannot_protect_an_earlier_difference_is_refused():
    # accepted (149) and read (152) rows are both shown by earlier tables: the quarantined 3
    # of a later table is their difference whatever that table hides
    banner("synthetic", "en")
    names = ["Carabineros", "Fiscalía"]
    gate_estimates(
        pd.DataFrame({"Institution": names, "Records": [149, 1931]}),
        name="accepted",
        observed="Records",
        link=linked.Link("rows_read", rows="institution", fixed={"status": "accepted"}),
    )
    gate_estimates(
        pd.DataFrame({"Institution": names, "Read": [152, 1951]}),
        name="read",
        observed="Read",
        link=linked.Link("rows_read", rows="institution"),
    )
    link = linked.Link(
        "rows_read",
        rows="institution",
        columns="status",
        labels={"Accepted": {"status": "accepted"}, "Quarantined": {"status": "quarantined"}},
    )
    counts = pd.DataFrame({"Accepted": [149, 1931], "Quarantined": [3, 20]}, index=names)
    with pytest.raises(dc.DisclosureError) as err:
        gate_counts(counts, name="accepted_and_quarantined", link=link)
    message = str(err.value)
    assert "cannot protect the page's tables jointly" in message
    assert "row 'Carabineros' column 'Quarantined'" in message and "[3, 3]" in message
