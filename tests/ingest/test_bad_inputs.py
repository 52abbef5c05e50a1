"""A battery of bad institutional exports: each gets a clear error naming file, row, column and
rule; nothing is lost (accepted + rejected == read); the raw file is never modified.

Files are built in tmp_path from small writers (tests/_ingest_helpers.py).
"""

from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd
import pytest
from _ingest_helpers import KEY, get, good_rows, sha256, write

from datajusta_lib.ingest import harmonise
from datajusta_lib.ingest.readers import ReadError

FISCALIA_PV = ("FISCALIA", "protest_violence")  # CSV, latin-1, ';', dd-mm-yyyy, RUN
PDI_TP = ("PDI", "trafficking")  # XLSX, title rows, passport
FISCALIA_TP = ("FISCALIA", "trafficking")  # CSV, utf-8, ';'


def harm(path, cb):
    """Harmonise, and check the two invariants every bad input must keep."""
    before = sha256(path)
    result = harmonise.harmonise_file(path, cb, KEY)
    assert result.n_accepted + result.n_rejected == result.n_read
    assert sha256(path) == before, "the raw file was modified"
    return result


def read_error(path, cb) -> ReadError:
    before = sha256(path)
    with pytest.raises(ReadError) as exc:
        harmonise.harmonise_file(path, cb, KEY)
    assert sha256(path) == before
    assert str(path) in str(exc.value)
    return exc.value


def failure(result, rule: str) -> pd.DataFrame:
    f = result.failures[result.failures["rule"].str.startswith(rule)]
    assert not f.empty, f"no failure {rule!r} in:\n{result.to_text(100)}"
    return f


def assert_named(result, path, row, column: str, rule: str):
    """The report names the file, the row, the column and the rule."""
    f = failure(result, rule)
    hit = f[(f["row"] == row) & f["column"].fillna("").str.contains(column, regex=False)]
    assert not hit.empty, f"row {row} column {column} rule {rule} not in:\n{f.to_string()}"
    assert (hit["file"] == str(path)).all()
    text = result.to_text(max_failures=1000)
    assert f"{path}, row {row}, column " in text and column in text and rule in text
    return hit


def one_bad(tmp_path, inst_cs, column_field: str, value: str, row_index: int = 1):
    """Three good rows with one cell replaced; returns (path, codebook, result)."""
    cb = get(*inst_cs)
    df = good_rows(cb, 3)
    col = cb.record_id if column_field == "record_id" else cb.specs[column_field].original_name
    df.loc[row_index, col] = value
    path = write(cb, df, tmp_path)
    return path, cb, col, harm(path, cb)


# --------------------------------------------------------------------------------------
# file-level problems: the file cannot be read at all
# --------------------------------------------------------------------------------------
def test_wrong_encoding_bytes_valid_in_no_supported_encoding(tmp_path):
    cb = get(*FISCALIA_PV)
    good = good_rows(cb, 2).to_csv(sep=";", index=False).encode("latin-1")
    path = tmp_path / cb.export.filename
    path.write_bytes(good + b"1910000009-5;\x81\x8d;bad\n")  # 0x81/0x8D: undefined in cp1252
    err = read_error(path, cb)
    assert err.rule == "unknown_encoding" and err.row == 4
    assert "row 4" in str(err) and "0x81" in str(err)


def test_mixed_encodings_are_refused_not_misdecoded(tmp_path):
    cb = get(*FISCALIA_PV)
    text = good_rows(cb, 2).to_csv(sep=";", index=False)
    path = tmp_path / cb.export.filename
    path.write_bytes(text.encode("utf-8") + "FR ÑUBLE\n".encode("latin-1") + "Ñuñoa\n".encode())
    err = read_error(path, cb)
    assert err.rule == "mixed_encoding" and err.row == 4


def test_utf16_is_refused(tmp_path):
    cb = get(*FISCALIA_PV)
    path = tmp_path / cb.export.filename
    path.write_bytes(good_rows(cb, 2).to_csv(sep=";", index=False).encode("utf-16"))
    assert read_error(path, cb).rule == "unsupported_encoding"


def test_binary_content_names_the_line(tmp_path):
    cb = get(*FISCALIA_PV)
    path = tmp_path / cb.export.filename
    path.write_bytes(b"RUC;RUN_VICTIMA\n1;2\n3\x004;5\n")
    err = read_error(path, cb)
    assert err.rule == "binary_content" and err.row == 3


def test_empty_file(tmp_path):
    cb = get(*FISCALIA_PV)
    path = tmp_path / cb.export.filename
    path.write_bytes(b"")
    assert read_error(path, cb).rule == "file_is_empty"


def test_wrong_delimiter_that_splits_no_expected_column(tmp_path):
    cb = get(*FISCALIA_PV)
    path = tmp_path / cb.export.filename
    path.write_text(good_rows(cb, 2).to_csv(sep="|", index=False), encoding="latin-1")
    err = read_error(path, cb)
    assert err.rule == "header_not_found" and "RUC" in str(err)


def test_corrupt_xlsx(tmp_path):
    cb = get(*PDI_TP)
    path = write(cb, good_rows(cb, 3), tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a truncated download
    err = read_error(path, cb)
    assert err.rule == "corrupt_xlsx" and "cannot be opened" in str(err)


def test_xlsx_that_is_really_a_csv(tmp_path):
    cb = get(*PDI_TP)
    path = tmp_path / cb.export.filename
    path.write_text("a;b\n1;2\n", encoding="utf-8")
    assert read_error(path, cb).rule == "corrupt_xlsx"


def test_csv_that_is_really_a_workbook(tmp_path):
    cb = get(*FISCALIA_PV)
    path = tmp_path / cb.export.filename
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    assert read_error(path, cb).rule == "not_a_text_file"


def test_duplicate_column_name_in_header(tmp_path):
    cb = get(*FISCALIA_PV)
    df = good_rows(cb, 2)
    text = df.to_csv(sep=";", index=False).replace("OBSERVACIONES", "FISCAL_A_CARGO", 1)
    path = tmp_path / cb.export.filename
    path.write_text(text, encoding="latin-1")
    err = read_error(path, cb)
    assert err.rule == "duplicate_column_name" and err.column == "FISCAL_A_CARGO" and err.row == 1


def test_xlsx_without_the_expected_header_anywhere(tmp_path):
    cb = get(*PDI_TP)
    df = good_rows(cb, 2).rename(columns=lambda c: f"col_{abs(hash(c)) % 1000}")
    path = write(cb, df, tmp_path)
    assert read_error(path, cb).rule == "header_not_found"


# --------------------------------------------------------------------------------------
# structure: every row goes to quarantine with the reason
# --------------------------------------------------------------------------------------
def test_missing_required_column(tmp_path):
    cb = get(*FISCALIA_PV)
    path = write(cb, good_rows(cb, 3).drop(columns=["EDAD_VICTIMA"]), tmp_path)
    r = harm(path, cb)
    assert (r.n_read, r.n_accepted, r.n_rejected) == (3, 0, 3)
    f = failure(r, "missing_required_column")
    assert f["column"].tolist() == ["EDAD_VICTIMA"] and f["row"].isna().all()
    assert "all rows, column EDAD_VICTIMA: rule missing_required_column" in r.to_text()
    assert r.quarantine["reasons"].str.contains("EDAD_VICTIMA: missing_required_column").all()


def test_unknown_extra_column(tmp_path):
    cb = get(*FISCALIA_PV)
    path = write(cb, good_rows(cb, 3).assign(COMUNA_VICTIMA="Santiago"), tmp_path)
    r = harm(path, cb)
    assert r.n_rejected == 3 and r.n_accepted == 0
    assert failure(r, "unknown_column")["column"].tolist() == ["COMUNA_VICTIMA"]
    assert "column COMUNA_VICTIMA: rule unknown_column" in r.to_text()


def test_row_with_wrong_number_of_fields(tmp_path):
    cb = get(*FISCALIA_PV)
    path = tmp_path / cb.export.filename
    lines = good_rows(cb, 3).to_csv(sep=";", index=False).splitlines()
    lines[2] += ";sobra"  # line 3: an unquoted ';' inside a value
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    r = harm(path, cb)
    assert (r.n_read, r.n_accepted, r.n_rejected) == (3, 2, 1)
    f = failure(r, "wrong_number_of_fields")
    assert f["row"].tolist() == [3] and "13 fields, the header has 12" in f["value"].iloc[0]
    assert f"{path}, row 3" in r.to_text()


def test_xlsx_value_outside_the_header(tmp_path):
    cb = get(*PDI_TP)
    df = good_rows(cb, 3)
    df["   "] = ["", "stray", ""]
    path = write(cb, df, tmp_path)
    # the stray column has a blank header, so its one value lies outside the header
    r = harm(path, cb)
    assert r.n_rejected == 1
    assert failure(r, "value_outside_header")["row"].tolist() == [5]  # header on row 3


# --------------------------------------------------------------------------------------
# values: one row rejected, named precisely
# --------------------------------------------------------------------------------------
def test_unknown_category(tmp_path):
    path, cb, col, r = one_bad(tmp_path, FISCALIA_PV, "classification", "TORTURA ART 150A")
    hit = assert_named(r, path, 3, "DELITO", "unknown_category")
    assert hit["value"].tolist() == ["TORTURA ART 150A"]
    assert (r.n_accepted, r.n_rejected) == (2, 1)


def test_invalid_run_check_digit_is_named_but_never_shown(tmp_path):
    path, cb, col, r = one_bad(tmp_path, FISCALIA_PV, "person_key", "12.345.678-4")
    hit = assert_named(r, path, 3, "RUN_VICTIMA", "invalid_run_check_digit")
    assert hit["value"].tolist() == ["*****8-4"]
    assert "12.345.678" not in r.to_text(100)
    assert not r.quarantine.astype(str).apply(lambda c: c.str.contains("12.345.678")).any().any()


def test_malformed_run(tmp_path):
    path, cb, col, r = one_bad(tmp_path, FISCALIA_PV, "person_key", "RUN PENDIENTE")
    assert_named(r, path, 3, "RUN_VICTIMA", "invalid_run_format")


def test_invalid_passport(tmp_path):
    path, cb, col, r = one_bad(tmp_path, PDI_TP, "person_key", "??")
    assert_named(r, path, 5, "Pasaporte", "invalid_passport_format")  # xlsx: header row 3


def test_future_date(tmp_path):
    path, cb, col, r = one_bad(tmp_path, FISCALIA_PV, "event_date", "05-01-2099")
    hit = assert_named(r, path, 3, "FECHA_HECHO", "date_in_the_future")
    assert hit["value"].tolist() == ["2099-01-05"]


def test_event_before_the_offence_existed_in_law(tmp_path):
    # trata de personas (art. 411 quáter) exists from 2011-04-08
    path, cb, col, r = one_bad(tmp_path, FISCALIA_TP, "event_date", "15-06-2009")
    hit = assert_named(r, path, 3, "FECHA_COMISION", "event_date_before_offence_existed_in_law")
    assert "2011-04-08" in hit["rule"].iloc[0]


def test_report_date_before_event_date(tmp_path):
    path, cb, col, r = one_bad(tmp_path, FISCALIA_PV, "report_date", "01-01-2019")
    hit = assert_named(r, path, 3, "FECHA_INGRESO", "report_date_before_event_date")
    assert "FECHA_HECHO" in hit["column"].iloc[0]


def test_negative_age(tmp_path):
    path, cb, col, r = one_bad(tmp_path, FISCALIA_PV, "age", "-3")
    assert_named(r, path, 3, "EDAD_VICTIMA", "age_out_of_range")


def test_absurd_age(tmp_path):
    path, cb, col, r = one_bad(tmp_path, FISCALIA_PV, "age", "150")
    hit = assert_named(r, path, 3, "EDAD_VICTIMA", "age_out_of_range")
    assert hit["value"].tolist() == [150]


def test_age_that_is_not_a_number(tmp_path):
    path, cb, col, r = one_bad(tmp_path, FISCALIA_PV, "age", "treinta")
    assert_named(r, path, 3, "EDAD_VICTIMA", "not_a_number")


def test_fractional_age(tmp_path):
    path, cb, col, r = one_bad(tmp_path, FISCALIA_PV, "age", "34,5")
    assert_named(r, path, 3, "EDAD_VICTIMA", "not_an_integer")


def test_age_with_the_wrong_decimal_separator(tmp_path):
    path, cb, col, r = one_bad(tmp_path, FISCALIA_PV, "age", "34.0")  # decimal is ','
    assert_named(r, path, 3, "EDAD_VICTIMA", "wrong_decimal_separator")


def test_impossible_date(tmp_path):
    path, cb, col, r = one_bad(tmp_path, FISCALIA_PV, "event_date", "31-02-2020")
    assert_named(r, path, 3, "FECHA_HECHO", "invalid_date")


def test_mixed_date_formats_in_one_column(tmp_path):
    cb = get(*FISCALIA_PV)
    df = good_rows(cb, 4)
    df.loc[1, "FECHA_HECHO"] = "2019-11-02"  # ISO among dd-mm-yyyy
    df.loc[3, "FECHA_HECHO"] = "02/11/19"  # dd/mm/yy among dd-mm-yyyy
    path = write(cb, df, tmp_path)
    r = harm(path, cb)
    assert (r.n_accepted, r.n_rejected) == (2, 2)
    hit = assert_named(r, path, 3, "FECHA_HECHO", "date_not_in_declared_format")
    assert "looks like iso" in hit["rule"].iloc[0]
    assert "looks like dd/mm/yy" in failure(r, "date_not_in_declared_format")["rule"].iloc[1]


def test_text_in_an_excel_serial_date_column(tmp_path):
    path, cb, col, r = one_bad(tmp_path, ("INDH", "protest_violence"), "event_date", "ayer")
    assert_named(r, path, 6, "Fecha de los hechos", "invalid_date")  # header on row 4


def test_missing_record_id(tmp_path):
    path, cb, col, r = one_bad(tmp_path, FISCALIA_PV, "record_id", "")
    assert_named(r, path, 3, "RUC", "missing_record_id")


def test_record_id_in_the_wrong_format(tmp_path):
    path, cb, col, r = one_bad(tmp_path, FISCALIA_PV, "record_id", "RUC-1")
    assert_named(r, path, 3, "RUC", "record_id_format")


def test_duplicate_record_id_with_different_content(tmp_path):
    cb = get(*FISCALIA_PV)
    df = good_rows(cb, 3)
    df.loc[2, "RUC"] = df.loc[0, "RUC"]
    path = write(cb, df, tmp_path)
    r = harm(path, cb)
    assert (r.n_accepted, r.n_rejected) == (1, 2)
    f = failure(r, "duplicate_record_id")
    assert sorted(f["row"]) == [2, 4] and "rows 2, 4" in f["value"].iloc[0]


def test_exact_duplicate_row_keeps_the_first(tmp_path):
    cb = get(*FISCALIA_PV)
    df = good_rows(cb, 3)
    df.loc[2] = df.loc[0]
    path = write(cb, df, tmp_path)
    r = harm(path, cb)
    assert (r.n_accepted, r.n_rejected) == (2, 1)
    hit = assert_named(r, path, 4, "RUC", "exact_duplicate_row")
    assert "same as row 2" in hit["value"].iloc[0]


def test_duplicate_record_id_across_two_files(tmp_path):
    cb = get(*FISCALIA_PV)
    a = write(cb, good_rows(cb, 2), tmp_path, name="2019.csv")
    b = write(cb, good_rows(cb, 2, start=2), tmp_path, name="2020.csv")
    r = harmonise.harmonise_files([a, b], cb, KEY)
    assert (r.n_read, r.n_accepted, r.n_rejected) == (4, 2, 2)
    f = failure(r, "duplicate_record_id_across_files")
    assert set(f["file"]) == {str(a), str(b)} and "2019.csv, " in f["value"].iloc[0]


def test_formula_is_quarantined_and_never_exported_live(tmp_path):
    formula = '=HYPERLINK("http://example.invalid/x","ver")'
    path, cb, col, r = one_bad(tmp_path, FISCALIA_PV, "perpetrator_type", formula)
    hit = assert_named(r, path, 3, "INSTITUCION_IMPUTADO", "formula_like_content")
    assert hit["value"].iloc[0] == "'" + formula
    out = r.write_quarantine(tmp_path / "q.csv")
    text = out.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert cells and not any(c.startswith(("=", "+", "@")) for c in cells)
    assert not (r.records.astype(str) == formula).any().any()


def test_formula_typed_in_a_workbook_cell_is_read_as_text_not_computed(tmp_path):
    cb = get(*PDI_TP)
    df = good_rows(cb, 3)
    df.loc[0, "Región"] = "=1+1"  # openpyxl writes this as a real formula cell
    path = write(cb, df, tmp_path)
    r = harm(path, cb)
    hit = assert_named(r, path, 4, "Región", "formula_like_content")
    assert hit["value"].tolist() == ["'=1+1"]


def test_formula_like_record_id(tmp_path):
    path, cb, col, r = one_bad(tmp_path, FISCALIA_PV, "record_id", "@SUM(A1:A9)")
    assert_named(r, path, 3, "RUC", "formula_like_content")
    assert r.quarantine["RUC"].iloc[0] == "'@SUM(A1:A9)"


# --------------------------------------------------------------------------------------
# deviations that are read correctly but reported
# --------------------------------------------------------------------------------------
def test_header_not_on_the_first_row(tmp_path):
    cb = get(*FISCALIA_PV)
    path = tmp_path / cb.export.filename
    body = good_rows(cb, 3).to_csv(sep=";", index=False)
    path.write_text("FISCALIA NACIONAL\nReporte al 30-06-2025\n" + body, encoding="latin-1")
    r = harm(path, cb)
    assert (r.n_read, r.n_accepted) == (3, 3)
    assert r.records["source_row"].tolist() == [4, 5, 6]
    note = r.notes[r.notes["rule"] == "header_row_differs_from_codebook"]
    assert note["row"].tolist() == [3] and "found row 3" in note["value"].iloc[0]


def test_delimiter_other_than_declared(tmp_path):
    cb = get(*FISCALIA_PV)
    path = tmp_path / cb.export.filename
    path.write_text(good_rows(cb, 3).to_csv(sep=",", index=False), encoding="latin-1")
    r = harm(path, cb)
    assert r.n_accepted == 3 and r.reads[0].delimiter == ","
    assert "declared semicolon, detected comma" in r.to_text()


def test_encoding_other_than_declared_is_detected_and_reported(tmp_path):
    cb = get(*FISCALIA_PV)  # declares latin-1
    df = good_rows(cb, 3)
    df.loc[0, "FISCALIA_REGIONAL"] = "FR ÑUBLE"
    path = tmp_path / cb.export.filename
    path.write_text(df.to_csv(sep=";", index=False), encoding="utf-8")
    r = harm(path, cb)
    assert r.n_accepted == 3 and r.records["region_code"].iloc[0] == "16"
    assert r.reads[0].encoding == "utf-8"
    assert "encoding_differs_from_codebook: declared latin-1, detected utf-8" in r.to_text()


def test_header_only_file_reads_no_rows_and_says_so(tmp_path):
    cb = get(*FISCALIA_PV)
    path = write(cb, good_rows(cb, 2).iloc[0:0], tmp_path)
    r = harm(path, cb)
    assert (r.n_read, r.n_accepted, r.n_rejected) == (0, 0, 0)
    assert "file_has_no_rows" in r.notes["rule"].tolist()


def test_double_encoded_text_is_flagged(tmp_path):
    cb = get(*FISCALIA_PV)
    df = good_rows(cb, 3)
    df.loc[1, "FISCALIA_REGIONAL"] = "FR ÑUBLE".encode().decode("cp1252")  # 'FR Ã‘UBLE'
    path = tmp_path / cb.export.filename
    path.write_text(df.to_csv(sep=";", index=False), encoding="utf-8")
    r = harm(path, cb)
    assert (r.n_accepted, r.n_rejected) == (2, 1)
    assert_named(r, path, 3, "FISCALIA_REGIONAL", "unknown_category")
    note = r.notes[r.notes["rule"] == "possible_double_encoding"]
    assert note["row"].tolist() == [3] and "UTF-8 read as Latin-1" in note["value"].iloc[0]
