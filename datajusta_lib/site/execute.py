"""Render one page: execute the notebook with papermill, convert it to HTML in-process.

Runs in the renderer's worker processes (see ``render.render_site``). Conversion uses one
``HTMLExporter`` per language per process (building its template environment is the slow part),
built in the parent before the workers fork, so no worker pays for it. Notebook code, prompts and
the parameters cells are hidden; cells tagged for the other language are removed; ``stderr``
output (library warnings) is kept out of the public page and listed in the manifest instead.

Tables reach a page only through the publish gate (``datajusta_lib.gate.publish``): every table
output must carry the gate's stamp, whose CSV becomes the table's download. A page that shows
an unstamped table, a stamp that did not pass the gate or a download link without its table is
refused.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import os
import re
import time
import traceback
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from .. import __version__
from ..core.i18n import LANGS, text
from ..core.paths import site_templates_dir
from .plan import Page

TEMPLATES = site_templates_dir()
KERNEL = "datajusta"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class PageRefused(Exception):
    """The executed page may not be published as it is (the message says why)."""

    def __init__(self, message: str, cell_index: int | None = None, source: str = ""):
        super().__init__(message)
        self.cell_index = cell_index
        self.source = source


@dataclass
class PageTask:
    page: Page
    key: str
    inputs: dict  # what the key is made of (site.cache.page_inputs)
    reason: str  # why the page is rendered (shown in the progress and the manifest)
    notebook_sha: str
    cache_root: Path
    context: dict  # commit, data_hashes (shown in the footer)
    modules: dict  # current hashes of the library modules (site.cache.Fingerprints.modules)
    warm: bool = True
    cell_timeout: float | None = None
    env: dict = field(default_factory=dict)  # environment variables for the kernel


# ----------------------------------------------------------------------------- labels and exporters
@cache
def site_labels(lang: str) -> dict:
    """Site chrome strings: the renderer's own (``data/i18n/site.yaml``) and the page-wide ones
    it shares with the notebooks, all through the one text lookup."""
    import yaml

    from ..core.paths import data_dir

    with open(data_dir() / "i18n" / "site.yaml", encoding="utf-8") as fh:
        own = list(yaml.safe_load(fh))
    keys = [
        "site_title",
        "site_tagline",
        "skip",
        "nav",
        "provenance",
        "parameters",
        "library_version",
        "commit",
        "data_hashes",
        "render_time",
        "back_to_index",
        "other_language_link",
        "language_name",
        "languages",
        "last_rendered",
        "synthetic_short",
        "index_synthetic_note",
        "index_footer",
        "cross_cutting",
        "banner_synthetic",
    ]
    return {k: text(k, lang) for k in [*keys, *own]}


_exporters: dict = {}


def exporter(lang: str):
    """The cached HTMLExporter for ``lang`` (first call builds and warms it up)."""
    if lang not in _exporters:
        from nbconvert import HTMLExporter
        from nbconvert.preprocessors import TagRemovePreprocessor

        other = [f"lang-{lg}" for lg in LANGS if lg != lang]
        remover = TagRemovePreprocessor(
            remove_cell_tags={"parameters", "injected-parameters", "remove-cell", *other},
            enabled=True,
        )
        exp = HTMLExporter(
            template_name="datajusta",
            extra_template_basedirs=[str(TEMPLATES)],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
        )
        exp.register_preprocessor(remover, enabled=True)
        # Convert a notebook with every kind of output once now: templates, markdown and HTML
        # parsers are then warm, and the forked workers inherit them.
        exp.from_notebook_node(_warm_up_notebook(), resources=_resources_stub(lang))
        _exporters[lang] = exp
    return _exporters[lang]


def _warm_up_notebook():
    import nbformat

    v4 = nbformat.v4
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    outputs = [
        v4.new_output("display_data", {"text/html": "<p>x</p><table><tr><td>1</td></tr></table>"}),
        v4.new_output("display_data", {"text/markdown": "**x** `y`"}),
        v4.new_output("display_data", {"image/png": png, "text/plain": "x"}),
        v4.new_output("stream", name="stdout", text="x\n"),
        v4.new_output("execute_result", {"text/plain": "1"}, execution_count=1),
    ]
    cells = [
        v4.new_markdown_cell(
            "# T\n\n*a* [b](#c)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nx = 1\n```"
        ),
        v4.new_code_cell("x = 1", outputs=outputs, execution_count=1),
    ]
    return v4.new_notebook(cells=cells, metadata={"language_info": {"name": "python"}})


def _resources_stub(lang: str) -> dict:
    return {
        "datajusta": {
            "lang": lang,
            "title": "",
            "labels": site_labels(lang),
            "version": "",
            "root": "",
            "index_href": "",
            "lang_href": "",
            "other_lang": "",
            "synthetic": False,
            "parameters_text": "",
            "commit": "",
            "data_hashes": {},
            "rendered_at": "",
            "notebook": "",
            "notebook_sha": "",
            "crumb": "",
            "crumb_href": "",
        }
    }


def lab_css() -> str:
    """The JupyterLab stylesheet the converted cells need (written once to site/assets). Read from
    nbconvert's lab template directly: building an exporter costs seconds."""
    from jupyter_core.paths import jupyter_path

    for base in jupyter_path("nbconvert", "templates"):
        static = Path(base, "lab", "static")
        if (static / "index.css").is_file():
            return "\n".join(
                (static / n).read_text(encoding="utf-8") for n in ("index.css", "theme-light.css")
            )
    raise RuntimeError("nbconvert's 'lab' template (lab/static/index.css) is not installed")


# ----------------------------------------------------------------------------- execute
# Appended to every executed notebook (and removed before conversion): which library modules
# the page imported, so that the cache re-renders it only when one of those changes.
_PROBE = (
    "import json as _dj_json, sys as _dj_sys\n"
    "print(_dj_json.dumps(sorted({getattr(m, '__file__', None) or '' for n, m in list(_dj_sys.modules.items())"
    " if n == 'datajusta_lib' or n.startswith('datajusta_lib.')} - {''})))"
)


def execute(task: PageTask):
    """Run the page's notebook with papermill; returns (executed notebook, library modules used)."""
    import nbformat
    import papermill as pm

    from .kernels import warm_kernel_manager_class

    page = task.page
    os.environ.update(task.env)  # a worker process per render: the kernel inherits these
    nb = nbformat.read(page.report.notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PROBE, metadata={"tags": ["remove-cell"]}))
    # Always this manager: its IPC sockets avoid TCP port races between parallel workers; it
    # forks from the zygote only when one is in use (task.warm), else it spawns as usual.
    kwargs = {"shutdown_kernel": "immediate", "kernel_manager_class": warm_kernel_manager_class()}
    executed = pm.execute_notebook(
        nb,
        None,
        parameters=page.parameters,
        kernel_name=KERNEL,
        cwd=str(page.report.notebook.parent),
        progress_bar=False,
        log_output=False,
        execution_timeout=task.cell_timeout,
        **kwargs,
    )
    probe = executed.cells.pop()
    text_out = "".join(
        o.get("text", "") for o in probe.get("outputs", []) if o.get("name") == "stdout"
    )
    return executed, _library_modules(json.loads(text_out or "[]"), task.modules)


def _library_modules(files: list[str], known: dict) -> dict:
    """{path relative to the repository: sha256} of the library modules a page imported. A module
    loaded from anywhere else than this library gets no hash, so the page is never reused."""
    from .cache import LIBRARY_DIR

    used = {}
    for f in files:
        try:
            rel = Path(f).resolve().relative_to(LIBRARY_DIR.parent.resolve()).as_posix()
        except ValueError:
            rel = f
        used[rel] = known.get(rel, "not-in-this-library")
    return used


# ----------------------------------------------------------------------------- convert
def page_tables(nb) -> list[dict]:
    """The publish-gate stamps of the tables the page displays, checked; refuse anything else."""
    tables, names = [], set()
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            stamp = data.get(_table_mimetype())
            shown = data.get("text/html", "")
            shown = "".join(shown) if isinstance(shown, list) else shown
            if stamp is None:
                if "<table" in shown.lower():
                    raise PageRefused(
                        "shows a table that did not go through the publish gate "
                        "(display tables with dj.show_table)",
                        i,
                        _src(cell),
                    )
                continue
            stamp = dict(stamp)
            gate = stamp.get("gate") or {}
            if not gate.get("passed"):
                raise PageRefused(
                    f"table {stamp.get('name')!r} did not pass the publish gate: {gate}",
                    i,
                    _src(cell),
                )
            if hashlib.sha256(stamp["csv"].encode("utf-8")).hexdigest() != stamp.get("sha256"):
                raise PageRefused(
                    f"table {stamp.get('name')!r} changed after the publish gate", i, _src(cell)
                )
            if (
                not re.fullmatch(r"[A-Za-z0-9_.-]+", stamp.get("name", ""))
                or stamp["name"] in names
            ):
                raise PageRefused(
                    f"table name {stamp.get('name')!r} is not a unique file-safe name",
                    i,
                    _src(cell),
                )
            names.add(stamp["name"])
            stamp["cell_index"] = i
            tables.append(stamp)
    return tables


def _table_mimetype() -> str:
    from ..gate.publish import TABLE_MIMETYPE  # imports pandas and scipy: only where pages are made

    return TABLE_MIMETYPE


def _shows(nb, needle: str) -> bool:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html", "")
            if needle in ("".join(html) if isinstance(html, list) else html):
                return True
    return False


def _src(cell) -> str:
    return "".join(cell.source) if isinstance(cell.source, list) else cell.source


def _without_stderr(nb) -> list[str]:
    """Drop stderr streams from the page (kept for the manifest)."""
    removed = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        keep = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                removed.append(_ANSI.sub("", "".join(out.get("text", "")))[:500])
            else:
                keep.append(out)
        cell.outputs = keep
    return removed


def page_resources(page: Page, context: dict, notebook_sha: str, rendered_at: str) -> dict:
    other = page.other_language()
    labels = site_labels(page.lang)
    index_href = "../index.html" if page.lang == "es" else "index.html"
    if other:
        lang_href = f"../{other}/{page.slug}.html"
    else:  # the report has one language: switch to the other language's index
        other = [lg for lg in LANGS if lg != page.lang][0]
        lang_href = "../index.html" if other == "es" else f"../{other}/index.html"
    crumb_href, crumb = index_href, labels["site_title"]
    if page.case_study:
        crumb_href = f"{index_href}#g-{page.case_study}"
        crumb = page_group_title(page)
    return {
        "datajusta": {
            "lang": page.lang,
            "title": page_title(page),
            "labels": labels,
            "version": __version__,
            "root": "../",
            "index_href": index_href,
            "crumb": crumb,
            "crumb_href": crumb_href,
            "other_lang": other,
            "lang_href": lang_href,
            "synthetic": page.synthetic,
            "parameters_text": json.dumps(page.parameters, ensure_ascii=False),
            "notebook": page.report.notebook_relpath,
            "notebook_sha": notebook_sha,
            "commit": context["commit"],
            "data_hashes": context["data_hashes"],
            "rendered_at": rendered_at,
        }
    }


@cache
def _case_studies_yaml() -> dict:
    # data/canonical.yaml read directly, as canon.canonical() does: importing canon would import
    # pandas (a second or more) in the renderer process, which otherwise never needs it.
    import yaml

    from ..core.paths import data_dir

    with open(data_dir() / "canonical.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)["case_studies"]


def case_studies() -> list[str]:
    return list(_case_studies_yaml())


def case_study_label(case_study: str, lang: str) -> str:
    return _case_studies_yaml()[case_study]["label"][lang]


def page_title(page: Page) -> str:
    """The report's title, followed by what tells its pages apart (a report rendered with
    one parameter set is named by its title alone: "Human trafficking: ...", not "...:
    Human trafficking")."""
    base = page.report.title[page.lang]
    if len(page.report.parameters) == 1:
        return base
    extra = []
    sets = page.report.parameters
    for k, v in page.params.items():
        if len({json.dumps(p.get(k), sort_keys=True, default=str) for p in sets}) == 1:
            continue  # the same in every page of the report: tells no page apart
        if k == "case_study" and v in case_studies():
            extra.append(case_study_label(v, page.lang))
        elif k == "region":
            from .params import value_label

            extra.append(value_label(k, v, page.lang))
        else:
            extra.append(_param_label(v))
    sep = " " if base.endswith("?") else ": "  # "¿…institución? Trata de personas"
    return f"{base}{sep}{' · '.join(extra)}" if extra else base


def _param_label(v) -> str:
    return ", ".join(map(str, v)) if isinstance(v, list) else str(v)


def page_group_title(page: Page) -> str:
    cs = page.case_study
    return (
        case_study_label(cs, page.lang)
        if cs in case_studies()
        else text("cross_cutting", page.lang)
    )


def convert(
    nb, page: Page, context: dict, notebook_sha: str, rendered_at: str
) -> tuple[str, list[dict], list[str]]:
    """(HTML, checked table stamps, removed stderr texts) for one executed page."""
    tables = page_tables(nb)
    stderr = _without_stderr(nb)
    resources = page_resources(page, context, notebook_sha, rendered_at)
    # The renderer guarantees the synthetic-data banner; a page showing it itself gets only one.
    if page.synthetic and _shows(nb, "dj-banner-synthetic"):
        resources["datajusta"]["synthetic"] = False
    body, _ = exporter(page.lang).from_notebook_node(nb, resources=resources)
    names = {t["name"] for t in tables}
    from ..analysis.display import (
        TABLE_LINK_PREFIX,  # display imports pandas: only where pages are made
    )

    for name in re.findall(re.escape(TABLE_LINK_PREFIX) + r"([^\"'<>\s]+)\.csv", body):
        if html_lib.unescape(name) not in names:
            raise PageRefused(f"links to a table download {name!r} that the page does not show")
    body = body.replace(TABLE_LINK_PREFIX, f"tables/{page.slug}/")
    return body, tables, stderr


# ----------------------------------------------------------------------------- one page, end to end
def _utc_now() -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def failure_info(exc: BaseException, stage: str, page: Page) -> dict:
    """What the team lead needs to fix a failed page: the cell (1-based, as in the notebook file,
    without papermill's injected cell), an excerpt of its source, and the error."""
    info = {
        "stage": stage,
        "error": type(exc).__name__,
        "message": _ANSI.sub("", str(exc)).strip()[:2000],
    }
    cell_index = getattr(exc, "cell_index", None)
    if hasattr(exc, "ename"):  # papermill.PapermillExecutionError
        info["error"] = exc.ename
        info["message"] = _ANSI.sub("", str(exc.evalue)).strip()[:2000]
        info["traceback"] = _ANSI.sub("", "\n".join(exc.traceback))[-4000:]
    elif not isinstance(exc, PageRefused):
        info["traceback"] = "".join(traceback.format_exception(exc))[-4000:]
    injected = _injected_position(page.report.notebook)
    if cell_index is not None and cell_index >= injected > 0:
        cell_index -= 1  # papermill's injected-parameters cell is not in the file
    if cell_index is not None:
        info["cell"] = cell_index + 1
        info["source"] = _excerpt(getattr(exc, "source", ""))
    return info


def _injected_position(notebook: Path) -> int:
    """Index at which papermill inserts its injected-parameters cell."""
    with open(notebook, encoding="utf-8") as fh:
        cells = json.load(fh).get("cells", [])
    for i, cell in enumerate(cells):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return i + 1
    return 0


def _excerpt(source: str, lines: int = 6) -> str:
    rows = source.strip("\n").splitlines()
    return "\n".join(rows[:lines]) + ("\n…" if len(rows) > lines else "")


def render_page(task: PageTask) -> dict:
    """Execute and convert one page, store it in the cache; return its manifest record."""
    from .cache import PageCache

    page = task.page
    record = {
        "page": page.relpath,
        "status": "failed",
        "cache_key": task.key,
        "reason": task.reason,
    }
    t0 = time.perf_counter()
    stage = "execute"
    try:
        nb, modules = execute(task)
        t1 = time.perf_counter()
        stage = "convert"
        rendered_at = _utc_now()
        body, tables, stderr = convert(nb, page, task.context, task.notebook_sha, rendered_at)
    except Exception as exc:
        record["seconds"] = round(time.perf_counter() - t0, 3)
        record["failure"] = failure_info(exc, stage, page)
        return record
    meta = {
        "page": page.relpath,
        "report": page.report.id,
        "lang": page.lang,
        "parameters": page.parameters,
        "notebook": page.report.notebook_relpath,
        "notebook_sha256": task.notebook_sha,
        "cache_key": task.key,
        "inputs": task.inputs,
        "reason": task.reason,
        "rendered_at": rendered_at,
        "commit": task.context["commit"],
        "seconds": round(time.perf_counter() - t0, 3),
        "execute_seconds": round(t1 - t0, 3),
        "synthetic": page.synthetic,
        "library_modules": modules,
        "stderr": stderr,
        "tables": [
            {
                "name": t["name"],
                "file": f"tables/{page.slug}/{t['name']}.csv",
                "sha256": t["sha256"],
                "kind": t.get("kind"),
                "gate": t.get("gate"),
            }
            for t in tables
        ],
    }
    extra = {}
    if tables:  # what each download is (data kind, unit, source), beside the downloads
        from ..analysis.downloads import datapackage_text

        extra["tables/datapackage.json"] = datapackage_text(page_title(page), page.lang, tables)
    PageCache(task.cache_root).put(
        task.key, body, [(t["name"], t["csv"]) for t in tables], meta, extra=extra
    )
    return {**meta, "status": "rendered"}
