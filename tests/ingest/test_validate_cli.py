"""`datajusta validate`: a readable report and the exit code a team lead can script on."""

from __future__ import annotations

import pandas as pd
import pytest
from _ingest_helpers import get, good_rows, sha256, write
from typer.testing import CliRunner

from datajusta_lib.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(tmp_path / "outputs"))
    for var in ("DATAJUSTA_KEY", "DATAJUSTA_KEY_FILE"):
        monkeypatch.delenv(var, raising=False)  # validation needs no key
    return tmp_path / "outputs"


def test_a_clean_export_exits_zero_and_says_how_it_was_read(tmp_path):
    cb = get("FISCALIA", "protest_violence")
    path = write(cb, good_rows(cb, 4), tmp_path)
    res = runner.invoke(
        app,
        ["validate", str(path), "--institution", "FISCALIA", "--case-study", "protest_violence"],
    )
    assert res.exit_code == 0, res.output
    assert "4 rows read, 4 accepted, 0 rejected" in res.output
    assert "delimiter semicolon" in res.output and "encoding ascii" in res.output
    assert "quarantine" not in res.output


def test_rejected_rows_exit_one_with_rules_rows_and_quarantine(tmp_path, outputs):
    cb = get("MINSAL_PIRO", "protest_violence")  # the only case study of PIRO: no --case-study
    df = good_rows(cb, 5)
    df.loc[1, "sexo"] = "varon"
    df.loc[3, "edad"] = "-1"
    path = write(cb, df, tmp_path)
    before = sha256(path)
    res = runner.invoke(app, ["validate", str(path), "-i", "minsal_piro"])
    assert res.exit_code == 1, res.output
    out = res.output
    assert "5 rows read, 3 accepted, 2 rejected" in out
    assert "encoding utf-8-sig, delimiter comma" in out
    assert "unknown_category" in out and "age_out_of_range" in out
    assert f"{path}, row 3, column sexo (sex): rule unknown_category; value 'varon'" in out
    assert f"{path}, row 5, column edad (age): rule age_out_of_range (0-110); value -1" in out
    q = (
        outputs
        / "quarantine"
        / "validate"
        / "protest_violence"
        / "MINSAL_PIRO"
        / f"{path.name}.parquet"
    )
    assert f"2 rejected rows written to {q}" in out
    assert pd.read_parquet(q)["source_row"].tolist() == [3, 5]
    assert sha256(path) == before


def test_quarantine_to_csv_with_formulas_escaped(tmp_path):
    cb = get("DPP", "protest_violence")
    df = good_rows(cb, 3)
    df.loc[0, "tipo_vulneracion"] = "=cmd|'/c calc'!A1"
    path = write(cb, df, tmp_path)
    target = tmp_path / "rechazos.csv"
    res = runner.invoke(app, ["validate", str(path), "-i", "DPP", "--quarantine", str(target)])
    assert res.exit_code == 1
    text = target.read_text(encoding="utf-8")
    assert "'=cmd" in text and ",=cmd" not in text and "\n=cmd" not in text


def test_an_unreadable_file_exits_two(tmp_path):
    cb = get("FISCALIA", "protest_violence")
    path = tmp_path / cb.export.filename
    path.write_bytes(b"")
    res = runner.invoke(app, ["validate", str(path), "-i", "FISCALIA", "-c", "protest_violence"])
    assert res.exit_code == 2
    assert "file_is_empty" in res.output and str(path) in res.output


def test_the_case_study_comes_from_the_folder_when_ambiguous(tmp_path):
    cb = get("FISCALIA", "trafficking")
    path = write(cb, good_rows(cb, 2), tmp_path / "trafficking" / "FISCALIA")
    res = runner.invoke(app, ["validate", str(path), "-i", "FISCALIA"])
    assert res.exit_code == 0 and "FISCALIA / trafficking" in res.output
    elsewhere = write(cb, good_rows(cb, 2), tmp_path / "loose")
    res = runner.invoke(app, ["validate", str(elsewhere), "-i", "FISCALIA"])
    assert res.exit_code == 2 and "choose one with --case-study" in res.output


def test_unknown_institution_or_case_study_exits_two(tmp_path):
    res = runner.invoke(app, ["validate", str(tmp_path / "x.csv"), "-i", "NOPE"])
    assert res.exit_code == 2 and "no codebook for institution 'NOPE'" in res.output
    res = runner.invoke(
        app, ["validate", str(tmp_path / "x.csv"), "-i", "INDH", "-c", "trafficking"]
    )
    assert res.exit_code == 2 and "INDH has no codebook for 'trafficking'" in res.output


def test_a_file_without_rows_is_not_a_pass(tmp_path):
    cb = get("FISCALIA", "protest_violence")
    path = write(cb, good_rows(cb, 1).iloc[0:0], tmp_path)
    res = runner.invoke(app, ["validate", str(path), "-i", "FISCALIA", "-c", "protest_violence"])
    assert res.exit_code == 1 and "file_has_no_rows" in res.output
