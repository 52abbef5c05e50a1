"""The synthetic generator end to end: layout, labels, calibration, truth, round trip.

One default generation (seed from the model, scale 1, all case studies) is shared by the
tests of this module; they run on one xdist worker so it is built once.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from stdnum.cl import rut
from typer.testing import CliRunner

from datajusta_lib import synthetic
from datajusta_lib.cli import app
from datajusta_lib.core import canon
from datajusta_lib.core.paths import codebooks_dir, project_root
from datajusta_lib.ingest import codebooks, harmonise, pseudonymise
from datajusta_lib.synthetic.recording import ROW_MODES

pytestmark = pytest.mark.xdist_group("synthetic")
KEY = pseudonymise.SYNTHETIC_ONLY_PUBLIC_KEY


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic") / "synthetic"
    return synthetic.generate(out=out)


@pytest.fixture(scope="module")
def harmonised(default):
    """Every export read and harmonised with the project's own reader and codebooks."""
    out = default.out
    results = {}
    for cs in canon.case_studies():
        for inst in codebooks.institutions(cs):
            cb = codebooks.get(inst, cs)
            files = sorted((out / cs / inst).iterdir())
            results[cs, inst] = harmonise.harmonise_files(files, cb, KEY)
    return results


def _truth(out: Path, cs: str, name: str) -> pd.DataFrame:
    return pd.read_parquet(out / "_truth" / cs / f"{name}.parquet")


def _relative(out: Path, files: pd.Series) -> list[str]:
    return [Path(f).relative_to(out).as_posix() for f in files]


# --------------------------------------------------------------------------------------
# layout and labels
# --------------------------------------------------------------------------------------
def test_every_codebook_gets_its_export_under_a_synthetic_path(default):
    out = default.out
    assert "synthetic" in out.as_posix()
    for cs in canon.case_studies():
        for inst in codebooks.institutions(cs):
            cb = codebooks.get(inst, cs)
            path = out / cs / inst / cb.export.filename
            assert path.is_file(), path
            assert default.metadata["case_studies"][cs]["institutions"][inst]["rows"] > 0


def test_metadata_and_readme_say_synthetic(default):
    meta = json.loads((default.out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["synthetic"] is True
    assert meta["seed"] == synthetic.default_seed() and meta["scale"] == 1.0
    assert meta["generator_version"] == synthetic.GENERATOR_VERSION
    assert pd.Timestamp(meta["generated_at"]) <= pd.Timestamp.now(tz="UTC")
    assert len(meta["calibration"]) >= 30
    readme = (default.out / "README.txt").read_text(encoding="utf-8")
    assert "DATOS SINTÉTICOS" in readme and "SYNTHETIC DATA" in readme
    truth_readme = (default.out / "_truth" / "README.txt").read_text(encoding="utf-8")
    assert "never present it as real" in truth_readme


def test_workbook_title_rows_say_synthetic(default):
    from openpyxl import load_workbook

    cb = codebooks.get("INDH", "protest_violence")
    wb = load_workbook(
        default.out / "protest_violence" / "INDH" / cb.export.filename, read_only=True
    )
    first = next(wb[cb.export.sheet].iter_rows(values_only=True))
    assert "DATOS SINTÉTICOS" in first[0]
    assert wb.properties.creator.endswith("(DATOS SINTÉTICOS)")


# --------------------------------------------------------------------------------------
# calibration
# --------------------------------------------------------------------------------------
def test_calibrated_counts_are_within_tolerance_of_their_targets(default):
    table = synthetic.calibration_table(default.out)
    bad = table.loc[
        ~table["within_tolerance"], ["institution", "period_start", "unit", "synthetic", "target"]
    ]
    assert bad.empty, bad.to_string()
    figures = synthetic.load_figures().set_index("id")["value"]
    calibrated = table[(table["role"] == "calibrated") & table["figure_id"].notna()]
    assert set(calibrated["figure_id"]) >= {
        "pv18",
        "pv21",
        "pv25",
        "af01",
        "af06",
        "af09",
        "tp01",
        "tp05",
    }
    for r in calibrated.itertuples():
        assert r.target == round(figures[r.figure_id] * (r.factor or 1.0))
        assert abs(r.synthetic - r.target) <= max(1, 0.01 * r.target)


def test_checks_against_other_published_figures_hold(default):
    table = synthetic.calibration_table(default.out)
    checks = table[table["role"] == "check"].set_index("figure_id")
    assert {"pv24", "pv26", "tp02"} <= set(checks.index)
    for fid, r in checks.iterrows():
        assert abs(r.synthetic - r.target) <= synthetic.CHECK_TOLERANCE * r.target, fid


def test_docs_show_the_current_calibration_table(default):
    docs = (project_root() / "docs" / "synthetic.md").read_text(encoding="utf-8")
    assert synthetic.calibration_docs(default.out) in docs, (
        "docs/synthetic.md is stale: run `datajusta synth` and "
        "`python -c 'from datajusta_lib import synthetic; synthetic.write_calibration_docs()'`"
    )


def test_scale_multiplies_counts(tmp_path, default):
    half = synthetic.generate(
        scale=0.5, out=tmp_path / "synthetic", case_studies=["protest_violence"]
    )
    full = default.metadata["case_studies"]["protest_violence"]["institutions"]
    for inst, info in half.metadata["case_studies"]["protest_violence"]["institutions"].items():
        assert info["rows"] == pytest.approx(full[inst]["rows"] / 2, rel=0.1), inst
    table = synthetic.calibration_table(tmp_path / "synthetic")
    assert table.loc[table["figure_id"] == "pv25", "target"].item() == round(11183 * 0.5)


# --------------------------------------------------------------------------------------
# identifiers
# --------------------------------------------------------------------------------------
def test_runs_are_valid_and_outside_the_range_of_natural_persons(default):
    for cs in canon.case_studies():
        persons = _truth(default.out, cs, "persons")
        runs = persons["run"].dropna().astype("int64")
        assert runs.between(40_000_000, 49_999_999).all()
        assert runs.is_unique
        sample = persons.dropna(subset=["run"]).head(2000)
        formatted = sample["run"].astype("int64").astype(str) + sample["run_dv"]
        assert all(rut.is_valid(v) for v in formatted)
        pp = persons["passport"].dropna()
        assert pp.str.fullmatch(r"ZZ\d{7}").all() and pp.is_unique


def test_foreigners_without_a_run_get_none(default):
    persons = _truth(default.out, "trafficking", "persons")
    irregular = persons["migrant_status"] == "irregular"
    assert irregular.any() and persons.loc[irregular, "run"].isna().all()
    assert persons.loc[persons["nationality"] == "CHL", "run"].notna().all()


# --------------------------------------------------------------------------------------
# round trip: the project's readers and harmoniser recover the truth
# --------------------------------------------------------------------------------------
def test_quarantine_catches_exactly_the_injected_problems(default, harmonised):
    out = default.out
    for (cs, inst), res in harmonised.items():
        corr = _truth(out, cs, "corruptions")
        mine = corr[corr["institution"] == inst]
        q = res.quarantine
        caught = set(
            zip(_relative(out, q["source_file"]), q["source_row"].astype(int), strict=True)
        )
        injected = set(zip(mine["file"], mine["source_row"].astype(int), strict=True))
        assert caught == injected, (cs, inst, caught ^ injected)
        assert res.n_accepted + res.n_rejected == res.n_read


def test_every_kind_of_problem_reaches_quarantine(default, harmonised):
    rules = {
        "invalid_run_check_digit": "run",
        "future_date": "future",
        "age_out_of_range": "age_out_of_range",
        "formula_like": "formula",
        "unknown_category": "unknown",
    }
    for cs in canon.case_studies():
        corr = _truth(default.out, cs, "corruptions")
        assert set(corr["kind"]) == set(rules), cs
    q = pd.concat([r.quarantine.assign(inst=i) for (cs, i), r in harmonised.items()])
    text = " ".join(q["rules"]).lower()
    for fragment in rules.values():
        assert fragment in text


def test_harmonised_values_equal_the_expected_truth(default, harmonised):
    out = default.out
    for (cs, inst), res in harmonised.items():
        cb = codebooks.get(inst, cs)
        truth = _truth(out, cs, "records")
        truth = truth[truth["institution"] == inst]
        rec = res.records.assign(
            file=_relative(out, res.records["source_file"]),
            source_row=res.records["source_row"].astype(int),
        )
        m = rec.merge(
            truth.assign(source_row=truth["source_row"].astype(int)),
            on=["file", "source_row"],
            suffixes=("", "_truth"),
            validate="1:1",
        )
        assert len(m) == len(rec)
        assert (m["record_id"] == m["record_id_truth"]).all()
        for field in cb.recorded:
            if field == "person_name":
                continue
            got, exp = m[field], m[f"expected_{field}"]
            if field == "person_key":
                exp = exp.map(lambda v: None if pd.isna(v) else pseudonymise.hmac_hex(v, KEY))
            elif field in ("event_date", "report_date"):
                got, exp = pd.to_datetime(got), pd.to_datetime(exp)
            elif field == "age":
                got, exp = got.astype("Int64"), exp.astype("Int64")
            same = (got.astype(object) == exp.astype(object)) | (got.isna() & exp.isna())
            assert same.all(), (cs, inst, field, m.loc[~same, [field, f"expected_{field}"]].head())


def test_labels_are_varied_but_understood(default):
    """Several labels for one value are all used; case/spacing variants are read as the label."""
    cb = codebooks.get("FISCALIA", "protest_violence")
    df = pd.read_csv(
        default.out / "protest_violence" / "FISCALIA" / cb.export.filename,
        sep=";",
        encoding="latin-1",
        dtype=str,
        keep_default_na=False,
    )
    rm = {k for k, v in cb.specs["region_code"].values.items() if v == "13"}
    assert rm <= set(df["FISCALIA_REGIONAL"])
    cb = codebooks.get("DPP", "protest_violence")
    df = pd.read_csv(
        default.out / "protest_violence" / "DPP" / cb.export.filename,
        sep="\t",
        dtype=str,
        keep_default_na=False,
    )
    assert (df["sexo"] == "MASCULINO").any() or (df["sexo"] == " masculino ").any()


# --------------------------------------------------------------------------------------
# the truth: uneven overlap, capture that depends on the person and place, errors
# --------------------------------------------------------------------------------------
def _victim_histories(out, cs):
    h = _truth(out, cs, "capture_histories")
    persons = _truth(out, cs, "persons").set_index("person_id")
    assert persons.loc[h["person_id"], "is_victim"].all()  # victims only
    assert len(h) == persons["is_victim"].sum()
    return h


def test_lists_overlap_unevenly(default):
    h = _victim_histories(default.out, "protest_violence")
    assert h.loc[h["INDH"], "FISCALIA"].mean() > 0.9 > h["FISCALIA"].mean()
    events = _truth(default.out, "protest_violence", "events")
    captures = _truth(default.out, "protest_violence", "captures")
    assert events.loc[captures["MINSAL_PIRO"].to_numpy(), "eye_injury"].all()
    t = _victim_histories(default.out, "trafficking")
    lists = [c for c in t.columns if c != "person_id"]
    jaccard = [
        (t[a] & t[b]).sum() / (t[a] | t[b]).sum() for a, b in itertools.combinations(lists, 2)
    ]
    assert max(jaccard) < 0.6 and np.median(jaccard) < 0.3
    for cs in canon.case_studies():  # some victims are in no list: what MSE estimates
        v = _victim_histories(default.out, cs)
        assert 0 < (~v.drop(columns="person_id").any(axis=1)).sum() < len(v)


def test_capture_depends_on_the_victim_and_the_place(default):
    out = default.out
    events = _truth(out, "protest_violence", "events")
    cap = _truth(out, "protest_violence", "captures")
    eye = events["eye_injury"].to_numpy()
    in_rm = (events["region_code"] == "13").to_numpy()
    piro = cap["MINSAL_PIRO"].to_numpy()
    assert piro[eye & in_rm].mean() > piro[eye & ~in_rm].mean() + 0.05
    violent = (events["kind"] == "violence").to_numpy()
    indh = cap["INDH"].to_numpy()
    minor = events["minor"].to_numpy()
    assert indh[violent & minor].mean() > indh[violent & ~minor].mean() + 0.05
    events = _truth(out, "trafficking", "events")
    cap = _truth(out, "trafficking", "captures")
    persons = _truth(out, "trafficking", "persons")
    irregular = persons["migrant_status"].to_numpy()[events["person_id"]] == "irregular"
    assert cap["OSC"][irregular].mean() > cap["OSC"][~irregular].mean() + 0.05
    assert not cap["SERMIG"][~events["foreign"].to_numpy()].any()


def test_recording_errors_are_injected_and_recorded(default):
    out = default.out
    records = pd.concat([_truth(out, cs, "records").assign(cs=cs) for cs in canon.case_studies()])
    for flag in (
        "name_typo",
        "date_swapped",
        "region_wrong",
        "reclassified",
        "stage_lagged",
        "id_missing",
    ):
        assert 0 < records[flag].mean() < 0.2, flag
    dups = records[records["row_kind"] == "duplicate"]
    assert len(dups) > 50 and dups["duplicate_of"].isin(records["record_id"]).all()
    t = records[(records["cs"] == "trafficking") & (records["institution"] == "FISCALIA")]
    events = _truth(out, "trafficking", "events").set_index("event_id")
    true_cls = events.loc[t["event_id"], "classification"].to_numpy()
    smuggling = t["expected_classification"].eq("smuggling_411_bis").fillna(False).to_numpy(bool)
    assert (smuggling & (true_cls == "trafficking_411_quater")).sum() > 5  # 411 quáter as 411 bis
    f = records[(records["cs"] == "attempted_femicide") & (records["institution"] == "CARABINEROS")]
    fev = _truth(out, "attempted_femicide", "events").set_index("event_id").loc[f["event_id"]]
    vif = f["expected_classification"].eq("lesiones_vif").fillna(False).to_numpy(bool)
    assert (vif & (fev["classification"].to_numpy() == "femicidio_frustrado")).sum() > 10
    before = (fev["event_date"] < "2020-03-04").to_numpy() & ~fev["covered"].to_numpy()
    recorded_as = f["expected_classification"].isin(["femicidio_frustrado", "femicidio_tentado"])
    assert before.sum() > 10 and not recorded_as.fillna(False).to_numpy(bool)[before].any()


def test_exports_hold_what_was_recorded_by_the_extraction_date(default):
    """Rows reported after ``as_of`` are not exported (nor piled up on it), the truth's
    captures are exactly what the exports hold, and open case studies run to the extraction."""
    out = default.out
    as_of = pd.Timestamp(json.loads((out / "metadata.json").read_text())["as_of"])
    for cs in canon.case_studies():
        records = _truth(out, cs, "records")
        reported = records["expected_report_date"].dropna()
        assert len(reported) and (reported <= as_of).all(), cs
        assert (reported == as_of).mean() < 0.001, cs  # no pile-up on the extraction date
        events = _truth(out, cs, "events")
        captures = _truth(out, cs, "captures")
        spec = synthetic.load_model()["case_studies"][cs]["institutions"]
        for inst, rows in records[records["row_kind"] == "original"].groupby("institution"):
            mode = (spec[inst].get("recording") or {}).get("rows") or ROW_MODES.get(
                codebooks.get(inst, cs).unit_of_count, "per_event"
            )
            unit = {"per_person": "person_id", "per_case": "case_id"}.get(mode, "event_id")
            held = set(events.loc[captures[inst].to_numpy(), unit])
            assert held == set(rows[unit]), (cs, inst)
    t = _truth(out, "trafficking", "records")
    last_full_year = t[t["expected_event_date"].dt.year == as_of.year - 1]
    for inst in ("PDI", "CARABINEROS", "FISCALIA"):  # event-dated lists reach the extraction
        assert (last_full_year["institution"] == inst).sum() > 0, inst


# --------------------------------------------------------------------------------------
# reproducibility, if-missing, safety
# --------------------------------------------------------------------------------------
def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "metadata.json" and p.name != "README.txt"
    }


def test_same_seed_and_scale_give_byte_identical_exports(tmp_path):
    a = synthetic.generate(seed=7, scale=0.1, out=tmp_path / "a" / "synthetic")
    b = synthetic.generate(seed=7, scale=0.1, out=tmp_path / "b" / "synthetic")
    da, db = _digests(a.out), _digests(b.out)
    assert sum(k.endswith(".xlsx") for k in da) == 5 and any(k.endswith(".parquet") for k in da)
    assert da == db
    c = synthetic.generate(
        seed=8, scale=0.1, out=tmp_path / "c" / "synthetic", case_studies=["trafficking"]
    )
    dc = _digests(c.out)
    assert all(da[k] != dc[k] for k in dc if k.endswith((".csv", ".xlsx", ".txt")))


def test_if_missing_generates_only_when_the_version_changed(tmp_path):
    out = tmp_path / "synthetic"
    first = synthetic.generate(scale=0.1, out=out, case_studies=["trafficking"], if_missing=True)
    assert not first.skipped
    again = synthetic.generate(scale=0.1, out=out, case_studies=["trafficking"], if_missing=True)
    assert again.skipped and again.metadata["generated_at"] == first.metadata["generated_at"]
    (out / "trafficking" / "OSC" / "personas_acompanadas.csv").unlink()
    assert not synthetic.generate(
        scale=0.1, out=out, case_studies=["trafficking"], if_missing=True
    ).skipped
    other = synthetic.generate(scale=0.2, out=out, case_studies=["trafficking"], if_missing=True)
    assert not other.skipped and other.metadata["scale"] == 0.2


def test_refuses_to_replace_a_folder_that_is_not_synthetic(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="refusing"):
        synthetic.generate(scale=0.1, out=tmp_path / "mine", case_studies=["trafficking"])
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_cli_synth(tmp_path):
    runner = CliRunner()
    out = tmp_path / "synthetic"
    args = ["synth", "--out", str(out), "--scale", "0.1", "-c", "trafficking", "--seed", "3"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "synthetic records (seed 3, scale 0.1)" in result.output
    assert json.loads((out / "metadata.json").read_text())["seed"] == 3
    assert "is current" in runner.invoke(app, [*args, "--if-missing"]).output
    bad = runner.invoke(app, ["synth", "--out", str(out), "--scale", "0"])
    assert bad.exit_code == 2 and "--scale must be positive" in bad.output


# --------------------------------------------------------------------------------------
# driven by the codebooks
# --------------------------------------------------------------------------------------
def _codebook_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "codebooks"
    shutil.copytree(codebooks_dir(), folder)
    return folder


def test_exports_follow_the_codebook_they_are_given(tmp_path):
    folder = _codebook_copy(tmp_path)
    path = folder / "trafficking" / "SPD_PAV.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["export"].update(
        encoding="latin-1", delimiter="\t", date_format="%d.%m.%Y", filename="protocolo_*.txt"
    )
    doc["fields"]["sex"]["original_name"] = "SEXO_PERSONA"
    doc["fields"]["sex"]["values"] = {"Femenino": "female", "Masculino": "male"}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    res = synthetic.generate(
        scale=0.3, out=tmp_path / "synthetic", case_studies=["trafficking"], codebooks=folder
    )
    files = sorted((res.out / "trafficking" / "SPD_PAV").iterdir())
    assert len(files) > 3 and all(f.name.startswith("protocolo_20") for f in files)  # one per year
    text = files[-1].read_bytes().decode("latin-1")
    header = text.splitlines()[0].split("\t")
    assert "SEXO_PERSONA" in header
    body = [line.split("\t") for line in text.splitlines()[1:]]
    dates = [r[header.index("fecha_derivacion")] for r in body]
    assert (
        sum(bool(pd.Series([d]).str.fullmatch(r"\d{2}\.\d{2}\.\d{4}").item()) for d in dates)
        > len(dates) * 0.8
    )
    cb = codebooks.load_codebook(path)
    result = harmonise.harmonise_files(files, cb, KEY)
    corr = _truth(res.out, "trafficking", "corruptions")
    assert result.n_rejected == (corr["institution"] == "SPD_PAV").sum()
    assert set(result.records["sex"].dropna()) == {"female", "male"}


def test_codebook_without_a_synthetic_model_is_an_error(tmp_path):
    folder = _codebook_copy(tmp_path)
    src = folder / "trafficking" / "OSC.yaml"
    doc = yaml.safe_load(src.read_text(encoding="utf-8"))
    doc["institution"] = "NUEVA_OSC"
    (folder / "trafficking" / "NUEVA_OSC.yaml").write_text(
        yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8"
    )
    with pytest.raises(ValueError, match=r"no synthetic model for \['NUEVA_OSC'\]"):
        synthetic.generate(
            scale=0.1, out=tmp_path / "synthetic", case_studies=["trafficking"], codebooks=folder
        )
