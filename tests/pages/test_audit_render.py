"""A real render: the audit for every case study in both languages (and the published figures),
through the renderer with its site checks; then the scanner and the disclosure check again on
the finished site, and identifiers planted in copies of its files."""

from __future__ import annotations

import shutil

import pytest
import yaml

from datajusta_lib.gate import disclosure as dc
from datajusta_lib.gate import scanner as sc

pytestmark = [pytest.mark.notebook, pytest.mark.slow, pytest.mark.xdist_group("render")]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, root):
    from datajusta_lib.site.render import SITE_CHECKS, render_site

    assert "datajusta_lib.gate.disclosure:site_check" in SITE_CHECKS
    assert "datajusta_lib.gate.scanner:site_check" in SITE_CHECKS
    assert "datajusta_lib.gate.linked:site_check" in SITE_CHECKS
    tmp = tmp_path_factory.mktemp("render")
    spec = yaml.safe_load((root / "reports.yaml").read_text(encoding="utf-8"))
    reports = []
    for r in spec["reports"]:
        r = dict(r, notebook=str(root / r["notebook"]))
        if r["id"] == "data_justice_audit":
            reports.append(r)
        elif r["id"] == "published_figures":
            reports.append(dict(r, parameters=[{"case_study": "trafficking"}]))
    (tmp / "reports.yaml").write_text(
        yaml.safe_dump({"reports": reports}, allow_unicode=True), encoding="utf-8"
    )
    mp = pytest.MonkeyPatch()
    mp.setenv("DATAJUSTA_OUTPUTS", str(tmp / "outputs"))
    mp.delenv(dc.K_ENV, raising=False)
    try:
        result = render_site(
            jobs=2, reports_file=tmp / "reports.yaml", site_dir=tmp / "site", force=True
        )
    finally:
        mp.undo()
    return result, tmp / "site"


def test_the_audit_renders_for_every_case_study_in_both_languages(rendered):
    result, site = rendered
    assert result.ok, (result.failed, result.check_problems)
    audit_pages = {p for p in result.rendered if "data_justice_audit" in p}
    assert audit_pages == {
        f"{lang}/data_justice_audit--{cs}.html"
        for lang in ("es", "en")
        for cs in ("trafficking", "attempted-femicide", "protest-violence")
    }
    page = (site / "en" / "data_justice_audit--trafficking.html").read_text(encoding="utf-8")
    assert "Accountability checklist" in page and "dj-banner-synthetic" in page
    # a first render (empty outputs): the audit reads the tables of the site being built
    # a row of the tables table: the page named by its title, not its file name
    assert ">Figures published by the institutions<" in page
    assert ">en/published_figures--trafficking.html<" not in page
    assert "There are no pages of this case study on the site yet" not in page


def test_a_full_render_has_no_identifier_and_every_table_passes_the_gate(rendered):
    _, site = rendered
    assert sc.scan_path(site) == []
    assert dc.site_check(site) == []
    # issue 14: no hidden cell recoverable from the other tables of its page
    from datajusta_lib.gate import linked

    assert linked.site_check(site) == []
    ingestion = (
        site / "en" / "tables" / "data_justice_audit--trafficking" / "accepted_and_quarantined.csv"
    ).read_text(encoding="utf-8")
    assert "Carabineros,[c],[c],[c]" in ingestion  # its total would give 152 - 149 = 3
    csvs = list(site.rglob("tables/*/*.csv"))
    assert len(csvs) >= 6 * 10
    counts_tables = [
        c for c in csvs if c.name in ("records_of_children.csv", "accepted_and_quarantined.csv")
    ]
    assert len(counts_tables) == 12


@pytest.mark.parametrize(
    ("kind", "planted"),
    [
        ("run", "RUN 12.345.678-5"),
        ("email", "ana.perez@example.cl"),
        ("phone", "+56 9 8765 4321"),
        ("birth_date", "fecha de nacimiento: 03-04-1990"),
        ("passport", "pasaporte ZZ4518948"),
    ],
)
def test_identifiers_planted_in_a_rendered_page_and_csv_are_caught(
    rendered, tmp_path, kind, planted
):
    _, site = rendered
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    page = copy / "es" / "data_justice_audit--trafficking.html"
    page.write_text(
        page.read_text(encoding="utf-8").replace("</main>", f"<p>{planted}</p></main>", 1),
        encoding="utf-8",
    )
    table = copy / "es" / "tables" / "data_justice_audit--trafficking" / "minimum_data.csv"
    table.write_text(table.read_text(encoding="utf-8") + f'"{planted}",,,,,,\n', encoding="utf-8")
    hits = sc.scan_path(copy, names=sc.NameIndex.build([]))
    assert sorted((h.file, h.kind) for h in hits) == [
        ("es/data_justice_audit--trafficking.html", kind),
        ("es/tables/data_justice_audit--trafficking/minimum_data.csv", kind),
    ]


def test_a_synthetic_person_named_on_a_rendered_page_is_caught(rendered, tmp_path):
    names = sc.synthetic_names()
    if not names:
        pytest.skip("no synthetic population generated (run `datajusta synth`)")
    _, site = rendered
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    page = copy / "en" / "data_justice_audit--protest-violence.html"
    page.write_text(
        page.read_text(encoding="utf-8").replace("</main>", f"<p>{names[0]}</p></main>", 1),
        encoding="utf-8",
    )
    hits = sc.scan_path(copy)
    assert [(h.file, h.kind) for h in hits] == [
        ("en/data_justice_audit--protest-violence.html", "name")
    ]
