"""What a researcher sees in JupyterLab (issue 13): one language's prose, the site's banner.

The site renders each notebook once per language and drops the other language's cells. In
JupyterLab both languages' Markdown cells are there; each prose cell wraps its text in
``<div class="dj-prose" lang="es">`` (or ``en``), and :func:`lab_style` -- displayed by
``dj.banner`` at the top of every page -- hides the prose (and the cell holding it) whose
language is not the notebook's ``lang``, and styles the data banner exactly as the site
does (the rules are read from the site's own stylesheet, one source of truth).
"""

from __future__ import annotations

import re
from functools import cache

from ..core.i18n import check_lang


@cache
def _site_css() -> str:
    from ..core.paths import site_templates_dir

    return (site_templates_dir() / "site.css").read_text(encoding="utf-8")


def banner_css() -> str:
    """The site's rules for the data banner (and the colours they use)."""
    rules = [
        line
        for line in _site_css().splitlines()
        if line.startswith(":root") or re.match(r"^\.dj-banner[\w-]*[ ,{]", line)
    ]
    return "\n".join(rules)


def language_css(lang: str) -> str:
    """Hide the other language's prose, and in JupyterLab the cell around it."""
    check_lang(lang)
    return (
        f'.dj-prose[lang]:not([lang="{lang}"]) {{ display: none; }}\n'
        f'.jp-Cell:has(.dj-prose[lang]:not([lang="{lang}"])) {{ display: none; }}'
    )


def lab_style(lang: str) -> str:
    """A ``<style>`` element for the top of a notebook's output (harmless on the site)."""
    return f'<style class="dj-lab-style">\n{banner_css()}\n{language_css(lang)}\n</style>'


# ----------------------------------------------------------------------------- the notebooks' prose
def cell_language(cell: dict) -> str | None:
    """``es``/``en`` for a Markdown cell tagged ``lang-es``/``lang-en``, else None."""
    if cell.get("cell_type") != "markdown":
        return None
    tags = cell.get("metadata", {}).get("tags", [])
    langs = [t.removeprefix("lang-") for t in tags if t in ("lang-es", "lang-en")]
    return langs[0] if len(langs) == 1 else None


def _opening(lang: str) -> str:
    return f'<div class="dj-prose" lang="{lang}">'


def is_wrapped(source, lang: str) -> bool:
    text = "".join(source) if isinstance(source, list) else source
    return text.startswith(_opening(lang)) and text.rstrip().endswith("</div>")


def wrap_cell_source(source, lang: str) -> list[str]:
    """The cell's source lines wrapped in the prose ``<div>`` (blank lines around the
    Markdown so that it is still rendered as Markdown); unchanged if already wrapped."""
    lines = source if isinstance(source, list) else source.splitlines(keepends=True)
    if is_wrapped(lines, lang):
        return list(lines)
    body = list(lines)
    if body and not body[-1].endswith("\n"):
        body[-1] += "\n"
    return [_opening(lang) + "\n", "\n", *body, "\n", "</div>"]
