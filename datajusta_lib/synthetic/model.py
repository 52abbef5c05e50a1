"""The synthetic world's parameters (``data/synthetic_model.yaml``) and the published figures
its counts are calibrated to: what both the generator and the calibration table read."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from ..core import contracts
from ..core.paths import data_dir, published_dir
from ..ingest.codebooks import _StrictLoader


@cache
def _model_cached(text: str) -> dict:
    # the codebooks' strict loader: duplicate keys are errors and only true/false are booleans
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass


def model_file() -> Path:
    """The synthetic world's parameters: data, beside the codebooks they instantiate."""
    return data_dir() / "synthetic_model.yaml"


def load_model(path: Path | None = None) -> dict:
    return _model_cached(Path(path or model_file()).read_text(encoding="utf-8"))


def default_seed() -> int:
    return int(load_model()["default_seed"])


def load_figures() -> pd.DataFrame:
    """The published figures, validated (their values are what the counts are calibrated to)."""
    path = published_dir() / "figures.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    report = contracts.validate(
        df, contracts.PublishedFigureModel, source=str(path)
    ).raise_if_failed()
    return report.accepted.reset_index(drop=True)
