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
from _ingest_helpers import KEY, csv_text, get, good_rows, sha256, write

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
    n = len(lines[0].split(";"))
    assert f["row"].tolist() == [3] and f"{n + 1} fields, the header has {n}" in f["value"].iloc[0]
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


# --------------------------------------------------------------------------------------
# the battery, as a person meets it: `datajusta validate` on each kind of bad input states
# the rule and exits 2 (nothing can be read), 1 (rows quarantined) or 0 (read, with a note)
# --------------------------------------------------------------------------------------
PIRO = ("MINSAL_PIRO", "protest_violence")  # CSV, comma, utf-8-sig, iso dates
INDH = ("INDH", "protest_violence")  # XLSX, excel_serial dates, header on row 4


def _cell(inst_cs, field, value, row=1):
    def build(tmp):
        cb = get(*inst_cs)
        df = good_rows(cb, 3)
        col = cb.record_id if field == "record_id" else cb.specs[field].original_name
        df.loc[row, col] = value
        return write(cb, df, tmp)

    return build


def _frame(inst_cs, change):
    def build(tmp):
        cb = get(*inst_cs)
        return write(cb, change(good_rows(cb, 3)), tmp)

    return build


def _bytes(inst_cs, make):
    def build(tmp):
        cb = get(*inst_cs)
        path = tmp / cb.export.filename
        path.write_bytes(make(cb))
        return path

    return build


def _lines(inst_cs, change, n=4, encoding="latin-1"):
    def build(tmp):
        cb = get(*inst_cs)
        lines = csv_text(cb, good_rows(cb, n)).rstrip("\n").split("\n")
        path = tmp / cb.export.filename
        path.write_text("\n".join(change(lines)) + "\n", encoding=encoding)
        return path

    return build


def _workbook(change):
    def build(tmp):
        cb = get(*PDI_TP)
        path = write(cb, good_rows(cb, 40), tmp)
        with zipfile.ZipFile(path) as z:
            items = {n: z.read(n) for n in z.namelist()}
        items = change(items)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for n, b in items.items():
                z.writestr(n, b)
        return path

    return build


def _cut_sheet(items):
    sheet = next(n for n in items if n.startswith("xl/worksheets/"))
    return {**items, sheet: items[sheet][: len(items[sheet]) // 2]}


def _damaged_deflate(tmp):
    cb = get(*PDI_TP)
    path = write(cb, good_rows(cb, 40), tmp)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = next(i for i in z.infolist() if i.filename.startswith("xl/worksheets/"))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    at = start + info.compress_size // 3
    data[at : at + 40] = b"\xff" * 40
    path.write_bytes(bytes(data))
    return path


def _quote(lines, i, field=2):
    parts = lines[i].split(";")
    parts[field] = '"' + parts[field]
    lines[i] = ";".join(parts)
    return lines


def _csv_of(inst_cs, sep=";", encoding="latin-1", prefix=b"", change=None):
    def make(cb):
        df = good_rows(cb, 3)
        if change:
            df = change(df)
        return prefix + df.to_csv(sep=sep, index=False).encode(encoding)

    return make


def _set(df, row, col, value):
    df = df.copy()
    df.loc[row, col] = value
    return df


def _dup(df, src, dst, cols=None):
    df = df.copy()
    if cols:
        df.loc[dst, cols] = df.loc[src, cols]
    else:
        df.loc[dst] = df.loc[src]
    return df


def _zip_as_csv(cb):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


# (kind, rule stated in the output, exit code, how the file is made)
KINDS = [
    # file: nothing can be read -> exit 2
    (
        "bytes in no supported encoding",
        "unknown_encoding",
        2,
        _bytes(
            FISCALIA_PV,
            lambda cb: (
                good_rows(cb, 2).to_csv(sep=";", index=False).encode("latin-1")
                + b"1910000009-5;\x81\x8d;bad\n"
            ),
        ),
    ),
    (
        "UTF-8 mixed with Latin-1",
        "mixed_encoding",
        2,
        _bytes(
            FISCALIA_PV,
            lambda cb: (
                good_rows(cb, 2).to_csv(sep=";", index=False).encode()
                + "FR ÑUBLE\n".encode("latin-1")
                + "Ñuñoa\n".encode()
            ),
        ),
    ),
    (
        "UTF-16 text",
        "unsupported_encoding",
        2,
        _bytes(
            FISCALIA_PV, lambda cb: good_rows(cb, 2).to_csv(sep=";", index=False).encode("utf-16")
        ),
    ),
    ("a NUL byte", "binary_content", 2, _bytes(FISCALIA_PV, lambda cb: b"RUC;X\n1;2\n3\x004;5\n")),
    ("an empty file", "file_is_empty", 2, _bytes(FISCALIA_PV, lambda cb: b"")),
    (
        "a delimiter that splits no expected column",
        "header_not_found",
        2,
        _bytes(FISCALIA_PV, _csv_of(FISCALIA_PV, sep="|")),
    ),
    (
        "a truncated workbook download",
        "corrupt_xlsx",
        2,
        lambda tmp: (lambda p: (p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), p)[1])(
            write(get(*PDI_TP), good_rows(get(*PDI_TP), 3), tmp)
        ),
    ),
    ("a CSV named .xlsx", "corrupt_xlsx", 2, _bytes(PDI_TP, lambda cb: b"a;b\n1;2\n")),
    ("a workbook named .csv", "not_a_text_file", 2, _bytes(FISCALIA_PV, _zip_as_csv)),
    (
        "a column named twice",
        "duplicate_column_name",
        2,
        _bytes(
            FISCALIA_PV,
            lambda cb: (
                good_rows(cb, 2)
                .to_csv(sep=";", index=False)
                .replace("OBSERVACIONES", "FISCAL_A_CARGO", 1)
                .encode("latin-1")
            ),
        ),
    ),
    (
        "a workbook without the expected header",
        "header_not_found",
        2,
        _frame(PDI_TP, lambda df: df.rename(columns=lambda c: f"col_{len(c)}_{c[:1]}x")),
    ),
    ("a sheet whose XML is cut mid-way", "corrupt_xlsx", 2, _workbook(_cut_sheet)),
    ("a damaged deflate stream", "corrupt_xlsx", 2, _damaged_deflate),
    # table: every row quarantined -> exit 1
    (
        "a required column missing",
        "missing_required_column",
        1,
        _frame(FISCALIA_PV, lambda df: df.drop(columns=["EDAD_VICTIMA"])),
    ),
    (
        "a column the codebook does not know",
        "unknown_column",
        1,
        _frame(FISCALIA_PV, lambda df: df.assign(COMUNA_VICTIMA="Santiago")),
    ),
    ("a header-only file", "file_has_no_rows", 1, _frame(FISCALIA_PV, lambda df: df.iloc[0:0])),
    # rows that cannot be split -> exit 1
    (
        "a row with one field too many",
        "wrong_number_of_fields",
        1,
        _lines(FISCALIA_PV, lambda ls: ls[:2] + [ls[2] + ";sobra"] + ls[3:]),
    ),
    (
        "a value right of the header",
        "value_outside_header",
        1,
        _frame(PDI_TP, lambda df: df.assign(**{"   ": ["", "stray", ""]})),
    ),
    (
        "a stray quote in the middle of the file",
        "unbalanced_quote",
        1,
        _lines(FISCALIA_TP, lambda ls: _quote(ls, 10), n=30, encoding="utf-8"),
    ),
    (
        "an unterminated quote at the end of the file",
        "unbalanced_quote",
        1,
        _lines(FISCALIA_PV, lambda ls: _quote(ls, len(ls) - 1, 11)),
    ),
    (
        "a quoted value spanning 30 lines",
        "unbalanced_quote",
        1,
        _frame(FISCALIA_PV, lambda df: _set(df, 1, "OBSERVACIONES", "\n".join(["l"] * 30))),
    ),
    (
        "a 1 MB cell",
        "cell_too_long",
        1,
        _frame(FISCALIA_PV, lambda df: _set(df, 1, "OBSERVACIONES", "x" * 1_000_000)),
    ),
    # values -> exit 1
    (
        "an unknown category label",
        "unknown_category",
        1,
        _cell(FISCALIA_PV, "classification", "TORTURA ART 150A"),
    ),
    (
        "a RUN with a wrong check digit",
        "invalid_run_check_digit",
        1,
        _cell(FISCALIA_PV, "person_key", "12.345.678-4"),
    ),
    (
        "text in the RUN column",
        "invalid_run_format",
        1,
        _cell(FISCALIA_PV, "person_key", "RUN PENDIENTE"),
    ),
    ("a malformed passport", "invalid_passport_format", 1, _cell(PDI_TP, "person_key", "??")),
    (
        "a date in the future",
        "date_in_the_future",
        1,
        _cell(FISCALIA_PV, "event_date", "05-01-2099"),
    ),
    (
        "an event before the offence existed",
        "event_date_before_offence_existed_in_law",
        1,
        _cell(FISCALIA_TP, "event_date", "15-06-2009"),
    ),
    (
        "a report before its event",
        "report_date_before_event_date",
        1,
        _cell(FISCALIA_PV, "report_date", "01-01-2019"),
    ),
    ("a negative age", "age_out_of_range", 1, _cell(FISCALIA_PV, "age", "-3")),
    ("an age of 150", "age_out_of_range", 1, _cell(FISCALIA_PV, "age", "150")),
    ("an age in words", "not_a_number", 1, _cell(FISCALIA_PV, "age", "treinta")),
    ("a fractional age", "not_an_integer", 1, _cell(FISCALIA_PV, "age", "34,5")),
    (
        "an age with the other decimal separator",
        "wrong_decimal_separator",
        1,
        _cell(FISCALIA_PV, "age", "34.0"),
    ),
    ("31 February", "invalid_date", 1, _cell(FISCALIA_PV, "event_date", "31-02-2020")),
    (
        "an ISO date among dd-mm-yyyy",
        "date_not_in_declared_format",
        1,
        _cell(FISCALIA_PV, "event_date", "2019-11-02"),
    ),
    ("text in an Excel-serial date column", "invalid_date", 1, _cell(INDH, "event_date", "ayer")),
    (
        "Excel serial 60, the fictitious 1900-02-29",
        "invalid_date (Excel serial 60",
        1,
        _cell(INDH, "event_date", "60"),
    ),
    (
        "a 1900 report date in the 2019 protests",
        "date_outside_plausible_range",
        1,
        _cell(PIRO, "report_date", "1900-01-02"),
    ),
    (
        "a protest event in 2023",
        "date_outside_plausible_range",
        1,
        _cell(FISCALIA_PV, "event_date", "05-06-2023"),
    ),
    ("an empty record id", "missing_record_id", 1, _cell(FISCALIA_PV, "record_id", "")),
    (
        "a record id in the wrong format",
        "record_id_format",
        1,
        _cell(FISCALIA_PV, "record_id", "RUC-1"),
    ),
    (
        "one record id on two different rows",
        "duplicate_record_id",
        1,
        _frame(FISCALIA_PV, lambda df: _dup(df, 0, 2, ["RUC"])),
    ),
    (
        "an exact duplicate row",
        "exact_duplicate_row",
        1,
        _frame(FISCALIA_PV, lambda df: _dup(df, 0, 2)),
    ),
    (
        "a formula in a CSV cell",
        "formula_like_content",
        1,
        _cell(FISCALIA_PV, "perpetrator_type", '=HYPERLINK("http://example.invalid/x","ver")'),
    ),
    (
        "a formula typed in a workbook cell",
        "formula_like_content",
        1,
        _frame(PDI_TP, lambda df: _set(df, 0, "Región", "=1+1")),
    ),
    (
        "a formula as the record id",
        "formula_like_content",
        1,
        _cell(FISCALIA_PV, "record_id", "@SUM(A1:A9)"),
    ),
    (
        "UTF-8 decoded twice (Ã‘UBLE)",
        "possible_double_encoding",
        1,
        _bytes(
            FISCALIA_PV,
            _csv_of(
                FISCALIA_PV,
                encoding="utf-8",
                change=lambda df: _set(
                    df, 1, "FISCALIA_REGIONAL", "FR ÑUBLE".encode().decode("cp1252")
                ),
            ),
        ),
    ),
    # read correctly, but not as the codebook says: a note -> exit 0
    (
        "title rows above the header",
        "header_row_differs_from_codebook",
        0,
        _bytes(FISCALIA_PV, lambda cb: b"FISCALIA\nReporte\n" + _csv_of(FISCALIA_PV)(cb)),
    ),
    (
        "a comma where the codebook says semicolon",
        "delimiter_differs_from_codebook",
        0,
        _bytes(FISCALIA_PV, _csv_of(FISCALIA_PV, sep=",")),
    ),
    (
        "UTF-8 where the codebook says Latin-1",
        "encoding_differs_from_codebook",
        0,
        _bytes(
            FISCALIA_PV,
            _csv_of(
                FISCALIA_PV,
                encoding="utf-8",
                change=lambda df: _set(df, 0, "FISCALIA_REGIONAL", "FR ÑUBLE"),
            ),
        ),
    ),
]


def test_the_battery_has_at_least_40_kinds_each_with_a_rule_and_an_exit_code():
    assert len(KINDS) >= 40
    assert len({k[0] for k in KINDS}) == len(KINDS)
    assert all(code in (0, 1, 2) and rule for _, rule, code, _ in KINDS)
    assert {code for *_, code, _ in KINDS} == {0, 1, 2}


@pytest.mark.parametrize(("kind", "rule", "code", "build"), KINDS, ids=[k[0] for k in KINDS])
def test_validate_states_the_rule_and_the_exit_code(kind, rule, code, build, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from datajusta_lib.cli import app

    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(tmp_path / "outputs"))
    files = tmp_path / "files"
    files.mkdir()
    path = build(files)
    before = sha256(path)
    inst, cs = next(
        (i, c)
        for i, c in (FISCALIA_PV, PDI_TP, FISCALIA_TP, PIRO, INDH)
        if get(i, c).export.filename == path.name
    )
    res = CliRunner().invoke(app, ["validate", str(path), "-i", inst, "-c", cs])
    out = res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), out
    assert "Traceback" not in out
    assert res.exit_code == code, f"{kind}: exit {res.exit_code}, expected {code}\n{out}"
    assert rule in out, f"{kind}: rule {rule!r} not stated\n{out}"
    assert str(path) in out, f"{kind}: the file is not named\n{out}"
    assert sha256(path) == before, "the raw file was modified"
