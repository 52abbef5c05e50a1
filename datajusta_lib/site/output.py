"""Assemble, check and publish the site: index pages, manifest, assets, the atomic swap.

The new site is built in ``<site>/../.site-tmp-<pid>-XXXX`` (same filesystem), checked as a
whole, and only then swapped in: the old site is renamed aside, the new one renamed into place
and the old one removed. A failure before the swap removes the temporary directory and leaves the
old site untouched; an interruption between the two renames is repaired by the next run
(``recover``), which also removes temporary directories of dead runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .. import __version__
from ..core.i18n import LANGS, text
from .execute import TEMPLATES, case_studies, lab_css, page_group_title, page_title, site_labels
from .guard import pid_alive
from .plan import CROSS, Page

_TMP = ".site-tmp-"
_OLD = ".site-old-"


# ----------------------------------------------------------------------------- index pages
def build_index(records: list[dict], pages: dict[str, Page], lang: str, commit: str) -> str:
    """The index in ``lang`` of the pages present in the site, grouped by case study."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    present = {r["page"]: r for r in records if r.get("in_site")}
    root = "" if lang == "es" else "../"
    groups = []
    for key in [*case_studies(), CROSS]:
        in_group = [
            pages[r]
            for r in present
            if pages[r].lang == lang
            and (pages[r].case_study if pages[r].case_study in case_studies() else CROSS) == key
        ]
        cards = []
        for page in in_group:
            rec = present[page.relpath]
            langs = sorted(
                (pages[q] for q in present if pages[q].slug == page.slug),
                key=lambda q: LANGS.index(q.lang),
            )
            cards.append(
                {
                    "title": page_title(page),
                    "description": page.report.description[lang],
                    "href": f"{root}{page.relpath}",
                    "languages": [
                        {
                            "lang": q.lang,
                            "label": text("language_name", q.lang),
                            "href": f"{root}{q.relpath}",
                        }
                        for q in langs
                    ],
                    "rendered_at": rec.get("rendered_at", "—"),
                    "rendered_iso": _iso(rec.get("rendered_at", "")),
                    "synthetic": _synthetic(page, rec),
                }
            )
        if cards:
            groups.append({"key": key, "title": page_group_title(in_group[0]), "cards": cards})
    other = [lg for lg in LANGS if lg != lang][0]
    return env.get_template("site_index.html.j2").render(
        lang=lang,
        labels=site_labels(lang),
        groups=groups,
        any_synthetic=any(_synthetic(pages[r], rec) for r, rec in present.items()),
        version=__version__,
        commit=commit,
        root=root,
        index_href="index.html",
        other_lang=other,
        lang_href="en/index.html" if lang == "es" else "../index.html",
    )


def _synthetic(page: Page, rec: dict) -> bool:
    """Whether the page in the site shows synthetic records: the source it was rendered from
    (a page kept from a render on another source keeps its own)."""
    return page.uses_records and rec.get("source", page.source) == "synthetic"


def _iso(stamp: str) -> str:
    m = re.match(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})", stamp)
    return f"{m[1]}T{m[2]}Z" if m else ""


# ----------------------------------------------------------------------------- building
def new_tmp_dir(site_dir: Path) -> Path:
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{_TMP}{os.getpid()}-", dir=site_dir.parent))


def copy_page(src_html: Path, src_tables: Path, dest_site: Path, relpath: str, slug: str) -> None:
    out = dest_site / relpath
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src_html, out)
    if src_tables.is_dir() and any(src_tables.iterdir()):
        shutil.copytree(src_tables, out.parent / "tables" / slug, dirs_exist_ok=True)


def write_assets(site: Path) -> None:
    assets = site / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    (assets / "jupyterlab.css").write_text(lab_css(), encoding="utf-8")
    shutil.copyfile(TEMPLATES / "site.css", assets / "site.css")


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def read_manifest(site_dir: Path) -> dict:
    try:
        return json.loads((site_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# ----------------------------------------------------------------------------- swap and recovery
def swap_in(tmp: Path, site_dir: Path) -> None:
    """Replace ``site_dir`` by ``tmp`` with two renames; restore the old site if the second fails."""
    old = None
    if site_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f"{_OLD}{os.getpid()}-", dir=site_dir.parent))
        os.replace(site_dir, old)  # replaces the empty placeholder made by mkdtemp
    try:
        os.replace(tmp, site_dir)
    except BaseException:
        if old is not None:
            os.replace(old, site_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def recover(site_dir: Path) -> list[str]:
    """Repair what an interrupted run left: restore an old site renamed aside with no new site in
    place, remove temporary and old directories of runs that are no longer alive."""
    notes = []
    parent = site_dir.parent
    if not parent.is_dir():
        return notes
    for entry in sorted(parent.iterdir()):
        for prefix in (_TMP, _OLD):
            if not entry.name.startswith(prefix):
                continue
            pid = entry.name[len(prefix) :].split("-")[0]
            if pid.isdigit() and pid_alive(int(pid)) and int(pid) != os.getpid():
                continue
            if prefix == _OLD and not site_dir.exists():
                os.replace(entry, site_dir)
                notes.append(
                    f"restored the previous site from {entry.name} (an earlier run was interrupted)"
                )
            else:
                shutil.rmtree(entry, ignore_errors=True)
                notes.append(f"removed {entry.name} left by an interrupted run")
    return notes


@contextlib.contextmanager
def render_lock(outputs: Path):
    """One render at a time per outputs folder (two would overwrite each other's site). Yields
    notes; the lock is the rendering process's alone (``render_guard.outputs_lock``)."""
    from .guard import outputs_lock

    with outputs_lock(outputs) as notes:
        yield notes


# ----------------------------------------------------------------------------- the built-in site check
_LOADING = {  # element -> attributes whose URL the browser fetches when showing the page
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
}
_LOADING_RELS = {
    "stylesheet",
    "icon",
    "preload",
    "prefetch",
    "modulepreload",
    "manifest",
    "apple-touch-icon",
}
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loads: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self._in_style = False
        self.styles: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "style":
            self._in_style = True
        if "style" in a and a["style"]:
            self.styles.append(a["style"])
        if tag == "link" and not set((a.get("rel") or "").lower().split()) & _LOADING_RELS:
            if a.get("href"):
                self.links.append(a["href"])  # rel=alternate, canonical...: not fetched
            return
        for attr in _LOADING.get(tag, ()):
            value = a.get(attr)
            if not value:
                continue
            urls = (
                [part.strip().split(" ")[0] for part in value.split(",")]
                if attr == "srcset"
                else [value]
            )
            self.loads += [u for u in urls if u]
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def page_references(html: str) -> _Refs:
    """The URLs an HTML page loads (``loads``, CSS included) and links to (``links``)."""
    refs = _Refs()
    refs.feed(html)
    for css in refs.styles:
        refs.loads += [m[0] or m[1] for m in _CSS_URL.findall(css)]
    return refs


def _is_remote(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.netloc) or parts.scheme not in ("", "data", "file")


def check_self_contained(site: Path) -> list[str]:
    """Every resource a page or stylesheet loads is a file of the site (no request to any other
    host, no broken reference), and every link inside the site points at an existing file."""
    problems = []
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        refs = page_references(path.read_text(encoding="utf-8"))
        for url in refs.loads:
            if _is_remote(url):
                problems.append(f"{rel}: loads {url} from another host")
            elif not url.startswith(("data:", "#")) and not _resolves(site, path, url):
                problems.append(f"{rel}: loads {url}, which is not in the site")
        for url in refs.links:
            if _is_remote(url) or url.startswith(("#", "mailto:")):
                continue
            if not _resolves(site, path, url):
                problems.append(f"{rel}: links to {url}, which is not in the site")
    for path in sorted(site.rglob("*.css")):
        for m in _CSS_URL.findall(path.read_text(encoding="utf-8")):
            url = m[0] or m[1]
            if _is_remote(url):
                problems.append(
                    f"{path.relative_to(site).as_posix()}: loads {url} from another host"
                )
    return problems


def _resolves(site: Path, page: Path, url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return False  # absolute file:// paths break as soon as the site moves
    target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
    try:
        target.relative_to(site.resolve())
    except ValueError:
        return False
    return target.is_file()
