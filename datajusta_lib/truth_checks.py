"""Checks that a rendered site tells the truth (issue 13), run by the tests over the site.

- :func:`cross_unit_totals`: no published table adds up rows of different institutions (each
  counts in its own unit: persons, cases, detentions...).
- :func:`code_in_reader_text`: no identifier, code or file name in the text a reader reads
  (prose, headings, link text, table cells), and no English on Spanish pages.

Each returns a list of problems (``file: what``); empty when the site is clean.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

# header of the label column of a table whose rows are institutions (lists)
INSTITUTION_COLUMNS = {"Institución", "Institution", "Lista", "List"}
TOTAL = "Total"


def _site_tables(site: Path):
    """(page, table record, CSV path) for every table the manifest lists."""
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    for rec in manifest.get("pages", []):
        if not rec.get("in_site"):
            continue
        for t in rec.get("tables", []):
            yield rec["page"], t, site / Path(rec["page"]).parent / t["file"]


def cross_unit_totals(site_dir) -> list[str]:
    """Tables whose rows are institutions and whose last row adds them up."""
    site = Path(site_dir)
    problems = []
    for page, t, path in _site_tables(site):
        if not path.is_file():
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if frame.empty or frame.columns[0] not in INSTITUTION_COLUMNS:
            continue
        if str(frame.iloc[-1, 0]).strip() == TOTAL:
            problems.append(
                f"{page}: table {t['name']!r} adds up {len(frame) - 1} institutions in a "
                f"{TOTAL!r} row ({', '.join(frame.iloc[:-1, 0])})"
            )
    return problems
