"""Charts of real open data in the house style (``datajusta_lib/style.py``).

Every chart is titled with what it shows and, under the title, the publisher, the unit of
count and the date of the data (``subtitle``); it draws only values of tables that passed
the disclosure gate (NaN = hidden, drawn as ``[c]``), labels its values so it reads without
colour, and gives each institution or unit its own panel and axis: values in different
units are never added or drawn on one axis. Labels come from ``data/i18n/open_data.yaml`` (es/en).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle

from ..analysis.charts import SHORT_REGION
from ..core import canon
from ..core.i18n import check_lang, text
from ..core.style import MARKERS, PALETTE, new_figure, thousands, thousands_formatter

HIDDEN = "[c]"
GREY = "#c8c8c8"
GREY_EDGE = "#666666"
LINESTYLES = ["-", "--", ":", "-."]


def t(key: str, lang: str = "es", **values) -> str:
    """The open-data string ``key`` (``data/i18n/open_data.yaml``) through the one text lookup."""
    return text(f"open_data.{key}", check_lang(lang), **values)


def number(v: float, lang: str = "es", decimals: int = 0) -> str:
    """A value for a label: thousands separators, decimals with the page's decimal mark."""
    if v is None or not np.isfinite(v):
        return HIDDEN
    if decimals == 0:
        return thousands(round(v), lang)
    body = f"{v:,.{decimals}f}"
    if lang == "es":
        body = body.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return body


def region_label(code: str) -> str:
    reg = canon.regions().set_index("code")
    return SHORT_REGION.get(code, reg.at[code, "name"])


def subtitle(publisher: str, unit: str, date: str, lang: str) -> str:
    return t("subtitle", lang, publisher=publisher, unit=unit, date=date)


def _header(fig, title: str, sub: str) -> None:
    """The title, and under it the subtitle (publisher, unit, date), wrapped to the width."""
    import textwrap

    width_in, height_in = fig.get_size_inches()
    lines = textwrap.wrap(sub, int(width_in * 15)) or [sub]
    fig.suptitle(title + "\n" * len(lines), x=0.01, ha="left", fontweight="bold", fontsize=12.5)
    fig.text(
        0.01,
        1 - 0.27 / height_in,
        "\n".join(lines),
        ha="left",
        va="top",
        fontsize=9,
        color="#444444",
        linespacing=1.3,
        transform=fig.transFigure,
    )


# ------------------------------------------------------------------------ time series
@dataclass
class Line:
    label: str
    values: pd.Series  # index: int years or Timestamps; NaN = hidden by the gate


@dataclass
class Panel:
    title: str
    ylabel: str
    lines: list[Line] = field(default_factory=list)
    label_all: bool = False  # write every value (else, on monthly panels, the peak and last)
    decimals: int = 0


def time_panels(
    panels: list[Panel],
    *,
    title: str,
    sub: str,
    lang: str = "es",
    freq: str = "year",
    marks: list[tuple] = (),
    label_every: int | None = None,
    height: float = 2.3,
):
    """One panel per institution/unit, one line per series, values written on the points
    (all of them for yearly series, the peak and the last for long monthly ones), hidden
    values as ``[c]``, reference dates (``marks``: (x, label)) as dotted lines."""
    check_lang(lang)
    fig, axes = new_figure(
        9.5, 1.3 + height * len(panels), nrows=len(panels), squeeze=False, sharex=True
    )
    axes = axes[:, 0]
    for ax, panel in zip(axes, panels, strict=True):
        _draw_panel(ax, panel, lang, freq, marks, label_every)
    if freq == "year":
        _year_axis(axes[-1], panels, lang)
    else:
        _month_axis(axes[-1], panels, lang)
    _header(fig, title, sub)
    return fig


def _draw_panel(ax, panel: Panel, lang: str, freq: str, marks, label_every) -> None:
    """A panel's lines, the reference dates, its title, axis label and legend."""
    top = 1.0
    label_all = (freq == "year" and label_every is None) or panel.label_all
    for i, line in enumerate(panel.lines):
        top = max(top, _draw_line(ax, line, i, lang, freq, label_all, panel.decimals))
    for xm, label in marks:
        xv = mdates.date2num(pd.Timestamp(xm)) if freq == "month" else xm
        ax.axvline(xv, color=GREY_EDGE, linestyle=":", linewidth=1.3)
        ax.annotate(
            label,
            (xv, 1),
            xycoords=("data", "axes fraction"),
            xytext=(3, -2),
            textcoords="offset points",
            va="top",
            fontsize=8,
            color=GREY_EDGE,
        )
    ax.set_ylim(0, top * 1.35)
    ax.set_title(panel.title, fontsize=10.5)
    ax.set_ylabel(panel.ylabel, fontsize=9)
    if not panel.decimals:
        ax.yaxis.set_major_formatter(thousands_formatter(lang))
    if len(panel.lines) > 1:
        ax.legend(fontsize=8, loc="upper left", ncols=min(2, len(panel.lines)))


def _draw_line(
    ax, line: Line, i: int, lang: str, freq: str, label_all: bool, decimals: int
) -> float:
    """The ``i``-th line of a panel with its values written on it (every value, or the peak
    and the last) and ``[c]`` where the gate hid one; returns its highest value (or 1)."""
    s = line.values.astype(float)
    x = s.index.to_numpy()
    y = s.to_numpy()
    color = PALETTE[i % len(PALETTE)]
    ax.plot(
        x,
        y,
        color=color,
        linestyle=LINESTYLES[i % 4],
        marker=MARKERS[i % len(MARKERS)],
        markersize=4.5 if freq == "month" else 6.5,
        markeredgecolor="white",
        label=line.label,
    )
    finite = np.flatnonzero(np.isfinite(y))
    if label_all:
        which = finite
    else:
        which = [] if not finite.size else sorted({finite[np.nanargmax(y[finite])], finite[-1]})
    for j in which:
        ax.annotate(
            number(y[j], lang, decimals),
            (x[j], y[j]),
            xytext=(0, 5 + 7 * (i % 2)),
            textcoords="offset points",
            ha="center",
            fontsize=7.5,
            color=color,
        )
    for j in np.flatnonzero(~np.isfinite(y)):
        ax.annotate(
            HIDDEN,
            (x[j], 0),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            fontsize=6.5,
            color=GREY_EDGE,
        )
    return np.nanmax(y) if np.isfinite(y).any() else 1.0


def _year_axis(ax, panels: list[Panel], lang: str) -> None:
    years = sorted({int(v) for p in panels for ln in p.lines for v in ln.values.index})
    ax.set_xticks(years, [str(y) for y in years], rotation=0 if len(years) < 14 else 45)
    ax.set_xlabel(t("axis_year", lang))


def _month_axis(ax, panels: list[Panel], lang: str) -> None:
    """Every month on spans under 500 days, else January and July; labels 'month\\nyear'."""
    from matplotlib.ticker import FuncFormatter

    months = t("months", lang).split()
    xs = [pd.Timestamp(v) for p in panels for ln in p.lines for v in ln.values.index]
    short = (max(xs) - min(xs)).days < 500
    ax.xaxis.set_major_locator(
        mdates.MonthLocator() if short else mdates.MonthLocator(bymonth=[1, 7])
    )
    ax.xaxis.set_major_formatter(
        FuncFormatter(
            lambda v, _p: f"{months[mdates.num2date(v).month - 1]}\n{mdates.num2date(v).year}"
        )
    )
    ax.set_xlabel(t("axis_month", lang))


def time_alt(panels: list[Panel], title: str, lang: str, freq: str = "year") -> str:  # noqa: C901
    """Text alternative: every panel, line and value (monthly: peak, first and last)."""
    parts = [f"{t('alt_prefix', lang)} {title}."]
    for p in panels:
        bits = []
        for line in p.lines:
            s = line.values.astype(float)
            fmt = (
                (lambda i: str(i))
                if freq == "year"
                else (lambda i: pd.Timestamp(i).strftime("%Y-%m"))
            )
            if freq == "year":
                vals = ", ".join(f"{fmt(i)}: {number(v, lang, p.decimals)}" for i, v in s.items())
            else:
                fin = s.dropna()
                if fin.empty:
                    vals = HIDDEN
                else:
                    vals = (
                        f"{fmt(fin.index[0])}: {number(fin.iloc[0], lang)}; máx/max "
                        f"{fmt(fin.idxmax())}: {number(fin.max(), lang)}; "
                        f"{fmt(fin.index[-1])}: {number(fin.iloc[-1], lang)}"
                    )
            bits.append(f"{line.label} ({vals})")
        parts.append(f"{p.title}: " + "; ".join(bits) + ".")
    return " ".join(parts)


# ------------------------------------------------------------------------ bars
def hbars(
    df: pd.DataFrame,
    *,
    title: str,
    sub: str,
    xlabel: str,
    lang: str = "es",
    stacked: bool = False,
    decimals: int = 0,
    width: float = 9.5,
    totals: pd.Series | None = None,
):
    """Horizontal bars: rows = categories (top to bottom as given), columns = series
    (grouped, or stacked); every bar carries its value, hidden values show ``[c]``. Stacked
    bars end with the row total: ``totals`` (the gate's published row totals, NaN = hidden)
    or else the sum of the visible parts, starred when a part is hidden."""
    check_lang(lang)
    n, m = df.shape
    fig, ax = new_figure(width, 1.4 + (0.32 if stacked else 0.24 * m + 0.12) * n + 0.4)
    y = np.arange(n)[::-1]
    h = 0.7 if stacked else 0.8 / m
    left = np.zeros(n)
    top = (
        np.nanmax(df.sum(axis=1) if stacked else df.to_numpy(dtype=float))
        if df.notna().any().any()
        else 1
    )
    from ..core.style import HATCHES

    for j, col in enumerate(df.columns):
        vals = df[col].to_numpy(dtype=float)
        pos = y if stacked else y + (m - 1 - 2 * j) * h / 2
        shown = np.nan_to_num(vals)
        ax.barh(
            pos,
            shown,
            height=h,
            left=left if stacked else 0,
            color=PALETTE[j % len(PALETTE)],
            hatch=HATCHES[j % len(HATCHES)],
            edgecolor="white" if stacked else "#222222",
            linewidth=0.6,
            label=str(col),
        )
        for k_, (p, v) in enumerate(zip(pos, vals, strict=True)):
            if stacked:
                if np.isfinite(v) and v >= top * 0.04:
                    ax.text(
                        left[k_] + v / 2,
                        p,
                        number(v, lang, decimals),
                        ha="center",
                        va="center",
                        fontsize=7.5,
                        color="white",
                        fontweight="bold",
                    )
            else:
                ax.text(
                    (v if np.isfinite(v) else 0) + top * 0.01,
                    p,
                    number(v, lang, decimals),
                    va="center",
                    fontsize=7.5,
                )
        if stacked:
            left = left + shown
    if stacked:
        for i, (p, end) in enumerate(zip(y, left, strict=True)):
            row = df.iloc[i].to_numpy(dtype=float)
            if totals is not None:
                label = number(float(totals.iloc[i]), lang, decimals)
            else:
                label = number(end, lang, decimals) + ("*" if np.isnan(row).any() else "")
            ax.text(end + top * 0.01, p, label, va="center", fontsize=8, fontweight="bold")
    ax.set_yticks(y, [str(i) for i in df.index])
    ax.set_xlim(0, top * 1.18)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    ax.xaxis.set_major_formatter(thousands_formatter(lang))
    if m > 1:
        ax.legend(loc="lower right", fontsize=8)
    _header(fig, title, sub)
    return fig


def bars_alt(df: pd.DataFrame, title: str, lang: str, decimals: int = 0) -> str:
    rows = []
    for idx, row in df.iterrows():
        vals = ", ".join(f"{c}: {number(v, lang, decimals)}" for c, v in row.items())
        rows.append(f"{idx} ({vals})")
    return f"{t('alt_prefix', lang)} {title}. " + "; ".join(rows) + "."


# ------------------------------------------------------------------------ the tile map
def tile_map(
    values: pd.DataFrame,
    *,
    title: str,
    sub: str,
    lang: str = "es",
    decimals: int = 1,
    cmap: str = "cividis_r",
):
    """A map of Chile needing no geometry: the 16 regions as tiles from north (top) to south
    (bottom), one column of tiles per measure (``values``: index = region codes, columns =
    measures, NaN = hidden by the gate). Each tile is shaded within its column and carries
    its value; region names on the left."""
    check_lang(lang)
    order = canon.regions()["code"].tolist()
    values = values.reindex(order)
    m = values.shape[1]
    fig, ax = new_figure(2.4 + 2.3 * m, 8.6)
    for j, col in enumerate(values.columns):
        col_vals = values[col].to_numpy(dtype=float)
        finite = col_vals[np.isfinite(col_vals)]
        norm = Normalize(vmin=0, vmax=finite.max() if finite.size else 1)
        import matplotlib

        colormap = matplotlib.colormaps[cmap]
        for i in range(len(order)):
            v = col_vals[i]
            x, y = j * 1.1, -i
            if np.isfinite(v):
                face = colormap(0.1 + 0.8 * norm(v))
                ax.add_patch(Rectangle((x, y - 0.45), 1.0, 0.9, facecolor=face, edgecolor="white"))
                lum = 0.299 * face[0] + 0.587 * face[1] + 0.114 * face[2]
                ax.text(
                    x + 0.5,
                    y,
                    number(v, lang, decimals),
                    ha="center",
                    va="center",
                    fontsize=8.5,
                    color="black" if lum > 0.5 else "white",
                )
            else:
                ax.add_patch(
                    Rectangle(
                        (x, y - 0.45),
                        1.0,
                        0.9,
                        facecolor="#eeeeee",
                        edgecolor=GREY_EDGE,
                        hatch="//",
                        linewidth=0.6,
                    )
                )
                ax.text(x + 0.5, y, HIDDEN, ha="center", va="center", fontsize=8, color=GREY_EDGE)
        ax.text(
            j * 1.1 + 0.5,
            0.75,
            "\n".join(_wrap(str(col), 22)),
            ha="center",
            va="bottom",
            fontsize=8.5,
            fontweight="bold",
        )
    for i, code in enumerate(order):
        ax.text(-0.1, -i, region_label(code), ha="right", va="center", fontsize=8.5)
    ax.set_xlim(-2.2, m * 1.1)
    ax.set_ylim(-len(order) + 0.3, 2.2)
    ax.set_axis_off()
    _header(fig, title, sub)
    return fig


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [text]


def tile_alt(values: pd.DataFrame, title: str, lang: str, decimals: int = 1) -> str:
    order = canon.regions()["code"].tolist()
    values = values.reindex(order)
    parts = [f"{t('alt_prefix', lang)} {title}."]
    for col in values.columns:
        vals = ", ".join(
            f"{region_label(c)} {number(v, lang, decimals)}" for c, v in values[col].items()
        )
        parts.append(f"{col}: {vals}.")
    return " ".join(parts)
