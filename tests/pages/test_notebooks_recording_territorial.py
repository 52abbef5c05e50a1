"""The recording-practices and territorial notebooks execute cleanly on the synthetic data."""

from __future__ import annotations

import re

import nbformat
import pytest
from conftest import execute_notebook

from datajusta_lib.core.i18n import text
from datajusta_lib.gate.publish import TABLE_MIMETYPE

pytestmark = pytest.mark.notebook


def run(root, tmp_path, notebook: str, parameters: dict):
    out = tmp_path / f"{notebook}.out.ipynb"
    execute_notebook(
        str(root / "notebooks" / f"{notebook}.ipynb"),
        str(out),
        parameters=parameters,
        cwd=str(root / "notebooks"),
    )
    return nbformat.read(out, as_version=4)


def html_of(nb) -> str:
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            h = o.get("data", {}).get("text/html")
            if h:
                parts.append("".join(h) if isinstance(h, list) else h)
    return "\n".join(parts)


def markdown_of(nb) -> str:
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            m = o.get("data", {}).get("text/markdown")
            if m:
                parts.append("".join(m) if isinstance(m, list) else m)
    return "\n".join(parts)


def assert_clean(nb) -> None:
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            assert o["output_type"] != "error", o.get("evalue")
            assert not (o["output_type"] == "stream" and o["name"] == "stderr"), o["text"]


def assert_accessible_gated_figures(html: str, n_figures: int) -> None:
    figures = re.findall(
        r'<figure class="dj-figure" data-dj-gate="([^"]*)"><img [^>]*alt="([^"]*)"', html
    )
    assert len(figures) == n_figures
    for gates, alt in figures:
        assert gates and gates != "none"  # every figure declares the gated data it was drawn from
        assert len(alt) > 40  # a real text alternative, not a placeholder
    assert html.count('class="dj-source"') >= n_figures  # a source line under each


def stamps(nb) -> list[dict]:
    return [
        o["data"][TABLE_MIMETYPE]
        for cell in nb.cells
        for o in cell.get("outputs", [])
        if TABLE_MIMETYPE in o.get("data", {})
    ]


def test_recording_practices_notebook(root, tmp_path):
    nb = run(
        root, tmp_path, "recording_practices", {"case_study": "attempted_femicide", "lang": "en"}
    )
    assert_clean(nb)
    html = html_of(nb)
    assert text("banner_synthetic", "en") in html
    assert_accessible_gated_figures(html, 3)  # matrix, timeline, linkage
    md = markdown_of(nb)
    assert "# How each institution records: Attempted femicide" in md
    assert "3 of 6 institutions record alleged perpetrator" in md  # the lead finding
    # chart data may be published under "<name>-chart" (display.show_figure)
    kinds = {s["name"].removesuffix("-chart"): s["kind"] for s in stamps(nb)}
    assert kinds["attempted_femicide_recording_completeness"] == "estimates"
    assert kinds["attempted_femicide_units_of_count"] == "metadata"
    assert all(s["gate"]["passed"] for s in stamps(nb))


def test_territorial_notebook(root, tmp_path):
    nb = run(root, tmp_path, "territorial", {"case_study": "trafficking", "lang": "es"})
    assert_clean(nb)
    html = html_of(nb)
    assert text("banner_synthetic", "es") in html
    # real open data first (tile map, counts, national rates), then synthetic counts and rates
    assert_accessible_gated_figures(html, 5)
    md = markdown_of(nb)
    assert "# Las regiones, de norte a sur: Trata de personas" in md
    assert "La región con más registros es" in md
    # rates per 100,000 per year over INE's projections (which give Ñuble and Biobío apart)
    assert "Por población, la tasa anual por 100.000 habitantes más alta" in md
    assert "† Ñuble se creó en 2018" not in md
    kinds = [s["kind"] for s in stamps(nb) if not s["name"].startswith("open_")]
    assert kinds.count("counts") == 6 and kinds.count("estimates") == 6  # one per institution
    for s in stamps(nb):
        if s["kind"] == "counts":
            assert s["gate"]["rule"] == "small_cell_suppression"
