"""Render the report list into a static site.

A report (``reports.yaml``) is a notebook plus parameter sets and languages; each
combination is a *page*. Rendering a page = execute with papermill, then convert to HTML
in-process with nbconvert (code, prompts and parameter cells hidden; cells tagged for the
other language removed) with a self-contained template, then extract the stamped tables as
downloadable CSVs. The site index is built with jinja2.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import html
import json
import re
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jinja2
import nbformat
import papermill as pm
import yaml
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

from . import __version__
from .canon import case_studies, case_study_label
from .display import TABLE_LINK_PREFIX
from .i18n import LANGS, check_lang, text
from .paths import outputs_dir, project_root
from .publish import TABLE_MIMETYPE

TEMPLATES = Path(__file__).parent / "templates"
KERNEL = "datajusta"
CROSS = "cross_cutting"


# ----------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class Report:
    id: str
    notebook: Path
    title: dict
    description: dict
    languages: tuple[str, ...]
    data: tuple[str, ...]
    parameters: tuple[dict, ...]


@dataclass(frozen=True)
class Page:
    report: Report
    params: dict  # the report's parameter set (without lang/source)
    lang: str
    source: str

    @property
    def slug(self) -> str:
        parts = [self.report.id, *(_slugify(str(v)) for v in self.params.values())]
        return "--".join(parts)

    @property
    def relpath(self) -> str:
        return f"{self.lang}/{self.slug}.html"

    @property
    def uses_records(self) -> bool:
        return "records" in self.report.data

    @property
    def synthetic(self) -> bool:
        return self.uses_records and self.source == "synthetic"

    @property
    def parameters(self) -> dict:
        p = dict(self.params, lang=self.lang)
        if self.uses_records:
            p["source"] = self.source
        return p

    @property
    def group(self) -> str:
        cs = self.params.get("case_study")
        return cs if cs in case_studies() else CROSS

    @property
    def title(self) -> str:
        base = self.report.title[self.lang]
        cs = self.params.get("case_study")
        extra = [case_study_label(cs, self.lang)] if cs in case_studies() else []
        extra += [str(v) for k, v in self.params.items() if k != "case_study"]
        return f"{base}: {' · '.join(extra)}" if extra else base


def _slugify(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "x"


def load_reports(path: Path | None = None) -> list[Report]:
    path = Path(path or project_root() / "reports.yaml")
    with open(path, encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)
    reports, seen = [], set()
    for i, r in enumerate(spec.get("reports", [])):
        where = f"{path}: report #{i + 1}"
        missing = {"id", "notebook", "title", "description", "parameters"} - set(r)
        if missing:
            raise ValueError(f"{where} lacks {sorted(missing)}")
        if r["id"] in seen:
            raise ValueError(f"{where}: duplicate report id {r['id']!r}")
        seen.add(r["id"])
        notebook = project_root() / r["notebook"]
        if not notebook.is_file():
            raise ValueError(f"{where} ({r['id']}): notebook {r['notebook']} does not exist")
        languages = tuple(r.get("languages", LANGS))
        for lang in languages:
            check_lang(lang)
            if lang not in r["title"] or lang not in r["description"]:
                raise ValueError(f"{where} ({r['id']}): title and description need {lang!r}")
        reports.append(
            Report(
                id=r["id"],
                notebook=notebook,
                title=r["title"],
                description=r["description"],
                languages=languages,
                data=tuple(r.get("data", ["records"])),
                parameters=tuple(r["parameters"] or [{}]),
            )
        )
    return reports


def plan_pages(
    reports: list[Report], *, only: str | None = None, lang: str | None = None, source: str = "synthetic"
) -> list[Page]:
    if source not in ("synthetic", "private"):
        raise ValueError(f"source must be synthetic or private, got {source!r}")
    pages = [
        Page(r, dict(params), lg, source)
        for r in reports
        for params in r.parameters
        for lg in r.languages
        if lang is None or lg == lang
    ]
    if only:
        pages = [p for p in pages if fnmatch.fnmatch(p.report.id, only) or fnmatch.fnmatch(p.slug, only)]
    return pages


# ----------------------------------------------------------------------------- execution
def execute_page(page: Page, output: Path) -> nbformat.NotebookNode:
    """Run the page's notebook with papermill; raises papermill's error on a failing cell."""
    output.parent.mkdir(parents=True, exist_ok=True)
    return pm.execute_notebook(
        str(page.report.notebook),
        str(output),
        parameters=page.parameters,
        kernel_name=KERNEL,
        cwd=str(page.report.notebook.parent),
        progress_bar=False,
        log_output=False,
    )


# ----------------------------------------------------------------------------- conversion
@cache
def site_css() -> str:
    return (TEMPLATES / "site.css").read_text(encoding="utf-8")


def _exporter(lang: str) -> HTMLExporter:
    other = [f"lang-{lg}" for lg in LANGS if lg != lang]
    remover = TagRemovePreprocessor(
        remove_cell_tags={"parameters", "injected-parameters", *other}, enabled=True
    )
    exporter = HTMLExporter(
        template_name="datajusta",
        extra_template_basedirs=[str(TEMPLATES)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(remover, enabled=True)
    return exporter


def page_labels(lang: str) -> dict:
    keys = ["skip", "nav", "provenance", "parameters", "library_version", "commit",
            "data_hashes", "render_time", "back_to_index"]
    return {k: text(k, lang) for k in keys}


def extract_tables(nb: nbformat.NotebookNode) -> list[dict]:
    """The stamped tables a notebook displayed (see datajusta_lib.publish)."""
    tables = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            stamp = out.get("data", {}).get(TABLE_MIMETYPE)
            if stamp is not None:
                tables.append(dict(stamp))
    return tables


def check_table_stamp(stamp: dict) -> None:
    """Refuse a table that did not pass the publish gate or was altered after it."""
    gate = stamp.get("gate") or {}
    if not gate.get("passed"):
        raise ValueError(f"table {stamp.get('name')!r} did not pass the publish gate: {gate}")
    digest = hashlib.sha256(stamp["csv"].encode("utf-8")).hexdigest()
    if digest != stamp.get("sha256"):
        raise ValueError(f"table {stamp.get('name')!r} changed after the publish gate")


def convert_page(nb: nbformat.NotebookNode, page: Page, context: dict) -> tuple[str, list[dict]]:
    """HTML for one executed page, and the tables to write next to it."""
    tables = extract_tables(nb)
    for stamp in tables:
        check_table_stamp(stamp)
    other = [lg for lg in LANGS if lg != page.lang][0]
    resources = {
        "datajusta": {
            "lang": page.lang,
            "title": page.title,
            "site_title": text("site_title", page.lang),
            "version": __version__,
            "site_css": site_css(),
            "labels": page_labels(page.lang),
            "index_href": "../index.html" if page.lang == "es" else "index.html",
            "other_lang": other,
            "other_lang_href": f"../{other}/{page.slug}.html",
            "other_lang_label": text("other_language_link", page.lang),
            "synthetic_banner": text("banner_synthetic", page.lang) if page.synthetic else "",
            "parameters_text": json.dumps(page.parameters, ensure_ascii=False),
            "commit": context["commit"],
            "data_hashes": context["data_hashes"],
            "rendered_at": context["rendered_at"],
        }
    }
    body, _ = _exporter(page.lang).from_notebook_node(nb, resources=resources)
    table_dir = f"tables/{page.slug}/"
    body = body.replace(TABLE_LINK_PREFIX, table_dir)
    return body, tables


# ----------------------------------------------------------------------------- the site
def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=project_root(), capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=project_root(), capture_output=True, text=True, check=True,
        ).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def data_hashes(source: str) -> dict[str, str]:
    """Fingerprints of the data a render reads (published figures, and records metadata)."""
    root = project_root()
    hashes = {"data/published/figures.csv": file_sha256(root / "data/published/figures.csv")}
    from .paths import private_dir, synthetic_dir

    records = synthetic_dir() if source == "synthetic" else private_dir()
    if records.is_dir():
        h = hashlib.sha256()
        for f in sorted(p for p in records.rglob("*") if p.is_file() and "_truth" not in p.parts):
            h.update(str(f.relative_to(records)).encode())
            h.update(file_sha256(f).encode())
        hashes[f"records ({source})"] = h.hexdigest()
    return hashes


def build_index(pages: list[Page], lang: str, rendered_at: dict[str, str], commit: str) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
    )
    order = [*case_studies(), CROSS]
    groups = []
    for key in order:
        in_group = [p for p in pages if p.group == key and p.lang == lang]
        if not in_group:
            continue
        cards = []
        for p in in_group:
            langs = [q for q in pages if q.slug == p.slug]
            href_prefix = "" if lang == "es" else "../"
            cards.append(
                {
                    "title": p.title,
                    "description": p.report.description[lang],
                    "href": f"{href_prefix}{p.relpath}",
                    "languages": [
                        {"lang": q.lang, "label": text("language_name", q.lang), "href": f"{href_prefix}{q.relpath}"}
                        for q in langs
                    ],
                    "rendered_at": rendered_at.get(p.relpath, "—"),
                    "synthetic": p.synthetic,
                }
            )
        title = case_study_label(key, lang) if key in case_studies() else text("cross_cutting", lang)
        groups.append({"key": key, "title": title, "cards": cards})
    other = [lg for lg in LANGS if lg != lang][0]
    labels = {k: text(k, lang) for k in [
        "site_title", "site_tagline", "languages", "last_rendered", "other_language_link",
        "skip", "nav", "synthetic_short", "index_synthetic_note", "index_footer", "commit"]}
    labels["other_lang_link"] = labels.pop("other_language_link")
    return env.get_template("site_index.html.j2").render(
        lang=lang,
        labels=labels,
        groups=groups,
        any_synthetic=any(p.synthetic for p in pages),
        site_css=site_css(),
        version=__version__,
        commit=commit,
        index_href="index.html",
        other_lang=other,
        other_lang_href="en/index.html" if lang == "es" else "../index.html",
    )


@dataclass
class RenderResult:
    rendered: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    site_dir: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.failed


def render_site(
    *,
    only: str | None = None,
    jobs: int | None = None,
    lang: str | None = None,
    source: str = "synthetic",
    force: bool = False,
    reports_file: Path | None = None,
    site_dir: Path | None = None,
) -> RenderResult:
    """Render every page of the plan sequentially into ``site_dir`` (default outputs/site)."""
    site_dir = Path(site_dir or outputs_dir() / "site")
    work = outputs_dir() / "executed"
    pages = plan_pages(load_reports(reports_file), only=only, lang=lang, source=source)
    context = {
        "commit": git_commit(),
        "data_hashes": data_hashes(source),
        "rendered_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    result = RenderResult(site_dir=site_dir)
    rendered_at = {}
    for page in pages:
        try:
            nb = execute_page(page, work / page.relpath.replace(".html", ".ipynb"))
            body, tables = convert_page(nb, page, context)
        except Exception as exc:  # one failing page must not stop the others
            result.failed[page.relpath] = f"{type(exc).__name__}: {exc}"
            continue
        out = site_dir / page.relpath
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(body, encoding="utf-8")
        for stamp in tables:
            csv_path = out.parent / "tables" / page.slug / f"{stamp['name']}.csv"
            csv_path.parent.mkdir(parents=True, exist_ok=True)
            csv_path.write_text(stamp["csv"], encoding="utf-8")
        rendered_at[page.relpath] = context["rendered_at"]
        result.rendered.append(page.relpath)
    all_pages = plan_pages(load_reports(reports_file), source=source)
    for lg in LANGS:
        index = site_dir / ("index.html" if lg == "es" else f"{lg}/index.html")
        index.parent.mkdir(parents=True, exist_ok=True)
        index.write_text(build_index(all_pages, lg, rendered_at, context["commit"]), encoding="utf-8")
    for relpath, error in result.failed.items():
        print(f"FAILED {relpath}: {html.unescape(error)[:2000]}")
    return result
