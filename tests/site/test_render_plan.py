"""The report list is checked before anything runs, and expands into the expected pages."""

from __future__ import annotations

import pytest
import yaml
from _render_fixture import report, tiny_notebook, write_reports
from typer.testing import CliRunner

from datajusta_lib.cli import app
from datajusta_lib.site.execute import page_title
from datajusta_lib.site.plan import ReportsError, load_reports, plan_pages


@pytest.fixture
def project(tmp_path):
    tiny_notebook(tmp_path / "nb" / "a.ipynb")
    tiny_notebook(tmp_path / "nb" / "r.ipynb", records=True)
    return tmp_path


def _error(project, entries) -> str:
    path = write_reports(project / "reports.yaml", entries)
    with pytest.raises(ReportsError) as info:
        load_reports(path)
    return str(info.value)


def test_the_project_report_list_is_valid():
    reports = load_reports()
    assert reports, "reports.yaml lists no report"
    pages = plan_pages(reports)
    assert len({p.relpath for p in pages}) == len(pages)


def test_pages_expand_parameter_sets_and_languages(project):
    entries = [
        report(
            "a",
            "nb/a.ipynb",
            params=[{"case_study": "trafficking"}, {"case_study": "protest_violence"}],
        ),
        report("r", "nb/r.ipynb", languages=["es"], records=True),
    ]
    reports = load_reports(write_reports(project / "reports.yaml", entries))
    pages = plan_pages(reports)
    assert [p.relpath for p in pages] == [
        "es/a--trafficking.html",
        "en/a--trafficking.html",
        "es/a--protest-violence.html",
        "en/a--protest-violence.html",
        "es/r--trafficking.html",
    ]
    # lang always, source only where the report reads records; synthetic only there
    assert pages[1].parameters == {"case_study": "trafficking", "lang": "en"}
    assert pages[4].parameters == {"case_study": "trafficking", "lang": "es", "source": "synthetic"}
    assert [p.synthetic for p in pages] == [False] * 4 + [True]
    assert plan_pages(reports, source="private")[4].synthetic is False
    assert [p.relpath for p in plan_pages(reports, only="r")] == ["es/r--trafficking.html"]
    assert [p.relpath for p in plan_pages(reports, only="*protest*", lang="en")] == [
        "en/a--protest-violence.html"
    ]
    assert pages[4].other_language() is None and pages[0].other_language() == "en"
    # a title names what tells a report's pages apart; a single-page report needs nothing more
    assert [page_title(p) for p in pages[1:5]] == [
        "Report a: Human trafficking",
        "Informe a: Violencia institucional en el estallido social",
        "Report a: Institutional violence in the 2019–2020 protests",
        "Informe r",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.pop("title"), "missing ['title']"),
        (lambda e: e.update(colour="red"), "unknown field(s) ['colour']"),
        (lambda e: e.update(id="Bad-Id"), "id must be lower-case"),
        (
            lambda e: e.update(notebook="nb/missing.ipynb"),
            "notebook nb/missing.ipynb does not exist",
        ),
        (lambda e: e.update(languages=["es", "fr"]), "languages must be a non-empty subset"),
        (lambda e: e["description"].pop("en"), "description needs a text for each language"),
        (lambda e: e.update(data=["rumours"]), "data must be a list drawn from"),
        (lambda e: e.update(parameters=[{"lang": "es"}]), "['lang'] are set by the renderer"),
        (
            lambda e: e.update(parameters=[{"region": "13"}]),
            "['region'] not defined in the parameters cell",
        ),
        (lambda e: e.update(parameters=[{"case_study": {"a": 1}}]), "must be a scalar or a list"),
        (lambda e: e.update(data=["records"]), "must define ['source']"),
    ],
)
def test_mistakes_name_the_file_report_and_field(project, change, message):
    entry = report("a", "nb/a.ipynb")
    change(entry)
    text = _error(project, [entry])
    assert message in text
    assert "reports.yaml" in text and "report #1" in text


def test_duplicates_and_colliding_page_names_are_refused(project):
    assert "duplicate report id 'a'" in _error(project, [report("a", "nb/a.ipynb")] * 2)
    # two parameter sets whose page names coincide would overwrite each other's page
    entry = report("a", "nb/a.ipynb", params=[{"case_study": "x y"}, {"case_study": "x-y"}])
    assert "already used" in _error(project, [entry])


def test_a_notebook_without_parameters_cell_is_refused(project):
    import nbformat

    nb = nbformat.read(project / "nb" / "a.ipynb", as_version=4)
    nb.cells[0].metadata["tags"] = []
    nbformat.write(nb, project / "nb" / "a.ipynb")
    assert "has no cell tagged 'parameters'" in _error(project, [report("a", "nb/a.ipynb")])


def test_malformed_files(tmp_path):
    (tmp_path / "r.yaml").write_text("reports: [unclosed")
    with pytest.raises(ReportsError, match="not valid YAML"):
        load_reports(tmp_path / "r.yaml")
    (tmp_path / "r.yaml").write_text(yaml.safe_dump({"pages": []}))
    with pytest.raises(ReportsError, match="list under 'reports'"):
        load_reports(tmp_path / "r.yaml")
    with pytest.raises(ReportsError, match="no such report list"):
        load_reports(tmp_path / "absent.yaml")


def test_cli_exits_2_on_a_bad_report_list(tmp_path):
    (tmp_path / "r.yaml").write_text(yaml.safe_dump({"reports": [{"id": "x"}]}))
    result = CliRunner().invoke(app, ["render", "--reports", str(tmp_path / "r.yaml")])
    assert result.exit_code == 2
    assert "missing" in result.output and "notebook" in result.output


def test_cli_exits_2_when_only_matches_nothing(project, monkeypatch, tmp_path):
    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(tmp_path / "out"))
    path = write_reports(project / "reports.yaml", [report("a", "nb/a.ipynb")])
    result = CliRunner().invoke(app, ["render", "--reports", str(path), "--only", "nothing*"])
    assert result.exit_code == 2
    assert "no page matches" in result.output
