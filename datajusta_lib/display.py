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
import re
from urllib.parse import urlparse

import pandas as pd
from IPython.display import HTML, Markdown, display

from .i18n import check_lang, text
from .publish import TABLE_MIMETYPE, publish_table

_URL = re.compile(r"https?://\S+")
_NUMBER = re.compile(r"^[<>≈~]?-?[\d.,]+ ?%?$")
TABLE_LINK_PREFIX = "dj-table://"  # rewritten by the renderer to the page's table folder


def figure_html(fig, *, alt: str, source: str, caption: str | None = None) -> str:
    """The figure as an accessible ``<figure>`` with an embedded PNG."""
    if not alt or not alt.strip():
        raise ValueError("every figure needs alt text describing what it shows")
    if not source or not source.strip():
        raise ValueError("every figure needs a source line")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<p>{html.escape(caption)}</p>" if caption else ""
    return (
        '<figure class="dj-figure">'
        f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}">'
        f'<figcaption>{cap}<p class="dj-source">{html.escape(source)}</p></figcaption>'
        "</figure>"
    )


def show_figure(fig, *, alt: str, source: str, caption: str | None = None) -> None:
    """Display a matplotlib figure with alt text and a source line, then close it."""
    import matplotlib.pyplot as plt

    try:
        display(HTML(figure_html(fig, alt=alt, source=source, caption=caption)))
    finally:
        plt.close(fig)


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


def table_html(df: pd.DataFrame, *, caption: str, source: str, name: str, lang: str) -> str:
    check_lang(lang)
    body = _cells_html(df).to_html(index=False, escape=False, border=0, classes="dj-table")
    link = (
        f'<a class="dj-download" href="{TABLE_LINK_PREFIX}{html.escape(name)}.csv" '
        f"download>{html.escape(text('download_csv', lang))}</a>"
    )
    return (
        '<div class="dj-table-wrap" role="region" tabindex="0" '
        f'aria-label="{html.escape(caption, quote=True)}">'
        f'<p class="dj-caption"><strong>{html.escape(caption)}</strong></p>'
        f"{body}"
        f'<p class="dj-source">{html.escape(source)} · {link}</p>'
        "</div>"
    )


def show_table(
    df: pd.DataFrame,
    *,
    caption: str,
    source: str,
    name: str,
    lang: str = "es",
    kind: str = "published",
) -> None:
    """Pass ``df`` through the publish gate and display what may be shown.

    Returns nothing, so that a notebook cell never echoes the raw table after it; use
    ``datajusta_lib.publish.publish_table`` to get the gated table itself.
    """
    published = publish_table(df, name=name, kind=kind)
    html_text = table_html(published.table, caption=caption, source=source, name=name, lang=lang)
    display({"text/html": html_text, TABLE_MIMETYPE: published.stamp()}, raw=True)


def banner(source: str, lang: str = "es") -> None:
    """The data banner every page that shows data starts with."""
    check_lang(lang)
    if source not in ("synthetic", "private", "published"):
        raise ValueError(f"source must be synthetic, private or published, got {source!r}")
    css = f"dj-banner dj-banner-{source}"
    display(
        HTML(
            f'<div class="{css}" role="note"><p>{html.escape(text("banner_" + source, lang))}</p></div>'
        )
    )


def say(markdown_text: str) -> None:
    """Display generated narrative (already in the page's language) as Markdown."""
    display(Markdown(markdown_text))
