"""Small writers for ingestion tests: valid rows for any codebook, and byte-level file makers.

Every value is made up here and checked in the tests; nothing is read from real data.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd

from datajusta_lib.core import canon
from datajusta_lib.ingest import codebooks, pseudonymise, readers
from datajusta_lib.ingest.codebooks import NAME_FIELD, Codebook

KEY = b"test-key-for-ingestion-tests-0123456789"

# one example id per pattern style; the first that matches a codebook's pattern is used
_ID_TEMPLATES = [
    "19{k:08d}-5",
    "19{k:08d}-5/1",
    "19{k:08d}-5-V1",
    "V-{k:05d}",
    "PIRO{k:04d}",
    "D{k:06d}",
    "{k:05d}/2020",
    "PDI-2020-{k:05d}",
    "CIF-13-{k:04d}",
    "PAV{k:07d}",
    "13-2021-{k:04d}",
    "BT-2019-{k:03d}",
    "OS9-{k:05d}",
    "PT{k:06d}",
    "{k:08d}",
    "{k}",
]


def example_id(cb: Codebook, k: int) -> str:
    for t in _ID_TEMPLATES:
        value = t.format(k=k)
        if cb.record_id_pattern is None or re.fullmatch(cb.record_id_pattern, value):
            return value
    raise AssertionError(f"no example id template matches {cb.record_id_pattern!r}")


def run(k: int) -> str:
    """A valid, dotted RUN (bodies in a range chosen for tests)."""
    body = 10_000_000 + 7919 * k
    dv = pseudonymise.run_check_digit(np.array([body]))[0]
    return f"{body:,}".replace(",", ".") + "-" + dv


def format_date(ts: pd.Timestamp, fmt: str) -> str:
    if fmt == "iso":
        return ts.strftime("%Y-%m-%d")
    if fmt == "excel_serial":
        return str((ts - pd.Timestamp("1899-12-30")).days)
    return ts.strftime(fmt)


def first_label(cb: Codebook, field: str, skip: int = 0) -> str:
    labels = [k for k, v in cb.specs[field].values.items() if v is not None]
    return labels[skip % len(labels)]


def good_rows(cb: Codebook, n: int = 3, start: int = 1) -> pd.DataFrame:
    """``n`` rows that every rule accepts, in the institution's own columns and labels."""
    period = canon.canonical()["case_studies"][cb.case_study]["period"]
    base = pd.Timestamp(period["start"]) + pd.Timedelta(days=10)
    rows = []
    for i in range(n):
        k = start + i
        event = base + pd.Timedelta(days=k % 40)
        row = {cb.record_id: example_id(cb, k)}
        for name, spec in cb.recorded.items():
            col = spec.original_name
            if name == "person_key":
                row[col] = run(k) if cb.identifier_kind == "RUN" else f"P{1000000 + k}"
            elif name == NAME_FIELD:
                row[col] = f"Persona Ficticia {k}"
            elif spec.dtype == "date":
                when = event if name == "event_date" else event + pd.Timedelta(days=3)
                row[col] = format_date(when, cb.date_format(name))
            elif spec.dtype == "integer":
                row[col] = str(20 + k)
            else:
                row[col] = first_label(cb, name, skip=i)
        for c in cb.extra_columns:
            row[c] = ""
        rows.append(row)
    return pd.DataFrame(rows, dtype="str")


def write(cb: Codebook, df: pd.DataFrame, folder: Path, name: str | None = None, **kw) -> Path:
    """Write ``df`` as the institution delivers it (title rows and notes sheet for XLSX)."""
    path = Path(folder) / (name or cb.export.filename)
    titles = [f"{cb.institution} — exportación de prueba", "Período: prueba", "", ""]
    extra = {"Notas": [["Datos de prueba"]]} if cb.export.format == "xlsx" else None
    return readers.write_export(df, path, cb.export, title_rows=titles, extra_sheets=extra, **kw)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def csv_text(cb: Codebook, df: pd.DataFrame) -> str:
    """The CSV body (header + rows) of ``df`` with the codebook's delimiter, as text."""
    return df.to_csv(sep=cb.export.delimiter, index=False, lineterminator="\n")


def get(institution: str, case_study: str) -> Codebook:
    return codebooks.get(institution, case_study)
