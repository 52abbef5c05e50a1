"""Compare two rendered sites apart from provenance: the visible text of every page (scripts,
styles and the provenance footer left out; images compared by their data), and every CSV,
image and stylesheet byte for byte. Used to check that a refactoring changed no page:

    .venv/bin/python scripts/compare_sites.py OLD_SITE NEW_SITE

Prints the files found in one site only, each page or file that differs (with the first
differing lines), and a count; exits 1 when anything differs.
"""

from __future__ import annotations

import difflib
import hashlib
import sys
from html.parser import HTMLParser
from pathlib import Path


class _Text(HTMLParser):
    """Visible text of a page; images as a hash of their data; the footer left out."""

    def __init__(self):
        super().__init__()
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "footer"):
            self.skip += 1
        if tag == "img":
            src = dict(attrs).get("src", "")
            self.out.append("IMG:" + hashlib.sha256(src.encode()).hexdigest()[:12])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "footer") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.out.append(" ".join(data.split()))


def page_text(path: Path) -> list[str]:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.out


def _compared_bytes(rel: Path) -> bool:
    return rel.suffix in (".csv", ".png", ".svg", ".css", ".json") and rel.name != "manifest.json"


def compare(a: Path, b: Path) -> int:
    pa = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    pb = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    print("only in the first:", sorted(map(str, pa - pb))[:10])
    print("only in the second:", sorted(map(str, pb - pa))[:10])
    differing = len(pa ^ pb)
    for rel in sorted(pa & pb):
        if rel.suffix == ".html":
            ta, tb = page_text(a / rel), page_text(b / rel)
            if ta != tb:
                differing += 1
                lines = [
                    line
                    for line in difflib.unified_diff(ta, tb, lineterm="", n=0)
                    if line[:1] in "+-" and line[:3] not in ("+++", "---")
                ]
                print(f"page differs: {rel} ({len(lines)} lines), e.g. {lines[:4]}")
        elif _compared_bytes(rel) and (a / rel).read_bytes() != (b / rel).read_bytes():
            differing += 1
            print(f"bytes differ: {rel}")
    print(f"files compared: {len(pa & pb)}, differing: {differing}")
    return 1 if differing else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(compare(Path(sys.argv[1]), Path(sys.argv[2])))
