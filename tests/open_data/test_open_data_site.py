"""Real data are labelled real and synthetic data synthetic on the rendered site
(``datajusta_lib.open_data.site_check``, a render check)."""

from __future__ import annotations

import nbformat
import pytest
from _render_fixture import report, write_reports

from datajusta_lib.open_data import site_check
from datajusta_lib.site.render import SITE_CHECKS, render_site


def _fig(alt: str, source: str, caption: str = "") -> str:
    cap = f"<p>{caption}</p>" if caption else ""
    return (
        '<figure class="dj-figure" data-dj-gate="x"><img src="data:image/png;base64,AA" '
        f'alt="{alt}"><figcaption>{cap}<p class="dj-source">{source}</p></figcaption></figure>'
    )


REAL = _fig("Datos reales. Causas por año.", "Datos reales · Poder Judicial · unidad: causas")
SYN = _fig(
    "Registros por año de cada institución.", "Fuente: datos sintéticos (generador Data Justa)"
)


def _page(*parts: str) -> str:
    return "<html><body><h1>Trata</h1>" + "".join(parts) + "</body></html>"


REAL_H = "<h2>Lo que publicaron las instituciones: datos abiertos reales</h2>"
SYN_H = "<h2>Demostración del método con datos sintéticos</h2>"


def test_a_clean_page_has_no_problem():
    problems, n = site_check.check_page(_page(REAL_H, REAL, REAL, REAL, SYN_H, SYN, SYN), "p.html")
    assert problems == [] and n == 3


def test_a_real_figure_that_mentions_synthetic_data_is_reported():
    bad = _fig("Datos reales. Datos sintéticos por año.", "Datos reales · Poder Judicial")
    problems, _ = site_check.check_page(_page(REAL_H, bad), "p.html")
    assert problems == ["p.html:1: a real-data figure mentions synthetic data"]


def test_a_synthetic_figure_that_says_real_is_reported():
    bad = _fig("Datos reales. Registros por año.", "Fuente: datos sintéticos")
    problems, _ = site_check.check_page(_page(SYN_H, bad), "p.html")
    assert any("says it shows real data" in p for p in problems)


def test_a_synthetic_figure_in_the_real_section_and_a_real_one_below_are_reported():
    problems, _ = site_check.check_page(_page(REAL_H, SYN, SYN_H, REAL), "p.html")
    assert any("not labelled real data" in p for p in problems)
    assert any("real-data figure in the synthetic demonstration" in p for p in problems)


def test_a_case_study_page_needs_three_real_figures(tmp_path):
    (tmp_path / "es").mkdir()
    (tmp_path / "es" / "trafficking--trafficking.html").write_text(
        _page(REAL_H, REAL, REAL, SYN_H, SYN)
    )
    (tmp_path / "es" / "published_figures--x.html").write_text(_page(SYN))
    assert site_check.check_labels(tmp_path) == [
        "es/trafficking--trafficking.html: 2 real-data figures (at least 3 expected)"
    ]


def test_the_check_runs_at_every_render():
    assert "datajusta_lib.open_data.site_check:check_labels" in SITE_CHECKS


# ------------------------------------------------------------------ rendered pages
def _notebook(path, extra: str):
    cells = [
        nbformat.v4.new_code_cell(
            'case_study = "trafficking"\nlang = "es"\nsource = "synthetic"',
            metadata={"tags": ["parameters"]},
        ),
        nbformat.v4.new_code_cell(
            "import datajusta_lib as dj\ndj.say('# Trata')\ndj.banner(source, lang)"
        ),
        nbformat.v4.new_code_cell(extra),
    ]
    nb = nbformat.v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {
                "name": "datajusta",
                "display_name": "Python (datajusta)",
                "language": "python",
            }
        },
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


SYNTHETIC_FIGURE = """
import matplotlib.pyplot as plt, pandas as pd
g = dj.gate_counts(pd.Series({"2019": 40, "2020": 52}, name="n"), name="synthetic_counts")
fig, ax = plt.subplots()
ax.bar(["2019", "2020"], g.visible.to_numpy())
dj.show_figure(fig, alt="Registros sintéticos por año: 2019 40, 2020 52.", source="Fuente: datos sintéticos (generador Data Justa)", counts=g, lang=lang)
"""


@pytest.mark.notebook
def test_rendered_trafficking_section_is_labelled_real_and_the_demonstration_synthetic(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(tmp_path / "outputs"))
    _notebook(
        tmp_path / "nb" / "trafficking.ipynb",
        "from datajusta_lib.open_data import sections\nsections.show(case_study, lang)\n"
        + SYNTHETIC_FIGURE,
    )
    write_reports(
        tmp_path / "reports.yaml",
        [report("trafficking", "nb/trafficking.ipynb", languages=["es"], records=True)],
    )
    result = render_site(reports_file=tmp_path / "reports.yaml", jobs=1)
    assert result.ok, (result.failed, result.check_problems)
    page = next((tmp_path / "outputs" / "site" / "es").glob("trafficking*.html"))
    problems, n_real = site_check.check_page(page.read_text(encoding="utf-8"), page.name)
    assert problems == [] and n_real >= 3
    html = page.read_text(encoding="utf-8")
    assert html.index("Datos reales ·") < html.index("Demostración del método con datos sintéticos")
    assert html.index("Demostración del método con datos sintéticos") < html.index(
        "Registros sintéticos por año"
    )


@pytest.mark.notebook
def test_a_render_fails_when_a_synthetic_chart_sits_in_the_real_section(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(tmp_path / "outputs"))
    bad = (
        "dj.say('## Lo que publicaron las instituciones: datos abiertos reales')\n"
        + SYNTHETIC_FIGURE
    )
    _notebook(tmp_path / "nb" / "trafficking.ipynb", bad)
    write_reports(
        tmp_path / "reports.yaml",
        [report("trafficking", "nb/trafficking.ipynb", languages=["es"], records=True)],
    )
    result = render_site(reports_file=tmp_path / "reports.yaml", jobs=1)
    assert not result.ok
    text = "\n".join(result.check_problems)
    assert "a figure in the real-data section that is not labelled real data" in text
    assert "0 real-data figures (at least 3 expected)" in text
