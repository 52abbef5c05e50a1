"""Two reading rules of the library (issue 11): no function so long that it cannot be read
in one screen or two, and every reader-facing string in the one text lookup (``data/i18n/``),
not in a dict of the module that prints it."""

from __future__ import annotations

import ast
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[1] / "datajusta_lib"
MAX_FUNCTION_LINES = 100  # signature and docstring included


def long_functions(library: Path = LIBRARY, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    found = []
    for path in sorted(library.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > limit:
                    where = path.relative_to(library.parent)
                    found.append(f"{where}:{node.lineno} {node.name} ({length} lines)")
    return found


def inline_translations(library: Path = LIBRARY) -> list[str]:
    """Dict literals whose keys are exactly the page languages with string values."""
    found = []
    for path in sorted(library.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Dict) or len(node.keys) != 2:
                continue
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            texts = all(
                isinstance(v, (ast.Constant, ast.JoinedStr, ast.BinOp, ast.Dict))
                for v in node.values
            )
            if keys == {"es", "en"} and texts:
                found.append(f"{path.relative_to(library.parent)}:{node.lineno}")
    return found


def test_no_function_is_longer_than_the_budget():
    assert long_functions() == []


def test_reader_facing_strings_live_in_the_text_lookup():
    assert inline_translations() == []


def test_the_rules_catch_a_long_function_and_an_inline_translation(tmp_path):
    lib = tmp_path / "datajusta_lib"
    lib.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (lib / "long.py").write_text(f"def f():\n{body}\n")
    (lib / "texts.py").write_text('NOTE = {"es": "hola", "en": "hello"}\n')
    assert long_functions(lib) == [f"datajusta_lib/long.py:1 f ({MAX_FUNCTION_LINES + 1} lines)"]
    assert inline_translations(lib) == ["datajusta_lib/texts.py:1"]
