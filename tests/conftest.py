"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("DATAJUSTA_HOME", str(ROOT))
# matplotlib must never try a GUI backend in tests
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def reference_dir(root) -> Path:
    """The shared reference folder beside the repository (present in CI and checkouts)."""
    return root.parent / "shared" / "reference"
