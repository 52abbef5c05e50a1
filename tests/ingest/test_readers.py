"""Readers: encodings detected and reported, delimiters and headers found, lineage numbered as a
person sees the file, workbooks with title rows and several sheets, files opened read-only."""

from __future__ import annotations

import datetime as dt

import pytest
from _ingest_helpers import get, good_rows, sha256, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from datajusta_lib.ingest import readers
from datajusta_lib.ingest.readers import ReadError, decode, read_export

FISC = ("FISCALIA", "protest_violence")


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        ("a;b\n1;2\n", "ascii", "ascii"),
        ("región;año\nÑuble;2020\n", "utf-8", "utf-8"),
        ("región;año\nÑuble;2020\n", "utf-8-sig", "utf-8-sig"),
        ("región;año\nÑuble;2020\n", "latin-1", "latin-1"),
        ("región;año\n“Ñuble”;2020 €\n", "cp1252", "cp1252"),
    ],
)
def test_encodings_are_detected(text, encoding, expected):
    decoded, used = decode(text.encode(encoding), "f.csv")
    assert used == expected
    assert decoded == text


def test_latin1_is_never_guessed_for_utf8_text_with_one_bad_byte():
    raw = "región;año\nÑuble;2020\n".encode() + b"\xe9\n"
    with pytest.raises(ReadError, match="mixes encodings") as exc:
        decode(raw, "f.csv")
    assert exc.value.row == 3


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolon"), (",", "comma"), ("\t", "tab")])
def test_delimiters_are_detected_and_reported(tmp_path, sep, name):
    cb = get(*FISC)
    path = tmp_path / "x.csv"
    path.write_text(good_rows(cb, 3).to_csv(sep=sep, index=False), encoding="latin-1")
    raw = read_export(path, cb)
    assert raw.info.delimiter == sep and f"delimiter {name}" in raw.info.describe()
    assert raw.frame["RUC"].tolist() == good_rows(cb, 3)["RUC"].tolist()
    differs = [n["rule"] for n in raw.info.notes]
    assert ("delimiter_differs_from_codebook" in differs) == (sep != ";")


def test_lineage_counts_lines_as_a_person_sees_them(tmp_path):
    cb = get(*FISC)
    lines = good_rows(cb, 4).to_csv(sep=";", index=False).splitlines()
    body = [
        "Reporte generado por el sistema",  # 1 title
        "",  # 2 blank
        lines[0],  # 3 header
        lines[1],  # 4
        "",  # 5 blank
        ";;;;;;;;;;;",  # 6 a spreadsheet's empty row
        lines[2],  # 7
        lines[3],  # 8
        lines[4],  # 9
    ]
    path = tmp_path / "x.csv"
    path.write_bytes("\r\n".join(body).encode("latin-1") + b"\r\n")
    raw = read_export(path, cb)
    assert raw.info.header_row == 3 and raw.info.n_blank == 2
    assert raw.frame["source_row"].tolist() == [4, 7, 8, 9]
    assert raw.n_read == 4


def test_quoted_line_breaks_keep_the_line_a_record_starts_on(tmp_path):
    cb = get(*FISC)
    df = good_rows(cb, 3)
    df.loc[1, "OBSERVACIONES"] = "primera línea\nsegunda línea"
    path = tmp_path / "x.csv"
    path.write_text(df.to_csv(sep=";", index=False), encoding="latin-1")
    raw = read_export(path, cb)
    assert raw.frame["source_row"].tolist() == [2, 3, 5]
    assert raw.frame.loc[1, "OBSERVACIONES"] == "primera línea\nsegunda línea"


def test_wrong_width_rows_are_set_aside_with_their_line(tmp_path):
    cb = get(*FISC)
    lines = good_rows(cb, 3).to_csv(sep=";", index=False).splitlines()
    lines[1] = lines[1].rsplit(";", 2)[0]  # two fields short
    path = tmp_path / "x.csv"
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    raw = read_export(path, cb)
    assert raw.n_read == 3 and len(raw.frame) == 2
    assert raw.unparsed[["source_row", "rule"]].values.tolist() == [[2, "wrong_number_of_fields"]]
    assert "RUN" not in raw.unparsed.to_string()  # the line itself is not kept


def test_workbook_with_title_rows_several_sheets_dates_and_formulas(tmp_path):
    wb = Workbook()
    notes = wb.active
    notes.title = "Resumen"
    notes.append(["Este libro resume..."])
    ws = wb.create_sheet("Victimas")
    ws.append(["BRITRAP — víctimas identificadas"])
    ws.append(["Período 2011-2021"])
    cb = get("PDI", "trafficking")
    header = list(good_rows(cb, 1).columns)
    ws.append(header)
    row = good_rows(cb, 1).iloc[0].tolist()
    ws.append(row)
    ws.append([None] * len(header))  # an empty row, skipped
    typed = list(row)
    typed[header.index("Fecha inicio explotación")] = dt.datetime(2019, 5, 4)
    typed[header.index("Edad")] = 31
    typed[header.index("N° Víctima")] = "BT-2019-777"
    typed[header.index("Observaciones")] = '=HYPERLINK("http://example.invalid")'
    ws.append(typed)
    path = tmp_path / "b.xlsx"
    wb.save(path)
    raw = read_export(path, cb)
    assert raw.info.sheet == "Victimas" and raw.info.sheets == ["Resumen", "Victimas"]
    assert raw.info.header_row == 3 and raw.info.n_blank == 1
    assert raw.frame["source_row"].tolist() == [4, 6]
    assert set(raw.frame["source_sheet"]) == {"Victimas"}
    last = raw.frame.iloc[1]
    assert last["Fecha inicio explotación"] == "2019-05-04T00:00:00"  # a typed date cell
    assert last["Edad"] == "31"
    assert last["Observaciones"].startswith("=HYPERLINK(")  # the formula text, never its result


def test_sheet_other_than_declared_is_found_and_reported(tmp_path):
    cb = get("PDI", "trafficking")
    path = readers.write_export(
        good_rows(cb, 2),
        tmp_path / "b.xlsx",
        cb.export.__class__(**{**cb.export.__dict__, "sheet": "Hoja1"}),
        title_rows=["t", "t"],
    )
    raw = read_export(path, cb)
    assert raw.info.sheet == "Hoja1" and len(raw.frame) == 2
    assert any(n["rule"] == "sheet_differs_from_codebook" for n in raw.info.notes)


def test_every_codebook_round_trips_through_its_own_format(tmp_path):
    from datajusta_lib.ingest import codebooks

    for cb in codebooks.all_codebooks():
        df = good_rows(cb, 3)
        path = write(cb, df, tmp_path / cb.case_study / cb.institution)
        before = sha256(path)
        raw = read_export(path, cb)
        assert sha256(path) == before
        assert raw.frame[cb.record_id].tolist() == df[cb.record_id].tolist(), cb
        first = cb.export.header_row + 1
        assert raw.frame["source_row"].tolist() == [first, first + 1, first + 2], cb
        if cb.export.format == "csv":
            assert raw.info.delimiter == cb.export.delimiter
            assert raw.info.encoding in (cb.export.encoding, "ascii"), cb
        assert not raw.info.notes, (cb, raw.info.notes)


def test_missing_file(tmp_path):
    with pytest.raises(ReadError, match="file_not_found"):
        read_export(tmp_path / "nope.csv", get(*FISC))


def _strip(rows):
    out = [
        tuple(r[: max([i + 1 for i, v in enumerate(r) if v not in (None, "")] or [0])])
        for r in rows
    ]
    while out and out[-1] == ():
        out.pop()
    return out


def test_the_lean_xlsx_reader_reads_what_openpyxl_reads(tmp_path):
    from openpyxl import load_workbook

    wb = Workbook()  # the normal writer: shared strings and styles
    ws = wb.active
    ws.title = "Datos & notas"
    ws.append(['Título <con> "comillas" & acentos: Ñuñoa'])
    ws.append([])
    ws.append(["id", "fecha", "edad", "peso", "activo", "fórmula", "vacía", "texto"])
    ws.append(["A-1", dt.datetime(2020, 3, 4), 34, 61.5, True, "=SUM(C4:C5)", None, "  espacios  "])
    ws.append(
        [
            "A-2",
            dt.date(2019, 10, 18),
            0,
            1e-3,
            False,
            '=HYPERLINK("http://x","y")',
            None,
            "línea\nnueva",
        ]
    )
    ws["D6"] = 43831
    ws["D6"].number_format = "dd/mm/yyyy"  # a custom date format on a number
    ws["G7"] = "sola"  # a gap before it
    other = wb.create_sheet("Hoja2")
    other.append(["x"])
    path = tmp_path / "b.xlsx"
    wb.save(path)
    fast = readers._FastWorkbook(path)
    ref = load_workbook(path, read_only=True, data_only=False)
    assert list(fast.sheets) == ref.sheetnames
    for name in ref.sheetnames:
        expected = _strip([tuple(r) for r in ref[name].iter_rows(values_only=True)])
        assert _strip(fast.rows(name)) == expected, name
    fast.close()
    ref.close()


# Spanish text as institutions write it; ¿ ¡ ° are left out on purpose: after an upper-case
# accented letter in Latin-1 they form valid UTF-8 ("Ñ°"), which no reader can tell apart
# (see test_latin1_with_an_accidental_utf8_pair_is_still_latin1 for how that case is read).
SPANISH = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:-/()'áéíóúüñÁÉÍÓÚÜÑ"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    notes=st.lists(
        st.text(alphabet=st.sampled_from(list(SPANISH) + [";", '"', "\n"]), max_size=12),
        min_size=1,
        max_size=6,
    ),
    sep=st.sampled_from([";", ",", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]),
)
def test_any_cell_text_round_trips_with_its_line_number(tmp_path, notes, sep, encoding):
    cb = get(*FISC)
    df = good_rows(cb, len(notes))
    df["OBSERVACIONES"] = notes
    path = tmp_path / f"x-{abs(hash((tuple(notes), sep, encoding)))}.csv"
    with open(path, "w", encoding=encoding, newline="") as fh:
        df.to_csv(fh, sep=sep, index=False, lineterminator="\n")
    raw = read_export(path, cb)
    got = raw.frame[raw.frame.columns[: len(df.columns)]]
    blank = [not any(str(v).strip(sep + " \t") for v in row) for row in df.itertuples(index=False)]
    assert not any(blank)
    assert got["OBSERVACIONES"].tolist() == notes
    # each record starts on the line after the previous record's last line
    lines = [2]
    for n in notes[:-1]:
        lines.append(lines[-1] + 1 + n.count("\n"))
    assert raw.frame["source_row"].tolist() == lines


def test_latin1_with_an_accidental_utf8_pair_is_still_latin1():
    text = "región;Ñ°;canción;año;Perú\n"
    decoded, used = decode(text.encode("latin-1"), "f.csv")
    assert used == "latin-1" and decoded == text
