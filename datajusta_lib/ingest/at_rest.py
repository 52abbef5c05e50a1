"""What ingestion keeps on disk and prints: identifiers masked, files readable by the owner only.

Rejected rows are kept (quarantine) so that a person can fix the export, and harmonised
tables are cached; both may hold what an institution typed into the wrong column. Every value
of every column written to the quarantine, the ingest cache or the terminal is passed through
the identifier scanner's own patterns (:func:`scanner.mask_identifiers`: RUN, passport,
e-mail, phone, birth dates, names of the synthetic population), and the files and folders are
created owner-only (0600 / 0700) whatever the umask. See docs/codebooks.md, "What is kept
where".
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd

from ..gate import scanner

FILE_MODE = 0o600
DIR_MODE = 0o700


_NAME_PARTICLES = frozenset({"del", "las", "los", "san", "santa", "van", "von"})


class _Names:
    """Several name matchers as one (``find`` like :class:`scanner.NameWords`)."""

    def __init__(self, *matchers):
        self.matchers = [m for m in matchers if m is not None]

    def find(self, text: str) -> list[str]:
        return [hit for m in self.matchers for hit in m.find(text)]


def _names(extra=None):
    try:
        synthetic = scanner.default_name_words()
    except OSError:
        synthetic = None
    return _Names(synthetic, extra)


def file_names(raw: pd.DataFrame, cb) -> scanner.NameWords | None:
    """The words of the names in the file's own name column (``fields.person_name``), so that
    a name of this file typed into another column is recognised even in real data: two
    adjacent words of those names make a value name-like."""
    from .codebooks import NAME_FIELD

    spec = cb.specs.get(NAME_FIELD)
    if spec is None or not spec.recorded or spec.original_name not in raw.columns:
        return None
    words = frozenset(
        w
        for w in scanner.name_words_of(raw[spec.original_name].dropna().astype(str), min_len=3)
        if w not in _NAME_PARTICLES
    )
    return scanner.NameWords(words, words) if words else None


def mask_array(values, extra=None) -> np.ndarray:
    """Each text value with identifiers masked (distinct values are scanned once); ``extra``:
    more names to recognise (:func:`file_names`)."""
    arr = np.asarray(values, dtype=object)
    if not len(arr):
        return arr
    names = _names(extra)
    seen: dict = {}
    out = np.empty(len(arr), dtype=object)
    for i, v in enumerate(arr):
        if isinstance(v, str):
            if v not in seen:
                seen[v] = scanner.mask_identifiers(v, names)
            out[i] = seen[v]
        else:
            out[i] = v
    return out


def mask_series(s: pd.Series, extra=None) -> pd.Series:
    return pd.Series(mask_array(s.to_numpy(dtype=object), extra), index=s.index, dtype=s.dtype)


def private_dirs(path: Path, below: Path | None = None) -> None:
    """Create folder ``path`` and its missing parents with mode 0700. With ``below`` (e.g.
    ``outputs/``), the existing folders between it (exclusive) and ``path`` are set to 0700
    too; without it, folders that already existed (a user's working folder) are left alone."""
    path = Path(path)
    created = [p for p in [path, *path.parents] if not p.exists()]
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    for p in created:
        os.chmod(p, DIR_MODE)  # mkdir's mode is filtered by the umask
    if below is None:
        return
    below = Path(below)
    for p in [path, *path.parents]:
        if p == below or not p.is_relative_to(below):
            break
        if stat.S_IMODE(p.stat().st_mode) != DIR_MODE:
            os.chmod(p, DIR_MODE)


def write_private(df: pd.DataFrame, path, below: Path | None = None) -> Path:
    """Write ``df`` atomically to ``path`` (Parquet, or CSV for ``.csv``), mode 0600; the
    folders it creates (and those below ``outputs/`` on the way) are 0700."""
    path = Path(path)
    private_dirs(path.parent, below if below is not None else _outputs_root(path))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.close(fd)
    os.chmod(tmp, FILE_MODE)
    if path.suffix.lower() == ".csv":
        df.to_csv(tmp, index=False)
    else:
        df.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def _outputs_root(path: Path) -> Path | None:
    from ..core.paths import outputs_dir

    try:
        root = outputs_dir().resolve()
    except FileNotFoundError:
        return None
    return root if path.resolve().is_relative_to(root) else None


def write_private_text(text: str, path, below: Path | None = None) -> Path:
    path = Path(path)
    private_dirs(path.parent, below)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, path)
    return path
