"""The site-level disclosure check: every table and chart on the site passed the gate."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from datajusta_lib.analysis.display import TABLE_LINK_PREFIX, _stamp_attrs, figure_html, table_html
from datajusta_lib.gate import disclosure as dc
from datajusta_lib.gate.publish import gate_counts, publish_table

SLUG = "report--trafficking"


@pytest.fixture(autouse=True)
def _default_k(monkeypatch):
    monkeypatch.delenv(dc.K_ENV, raising=False)


def page(body: str, records: bool = True) -> str:
    banner = (
        '<div class="dj-banner dj-banner-synthetic" role="note"><p>Sintético</p></div>'
        if records
        else ""
    )
    return f"<!DOCTYPE html><html><body>{banner}<main>{body}</main></body></html>"


def write_site(tmp_path, body: str, tables, records: bool = True):
    site = tmp_path / "site"
    (site / "es" / "tables" / SLUG).mkdir(parents=True)
    html_text = page(body, records).replace(TABLE_LINK_PREFIX, f"tables/{SLUG}/")
    (site / "es" / f"{SLUG}.html").write_text(html_text, encoding="utf-8")
    for name, csv in tables:
        (site / "es" / "tables" / SLUG / f"{name}.csv").write_text(csv, encoding="utf-8")
    return site


def gated():
    return gate_counts(pd.Series({"a": 3, "b": 10, "c": 12, "d": 0}, name="n"), name="by_region")


def table_block(t):
    return table_html(
        t.table, caption="Casos", source="Sintético", name=t.name, lang="es", published=t
    )


def test_a_site_of_gated_tables_passes(tmp_path):
    g = gated()
    pub = publish_table(
        pd.DataFrame({"x": [1], "Fuente": ["https://a.cl"]}), name="pub", kind="published"
    )
    site = write_site(
        tmp_path, table_block(g) + table_block(pub), [(g.name, g.csv), (pub.name, pub.csv)]
    )
    assert dc.site_check(site) == []


def test_a_csv_changed_after_the_gate_is_refused(tmp_path):
    g = gated()
    site = write_site(tmp_path, table_block(g), [(g.name, g.csv.replace("[c]", "3", 1))])
    (problem,) = dc.site_check(site)
    assert "does not match its stamp" in problem and f"{SLUG}.html" in problem


def test_a_stamped_csv_with_a_small_visible_count_is_refused(tmp_path):
    # a table stamped by a (hypothetically) faulty gate: the hash matches, the rule does not
    from datajusta_lib.gate.publish import PublishedTable

    frame = pd.DataFrame({"category": ["a", "b", "Total"], "n": [3, 10, 13]}, dtype=object)
    bad = PublishedTable.create(name="bad", kind="counts", frame=frame, gate=dict(gated().gate))
    site = write_site(tmp_path, table_block(bad), [(bad.name, bad.csv)])
    problems = dc.site_check(site)
    assert any("visible count 3 is below k=5" in p for p in problems)


def test_a_hidden_cell_recoverable_from_the_csv_is_refused(tmp_path):
    from datajusta_lib.gate.publish import PublishedTable

    frame = pd.DataFrame({"category": ["a", "b", "Total"], "n": ["[c]", 10, 13]}, dtype=object)
    bad = PublishedTable.create(name="bad", kind="counts", frame=frame, gate=dict(gated().gate))
    site = write_site(tmp_path, table_block(bad), [(bad.name, bad.csv)])
    assert any("narrowed to [3, 3]" in p for p in dc.site_check(site))


def test_tables_and_csvs_outside_the_gate_are_refused(tmp_path):
    raw = pd.DataFrame({"n": [3]}).to_html()
    site = write_site(tmp_path, raw, [("loose", "n\n3\n")])
    problems = dc.site_check(site)
    assert any("a table that did not pass the publish gate" in p for p in problems)
    assert any("loose.csv: a downloadable table without a gate stamp" in p for p in problems)


def test_figures_on_records_pages_must_declare_gated_data(tmp_path):
    g = gated()
    fig, ax = plt.subplots()
    ax.bar(["b", "c"], [10, 12])
    try:
        loose = figure_html(fig, alt="Casos", source="Sintético")
        tied = figure_html(fig, alt="Casos", source="Sintético", gates=(g.sha256,))
    finally:
        plt.close(fig)
    data_link = (
        f'<p class="dj-figure-data" {_stamp_attrs(g)}>'
        f'<a class="dj-download" href="{TABLE_LINK_PREFIX}{g.name}-chart.csv">CSV</a></p>'
    )
    site = write_site(tmp_path, loose, [])
    assert any("declares no gated data" in p for p in dc.site_check(site))
    site = write_site(tmp_path / "b", tied + data_link, [(f"{g.name}-chart", g.csv)])
    assert dc.site_check(site) == []
    site = write_site(tmp_path / "c", tied, [])
    assert any("declares gated data not published on the page" in p for p in dc.site_check(site))
    site = write_site(tmp_path / "d", '<img src="x.png" alt="x">', [])
    assert any("image outside a gated figure" in p for p in dc.site_check(site))
    site = write_site(tmp_path / "e", loose, [], records=False)  # published figures need no gate
    assert dc.site_check(site) == []


def test_the_manifest_must_agree_with_the_files(tmp_path):
    g = gated()
    site = write_site(tmp_path, table_block(g), [(g.name, g.csv)])
    path = f"es/tables/{SLUG}/{g.name}.csv"
    manifest = {"pages": [{"tables": [{"path": path, "sha256": "0" * 64}]}]}
    (site / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert any("does not match its recorded hash" in p for p in dc.site_check(site))
