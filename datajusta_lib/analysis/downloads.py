"""What a downloaded table says about itself (issue 13): data kind, institution, unit.

A CSV travels without its page. So every download made from records says, in its own
columns, what kind of data it holds (``Datos: sintéticos`` / ``Data: synthetic``), and chart
data say which institution and which unit of count they are in. The extra columns are added
*after* the publish gate, to a copy of the gated table, and stamped again: constant text
columns add no statistic, so the gate's decision still holds, and the site check re-verifies
the CSV as published. Each stamp also carries ``about`` (data kind, unit, institution,
caption, source line) from which the renderer writes ``datapackage.json`` beside the
downloads (:func:`datapackage`).

The page's data source is set once per page by ``dj.banner(source, lang)`` (every page that
shows records starts with it), see :func:`set_page_source`.
"""

from __future__ import annotations

import re

from ..core.i18n import institution_name, text

DATA_KINDS = ("synthetic", "private", "published", "metadata")

# the source of the page being built (one notebook run = one page); set by display.banner
_PAGE: dict = {"source": None}


def set_page_source(source: str | None) -> None:
    _PAGE["source"] = source


def page_source() -> str | None:
    return _PAGE["source"]


def data_kind(table_kind: str, source: str | None = None) -> str:
    """What a table's numbers come from: ``published`` figures and ``metadata`` tables keep
    their kind; tables of counts or estimates come from the page's records (``synthetic`` or
    ``private``)."""
    source = page_source() if source is None else source
    if table_kind == "published":
        return "published"
    if table_kind == "metadata":
        return "metadata"
    return source if source in ("synthetic", "private") else "private"


def institution_of(table_name: str, candidates) -> str | None:
    """The institution a per-institution table is about, from a part of its name
    (``volumes_minsal_piro`` -> ``MINSAL_PIRO``; the longest code wins), among ``candidates``."""
    slug = table_name.lower().removesuffix("-chart")
    best = None
    for code in candidates:
        c = re.sub(r"[^a-z0-9]+", "_", code.lower()).strip("_")
        found = re.search(rf"(^|_){re.escape(c)}(_|$)", slug)
        if found and (best is None or len(c) > len(best[1])):
            best = (code, c)
    return best[0] if best else None


def known_institutions() -> list[str]:
    from ..core.i18n import institutions

    return list(institutions())


def extra_columns(about: dict, lang: str) -> dict[str, str]:
    """The constant columns a download carries: institution and unit when known, and the
    data kind whenever the numbers come from records."""
    out = {}
    if about.get("institution"):
        out[text("dl_col_institution", lang)] = institution_name(about["institution"], lang)
    if about.get("unit"):
        out[text("dl_col_unit", lang)] = text(f"unit_{about['unit']}", lang)
    if about.get("data_kind") in ("synthetic", "private"):
        out[text("dl_col_data", lang)] = text(f"dl_data_{about['data_kind']}", lang)
    return out


def annotate(published, about: dict, lang: str):
    """A copy of a gated table with :func:`extra_columns` appended (same gate, new hash);
    the table itself when there is nothing to add."""
    from ..gate.publish import GatedCounts, PublishedTable

    extra = extra_columns(about, lang)
    frame = published.table
    extra = {k: v for k, v in extra.items() if k not in frame.columns}
    if not extra:
        return published
    for col, value in extra.items():
        frame[col] = value
    gate = dict(published.gate)
    if isinstance(published, GatedCounts):
        return GatedCounts.create(
            name=published.name,
            kind=published.kind,
            frame=frame,
            gate=gate,
            table_spec=published.table_spec,
            result=published.result,
            shown=published.shown,
        )
    return PublishedTable.create(name=published.name, kind=published.kind, frame=frame, gate=gate)


def link_suffix(about: dict, lang: str) -> str:
    """The words that tell one chart-data link from another on a page: the institution's
    name, never the table's file name."""
    if about.get("institution"):
        return ": " + institution_name(about["institution"], lang)
    if about.get("label"):
        return ": " + about["label"]
    return ""


# ----------------------------------------------------------------------------- datapackage.json
def datapackage(page_title: str, lang: str, tables: list[dict]) -> dict:
    """A Frictionless data package describing each CSV of one page (``tables``: the page's
    stamps, each with its ``about``)."""
    resources = []
    for t in tables:
        about = t.get("about") or {}
        kind = about.get("data_kind") or data_kind(t.get("kind", ""), "private")
        res = {
            "name": re.sub(r"[^a-z0-9._-]+", "-", t["name"].lower()),
            "path": f"{t['name']}.csv",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "title": about.get("caption") or page_title,
            "data_kind": kind,
            "description": text(f"dl_describe_{kind}", lang),
            "sources": [{"title": about.get("source") or page_title}],
            "hash": f"sha256:{t['sha256']}",
            "disclosure_control": (t.get("gate") or {}).get("rule"),
        }
        if about.get("unit"):
            res["unit"] = text(f"unit_{about['unit']}", lang)
        if about.get("institution"):
            res["institution"] = institution_name(about["institution"], lang)
        resources.append(res)
    return {
        "name": "datajusta-page-tables",
        "title": page_title,
        "description": text("dl_package_description", lang),
        "resources": resources,
    }


def datapackage_text(page_title: str, lang: str, tables: list[dict]) -> str:
    """The ``datapackage.json`` written beside a page's downloads."""
    import json

    return json.dumps(datapackage(page_title, lang, tables), indent=1, ensure_ascii=False) + "\n"
