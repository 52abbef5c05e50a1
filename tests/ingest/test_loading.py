"""dj.load / dj.quarantine: every institution of a case study, cached by content, private data
refused without a key, nothing lost; and the real synthetic generator's output end to end."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from _ingest_helpers import get, good_rows, run, sha256, write

import datajusta_lib as dj
from datajusta_lib.core import contracts
from datajusta_lib.ingest import codebooks, loading, pseudonymise

CS = "trafficking"


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A synthetic folder with every trafficking institution (a few bad rows) and outputs/."""
    synth, private, out = tmp_path / "synthetic", tmp_path / "private", tmp_path / "outputs"
    monkeypatch.setenv("DATAJUSTA_SYNTHETIC_DIR", str(synth))
    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(out))
    monkeypatch.setattr(loading, "private_dir", lambda: private)
    for var in ("DATAJUSTA_KEY", "DATAJUSTA_KEY_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    synth.mkdir()
    (synth / "metadata.json").write_text(json.dumps({"synthetic": True}), encoding="utf-8")
    files = {}
    for root in (synth, private):
        for inst in codebooks.institutions(CS):
            cb = get(inst, CS)
            df = good_rows(cb, 5)
            if "age" in cb.recorded:
                df.loc[4, cb.specs["age"].original_name] = "999"
            files[(root.name, inst)] = write(cb, df, root / CS / inst)
    return {"synth": synth, "private": private, "out": out, "files": files}


def test_load_gives_every_institution_validated(world):
    df = dj.load(CS)
    q = dj.quarantine(CS)
    n_age = sum("age" in get(i, CS).recorded for i in codebooks.institutions(CS))
    assert len(df) + len(q) == 5 * 6 and len(q) == n_age
    assert set(df["institution"]) == set(codebooks.institutions(CS))
    assert contracts.validate(df, contracts.RecordModel).ok
    assert df.attrs["synthetic"] is True and df.attrs["source"] == "synthetic"
    info = {i["institution"]: i for i in df.attrs["ingestion"]}
    assert info["OSC"]["n_read"] == 5 and info["OSC"]["n_rejected"] == 1
    assert set(q["rules"]) == {"age_out_of_range"} and set(q["institution"]) <= set(info)
    # the quarantine is also on disk, where the docs say
    on_disk = pd.read_parquet(world["out"] / "quarantine" / "synthetic" / CS / "FISCALIA.parquet")
    assert on_disk["source_row"].tolist() == [6]


def test_repeated_loads_come_from_the_cache_until_a_file_changes(world):
    first = dj.load(CS)
    assert not any(i["cached"] for i in first.attrs["ingestion"])
    second = dj.load(CS)
    assert all(i["cached"] for i in second.attrs["ingestion"])
    pd.testing.assert_frame_equal(first, second)
    path = world["files"][("synthetic", "OSC")]
    cb = get("OSC", CS)
    write(cb, good_rows(cb, 7), path.parent)
    third = dj.load(CS)
    cached = {i["institution"]: i["cached"] for i in third.attrs["ingestion"]}
    assert cached["OSC"] is False and cached["FISCALIA"] is True
    assert (third["institution"] == "OSC").sum() == 7
    assert dj.load(CS, refresh=True).attrs["ingestion"][0]["cached"] is False


def test_raw_files_are_never_modified(world):
    before = {k: sha256(p) for k, p in world["files"].items()}
    dj.load(CS)
    dj.quarantine(CS)
    assert before == {k: sha256(p) for k, p in world["files"].items()}


def test_choosing_institutions(world):
    df = dj.load(CS, institutions=["pdi", "SERMIG"])
    assert set(df["institution"]) == {"PDI", "SERMIG"}
    with pytest.raises(LookupError, match="no codebook for \\['INDH'\\]"):
        dj.load(CS, institutions="INDH")
    world["files"][("synthetic", "OSC")].unlink()
    with pytest.raises(FileNotFoundError, match="no export for OSC"):
        dj.load(CS, institutions="OSC")
    assert "OSC" not in set(dj.load(CS)["institution"])  # missing exports are skipped otherwise
    with pytest.raises(ValueError, match="unknown case study"):
        dj.load("robo")
    with pytest.raises(ValueError, match="source must be one of"):
        dj.load(CS, source="public")


def test_private_data_need_a_key_and_never_show_it(world, monkeypatch):
    with pytest.raises(pseudonymise.MissingKeyError, match="DATAJUSTA_KEY"):
        dj.load(CS, source="private")
    key = "private-key-for-the-loading-test-42"
    monkeypatch.setenv("DATAJUSTA_KEY", key)
    df = dj.load(CS, source="private")
    assert df.attrs["synthetic"] is False and len(df) == 30 - len(
        dj.quarantine(CS, source="private")
    )
    expected = pseudonymise.hmac_hex(
        "RUN:" + run(1).replace(".", "").replace("-", ""), key.encode()
    )
    fisc = df[df["institution"] == "FISCALIA"]
    assert fisc["person_key"].iloc[0] == expected
    raw_ids = [run(k).encode() for k in range(1, 6)] + [
        f"P{1000000 + k}".encode() for k in range(1, 6)
    ]
    for f in world["out"].rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert key.encode() not in data, f
            assert not any(r in data for r in raw_ids), f
    # another key: a cache miss and other person keys
    monkeypatch.setenv("DATAJUSTA_KEY", key + "-rotated")
    again = dj.load(CS, source="private")
    assert not any(i["cached"] for i in again.attrs["ingestion"])
    assert again[again["institution"] == "FISCALIA"]["person_key"].iloc[0] != expected


def test_nothing_to_load(world):
    with pytest.raises(FileNotFoundError, match="datajusta synth"):
        dj.load("attempted_femicide")


def test_summary(world):
    s = loading.ingestion_summary(CS)
    assert s.set_index("institution").loc["SERMIG", "unit_of_count"] == "records"
    assert (s["rows_read"] == s["accepted"] + s["rejected"]).all()


# --------------------------------------------------------------------------------------
# the synthetic generator's own output, end to end
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from datajusta_lib import synthetic

    out = tmp_path_factory.mktemp("generated") / "synthetic"
    synthetic.generate(out=out)  # the default scale, as `make synth` makes it
    return out


@pytest.mark.slow
def test_all_three_case_studies_load_from_the_generator(generated, tmp_path, monkeypatch):
    monkeypatch.setenv("DATAJUSTA_SYNTHETIC_DIR", str(generated))
    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(tmp_path / "outputs"))
    for var in ("DATAJUSTA_KEY", "DATAJUSTA_KEY_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for cs in ("trafficking", "attempted_femicide", "protest_violence"):
        df = dj.load(cs)
        q = dj.quarantine(cs)
        assert contracts.validate(df, contracts.RecordModel).ok
        assert set(df["institution"]) == set(codebooks.institutions(cs))
        for info in df.attrs["ingestion"]:
            assert info["n_read"] == info["n_accepted"] + info["n_rejected"]
        # exactly the rows the generator corrupted on purpose are quarantined
        truth = pd.read_parquet(generated / "_truth" / cs / "corruptions.parquet")
        corrupted = set(zip(truth["institution"], truth["source_row"].astype(int), strict=True))
        rejected = set(zip(q["institution"], q["source_row"].astype(int), strict=True))
        assert rejected == corrupted, (cs, sorted(rejected ^ corrupted)[:10])
        # and every accepted value is the one the generator meant the cell to carry
        truth_rows = pd.read_parquet(generated / "_truth" / cs / "records.parquet")
        m = df.merge(truth_rows, on=["institution", "source_row"], how="left", indicator=True)
        assert (m["_merge"] == "both").all()
        expected = m["expected_person_key"].map(
            lambda v: pseudonymise.hmac_hex(v, pseudonymise.SYNTHETIC_ONLY_PUBLIC_KEY),
            na_action="ignore",
        )
        _same(m["person_key"], expected, cs, "person_key")
        compared = [
            c[9:] for c in truth_rows.columns if c.startswith("expected_") and c[9:] in df.columns
        ]
        assert {"event_date", "region_code", "sex", "age", "classification"} <= set(compared)
        for col in compared:
            if col == "age_band":  # derived from the age where only the age is recorded
                given = m["expected_age_band"].notna()
                _same(m.loc[given, col], m.loc[given, "expected_age_band"], cs, col)
            elif col != "person_key":
                _same(m[col], m[f"expected_{col}"], cs, col)


def _same(ours: pd.Series, truth: pd.Series, cs: str, col: str) -> None:
    if pd.api.types.is_datetime64_any_dtype(ours):
        truth = pd.to_datetime(truth)
    a = pd.Series(["" if pd.isna(v) else str(v) for v in ours], dtype=object)
    b = pd.Series(["" if pd.isna(v) else str(v) for v in truth], dtype=object)
    bad = a != b
    assert not bad.any(), (cs, col, pd.DataFrame({"ours": a[bad], "truth": b[bad]}).head())
