"""The publish gate: kinds, immutable stamps, gated tables and figures in the display helpers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import pytest

from datajusta_lib.analysis.display import figure_html, table_html
from datajusta_lib.gate import disclosure as dc
from datajusta_lib.gate.publish import (
    TABLE_MIMETYPE,
    GatedCounts,
    PublishedTable,
    gate_counts,
    gated_sources,
    publish_table,
)
from datajusta_lib.site.execute import page_tables


@pytest.fixture(autouse=True)
def _default_k(monkeypatch):
    monkeypatch.delenv(dc.K_ENV, raising=False)


def check_table_stamp(stamp: dict) -> None:
    """What the site builder does with a table a page displays (render_pages.page_tables)."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("dj.show_table(...)")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": "<div></div>", TABLE_MIMETYPE: stamp}
        )
    ]
    nb.cells.append(cell)
    page_tables(nb)


def counts():
    return pd.Series({"a": 3, "b": 10, "c": 12}, name="n")


def test_kinds_and_their_requirements():
    with pytest.raises(ValueError, match="unknown table kind"):
        publish_table(pd.DataFrame({"x": [1]}), name="t", kind="raw")
    with pytest.raises(ValueError, match="source address"):
        publish_table(pd.DataFrame({"x": [1]}), name="t", kind="published")
    with pytest.raises(ValueError, match="origin"):
        publish_table(pd.DataFrame({"x": [1]}), name="t", kind="metadata")
    with pytest.raises(ValueError, match="observed"):
        publish_table(pd.DataFrame({"x": [1.0]}), name="t", kind="estimates")
    with pytest.raises(dc.DisclosureError, match="refused by default"):
        publish_table(pd.DataFrame({"x": [1]}), name="t", kind="records")
    with pytest.raises(ValueError, match="plain file name"):
        publish_table(pd.DataFrame({"Fuente": ["x"]}), name="../up", kind="published")
    meta = publish_table(
        pd.DataFrame({"field": ["sex"]}), name="fields", kind="metadata", origin="data/codebooks"
    )
    assert meta.gate == {
        "passed": True,
        "rule": "no_statistics_about_people",
        "origin": "data/codebooks",
    }


def test_counts_kind_runs_the_suppression_gate():
    t = publish_table(counts(), name="by_region", kind="counts")
    assert isinstance(t, GatedCounts)
    assert list(t.table["n"]) == [dc.SUPPRESSED, dc.SUPPRESSED, 12, 25]
    assert publish_table(t) is t  # an already gated table passes through unchanged


def test_stamp_is_fixed_at_the_gate():
    t = publish_table(counts(), name="by_region", kind="counts")
    stamp = t.stamp()
    copy = t.table
    copy.iloc[0, 1] = 3  # changing the handed-out copy changes nothing published
    assert t.stamp() == stamp
    check_table_stamp(stamp)


def test_altered_tables_and_stamps_are_refused():
    t = publish_table(counts(), name="by_region", kind="counts")
    stamp = t.stamp()
    forged = dict(stamp, csv=stamp["csv"].replace("[c]", "3", 1))
    with pytest.raises(Exception, match="changed after the publish gate"):
        check_table_stamp(forged)
    failed = dict(stamp, gate=dict(stamp["gate"], passed=False))
    with pytest.raises(Exception, match="did not pass"):
        check_table_stamp(failed)
    t._frame.iloc[0, 1] = 3  # reaching inside the object is caught too
    with pytest.raises(ValueError, match="changed after the publish gate"):
        t.stamp()


def test_gated_counts_for_charts():
    frame = pd.DataFrame(
        [[1, 20, 30], [25, 8, 40], [12, 15, 2]], index=list("xyz"), columns=list("ABC")
    )
    g = gate_counts(frame, name="t")
    vis = g.visible
    assert np.isnan(vis.loc["x", "A"]) and vis.loc["y", "B"] == 8
    assert g.totals["grand"] == 153
    shares = g.shares("rows")
    assert shares.loc["y"].sum() == pytest.approx(100.0)
    assert np.isnan(shares.loc["x", "A"])
    long = g.long()
    assert set(long.columns) == {"category", "column", "count", "suppressed"}
    assert long["suppressed"].sum() == 4


def test_table_html_carries_the_stamp_and_the_reader_note():
    g = gate_counts(counts(), name="by_region")
    html_text = table_html(g.table, caption="C", source="S", name=g.name, lang="es", published=g)
    assert f'data-dj-sha256="{g.sha256}"' in html_text
    assert 'data-dj-kind="counts"' in html_text
    assert "[c] = confidencial" in html_text and "entre 1 y 4" in html_text
    en = table_html(g.table, caption="C", source="S", name=g.name, lang="en", published=g)
    assert "[c] = confidential" in en


def _bar(values):
    fig, ax = plt.subplots()
    ax.bar([str(i) for i in range(len(values))], values)
    return fig


def test_a_figure_of_raw_small_counts_is_refused():
    fig = _bar([3, 10, 12])
    try:
        with pytest.raises(dc.DisclosureError, match="bar value 3"):
            gated_sources(fig, None)
    finally:
        plt.close(fig)


def test_a_figure_drawn_from_gated_counts_passes_and_is_tied_to_them():
    g = gate_counts(counts(), name="by_region")
    fig = _bar(g.visible.fillna(0).to_numpy())
    try:
        assert gated_sources(fig, g) == [g]
        html_text = figure_html(fig, alt="A", source="S", gates=(g.sha256,))
        assert f'data-dj-gate="{g.sha256}"' in html_text
    finally:
        plt.close(fig)


def test_figure_gate_rejects_objects_that_did_not_pass_it():
    fig = _bar([10, 12])
    try:
        with pytest.raises(dc.DisclosureError, match="passed the gate"):
            gated_sources(fig, pd.DataFrame({"n": [10, 12]}))
    finally:
        plt.close(fig)


def test_small_shares_from_gated_tables_are_allowed():
    g = gate_counts(pd.Series({"a": 40, "b": 1960}, name="n"), name="t")
    fig = _bar(g.shares().to_numpy())  # 2.0 % and 98.0 %
    try:
        assert dc.check_figure(fig) != []  # 2 looks like a small count on its own...
        assert gated_sources(fig, g) == [g]  # ...but it is a share of a gated table
    finally:
        plt.close(fig)


def test_published_table_is_a_dataclass_with_a_fixed_csv():
    t = PublishedTable.create(
        name="x", kind="metadata", frame=pd.DataFrame({"a": [1]}), gate={"passed": True}
    )
    assert t.csv == "a\n1\n"
    t.verify()
