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
    """Reference data shipped with the project (data/reference), with their sources."""
    return root / "data" / "reference"


@pytest.fixture(scope="session")
def shared_reference_dir(root) -> Path:
    """The team's verified reference folder beside the repository, when present."""
    return root.parent / "shared" / "reference"


def execute_notebook(notebook, out, parameters: dict, cwd):
    """Execute a notebook with papermill on the project's kernel.

    Kernels talk over IPC sockets (the renderer's kernel manager): with TCP, parallel test
    workers race for the same free port and a kernel occasionally dies before it starts.
    """
    import papermill as pm

    from datajusta_lib.site.kernels import warm_kernel_manager_class

    return pm.execute_notebook(
        str(notebook),
        str(out),
        parameters=parameters,
        kernel_name="datajusta",
        cwd=str(cwd),
        progress_bar=False,
        kernel_manager_class=warm_kernel_manager_class(),
    )
