"""Checks that a rendered site tells the truth (issue 13), run by the tests over the site.

- :func:`cross_unit_totals`: no published table adds up rows of different institutions (each
  counts in its own unit: persons, cases, detentions...).
- :func:`code_in_reader_text`: no identifier, code or file name in the text a reader reads
  (prose, headings, link text, table cells), and no English on Spanish pages.

Each returns a list of problems (``file: what``); empty when the site is clean.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

# header of the label column of a table whose rows are institutions (lists)
INSTITUTION_COLUMNS = {"Institución", "Institution", "Lista", "List"}
TOTAL = "Total"


def _site_tables(site: Path):
    """(page, table record, CSV path) for every table the manifest lists."""
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    for rec in manifest.get("pages", []):
        if not rec.get("in_site"):
            continue
        for t in rec.get("tables", []):
            yield rec["page"], t, site / Path(rec["page"]).parent / t["file"]


def cross_unit_totals(site_dir) -> list[str]:
    """Tables whose rows are institutions and whose last row adds them up."""
    site = Path(site_dir)
    problems = []
    for page, t, path in _site_tables(site):
        if not path.is_file():
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if frame.empty or frame.columns[0] not in INSTITUTION_COLUMNS:
            continue
        if str(frame.iloc[-1, 0]).strip() == TOTAL:
            problems.append(
                f"{page}: table {t['name']!r} adds up {len(frame) - 1} institutions in a "
                f"{TOTAL!r} row ({', '.join(frame.iloc[:-1, 0])})"
            )
    return problems


# ---------------------------------------------------------------------------- code in reader text
_READER_TAGS = ("h1", "h2", "h3", "h4", "p", "li", "a", "th", "td", "caption", "figcaption", "dt")
_CODE_PATTERNS = {
    # a column name quoted as such («MOTIVO_DETENCION», “MOTIVO_DETENCION”) is a quotation
    "identifier": re.compile(r"(?<![«“\w])[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+(?![\w»”])"),
    "file name": re.compile(
        r"\b[\w.-]+\.(?:ya?ml|csv|json|py|ipynb|md|parquet|xlsx)\b|\bdata/[\w./-]*|\bdatajusta_lib\b"
    ),
    "missing-value code": re.compile(r"^(?:None|nan|NaN|<NA>|NaT|null)$"),
}
# A source address (a web address, or a repository named by its host) is a citation the page
# must show, not code: it is left out before the patterns are applied.
_ADDRESS = re.compile(r"(?:https?://|\b(?:www\.|github\.com/))\S+")
# English words that never appear in Spanish prose (legal terms of art stay Spanish anyway)
_ENGLISH = re.compile(r"\b(?:the|and|with|which|from|records|institution|unknown)\b")


def reader_text(page_html: str) -> list[tuple[str, str]]:
    """(tag, text) of every element a reader reads on a page: headings, paragraphs, list
    items, links, table cells, captions, the title. The provenance footer (commit, notebook,
    fingerprints: for reproducing the page) and ``<code>`` in it are not reader text."""
    import bs4

    soup = bs4.BeautifulSoup(page_html, "html.parser")
    for tag in soup(["script", "style", "footer"]):
        tag.decompose()
    page_lang = (soup.html.get("lang") if soup.html else None) or ""
    for tag in soup.select("[lang]"):  # a passage marked as another language (a cited title)
        other = tag.name != "html" and not tag.get("lang", "").startswith(page_lang)
        prose = tag.name == "div" and "dj-prose" in (tag.get("class") or [])
        if other and not prose:
            tag.decompose()
    for anchor in soup.select("a.anchor-link"):
        anchor.decompose()
    out = []
    if soup.title:
        out.append(("title", soup.title.get_text(" ", strip=True)))
    for el in soup.find_all(_READER_TAGS):
        if el.find(_READER_TAGS):  # the innermost element speaks for itself
            own = "".join(t for t in el.find_all(string=True, recursive=False))
            value = " ".join(own.split())
        else:
            value = " ".join(el.get_text(" ").split())
        if value:
            out.append((el.name, value))
    return out


def code_in_reader_text(site_dir, pages: str = "*/*.html") -> list[str]:
    """Identifiers, file names, missing-value codes in reader text; English on Spanish pages."""
    site = Path(site_dir)
    problems = []
    files = sorted(site.glob(pages)) + ([site / "index.html"] if pages == "*/*.html" else [])
    for path in files:
        rel = path.relative_to(site).as_posix()
        spanish = not rel.startswith("en/")
        seen = set()
        for tag, value in reader_text(path.read_text(encoding="utf-8")):
            value = _ADDRESS.sub("", value).strip() or value
            for what, pattern in _CODE_PATTERNS.items():
                m = pattern.search(value)
                if m and (what, m.group(0)) not in seen:
                    seen.add((what, m.group(0)))
                    problems.append(f"{rel}: {what} {m.group(0)!r} in <{tag}>: {value[:120]}")
            if spanish:
                m = _ENGLISH.search(value)
                if m and ("english", value[:60]) not in seen:
                    seen.add(("english", value[:60]))
                    problems.append(f"{rel}: English {m.group(0)!r} in <{tag}>: {value[:120]}")
    return problems


# ---------------------------------------------------------------------------- one title per page
def page_titles(page_html: str) -> dict:
    """The three names of a page: ``title`` (without the site's name), ``breadcrumb`` (its
    last item) and ``heading`` (the first h1, without its anchor)."""
    import bs4

    soup = bs4.BeautifulSoup(page_html, "html.parser")
    for anchor in soup.select("a.anchor-link"):
        anchor.decompose()
    title = soup.title.get_text(" ", strip=True).split(" — ")[0] if soup.title else None
    crumbs = soup.select("nav[aria-label] li, .dj-breadcrumbs li, nav li")
    crumb = " ".join(crumbs[-1].get_text(" ").split()) if crumbs else None
    h1 = soup.find("h1")
    heading = " ".join(h1.get_text(" ").split()).rstrip(" ¶") if h1 else None
    return {"title": title, "breadcrumb": crumb, "heading": heading}


def title_mismatches(site_dir) -> list[str]:
    site = Path(site_dir)
    problems = []
    for path in sorted(p for p in site.glob("*/*.html") if p.name != "index.html"):
        names = page_titles(path.read_text(encoding="utf-8"))
        if len(set(names.values())) != 1:
            problems.append(f"{path.relative_to(site).as_posix()}: {names}")
    return problems
