"""Display helpers for notebooks: figures with alt text and sources, gated tables, banners.

Each helper returns an IPython display bundle so that the same notebook reads well in
JupyterLab and renders into an accessible static page: figures are embedded PNGs with alt
text and a visible source line; tables are HTML with a caption, a source line and a link to
a CSV that the renderer writes from the table's publish stamp.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from urllib.parse import urlparse

import pandas as pd
from IPython.display import HTML, Markdown, display

from ..core.i18n import check_lang, text
from ..gate.publish import TABLE_MIMETYPE, publish_table

_URL = re.compile(r"https?://\S+")
_NUMBER = re.compile(r"^[<>≈~]?-?[\d.,]+ ?%?$")
TABLE_LINK_PREFIX = "dj-table://"  # rewritten by the renderer to the page's table folder


def figure_html(
    fig, *, alt: str, source: str, caption: str | None = None, gates: tuple[str, ...] = ()
) -> str:
    """The figure as an accessible ``<figure>`` with an embedded PNG. ``gates``: the stamps
    (sha256) of the gated tables it was drawn from, checked by the site builder."""
    if not alt or not alt.strip():
        raise ValueError("every figure needs alt text describing what it shows")
    if not source or not source.strip():
        raise ValueError("every figure needs a source line")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<p>{html.escape(caption)}</p>" if caption else ""
    return (
        f'<figure class="dj-figure" data-dj-gate="{",".join(gates) or "none"}">'
        f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}">'
        f'<figcaption>{cap}<p class="dj-source">{html.escape(source)}</p></figcaption>'
        "</figure>"
    )


def show_figure(
    fig,
    *,
    alt: str,
    source: str,
    caption: str | None = None,
    counts=None,
    lang: str = "es",
    about: dict | None = None,
) -> None:
    """Display a matplotlib figure with alt text and a source line, then close it.

    ``counts``: the gated table(s) the figure was drawn from (``dj.gate_counts(...)`` or any
    ``publish_table`` result). Required on pages with records: the figure is refused if it
    draws a count between 1 and k-1 that is not a value of those tables, and each table is
    published next to the figure as its downloadable data.

    ``about``: per gated table name, what its download says about itself (``institution``
    code, ``unit`` of count); by default the institution is read from the table's name.
    On a page of synthetic data the chart carries a visible mark.
    """
    import matplotlib.pyplot as plt

    from ..gate.disclosure import reader_note
    from ..gate.publish import gated_sources
    from . import downloads as dl

    try:
        gated = gated_sources(fig, counts)
        abouts, tables = [], []
        for t in gated:
            a = {"institution": dl.institution_of(t.name, dl.known_institutions())}
            a.update((about or {}).get(t.name, {}))
            a.update(
                data_kind=dl.data_kind(t.kind), caption=caption or alt.split(". ")[0], source=source
            )
            abouts.append(a)
            tables.append(dl.annotate(t, a, lang))
        if dl.page_source() == "synthetic":
            _mark_synthetic(fig, lang)
        gates = tuple(t.sha256 for t in tables)
        display(HTML(figure_html(fig, alt=alt, source=source, caption=caption, gates=gates)))
        for t, a in zip(tables, abouts, strict=True):
            # the chart's data is published as "<name>-chart.csv", once per page even if
            # several figures use it (the renderer wants unique table names on a page)
            stamp = dict(t.stamp(), name=f"{t.name}-chart", about=a)
            note = reader_note(t.gate, lang)
            which = html.escape(dl.link_suffix(a, lang)) if len(tables) > 1 else ""
            link = (
                f'<p class="dj-source dj-figure-data" {_stamp_attrs(t)}>'
                f'<a class="dj-download" href="{TABLE_LINK_PREFIX}{html.escape(stamp["name"])}.csv" download>'
                f"{html.escape(text('figure_data_csv', lang))}{which}</a>"
                + (f" · {html.escape(note)}" if note else "")
                + "</p>"
            )
            bundle = {"text/html": link}
            if stamp["name"] not in _CHART_DATA:
                bundle[TABLE_MIMETYPE] = stamp
                _CHART_DATA[stamp["name"]] = t.sha256
            elif _CHART_DATA[stamp["name"]] != t.sha256:
                raise ValueError(f"two different gated tables are named {t.name!r} on this page")
            display(bundle, raw=True)
    finally:
        plt.close(fig)


def _mark_synthetic(fig, lang: str) -> None:
    """A visible mark on a chart drawn from synthetic data (it travels without its page)."""
    # bottom right: the titles start at the top left and can run the whole width
    fig.text(
        0.995,
        0.005,
        text("synthetic_chart_mark", lang),
        ha="right",
        va="bottom",
        fontsize=9,
        fontweight="bold",
        color="#8a1c00",
        bbox={"facecolor": "#fff4e5", "edgecolor": "#8a1c00", "boxstyle": "round,pad=0.25"},
    )


def _which(table, tables) -> str:
    """Distinct link text when one figure publishes several tables (e.g. one per panel)."""
    if len(tables) < 2:
        return ""
    return ": " + html.escape(re.sub(r"[_-]+", " ", table.name))


# chart data already published by this kernel (one notebook run = one page)
_CHART_DATA: dict[str, str] = {}


def _stamp_attrs(published) -> str:
    """The stamp (without the CSV) as data attributes, re-checked by the site builder."""
    gate = json.dumps(published.gate, ensure_ascii=False, sort_keys=True, default=str)
    return (
        f'data-dj-table="{html.escape(published.name, quote=True)}" '
        f'data-dj-kind="{html.escape(published.kind, quote=True)}" '
        f'data-dj-sha256="{published.sha256}" '
        f'data-dj-gate="{html.escape(gate, quote=True)}"'
    )


_NOT_A_QUANTITY = re.compile(r"\b(año|year|semana|week|mes|month|per[ií]odo|period)\b|^k$", re.I)


def _number_text(value, lang: str | None, column: str = "") -> str | None:
    """A number as the page's text writes it (12.345 / 12,345; 94,8 / 94.8); None if the
    value is not a number or the column holds years, periods or k."""
    import numbers

    from ..core.style import thousands

    if lang is None or isinstance(value, bool) or not isinstance(value, numbers.Number):
        return None
    if _NOT_A_QUANTITY.search(str(column)):
        return None
    if isinstance(value, numbers.Integral) or float(value).is_integer() and abs(value) >= 1000:
        return thousands(float(value), lang)
    decimals = len(repr(float(value)).split(".")[1]) if "." in repr(float(value)) else 0
    body = f"{float(value):,.{min(decimals, 2)}f}"
    if lang == "es":
        body = body.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return body


def _cell_html(value, lang: str | None = None, column: str = "") -> str:
    """Escape a cell; an address becomes a short link (the CSV keeps the full address);
    numbers are written as in the page's text (``lang``)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    formatted = _number_text(value, lang, column)
    if formatted is not None:
        return f'<span class="dj-num">{html.escape(formatted)}</span>'
    text_value = str(value)
    urls = _URL.findall(text_value)
    if urls and _URL.sub("", text_value).strip() == "":
        return " ".join(
            f'<a href="{html.escape(u, quote=True)}">{html.escape(urlparse(u).netloc.removeprefix("www."))}</a>'
            for u in urls
        )
    if _NUMBER.match(text_value):
        return f'<span class="dj-num">{html.escape(text_value)}</span>'
    return html.escape(text_value)


def _cells_html(df: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    out = pd.DataFrame(
        {i: [_cell_html(v, lang, str(c)) for v in df.iloc[:, i]] for i, c in enumerate(df.columns)}
    )
    out.columns = [html.escape(str(c)) for c in df.columns]
    return out


def table_html(
    df: pd.DataFrame, *, caption: str, source: str, name: str, lang: str, published=None
) -> str:
    """``published``: the gated table (its stamp goes on the wrapper, its note under it)."""
    check_lang(lang)
    attrs = f" {_stamp_attrs(published)}" if published is not None else ""
    if published is not None:
        from ..gate.disclosure import reader_note

        note = reader_note(published.gate, lang)
        if note:
            source = f"{source} · {note}"
    body = _cells_html(df, lang).to_html(index=False, escape=False, border=0, classes="dj-table")
    link = (
        f'<a class="dj-download" href="{TABLE_LINK_PREFIX}{html.escape(name)}.csv" '
        f"download>{html.escape(text('download_csv', lang))}</a>"
    )
    return (
        '<div class="dj-table-wrap" role="region" tabindex="0" '
        f'aria-label="{html.escape(caption, quote=True)}"{attrs}>'
        f'<p class="dj-caption"><strong>{html.escape(caption)}</strong></p>'
        f"{body}"
        f'<p class="dj-source">{html.escape(source)} · {link}</p>'
        "</div>"
    )


def show_table(
    df,
    *,
    caption: str,
    source: str,
    name: str | None = None,
    lang: str = "es",
    kind: str = "published",
    about: dict | None = None,
    **gate_options,
) -> None:
    """Pass ``df`` through the publish gate and display what may be shown.

    ``df`` is a DataFrame (gated here by ``kind``; ``gate_options`` such as ``k``,
    ``rounding``, ``observed`` or ``origin`` go to ``publish_table``) or a table that
    already passed the gate (``dj.gate_counts(...)``), whose own name is used.

    Returns nothing, so that a notebook cell never echoes the raw table after it; use
    ``datajusta_lib.gate.publish.publish_table`` to get the gated table itself.
    """
    from . import downloads as dl

    published = publish_table(df, name=name, kind=kind, **gate_options)
    name = published.name
    # the download says what it is (data kind, institution, unit) in its own columns
    a = {"data_kind": dl.data_kind(published.kind), "caption": caption, "source": source}
    a.update(about or {})
    download = dl.annotate(published, a, lang)
    html_text = table_html(
        published.table, caption=caption, source=source, name=name, lang=lang, published=download
    )
    display({"text/html": html_text, TABLE_MIMETYPE: dict(download.stamp(), about=a)}, raw=True)


def banner(source: str, lang: str = "es") -> None:
    """The data banner every page that shows data starts with."""
    check_lang(lang)
    if source not in ("synthetic", "private", "published"):
        raise ValueError(f"source must be synthetic, private or published, got {source!r}")
    from .downloads import set_page_source

    set_page_source(source)
    css = f"dj-banner dj-banner-{source}"
    from ..gate.linked import start_page

    start_page()  # a page starts here: its linked tables are protected jointly from now on
    from .lab import lab_style  # JupyterLab: one language's prose, the banner as on the site

    display(
        HTML(
            lab_style(lang)
            + f'<div class="{css}" role="note"><p>{html.escape(text("banner_" + source, lang))}</p></div>'
        )
    )


def say(markdown_text: str) -> None:
    """Display generated narrative (already in the page's language) as Markdown."""
    display(Markdown(markdown_text))
