"""Small report lists and notebooks for the renderer tests (built in a temporary folder)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import yaml

KERNELSPEC = {"name": "datajusta", "display_name": "Python (datajusta)", "language": "python"}


def tiny_notebook(path: Path, *, records: bool = False, marker: str = "", extra: str = "") -> Path:
    """A thin report notebook following the project conventions: a parameters cell, narrative
    per language, a banner and one gated table. ``extra`` is appended as a code cell."""
    params = 'case_study = "trafficking"\nlang = "es"\n' + (
        'source = "synthetic"\n' if records else ""
    )
    cells = [
        nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import pandas as pd\nimport datajusta_lib as dj\n"
            + ("dj.banner(source, lang)\n" if records else 'dj.banner("published", lang)\n')
            + 'dj.say(f"# Caso: {case_study} {lang} '
            + marker
            + '")'
        ),
        nbformat.v4.new_markdown_cell("Texto en español.", metadata={"tags": ["lang-es"]}),
        nbformat.v4.new_markdown_cell("Text in English.", metadata={"tags": ["lang-en"]}),
        nbformat.v4.new_code_cell(
            'dj.show_table(pd.DataFrame({"Valor": [12, 30], "Fuente": ["https://example.org/a", "b"]}),\n'
            '              caption="Tabla de prueba", source="Fuente: prueba", name="prueba", lang=lang)'
        ),
    ]
    if extra:
        cells.append(nbformat.v4.new_code_cell(extra))
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def report(rid: str, notebook: str, *, languages=("es", "en"), records=False, params=None) -> dict:
    return {
        "id": rid,
        "notebook": notebook,
        "title": {"es": f"Informe {rid}", "en": f"Report {rid}"},
        "description": {"es": f"Descripción de {rid}.", "en": f"Description of {rid}."},
        "languages": list(languages),
        "data": ["records"] if records else ["published"],
        "parameters": params if params is not None else [{"case_study": "trafficking"}],
    }


def write_reports(path: Path, reports: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"reports": reports}, allow_unicode=True), encoding="utf-8")
    return path


def copy_project(base: Path, dest: Path) -> Path:
    """A copy of a built test project (notebooks, report list, outputs with site and cache)."""
    shutil.copytree(base, dest, symlinks=True)
    return dest


def snapshot(site: Path) -> dict[str, tuple[int, bytes]]:
    """Every file of a site with its inode and bytes: equal snapshots = untouched site."""
    return {
        p.relative_to(site).as_posix(): (p.stat().st_ino, p.read_bytes())
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


def manifest(site: Path) -> dict:
    return json.loads((site / "manifest.json").read_text(encoding="utf-8"))


def without_render_stamps(html: str) -> str:
    """A page's HTML without what legitimately differs between two renders of it."""
    import re

    return re.sub(r'<dd class="dj-rendered-at">[^<]*</dd>', "", html)
