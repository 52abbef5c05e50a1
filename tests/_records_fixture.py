"""Hand-made canonical records for tests: every RecordModel column, NA where a row is silent."""

from __future__ import annotations

import pandas as pd

from datajusta_lib.core.contracts import RECORD_COLUMNS


def canonical_records(rows: list[dict], case_study: str) -> pd.DataFrame:
    """A canonical frame of ``rows`` (dicts of column -> value), dates parsed."""
    out = []
    for i, r in enumerate(rows):
        base = {c: pd.NA for c in RECORD_COLUMNS}
        base.update(case_study=case_study, record_id=f"r{i}", source_file="f.csv", source_row=i + 2)
        base.update(r)
        out.append(base)
    df = pd.DataFrame(out, columns=RECORD_COLUMNS)
    for col in ("event_date", "report_date"):
        df[col] = pd.to_datetime(df[col])
    return df
