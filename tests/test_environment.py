"""Setup files stay in step: pyproject, the pinned constraints, environment.yml, README, CI."""

from __future__ import annotations

import re
import tomllib

import yaml


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.lower())


def _pyproject_deps(root) -> set[str]:
    py = tomllib.loads((root / "pyproject.toml").read_text())
    deps = py["project"]["dependencies"] + py["project"]["optional-dependencies"]["dev"]
    return {_norm(re.split(r"[<>=!~ \[]", d)[0]) for d in deps}


def _pins(root) -> dict[str, str]:
    pins = {}
    for line in (root / "requirements/constraints.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_norm(name)] = version
    return pins


def _environment(root) -> dict[str, str]:
    env = yaml.safe_load((root / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for pip_dep in dep["pip"]:
                if not pip_dep.startswith("-e"):
                    name, version = pip_dep.split("==")
                    out[_norm(name)] = version
        elif dep not in ("pip",) and not dep.startswith("python="):
            name, version = dep.split("=")
            out[_norm(name)] = version
    return out


def test_environment_yml_lists_exactly_the_pyproject_dependencies(root):
    assert set(_environment(root)) == _pyproject_deps(root)


def test_environment_yml_versions_match_the_pins(root):
    pins = _pins(root)
    for name, version in _environment(root).items():
        assert pins.get(name) == version, (
            f"{name}: environment.yml {version} vs constraints {pins.get(name)}"
        )


def test_every_dependency_is_pinned(root):
    missing = _pyproject_deps(root) - set(_pins(root))
    assert not missing, f"not pinned in requirements/constraints.txt: {sorted(missing)}"


def test_ci_runs_the_readme_test_command(root):
    readme = (root / "README.md").read_text()
    assert "make reports" in readme and "make test" in readme
    ci = (root / ".ci/run").read_text()
    assert re.search(r"^make test$", ci, re.M)


def test_make_installs_from_the_projects_own_pins(root):
    makefile = (root / "Makefile").read_text()
    assert "--require-hashes -r requirements/lock.txt" in makefile  # tests/test_lock.py
    assert "ipykernel install --sys-prefix --name datajusta" in makefile
    for target in ("reports:", "test:", "lab:", "lint:"):
        assert re.search(rf"^{target}", makefile, re.M), target


def test_outputs_are_ignored_but_documented(root):
    ignore = (root / ".gitignore").read_text().splitlines()
    assert "outputs/*" in ignore and "!outputs/README.md" in ignore
    assert (root / "outputs/README.md").exists()
