"""Intake of a new file (issue 14, point 5): `datajusta codebook init` drafts a codebook from a
file nobody has described, `datajusta validate --codebook` checks the file with it, and
`validate` says where it wrote its quarantine."""

from __future__ import annotations

import pytest
import yaml
from _ingest_helpers import get, good_rows, write
from typer.testing import CliRunner

from datajusta_lib.cli import app
from datajusta_lib.ingest import codebooks

runner = CliRunner()
RUTS = ["12.345.678-5", "11.111.111-1", "22.222.222-2", "7.654.321-6"]
NAMES = ["Ana Pérez Soto", "Luis Rojas", "Marta Díaz", "Pedro Vera"]


@pytest.fixture(autouse=True)
def outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(tmp_path / "outputs"))
    return tmp_path / "outputs"


def new_export(tmp_path):
    """An export whose header matches no shipped codebook: a title line, ';', Latin-1."""
    rows = [
        "Servicio Nuevo - casos de trata 2019-2021",
        "Folio;Rut víctima;Nombre;Fecha del hecho;Fecha denuncia;Región;Sexo;Edad;Tipo delito;Comuna",
    ]
    regions = ["Región de Valparaíso", "Metropolitana", "Región de Valparaíso", "Ñuble"]
    sexes = ["Mujer", "Hombre", "Mujer", "Mujer"]
    kinds = ["Trata de personas", "Trata de personas", "Tráfico de migrantes", "Trata laboral"]
    for i in range(4):
        rows.append(
            f"F-{100 + i};{RUTS[i]};{NAMES[i]};0{i + 1}/03/2019;1{i}/03/2019;{regions[i]};"
            f"{sexes[i]};{30 + i};{kinds[i]};Santiago"
        )
    path = tmp_path / "casos_nuevos.csv"
    path.write_bytes(("\n".join(rows) + "\n").encode("latin-1"))
    return path


def test_codebook_init_drafts_a_loadable_codebook_from_header_and_values(tmp_path):
    path = new_export(tmp_path)
    res = runner.invoke(app, ["codebook", "init", str(path), "-i", "NUEVO", "-c", "trafficking"])
    assert res.exit_code == 0, res.output
    text = res.output
    doc = yaml.safe_load(text)
    assert doc["institution"] == "NUEVO" and doc["identifier_kind"] == "RUN"
    ex = doc["export"]
    assert (ex["format"], ex["encoding"], ex["delimiter"]) == ("csv", "latin-1", ";")
    assert (ex["header_row"], ex["date_format"]) == (2, "%d/%m/%Y")
    assert doc["record_id"]["original_name"] == "Folio"
    f = doc["fields"]
    assert f["person_key"] == {
        "recorded": True,
        "original_name": "Rut víctima",
        "dtype": "identifier",
    }
    assert f["person_name"]["original_name"] == "Nombre"
    assert f["event_date"]["original_name"] == "Fecha del hecho"
    assert f["report_date"]["original_name"] == "Fecha denuncia"
    assert f["region_code"]["values"] == {
        "Región de Valparaíso": "05",
        "Metropolitana": "13",
        "Ñuble": "16",
    }
    assert f["sex"]["values"] == {"Mujer": "female", "Hombre": "male"}
    assert f["age"]["dtype"] == "integer" and f["migrant_status"] == {"recorded": False}
    # a comment where the draft cannot guess: an unmapped column, unmapped labels
    assert '- "Comuna"  # REVIEW: not mapped' in text
    assert "labels not mapped" in text and '"Trata laboral"' in text
    # no identifier or name is ever copied into the draft
    assert not [v for v in RUTS + NAMES if v in text]
    draft = tmp_path / "borrador.yaml"
    draft.write_text(text, encoding="utf-8")
    cb = codebooks.load_codebook(draft)  # any file name outside data/codebooks/
    assert cb.institution == "NUEVO" and "Tipo delito" in cb.columns()


def test_validate_with_the_draft_codebook(tmp_path, outputs):
    path = new_export(tmp_path)
    draft = tmp_path / "drafts" / "nuevo.yaml"
    res = runner.invoke(
        app,
        ["codebook", "init", str(path), "-i", "nuevo", "-c", "trafficking", "--out", str(draft)],
    )
    assert res.exit_code == 0 and draft.is_file(), res.output
    res = runner.invoke(app, ["validate", str(path), "--codebook", str(draft)])
    assert "NUEVO / trafficking: 4 rows read" in res.output, res.output
    assert res.exit_code in (0, 1)
    # refusing to replace a draft, and a codebook/institution mismatch, are exit 2
    again = ["codebook", "init", str(path), "-i", "NUEVO", "-c", "trafficking", "--out", str(draft)]
    assert runner.invoke(app, again).exit_code == 2
    res = runner.invoke(app, ["validate", str(path), "--codebook", str(draft), "-i", "PDI"])
    assert res.exit_code == 2 and "does not match the codebook's institution NUEVO" in res.output


def test_a_draft_of_a_known_export_reads_it_like_the_shipped_codebook(tmp_path):
    cb = get("FISCALIA", "protest_violence")
    path = write(cb, good_rows(cb, 6), tmp_path)
    res = runner.invoke(
        app, ["codebook", "init", str(path), "-i", "OTRA", "-c", "protest_violence"]
    )
    assert res.exit_code == 0, res.output
    draft = tmp_path / "OTRA.yaml"
    draft.write_text(res.output, encoding="utf-8")
    res = runner.invoke(app, ["validate", str(path), "--codebook", str(draft)])
    assert res.exit_code == 0 and "6 rows read, 6 accepted, 0 rejected" in res.output, res.output


def test_codebook_init_on_an_unreadable_file_is_exit_2(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_bytes(b"")
    res = runner.invoke(app, ["codebook", "init", str(bad), "-i", "NUEVO", "-c", "trafficking"])
    assert res.exit_code == 2 and "file_is_empty" in res.output
    res = runner.invoke(app, ["codebook", "init", str(bad), "-i", "NUEVO", "-c", "nope"])
    assert res.exit_code == 2 and "unknown case study" in res.output


def test_validate_says_where_it_wrote_without_quarantine(tmp_path, outputs):
    cb = get("MINSAL_PIRO", "protest_violence")
    df = good_rows(cb, 3)
    df.loc[1, "sexo"] = "varon"
    path = write(cb, df, tmp_path)
    res = runner.invoke(app, ["validate", str(path), "-i", "MINSAL_PIRO"])
    assert res.exit_code == 1
    q = outputs / "quarantine" / "validate" / "protest_violence" / "MINSAL_PIRO"
    assert (
        f"written to {q / (path.name + '.parquet')} (the default place; --quarantine PATH"
        in res.output
    )


def test_the_intake_and_datajusta_home_are_documented(root):
    doc = (root / "docs" / "codebooks.md").read_text(encoding="utf-8")
    for needle in ("datajusta codebook init", "--codebook", "DATAJUSTA_HOME", "What is kept where"):
        assert needle in doc, needle
