"""Declared notebook parameters, and bad parameters refused before any kernel starts (fast)."""

from __future__ import annotations

import json

import nbformat
import pytest
import yaml
from _render_fixture import KERNELSPEC, report, write_reports
from typer.testing import CliRunner

from datajusta_lib.cli import app
from datajusta_lib.site import params as rp
from datajusta_lib.site.plan import ReportsError, load_reports

runner = CliRunner()


def region_notebook(path, extra_params: str = ""):
    """A small published-kind report notebook with a declared region parameter."""
    params = (
        "# Parameters (papermill overrides these)\n"
        'case_study = "trafficking"  # [case_study] es: caso de estudio | en: case study\n'
        "region = None  # [region, optional] es: código de región | en: region code\n"
        + extra_params
        + 'lang = "es"  # [lang] es: idioma | en: language\n'
    )
    cells = [
        nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import pandas as pd\nimport datajusta_lib as dj\n"
            'dj.banner("published", lang)\n'
            'dj.say(f"Región pedida: {region} ({lang})")\n'
            'dj.show_table(pd.DataFrame({"Valor": [12, 30], "Fuente": ["https://example.org/a", "b"]}), caption="Tabla", '
            'source="Fuente: prueba", name="prueba", lang=lang)'
        ),
    ]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_every_project_notebook_declares_its_parameters_in_both_languages(root):
    for r in load_reports():
        specs = rp.read_specs(r.notebook)
        assert specs, r.notebook
        for spec in specs.values():
            assert spec.declared, f"{r.notebook.name}: {spec.name} has no [kind] declaration"
            assert spec.help["es"] and spec.help["en"], f"{r.notebook.name}: {spec.name}"
            # the declared default is itself allowed
            if spec.default is not None:
                rp.coerce(spec, spec.default, "trafficking")


def test_declarations_are_read_from_the_parameters_cell(root):
    specs = rp.read_specs(root / "notebooks" / "trafficking.ipynb")
    assert list(specs) == [
        "case_study",
        "institutions",
        "period_start",
        "period_end",
        "region",
        "lang",
        "source",
    ]
    region = specs["region"]
    assert (region.kind, region.optional, region.default) == ("region", True, None)
    assert region.help["en"].startswith("official two-digit region code")
    assert specs["case_study"].choices == ("trafficking",)  # this notebook tells one story
    assert not specs["case_study"].sweepable and region.sweepable
    assert specs["period_start"].kind == "date"


def test_help_params_lists_each_parameter_with_type_values_default_and_help():
    result = runner.invoke(app, ["report", "trafficking", "--help-params"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "region  [region, optional]" in out
    assert "13 (Metropolitana de Santiago)" in out and "12 (Magallanes" in out
    assert "an ISO date YYYY-MM-DD from 2011-04-08 to today" in out
    assert "CARABINEROS, FISCALIA, OSC, PDI, SERMIG, SPD_PAV" in out
    assert "default: None" in out and "sweep: -p region all" in out
    assert "es: código oficial de región" in out and "en: official two-digit region code" in out
    assert "lang  [lang]  (set with --lang)" in out


@pytest.fixture
def no_kernel(monkeypatch):
    """Fail the test if anything would execute a notebook or start a kernel."""
    import jupyter_client.manager
    import papermill

    import datajusta_lib.site.kernels
    import datajusta_lib.site.render

    def boom(*_a, **_k):
        raise AssertionError("a kernel was about to start")

    monkeypatch.setattr(datajusta_lib.site.render, "render_site", boom)
    monkeypatch.setattr(datajusta_lib.site.render, "_execute", boom)
    monkeypatch.setattr(datajusta_lib.site.kernels.Zygote, "__init__", boom)
    monkeypatch.setattr(papermill, "execute_notebook", boom)
    monkeypatch.setattr(jupyter_client.manager.KernelManager, "start_kernel", boom)


BAD = [
    # (arguments after `report`, what the message must say)
    (
        ["trafficking", "-p", "regoin", "13"],
        "unknown parameter 'regoin' (did you mean region?); the parameters are: case_study, "
        "institutions, period_start, period_end, region",
    ),
    (
        ["trafficking", "-p", "period_start", "1/3/2019"],
        "period_start='1/3/2019' is not an ISO date; allowed: an ISO date YYYY-MM-DD from "
        "2011-04-08 to today; or None",
    ),
    (
        ["trafficking", "-p", "region", "17"],
        "region='17' is not an official region code; allowed: 15 (Arica y Parinacota), 01",
    ),
    (
        ["trafficking", "-p", "institutions", "PDI,INDH"],
        "'INDH' is not an institution with a codebook in trafficking; allowed: a comma-separated "
        "list drawn from CARABINEROS, FISCALIA, OSC, PDI, SERMIG, SPD_PAV",
    ),
    (
        ["protest_violence", "-p", "period_start", "2019-01-01"],
        "period_start='2019-01-01' is outside the period of protest_violence "
        "(2019-10-18 to 2020-03-31)",
    ),
    (
        ["trafficking", "-p", "period_start", "2020-01-01", "-p", "period_end", "2019-06-30"],
        "period_start=2020-01-01 is after period_end=2019-06-30",
    ),
    (
        ["trafficking", "-p", "case_study", "protest_violence"],
        "case_study='protest_violence' is not allowed here; allowed: trafficking",
    ),
    (
        ["territorial", "-p", "case_study", "trafficing"],
        "case_study='trafficing' is not a case study (did you mean trafficking?); allowed: "
        "trafficking, attempted_femicide, protest_violence",
    ),
    (["trafficking", "-p", "lang", "en"], "lang is set by the renderer (use --lang)"),
    (
        ["trafficking", "-p", "period_start", "all"],
        "period_start cannot be swept ('all'): it has no declared list of values "
        "(sweepable: institutions, region)",
    ),
    (["trafficking", "--sweep", "regio"], "unknown parameter 'regio' (did you mean region?)"),
    (["trafficking", "-p", "region", "13", "-p", "region", "05"], "region is given twice"),
    (["trafic", "-p", "region", "13"], "unknown report 'trafic'; the reports are: "),
    (["published_figures", "--lang", "de"], "--lang must be es, en or both, got 'de'"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a[1:]) or a[0] for a, _ in BAD])
def test_a_bad_parameter_exits_2_with_what_is_allowed_and_no_kernel_starts(
    no_kernel, args, message
):
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()), result.output


def test_all_problems_are_listed_at_once(no_kernel):
    result = runner.invoke(
        app, ["report", "trafficking", "-p", "regoin", "13", "-p", "period_end", "2019-31-01"]
    )
    assert result.exit_code == 2
    assert "unknown parameter 'regoin'" in result.output
    assert "period_end='2019-31-01' is not an ISO date" in result.output


def test_good_parameters_are_typed_and_sweeps_expand_in_vocabulary_order(root):
    specs = rp.read_specs(root / "notebooks" / "territorial.ipynb")
    assert rp.check_set(
        specs,
        {"case_study": "protest_violence", "institutions": "INDH, DPP", "period_end": "2020-03-31"},
    ) == {
        "case_study": "protest_violence",
        "institutions": ["INDH", "DPP"],
        "period_end": "2020-03-31",
    }
    sets = rp.expand(specs, {"case_study": "attempted_femicide", "institutions": "all"})
    assert [s["institutions"] for s in sets] == [
        ["CARABINEROS"],
        ["FISCALIA"],
        ["PDI"],
        ["SERNAMEG"],
        ["SML"],
        ["SPD_PAV"],
    ]
    regions = rp.expand(rp.read_specs(root / "notebooks" / "trafficking.ipynb"), {}, ["region"])
    assert [s["region"] for s in regions] == rp.region_codes() and len(regions) == 16
    assert regions[0]["region"] == "15"  # north to south: Arica y Parinacota first


def test_the_report_list_accepts_a_sweep_and_refuses_a_bad_value(tmp_path):
    region_notebook(tmp_path / "nb" / "r.ipynb")
    entry = report("r", "nb/r.ipynb", params=[{"case_study": "trafficking", "region": "all"}])
    reports = load_reports(write_reports(tmp_path / "reports.yaml", [entry]))
    assert [p["region"] for p in reports[0].parameters] == rp.region_codes()
    bad = report("r", "nb/r.ipynb", params=[{"region": 17}])
    with pytest.raises(ReportsError) as info:
        load_reports(write_reports(tmp_path / "reports.yaml", [bad]))
    assert "report #1 (r): parameter set #1: region=17 is not an official region code" in str(
        info.value
    )
    # YAML reads `region: 05` as the number 5: still the official code 05
    ok = report("r", "nb/r.ipynb", params=[{"region": 5}])
    assert load_reports(write_reports(tmp_path / "reports.yaml", [ok]))


def test_a_malformed_declaration_names_the_notebook_and_parameter(tmp_path):
    nb = region_notebook(tmp_path / "r.ipynb", "x = 1  # [integer] es: a | en: b\n")
    with pytest.raises(rp.ParameterError) as info:
        rp.read_specs(nb)
    assert "r.ipynb, parameters cell, x: unknown kind [integer]" in str(info.value)


def test_an_undeclared_parameter_is_typed_from_its_default(tmp_path):
    nb = region_notebook(tmp_path / "r.ipynb", "n = 3  # how many\n")
    spec = rp.read_specs(nb)["n"]
    assert (spec.kind, spec.declared, spec.help["en"]) == ("int", False, "how many")
    assert rp.check_set({"n": spec}, {"n": "4"}) == {"n": 4}
    with pytest.raises(rp.ParameterError, match="n='four' is not a whole number"):
        rp.check_set({"n": spec}, {"n": "four"})


def test_help_reads_as_sentences():
    """In every command's help, a paragraph's line ends only where the next word would not fit
    (before: 'rows read, accepted' then 'and rejected by rule' on the next line)."""
    from typer.main import get_command

    width = 80
    for name in get_command(app).commands:
        result = runner.invoke(app, [name, "--help"], terminal_width=width)
        assert result.exit_code == 0, (name, result.output)
        lines = result.output.splitlines()
        first = next(i for i, line in enumerate(lines) if "Usage:" in line) + 1
        last = next((i for i, line in enumerate(lines) if line.startswith("╭")), len(lines))
        text = [line.strip() for line in lines[first:last]]
        for line, following in zip(text, text[1:], strict=False):
            if line and following:  # the paragraph goes on: the next word did not fit
                room = width - 2 - len(line) - 1
                assert len(following.split()[0]) > room - 2, (
                    f"datajusta {name} --help breaks a sentence after {line!r}"
                )


def test_synth_does_not_replace_the_default_world_without_force(tmp_path, monkeypatch):
    world = tmp_path / "synthetic"
    world.mkdir()
    meta = {"synthetic": True, "seed": 2019, "scale": 1.0, "fingerprint": "x", "case_studies": {}}
    (world / "metadata.json").write_text(json.dumps(meta))
    monkeypatch.setenv("DATAJUSTA_SYNTHETIC_DIR", str(world))
    before = sorted(p.name for p in world.iterdir())
    result = runner.invoke(app, ["synth", "--seed", "1"])
    assert result.exit_code == 2, result.output
    assert (
        "holds the synthetic world the site is rendered from (seed 2019, scale 1.0)"
        in result.output
    )
    assert "--force" in result.output and "--out DIR" in result.output
    assert sorted(p.name for p in world.iterdir()) == before
    assert json.loads((world / "metadata.json").read_text()) == meta


def test_the_report_list_in_the_repository_is_unchanged_by_the_checks(root):
    """The checks validate reports.yaml's sets without rewriting them (their values are part of
    the pages' cache keys)."""
    spec = yaml.safe_load((root / "reports.yaml").read_text(encoding="utf-8"))
    listed = {r["id"]: r["parameters"] for r in spec["reports"]}
    for r in load_reports():
        assert [dict(p) for p in r.parameters] == listed[r.id]


def test_the_guard_catches_a_render_so_the_tests_above_mean_no_kernel_started(no_kernel):
    result = runner.invoke(app, ["report", "trafficking", "-p", "region", "13", "--lang", "es"])
    assert isinstance(result.exception, AssertionError)
    assert "a kernel was about to start" in str(result.exception)


def test_a_page_whose_other_language_is_not_in_the_site_switches_to_that_index(tmp_path):
    """`render --only X --lang en` from an empty outputs folder: the English page's switch may
    not point at a Spanish page the site does not have (the self-containment check refused it)."""
    from datajusta_lib.site.links import fix_language_switches
    from datajusta_lib.site.output import check_self_contained
    from datajusta_lib.site.plan import plan_pages

    region_notebook(tmp_path / "nb" / "r.ipynb")
    reports = load_reports(write_reports(tmp_path / "reports.yaml", [report("r", "nb/r.ipynb")]))
    pages = {p.relpath: p for p in plan_pages(reports)}
    site = tmp_path / "site"
    (site / "en").mkdir(parents=True)
    (site / "index.html").write_text("<p>índice</p>")
    (site / "en" / "index.html").write_text('<a href="r--trafficking.html">r</a>')
    switch = '<a class="dj-lang" href="../es/r--trafficking.html" hreflang="es">Español</a>'
    (site / "en" / "r--trafficking.html").write_text(f"<header>{switch}</header>")
    records = [{"page": "en/r--trafficking.html", "in_site": True}, {"page": "es/r--trafficking.html", "in_site": False}]  # fmt: skip
    assert check_self_contained(site)  # before: a broken link
    assert fix_language_switches(site, records, pages) == ["en/r--trafficking.html"]
    assert (
        'class="dj-lang" href="../index.html"' in (site / "en" / "r--trafficking.html").read_text()
    )
    assert check_self_contained(site) == []
