"""Identifiers at rest (issue 14, point 4): a name, RUN or e-mail typed into a mapped column
that is not the person key never reaches the quarantine, the ingest cache or the terminal in
clear, and those files are readable by their owner only, whatever the umask."""

from __future__ import annotations

import json
import os
import stat

import pandas as pd
import pytest
from _ingest_helpers import get, good_rows, write
from typer.testing import CliRunner

import datajusta_lib as dj
from datajusta_lib.cli import app
from datajusta_lib.gate import scanner

CS = "protest_violence"
NAME = "Zenobia Quirtalez"  # a person of the small synthetic truth written below
RUN = "12.345.678-5"
EMAIL = "zenobia.q@example.cl"
PHONE = "+56 9 8765 4321"
SECRETS = (NAME, RUN, "12345678", EMAIL, "zenobia.q", PHONE, "8765 4321")
runner = CliRunner()


@pytest.fixture
def world(tmp_path, monkeypatch):
    synth, out = tmp_path / "synthetic", tmp_path / "outputs"
    monkeypatch.setenv("DATAJUSTA_SYNTHETIC_DIR", str(synth))
    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(out))
    (synth / "_truth" / CS).mkdir(parents=True)
    (synth / "metadata.json").write_text(json.dumps({"synthetic": True}), encoding="utf-8")
    pd.DataFrame(
        {"given_names": ["Zenobia"], "surname_1": ["Quirtalez"], "surname_2": ["Mondrave"]}
    ).to_parquet(synth / "_truth" / CS / "persons.parquet")
    cb = get("FISCALIA", CS)
    df = good_rows(cb, 5)
    df.loc[0, "SEXO_VICTIMA"] = NAME  # a name in the sex column
    df.loc[1, "FISCALIA_REGIONAL"] = f"ver {RUN}"  # a RUN in the region column
    df.loc[2, "INSTITUCION_IMPUTADO"] = EMAIL  # an e-mail in the perpetrator column
    df.loc[3, "ESTADO_CAUSA"] = PHONE  # a phone number in the stage column
    path = write(cb, df, synth / CS / "FISCALIA")
    old = os.umask(0o022)  # a permissive umask: the files must still be owner-only
    yield {"out": out, "path": path}
    os.umask(old)


def clear_values(frame: pd.DataFrame) -> list[str]:
    text = frame.astype(str).to_csv(index=False)
    return [s for s in SECRETS if s in text]


def test_mask_identifiers_uses_the_scanner_patterns():
    assert scanner.mask_identifiers(f"llamar al {PHONE} o {EMAIL}") == "llamar al [phone] o [email]"
    assert scanner.mask_identifiers(f"RUN {RUN}") == "RUN [run]"
    words = scanner.NameWords(frozenset({"zenobia"}), frozenset({"quirtalez"}))
    assert scanner.mask_identifiers("QUIRTALEZ, ZENOBIA", words) == "[name]"
    for label in ("MUJER", "FR ÑUBLE", "APREMIOS ILEGITIMOS ART. 150 D", "34", "05-01-2020"):
        assert scanner.mask_identifiers(label, words) == label


def test_quarantine_and_cache_on_disk_hold_no_identifier_in_clear(world):
    dj.load(CS, institutions=["FISCALIA"])
    q = dj.quarantine(CS, institutions=["FISCALIA"])
    assert sorted(q["source_row"]) == [2, 3, 4, 5]
    assert clear_values(q) == [], q.to_string()
    files = [p for p in world["out"].rglob("*") if p.is_file()]
    tables = [p for p in files if p.suffix == ".parquet"]
    assert any("quarantine" in p.parts for p in tables) and any("ingest" in p.parts for p in tables)
    for p in tables:
        assert clear_values(pd.read_parquet(p)) == [], p
    for p in files:
        if p.suffix == ".json":
            assert not any(s in p.read_text(encoding="utf-8") for s in SECRETS), p
    masked = q.set_index("source_row")
    assert masked.loc[2, "SEXO_VICTIMA"] == "[name]"
    assert masked.loc[3, "FISCALIA_REGIONAL"] == "ver [run]"
    assert masked.loc[4, "INSTITUCION_IMPUTADO"] == "[email]"
    assert "[email]" in masked.loc[4, "reasons"]


def test_quarantine_and_cache_files_are_owner_only(world):
    dj.load(CS, institutions=["FISCALIA"])
    out = world["out"]
    for top in (out / "quarantine", out / "cache" / "ingest"):
        for p in [top, *top.rglob("*")]:
            mode = stat.S_IMODE(p.stat().st_mode)
            assert mode == (0o700 if p.is_dir() else 0o600), (p, oct(mode))


def test_validate_prints_no_identifier_and_writes_owner_only(world, tmp_path):
    res = runner.invoke(app, ["validate", str(world["path"]), "-i", "FISCALIA", "-c", CS])
    assert res.exit_code == 1
    assert not [s for s in SECRETS if s in res.output], res.output
    assert "value '[name]'" in res.output and "value '[email]'" in res.output
    written = [p for p in (world["out"] / "quarantine" / "validate").rglob("*") if p.is_file()]
    assert written and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)
    assert clear_values(pd.read_parquet(written[0])) == []
    csv_out = tmp_path / "elsewhere" / "q.csv"
    res = runner.invoke(
        app,
        ["validate", str(world["path"]), "-i", "FISCALIA", "-c", CS, "--quarantine", str(csv_out)],
    )
    assert res.exit_code == 1 and stat.S_IMODE(csv_out.stat().st_mode) == 0o600
    assert not [s for s in SECRETS if s in csv_out.read_text(encoding="utf-8")]


def test_private_dirs_tightens_existing_folders_below_the_root(tmp_path):
    from datajusta_lib.ingest import at_rest

    (tmp_path / "a" / "b").mkdir(parents=True, mode=0o755)
    os.chmod(tmp_path / "a", 0o755)
    at_rest.private_dirs(tmp_path / "a" / "b" / "c", below=tmp_path)
    for p in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o700


def test_a_name_from_the_files_own_name_column_is_masked_in_other_columns(tmp_path, monkeypatch):
    """Real data: a name no list knows is still recognised when the file itself holds it."""
    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(tmp_path / "outputs"))
    cb = get("MINSAL_PIRO", CS)
    df = good_rows(cb, 3)
    df.loc[0, cb.specs["person_name"].original_name] = "María Pérez Soto"
    df.loc[1, cb.specs["sex"].original_name] = "MARIA PEREZ"  # typed into the sex column
    path = write(cb, df, tmp_path)
    res = runner.invoke(app, ["validate", str(path), "-i", "MINSAL_PIRO"])
    assert res.exit_code == 1 and "value '[name]'" in res.output, res.output
    assert "MARIA PEREZ" not in res.output and "María" not in res.output
    q = next((tmp_path / "outputs" / "quarantine").rglob("*.parquet"))
    assert clear_values(pd.read_parquet(q).rename(columns=str)) == []
    assert "MARIA PEREZ" not in pd.read_parquet(q).astype(str).to_csv()


def test_a_quarantine_written_elsewhere_leaves_the_users_folder_alone(tmp_path):
    from datajusta_lib.ingest import at_rest

    here = tmp_path / "work"
    here.mkdir(mode=0o755)
    os.chmod(here, 0o755)
    at_rest.write_private(pd.DataFrame({"a": [1]}), here / "q.csv")
    at_rest.write_private(pd.DataFrame({"a": [1]}), here / "new" / "q.parquet")
    assert stat.S_IMODE(here.stat().st_mode) == 0o755
    assert stat.S_IMODE((here / "new").stat().st_mode) == 0o700
    assert stat.S_IMODE((here / "q.csv").stat().st_mode) == 0o600
