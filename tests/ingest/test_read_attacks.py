"""Reading under attack (issue 14, "Reading: nothing lost", points 1-3).

Every physical data line of a file is a row read, a blank line or the continuation of a
multi-line value; a stray quote never swallows rows; a damaged workbook is a clear error
(exit 2), never a traceback or a silent loss; impossible and implausible dates are rejected.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from _ingest_helpers import KEY, csv_text, get, good_rows, write
from typer.testing import CliRunner

import datajusta_lib as dj
from datajusta_lib.cli import app
from datajusta_lib.core import canon
from datajusta_lib.ingest import harmonise, loading
from datajusta_lib.ingest.readers import ReadError
from datajusta_lib.pages import audit

FISCALIA_TP = ("FISCALIA", "trafficking")  # CSV, ';', utf-8, 13 columns
runner = CliRunner()


@pytest.fixture(autouse=True)
def outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAJUSTA_OUTPUTS", str(tmp_path / "outputs"))
    return tmp_path / "outputs"


def validate(path, inst, cs):
    return runner.invoke(app, ["validate", str(path), "-i", inst, "-c", cs])


def accounted(r) -> bool:
    return r.n_lines == r.n_read + r.n_blank + r.n_continuation


def stray_quote_file(tmp_path, n=700, at=101, closing=666):
    """The issue's attack: one '"' at the start of a field of data row ``at``; a legitimate
    quoted value (a formula with doubled quotes) in data row ``closing``."""
    cb = get(*FISCALIA_TP)
    df = good_rows(cb, n)
    df[cb.specs["age"].original_name] = "30"  # good_rows counts ages up from 21
    df.loc[closing - 1, "TIPO_EXPLOTACION_INDICADA"] = '=HYPERLINK("http://x.invalid","ver")'
    lines = csv_text(cb, df).split("\n")
    parts = lines[at].split(";")  # line at + 1 holds data row ``at``
    parts[4] = '"' + parts[4]
    lines[at] = ";".join(parts)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / cb.export.filename
    path.write_text("\n".join(lines), encoding="utf-8")
    return cb, path


# ------------------------------------------------------------------------------ point 1
def test_a_stray_quote_swallows_no_row_and_is_named_by_its_line(tmp_path):
    cb, path = stray_quote_file(tmp_path)
    r = harmonise.harmonise_file(path, cb, KEY)
    assert r.n_read == 700, f"{r.n_read} rows read of 700 data lines"
    bad = r.failures[r.failures["rule"] == "unbalanced_quote"]
    assert bad["row"].tolist() == [102]  # data row 101 is line 102
    assert "opened on line 102" in bad["value"].iloc[0]
    assert r.quarantine["source_row"].tolist() == [102]
    assert r.n_accepted == 699 and accepted_rows(r) == set(range(2, 702)) - {102}
    assert accounted(r) and r.n_lines == 700


def accepted_rows(r) -> set:
    return set(r.records["source_row"].astype(int))


def test_a_stray_quote_with_no_later_quote_loses_nothing_to_the_end_of_the_file(tmp_path):
    cb = get(*FISCALIA_TP)
    lines = csv_text(cb, good_rows(cb, 50)).split("\n")
    lines[10] = lines[10].replace(";", ';"', 1)
    path = tmp_path / cb.export.filename
    path.write_text("\n".join(lines), encoding="utf-8")
    r = harmonise.harmonise_file(path, cb, KEY)
    assert (r.n_read, r.n_accepted, r.n_rejected) == (50, 49, 1)
    assert r.failures["rule"].tolist() == ["unbalanced_quote"] and r.failures["row"].tolist() == [
        11
    ]
    res = validate(path, *FISCALIA_TP)
    assert (
        res.exit_code == 1 and f"{path}, row 11" in res.output and "unbalanced_quote" in res.output
    )


def test_a_quoted_value_spanning_lines_is_one_record_and_its_lines_are_counted(tmp_path):
    cb = get("FISCALIA", "protest_violence")
    df = good_rows(cb, 3)
    df.loc[1, "OBSERVACIONES"] = "primera línea\nsegunda línea"
    path = tmp_path / cb.export.filename
    path.write_text(csv_text(cb, df), encoding="latin-1")
    r = harmonise.harmonise_file(path, cb, KEY)
    assert (r.n_read, r.n_accepted) == (3, 3)
    assert r.records["source_row"].tolist() == [2, 3, 5]
    assert (r.n_lines, r.n_continuation) == (4, 1) and accounted(r)
    assert "1 line(s) continuing multi-line values" in r.to_text()


def test_a_quoted_value_spanning_many_lines_is_reported_not_absorbed(tmp_path):
    cb = get("FISCALIA", "protest_violence")
    df = good_rows(cb, 3)
    df.loc[1, "OBSERVACIONES"] = "\n".join(f"línea {i}" for i in range(30))
    path = tmp_path / cb.export.filename
    path.write_text(csv_text(cb, df), encoding="latin-1")
    r = harmonise.harmonise_file(path, cb, KEY)
    q = r.failures[r.failures["rule"] == "unbalanced_quote"]
    assert q["row"].tolist() == [3] and "not closed within 20 lines" in q["value"].iloc[0]
    assert r.n_accepted == 2 and accounted(r) and r.n_lines == 32


def test_the_audit_no_row_lost_check_counts_physical_lines(tmp_path, monkeypatch):
    synth = tmp_path / "synthetic"
    monkeypatch.setenv("DATAJUSTA_SYNTHETIC_DIR", str(synth))
    synth.mkdir()
    (synth / "metadata.json").write_text(json.dumps({"synthetic": True}), encoding="utf-8")
    stray_quote_file(synth / "trafficking" / "FISCALIA", n=300, at=101, closing=250)
    df = dj.load("trafficking", institutions=["FISCALIA"], key=KEY)
    info = df.attrs["ingestion"][0]
    assert info["n_read"] == 300 and info["n_lines"] == 300 and info["n_rejected"] == 1
    assert audit.lines_accounted(df)
    item = {
        i.key: i.status
        for i in audit.checklist(
            "trafficking", df, "synthetic", "en", site=tmp_path, check_site=False
        )
    }
    assert item["rejected_kept"] == "met"
    # rows read that do not add up to the file's lines: the check fails
    df.attrs["ingestion"][0]["n_lines"] = 301
    assert not audit.lines_accounted(df)
    item = {
        i.key: i.status
        for i in audit.checklist(
            "trafficking", df, "synthetic", "en", site=tmp_path, check_site=False
        )
    }
    assert item["rejected_kept"] == "not_met"


def test_cached_loads_keep_the_line_account(tmp_path, monkeypatch):
    synth = tmp_path / "synthetic"
    monkeypatch.setenv("DATAJUSTA_SYNTHETIC_DIR", str(synth))
    synth.mkdir()
    (synth / "metadata.json").write_text(json.dumps({"synthetic": True}), encoding="utf-8")
    cb = get(*FISCALIA_TP)
    write(cb, good_rows(cb, 5), synth / "trafficking" / "FISCALIA")
    first = dj.load("trafficking", institutions=["FISCALIA"], key=KEY)
    second = dj.load("trafficking", institutions=["FISCALIA"], key=KEY)
    assert second.attrs["ingestion"][0]["cached"]
    for df in (first, second):
        assert df.attrs["ingestion"][0]["n_lines"] == 5 and audit.lines_accounted(df)
    assert loading.CACHE_FORMAT != "1"


# ------------------------------------------------------------------------------ point 2
def rezip(path, out, change):
    with zipfile.ZipFile(path) as z:
        items = {n: z.read(n) for n in z.namelist()}
    sheet = next(n for n in items if n.startswith("xl/worksheets/"))
    items[sheet] = change(items[sheet])
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in items.items():
            z.writestr(n, b)
    return out


def test_a_truncated_sheet_inside_a_valid_workbook_is_an_error_not_18_of_40_rows(tmp_path):
    cb = get("PDI", "trafficking")
    path = write(cb, good_rows(cb, 40), tmp_path)
    cut = rezip(path, tmp_path / "cut.xlsx", lambda b: b[: len(b) // 2])
    with pytest.raises(ReadError) as exc:
        harmonise.harmonise_file(cut, cb, KEY)
    assert exc.value.rule == "corrupt_xlsx" and "truncated" in str(exc.value)
    res = validate(cut, "PDI", "trafficking")
    assert (
        res.exit_code == 2 and "rule corrupt_xlsx" in res.output and "Traceback" not in res.output
    )


def test_a_damaged_deflate_stream_is_an_error_not_a_zlib_traceback(tmp_path):
    cb = get("PDI", "trafficking")
    path = write(cb, good_rows(cb, 40), tmp_path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = next(i for i in z.infolist() if i.filename.startswith("xl/worksheets/"))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 3 : start + info.compress_size // 3 + 40] = b"\xff" * 40
    path.write_bytes(bytes(data))
    with pytest.raises(ReadError) as exc:
        harmonise.harmonise_file(path, cb, KEY)
    assert exc.value.rule == "corrupt_xlsx"
    res = validate(path, "PDI", "trafficking")
    assert res.exit_code == 2 and "rule corrupt_xlsx" in res.output


def test_a_one_megabyte_cell_in_the_first_lines_is_a_quarantined_row(tmp_path):
    cb = get("FISCALIA", "protest_violence")
    df = good_rows(cb, 4)
    df.loc[1, "OBSERVACIONES"] = "x" * 1_000_000
    path = tmp_path / cb.export.filename
    path.write_text(csv_text(cb, df), encoding="latin-1")
    r = harmonise.harmonise_file(path, cb, KEY)
    assert (r.n_read, r.n_accepted, r.n_rejected) == (4, 3, 1)
    f = r.failures
    assert f["rule"].tolist() == ["cell_too_long"] and f["row"].tolist() == [3]
    assert "1,000,000 characters (column OBSERVACIONES)" in f["value"].iloc[0]
    res = validate(path, "FISCALIA", "protest_violence")
    assert res.exit_code == 1 and "cell_too_long" in res.output and "x" * 100 not in res.output


def test_a_one_megabyte_title_line_above_the_header_is_no_traceback(tmp_path):
    cb = get("FISCALIA", "protest_violence")
    path = tmp_path / cb.export.filename
    text = "T" * 1_000_000 + ";\n" + csv_text(cb, good_rows(cb, 2))
    path.write_text(text, encoding="latin-1")
    r = harmonise.harmonise_file(path, cb, KEY)
    assert (r.n_read, r.n_accepted) == (2, 2) and r.reads[0].header_row == 2


def test_an_unterminated_quote_at_the_end_of_the_file_is_not_accepted(tmp_path):
    cb = get("FISCALIA", "protest_violence")
    lines = csv_text(cb, good_rows(cb, 4)).rstrip("\n").split("\n")
    parts = lines[-1].split(";")
    parts[-1] = '"' + parts[-1]
    lines[-1] = ";".join(parts)
    path = tmp_path / cb.export.filename
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    r = harmonise.harmonise_file(path, cb, KEY)
    assert (r.n_read, r.n_accepted, r.n_rejected) == (4, 3, 1)
    f = r.failures
    assert f["rule"].tolist() == ["unbalanced_quote"] and f["row"].tolist() == [5]
    assert "not closed before the end of the file" in f["value"].iloc[0]


# ------------------------------------------------------------------------------ point 3
def one_date(tmp_path, inst_cs, field, value):
    cb = get(*inst_cs)
    df = good_rows(cb, 3)
    df.loc[1, cb.specs[field].original_name] = value
    return harmonise.harmonise_file(write(cb, df, tmp_path), cb, KEY)


def test_excel_serial_60_is_the_fictitious_29_february_1900(tmp_path):
    r = one_date(tmp_path, ("INDH", "protest_violence"), "event_date", "60")
    f = r.failures
    assert r.n_rejected == 1 and f["rule"].str.startswith("invalid_date").all()
    assert "1900-02-29" in f["rule"].iloc[0]
    assert harmonise._parse_date("59", "excel_serial").date().isoformat() == "1900-02-28"
    assert harmonise._parse_date("61", "excel_serial").date().isoformat() == "1900-03-01"
    assert harmonise._parse_date("43831", "excel_serial").date().isoformat() == "2020-01-01"


def test_a_1900_report_date_is_implausible_for_the_2019_protests(tmp_path):
    r = one_date(tmp_path, ("FISCALIA", "protest_violence"), "report_date", "01-01-1900")
    f = r.failures
    assert r.n_rejected == 1, r.to_text()
    hit = f[f["rule"].str.startswith("date_outside_plausible_range (protest_violence")]
    assert hit["column"].tolist() == ["FECHA_INGRESO (report_date)"]
    assert hit["value"].tolist() == ["1900-01-01"]


def test_an_event_after_the_protest_period_is_implausible(tmp_path):
    r = one_date(tmp_path, ("FISCALIA", "protest_violence"), "event_date", "05-06-2023")
    assert r.failures["rule"].str.startswith("date_outside_plausible_range").any()


def test_every_case_study_declares_its_plausible_dates_as_data():
    for cs in canon.case_studies():
        bounds = canon.plausible_dates(cs)
        assert set(bounds) == {"event_date", "report_date"}, cs
        assert all(lo is not None for lo, _ in bounds.values()), cs
    lo, hi = canon.plausible_dates("protest_violence")["event_date"]
    assert lo.year == 2019 and hi.year == 2020


def test_the_synthetic_world_is_within_its_plausible_dates():
    """The bounds reject impossible dates, not the recording noise the site shows."""
    for cs in canon.case_studies():
        q = dj.quarantine(cs)
        only = q["rules"] == "date_outside_plausible_range"
        assert not only.any(), (cs, q[only].to_string())
