"""Ad-hoc reports and sweeps, outside the public site: ``datajusta report``.

A team lead re-runs a report with other parameters::

    datajusta report trafficking -p region 13 -p period_start 2019-01-01
    datajusta report trafficking -p region all          # a sweep: one page per region

``plan`` resolves the report (an id of ``reports.yaml`` or a notebook path), checks every
parameter against the notebook's declarations and the canonical vocabulary
(``params``), expands sweeps, and decides the output folder, all before anything is
executed: a bad parameter is an error (exit 2) and no kernel starts. ``render`` then hands the
ad-hoc report to ``render.render_site`` with the output folder as its site: the pages go
through the same execution (parallel, warm kernels), page cache, disclosure gate, identifier
scan and self-containment checks as the public site, and the folder gets its own index in each
language, its assets, the pages' CSVs and a manifest. It is a small self-contained site:
open ``index.html`` (or the page) from disk, zip it, or copy it to any static host.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core.i18n import LANGS, has_text, text
from ..core.paths import SITE_ENV, outputs_dir, project_root
from .params import SWEEP, ParameterError, ParamSpec, expand, read_specs, value_label
from .plan import SOURCES, Page, Report, ReportsError, load_reports, plan_pages


@dataclass
class AdHocPlan:
    """What ``datajusta report`` will render, where (checked; nothing executed yet)."""

    base: Report  # the report as reports.yaml lists it (or built from a notebook)
    report: Report  # the ad-hoc report: its parameter sets and languages
    specs: dict[str, ParamSpec]
    out: Path
    source: str
    swept: list[str] = field(default_factory=list)

    @property
    def pages(self) -> list[Page]:
        return plan_pages([self.report], source=self.source)


def resolve(name: str, reports_file: Path | str | None = None) -> Report:
    """The report called ``name`` in the report list, or the one a notebook path belongs to, or
    (for a notebook the list does not name) a report built from the notebook."""
    reports = load_reports(reports_file)
    by_id = {r.id: r for r in reports}
    if name in by_id:
        return by_id[name]
    path = Path(name)
    if path.suffix == ".ipynb":
        if not path.is_file():
            raise ReportsError(f"{name}: no such notebook")
        for r in reports:
            if r.notebook == path.resolve():
                return r
        return _report_from_notebook(path.resolve())
    raise ReportsError(
        f"unknown report {name!r}; the reports are: {', '.join(by_id)} "
        "(or give the path of a notebook)"
    )


def _report_from_notebook(notebook: Path) -> Report:
    specs = read_specs(notebook)
    if "lang" not in specs:
        raise ReportsError(f"{notebook}: the parameters cell must define lang")
    rid = re.sub(r"[^a-z0-9_]+", "_", notebook.stem.lower()).strip("_") or "report"
    if not rid[0].isalpha():
        rid = f"r_{rid}"
    try:
        shown = notebook.relative_to(project_root()).as_posix()
    except ValueError:
        shown = str(notebook)
    entry = {
        "id": rid,
        "notebook": shown,
        "title": {"es": notebook.stem, "en": notebook.stem},
        "description": {lang: text("report_ad_hoc", lang, notebook=shown) for lang in LANGS},
        "languages": list(LANGS),
        "data": ["records"] if "source" in specs else ["published"],
        "parameters": [{}],
    }
    return _report(notebook, entry)


def _report(notebook: Path, entry: dict) -> Report:
    return Report(
        id=entry["id"],
        notebook=notebook,
        title=entry["title"],
        description=entry["description"],
        languages=tuple(entry["languages"]),
        data=tuple(entry["data"]),
        parameters=tuple(entry["parameters"]),
        entry=json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str),
    )


def plan(
    name: str,
    params: list[tuple[str, str]] | None = None,
    *,
    sweep: list[str] | None = None,
    lang: str = "both",
    source: str = "synthetic",
    out: Path | str | None = None,
    reports_file: Path | str | None = None,
) -> AdHocPlan:
    """Check everything and decide what to render; raise ``ParameterError`` (a parameter) or
    ``ReportsError`` (the report, a language, the source) before anything runs."""
    base = resolve(name, reports_file)
    specs = read_specs(base.notebook)
    given: dict = {}
    for key, value in params or []:
        if key in given:
            raise ParameterError([f"{key} is given twice ({given[key]!r} and {value!r})"])
        given[key] = value
    if source not in SOURCES:
        raise ReportsError(f"--source must be one of {', '.join(SOURCES)}, got {source!r}")
    langs = list(base.languages) if lang == "both" else [lang]
    if lang != "both" and lang not in LANGS:
        raise ReportsError(f"--lang must be es, en or both, got {lang!r}")
    if set(langs) - set(base.languages):
        raise ReportsError(f"report {base.id} has no {lang} version (it has {base.languages})")
    at = f"report {base.id} ({base.notebook_relpath})"
    sets = expand(specs, given, sweep or [], where=at)
    swept = [n for n in specs if n in (sweep or []) or str(given.get(n, "")).lower() == SWEEP]
    fixed = {n: v for n, v in sets[0].items() if n not in swept}
    # The case study decides where a page is listed and what its breadcrumb says.
    if "case_study" in specs and "case_study" not in sets[0]:
        sets = [{"case_study": specs["case_study"].default, **s} for s in sets]
    data = [d for d in base.data if d != "site"]
    entry = {
        **json.loads(base.entry),
        "title": {lg: _title(base.title[lg], fixed, lg) for lg in base.title},
        "languages": langs,
        "data": data,
        "parameters": sets,
        "ad_hoc": True,
    }
    if "site" in base.data:
        # Outside the site, a page that reads the site reads the public one (outputs/site).
        entry["reads_site"] = _public_site_key()
    report = _report(base.notebook, entry)
    if out is None:
        parts = [base.id, *(_slug(v) for v in fixed.values()), *(f"{n}-all" for n in swept)]
        out = outputs_dir() / "reports" / "--".join(parts)
    return AdHocPlan(base, report, specs, Path(out).absolute(), source, swept)


def _title(base: str, fixed: dict, lang: str) -> str:
    labels = []
    for name, value in fixed.items():
        if name == "case_study":
            labels.append(value_label(name, value, lang))
        else:
            key = f"report_parameter_{name}"  # data/i18n/site.yaml
            label = text(key, lang) if has_text(key) else name
            labels.append(f"{label} {value_label(name, value, lang)}")
    return f"{base} ({'; '.join(labels)})" if labels else base


def _slug(value) -> str:
    joined = "-".join(map(str, value)) if isinstance(value, list) else str(value)
    return re.sub(r"[^a-z0-9]+", "-", joined.lower()).strip("-") or "x"


def _public_site_key() -> str:
    try:
        manifest = json.loads((outputs_dir() / "site" / "manifest.json").read_text("utf-8"))
        return manifest.get("site_key", "none")
    except (OSError, ValueError):
        return "none"


def describe_plan(p: AdHocPlan) -> str:
    pages = p.pages
    rows = [f"{len(pages)} page(s) of report {p.base.id} into {p.out}:"]
    rows += [
        f"  {p.out / page.relpath}  {json.dumps(page.parameters, ensure_ascii=False)}"
        for page in pages
    ]
    return "\n".join(rows)


def render(
    p: AdHocPlan,
    *,
    jobs: int | None = None,
    force: bool = False,
    warm_kernels: bool = True,
    console=None,
):
    """Render the planned pages into ``p.out`` through the site's machinery (see the module
    doc); returns the ``render.RenderResult``."""
    from .render import render_site

    if "site" in p.base.data and SITE_ENV not in os.environ:
        os.environ[SITE_ENV] = str(outputs_dir() / "site")  # inherited by the page kernels
    public = (outputs_dir() / "site").absolute()
    if p.out == public or public in p.out.parents:
        raise ReportsError(f"--out {p.out} is inside the public site; choose another folder")
    return render_site(
        reports_file=[p.report],
        site_dir=p.out,
        source=p.source,
        force=force,
        jobs=jobs,
        warm_kernels=warm_kernels,
        console=console,
        prune_cache=False,
    )


def where(p: AdHocPlan, result) -> list[str]:
    """Lines telling where the pages are (for the command's last words)."""
    if result.check_problems:
        return [f"nothing was written to {p.out}: the checks above failed"]
    present = [page for page in p.pages if (p.out / page.relpath).is_file()]
    lines = [f"page: {p.out / page.relpath}" for page in present] if len(present) <= 2 else []
    if len(present) > 2:
        lines.append(f"{len(present)} pages in {p.out}")
    lines.append(f"index: {p.out / 'index.html'} (English: {p.out / 'en' / 'index.html'})")
    lines.append(
        f"share: the folder {p.out} is self-contained (open it from disk, zip it, or copy it "
        "to any static host)"
    )
    return lines
