"""The hashed lock (issue 14, point 14): every package installed by `make setup` is pinned with
its sha256 hashes, in step with requirements/constraints.txt and pyproject.toml, and pip and the
build backend are pinned too."""

from __future__ import annotations

import re
import tomllib

import pytest


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.lower())


def _lock(root) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) from requirements/lock.txt (pip's requirement-file syntax)."""
    text = (root / "requirements/lock.txt").read_text()
    entries = {}
    for block in re.split(r"\n(?=\S)", text):
        block = block.strip()
        if not block or block.startswith("#"):
            continue
        head = block.split()[0]
        assert "==" in head, f"requirements/lock.txt: {head!r} is not pinned with =="
        name, version = head.split("==")
        entries[_norm(name)] = (version, re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return entries


def _pins(path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[_norm(name)] = version
    return pins


def test_every_locked_package_has_hashes(root):
    lock = _lock(root)
    assert len(lock) > 100
    unhashed = [name for name, (_, hashes) in lock.items() if not hashes]
    assert not unhashed, f"no --hash in requirements/lock.txt for {unhashed}"


def test_the_lock_matches_the_constraints_exactly(root):
    lock = {name: version for name, (version, _) in _lock(root).items()}
    extra = _pins(root / "requirements/lock.in")  # pip and setuptools
    assert lock == _pins(root / "requirements/constraints.txt") | extra


def test_the_lock_covers_pyproject_and_pins_pip_and_the_build_backend(root):
    py = tomllib.loads((root / "pyproject.toml").read_text())
    deps = py["project"]["dependencies"] + py["project"]["optional-dependencies"]["dev"]
    lock = _lock(root)
    missing = {_norm(re.split(r"[<>=!~ \[;]", d)[0]) for d in deps} - set(lock)
    assert not missing, f"pyproject dependencies not in requirements/lock.txt: {sorted(missing)}"
    (backend,) = py["build-system"]["requires"]
    name, _, version = backend.partition("==")
    assert version, f"build-system requires {backend!r}: pin it with =="
    assert lock[_norm(name)][0] == version
    assert "pip" in lock


@pytest.mark.parametrize(
    "needle",
    [
        "--require-hashes -r requirements/lock.txt",
        "--no-deps --no-build-isolation -e .",
        "--generate-hashes",
    ],
)
def test_make_setup_installs_only_hash_checked_files(root, needle):
    makefile = (root / "Makefile").read_text()
    assert needle in makefile
    # no other install line can bring in an unchecked file
    for line in makefile.splitlines():
        if "$(PIP) install" in line:
            assert "--require-hashes" in line or "--no-deps --no-build-isolation -e ." in line, line
