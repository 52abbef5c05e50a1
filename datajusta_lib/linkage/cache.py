"""A case study's linkage, computed once and reused while nothing it depends on changes.

Every page that needs the links of a case study (interoperability, unrecorded victims) reads
them from here, so that linkage runs once per set of exports and the pages agree on the same
links. The cache holds encodings and linkage outputs only (no identifier: docs/privacy.md),
under ``outputs/cache/linkage/<source>/<case_study>/<fingerprint>/``; the fingerprint covers
the exports, the case study's codebooks, the linkage settings, this room's code, the key's
fingerprint (never the key) and the seed. One version is kept per case study.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pandas as pd

from ..core.paths import outputs_dir
from ..ingest import codebooks
from ..ingest.loading import export_files
from . import link as lk
from .encode import key_fingerprint, resolve_linkage_key
from .settings import settings_path

SEED = 2019  # the Bloom-filter noise (BLIP) of the encodings: the pages are reproducible
_TABLES = ("encoded", "clusters", "pairs", "clerical", "overlaps")


def fingerprint(case_study: str, source: str, key: bytes, seed: int = SEED) -> str:
    """What the linkage of a case study depends on, hashed."""
    h = hashlib.sha256()
    for inst in codebooks.institutions(case_study):
        cb = codebooks.get(inst, case_study)
        h.update(json.dumps(cb.raw, sort_keys=True, default=str).encode())
        for p in export_files(cb, source):
            h.update(p.name.encode())
            h.update(hashlib.sha256(p.read_bytes()).digest())
    h.update(settings_path().read_bytes())
    for p in sorted(Path(__file__).parent.glob("*.py")):  # the encoder and the linker
        h.update(p.name.encode())
        h.update(p.read_bytes())
    h.update(key_fingerprint(key).encode())
    h.update(str(seed).encode())
    return h.hexdigest()[:20]


def case_study_linkage(
    case_study: str, source: str = "synthetic", *, seed: int = SEED
) -> tuple[pd.DataFrame, lk.LinkageResult]:
    """(encoded records, linkage result) of a case study, from the cache when unchanged.

    Raises ``MissingKeyError`` for private data when no linkage key is set."""
    key = resolve_linkage_key(source)
    folder = (
        outputs_dir()
        / "cache"
        / "linkage"
        / source
        / case_study
        / fingerprint(case_study, source, key, seed)
    )
    cached = _read(folder)
    if cached is not None:
        return cached
    encoded, res = lk.link_case_study(case_study, source, key=key, seed=seed)
    _write(folder, encoded, res)
    return encoded, res


def _read(folder: Path) -> tuple[pd.DataFrame, lk.LinkageResult] | None:
    if not (folder / "meta.json").is_file() or not all(
        (folder / f"{n}.parquet").is_file() for n in _TABLES
    ):
        return None
    got = {n: pd.read_parquet(folder / f"{n}.parquet") for n in _TABLES}
    meta = json.loads((folder / "meta.json").read_text())
    res = lk.LinkageResult(
        got["clusters"],
        got["pairs"],
        got["clerical"],
        got["overlaps"],
        meta["threshold"],
        meta["engine"],
        meta["seconds"],
        meta["model"],
    )
    return got["encoded"], res


def _write(folder: Path, encoded: pd.DataFrame, res: lk.LinkageResult) -> None:
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    encoded.to_parquet(tmp / "encoded.parquet", index=False)
    for n in _TABLES[1:]:
        getattr(res, n).to_parquet(tmp / f"{n}.parquet", index=False)
    meta = {"threshold": res.threshold, "engine": res.engine, "seconds": res.seconds}
    (tmp / "meta.json").write_text(json.dumps({**meta, "model": res.model}))
    for old in folder.parent.iterdir():  # one cached version per case study
        if old.is_dir() and old.name != folder.name and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    try:
        os.replace(tmp, folder)  # atomic; another page may have finished first
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
