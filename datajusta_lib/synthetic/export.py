"""Writing a synthetic export in the institution's own format, byte for byte reproducibly.

CSV: the codebook's encoding, delimiter and title lines; Windows line ends for the encodings
that come out of Windows tools (Latin-1, UTF-8 with BOM). XLSX: title rows above the header,
the data sheet, the institution's other sheets, numbers where the institution has numbers,
and text that looks like a formula kept as text (a formula cell would not survive a reader
that takes cached values). Workbooks are re-zipped with fixed timestamps and document
properties so that the same seed and scale give the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ..ingest.codebooks import Codebook
from .recording import Recorded

FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
XLSX_MAX_ROWS = 1_048_576


def files_for(rec: Recorded, cb: Codebook) -> dict[str, np.ndarray]:
    """File name -> row indices. A glob filename (``causas_*.csv``) gives one file per year."""
    name = cb.export.filename
    if "*" not in name:
        return {name: np.arange(len(rec.table))}
    if name.count("*") > 1 or any(c in name for c in "?["):
        raise ValueError(
            f"{cb.institution}: cannot expand filename pattern {name!r} (one '*' only)"
        )
    years = rec.file_year
    return {name.replace("*", str(y)): np.flatnonzero(years == y) for y in np.unique(years)}


def title_rows(cb: Codebook, period: tuple[str, str], as_of: pd.Timestamp) -> list[str]:
    start, end = (pd.Timestamp(p).strftime("%d-%m-%Y") for p in period)
    return [
        f"{cb.name['es']} — DATOS SINTÉTICOS",
        f"Período: {start} a {end}",
        f"Fecha de extracción: {as_of.strftime('%d-%m-%Y')}",
        "Datos generados por datajusta_lib.synthetic: no describen a ninguna persona real.",
    ]


def write_csv(table: pd.DataFrame, path: Path, cb: Codebook, titles: list[str]) -> None:
    ex = cb.export
    newline = "\r\n" if ex.encoding in ("latin-1", "utf-8-sig") else "\n"
    n_titles = max(ex.header_row - 1, 0)
    lines = (titles + [""] * n_titles)[:n_titles]
    try:
        with open(path, "w", encoding=ex.encoding, newline="") as fh:
            for line in lines:
                fh.write(line + newline)
            table.to_csv(fh, sep=ex.delimiter, index=False, lineterminator=newline)
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{cb.institution}/{cb.case_study}: a value cannot be written in "
            f"{ex.encoding}: {exc.object[exc.start : exc.end]!r}"
        ) from None


def write_xlsx(
    table: pd.DataFrame,
    numeric: list[str],
    path: Path,
    cb: Codebook,
    titles: list[str],
    sheets: dict[str, list[list]],
    as_of: pd.Timestamp,
) -> None:
    """openpyxl writes the workbook (title rows, header, other sheets); the data rows, which
    openpyxl would build one Python object per cell, are serialised here, vectorised, in the
    same SpreadsheetML form and streamed into the data sheet."""
    from openpyxl import Workbook

    ex = cb.export
    n_titles = max(ex.header_row - 1, 0)
    if len(table) + ex.header_row > XLSX_MAX_ROWS:
        raise ValueError(
            f"{cb.institution}/{cb.case_study}: {len(table):,} rows do not fit in one Excel sheet "
            f"({XLSX_MAX_ROWS:,} rows); use a smaller --scale"
        )
    wb = Workbook(write_only=True)
    fixed = datetime(as_of.year, as_of.month, as_of.day)
    wb.properties.creator = "datajusta_lib.synthetic (DATOS SINTÉTICOS)"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    ws = wb.create_sheet(ex.sheet or "Datos")
    for line in (titles + [""] * n_titles)[:n_titles]:
        ws.append([line] if line else [])
    ws.append(list(table.columns))
    for name, rows in sheets.items():
        extra = wb.create_sheet(name)
        for r in rows:
            extra.append(r)
    buffer = io.BytesIO()
    wb.save(buffer)
    rows = _sheet_rows(table, numeric, first_row=ex.header_row + 1)
    path.write_bytes(
        deterministic_zip(buffer.getvalue(), as_of, {"xl/worksheets/sheet1.xml": rows})
    )


def _escape(values: np.ndarray) -> np.ndarray:
    joined = "".join(values.tolist())
    if "&" not in joined and "<" not in joined and ">" not in joined:
        return values  # the usual case: nothing to escape
    s = pd.Series(values, dtype=object)
    return (
        s.str.replace("&", "&amp;")
        .str.replace("<", "&lt;")
        .str.replace(">", "&gt;")
        .to_numpy(dtype=object)
    )


def _sheet_rows(table: pd.DataFrame, numeric: list[str], first_row: int, chunk: int = 50_000):
    """Yield the ``<row>`` elements of the data, ``chunk`` rows at a time, as UTF-8 bytes.

    Text goes as inline strings (a text starting with '=' stays text, never a formula);
    whole numbers in numeric columns as numbers; blanks are left out.
    """
    from openpyxl.utils import get_column_letter

    letters = [get_column_letter(j + 1) for j in range(table.shape[1])]
    is_num = [c in numeric for c in table.columns]
    for start in range(0, len(table), chunk):
        part = table.iloc[start : start + chunk]
        rnum = (np.arange(len(part)) + first_row + start).astype(str).astype(object)
        xml = '<row r="' + rnum + '">'
        for j, col in enumerate(part.columns):
            v = part[col].to_numpy(dtype=object)
            v = np.where(pd.isna(v), "", v).astype(object)
            ref = '<c r="' + letters[j] + rnum
            text = (
                ref + '" t="inlineStr"><is><t xml:space="preserve">' + _escape(v) + "</t></is></c>"
            )
            if is_num[j]:
                digits = (
                    pd.Series(v, dtype=object)
                    .str.fullmatch(r"\d{1,15}")
                    .fillna(False)
                    .to_numpy(bool)
                )
                text = np.where(digits, ref + '" t="n"><v>' + v + "</v></c>", text)
            xml = xml + np.where(v == "", "", text)
        xml = xml + "</row>"
        yield "".join(xml.tolist()).encode("utf-8")


def deterministic_zip(data: bytes, as_of: pd.Timestamp, inject: dict | None = None) -> bytes:
    """Re-zip a workbook with fixed entry times and document timestamps; ``inject`` streams
    extra ``<row>`` elements (bytes chunks) at the end of a sheet's data."""
    stamp = as_of.strftime("%Y-%m-%dT00:00:00Z").encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
    ):
        for info in zin.infolist():
            content = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                    rb"\g<1>" + stamp + rb"\g<3>",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            chunks = (inject or {}).get(info.filename)
            if chunks is None:
                zout.writestr(entry, content)
                continue
            if b"</sheetData>" not in content:  # the header row is always there
                raise ValueError(f"{info.filename}: no sheetData to extend")
            head, tail = content.split(b"</sheetData>", 1)
            with zout.open(entry, "w", force_zip64=True) as fh:
                fh.write(head)
                for c in chunks:
                    fh.write(c)
                fh.write(b"</sheetData>" + tail)
    return out.getvalue()


def glossary(cb: Codebook) -> list[list]:
    rows = [["Columna", "Valor", "Descripción"]]
    for spec in cb.recorded.values():
        for label in spec.values or {}:
            rows.append([spec.original_name, label, ""])
    return rows


def write_recorded(
    rec: Recorded,
    cb: Codebook,
    folder: Path,
    period: tuple[str, str],
    as_of: pd.Timestamp,
    sheet_notes: dict[str, list[str]],
) -> pd.DataFrame:
    """Write one institution's export(s); return file and source_row for every row written."""
    folder.mkdir(parents=True, exist_ok=True)
    titles = title_rows(cb, period, as_of)
    where = np.empty(len(rec.table), dtype=object)
    source_row = np.zeros(len(rec.table), dtype=np.int64)
    for name, idx in files_for(rec, cb).items():
        path = folder / name
        part = rec.table.iloc[idx]
        if cb.export.format == "csv":
            write_csv(part, path, cb, titles)
        else:
            sheets = {}
            for sheet, lines in (sheet_notes or {}).items():
                sheets[sheet] = [[line] for line in lines]
                if sheet.lower().startswith("glosario"):
                    sheets[sheet] += [[]] + glossary(cb)
            write_xlsx(part, rec.numeric_columns, path, cb, titles, sheets, as_of)
        where[idx] = name
        source_row[idx] = cb.export.header_row + 1 + np.arange(len(idx))
    return pd.DataFrame({"file": pd.Series(where, dtype=object), "source_row": source_row})
