"""Harmonisation: codebook-driven mapping into the canonical record, quarantine with reasons,
nothing lost, names dropped, raw files untouched."""

from __future__ import annotations

import pandas as pd
import pytest
from _ingest_helpers import KEY, get, good_rows, sha256, write

from datajusta_lib.core import contracts
from datajusta_lib.ingest import codebooks, harmonise


@pytest.mark.parametrize(
    "cb", codebooks.all_codebooks(), ids=lambda cb: f"{cb.case_study}-{cb.institution}"
)
def test_every_codebook_harmonises_good_rows_into_valid_records(tmp_path, cb):
    df = good_rows(cb, 4)
    path = write(cb, df, tmp_path)
    before = sha256(path)
    r = harmonise.harmonise_file(path, cb, KEY)
    assert sha256(path) == before
    assert (r.n_read, r.n_accepted, r.n_rejected) == (4, 4, 0), r.to_text()
    rec = r.records
    assert list(rec.columns) == [*contracts.RECORD_COLUMNS, "source_sheet"]
    assert contracts.validate(rec, contracts.RecordModel).ok
    assert set(rec["institution"]) == {cb.institution} and set(rec["case_study"]) == {cb.case_study}
    assert rec["record_id"].tolist() == df[cb.record_id].tolist()
    pk = cb.specs.get("person_key")
    if pk is not None and pk.recorded:
        assert rec["person_key"].str.fullmatch(r"[0-9a-f]{64}").all()
    else:
        assert rec["person_key"].isna().all()
    for name, spec in cb.recorded.items():
        if spec.dtype == "category":
            expected = df[spec.original_name].map(spec.values)
            assert rec[name].tolist() == expected.tolist(), name
    if "classification" in cb.recorded:
        assert (
            rec["classification_recorded"].tolist()
            == df[cb.specs["classification"].original_name].tolist()
        )
    for name, spec in cb.specs.items():
        if not spec.recorded and name in rec and name != "age_band":
            assert rec[name].isna().all(), name  # not recorded means missing, never invented
    assert (rec["event_date"].notna() | ("event_date" not in cb.recorded)).all()
    assert rec["source_row"].tolist() == list(
        range(cb.export.header_row + 1, cb.export.header_row + 5)
    )


def test_labels_match_ignoring_case_and_spacing_and_missing_tokens_are_missing(tmp_path):
    cb = get("FISCALIA", "protest_violence")
    df = good_rows(cb, 4)
    df.loc[0, "FISCALIA_REGIONAL"] = "  fr   metropolitana  sur "
    df.loc[1, "SEXO_VICTIMA"] = "S/I"  # canonical token
    df.loc[2, "ESTADO_CAUSA"] = "NO APLICA"  # this codebook's own token
    df.loc[3, "EDAD_VICTIMA"] = "34,0"  # decimal comma
    r = harmonise.harmonise_file(write(cb, df, tmp_path), cb, KEY)
    assert r.n_accepted == 4, r.to_text()
    rec = r.records
    assert rec.loc[0, "region_code"] == "13"
    assert pd.isna(rec.loc[1, "sex"]) and pd.isna(rec.loc[2, "procedural_stage"])
    assert rec.loc[3, "age"] == 34 and rec.loc[3, "age_band"] == "30-44"


def test_explicit_null_mapping_is_missing_not_an_error(tmp_path):
    cb = get("CARABINEROS", "attempted_femicide")
    df = good_rows(cb, 2)
    df.loc[0, "NACIONALIDAD"] = "EXTRANJERA OTRA"
    r = harmonise.harmonise_file(write(cb, df, tmp_path), cb, KEY)
    assert r.n_accepted == 2 and pd.isna(r.records.loc[0, "nationality"])


def test_age_band_is_derived_only_when_not_recorded(tmp_path):
    cb = get("SPD_PAV", "attempted_femicide")  # records a band, no age
    df = good_rows(cb, 2)
    df["tramo_edad"] = ["14 a 17", "60 y más"]
    r = harmonise.harmonise_file(write(cb, df, tmp_path), cb, KEY)
    assert r.records["age_band"].tolist() == ["14-17", "60+"]
    assert r.records["age"].isna().all()


def test_names_are_dropped_everywhere(tmp_path):
    cb = get("SERNAMEG", "attempted_femicide")
    df = good_rows(cb, 3)
    df.loc[2, "Edad"] = "300"
    r = harmonise.harmonise_file(write(cb, df, tmp_path), cb, KEY)
    assert (r.n_accepted, r.n_rejected) == (2, 1)
    everything = pd.concat([r.records.astype(str), r.quarantine.astype(str)]).to_csv()
    assert "Persona Ficticia" not in everything and "Nombre completo" not in r.quarantine.columns
    assert "Observaciones" not in r.quarantine.columns  # free text may name people: dropped


def test_quarantine_keeps_lineage_values_and_reasons(tmp_path):
    cb = get("INDH", "protest_violence")
    df = good_rows(cb, 5)
    df.loc[1, "Sexo"] = "Varón"
    df.loc[3, "Edad"] = "-2"
    df.loc[3, "Región"] = "XX"
    path = write(cb, df, tmp_path)
    r = harmonise.harmonise_file(path, cb, KEY)
    q = r.quarantine
    assert q["source_row"].tolist() == [6, 8]  # header on row 4
    assert set(q["source_sheet"]) == {"Víctimas"} and set(q["source_file"]) == {str(path)}
    assert q.loc[0, "Sexo"] == "Varón" and q.loc[0, "rules"] == "unknown_category"
    assert q.loc[1, "rules"] == "unknown_category; age_out_of_range"
    assert "Región (region_code): unknown_category ('XX')" in q.loc[1, "reasons"]
    assert "Edad (age): age_out_of_range (0-110) (-2)" in q.loc[1, "reasons"]
    assert q.loc[1, "RUT"].startswith("*****")
    assert r.rejected_by_rule.to_dict() == {"unknown_category": 2, "age_out_of_range": 1}
    back = pd.read_parquet(r.write_quarantine(tmp_path / "q" / "indh.parquet"))
    assert back["source_row"].tolist() == [6, 8]


def test_contract_is_the_final_guard(tmp_path, monkeypatch):
    """If a pre-check missed something, the RecordModel contract still rejects the row."""
    cb = get("FISCALIA", "protest_violence")
    df = good_rows(cb, 3)
    df.loc[0, "EDAD_VICTIMA"] = "120"
    monkeypatch.setattr(harmonise, "_range_checks", lambda *a, **k: None)
    r = harmonise.harmonise_file(write(cb, df, tmp_path), cb, KEY)
    assert (r.n_accepted, r.n_rejected) == (2, 1)
    f = r.failures.iloc[0]
    assert (f["row"], f["column"], f["rule"]) == (
        2,
        "EDAD_VICTIMA (age)",
        "less_than_or_equal_to(110)",
    )


def test_age_bounds_come_from_the_contract():
    assert harmonise._age_bounds() == (0, 110)


def test_several_files_of_one_institution(tmp_path):
    cb = get("FISCALIA", "protest_violence")
    a = write(cb, good_rows(cb, 2), tmp_path, name="a.csv")
    b = write(cb, good_rows(cb, 3, start=10), tmp_path, name="b.csv")
    r = harmonise.harmonise_files([a, b], cb, KEY)
    assert (r.n_read, r.n_accepted) == (5, 5)
    assert r.records["source_file"].tolist() == [str(a)] * 2 + [str(b)] * 3
    assert len(r.reads) == 2
