"""What a page depends on, as content hashes, and the cache of rendered pages.

A page is re-rendered only when something it depends on changes. Its *cache key* is the sha256
of the notebook's bytes, the page parameters and language, its entry in the report list, the
renderer (``site/``, its templates, the package's data files, the library version), the Python
environment (interpreter and installed distributions), and the data the page reads (vocabularies
and labels always; published figures, or codebooks and institutional records, as the report
declares). The library modules are checked per page: a rendered page records the
``datajusta_lib`` modules its kernel had imported, with their hashes, and is reused only while all
of those are unchanged. Editing ``mse/estimator.py`` thus re-renders the pages that import it, not the
others. The commit is *not* part of the key: a commit that changes none of these inputs does not
change the page (its footer keeps the commit it was rendered at).

Hashing large data on every run would make a no-change render slow, so file hashes are memoised
by (size, mtime, inode) in ``outputs/cache/hashes.json``, as git's index does; a file modified
within the last two seconds of being hashed is always re-hashed (it could change again within
the same timestamp).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..core.paths import data_dir, private_dir, synthetic_dir

CACHE_SCHEMA = 2  # bump when the page format or the key recipe changes
LIBRARY_DIR = Path(__file__).resolve().parent.parent  # the datajusta_lib package
SITE_DIR = Path(__file__).resolve().parent
_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints"}
_RACY_SECONDS = 2.0


def _files(root: Path, exclude: set[Path] = frozenset()) -> list[Path]:
    if not root.is_dir():
        return []
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in _SKIP_DIRS and Path(dirpath, d) not in exclude
        )
        out += [Path(dirpath, f) for f in sorted(filenames) if not f.startswith(".")]
    return out


class FileHasher:
    """sha256 of files, memoised by (size, mtime_ns, inode) in a JSON file."""

    def __init__(self, memo_path: Path | None):
        self.memo_path = memo_path
        self.memo: dict[str, list] = {}
        self.dirty = False
        if memo_path and memo_path.is_file():
            try:
                self.memo = json.loads(memo_path.read_text())
            except (OSError, ValueError):
                self.memo = {}

    def file(self, path: Path) -> str:
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
        key = str(path)
        hit = self.memo.get(key)
        if hit and hit[:3] == stamp:
            return hit[3]
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        digest = h.hexdigest()
        if time.time() - st.st_mtime_ns / 1e9 > _RACY_SECONDS:
            self.memo[key] = [*stamp, digest]
            self.dirty = True
        return digest

    def tree(self, files: list[Path], root: Path) -> str:
        """One hash for a set of files: their paths relative to ``root`` and their contents."""
        h = hashlib.sha256()
        for f in files:
            h.update(
                f.relative_to(root).as_posix().encode() + b"\0" + self.file(f).encode() + b"\n"
            )
        return h.hexdigest()

    def save(self) -> None:
        if self.memo_path and self.dirty:
            self.memo_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.memo_path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps(self.memo))
            os.replace(tmp, self.memo_path)
            self.dirty = False


def environment_fingerprint(kernel_argv: list[str]) -> str:
    """The interpreter and every installed distribution (names carry versions), plus the kernel
    command: upgrading pandas or matplotlib can change a page."""
    h = hashlib.sha256(f"{sys.version}\n{kernel_argv}\n".encode())
    for key in ("purelib", "platlib"):
        site = Path(sysconfig.get_paths()[key])
        if site.is_dir():
            h.update("\n".join(sorted(p.name for p in site.glob("*.dist-info"))).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Fingerprints:
    """Hashes of everything outside the notebook that a page can depend on."""

    library: str  # renderer, templates, package data files, version
    modules: dict  # every library module (render*.py too): path in the repository -> sha256
    environment: str
    data: dict  # name -> sha256

    def modules_unchanged(self, recorded: dict) -> bool:
        """Whether the library modules a page imported (``recorded``) are as they were."""
        return all(self.modules.get(path) == digest for path, digest in recorded.items())

    def for_page(self, page) -> dict:
        wanted = ["vocabulary"]
        for kind in page.report.data:
            wanted += ["codebooks", f"records ({page.source})"] if kind == "records" else [kind]
        return {k: self.data[k] for k in wanted if k in self.data}


def fingerprints(hasher: FileHasher, source: str, kernel_argv: list[str]) -> Fingerprints:
    data = data_dir()
    records = synthetic_dir() if source == "synthetic" else private_dir()
    raw = data / "raw"
    published = data / "published"
    codebooks = data / "codebooks"
    # What every page may read: vocabularies, labels, institutions, regions (and any other
    # project data not listed here). Codebooks matter to pages on records only.
    vocabulary = _files(data, exclude={published, codebooks, raw, private_dir(), synthetic_dir()})
    hashes = {
        "vocabulary": hasher.tree(vocabulary, data),
        "codebooks": hasher.tree(_files(codebooks), data),
        "published": hasher.tree(_files(published), data),
    }
    record_files = _files(records) + (_files(raw) if source == "private" else [])
    hashes[f"records ({source})"] = (
        hasher.tree(record_files, records.parent) if record_files else "absent"
    )
    lib_files = _files(LIBRARY_DIR)
    modules = {
        f.relative_to(LIBRARY_DIR.parent).as_posix(): hasher.file(f)
        for f in lib_files
        if f.suffix == ".py"
    }
    # The renderer, templates and the package's data files: every page depends on them.
    renderer = [f for f in lib_files if f.suffix != ".py" or f.is_relative_to(SITE_DIR)]
    library = hasher.tree(renderer, LIBRARY_DIR.parent)
    library = hashlib.sha256(f"{__version__}\n{library}".encode()).hexdigest()
    return Fingerprints(
        library=library,
        modules=modules,
        environment=environment_fingerprint(kernel_argv),
        data=hashes,
    )


PAGE_SETTINGS = ("DATAJUSTA_K",)  # the disclosure threshold k (datajusta_lib.gate.disclosure)


def page_inputs(page, notebook_sha: str, fp: Fingerprints) -> dict:
    """Everything the page's cache key is made of (see the module docstring)."""
    return {
        "schema": CACHE_SCHEMA,
        "notebook": notebook_sha,
        "report entry": hashlib.sha256(page.report.entry.encode()).hexdigest(),
        "parameters": page.parameters,
        "source": page.source,
        "renderer": fp.library,
        "environment": fp.environment,
        "data": fp.for_page(page),
        # Settings read from the environment that change what a page shows (never secrets:
        # these inputs are written to the manifest).
        "settings": {name: os.environ.get(name) for name in PAGE_SETTINGS},
    }


def page_key(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def why_stale(previous: dict | None, inputs: dict, fp: Fingerprints) -> str:
    """Why a page must be rendered, compared with its record in the previous manifest."""
    if not previous or "inputs" not in previous:
        return "not rendered before"
    before = previous["inputs"]
    if before.get("schema") != inputs.get("schema"):  # every other comparison is then moot
        return "cache format changed"
    reasons = []
    for name, value in inputs.items():
        if name == "data":
            old = before.get("data", {})
            reasons += [f"{k} data changed" for k in value if value[k] != old.get(k)]
        elif value != before.get(name):
            reasons.append(f"{name} changed")
    modules = previous.get("library_modules", {})
    reasons += [f"{m} changed" for m, h in modules.items() if fp.modules.get(m) != h]
    if previous.get("status") == "failed":
        reasons.append("failed last time")
    return ", ".join(reasons) or "not in the cache"


class PageCache:
    """Rendered pages by cache key: ``<root>/<key>/page.html``, ``tables/*.csv``, ``meta.json``.

    An entry is written under a temporary name and renamed into place, so a reader never sees
    a half-written entry; only successful renders are stored.
    """

    def __init__(self, root: Path):
        self.root = root
        self.invalid: dict[str, str] = {}  # key -> why its entry was not reused (for the manifest)

    def path(self, key: str) -> Path:
        return self.root / key

    def get(self, key: str, fp: Fingerprints | None = None) -> dict | None:
        """The entry's metadata, or None if absent or (given ``fp``) if a library module the
        page imported has changed since."""
        meta = self.path(key) / "meta.json"
        try:
            meta = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if fp is not None and not fp.modules_unchanged(meta.get("library_modules", {"?": "?"})):
            return None
        from .guard import verify_files

        problem = verify_files(self.path(key), meta.get("files"))
        if problem:  # truncated or edited since it was written: never published as it is
            self.invalid[key] = problem
            return None
        return meta

    def put(
        self,
        key: str,
        html: str,
        tables: list[tuple[str, str]],
        meta: dict,
        extra: dict[str, str] | None = None,
    ) -> Path:
        """Store a page, its tables and ``extra`` files (path in the entry -> text), all of them
        hashed into ``meta.json`` so that reuse can verify them."""
        final = self.path(key)
        tmp = self.root / f".{key}.tmp{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "tables").mkdir(parents=True)
        (tmp / "page.html").write_text(html, encoding="utf-8")
        for name, csv in tables:
            (tmp / "tables" / f"{name}.csv").write_text(csv, encoding="utf-8")
        for rel, content in (extra or {}).items():
            (tmp / rel).write_text(content, encoding="utf-8")
        from .guard import file_hashes, fsync_dir, fsync_tree

        meta = {**meta, "files": file_hashes(tmp)}  # checked before every reuse
        (tmp / "meta.json").write_text(
            json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8"
        )
        fsync_tree(tmp)  # on disk before it is renamed into place
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        fsync_dir(self.root)
        return final

    def prune(self, keep: set[str], max_age_days: float = 14) -> int:
        """Remove entries not in ``keep`` that were last used more than ``max_age_days`` ago."""
        if not self.root.is_dir():
            return 0
        cutoff = time.time() - max_age_days * 86400
        removed = 0
        for entry in self.root.iterdir():
            stale_tmp = entry.name.startswith(".")
            if entry.name in keep or not entry.is_dir():
                continue
            if stale_tmp or entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        return removed

    def touch(self, key: str) -> None:
        with_dir = self.path(key)
        if with_dir.is_dir():
            os.utime(with_dir)
