"""Keep a render from leaving a stuck or half state behind (see docs/rendering.md).

- **Workers die with the renderer** (:func:`die_with_parent`): on Linux the kernel sends them a
  signal when their parent dies (``prctl(PR_SET_PDEATHSIG)``), and a watchdog thread checks the
  parent anyway (other systems, or a parent that died before the signal was armed).
- **The render lock belongs to the rendering process alone** (:func:`outputs_lock`): a POSIX
  record lock (``lockf``), which forked workers do not inherit and which the kernel releases
  when the process dies, so a killed render never blocks the next one. A lock file still naming
  a process that is no longer running is taken over with a note.
- **An outputs folder that cannot be written** is one clear error (:class:`OutputsNotWritable`),
  found before anything runs.
- **Files reach the disk before they are renamed into place** (:func:`fsync_tree`), and a
  cached page is checked against the hashes recorded when it was written
  (:func:`file_hashes`, :func:`verify_files`).
- **The published site is readable by others** (:func:`make_public`): the temporary folder it is
  built in is private to its creator (``mkdtemp``); before the swap every folder gets at least
  ``0755`` and every file ``0644``, with write bits as the umask allows.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

_PR_SET_PDEATHSIG = 1


class OutputsNotWritable(RuntimeError):
    """The outputs folder (or a folder the render must write to) cannot be written."""


# ----------------------------------------------------------------------------- die with the parent
def die_with_parent(parent_pid: int, sig: int = signal.SIGTERM, poll: float = 1.0) -> None:
    """Make this (forked) process end when ``parent_pid`` ends."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watchdog below still works
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="datajusta-parent-watchdog", daemon=True).start()


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ----------------------------------------------------------------------------- the render lock
def _not_writable(path: Path, exc: OSError) -> OutputsNotWritable:
    reason = exc.strerror or str(exc)
    return OutputsNotWritable(
        f"cannot write to {path}: {reason} (make it writable, or set DATAJUSTA_OUTPUTS "
        "to another folder)"
    )


def ensure_writable(*folders: Path) -> None:
    """Create each folder if needed and check a file can be created in it."""
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=folder)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise _not_writable(folder, exc) from None


@contextlib.contextmanager
def outputs_lock(outputs: Path):
    """One render at a time per outputs folder. Yields notes (a lock taken over from a dead run).

    Raises RuntimeError naming the holder when another live render holds it, and
    :class:`OutputsNotWritable` when the lock file cannot be created."""
    import fcntl

    path = outputs / ".render.lock"
    try:
        outputs.mkdir(parents=True, exist_ok=True)
        fh = open(path, "a+")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise _not_writable(outputs, exc) from None
    notes: list[str] = []
    with fh:
        try:
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise _not_writable(outputs, exc) from None
            fh.seek(0)
            holder = fh.read().strip() or "?"
            raise RuntimeError(
                f"another `datajusta render` is using {outputs} (pid {holder}); "
                "wait for it to finish"
            ) from None
        fh.seek(0)
        before = fh.read().strip()
        if before.isdigit() and int(before) != os.getpid():
            state = "no longer running" if not pid_alive(int(before)) else "not holding it"
            notes.append(
                f"took over the render lock of {outputs} from pid {before} ({state}; "
                "an earlier render was killed)"
            )
        try:
            fh.truncate(0)
            fh.write(str(os.getpid()))
            fh.flush()
        except OSError as exc:
            raise _not_writable(outputs, exc) from None
        try:
            yield notes
        finally:
            with contextlib.suppress(OSError):
                fh.truncate(0)  # a clean end leaves no pid behind
                fh.flush()
            with contextlib.suppress(OSError):
                fcntl.lockf(fh, fcntl.LOCK_UN)


# ----------------------------------------------------------------------------- durability and checks
def fsync_tree(root: Path) -> None:
    """fsync every file and folder under ``root`` (and ``root`` itself): what is renamed into
    place next is on the disk, not only in the page cache."""
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            _fsync(Path(dirpath, name), os.O_RDONLY)
        _fsync(Path(dirpath), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def fsync_dir(path: Path) -> None:
    _fsync(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _fsync(path: Path, flags: int) -> None:
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on folders
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_hashes(entry: Path) -> dict[str, str]:
    """sha256 of every file of a cache entry except ``meta.json`` (relative POSIX paths)."""
    return {
        p.relative_to(entry).as_posix(): sha256_file(p)
        for p in sorted(entry.rglob("*"))
        if p.is_file() and p.name != "meta.json"
    }


def verify_files(entry: Path, recorded: dict | None) -> str | None:
    """None if the entry's files are exactly the recorded ones, else why not (for the manifest)."""
    if not recorded:
        return "cached page has no recorded hash"
    actual = file_hashes(entry)
    for name, digest in sorted(recorded.items()):
        if name not in actual:
            return f"cached {name} is missing"
        if actual[name] != digest:
            return f"cached {name} does not match its hash"
    extra = sorted(set(actual) - set(recorded))
    if extra:
        return f"cached entry has an unexpected file {extra[0]}"
    return None


# ----------------------------------------------------------------------------- permissions
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def make_public(root: Path) -> None:
    """Folders at least 0755 and files at least 0644 under ``root``; write bits per the umask."""
    mask = _umask()
    dir_mode = (0o777 & ~mask) | 0o755
    file_mode = (0o666 & ~mask) | 0o644
    os.chmod(root, dir_mode)
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            os.chmod(Path(dirpath, d), dir_mode)
        for f in filenames:
            p = Path(dirpath, f)
            if not p.is_symlink():
                os.chmod(p, file_mode)


# ----------------------------------------------------------------------------- language switches
_LANG_SWITCH = re.compile(r'(<a class="dj-lang" href=")([^"]*)(")')


def point_language_switches(site: Path, records: list[dict], pages: dict) -> None:
    """Point each page's language switch at its other-language page when that page is in the
    site, else at the other language's index (a first ``--lang es`` render has no English pages
    yet). Works on the copies in ``site``; cached pages keep the link they were rendered with."""
    present = {r["page"] for r in records if r.get("in_site")}
    for rel in present:
        page = pages[rel]
        other = page.other_language()
        if not other:
            continue  # one-language report: already points at the other index
        wanted = f"../{other}/{page.slug}.html"
        if f"{other}/{page.slug}.html" not in present:
            wanted = "../index.html" if other == "es" else f"../{other}/index.html"
        path = site / rel
        html = path.read_text(encoding="utf-8")
        new = _LANG_SWITCH.sub(lambda m, w=wanted: m[1] + w + m[3], html, count=1)
        if new != html:
            path.write_text(new, encoding="utf-8")
