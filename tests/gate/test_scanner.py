"""The identifier scanner: what it catches, where, and what it must leave alone."""

from __future__ import annotations

import io
import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from datajusta_lib.analysis.display import TABLE_LINK_PREFIX, figure_html, table_html
from datajusta_lib.gate import scanner as sc
from datajusta_lib.gate.publish import gate_counts

NAMES = sc.NameIndex.build(
    sc.person_name_variants("Malorio Orrenio", "Chanondez", "Quelñinque")
    + sc.person_name_variants("Baela", "Gorras", "Monrerález")
)


def kinds(text: str, **kw) -> list[tuple[str, str]]:
    return [(h.kind, h.match) for h in sc.scan_text(text, names=NAMES, **kw)]


# ----------------------------------------------------------------------------- text
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("RUN de la víctima: 12.345.678-5.", [("run", "12.345.678-5")]),
        ("12345678-5", [("run", "12345678-5")]),
        ("9.876.543-K", [("run", "9.876.543-K")]),
        ("12345670K", [("run", "12345670K")]),  # K check digit: flagged even if invalid
        ("RUT 123456785", [("run", "123456785")]),  # compact digits next to the word RUT, valid
        ("ana.perez@example.cl", [("email", "ana.perez@example.cl")]),
        ('<a href="mailto:x@y.org">', [("email", "x@y.org")]),
        ("+56 9 8765 4321", [("phone", "+56 9 8765 4321")]),
        ("+56987654321", [("phone", "+56987654321")]),
        ("(+56) 2 2123 4567", [("phone", "(+56) 2 2123 4567")]),
        ("llamar al 987654321", [("phone", "987654321")]),
        ("cel. 9 8765 4321", [("phone", "9 8765 4321")]),
        ("fecha de nacimiento: 03-04-1990", [("birth_date", "03-04-1990")]),
        ("nacida el 3 de marzo de 1990", [("birth_date", "3 de marzo de 1990")]),
        ("born on March 3, 1990", [("birth_date", "March 3, 1990")]),
        ("DOB 1990-04-03", [("birth_date", "1990-04-03")]),
        ("pasaporte ZZ4518948", [("passport", "ZZ4518948")]),
        ("Passport no. AB123456", [("passport", "AB123456")]),
        ("Declaró MALORIO CHANONDEZ ante", [("name", "malorio chanondez")]),
        ("Baela Gorras Monrerález", [("name", "baela gorras monrerález".replace("á", "a"))]),
    ],
)
def test_positives(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "10.142 casos y 11.506 causas",  # published figures with thousands separators
        "pv03 · tp01 · af12",  # figure ids
        "publicado el 20-11-2019; período 2019-10-18 a 2020-03-31",  # dates without a birth context
        "123456785 registros",  # a long number that is not next to RUN/RUT
        "123456789",  # invalid check digit, no context
        "Ley 21.212 y Ley 20.507; art. 411 quáter",
        "RUC 1900123456-7",  # a Fiscalía case number is not a RUN
        "sha256 3ea38c129965e4a315194a313ee9c75fa8245ddc0b7131c27a9f5bef8f4409ad",
        "Malorio",  # a single given name is never matched
        "Ley Gabriela",
        "2.412 víctimas en 16 regiones; 10,5 %",
        "9 de 10 instituciones",
        "1.234.567",
    ],
)
def test_negatives(text):
    assert kinds(text) == []


def test_one_identifier_one_hit():
    assert kinds("+56 9 8765 4321") == [("phone", "+56 9 8765 4321")]


def test_birth_date_under_a_birth_column():
    assert kinds("03-04-1990", birth_column=True) == [("birth_date", "03-04-1990")]
    assert kinds("03-04-1990") == []


# ----------------------------------------------------------------------------- a page and its files
def make_page() -> str:
    """A page like the renderer writes: a figure (real PNG), a gated table, provenance."""
    fig, ax = plt.subplots()
    ax.bar(["a", "b"], [10142, 11506])
    try:
        fig_html = figure_html(fig, alt="Causas por año, 2019-2020", source="Fiscalía, 20-11-2019")
    finally:
        plt.close(fig)
    g = gate_counts(
        pd.Series({"Metropolitana": 12, "Valparaíso": 3, "Biobío": 9}, name="n"), name="t"
    )
    tab = table_html(
        g.table, caption="Víctimas por región", source="Sintético", name="t", lang="es", published=g
    )
    footer = (
        "<footer><dl><dt>Commit</dt><dd><code>a027eaa5b8c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5+dirty</code></dd>"
        "<dt>Datos</dt><dd><code>records (synthetic): 3ea38c129965e4a3</code></dd>"
        "<dt>Generado</dt><dd>2026-11-22 02:25 UTC</dd></dl></footer>"
    )
    body = (
        f"<main><h1>Trata de personas</h1><p>pv03: 10.142 casos</p>{fig_html}{tab}</main>{footer}"
    )
    html_text = (
        f'<!DOCTYPE html><html lang="es"><head><title>x</title></head><body>{body}</body></html>'
    )
    return html_text.replace(TABLE_LINK_PREFIX, "tables/p/"), g.csv


@pytest.fixture
def site(tmp_path):
    html_text, csv = make_page()
    root = tmp_path / "site"
    (root / "es" / "tables" / "p").mkdir(parents=True)
    (root / "es" / "p.html").write_text(html_text, encoding="utf-8")
    (root / "es" / "tables" / "p" / "t.csv").write_text(csv, encoding="utf-8")
    (root / "manifest.json").write_text(
        json.dumps(
            {
                "commit": "a027eaa",
                "pages": [{"page": "es/p.html", "parameters": {"case_study": "trafficking"}}],
            }
        ),
        encoding="utf-8",
    )
    return root


def test_a_clean_page_has_no_hits(site):
    assert sc.scan_path(site, names=NAMES) == []


PLANTS = {
    "run": "12.345.678-5",
    "email": "ana.perez@example.cl",
    "phone": "+56 9 8765 4321",
    "birth_date": "fecha de nacimiento 03-04-1990",
    "name": "Malorio Chanondez",
    "passport": "ZZ4518948",
}


@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_planted_in_page_text(site, kind):
    page = site / "es" / "p.html"
    page.write_text(
        page.read_text().replace("<h1>Trata de personas</h1>", f"<h1>{PLANTS[kind]}</h1>")
    )
    hits = sc.scan_path(site, names=NAMES)
    assert [(h.file, h.kind) for h in hits] == [("es/p.html", kind)]
    assert PLANTS[kind].split()[-1].lower() in hits[0].match.lower()
    assert f"es/p.html:{hits[0].line}: {kind}" in sc.problems(hits)[0]


@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_planted_in_alt_text(site, kind):
    page = site / "es" / "p.html"
    page.write_text(
        page.read_text().replace('alt="Causas por año', f'alt="{PLANTS[kind]} · Causas por año')
    )
    assert [(h.file, h.kind) for h in sc.scan_path(site, names=NAMES)] == [("es/p.html", kind)]


@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_planted_in_csv(site, kind):
    csv = site / "es" / "tables" / "p" / "t.csv"
    csv.write_text(csv.read_text() + f'"{PLANTS[kind]}",0\n')
    hits = sc.scan_path(site, names=NAMES)
    assert [(h.file, h.kind) for h in hits] == [("es/tables/p/t.csv", kind)]


@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_planted_in_manifest(site, kind):
    manifest = json.loads((site / "manifest.json").read_text())
    manifest["pages"][0]["parameters"]["note"] = PLANTS[kind]
    (site / "manifest.json").write_text(json.dumps(manifest))
    assert [(h.file, h.kind) for h in sc.scan_path(site, names=NAMES)] == [("manifest.json", kind)]


def test_birth_dates_under_birth_columns_in_html_and_csv(site):
    frame = pd.DataFrame({"fecha_nacimiento": ["03-04-1990"], "fecha_denuncia": ["05-06-2020"]})
    page = site / "es" / "p.html"
    page.write_text(page.read_text().replace("</main>", frame.to_html(index=False) + "</main>"))
    (site / "es" / "tables" / "p" / "extra.csv").write_text(frame.to_csv(index=False))
    hits = sorted((h.file, h.kind, h.match) for h in sc.scan_path(site, names=NAMES))
    assert hits == [
        ("es/p.html", "birth_date", "03-04-1990"),
        ("es/tables/p/extra.csv", "birth_date", "03-04-1990"),
    ]


def test_text_hidden_in_png_metadata(site, tmp_path):
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    buf = io.BytesIO()
    fig.savefig(
        buf, format="png", metadata={"Title": "Víctima Malorio Chanondez, RUN 12.345.678-5"}
    )
    plt.close(fig)
    (site / "es" / "figure.png").write_bytes(buf.getvalue())
    assert sorted(h.kind for h in sc.scan_path(site, names=NAMES)) == ["name", "run"]


def test_names_of_the_synthetic_population_from_the_truth(tmp_path, monkeypatch):
    truth = tmp_path / "synthetic" / "_truth" / "trafficking"
    truth.mkdir(parents=True)
    pd.DataFrame(
        {
            "given_names": ["Malorio Orrenio"],
            "surname_1": ["Chanondez"],
            "surname_2": ["Quelñinque"],
        }
    ).to_parquet(truth / "persons.parquet")
    monkeypatch.setenv("DATAJUSTA_SYNTHETIC_DIR", str(tmp_path / "synthetic"))
    idx = sc.default_name_index()
    assert idx.find("el caso de malorio chanondez") == ["malorio chanondez"]
    assert idx.find("Malorio Orrenio Chanondez Quelñinque") == [
        "malorio orrenio chanondez quelninque"
    ]
    assert idx.find("Orrenio Chanondez") == []


def test_names_from_the_exports_when_no_truth(tmp_path, monkeypatch):
    folder = tmp_path / "synthetic" / "trafficking" / "SERMIG"
    folder.mkdir(parents=True)
    (folder / "solicitudes_residencia_victimas.txt").write_text(
        "NUMERO_SOLICITUD\tNOMBRES_APELLIDOS\n00000001\tQUIBAENA GORLARÁLEZ TORCABAL\n",
        encoding="utf-8",
    )
    names = sc.synthetic_names(tmp_path / "synthetic")
    assert names == ["QUIBAENA GORLARÁLEZ TORCABAL"]
    idx = sc.NameIndex.build(names)
    assert idx.find("Quibaena Gorlarález declaró") == ["quibaena gorlaralez"]


def test_scan_frame_for_loaded_records():
    df = pd.DataFrame({"obs": ["sin novedad", "contacto ana@example.cl"], "n": [1, 2]})
    assert [(h.kind, h.match) for h in sc.scan_frame(df)] == [("email", "ana@example.cl")]


# ----------------------------------------------------------------------------- command line
def test_scan_command(site, tmp_path):
    from typer.testing import CliRunner

    from datajusta_lib.cli import app

    runner = CliRunner()
    clean = runner.invoke(app, ["scan", str(site), "--no-names"])
    assert clean.exit_code == 0, clean.output
    page = site / "es" / "p.html"
    page.write_text(
        page.read_text().replace("<h1>Trata de personas</h1>", "<h1>RUN 12.345.678-5</h1>")
    )
    found = runner.invoke(app, ["scan", str(site), "--no-names"])
    assert found.exit_code == 1
    assert "es/p.html:" in found.output and "run '12.345.678-5'" in found.output
    assert runner.invoke(app, ["scan", str(tmp_path / "missing")]).exit_code == 2
