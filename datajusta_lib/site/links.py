"""Language switches that would point at a page the site does not have.

A page's header links to the same page in the other language (``../en/<page>.html``). When only
one language of a page is in the site (``datajusta render --only X --lang en`` from an empty
outputs folder, or a page whose other language failed on its first render), that link would be
broken and the site would fail its self-containment check. Such a switch is pointed at the other
language's index instead, in the assembled site only (the cached page is not changed).
"""

from __future__ import annotations

from pathlib import Path

from ..core.i18n import LANGS


def fix_language_switches(site: Path, records: list[dict], pages: dict) -> list[str]:
    """Point the switch of every page whose other-language version is not in ``site`` at the
    other language's index; returns the pages changed."""
    present = {r["page"] for r in records if r.get("in_site")}
    changed = []
    for rel in sorted(present):
        page = pages[rel]
        for other in (lg for lg in LANGS if lg != page.lang):
            twin = f"{other}/{page.slug}.html"
            if twin in present:
                continue
            path = site / rel
            html = path.read_text(encoding="utf-8")
            old = f'class="dj-lang" href="../{twin}"'
            if old not in html:
                continue
            index = "../index.html" if other == "es" else f"../{other}/index.html"
            path.write_text(html.replace(old, f'class="dj-lang" href="{index}"'), encoding="utf-8")
            changed.append(rel)
    return changed
