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
    fig, *, alt: str, source: str, caption: str | None = None, counts=None, lang: str = "es"
) -> None:
    """Display a matplotlib figure with alt text and a source line, then close it.

    ``counts``: the gated table(s) the figure was drawn from (``dj.gate_counts(...)`` or any
    ``publish_table`` result). Required on pages with records: the figure is refused if it
    draws a count between 1 and k-1 that is not a value of those tables, and each table is
    published next to the figure as its downloadable data.
    """
    import matplotlib.pyplot as plt

    from ..gate.disclosure import reader_note
    from ..gate.publish import gated_sources

    try:
        tables = gated_sources(fig, counts)
        gates = tuple(t.sha256 for t in tables)
        display(HTML(figure_html(fig, alt=alt, source=source, caption=caption, gates=gates)))
        for t in tables:
            # the chart's data is published as "<name>-chart.csv", once per page even if
            # several figures use it (the renderer wants unique table names on a page)
            stamp = dict(t.stamp(), name=f"{t.name}-chart")
            note = reader_note(t.gate, lang)
            link = (
                f'<p class="dj-source dj-figure-data" {_stamp_attrs(t)}>'
                f'<a class="dj-download" href="{TABLE_LINK_PREFIX}{html.escape(stamp["name"])}.csv" download>'
                f"{html.escape(text('figure_data_csv', lang))}{_which(t, tables)}</a>"
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


def _cell_html(value) -> str:
    """Escape a cell; an address becomes a short link (the CSV keeps the full address)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
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


def _cells_html(df: pd.DataFrame) -> pd.DataFrame:
    out = df.map(_cell_html)
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
    body = _cells_html(df).to_html(index=False, escape=False, border=0, classes="dj-table")
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
    **gate_options,
) -> None:
    """Pass ``df`` through the publish gate and display what may be shown.

    ``df`` is a DataFrame (gated here by ``kind``; ``gate_options`` such as ``k``,
    ``rounding``, ``observed`` or ``origin`` go to ``publish_table``) or a table that
    already passed the gate (``dj.gate_counts(...)``), whose own name is used.

    Returns nothing, so that a notebook cell never echoes the raw table after it; use
    ``datajusta_lib.gate.publish.publish_table`` to get the gated table itself.
    """
    published = publish_table(df, name=name, kind=kind, **gate_options)
    name = published.name
    html_text = table_html(
        published.table, caption=caption, source=source, name=name, lang=lang, published=published
    )
    display({"text/html": html_text, TABLE_MIMETYPE: published.stamp()}, raw=True)


def banner(source: str, lang: str = "es") -> None:
    """The data banner every page that shows data starts with."""
    check_lang(lang)
    if source not in ("synthetic", "private", "published"):
        raise ValueError(f"source must be synthetic, private or published, got {source!r}")
    css = f"dj-banner dj-banner-{source}"
    from ..gate.linked import start_page

    start_page()  # a page starts here: its linked tables are protected jointly from now on
    display(
        HTML(
            f'<div class="{css}" role="note"><p>{html.escape(text("banner_" + source, lang))}</p></div>'
        )
    )


def say(markdown_text: str) -> None:
    """Display generated narrative (already in the page's language) as Markdown."""
    display(Markdown(markdown_text))
