"""The "unrecorded victims" notebook executes with papermill on the synthetic default and
renders a clean page: no error, nothing on stderr, the synthetic banner, the estimate in words,
a figure declaring its gated table, gated tables only, the four assumptions."""

from __future__ import annotations

import re

import nbformat
import pytest
from conftest import execute_notebook

from datajusta_lib.gate.publish import TABLE_MIMETYPE

pytestmark = pytest.mark.notebook


def outputs(nb, mimetype):
    return [
        out["data"][mimetype]
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if mimetype in out.get("data", {})
    ]


# one page keeps CI short; trafficking has lists without identifiers, the path most likely to
# break. The other case studies and Spanish are covered by tests/test_mse_report.py.
@pytest.mark.parametrize(("case_study", "lang"), [("trafficking", "en")])
def test_unrecorded_victims_notebook_runs_clean(root, tmp_path, case_study, lang):
    out = tmp_path / f"{case_study}.ipynb"
    execute_notebook(
        str(root / "notebooks/unrecorded_victims.ipynb"),
        str(out),
        parameters={"case_study": case_study, "lang": lang, "source": "synthetic"},
        cwd=str(root / "notebooks"),
    )
    nb = nbformat.read(out, as_version=4)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            assert o["output_type"] != "error", o.get("evalue")
            assert not (o["output_type"] == "stream" and o["name"] == "stderr"), o["text"]
    html = "\n".join(map(str, outputs(nb, "text/html")))
    md = "\n".join(map(str, outputs(nb, "text/markdown")))
    assert "dj-banner-synthetic" in html
    words = ("estimated total", "BCa", "Closed population", "hold no identifier")
    for w in words:
        assert w in md, w
    assert len(re.findall(r"^\d\. \*\*", md, flags=re.M)) == 4  # the four assumptions
    figures = re.findall(r'<figure class="dj-figure" data-dj-gate="([^"]+)"', html)
    assert len(figures) == 1 and figures[0] != "none"
    stamps = outputs(nb, TABLE_MIMETYPE)
    names = {s["name"] for s in stamps}
    assert {"unrecorded_estimate", "unrecorded_by_model"} <= names
    assert 'data-dj-table="persons_by_list"' in html  # the figure's data, published beside it
    assert all(s["gate"]["passed"] for s in stamps)
    assert {s["kind"] for s in stamps} <= {"counts", "estimates"}
