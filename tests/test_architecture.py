"""The layout's rules (docs/architecture.md): the package reads like the pipeline, and stays so.

The import graph is read from the source (every ``import``, including those inside functions,
which run just as surely when called), so a rule holds for lazy imports too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[1] / "datajusta_lib"

# Which rooms each room may import from (besides itself). Everything flows one way:
# core <- gate <- ingest <- synthetic; ingest <- analysis <- mse; site builds; pages present.
ALLOWED = {
    "core": set(),
    "ingest": {"core", "gate"},  # the gate's identifier patterns mask what ingestion keeps
    "gate": {"core"},
    "synthetic": {"core", "gate", "ingest"},
    "analysis": {"core", "ingest", "gate"},
    "mse": {"core", "ingest", "gate", "analysis"},
    "site": {"core", "gate", "analysis"},
    "open_data": {"core", "ingest", "gate", "analysis", "mse"},
    "linkage": {"core", "ingest", "gate", "analysis", "mse"},
    "pages": {"core", "ingest", "gate", "analysis", "mse", "site", "open_data", "linkage"},
}
# The command line and the public facade (``dj.*``, resolved lazily by name) sit on top.
TOP = {"datajusta_lib", "datajusta_lib.cli"}


def module_name(path: Path, library: Path = LIBRARY) -> str:
    parts = list(path.relative_to(library.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(library: Path = LIBRARY) -> dict[str, set[str]]:
    """{module: the library modules it imports}, relative imports resolved."""
    modules = {module_name(p, library): p for p in library.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    candidate = f"{target}.{alias.name}"
                    found.add(candidate if candidate in modules else target)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else None


def forbidden_imports(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for module, targets in sorted(graph.items()):
        if module in TOP:
            continue
        here = room(module)
        if here is None:
            problems.append(f"{module} stands outside every room ({', '.join(ALLOWED)})")
            continue
        for target in sorted(targets):
            if (
                target == "datajusta_lib"
            ):  # only ``__version__``: the facade imports nothing eagerly
                continue
            there = room(target)
            if target in TOP or (there != here and there not in ALLOWED[here]):
                problems.append(
                    f"{module} imports {target} ({here} may not import {there or target})"
                )
    return problems


def test_the_library_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_every_import_goes_the_allowed_way():
    assert forbidden_imports(import_graph()) == []


def test_every_room_exists_and_says_what_it_is_for():
    for name in ALLOWED:
        init = LIBRARY / name / "__init__.py"
        assert init.is_file(), name
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), name


def test_nothing_imports_a_page_presenter_except_the_command_line():
    graph = import_graph()
    importers = {m for m, targets in graph.items() for t in targets if room(t) == "pages"}
    assert {m for m in importers if room(m) != "pages"} <= TOP


def test_ingestion_never_imports_the_synthetic_generator():
    graph = import_graph()
    ingest = [m for m in graph if room(m) == "ingest"]
    assert ingest, "no ingestion modules found"
    assert not [(m, t) for m in ingest for t in graph[m] if room(t) == "synthetic"]


def _write(tmp: Path, files: dict[str, str]) -> Path:
    for rel, source in files.items():
        path = tmp / "datajusta_lib" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return tmp / "datajusta_lib"


def test_the_checks_catch_a_cycle_and_a_wrong_direction(tmp_path):
    # the rules are only worth having if they can fail: a lazy import back from core to a page
    lib = _write(
        tmp_path,
        {
            "__init__.py": "",
            "core/__init__.py": '"""core"""',
            "core/paths.py": "def f():\n    from ..pages import audit\n",
            "pages/__init__.py": '"""pages"""',
            "pages/audit.py": "from ..core import paths\n",
        },
    )
    graph = import_graph(lib)
    assert cycles(graph) == [["datajusta_lib.core.paths", "datajusta_lib.pages.audit"]]
    assert forbidden_imports(graph) == [
        "datajusta_lib.core.paths imports datajusta_lib.pages.audit (core may not import pages)"
    ]


@pytest.mark.slow
def test_the_site_builder_loads_no_pandas_to_find_that_nothing_changed():
    # the no-change path of `datajusta render` must stay well under a second
    code = (
        "import sys\n"
        "from datajusta_lib.site import cache, plan, render, output\n"
        "from datajusta_lib.core import i18n, paths\n"
        "heavy = sorted(m for m in ('pandas', 'nbconvert', 'scipy', 'matplotlib') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""
