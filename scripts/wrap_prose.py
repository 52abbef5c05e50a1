"""Wrap every language-tagged Markdown cell of the notebooks in ``<div class="dj-prose"
lang="..">`` so that JupyterLab shows only the notebook's language (``datajusta_lib/lab.py``).
Idempotent; keeps the notebooks' JSON layout. Run from the repository root:

    .venv/bin/python scripts/wrap_prose.py notebooks/*.ipynb
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datajusta_lib.analysis.lab import cell_language, wrap_cell_source  # noqa: E402


def main(paths: list[str]) -> int:
    for p in paths:
        raw = Path(p).read_text(encoding="utf-8")
        nb = json.loads(raw)
        changed = 0
        for cell in nb["cells"]:
            lang = cell_language(cell)
            if lang is None:
                continue
            new = wrap_cell_source(cell["source"], lang)
            if new != cell["source"]:
                cell["source"] = new
                changed += 1
        out = json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False, separators=(",", ": "))
        Path(p).write_text(out + "\n", encoding="utf-8")
        print(f"{p}: {changed} prose cells wrapped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
