"""The only way a table reaches the site.

``publish_table`` decides what may be shown and stamps the result; the notebook displays the
stamped table and the renderer writes the downloadable CSV only for stamped tables (it
refuses any table without a stamp). Kinds:

- ``published``: aggregates an institution has already made public, each row with its source
  address. They are reproduced as published (suppressing them would hide public facts and
  the point is to compare them), and the stamp says so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

TABLE_MIMETYPE = "application/vnd.datajusta.table+json"
KINDS = ("published",)


@dataclass(frozen=True)
class PublishedTable:
    name: str
    kind: str
    table: pd.DataFrame
    gate: dict

    def stamp(self) -> dict:
        csv = self.table.to_csv(index=False)
        return {
            "name": self.name,
            "kind": self.kind,
            "gate": self.gate,
            "sha256": hashlib.sha256(csv.encode("utf-8")).hexdigest(),
            "csv": csv,
        }


def publish_table(df: pd.DataFrame, *, name: str, kind: str) -> PublishedTable:
    if kind not in KINDS:
        raise ValueError(f"unknown table kind {kind!r}; expected one of {KINDS}")
    if kind == "published":
        if (
            "source_url" not in df.columns
            and "Fuente" not in df.columns
            and "Source" not in df.columns
        ):
            raise ValueError(
                f"table {name!r}: a table of published figures must carry each row's source address"
            )
        gate = {"passed": True, "rule": "already_public_with_source", "suppressed_cells": 0}
    return PublishedTable(name=name, kind=kind, table=df.reset_index(drop=True), gate=gate)
