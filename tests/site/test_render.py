"""End to end: render small report lists into a site, re-render, edit, break, interrupt.

A module fixture renders a two-report project once (cold); each test works on a copy of that
project (notebooks, report list, outputs with site and cache), so tests stay independent and
only render what their scenario needs.
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import nbformat
import pytest
from _render_fixture import (
    copy_project,
    manifest,
    report,
    snapshot,
    tiny_notebook,
    without_render_stamps,
    write_reports,
)
from rich.console import Console
from typer.testing import CliRunner

from datajusta_lib import __version__
from datajusta_lib.cli import app
from datajusta_lib.site.render import render_site

pytestmark = [pytest.mark.notebook, pytest.mark.xdist_group("render")]

A_PAGES = ["es/a--trafficking.html", "en/a--trafficking.html"]
B_PAGE = "es/b--trafficking.html"


def _render(project: Path, monkeypatch, **kw):
    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(project / "outputs"))
    return render_site(reports_file=project / "reports.yaml", **kw)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Report a (published figures kind, es+en) and b (records kind, es only), rendered once."""
    root = tmp_path_factory.mktemp("project")
    tiny_notebook(root / "nb" / "a.ipynb", marker="A1")
    tiny_notebook(root / "nb" / "b.ipynb", records=True, marker="B1")
    write_reports(
        root / "reports.yaml",
        [report("a", "nb/a.ipynb"), report("b", "nb/b.ipynb", languages=["es"], records=True)],
    )
    mp = pytest.MonkeyPatch()
    try:
        result = _render(root, mp)
    finally:
        mp.undo()
    return root, result


@pytest.fixture
def project(built, tmp_path):
    return copy_project(built[0], tmp_path / "project")


def _edit(notebook: Path, old: str, new: str) -> None:
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        cell.source = cell.source.replace(old, new)
    nbformat.write(nb, notebook)


def test_cold_render_builds_the_whole_site(built):
    root, result = built
    site = root / "outputs" / "site"
    assert result.ok, result.failed
    assert sorted(result.rendered) == sorted([*A_PAGES, B_PAGE])
    for rel in [
        "index.html",
        "en/index.html",
        "manifest.json",
        "assets/site.css",
        "assets/jupyterlab.css",
    ]:
        assert (site / rel).is_file(), rel
    es = (site / A_PAGES[0]).read_text()
    en = (site / A_PAGES[1]).read_text()
    # code, prompts and the parameters cells are hidden; only the page's language is kept
    assert "Caso: trafficking es A1" in es and "Caso: trafficking en A1" in en
    assert "import datajusta_lib" not in es and 'case_study = "trafficking"' not in es
    assert "Texto en español." in es and "Text in English." not in es
    assert "Text in English." in en and "Texto en español." not in en
    # header: navigation and the language switch to the same page
    assert 'href="../en/a--trafficking.html" hreflang="en"' in es
    assert 'href="../es/a--trafficking.html" hreflang="es"' in en
    # the synthetic banner where records are synthetic, not on published-figure pages
    b = (site / B_PAGE).read_text()
    assert "dj-banner-synthetic" in b and "dj-banner-synthetic" not in es
    # b has no English version: its switch goes to the English index
    assert 'href="../en/index.html" hreflang="en"' in b
    # provenance footer
    for needle in [
        '"case_study": "trafficking"',
        "nb/a.ipynb",
        f"datajusta {__version__}",
        "vocabulary: ",
    ]:
        assert needle in es, needle


def test_manifest_and_downloadable_tables(built):
    root, _ = built
    site = root / "outputs" / "site"
    m = manifest(site)
    assert m["library_version"] == __version__ and m["commit"]
    assert m["render_started"] <= m["render_finished"]
    assert set(m["data_hashes"]) >= {"vocabulary", "published", "codebooks", "records (synthetic)"}
    pages = {p["page"]: p for p in m["pages"]}
    assert set(pages) == {*A_PAGES, B_PAGE}
    page = pages[A_PAGES[0]]
    assert page["status"] == "rendered" and page["report"] == "a" and page["lang"] == "es"
    assert page["parameters"] == {"case_study": "trafficking", "lang": "es"}
    assert pages[B_PAGE]["parameters"]["source"] == "synthetic"
    nb_bytes = (root / "nb" / "a.ipynb").read_bytes()
    assert page["notebook_sha256"] == hashlib.sha256(nb_bytes).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", page["cache_key"]) and page["seconds"] > 0
    assert "datajusta_lib/analysis/display.py" in page["library_modules"]
    [table] = page["tables"]
    csv = site / "es" / table["file"]
    assert table["sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert table["gate"]["passed"] is True and table["kind"] == "published"
    assert csv.read_text().splitlines()[0] == "Valor,Fuente"
    # the page links its CSV where it is
    assert 'href="tables/a--trafficking/prueba.csv"' in (site / A_PAGES[0]).read_text()


def test_index_groups_pages_by_case_study(built):
    site = built[0] / "outputs" / "site"
    es, en = (site / "index.html").read_text(), (site / "en" / "index.html").read_text()
    assert '<h2 id="g-trafficking">Trata de personas</h2>' in es
    assert '<h2 id="g-trafficking">Human trafficking</h2>' in en
    assert 'href="es/a--trafficking.html"' in es and "Informe a" in es
    assert "Informe a: Trata de personas" not in es  # one parameter set: the group names it
    assert "Descripción de a." in es and "Description of a." in en
    assert 'href="../en/a--trafficking.html"' in en and "b--trafficking" not in en
    assert re.search(r"<time datetime=\"\d{4}-\d\d-\d\dT\d\d:\d\dZ\">", es)
    assert 'href="en/index.html" hreflang="en"' in es and 'href="../index.html" hreflang="es"' in en


def test_a_no_change_rerender_touches_nothing(project, monkeypatch):
    site = project / "outputs" / "site"
    before = snapshot(site)
    result = _render(project, monkeypatch)
    assert result.ok and result.up_to_date and result.rendered == []
    assert snapshot(site) == before


def test_editing_one_notebook_rerenders_only_its_pages(project, monkeypatch):
    site = project / "outputs" / "site"
    before = snapshot(site)
    _edit(project / "nb" / "b.ipynb", "B1", "B2")
    result = _render(project, monkeypatch)
    assert result.ok
    assert result.rendered == [B_PAGE]
    assert sorted(result.reused) == sorted(A_PAGES)
    assert "B2" in (site / B_PAGE).read_text()
    for rel in A_PAGES:  # reused pages are the cached bytes
        assert (site / rel).read_bytes() == before[rel][1]
    assert manifest(site)["pages"][2]["reason"] == "notebook changed"


def test_only_and_force_choose_what_is_rendered_again(project, monkeypatch):
    result = _render(project, monkeypatch, only="a", lang="en", force=True)
    assert result.rendered == ["en/a--trafficking.html"]
    # the others come from the cache, or stay as they were if their inputs changed meanwhile
    assert sorted(result.reused + result.kept) == sorted(["es/a--trafficking.html", B_PAGE])


def test_a_cached_page_equals_a_fresh_one_and_warm_kernels_equal_cold_ones(project, monkeypatch):
    site = project / "outputs" / "site"
    cached = (site / A_PAGES[0]).read_text()
    result = _render(project, monkeypatch, only="a", lang="es", force=True, warm_kernels=False)
    assert result.rendered == [A_PAGES[0]]
    assert without_render_stamps((site / A_PAGES[0]).read_text()) == without_render_stamps(cached)


def test_a_broken_notebook_keeps_its_previous_page_and_the_others_render(project, monkeypatch):
    site = project / "outputs" / "site"
    before = snapshot(site)
    _edit(project / "nb" / "a.ipynb", "A1", "A2")  # a changes and must be re-rendered
    _edit(project / "nb" / "b.ipynb", 'dj.say(f"# Caso', '1 / 0\ndj.say(f"# Caso')  # b breaks
    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(project / "outputs"))
    cli = CliRunner().invoke(app, ["render", "--reports", str(project / "reports.yaml")])
    assert cli.exit_code == 1, cli.output
    # the failing page is named with its cell (1-based, as in the file) and error
    assert f"FAILED {B_PAGE}" in cli.output
    assert "cell 2:" in cli.output and "| 1 / 0" in cli.output
    assert "ZeroDivisionError: division by zero" in cli.output
    assert "previous version kept in the site" in cli.output
    # the others were rendered into the new site; the broken page keeps its previous version
    assert all("A2" in (site / rel).read_text() for rel in A_PAGES)
    assert (site / B_PAGE).read_bytes() == before[B_PAGE][1]
    pages = {p["page"]: p for p in manifest(site)["pages"]}
    assert pages[B_PAGE]["status"] == "failed" and pages[B_PAGE]["in_site"] is True
    assert pages[B_PAGE]["failure"]["cell"] == 2
    assert pages[B_PAGE]["failure"]["error"] == "ZeroDivisionError"
    # fixing the notebook renders it again (failures are never cached)
    _edit(project / "nb" / "b.ipynb", "1 / 0\n", "")
    _edit(project / "nb" / "b.ipynb", "B1", "B3")
    again = _render(project, monkeypatch)
    assert again.ok and again.rendered == [B_PAGE]
    assert "B3" in (site / B_PAGE).read_text()


def test_a_new_broken_page_is_left_out_of_the_site(project, monkeypatch):
    tiny_notebook(project / "nb" / "c.ipynb", extra="raise RuntimeError('no data for this region')")
    entries = [report("a", "nb/a.ipynb"), report("c", "nb/c.ipynb", languages=["es"])]
    write_reports(project / "reports.yaml", entries)
    result = _render(project, monkeypatch)
    assert not result.ok
    failure = result.failed["es/c--trafficking.html"]
    assert failure["cell"] == 6 and failure["error"] == "RuntimeError"
    assert "no data for this region" in failure["message"] and not failure["kept_previous"]
    site = project / "outputs" / "site"
    assert not (site / "es/c--trafficking.html").exists()
    assert "c--trafficking" not in (site / "index.html").read_text()
    assert not (site / B_PAGE).exists()  # b is no longer in the report list


def test_an_unstamped_table_is_refused(project, monkeypatch):
    tiny_notebook(project / "nb" / "d.ipynb", extra='pd.DataFrame({"persona": ["x"], "n": [1]})')
    write_reports(project / "reports.yaml", [report("d", "nb/d.ipynb", languages=["es"])])
    result = _render(project, monkeypatch)
    failure = result.failed["es/d--trafficking.html"]
    assert failure["stage"] == "convert" and failure["cell"] == 6
    assert "did not go through the publish gate" in failure["message"]


def test_a_failed_site_check_leaves_the_previous_site(project, monkeypatch):
    site = project / "outputs" / "site"
    _edit(project / "nb" / "a.ipynb", "A1", "A3")
    before = snapshot(site)
    seen = []

    def check(tmp_site: Path) -> list[str]:
        seen.append(tmp_site)
        text = (tmp_site / A_PAGES[0]).read_text()
        return ["es page mentions A3"] if "A3" in text else []

    result = _render(project, monkeypatch, site_checks=[check])
    assert not result.ok and sorted(result.rendered) == sorted(A_PAGES)
    assert any("es page mentions A3" in p for p in result.check_problems)
    assert seen and seen[0] != site and not seen[0].exists()  # checked the temporary site
    assert snapshot(site) == before
    assert sorted(p.name for p in site.parent.iterdir() if p.name.startswith(".site")) == []


def test_an_interrupted_render_leaves_the_previous_site(project, monkeypatch):
    site = project / "outputs" / "site"
    before = snapshot(site)

    def interrupt(tmp_site: Path) -> list[str]:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _render(project, monkeypatch, force=True, only="b", site_checks=[interrupt])
    assert snapshot(site) == before
    assert not [p for p in site.parent.iterdir() if p.name.startswith(".site")]


def test_a_page_that_reads_the_site_renders_after_the_others_and_reads_the_new_site(
    project, monkeypatch
):
    reads_site = (
        "from datajusta_lib.pages.audit import site_pages\n"
        "pages = site_pages(case_study)\n"
        "print('SITE-READS:', ' '.join(f'{p.parent.name}/{p.name}' for p in pages), ':END')\n"
        "print('EDITED:', ['A2' in p.read_text() for p in pages if p.name.startswith('a')])"
    )
    tiny_notebook(project / "nb" / "s.ipynb", extra=reads_site)
    _edit(project / "nb" / "a.ipynb", "A1", "A2")  # a changes in the same render
    entries = [
        report("a", "nb/a.ipynb"),
        report("b", "nb/b.ipynb", languages=["es"], records=True),
        dict(report("s", "nb/s.ipynb", languages=["es"]), data=["published", "site"]),
    ]
    write_reports(project / "reports.yaml", entries)
    site = project / "outputs" / "site"
    log = io.StringIO()
    result = _render(project, monkeypatch, console=Console(file=log, width=200))
    assert result.ok and "es/s--trafficking.html" in result.rendered
    # one count across both stages: a, b changed in stage 1, then the site reader
    assert "[3/3] ok   es/s--trafficking.html" in log.getvalue(), log.getvalue()
    seen = re.search(r"SITE-READS: (.*?) :END", (site / "es/s--trafficking.html").read_text())
    # the new site's other pages (a already edited), never the page itself
    assert seen and seen.group(1).split() == [*sorted(A_PAGES), B_PAGE]
    assert "EDITED: [True, True]" in (site / "es/s--trafficking.html").read_text()
    # changing any other page re-renders the site reader too; nothing changed: nothing renders
    _edit(project / "nb" / "b.ipynb", "B1", "B2")
    again = _render(project, monkeypatch)
    assert sorted(again.rendered) == [B_PAGE, "es/s--trafficking.html"]
    assert _render(project, monkeypatch).up_to_date


def test_changing_the_disclosure_threshold_rerenders_every_page(project, monkeypatch):
    monkeypatch.setenv("DATAJUSTA_K", "7")
    result = _render(project, monkeypatch)
    assert result.ok and sorted(result.rendered) == sorted([*A_PAGES, B_PAGE])
    assert {p["reason"] for p in manifest(project / "outputs" / "site")["pages"]} == {
        "settings changed"
    }
