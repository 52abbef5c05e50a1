"""The published-figures notebook executes with papermill for each case study and language."""

from __future__ import annotations

import json

import nbformat
import pytest
from conftest import execute_notebook

from datajusta_lib.gate.publish import TABLE_MIMETYPE
from datajusta_lib.ingest import published as pub

pytestmark = pytest.mark.notebook


def outputs_of(nb, mimetype):
    return [
        out["data"][mimetype]
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if mimetype in out.get("data", {})
    ]


@pytest.mark.parametrize(
    ("case_study", "lang"),
    [("protest_violence", "es"), ("attempted_femicide", "en"), ("trafficking", "es")],
)
def test_published_figures_notebook_runs_clean(root, tmp_path, case_study, lang):
    out = tmp_path / "out.ipynb"
    execute_notebook(
        str(root / "notebooks/published_figures.ipynb"),
        str(out),
        parameters={"case_study": case_study, "lang": lang},
        cwd=str(root / "notebooks"),
    )
    nb = nbformat.read(out, as_version=4)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            assert o["output_type"] != "error"
            assert not (o["output_type"] == "stream" and o["name"] == "stderr"), o["text"]
    html = "\n".join(str(h) for h in outputs_of(nb, "text/html"))
    figs = pub.published_figures(case_study)
    for row in figs.itertuples():  # every figure appears with its source address
        assert row.id in html and row.source_url in html
    assert html.count("<img") == len(pub.families(figs))
    assert 'alt=""' not in html
    stamps = outputs_of(nb, TABLE_MIMETYPE)
    assert stamps and all(s["gate"]["passed"] for s in stamps)
    assert "published_figures" in {s["name"] for s in stamps}
    json.dumps(stamps)  # stamps are plain JSON (the renderer writes them to the manifest)
