"""Real published figures (``data/published/figures.csv``): loading, comparison, charts.

Every figure carries its source address and publication date; these functions never drop
them. Figures are grouped into families of comparable metrics (``metrics.yaml``) so that
what different institutions counted about the same phenomenon appears side by side.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from ..core import contracts
from ..core.i18n import check_lang, institution_name, text, unit_label
from ..core.paths import published_dir
from ..core.style import institution_style, new_figure, thousands, thousands_formatter

FIGURES_FILE = "figures.csv"
START_TOLERANCE = pd.Timedelta(days=7)


def read_figures_csv(path: Path) -> pd.DataFrame:
    """Read a figures file as text, with ``source_row`` = line number in the file."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    df.insert(0, "source_row", range(2, len(df) + 2))
    return df


def validate_figures(path: Path) -> contracts.ValidationReport:
    return contracts.validate(
        read_figures_csv(path), contracts.PublishedFigureModel, source=str(path)
    )


@cache
def _all_figures() -> pd.DataFrame:
    path = published_dir() / FIGURES_FILE
    report = validate_figures(path).raise_if_failed()
    return report.accepted.drop(columns=["source_row"]).reset_index(drop=True)


def published_figures(case_study: str | None = None) -> pd.DataFrame:
    """The validated published figures, optionally for one case study."""
    df = _all_figures().copy()
    if case_study is not None:
        df = df[df["case_study"] == case_study].reset_index(drop=True)
    return df.assign(family=df["metric"].map(lambda m: _metric(m)["family"]))


@cache
def _metrics() -> dict:
    with open(published_dir() / "metrics.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _metric(metric: str) -> dict:
    try:
        return _metrics()["metrics"][metric]
    except KeyError:
        raise KeyError(
            f"metric {metric!r} is not described in data/published/metrics.yaml"
        ) from None


def metric_label(metric: str, lang: str = "es") -> str:
    return _metric(metric)[check_lang(lang)]


def family_title(family: str, lang: str = "es") -> str:
    return _metrics()["families"][family]["title"][check_lang(lang)]


def families(df: pd.DataFrame) -> list[str]:
    """Families present in ``df``, in the order metrics.yaml lists them."""
    present = set(df["family"])
    return [f for f in _metrics()["families"] if f in present]


def _date(ts: pd.Timestamp, lang: str) -> str:
    return ts.strftime("%d-%m-%Y") if lang == "es" else ts.strftime("%Y-%m-%d")


def comparison_table(df: pd.DataFrame, lang: str = "es") -> pd.DataFrame:
    """One row per figure, ordered by family and period, with source and date visible."""
    check_lang(lang)
    order = {f: i for i, f in enumerate(_metrics()["families"])}
    d = df.assign(_o=df["family"].map(order)).sort_values(["_o", "period_end", "as_of", "id"])
    return pd.DataFrame(
        {
            "id": d["id"],
            text("institution", lang): d["institution"].map(
                lambda i: institution_name(i, lang, short=True)
            ),
            text("what_is_counted", lang): d["metric"].map(lambda m: metric_label(m, lang)),
            text("value", lang): d["value"].map(lambda v: thousands(v, lang)),
            text("unit", lang): d["unit"].map(lambda u: unit_label(u, lang)),
            text("period", lang): [
                f"{_date(a, lang)} – {_date(b, lang)}"
                for a, b in zip(d["period_start"], d["period_end"], strict=True)
            ],
            text("published", lang): d["as_of"].map(lambda t: _date(t, lang)),
            text("source_kind", lang): d["source_kind"].map(
                lambda k: text("source_kind_" + k, lang)
            ),
            text("source", lang): d["source_url"],
            text("source_note", lang): d["id"].map(lambda i: source_note(i, lang)),
        }
    ).reset_index(drop=True)


@cache
def _source_notes() -> dict:
    from ..core.paths import data_dir

    path = data_dir() / "published" / "source_notes.yaml"
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def source_note(figure_id: str, lang: str = "es") -> str:
    """What a reader must know about the quality of a figure's source ('—' if nothing)."""
    note = _source_notes().get(figure_id)
    return note[lang] if note else "—"


def disagreements(df: pd.DataFrame) -> pd.DataFrame:
    """Figures of the same family, unit and period whose values differ.

    Two figures disagree when they count the same thing (the same metric, or metrics marked
    ``same_as`` in metrics.yaml, in the same unit) over the same period (same end, starts
    at most ``START_TOLERANCE`` apart) and give
    different numbers, whether from two institutions or two reports of one institution.
    """
    d = df.assign(
        _end=df["period_end"].dt.to_period("D"),
        _metric=df["metric"].map(lambda m: _metric(m).get("same_as", m)),
    )
    rows = []
    for (family, unit, metric, _end), g in d.groupby(
        ["family", "unit", "_metric", "_end"], sort=True
    ):
        # periods that end the same day and start within a week count as the same period
        # (e.g. INDH counting from 17 October, the health ministry from 18 October 2019)
        g = g.sort_values("period_start")
        cluster = (g["period_start"].diff() > START_TOLERANCE).cumsum()
        for _, same in g.groupby(cluster):
            if same["value"].nunique() > 1:
                rows.append(_disagreement_row(family, unit, metric, same))
    cols = ["family", "unit", "metric", "period_start", "period_end", "ids", "low", "high", "ratio"]
    return pd.DataFrame(rows, columns=cols)


def _disagreement_row(family, unit, metric, g) -> dict:
    return {
        "family": family,
        "unit": unit,
        "metric": metric,
        "period_start": g["period_start"].min(),
        "period_end": g["period_end"].max(),
        "ids": ", ".join(sorted(g["id"])),
        "low": g["value"].min(),
        "high": g["value"].max(),
        "ratio": g["value"].max() / g["value"].min() if g["value"].min() > 0 else float("nan"),
    }


def disagreements_table(df: pd.DataFrame, lang: str = "es") -> pd.DataFrame:
    dis = disagreements(df)
    by_id = df.set_index("id")
    return pd.DataFrame(
        {
            text("what_is_counted", lang): [family_title(f, lang) for f in dis["family"]],
            text("period", lang): [
                f"{_date(a, lang)} – {_date(b, lang)}"
                for a, b in zip(dis["period_start"], dis["period_end"], strict=True)
            ],
            text("figures_compared", lang): [
                "; ".join(
                    f"{i} {institution_name(by_id.at[i, 'institution'], lang, short=True)} "
                    f"{thousands(by_id.at[i, 'value'], lang)} ({_date(by_id.at[i, 'as_of'], lang)})"
                    for i in ids.split(", ")
                )
                for ids in dis["ids"]
            ],
            text("low", lang): dis["low"].map(lambda v: thousands(v, lang)),
            text("high", lang): dis["high"].map(lambda v: thousands(v, lang)),
            text("source", lang): [
                " ".join(sorted({by_id.at[i, "source_url"] for i in ids.split(", ")}))
                for ids in dis["ids"]
            ],
        }
    )


# ------------------------------------------------------------------------------ charts
def _series_label(row, lang: str) -> str:
    return (
        f"{institution_name(row.institution, lang, short=True)}: {metric_label(row.metric, lang)}"
    )


def plot_family(df: pd.DataFrame, family: str, lang: str = "es"):
    """The chart for one family: a dot plot of each figure, or annual series."""
    check_lang(lang)
    sub = df[df["family"] == family].sort_values(["period_end", "as_of", "id"])
    kind = _metrics()["families"][family]["chart"]
    if kind == "annual":
        return _plot_annual(sub, family, lang)
    return _plot_dots(sub, family, lang)


def _plot_dots(sub: pd.DataFrame, family: str, lang: str):
    """One row per figure: value as a labelled dot, rows read as 'who, what, until when'."""
    n = len(sub)
    fig, ax = new_figure(width=9.5, height=max(2.4, 0.5 * n + 1.4))
    labels = []
    vmax = sub["value"].max()
    for y, row in enumerate(sub.itertuples()):
        st = institution_style(row.institution)
        ax.hlines(y, 0, row.value, color="#bbbbbb", linewidth=1.2, zorder=1)
        ax.plot(row.value, y, linestyle="none", zorder=3, markeredgecolor="white", **st)
        ax.annotate(
            thousands(row.value, lang),
            (row.value, y),
            xytext=(7, 0),
            textcoords="offset points",
            va="center",
            fontsize=9.5,
        )
        until = _date(row.period_end, lang)
        unit = unit_label(row.unit, lang)
        labels.append(
            f"{_series_label(row, lang)}\n{text('until', lang)} {until} · {unit} · {row.id}"
        )
    ax.set_yticks(range(n), labels, fontsize=8.5)
    ax.invert_yaxis()
    ax.set_xlim(0, vmax * 1.18)
    ax.xaxis.set_major_formatter(thousands_formatter(lang))
    ax.set_xlabel(f"{text('count_axis', lang)} ({_units(sub, lang)})")
    ax.grid(axis="y", visible=False)
    ax.set_title(family_title(family, lang))
    return fig


def _plot_annual(sub: pd.DataFrame, family: str, lang: str):
    """One line per (institution, metric), x = calendar year, every point labelled."""
    fig, ax = new_figure(width=8.5, height=4.6)
    series = list(sub.groupby(["institution", "metric"], sort=False))
    for i, ((inst, _metric_name), g) in enumerate(series):
        st = institution_style(inst, fallback=i)
        years = g["period_end"].dt.year
        linestyle = ["-", "--", ":", "-."][i % 4]
        ax.plot(years, g["value"], linestyle=linestyle, label=_series_label(g.iloc[0], lang), **st)
        for x, v in zip(years, g["value"], strict=True):
            ax.annotate(
                thousands(v, lang),
                (x, v),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                fontsize=9,
            )
    years = sorted(sub["period_end"].dt.year.unique())
    ax.set_xticks(years, [str(y) for y in years])
    ax.set_ylim(0, sub["value"].max() * 1.2)
    ax.yaxis.set_major_formatter(thousands_formatter(lang))
    ax.set_xlabel(text("year_axis", lang))
    ax.set_ylabel(f"{text('count_axis', lang)} ({_units(sub, lang)})")
    ax.legend(loc="upper left", fontsize=9)
    ax.set_title(family_title(family, lang))
    return fig


def _units(sub: pd.DataFrame, lang: str) -> str:
    return ", ".join(unit_label(u, lang) for u in sorted(sub["unit"].unique()))


def alt_text(df: pd.DataFrame, family: str, lang: str = "es") -> str:
    """A text alternative listing every figure the chart shows."""
    sub = df[df["family"] == family].sort_values(["period_end", "as_of", "id"])
    parts = [
        f"{institution_name(r.institution, lang, short=True)}, {metric_label(r.metric, lang)}, "
        f"{_date(r.period_start, lang)}–{_date(r.period_end, lang)}: {thousands(r.value, lang)}"
        for r in sub.itertuples()
    ]
    return f"{family_title(family, lang)}. " + "; ".join(parts) + "."


def sources_line(df: pd.DataFrame, family: str, lang: str = "es") -> str:
    ids = ", ".join(sorted(df.loc[df["family"] == family, "id"]))
    return f"{text('source', lang)}: {text('sources', lang).lower()} {ids} — " + (
        "ver la tabla de fuentes" if lang == "es" else "see the table of sources"
    )


@cache
def _readings() -> dict:
    with open(published_dir() / "readings.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def reading(case_study: str, lang: str = "es") -> str:
    """The careful reading of the figures for a case study (Markdown)."""
    return _readings()[case_study][check_lang(lang)].strip()


def introduction(lang: str = "es") -> str:
    return _readings()["introduction"][check_lang(lang)].strip()


def page_title(case_study: str, lang: str = "es") -> str:
    from ..core.canon import case_study_label

    return text("published_page_title", lang, case_study=case_study_label(case_study, lang))
