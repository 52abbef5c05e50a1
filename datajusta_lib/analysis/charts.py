"""Charts of the case-study pages in the house style, and text alternatives for each.

Every chart draws counts that already passed the disclosure gate (tidy frames with ``n`` =
NaN where the gate hid a cell, see ``case_study.gated_frame``) and writes the values it
shows, so it reads without colour. Each institution keeps its colour and marker
(``data/institutions.yaml``); "missing" (recorded but blank) and "not recorded" (the
institution never records it) are light grey with a hatch, never left out. Units of count
differ by institution, so each institution gets its own panel and axis, never a shared sum.

Each ``*_chart`` returns a matplotlib figure; the matching ``*_alt`` returns a text
alternative that lists every value the chart shows.
"""

from __future__ import annotations

import textwrap

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from ..core import canon
from ..core.i18n import check_lang, institution_name, text, unit_label
from ..core.style import institution_style, new_figure, thousands
from .counts import MISSING, NON_JUDICIAL_EXIT, NOT_RECORDED, OTHER, STAGES

HIDDEN = "[c]"  # the disclosure gate's marker for a hidden cell
GREY = "#c8c8c8"
GREY_EDGE = "#666666"
GREY_HATCH = "//"
EXIT_HATCH = "xx"
SYNTHETIC_HATCH = ".."
LINESTYLES = ["-", "--", ":", "-."]
SERIES_MARKERS = ["o", "s", "^", "D", "v", "P"]
MAX_POINT_LABELS = 16  # beyond this many points per line only the peak and the last are labelled

# Region names short enough for an axis (the official names are in regions.csv).
SHORT_REGION = {"06": "O'Higgins", "11": "Aysén", "12": "Magallanes", "13": "Metropolitana"}


# ---------------------------------------------------------------------------- labels
def pct(share: float, lang: str = "es") -> str:
    """42.0 -> '42 %' (es) / '42%' (en); shares under 10 % keep one decimal."""
    if share is None or pd.isna(share):
        return HIDDEN
    digits = 0 if abs(share) >= 10 or share == 0 else 1
    body = f"{share:.{digits}f}"
    return f"{body.replace('.', ',')} %" if lang == "es" else f"{body}%"


def count_text(n: float, lang: str = "es") -> str:
    return HIDDEN if n is None or pd.isna(n) else thousands(n, lang)


def area_label(area: str, lang: str = "es") -> str:
    """A region code, a macro-zone, or missing / not recorded, as a reader reads it."""
    if area in (MISSING, NOT_RECORDED, OTHER):
        return category_label("region_code", area, lang)
    regions = canon.regions().set_index("code")
    if area in regions.index:
        return SHORT_REGION.get(area, regions.at[area, "name"])
    return text(f"cs_zone_{area}", lang)


def category_label(field_name: str, value, lang: str = "es") -> str:
    """The label of a category of ``field_name`` (canonical, coarse, special or country)."""
    check_lang(lang)
    if value == MISSING:
        return text("cs_missing", lang)
    if value == NOT_RECORDED:
        return text("cs_not_recorded", lang)
    if value == OTHER:
        return text("cs_other", lang)
    keys = [f"value_{field_name}_{value}", f"cs_coarse_{value}", f"cs_step_{value}"]
    if field_name == "nationality":
        keys = [f"cs_country_{value}", f"cs_coarse_{value}"]
    for key in keys:
        try:
            return text(key, lang)
        except KeyError:
            continue
    return str(value)


def field_label(field_name: str, lang: str = "es") -> str:
    return text(f"field_{field_name}", lang)


def _inst(inst: str, lang: str) -> str:
    return institution_name(inst, lang, short=True)


def _panel_title(inst: str, unit: str, lang: str) -> str:
    return f"{_inst(inst, lang)} · {unit_label(unit, lang)}"


def _grid(n: int, ncols: int):
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    return nrows, ncols


def _hide_unused(axes, used: int) -> None:
    for ax in axes[used:]:
        ax.set_visible(False)


def _not_recorded_panel(ax, lang: str, what: str, who: list[str]) -> None:
    """The panel of the institutions that do not record ``what``: hatched grey, named."""
    ax.add_patch(
        Rectangle(
            (0.02, 0.08),
            0.96,
            0.84,
            transform=ax.transAxes,
            facecolor="#eeeeee",
            edgecolor=GREY_EDGE,
            hatch=GREY_HATCH,
            linewidth=0.8,
        )
    )
    ax.text(
        0.5,
        0.5,
        text("cs_panel_not_recorded", lang, what=what, who="\n".join(who)),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=9.5,
        wrap=True,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 3},
    )
    ax.set_xticks([])
    ax.grid(False)


def _hidden_handle(lang: str) -> Line2D:
    """The legend entry of a hidden cell, drawn as ``[c]`` wherever a chart hides one."""
    return Line2D(
        [],
        [],
        linestyle="none",
        marker="$[c]$",
        markersize=14,
        color=GREY_EDGE,
        label=text("cs_hidden_legend", lang),
    )


def _legend_missing(fig, lang: str, extra: list | None = None) -> None:
    handles = [
        Patch(
            facecolor=GREY, edgecolor=GREY_EDGE, hatch=GREY_HATCH, label=text("cs_missing", lang)
        ),
        Patch(
            facecolor="#eeeeee",
            edgecolor=GREY_EDGE,
            hatch=GREY_HATCH,
            label=text("cs_not_recorded", lang),
        ),
        _hidden_handle(lang),
        *(extra or []),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8.5)


# --------------------------------------------------------------------------- volumes
def volumes_chart(
    df: pd.DataFrame,
    *,
    freq: str,
    title: str,
    lang: str = "es",
    series: str | None = None,
    changes: pd.DataFrame | None = None,
):
    """Records over time: one panel per institution (its own unit and axis), a line with
    markers per series, every point labelled when there are few, hidden cells marked
    ``[c]``, partial first/last periods drawn hollow, changes of definition as dotted
    vertical lines. ``df``: institution, unit, [series], period, period_start, partial, n."""
    check_lang(lang)
    insts = list(dict.fromkeys(df["institution"]))
    fig, axes = new_figure(
        width=9.5, height=1.0 + 1.9 * len(insts), nrows=len(insts), sharex=True, squeeze=False
    )
    axes = axes[:, 0]
    starts = pd.to_datetime(df["period_start"])
    for ax, inst in zip(axes, insts, strict=True):
        d = df[df["institution"] == inst]
        _volumes_panel(ax, d, inst, series, lang)
        if changes is not None:
            _definition_changes(ax, changes, inst, starts.min(), starts.max(), lang)
        unit = d["unit"].iloc[0]
        ax.set_title(_panel_title(inst, unit, lang), fontsize=10.5)
        ax.set_ylabel(text(f"cs_per_{freq}", lang, unit=unit_label(unit, lang)), fontsize=9)
        ax.yaxis.set_major_formatter(_thousands_formatter(lang))
    axes[-1].set_xlabel(text(f"cs_axis_{freq}", lang))
    _date_axis(axes[-1], lang, freq, starts.min(), starts.max())
    handles = [
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markerfacecolor="white",
            markeredgecolor=GREY_EDGE,
            label=text("cs_partial_period", lang),
        ),
        _hidden_handle(lang),
    ]
    if changes is not None and len(changes):
        handles.append(
            Line2D(
                [],
                [],
                color=GREY_EDGE,
                linestyle=":",
                label=text("cs_definition_change_legend", lang),
            )
        )
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8.5)
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=12.5)
    return fig


def _volumes_panel(ax, d: pd.DataFrame, inst: str, series: str | None, lang: str) -> None:
    """One institution's lines: a line per series, hollow partial periods, labels, [c] marks."""
    st = institution_style(inst)
    groups = list(d.groupby(series, sort=False)) if series else [(None, d)]
    ymax = np.nanmax(d["n"].to_numpy(dtype=float)) if d["n"].notna().any() else 1.0
    for i, (cat, g) in enumerate(groups):
        x = pd.to_datetime(g["period_start"]).to_numpy()
        y = g["n"].to_numpy(dtype=float)
        ls = LINESTYLES[i % len(LINESTYLES)]
        mk = st["marker"] if series is None else SERIES_MARKERS[i % len(SERIES_MARKERS)]
        ax.plot(
            x,
            y,
            color=st["color"],
            linestyle=ls,
            marker=mk,
            markeredgecolor="white",
            label=None if cat is None else category_label(series, cat, lang),
        )
        part = g["partial"].to_numpy(dtype=bool)
        if part.any():  # an incomplete period: hollow marker over the filled one
            ax.plot(
                x[part],
                y[part],
                linestyle="none",
                marker=mk,
                markerfacecolor="white",
                markeredgecolor=st["color"],
                markeredgewidth=1.5,
            )
        _label_points(ax, x, y, lang, MAX_POINT_LABELS if len(groups) == 1 else 8)
        for xi in x[np.isnan(y)]:
            ax.annotate(
                HIDDEN,
                (xi, 0),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
                color=GREY_EDGE,
            )
        if cat is not None and np.isfinite(y).any():
            last = np.flatnonzero(np.isfinite(y))[-1]
            ax.annotate(
                category_label(series, cat, lang),
                (x[last], y[last]),
                xytext=(8, 0),
                textcoords="offset points",
                va="center",
                fontsize=8.5,
                color=st["color"],
            )
    ax.set_ylim(0, max(ymax, 1) * 1.3)


def _definition_changes(ax, changes: pd.DataFrame, inst: str, lo, hi, lang: str) -> None:
    """Dotted vertical lines where the law or the institution changed what it counts."""
    for row in changes.itertuples():
        if inst not in row.institutions:
            continue
        x0 = mdates.date2num(pd.Timestamp(row.date))  # numeric: a reference line
        ax.axvline(x0, color=GREY_EDGE, linestyle=":", linewidth=1.3)
        late = pd.Timestamp(row.date) > lo + (hi - lo) * 0.7  # label on the left
        ax.annotate(
            text("cs_definition_change", lang, date=_date(row.date, lang)),
            (x0, 1),
            xycoords=("data", "axes fraction"),
            xytext=(-3 if late else 3, -2),
            textcoords="offset points",
            va="top",
            ha="right" if late else "left",
            fontsize=8,
            color=GREY_EDGE,
        )


def _date_axis(ax, lang: str, freq: str, lo: pd.Timestamp, hi: pd.Timestamp) -> None:
    """Date ticks in the page's language: years for long spans, months (year at January
    and at the first tick) for short ones."""
    from matplotlib.ticker import FuncFormatter

    months = text("cs_months", lang).split()
    days = (hi - lo).days
    if freq in ("year", "quarter") or days > 4 * 366:
        ax.xaxis.set_major_locator(mdates.YearLocator(base=max(1, int(np.ceil(days / 366 / 12)))))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: str(mdates.num2date(v).year)))
        return
    ax.xaxis.set_major_locator(mdates.MonthLocator(interval=1 if days <= 400 else 3))

    def fmt(v, pos):
        d = mdates.num2date(v)
        return (
            f"{months[d.month - 1]}\n{d.year}" if d.month == 1 or pos == 0 else months[d.month - 1]
        )

    ax.xaxis.set_major_formatter(FuncFormatter(fmt))


def _label_points(ax, x, y, lang: str, max_labels: int = MAX_POINT_LABELS) -> None:
    finite = np.flatnonzero(np.isfinite(y))
    if finite.size == 0:
        return
    if finite.size <= max_labels:
        which = finite
    else:
        which = sorted({int(finite[np.nanargmax(y[finite])]), int(finite[-1])})
    for i in which:
        ax.annotate(
            thousands(y[i], lang),
            (x[i], y[i]),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )


def _thousands_formatter(lang: str):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _p: thousands(v, lang))


def _date(ts, lang: str) -> str:
    ts = pd.Timestamp(ts)
    return ts.strftime("%d-%m-%Y") if lang == "es" else ts.strftime("%Y-%m-%d")


def volumes_alt(
    df: pd.DataFrame, *, freq: str, title: str, lang: str = "es", series: str | None = None
) -> str:
    """Every value of :func:`volumes_chart`, institution by institution."""
    parts = [f"{title}."]
    for inst, d in df.groupby("institution", sort=False):
        unit = unit_label(d["unit"].iloc[0], lang)
        groups = list(d.groupby(series, sort=False)) if series else [(None, d)]
        for cat, g in groups:
            head = _inst(inst, lang) + (f", {category_label(series, cat, lang)}" if cat else "")
            partial = f" ({text('cs_partial_short', lang)})"
            vals = "; ".join(
                f"{p}{partial if part else ''}: {count_text(n, lang)}"
                for p, part, n in zip(g["period"], g["partial"], g["n"], strict=True)
            )
            parts.append(f"{head} ({unit}): {vals}.")
    parts.append(text("cs_alt_hidden", lang))
    return " ".join(parts)


# -------------------------------------------------------------------- bars per panel
def _bars_panel(ax, lengths, labels, inst, hatches, xmax: float | None = None) -> None:
    """Horizontal bars (first on top) in the institution's colour; a hatched bar is grey
    (missing) or a lighter shade (a separate exit); ``labels`` are written at the bar ends
    and a hidden value (NaN) gets no bar, only its ``[c]``."""
    st = institution_style(inst)
    lengths = np.asarray(lengths, dtype=float)
    y = np.arange(len(lengths))
    bars = ax.barh(y, lengths, color=st["color"], edgecolor="white", linewidth=0.6)
    for b, h in zip(bars, hatches, strict=True):
        if h:
            b.set_hatch(h)
            b.set_facecolor(GREY if h == GREY_HATCH else _lighten(st["color"]))
            b.set_edgecolor(GREY_EDGE)
    for i, (v, label) in enumerate(zip(lengths, labels, strict=True)):
        hidden = not np.isfinite(v)
        ax.annotate(
            label,
            (0 if hidden else v, i),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8.5,
            color=GREY_EDGE if hidden else "black",
        )
    if xmax is None:
        finite = lengths[np.isfinite(lengths)]
        xmax = finite.max() if finite.size and finite.max() > 0 else 1.0
    ax.set_xlim(0, xmax * 1.5)
    ax.set_ylim(len(lengths) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)


def _n_share(n: float, share: float, lang: str) -> str:
    if pd.isna(n):
        return HIDDEN
    return (
        f"{thousands(n, lang)} ({pct(share, lang)})" if not pd.isna(share) else thousands(n, lang)
    )


def _lighten(color: str, amount: float = 0.55) -> tuple:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def categories_chart(
    df: pd.DataFrame,
    *,
    field_name: str,
    title: str,
    lang: str = "es",
    key: str = "category",
    ncols: int = 3,
):
    """A distribution per institution (victim profile, perpetrator, classification, area).

    One panel per institution that records the field; bars are the share of the
    institution's records in each category (from gated counts and published totals), on
    one scale for every panel, labelled "n (share)"; missing is grey and hatched. The
    institutions that do not record the field share one last hatched panel that names
    them. ``df``: institution, unit, <key>, n, share.
    """
    check_lang(lang)
    insts = list(dict.fromkeys(df["institution"]))
    silent = [i for i in insts if (df.loc[df["institution"] == i, key] == NOT_RECORDED).all()]
    recording = [i for i in insts if i not in silent]
    cats = list(dict.fromkeys(df.loc[df[key] != NOT_RECORDED, key]))
    panels = recording + (["__silent__"] if silent else [])
    nrows, ncols = _grid(len(panels), ncols)
    height = 1.2 + nrows * (0.75 + 0.26 * max(len(cats), 3))
    fig, axes = new_figure(width=9.8, height=height, nrows=nrows, ncols=ncols, squeeze=False)
    axes = axes.ravel()
    if field_name == "area":
        what = text("field_region_code", lang).lower()
        labeller = area_label
    else:
        what = field_label(field_name, lang).lower()
        labeller = lambda v, lg: category_label(field_name, v, lg)  # noqa: E731
    ticks = [labeller(c, lang) for c in cats]
    shares = df.loc[df[key] != NOT_RECORDED, "share"].to_numpy(dtype=float)
    shares = shares[np.isfinite(shares)]
    common = shares.max() if shares.size and shares.max() > 0 else None  # one scale for all
    for j, (ax, inst) in enumerate(zip(axes, panels, strict=False)):
        first_col = j % ncols == 0
        if inst == "__silent__":
            ax.set_title(text("cs_panel_silent_title", lang), fontsize=10)
            ax.set_yticks(range(len(cats)), ticks if first_col else [""] * len(cats), fontsize=9)
            ax.set_ylim(len(cats) - 0.5, -0.5)
            _not_recorded_panel(ax, lang, what, [_inst(i, lang) for i in silent])
            continue
        d = df[df["institution"] == inst].set_index(key).reindex(cats)
        hatches = [GREY_HATCH if c == MISSING else None for c in cats]
        labels = [_n_share(n, sh, lang) for n, sh in zip(d["n"], d["share"], strict=True)]
        _bars_panel(ax, d["share"].to_numpy(dtype=float), labels, inst, hatches, xmax=common)
        ax.set_yticks(range(len(cats)), ticks if first_col else [""] * len(cats), fontsize=9)
        ax.set_title(_panel_title(inst, d["unit"].dropna().iloc[0], lang), fontsize=10)
        ax.set_xlabel(text("cs_share_axis", lang), fontsize=8.5)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        ax.xaxis.set_major_formatter(_pct_formatter(lang))
    _hide_unused(axes, len(panels))
    _legend_missing(fig, lang)
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=12.5)
    return fig


def _pct_formatter(lang: str):
    from matplotlib.ticker import FuncFormatter

    def fmt(v, _p):
        body = f"{v:g}"
        return f"{body.replace('.', ',')} %" if lang == "es" else f"{body}%"

    return FuncFormatter(fmt)


def categories_alt(
    df: pd.DataFrame, *, field_name: str, title: str, lang: str = "es", key: str = "category"
) -> str:
    labeller = (
        area_label if field_name == "area" else (lambda v, lg: category_label(field_name, v, lg))
    )
    parts = [f"{title}."]
    for inst, d in df.groupby("institution", sort=False):
        unit = unit_label(d["unit"].iloc[0], lang)
        if (d[key] == NOT_RECORDED).all():
            parts.append(f"{_inst(inst, lang)}: {text('cs_not_recorded', lang)}.")
            continue
        vals = "; ".join(
            f"{labeller(c, lang)} {count_text(n, lang)}"
            + (f" ({pct(s, lang)})" if not pd.isna(s) else "")
            for c, n, s in zip(d[key], d["n"], d["share"], strict=True)
        )
        parts.append(f"{_inst(inst, lang)} ({unit}): {vals}.")
    parts.append(text("cs_alt_hidden", lang))
    return " ".join(parts)


# ---------------------------------------------------------------------------- funnel
def funnel_chart(df: pd.DataFrame, *, title: str, lang: str = "es", ncols: int = 2):
    """The funnel per institution: bars for each stage reached (widest first) with "n (% of
    the first step)", then the non-judicial exit (hatched) and records without a stage
    (grey). ``df``: institution, unit, step, n, share_of_first (%)."""
    check_lang(lang)
    insts = list(dict.fromkeys(df["institution"]))
    steps = [*STAGES, NON_JUDICIAL_EXIT, MISSING]
    nrows, ncols = _grid(len(insts), ncols)
    fig, axes = new_figure(
        width=9.8, height=1.3 + nrows * 3.0, nrows=nrows, ncols=ncols, squeeze=False
    )
    axes = axes.ravel()
    for j, (ax, inst) in enumerate(zip(axes, insts, strict=False)):
        d = df[df["institution"] == inst].set_index("step").reindex(steps)
        hatches = [None] * len(STAGES) + [EXIT_HATCH, GREY_HATCH]
        labels = [
            _n_share(n, np.nan if st == MISSING else sh, lang)
            for st, n, sh in zip(steps, d["n"], d["share_of_first"], strict=True)
        ]
        _bars_panel(ax, d["n"].to_numpy(dtype=float), labels, inst, hatches)
        ax.axhline(len(STAGES) - 0.5, color=GREY_EDGE, linewidth=0.8)
        labels = [category_label("funnel", s, lang) for s in steps]
        ax.set_yticks(
            range(len(steps)), labels if j % ncols == 0 else [""] * len(steps), fontsize=9
        )
        unit = df.loc[df["institution"] == inst, "unit"].iloc[0]
        ax.set_title(_panel_title(inst, unit, lang), fontsize=10)
        ax.set_xlabel(unit_label(unit, lang), fontsize=8.5)
        ax.xaxis.set_major_formatter(_thousands_formatter(lang))
    _hide_unused(axes, len(insts))
    extra = [
        Patch(
            facecolor="white",
            edgecolor=GREY_EDGE,
            hatch=EXIT_HATCH,
            label=category_label("funnel", NON_JUDICIAL_EXIT, lang),
        )
    ]
    handles = [
        Patch(
            facecolor=GREY, edgecolor=GREY_EDGE, hatch=GREY_HATCH, label=text("cs_missing", lang)
        ),
        _hidden_handle(lang),
        *extra,
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8.5)
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=12.5)
    return fig


def funnel_alt(df: pd.DataFrame, *, title: str, lang: str = "es") -> str:
    parts = [f"{title}."]
    for inst, d in df.groupby("institution", sort=False):
        unit = unit_label(d["unit"].iloc[0], lang)
        vals = "; ".join(
            f"{category_label('funnel', s, lang)} {count_text(n, lang)}"
            + (f" ({pct(sh, lang)})" if s != MISSING and not pd.isna(sh) else "")
            for s, n, sh in zip(d["step"], d["n"], d["share_of_first"], strict=True)
        )
        parts.append(f"{_inst(inst, lang)} ({unit}): {vals}.")
    parts.append(text("cs_alt_hidden", lang))
    return " ".join(parts)


# ----------------------------------------------------------- published vs. records
def comparison_chart(df: pd.DataFrame, *, title: str, lang: str = "es", source: str = "synthetic"):
    """Each published figure beside the count of the corresponding records.

    One panel per institution whose records are compared (each with its own scale); per
    figure two bars: the published value (solid, the publisher's colour, with its unit) and
    the records' count (dotted hatch, the institution's colour, with its unit). ``df``:
    figure, published_institution, metric, published_value, published_unit, period_start,
    period_end, institution, unit, n (gated)."""
    check_lang(lang)
    insts = list(dict.fromkeys(df["institution"]))
    heights = [max(2, int((df["institution"] == i).sum())) for i in insts]
    fig, axes = new_figure(
        width=9.5,
        height=1.4 + sum(0.75 * h + 0.7 for h in heights),
        nrows=len(insts),
        squeeze=False,
        height_ratios=heights,
    )
    axes = axes[:, 0]
    for ax, inst in zip(axes, insts, strict=True):
        d = df[df["institution"] == inst].reset_index(drop=True)
        _comparison_panel(ax, d, inst, lang, source)
    handles = [
        Patch(facecolor=GREY_EDGE, label=text("cs_published_bar", lang)),
        Patch(
            facecolor="white",
            edgecolor=GREY_EDGE,
            hatch=SYNTHETIC_HATCH if source == "synthetic" else None,
            label=text(f"cs_records_bar_{source}", lang),
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8.5)
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=12.5)
    return fig


def _comparison_panel(ax, d: pd.DataFrame, inst: str, lang: str, source: str) -> None:
    """One institution's panel: per figure, the published bar above the records' bar."""
    y = np.arange(len(d))
    pub_colors = [institution_style(p)["color"] for p in d["published_institution"]]
    ax.barh(y - 0.2, d["published_value"].to_numpy(dtype=float), height=0.38, color=pub_colors)
    rec = d["n"].to_numpy(dtype=float)
    st = institution_style(inst)
    ax.barh(
        y + 0.2,
        rec,
        height=0.38,
        facecolor=_lighten(st["color"], 0.35),
        edgecolor=st["color"],
        hatch=SYNTHETIC_HATCH if source == "synthetic" else None,
    )
    xmax = np.nanmax(np.r_[d["published_value"].to_numpy(dtype=float), rec])
    _annotate_comparison(ax, d, lang)
    ax.set_yticks(y, [_comparison_row_label(r, lang) for r in d.itertuples()], fontsize=8.5)
    ax.invert_yaxis()
    ax.set_xlim(0, (xmax if np.isfinite(xmax) and xmax > 0 else 1) * 1.35)
    ax.grid(axis="y", visible=False)
    ax.xaxis.set_major_formatter(_thousands_formatter(lang))
    ax.set_title(
        text(
            "cs_comparison_panel",
            lang,
            records=_inst(inst, lang),
            published=", ".join(dict.fromkeys(_inst(p, lang) for p in d["published_institution"])),
        ),
        fontsize=10,
    )
    ax.set_xlabel(text("cs_comparison_axis", lang), fontsize=8.5)


def _annotate_comparison(ax, d: pd.DataFrame, lang: str) -> None:
    """Write value and unit at the end of each bar; a hidden count is marked at 0."""
    for i, row in d.iterrows():
        ax.annotate(
            f"{thousands(row.published_value, lang)} {unit_label(row.published_unit, lang)}",
            (row.published_value, i - 0.2),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8.5,
        )
        label = (
            HIDDEN if pd.isna(row.n) else f"{thousands(row.n, lang)} {unit_label(row.unit, lang)}"
        )
        ax.annotate(
            label,
            (0 if pd.isna(row.n) else row.n, i + 0.2),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8.5,
        )


def _comparison_row_label(row, lang: str) -> str:
    start, end = pd.Timestamp(row.period_start), pd.Timestamp(row.period_end)
    if (
        start.month == 1
        and start.day == 1
        and end.month == 12
        and end.day == 31
        and start.year == end.year
    ):
        period = str(start.year)
    else:
        period = f"{_date(start, lang)} – {_date(end, lang)}"
    from ..ingest.published import metric_label

    what = textwrap.shorten(metric_label(row.metric, lang), width=60, placeholder="…")
    return f"{period} ({row.figure})\n" + "\n".join(textwrap.wrap(what, width=32))


def comparison_alt(
    df: pd.DataFrame, *, title: str, lang: str = "es", source: str = "synthetic"
) -> str:
    from ..ingest.published import metric_label

    parts = [f"{title}."]
    for r in df.itertuples():
        parts.append(
            text(
                "cs_alt_comparison",
                lang,
                figure=r.figure,
                published=_inst(r.published_institution, lang),
                metric=metric_label(r.metric, lang),
                period=_comparison_row_label(r, lang).split("\n")[0],
                value=thousands(r.published_value, lang),
                published_unit=unit_label(r.published_unit, lang),
                records=_inst(r.institution, lang),
                n=count_text(r.n, lang),
                unit=unit_label(r.unit, lang),
                kind=text(f"cs_records_kind_{source}", lang),
            )
        )
    return " ".join(parts)
