"""The researcher's entry points: ``dj.load``, ``dj.quarantine``, ``dj.codebook``.

``dj.load(case_study, source="synthetic")`` reads every institution's export for a case
study, harmonises it through its codebook and returns the canonical table (one row per
record, the columns of ``contracts.RecordModel`` plus ``source_sheet``). Rejected rows are
never dropped silently: ``dj.quarantine(case_study)`` returns them with their reasons, and
each load writes them to ``outputs/quarantine/<source>/<case_study>/<INSTITUTION>.parquet``.

Exports live in ``<root>/<case_study>/<INSTITUTION>/<export.filename>`` where ``<root>`` is
``paths.synthetic_dir()`` (fabricated data, the default) or ``paths.private_dir()`` (real
microdata; needs a pseudonymisation key, see :mod:`.pseudonymise`).

Harmonised tables are cached per institution under ``outputs/cache/ingest/`` as Parquet,
keyed by the SHA-256 of the raw files, the codebook, the canonical vocabulary, the ingestion
code and a fingerprint of the key (never the key), so a repeated load reads Parquet only.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from .. import __version__
from ..core import canon
from ..core.paths import data_dir, outputs_dir, private_dir, reference_dir, synthetic_dir
from . import at_rest, codebooks, pseudonymise
from .harmonise import QUARANTINE_META, HarmoniseResult, harmonise_files

SOURCES = ("synthetic", "private")
CACHE_FORMAT = "2"
# The code a cached load depends on: ingestion, the core it stands on, and the identifier
# patterns that mask what it keeps at rest.
_CODE_DIRS = ("ingest", "core")
_CODE_FILES = ("gate/scanner.py",)


@dataclass(frozen=True)
class InstitutionLoad:
    """What one institution's ingestion produced (kept in ``df.attrs['ingestion']``)."""

    institution: str
    files: tuple[str, ...]
    n_read: int
    n_accepted: int
    n_rejected: int
    reads: tuple[str, ...]
    cached: bool
    # every physical data line is a row read, a blank line or the continuation of a
    # multi-line record (readers.read_guard); None when unknown
    n_lines: int | None = None
    n_blank: int = 0
    n_continuation: int = 0


def source_dir(source: str) -> Path:
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    return synthetic_dir() if source == "synthetic" else private_dir()


def export_files(cb: codebooks.Codebook, source: str) -> list[Path]:
    """The files of one institution for one case study (``export.filename`` may be a glob)."""
    folder = source_dir(source) / cb.case_study / cb.institution
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(cb.export.filename) if p.is_file())


def codebook(institution: str, case_study: str | None = None):
    """An institution's codebook (``.fields``, ``.mappings``, ``.export``, ``.unit_of_count``...).

    With ``case_study=None``: a dict ``{case_study: Codebook}`` of every case study the
    institution takes part in, or the single Codebook when there is only one.
    """
    institution = institution.upper()
    if case_study is not None:
        return codebooks.get(institution, case_study)
    studies = codebooks.case_studies_of(institution)
    if not studies:
        known = sorted(
            {
                p.stem
                for cs in canon.case_studies()
                for p in (codebooks.codebook_path("X", cs).parent).glob("*.yaml")
            }
        )
        raise LookupError(f"no codebook for institution {institution!r}; known: {', '.join(known)}")
    if len(studies) == 1:
        return codebooks.get(institution, studies[0])
    return {cs: codebooks.get(institution, cs) for cs in studies}


# --------------------------------------------------------------------------------------
# cache keys
# --------------------------------------------------------------------------------------
def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _code_hash() -> str:
    library = Path(__file__).resolve().parent.parent
    h = hashlib.sha256(__version__.encode())
    files = [p for folder in _CODE_DIRS for p in sorted((library / folder).glob("*.py"))]
    for path in [*files, *(library / f for f in _CODE_FILES)]:
        h.update(path.name.encode() + path.read_bytes())
    for path in (data_dir() / "canonical.yaml", reference_dir() / "regions.csv"):
        h.update(path.read_bytes())
    return h.hexdigest()


def _cache_key(institution: str, case_study: str, files: list[Path], key: bytes) -> str:
    parts = {
        "format": CACHE_FORMAT,
        "code": _code_hash(),
        "codebook": _sha256_file(codebooks.codebook_path(institution, case_study)),
        "files": [[p.name, _sha256_file(p)] for p in files],
        "key": pseudonymise.key_fingerprint(key),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def cache_dir(source: str, case_study: str) -> Path:
    return outputs_dir() / "cache" / "ingest" / source / case_study


def quarantine_path(source: str, case_study: str, institution: str) -> Path:
    return outputs_dir() / "quarantine" / source / case_study / f"{institution}.parquet"


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    at_rest.write_private(df, path, below=outputs_dir())  # owner-only, atomic


# --------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------
def _require_synthetic() -> None:
    """Synthetic data are made by their own step (``datajusta synth``), never as a side effect
    of reading them: say how to make them when they are missing."""
    if not (synthetic_dir() / "metadata.json").is_file():
        raise FileNotFoundError(
            f"no synthetic data in {synthetic_dir()}: generate them first with "
            "`datajusta synth` (or `make synth`), or load real data with source='private'"
        )


def _load_institution(
    institution: str, case_study: str, source: str, key: bytes, refresh: bool
) -> tuple[pd.DataFrame, pd.DataFrame, InstitutionLoad] | None:
    cb_path = codebooks.codebook_path(institution, case_study)
    folder = source_dir(source) / case_study / institution
    if not cb_path.is_file():
        raise LookupError(f"no codebook for {institution!r} in {case_study!r} ({cb_path})")
    # a cache hit needs only the export's file name: the codebook is checked on a miss
    pattern = _export_pattern(cb_path)
    files = (
        sorted(p for p in folder.glob(pattern) if p.is_file())
        if pattern and folder.is_dir()
        else []
    )
    if not files:
        return None
    ck = _cache_key(institution, case_study, files, key)
    cdir = cache_dir(source, case_study)
    rec_path = cdir / f"{institution}-{ck}.records.parquet"
    q_path = cdir / f"{institution}-{ck}.quarantine.parquet"
    meta_path = cdir / f"{institution}-{ck}.json"
    if not refresh and rec_path.is_file() and q_path.is_file() and meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            records = pd.read_parquet(rec_path)
            quarantine = pd.read_parquet(q_path)
            return records, quarantine, InstitutionLoad(**{**meta, "cached": True})
        except (OSError, ValueError, TypeError):
            pass  # another process is replacing this version: harmonise again
    cb = codebooks.load_codebook(cb_path)
    result: HarmoniseResult = harmonise_files(files, cb, key)
    root = source_dir(source)
    rel = tuple(str(p.relative_to(root)) if p.is_relative_to(root) else str(p) for p in files)
    info = InstitutionLoad(
        institution=institution,
        files=rel,
        n_read=result.n_read,
        n_accepted=result.n_accepted,
        n_rejected=result.n_rejected,
        reads=tuple(r.describe() for r in result.reads),
        cached=False,
        n_lines=result.n_lines,
        n_blank=result.n_blank,
        n_continuation=result.n_continuation,
    )
    records = result.records
    quarantine = result.quarantine.astype({"source_row": "Int64"})
    quarantine.insert(0, "institution", institution)
    for old in cdir.glob(f"{institution}-*"):
        if ck not in old.name:
            old.unlink(missing_ok=True)  # one cached version per institution
    _write_atomic(records, rec_path)
    _write_atomic(quarantine, q_path)
    _write_atomic(quarantine, quarantine_path(source, case_study, institution))
    meta = {k: v for k, v in info.__dict__.items() if k != "cached"}
    # written last: its presence means the version is complete
    at_rest.write_private_text(
        json.dumps(meta, ensure_ascii=False, indent=1), meta_path, below=outputs_dir()
    )
    if result.n_rejected and source == "private":
        # synthetic exports carry deliberate faults; real ones deserve a word every time
        warnings.warn(
            f"{institution} ({case_study}, {source}): {result.n_rejected} of {result.n_read} rows "
            f"quarantined; see dj.quarantine({case_study!r}, source={source!r})",
            stacklevel=4,
        )
    return records, quarantine, info


def _export_pattern(cb_path: Path) -> str | None:
    st = cb_path.stat()
    return _export_pattern_cached(str(cb_path), st.st_mtime_ns, st.st_size)


@cache
def _export_pattern_cached(path: str, _mtime: int, _size: int) -> str | None:
    return (codebooks.read_yaml(path).get("export") or {}).get("filename")


def _institutions(case_study: str, institutions) -> tuple[list[str], bool]:
    if case_study not in canon.case_studies():
        raise ValueError(f"unknown case study {case_study!r}; known: {canon.case_studies()}")
    known = codebooks.institutions(case_study)
    if institutions is None:
        return known, False
    if isinstance(institutions, str):
        institutions = [institutions]
    wanted = [i.upper() for i in institutions]
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise LookupError(
            f"no codebook for {unknown} in {case_study!r}; institutions: {', '.join(known)}"
        )
    return wanted, True


def _load_all(case_study, source, institutions, refresh, key):
    source_dir(source)  # an unknown source is an error before anything else
    names, explicit = _institutions(case_study, institutions)
    if source == "synthetic":
        _require_synthetic()
    key = key if key is not None else pseudonymise.resolve_key(source)
    parts = []
    for inst in names:
        got = _load_institution(inst, case_study, source, key, refresh)
        if got is None:
            if explicit:
                folder = source_dir(source) / case_study / inst
                raise FileNotFoundError(
                    f"no export for {inst} in {case_study!r} ({source}): expected "
                    f"{folder / codebooks.get(inst, case_study).export.filename}"
                )
            continue
        parts.append(got)
    if not parts:
        where = source_dir(source) / case_study
        hint = " (run `datajusta synth`)" if source == "synthetic" else ""
        raise FileNotFoundError(f"no exports found for {case_study!r} under {where}{hint}")
    return parts


def load(
    case_study: str,
    source: str = "synthetic",
    institutions: list[str] | str | None = None,
    *,
    refresh: bool = False,
    key: bytes | None = None,
) -> pd.DataFrame:
    """The validated canonical table of a case study (every institution unless ``institutions``).

    Columns: ``contracts.RECORD_COLUMNS`` + ``source_sheet``. ``df.attrs`` holds ``source``,
    ``synthetic`` (bool), ``case_study`` and ``ingestion`` (one dict per institution: files,
    rows read / accepted / rejected, how each file was read). ``refresh=True`` ignores the
    cache. A file that cannot be read at all raises ``readers.ReadError``.
    """
    parts = _load_all(case_study, source, institutions, refresh, key)
    frames = [p[0] for p in parts if len(p[0])]
    df = pd.concat(frames, ignore_index=True) if frames else parts[0][0].iloc[0:0]
    df.attrs = {
        "source": source,
        "synthetic": source == "synthetic",
        "case_study": case_study,
        "ingestion": [p[2].__dict__ for p in parts],
    }
    return df


def quarantine(
    case_study: str,
    source: str = "synthetic",
    institutions: list[str] | str | None = None,
    *,
    refresh: bool = False,
    key: bytes | None = None,
) -> pd.DataFrame:
    """Rows rejected at ingestion, with ``institution``, lineage, ``rules`` and ``reasons``.

    The institution's own column values are kept (identifiers masked, names and free-text
    extras dropped, formula-like values escaped); columns differ between institutions.
    """
    parts = _load_all(case_study, source, institutions, refresh, key)
    frames = [p[1] for p in parts if len(p[1])]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in ["institution", *QUARANTINE_META]})
    q = pd.concat(frames, ignore_index=True)
    first = ["institution", *QUARANTINE_META]
    return q[first + [c for c in q.columns if c not in first]]


def ingestion_summary(case_study: str, source: str = "synthetic") -> pd.DataFrame:
    """One row per institution: unit of count, identifier, rows read/accepted/rejected, how read."""
    parts = _load_all(case_study, source, None, False, None)
    rows = []
    for _, _, info in parts:
        cb = codebooks.get(info.institution, case_study)
        rows.append(
            {
                "institution": info.institution,
                "unit_of_count": cb.unit_of_count,
                "identifier": cb.identifier_kind,
                "rows_read": info.n_read,
                "accepted": info.n_accepted,
                "rejected": info.n_rejected,
                "files": ", ".join(info.files),
                "read_as": " | ".join(info.reads),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# one file, as the `datajusta validate` command checks it
# --------------------------------------------------------------------------------------
def resolve_case_study(institution: str, case_study: str | None, path: Path | None = None) -> str:
    """The case study of a validation: given, the only one the institution has, or a folder
    of ``path`` named after one."""
    studies = codebooks.case_studies_of(institution)
    if not studies:
        known = sorted(
            {
                p.stem
                for cs in canon.case_studies()
                for p in codebooks.codebook_path("X", cs).parent.glob("*.yaml")
            }
        )
        raise LookupError(f"no codebook for institution {institution!r}; known: {', '.join(known)}")
    if case_study is not None:
        if case_study not in studies:
            raise LookupError(
                f"{institution} has no codebook for {case_study!r}; it has: {', '.join(studies)}"
            )
        return case_study
    if len(studies) == 1:
        return studies[0]
    if path is not None:
        named = [part for part in Path(path).resolve().parts if part in studies]
        if named:
            return named[-1]
    raise LookupError(
        f"{institution} has codebooks for {', '.join(studies)}: choose one with --case-study"
    )


def default_validate_quarantine(path: Path, institution: str, case_study: str) -> Path:
    return (
        outputs_dir()
        / "quarantine"
        / "validate"
        / case_study
        / institution
        / f"{Path(path).name}.parquet"
    )


def validate_export(
    path,
    institution: str,
    case_study: str | None = None,
    quarantine_to: Path | str | None = None,
    codebook_file: Path | str | None = None,
) -> tuple[HarmoniseResult, Path | None]:
    """Read, validate and harmonise one export; write its rejected rows; return both.

    Person keys are made with a throw-away random key: validation outputs none, so no key
    needs to be configured to check a private file. ``codebook_file``: a codebook outside
    the repository (e.g. a draft of ``datajusta codebook init``) instead of the shipped one;
    its institution and case study are used.
    """
    import secrets

    if codebook_file is not None:
        cb = codebooks.load_codebook(codebook_file)
        for given, own, what in (
            (institution, cb.institution, "institution"),
            (case_study, cb.case_study, "case study"),
        ):
            if given is not None and given.upper() != own.upper():
                raise LookupError(
                    f"--{what.replace(' ', '-')} {given} does not match the codebook's {what} "
                    f"{own} ({codebook_file})"
                )
        institution, cs = cb.institution, cb.case_study
    else:
        if institution is None:
            raise LookupError("name the institution (--institution) or a codebook (--codebook)")
        institution = institution.upper()
        cs = resolve_case_study(institution, case_study, Path(path))
        cb = codebooks.get(institution, cs)
    result = harmonise_files([Path(path)], cb, secrets.token_bytes(32))
    target = None
    if result.n_rejected:
        target = (
            Path(quarantine_to)
            if quarantine_to
            else default_validate_quarantine(Path(path), institution, cs)
        )
        result.write_quarantine(target)
    return result, target
