"""Linkage settings as data: ``data/linkage/settings.yaml`` (encoding, comparisons, blocking)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from ..core.paths import data_dir

KINDS = ("exact", "dice")


def settings_path() -> Path:
    return data_dir() / "linkage" / "settings.yaml"


@cache
def _read(path: str, _mtime: int) -> dict:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    problems = []
    for i, c in enumerate(doc.get("comparisons") or []):
        if c.get("kind") not in KINDS:
            problems.append(f"comparisons[{i}] ({c.get('name')}): kind must be one of {KINDS}")
        if not c.get("column"):
            problems.append(f"comparisons[{i}] ({c.get('name')}): no column")
        if c.get("kind") == "dice" and not c.get("thresholds"):
            problems.append(
                f"comparisons[{i}] ({c.get('name')}): a dice comparison needs thresholds"
            )
    for part in ("encoding", "comparisons", "blocking_rules", "training"):
        if part not in doc:
            problems.append(f"missing section {part!r}")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    return doc


def linkage_settings(path=None) -> dict:
    """The parsed settings (validated; cached until the file changes)."""
    p = Path(path) if path else settings_path()
    return _read(str(p), p.stat().st_mtime_ns)
