"""The R baselines (SparseMSE 2.0.1, LCMCR 0.4.14) for the benchmarks: find Rscript, build
LCMCR and unpack SparseMSE from the source archives into a cache outside the repository.

The archives are looked for in ``$DATAJUSTA_BASELINES`` or a ``shared/baselines`` folder next
to (or one level above) the repository. Nothing here runs in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("DATAJUSTA_R_CACHE", Path.home() / ".cache" / "datajusta" / "r"))


class RUnavailable(RuntimeError):
    """R, an R package or the source archives are missing: the R row is skipped."""


def rscript() -> str:
    exe = shutil.which("Rscript")
    if exe is None:
        raise RUnavailable(
            "Rscript not found (apt-get install r-base-core r-cran-lpsolve libgsl-dev)"
        )
    return exe


def baselines_dir() -> Path:
    candidates = [os.environ.get("DATAJUSTA_BASELINES")]
    candidates += [str(p / "shared" / "baselines") for p in (ROOT.parent, ROOT.parent.parent)]
    for c in candidates:
        if c and (Path(c) / "LCMCR_source.tar.gz").is_file():
            return Path(c)
    raise RUnavailable("LCMCR_source.tar.gz not found (set DATAJUSTA_BASELINES)")


def _unpack(archive: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")


def lcmcr_library() -> Path:
    """An R library holding LCMCR 0.4.14, built once from the archive (needs libgsl-dev)."""
    lib = CACHE / "lib"
    r = rscript()
    probe = subprocess.run(
        [r, "-e", f'library(LCMCR, lib.loc="{lib}")'], capture_output=True, text=True
    )
    if probe.returncode == 0:
        return lib
    src = CACHE / "src"
    _unpack(baselines_dir() / "LCMCR_source.tar.gz", src)
    lib.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        [str(Path(r).with_name("R")), "CMD", "INSTALL", "-l", str(lib), str(src / "LCMCR")],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RUnavailable("R CMD INSTALL LCMCR failed:\n" + out.stderr[-2000:])
    return lib


def sparsemse_routines() -> Path:
    """SparseMSE's routines.R, unpacked from the archive (sourced, needs lpSolve)."""
    path = CACHE / "src" / "SparseMSE" / "R" / "routines.R"
    if not path.is_file():
        _unpack(baselines_dir() / "SparseMSE_source.tar.gz", CACHE / "src")
    return path
