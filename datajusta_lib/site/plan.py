"""The render plan: the report list (``reports.yaml``) and the pages it expands to.

A report is a notebook with parameter sets and languages; each (parameter set, language) is a
*page*. ``load_reports`` checks the list thoroughly (every mistake names the file, the report
and the field) because a wrong entry would otherwise surface as a confusing notebook failure
or, worse, as a page silently rendered with a parameter its notebook ignores.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..core.i18n import LANGS
from ..core.paths import project_root

SOURCES = ("synthetic", "private")
# "site": the page reads the other pages of the site being rendered (the audit); it renders after
# them, against the new site, and its cache key includes theirs.
DATA_KINDS = ("published", "records", "site")
CROSS = "cross_cutting"
_KEYS_REQUIRED = {"id", "notebook", "title", "description", "parameters"}
_KEYS_OPTIONAL = {"languages", "data"}
_RESERVED_PARAMS = {"lang", "source"}  # set by the renderer for every page
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class ReportsError(ValueError):
    """reports.yaml (or another report list) is malformed; the message says where and how."""


@dataclass(frozen=True)
class Report:
    id: str
    notebook: Path
    title: dict
    description: dict
    languages: tuple[str, ...]
    data: tuple[str, ...]
    parameters: tuple[dict, ...]
    entry: str  # the entry as canonical JSON: part of every page's cache key

    @property
    def notebook_relpath(self) -> str:
        """The notebook as the report list names it (relative to the list's folder)."""
        return json.loads(self.entry)["notebook"]


@dataclass(frozen=True)
class Page:
    """One notebook run: a report with one parameter set, in one language, on one source."""

    report: Report
    params: dict  # the report's parameter set (without lang/source)
    lang: str
    source: str

    @property
    def slug(self) -> str:
        parts = [self.report.id, *(_slugify(_param_text(v)) for v in self.params.values())]
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
        """What papermill injects: the parameter set plus ``lang`` (and ``source``)."""
        p = dict(self.params, lang=self.lang)
        if self.uses_records:
            p["source"] = self.source
        return p

    @property
    def case_study(self) -> str | None:
        return self.params.get("case_study")

    def other_language(self) -> str | None:
        """The same page's other language, when the report has it."""
        others = [lg for lg in self.report.languages if lg != self.lang]
        return others[0] if others else None


def _param_text(value) -> str:
    return "-".join(map(str, value)) if isinstance(value, list) else str(value)


def _slugify(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "x"


def notebook_parameters(notebook: Path) -> set[str] | None:
    """Names assigned in the notebook's cell tagged ``parameters`` (None if it has none)."""
    with open(notebook, encoding="utf-8") as fh:
        nb = json.load(fh)
    for cell in nb.get("cells", []):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            tree = ast.parse(source)
            names = set()
            for node in tree.body:
                targets = (
                    node.targets
                    if isinstance(node, ast.Assign)
                    else [getattr(node, "target", None)]
                )
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
            return names
    return None


def load_reports(path: Path | str | None = None) -> list[Report]:
    """Read and check a report list; raise ``ReportsError`` naming the file, report and field."""
    path = Path(path or project_root() / "reports.yaml")
    try:
        with open(path, encoding="utf-8") as fh:
            spec = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ReportsError(f"{path}: no such report list") from None
    except yaml.YAMLError as exc:
        raise ReportsError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("reports"), list):
        raise ReportsError(f"{path}: expected a mapping with a list under 'reports'")
    reports, seen, slugs = [], set(), {}
    for i, r in enumerate(spec["reports"]):
        reports.append(_check_report(r, f"{path}: report #{i + 1}", path.parent, seen))
        for params in reports[-1].parameters:
            slug = Page(reports[-1], params, "es", "synthetic").slug
            if slug in slugs:
                raise ReportsError(
                    f"{path}: report {reports[-1].id!r} parameter set {params} gives page name "
                    f"{slug!r}, already used by report {slugs[slug]!r}"
                )
            slugs[slug] = reports[-1].id
    return reports


def _check_report(r, where: str, base: Path, seen: set) -> Report:
    # the checks run in the order a reader fixes them: shape, id, notebook, texts, parameters
    where = _check_report_keys(r, where)
    rid = r["id"]
    if not isinstance(rid, str) or not _ID.match(rid):
        raise ReportsError(f"{where}: id must be lower-case letters, digits and _ (got {rid!r})")
    if rid in seen:
        raise ReportsError(f"{where}: duplicate report id {rid!r}")
    seen.add(rid)
    notebook = (base / r["notebook"]).resolve()
    if not notebook.is_file():
        raise ReportsError(f"{where}: notebook {r['notebook']} does not exist")
    languages = _check_languages(r, where)
    data = r.get("data", ["records"])
    if not isinstance(data, list) or set(data) - set(DATA_KINDS):
        raise ReportsError(f"{where}: data must be a list drawn from {list(DATA_KINDS)}")
    param_sets = r["parameters"] or [{}]
    if not isinstance(param_sets, list):
        raise ReportsError(f"{where}: parameters must be a list of parameter sets")
    declared = notebook_parameters(notebook)
    if declared is None:
        raise ReportsError(f"{where}: {r['notebook']} has no cell tagged 'parameters'")
    needed = {"lang"} | ({"source"} if "records" in data else set())
    if needed - declared:
        raise ReportsError(
            f"{where}: the parameters cell of {r['notebook']} must define {sorted(needed - declared)}"
        )
    for j, params in enumerate(param_sets):
        _check_parameter_set(params, f"{where}: parameter set #{j + 1}", declared, r["notebook"])
    from .params import ParameterError, expand_report_sets

    try:  # declared types and vocabulary; `region: all` becomes one set per region (a sweep)
        param_sets = expand_report_sets(notebook, param_sets, where)
    except ParameterError as exc:
        raise ReportsError(str(exc)) from None
    return Report(
        id=rid,
        notebook=notebook,
        title=r["title"],
        description=r["description"],
        languages=tuple(languages),
        data=tuple(data),
        parameters=tuple(dict(p) for p in param_sets),
        entry=json.dumps(r, sort_keys=True, ensure_ascii=False, default=str),
    )


def _check_report_keys(r, where: str) -> str:
    """A mapping with every required field and no unknown one; returns ``where`` with the id."""
    if not isinstance(r, dict):
        raise ReportsError(f"{where}: expected a mapping, got {type(r).__name__}")
    if "id" in r:
        where = f"{where} ({r['id']})"
    missing = _KEYS_REQUIRED - set(r)
    if missing:
        raise ReportsError(f"{where}: missing {sorted(missing)}")
    unknown = set(r) - _KEYS_REQUIRED - _KEYS_OPTIONAL
    if unknown:
        raise ReportsError(
            f"{where}: unknown field(s) {sorted(unknown)}; "
            f"allowed: {sorted(_KEYS_REQUIRED | _KEYS_OPTIONAL)}"
        )
    return where


def _check_languages(r: dict, where: str) -> list:
    """The report's languages, with a title and a description in each."""
    languages = r.get("languages", list(LANGS))
    if not isinstance(languages, list) or not languages or set(languages) - set(LANGS):
        raise ReportsError(f"{where}: languages must be a non-empty subset of {list(LANGS)}")
    for field in ("title", "description"):
        value = r[field]
        if not isinstance(value, dict) or any(
            not isinstance(value.get(lg), str) for lg in languages
        ):
            raise ReportsError(f"{where}: {field} needs a text for each language {languages}")
    return languages


def _check_parameter_set(params, at: str, declared: set, notebook_name) -> None:
    """One parameter set: a mapping of parameters the notebook declares (the renderer's own
    excepted) to scalars or lists of scalars."""
    if not isinstance(params, dict):
        raise ReportsError(f"{at}: expected a mapping, got {params!r}")
    if _RESERVED_PARAMS & set(params):
        raise ReportsError(
            f"{at}: {sorted(_RESERVED_PARAMS & set(params))} are set by the renderer"
        )
    if set(params) - declared:
        raise ReportsError(
            f"{at}: {sorted(set(params) - declared)} not defined in the parameters cell "
            f"of {notebook_name} (it defines {sorted(declared)})"
        )
    for k, v in params.items():
        scalars = (str, int, float, bool)
        if not (
            isinstance(v, scalars)
            or (isinstance(v, list) and all(isinstance(x, scalars) for x in v))
        ):
            raise ReportsError(f"{at}: {k} must be a scalar or a list of scalars, got {v!r}")


def plan_pages(
    reports: list[Report],
    *,
    only: str | None = None,
    lang: str | None = None,
    source: str = "synthetic",
) -> list[Page]:
    """Every page of ``reports`` on ``source``; ``only`` (a glob on report id or page name) and
    ``lang`` narrow the selection."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    if lang is not None and lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    pages = [
        Page(r, dict(params), lg, source)
        for r in reports
        for params in r.parameters
        for lg in r.languages
        if lang is None or lg == lang
    ]
    if only:
        pages = [
            p for p in pages if fnmatch.fnmatch(p.report.id, only) or fnmatch.fnmatch(p.slug, only)
        ]
    return pages
