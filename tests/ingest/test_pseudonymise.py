"""Pseudonymisation: RUN validation agrees with python-stdnum, person keys are keyed HMACs,
the key comes from where the docs say, and neither the key nor a raw identifier leaves ingestion."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pytest
from _ingest_helpers import good_rows, run, write
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cl import rut

from datajusta_lib.ingest import codebooks, harmonise, pseudonymise
from datajusta_lib.ingest.pseudonymise import (
    SYNTHETIC_ONLY_PUBLIC_KEY,
    MissingKeyError,
    key_fingerprint,
    normalise_passport,
    normalise_run,
    person_keys,
    resolve_key,
)

KEY_A = b"a-secret-key-for-tests-aaaaaaaaaaaa"
KEY_B = b"a-secret-key-for-tests-bbbbbbbbbbbb"


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1_000_000, max_value=99_999_999))
def test_vectorised_check_digit_equals_stdnum(body):
    assert pseudonymise.run_check_digit(np.array([body]))[0] == rut.calc_check_digit(str(body))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789kK.- ", min_size=0, max_size=14))
def test_run_validation_agrees_with_stdnum_on_arbitrary_text(text):
    normal, rule = normalise_run(pd.Series([text or None], dtype="str"))
    if not text:
        return
    ours = pd.isna(rule.iloc[0])
    assert ours == rut.is_valid(text), (text, rule.iloc[0])
    if ours:
        assert normal.iloc[0] == rut.compact(text).lstrip("0")


def test_run_formats_and_rules():
    values = pd.Series(
        [
            "12.345.678-5",
            "12345678-5",
            "123456785",
            " 12.345.678-5 ",
            "12.345.678-4",
            "ABC",
            None,
            "7.654.321-k",
        ],
        dtype="str",
    )
    normal, rule = normalise_run(values)
    assert normal.tolist()[:4] == ["123456785"] * 4
    assert rule.tolist()[4:6] == ["invalid_run_check_digit", "invalid_run_format"]
    assert pd.isna(rule.iloc[6]) and pd.isna(normal.iloc[6])
    assert rule.iloc[7] == "invalid_run_check_digit"
    assert (
        pseudonymise.explain_run("12.345.678-4")
        == "The number's checksum or check digit is invalid."
    )


def test_passports():
    normal, rule = normalise_passport(pd.Series(["ab 123-456", "x", None], dtype="str"))
    assert normal.iloc[0] == "AB123456" and rule.iloc[1] == "invalid_passport_format"
    assert pd.isna(rule.iloc[2])


def test_person_key_is_the_documented_hmac():
    normal = pd.Series(["123456785", None, "123456785"], dtype="str")
    keys = person_keys(normal, "RUN", KEY_A)
    expected = hmac.new(KEY_A, b"RUN:123456785", hashlib.sha256).hexdigest()
    assert keys.iloc[0] == expected == keys.iloc[2]
    assert pd.isna(keys.iloc[1])
    # same identifier, different key -> different person key; RUN and passport never collide
    assert person_keys(normal, "RUN", KEY_B).iloc[0] != expected
    assert person_keys(normal, "passport", KEY_A).iloc[0] != expected
    # a key longer than the hash block is hashed first, as HMAC prescribes
    long_key = b"k" * 100
    assert person_keys(normal, "RUN", long_key).iloc[0] == pseudonymise.hmac_hex(
        "RUN:123456785", long_key
    )


def test_many_person_keys_match_the_reference():
    normal = pd.Series([str(10_000_000 + i) + "5" for i in range(2000)], dtype="str")
    keys = person_keys(normal, "passport", KEY_A)
    for i in (0, 777, 1999):
        assert keys.iloc[i] == pseudonymise.hmac_hex("PASSPORT:" + normal.iloc[i], KEY_A)


def test_key_resolution(tmp_path, monkeypatch, root):
    for var in ("DATAJUSTA_KEY", "DATAJUSTA_KEY_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_key("synthetic") == SYNTHETIC_ONLY_PUBLIC_KEY
    with pytest.raises(MissingKeyError) as exc:
        resolve_key("private")
    for hint in (
        "DATAJUSTA_KEY",
        "DATAJUSTA_KEY_FILE",
        ".config/datajusta/key",
        "secrets.token_hex",
    ):
        assert hint in str(exc.value)
    default = tmp_path / "home" / ".config" / "datajusta" / "key"
    default.parent.mkdir(parents=True)
    default.write_bytes(KEY_B + b"\n")
    assert resolve_key("private") == KEY_B
    keyfile = tmp_path / "elsewhere.key"
    keyfile.write_bytes(KEY_A)
    monkeypatch.setenv("DATAJUSTA_KEY_FILE", str(keyfile))
    assert resolve_key("private") == KEY_A
    inside = root / "outputs" / "test-key-inside-the-repository.key"
    inside.parent.mkdir(exist_ok=True)
    inside.write_bytes(KEY_A)
    try:
        monkeypatch.setenv("DATAJUSTA_KEY_FILE", str(inside))
        with pytest.raises(MissingKeyError, match="inside the repository"):
            resolve_key("private")
    finally:
        inside.unlink()
    monkeypatch.setenv("DATAJUSTA_KEY", "from-the-environment-0123456789")
    assert resolve_key("private") == b"from-the-environment-0123456789"
    monkeypatch.setenv("DATAJUSTA_KEY", "short")
    with pytest.raises(MissingKeyError, match="shorter than 16 bytes"):
        resolve_key("private")
    monkeypatch.setenv("DATAJUSTA_KEY", SYNTHETIC_ONLY_PUBLIC_KEY.decode())
    with pytest.raises(MissingKeyError, match="cannot protect private data"):
        resolve_key("private")


def test_fingerprint_reveals_nothing():
    fp = key_fingerprint(KEY_A)
    assert len(fp) == 16 and fp != key_fingerprint(KEY_B)
    assert KEY_A.hex()[:8] not in fp and fp not in hashlib.sha256(KEY_A).hexdigest()


def test_no_key_and_no_raw_identifier_in_any_output(tmp_path):
    cb = codebooks.get("CARABINEROS", "attempted_femicide")  # records RUN and names
    df = good_rows(cb, 6)
    df.loc[5, "EDAD_VICTIMA"] = "-1"  # one row to quarantine
    path = write(cb, df, tmp_path / "in")
    result = harmonise.harmonise_file(path, cb, KEY_A)
    assert result.n_accepted == 5 and result.n_rejected == 1
    out = tmp_path / "out"
    result.write_quarantine(out / "q.parquet")
    result.write_quarantine(out / "q.csv")
    result.records.to_parquet(out / "records.parquet")
    result.records.to_csv(out / "records.csv")
    (out / "report.txt").write_text(result.to_text(), encoding="utf-8")
    secrets = [KEY_A, KEY_A.hex().encode()]
    runs = [run(k) for k in range(1, 7)]
    identifiers = [r.encode() for r in runs] + [
        r.replace(".", "").replace("-", "").encode() for r in runs
    ]
    names = [f"Persona Ficticia {k}".encode() for k in range(1, 7)]
    for f in out.iterdir():
        data = f.read_bytes()
        for s in secrets + identifiers + names:
            assert s not in data, (f.name, s)
    # the same identifier under the same key is the same person key, a new key changes all
    again = harmonise.harmonise_file(path, cb, KEY_A).records["person_key"]
    other = harmonise.harmonise_file(path, cb, KEY_B).records["person_key"]
    assert again.tolist() == result.records["person_key"].tolist()
    assert not set(other) & set(again)
    assert result.records["person_key"].str.fullmatch(r"[0-9a-f]{64}").all()
