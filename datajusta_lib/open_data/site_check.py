"""Render check: real data are labelled real, synthetic data synthetic, on every page.

Run by ``datajusta render`` on the complete site before it replaces the old one
(``render.SITE_CHECKS``). On each page it reads every ``<figure class="dj-figure">`` (its
image alt text, caption and source line) and the section headings, and reports:

- a real-data figure (source line "Datos reales · ..." / "Real data · ...") whose alt text,
  caption or source mentions synthetic data;
- a figure whose alt text says "Datos reales." / "Real data." without a real-data source
  line, or a synthetic figure (its text mentions synthetic data) that says it is real;
- inside a page's real-data section (from its heading to the heading of the synthetic
  demonstration) a figure that is not a real-data figure, and after that heading a
  real-data figure;
- a case-study or territorial page with fewer than three real-data figures.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from ..core.i18n import LANGS

REAL_SOURCE = ("Datos reales ·", "Real data ·")
REAL_ALT = ("Datos reales.", "Real data.")
SYNTHETIC = re.compile(r"sint[ée]tic|synthetic", re.IGNORECASE)
MIN_REAL_FIGURES = 3
PAGES_WITH_REAL_DATA = ("trafficking", "attempted_femicide", "protest_violence", "territorial")


def _headings() -> tuple[set[str], set[str]]:
    from ..core.i18n import text

    real = {
        text(f"open_data.{k}", lang) for k in ("real_heading", "terr_heading") for lang in LANGS
    }
    synthetic = {text("open_data.synthetic_heading", lang) for lang in LANGS}
    return real, synthetic


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple] = []  # ("heading", text, line) | ("figure", dict, line)
        self._fig: dict | None = None
        self._in: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "figure" and "dj-figure" in cls:
            self._fig = {"alt": "", "caption": "", "source": "", "line": self.getpos()[0]}
        elif tag == "img" and self._fig is not None:
            self._fig["alt"] = a.get("alt") or ""
        elif tag in ("h1", "h2", "h3"):
            self._in, self._buf = "heading", []
        elif tag == "figcaption" and self._fig is not None:
            self._in, self._buf = "caption", []

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3") and self._in == "heading":
            text = "".join(self._buf).replace("¶", "").strip()
            self.items.append(("heading", text, self.getpos()[0]))
            self._in = None
        elif tag == "figcaption" and self._in == "caption" and self._fig is not None:
            self._fig["caption"] = "".join(self._buf).strip()
            self._in = None
        elif tag == "figure" and self._fig is not None:
            self.items.append(("figure", self._fig, self._fig["line"]))
            self._fig = None

    def handle_data(self, data):
        if self._in:
            self._buf.append(data)


def _is_real(fig: dict) -> bool:
    # the source line is the caption's last paragraph; it starts the caption when there is no caption text
    text = fig["caption"]
    return any(marker in text for marker in REAL_SOURCE)


def check_page(text: str, name: str) -> tuple[list[str], int]:
    """Problems on one page and its number of real-data figures."""
    real_heads, synthetic_heads = _headings()
    parser = _Page()
    parser.feed(text)
    parser.close()
    problems, n_real, section = [], 0, None
    for kind, item, line in parser.items:
        if kind == "heading":
            if item in real_heads:
                section = "real"
            elif item in synthetic_heads:
                section = "synthetic"
            continue
        real = _is_real(item)
        n_real += real
        all_text = " ".join((item["alt"], item["caption"]))
        where = f"{name}:{line}"
        if real and SYNTHETIC.search(all_text):
            problems.append(f"{where}: a real-data figure mentions synthetic data")
        if not real and item["alt"].startswith(REAL_ALT):
            problems.append(
                f"{where}: a figure says it shows real data without a real-data source line"
            )
        if section == "real" and not real:
            problems.append(
                f"{where}: a figure in the real-data section that is not labelled real data"
            )
        if section == "synthetic" and real:
            problems.append(f"{where}: a real-data figure in the synthetic demonstration")
    return problems, n_real


def check_labels(site_dir) -> list[str]:
    """Render hook (``render.SITE_CHECKS``): the problems over the whole site."""
    site = Path(site_dir)
    problems = []
    for page in sorted(site.rglob("*.html")):
        rel = page.relative_to(site).as_posix()
        found, n_real = check_page(page.read_text(encoding="utf-8"), rel)
        problems += found
        if page.name.startswith(PAGES_WITH_REAL_DATA) and n_real < MIN_REAL_FIGURES:
            problems.append(
                f"{rel}: {n_real} real-data figures (at least {MIN_REAL_FIGURES} expected)"
            )
    return problems
