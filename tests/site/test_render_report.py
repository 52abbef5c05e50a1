"""`datajusta report`: an ad-hoc page and a 16-region sweep, outside the site, through the
site's execution and checks (these execute notebooks: a small one, so they stay cheap)."""

from __future__ import annotations

import json
import re

import pytest
from test_render_params import region_notebook
from typer.testing import CliRunner

from datajusta_lib.cli import app
from datajusta_lib.site import params as rp
from datajusta_lib.site.render import SITE_CHECKS

pytestmark = [pytest.mark.notebook, pytest.mark.xdist_group("render")]
runner = CliRunner()


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    out = tmp_path / "outputs"
    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(out))
    monkeypatch.setenv("CI", "true")
    return out


def test_an_ad_hoc_report_with_parameters_renders_and_passes_the_site_checks(tmp_path, outputs):
    nb = region_notebook(tmp_path / "nb" / "regional.ipynb")
    out = tmp_path / "share"
    args = ["report", str(nb), "-p", "region", "13", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    pages = {"es": out / "es" / "regional--trafficking--13.html",
             "en": out / "en" / "regional--trafficking--13.html"}  # fmt: skip
    for lang, page in pages.items():
        assert f"page: {page}" in result.output
        html = page.read_text(encoding="utf-8")
        assert f"Región pedida: 13 ({lang})" in html
        # the title names the parameter as readers know it
        assert ("región Metropolitana" if lang == "es" else "region Santiago Metropolitan") in html
    assert "[1/2] ok" in result.output and "[2/2] ok" in result.output  # progress
    assert f"index: {out / 'index.html'}" in result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    # the same checks as the public site ran on the folder, and found nothing
    assert manifest["checks"] == SITE_CHECKS
    assert {p["status"] for p in manifest["pages"]} == {"rendered"}
    assert manifest["pages"][0]["parameters"] == {
        "case_study": "trafficking",
        "region": "13",
        "lang": "es",
    }
    # the gated table's CSV is beside the page, the index links the pages
    assert (out / "es" / "tables" / "regional--trafficking--13" / "prueba.csv").is_file()
    assert 'href="es/regional--trafficking--13.html"' in (out / "index.html").read_text()
    assert not (outputs / "site").exists()  # the public site is not touched
    # the page cache is reused: the same command again renders nothing
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "Site is up to date" in again.output, again.output


def test_a_page_that_fails_a_site_check_is_not_shared(tmp_path, outputs):
    """An identifier on the page: the scanner (a site check) refuses the folder, exit 1."""
    nb = region_notebook(tmp_path / "nb" / "leak.ipynb")
    import nbformat

    book = nbformat.read(nb, as_version=4)
    book.cells.append(
        nbformat.v4.new_markdown_cell("Contacto: juan.perez@example.cl, RUN 12.345.678-5")
    )
    nbformat.write(book, nb)
    out = tmp_path / "share"
    result = runner.invoke(
        app, ["report", str(nb), "-p", "region", "05", "--lang", "es", "--out", str(out)]
    )
    assert result.exit_code == 1, result.output
    assert "The new site failed its checks" in result.output
    assert "scanner:site_check" in result.output
    assert not out.exists()


def test_a_sweep_over_the_16_regions_renders_16_pages_and_an_index(tmp_path, outputs):
    nb = region_notebook(tmp_path / "nb" / "regional.ipynb")
    result = runner.invoke(app, ["report", str(nb), "-p", "region", "all", "--lang", "es"])
    assert result.exit_code == 0, result.output
    out = outputs / "reports" / "regional--region-all"  # the default folder, outside the site
    assert f"16 pages in {out}" in result.output
    pages = sorted((out / "es").glob("*.html"))
    assert len(pages) == 16
    assert {p.name for p in pages} == {
        f"regional--trafficking--{c}.html" for c in rp.region_codes()
    }
    assert re.search(r"Rendering 16 of 16 pages with \d+ workers", result.output)
    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="(es/regional--trafficking--\d\d\.html)"', index)
    assert sorted(set(links)) == sorted(f"es/{p.name}" for p in pages)
    # each page is told apart by its region's name, in the index and on the page
    assert "regional: Arica y Parinacota" in index and "regional: Magallanes" in index
    assert "Región pedida: 12 (es)" in (out / "es" / "regional--trafficking--12.html").read_text()
