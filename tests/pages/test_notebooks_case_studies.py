"""The three case-study notebooks execute with papermill on the synthetic default and render
clean pages: no error, nothing on stderr, no warning, the synthetic banner, every image with
alt text, every figure declaring the gated tables it was drawn from."""

from __future__ import annotations

import re

import nbformat
import pytest
from conftest import execute_notebook

from datajusta_lib.core.i18n import text
from datajusta_lib.gate.publish import TABLE_MIMETYPE

pytestmark = pytest.mark.notebook


def html_of(nb) -> str:
    return "\n".join(
        str(out["data"]["text/html"])
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if "text/html" in out.get("data", {})
    )


def markdown_of(nb) -> str:
    return "\n".join(
        str(out["data"]["text/markdown"])
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if "text/markdown" in out.get("data", {})
    )


@pytest.mark.parametrize(
    ("case_study", "lang", "expect"),
    [
        ("trafficking", "es", "411 bis"),
        ("attempted_femicide", "en", "Ley Gabriela"),
        ("protest_violence", "es", "Carabineros"),
    ],
)
def test_case_study_notebook_runs_clean(root, tmp_path, case_study, lang, expect):
    out = tmp_path / f"{case_study}.ipynb"
    execute_notebook(
        str(root / f"notebooks/{case_study}.ipynb"),
        str(out),
        parameters={"case_study": case_study, "lang": lang, "source": "synthetic"},
        cwd=str(root / "notebooks"),
    )
    nb = nbformat.read(out, as_version=4)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            assert o["output_type"] != "error", o.get("evalue")
            assert not (o["output_type"] == "stream" and o["name"] == "stderr"), o["text"]
            assert "Warning" not in str(o.get("text", "")), o.get("text")
    html = html_of(nb)
    md = markdown_of(nb)
    assert "dj-banner-synthetic" in html
    # the page leads with real open data; the synthetic demonstration follows, under its banner
    headings = re.findall(r"^## (.+)$", md, re.M)
    assert headings[0] == text("open_data.real_heading", lang), headings[:3]
    synthetic = md.split(f"## {text('open_data.synthetic_heading', lang)}", 1)[1]
    assert html.index("dj-banner-published") < html.index("dj-banner-synthetic")
    # ... and the synthetic section leads with a finding specific to its case study
    lead = synthetic.split("**")[1]
    assert expect in lead, lead
    imgs = re.findall(r"<img [^>]*>", html)
    assert len(imgs) >= 8
    for img in imgs:
        alt = re.search(r'alt="([^"]*)"', img)
        assert alt and len(alt.group(1)) > 40, img[:200]
    # every figure says which gated tables it was drawn from, and those tables are stamped
    figures = re.findall(r'<figure class="dj-figure" data-dj-gate="([^"]*)"', html)
    assert figures and all(g and g != "none" for g in figures)
    stamps = [
        o["data"][TABLE_MIMETYPE]
        for cell in nb.cells
        for o in cell.get("outputs", [])
        if TABLE_MIMETYPE in o.get("data", {})
    ]
    shas = {s["sha256"] for s in stamps}
    assert all(set(g.split(",")) <= shas for g in figures)
    assert all(s["gate"]["passed"] for s in stamps)
    assert {s["kind"] for s in stamps} <= {"counts", "estimates", "published"}
    names = [s["name"] for s in stamps]
    assert len(names) == len(set(names)), "table names must be unique on a page"
    # the published figures shown beside the records carry their source addresses
    assert "published_beside_records" in names
