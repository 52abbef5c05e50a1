"""The territorial view: records per region, north to south, per institution, and rates per
100,000 inhabitants where a population denominator with its source is available.

Rules this module keeps:

- Each institution is counted in its own unit (persons, cases, offences...); nothing is
  summed across institutions, so there is one panel and one gated table per institution.
- Records without a region are counted in their own row, never dropped silently.
- Counts reach a chart only through the disclosure gate (``gate_counts``, one
  one-way table per institution: 16 regions + "no region", with its total); rates through
  the gate for estimates (a rate resting on fewer than k records is hidden), and both charts
  draw only the gated values.
- With a period (the notebook passes the selection's), rates are per 100,000 per year over
  the person-years of INE's population projections by region, year and sex
  (``population.py``; women only for attempted femicide). Without one, the denominator is
  the 2017 census population of ``data/reference/regions.csv``, where Ñuble and Biobío have
  no source for their 2018 split: their rates are then marked (hatched bar, dagger,
  footnote), never shown as if they were as solid as the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from ..analysis import counts as analysis
from ..core import canon
from ..core.i18n import check_lang, institution_name, text, unit_label
from ..core.style import institution_style, new_figure, thousands, thousands_formatter
from ..gate import disclosure
from ..gate.publish import GatedCounts, PublishedTable, gate_counts, publish_table
from ..ingest import codebooks

PER = 100_000
DAGGER = "†"
CENSUS_DATE = "2017-12-22"  # publication of the final 2017 census figures (regions.csv notes)


# --------------------------------------------------------------------------------------
# regions and their denominators
# --------------------------------------------------------------------------------------
@cache
def _regions() -> pd.DataFrame:
    df = canon.regions().copy()
    df["population_sourced"] = df["source_url"].notna() & (df["source_url"].str.len() > 0)
    return df


def regions_table() -> pd.DataFrame:
    """The 16 regions north to south with population, its source and whether it has one."""
    return _regions().copy()


@cache
def region_label(code: str, lang: str = "es") -> str:
    """'Arica y Parinacota (XV)': short name and Roman numeral, as Chilean readers know them."""
    check_lang(lang)
    roman = dict(zip(_regions()["code"], _regions()["roman"], strict=True))[code]
    return f"{text(f'region_short_{code}', lang)} ({roman})"


def unsourced_regions() -> list[str]:
    """Codes of regions whose population figure has no source address."""
    r = regions_table()
    return r.loc[~r["population_sourced"], "code"].tolist()


# --------------------------------------------------------------------------------------
# counting
# --------------------------------------------------------------------------------------
def select(
    records: pd.DataFrame,
    case_study: str,
    *,
    institutions=None,
    period_start=None,
    period_end=None,
) -> analysis.Selection:
    """The records a territorial page shows: the same selection as the case-study pages
    (``analysis.select``: each record placed in time by its institution's event date, else
    its report date; undated records counted apart)."""
    info = analysis.institution_info(case_study, institutions)
    return analysis.select(
        records,
        case_study,
        info,
        institutions=institutions,
        period_start=period_start,
        period_end=period_end,
    )


def region_counts(records: pd.DataFrame, institutions=None) -> pd.DataFrame:
    """Records per institution × region, north to south, zeros included, plus a
    ``region_code`` NA row per institution for records without a region.

    Both columns are turned into integer codes once and counted with one ``bincount``
    (linear in the rows). Columns: institution, region_code, order (1..16, 17 for no
    region), count.
    """
    insts = (
        list(institutions) if institutions is not None else sorted(records["institution"].unique())
    )
    codes = canon.region_codes()
    n_areas = len(codes) + 1  # the 16 regions, then "no region"
    inst_idx = _positions(records["institution"], insts, -1)
    # missing (or not a region code): "no region", the last area
    region_idx = _positions(records["region_code"], codes, len(codes))
    keep = inst_idx >= 0
    flat = inst_idx[keep] * n_areas + region_idx[keep]
    counts = np.bincount(flat, minlength=len(insts) * n_areas)
    return pd.DataFrame(
        {
            "institution": np.repeat(np.asarray(insts, dtype=object), n_areas),
            "region_code": np.tile(np.asarray([*codes, None], dtype=object), len(insts)),
            "order": np.tile(np.arange(1, n_areas + 1), len(insts)).astype("int64"),
            "count": counts.astype("int64"),
        }
    )


def _positions(values: pd.Series, wanted: list, other: int) -> np.ndarray:
    """Position of each value in ``wanted`` (``other`` when absent or missing), computed on
    the distinct values only (a hash factorisation of the column, then a small lookup)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    where = {v: i for i, v in enumerate(wanted)}
    lookup = np.array([where.get(u, other) for u in uniques] + [other], dtype=np.int64)
    return lookup[codes]  # code -1 (missing) takes the last entry, ``other``


def rates(counts: pd.DataFrame, case_study: str | None = None, period=None) -> pd.DataFrame:
    """Rates per 100,000 for the 16 regions (records without a region get no rate).

    Adds population, its source, ``population_sourced`` and ``rate``. With ``period``
    (start, end): rates per 100,000 per year over the person-years of INE's projections
    (women only for attempted femicide, see ``population.py``); ``population`` is then the
    period's mean population. Without it: the 2017 census total (``regions.csv``).
    """
    out = counts.copy()
    known = out["region_code"].notna()
    if period is not None:
        from ..core import population as pop

        sex = pop.denominator_sex(case_study)
        py = pop.person_years(period[0], period[1], sex)
        mean = pop.mean_population(period[0], period[1], sex)
        out["population"] = out["region_code"].map(mean.round())
        out["population_source"] = np.where(known, pop.source()[1], None)
        out["population_sourced"] = known.to_numpy()
        out["rate"] = np.where(known, out["count"] / out["region_code"].map(py) * PER, np.nan)
        return out
    reg = _regions().set_index("code")
    out["population"] = out["region_code"].map(reg["population_census_2017"])
    out["population_source"] = out["region_code"].map(reg["source_url"])
    out["population_sourced"] = (
        out["region_code"].map(reg["population_sourced"]).fillna(False).astype(bool)
    )
    out["rate"] = np.where(known, out["count"] / out["population"] * PER, np.nan)
    return out


# --------------------------------------------------------------------------------------
# the gate
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GatedRegions:
    """One institution's regional counts and rates after the disclosure gate."""

    institution: str
    unit: str
    counts: GatedCounts  # one-way: 16 regions + no region, with total
    rates: PublishedTable  # estimates: rate per 100,000, hidden where the count is
    frame: pd.DataFrame  # region_code, order, label, count, rate, hidden, population_sourced
    per: str = ""  # label suffix of the rate: "" (census total), "_year", "_women_year"

    @property
    def tables(self) -> list[PublishedTable]:
        return [self.counts, self.rates]


def _labels(lang: str) -> list[str]:
    return [region_label(c, lang) for c in canon.region_codes()] + [text("terr_no_region", lang)]


def gate_regions(
    counts: pd.DataFrame,
    institution: str,
    case_study: str,
    lang: str = "es",
    *,
    k: int | None = None,
    period=None,
) -> GatedRegions:
    """Gate one institution's regional counts (small cells and their complements hidden) and
    its rates (a rate from a hidden count is hidden), with labels in ``lang``."""
    check_lang(lang)
    d = counts[counts["institution"] == institution].sort_values("order")
    if len(d) != len(canon.region_codes()) + 1:
        raise ValueError(f"{institution}: expected the 16 regions and a no-region row")
    unit = codebooks.get(institution, case_study).unit_of_count
    labels = _labels(lang)
    region_col = text("field_region_code", lang)
    count_col = text("terr_count_col", lang, unit=unit_label(unit, lang))
    name = f"{case_study}_{institution.lower()}_regions"
    series = pd.Series(
        d["count"].to_numpy(), index=pd.Index(labels, name=region_col), name=count_col
    )
    gated = gate_counts(series, name=f"{name}_counts", k=k, label=region_col, count_label=count_col)
    visible = gated.visible.to_numpy(dtype=float)

    r = rates(d, case_study, period).reset_index(drop=True)
    per = rate_per(case_study, period)
    rate_col = text("terr_rate_col" + per, lang)
    table = pd.DataFrame(
        {
            region_col: labels,
            count_col: r["count"].to_numpy(),
            text("terr_population_col" + per, lang): r["population"].astype("Int64"),
            rate_col: r["rate"].round(1),
            text("terr_population_source_col", lang): [
                src if ok else (text("terr_unsourced", lang) if pd.notna(code) else "")
                for src, ok, code in zip(
                    r["population_source"], r["population_sourced"], r["region_code"], strict=True
                )
            ],
        }
    )
    published_rates = publish_table(
        table, name=f"{name}_rates", kind="estimates", observed=count_col, k=k
    )
    rate_hidden = published_rates.table[count_col].eq(disclosure.SUPPRESSED).to_numpy()
    hidden = np.isnan(visible)
    if not np.array_equal(hidden, rate_hidden):  # both gates apply one rule to one table
        raise disclosure.DisclosureError(f"{name}: counts and rates were gated differently")
    frame = pd.DataFrame(
        {
            "region_code": r["region_code"],
            "order": r["order"],
            "label": labels,
            "count": visible,
            "rate": np.where(hidden, np.nan, r["rate"].round(1)),
            "hidden": hidden,
            "population_sourced": r["population_sourced"],
        }
    )
    return GatedRegions(institution, unit, gated, published_rates, frame, per)


def rate_per(case_study: str | None, period) -> str:
    """Which rate: per 100,000 inhabitants (2017 census, no period), per 100,000
    inhabitants per year, or per 100,000 women per year (attempted femicide)."""
    from ..core.population import denominator_sex

    if period is None:
        return ""
    return "_women_year" if denominator_sex(case_study) == "female" else "_year"


def downloads_about(gated: list[GatedRegions]) -> dict:
    """Institution and unit of count of each gated table, for its downloadable CSV."""
    return {t.name: {"institution": g.institution, "unit": g.unit} for g in gated for t in g.tables}


def gate_all(
    counts: pd.DataFrame,
    case_study: str,
    lang: str = "es",
    *,
    k: int | None = None,
    period=None,
) -> list[GatedRegions]:
    """Every institution's regional counts and rates; ``period`` (start, end): annual rates
    over INE's projected population of those years (see :func:`rates`)."""
    return [
        gate_regions(counts, inst, case_study, lang, k=k, period=period)
        for inst in dict.fromkeys(counts["institution"])
    ]


# --------------------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------------------
def _num(value: float, lang: str, digits: int = 1) -> str:
    s = f"{value:,.{digits}f}"
    if lang == "es":
        s = s.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
    return s


def _join(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + (" y " if lang == "es" else " and ") + items[-1]


def _groups(by_region: dict[str, list[str]], lang: str) -> str:
    """'Metropolitana (RM) para Fiscalía y PDI; Tarapacá (I) para OSC'."""
    word = " para " if lang == "es" else " for "
    return "; ".join(f"{region}{word}{_join(who, lang)}" for region, who in by_region.items())


def _decimal_formatter(lang: str):
    from matplotlib.ticker import FuncFormatter

    def fmt(value, _pos):
        s = f"{value:g}"
        return s.replace(".", ",") if lang == "es" else s

    return FuncFormatter(fmt)


def _top(frame: pd.DataFrame, col: str) -> pd.Series | None:
    regional = frame[frame["region_code"].notna() & frame[col].notna() & (frame[col] > 0)]
    if regional.empty:
        return None
    return regional.sort_values([col, "order"], ascending=[False, True]).iloc[0]


def lead_finding(gated: list[GatedRegions], lang: str = "es") -> str:
    """Where each institution records most, and where its rate per 100,000 is highest,
    grouped by region so the page reads at a glance; plus records without a region."""
    check_lang(lang)
    most: dict[str, list[str]] = {}
    highest: dict[str, list[str]] = {}
    for g in gated:
        who = institution_name(g.institution, short=True)
        top = _top(g.frame, "count")
        if top is not None:
            most.setdefault(top["label"], []).append(who)
        top_rate = _top(g.frame, "rate")
        if top_rate is not None:
            label = top_rate["label"] + ("" if top_rate["population_sourced"] else DAGGER)
            highest.setdefault(label, []).append(who)
    parts = []
    if most:
        parts.append(
            text(
                "terr_lead_most",
                lang,
                listing=_groups(most, lang),
            )
        )
    if highest:
        parts.append(
            text(
                "terr_lead_rate" + (gated[0].per if gated else ""),
                lang,
                listing=_groups(highest, lang),
            )
        )
    if not parts:
        return text("terr_lead_nothing", lang)
    missing = []
    for g in gated:
        no_region = g.frame.iloc[-1]
        total = g.counts.totals["grand"]
        if not no_region["hidden"] and no_region["count"] > 0 and np.isfinite(total) and total > 0:
            missing.append(
                f"{institution_name(g.institution, short=True)} {_num(100 * no_region['count'] / total, lang, 0)} %"
                if lang == "es"
                else f"{institution_name(g.institution, short=True)} {_num(100 * no_region['count'] / total, lang, 0)}%"
            )
    if missing:
        parts.append(text("terr_lead_no_region", lang, listing=_join(missing, lang)))
    return " ".join(parts)


def what_region_means(case_study: str, institutions, lang: str = "es") -> pd.DataFrame:
    """Per institution: the unit, the column its region comes from and the codebook's note on
    it (residence, prosecutor's office, place of the event...)."""
    check_lang(lang)
    rows = []
    for inst in institutions:
        cb = codebooks.get(inst, case_study)
        spec = cb.specs.get("region_code")
        recorded = spec is not None and spec.recorded
        note = ((spec.notes or {}).get(lang) if recorded else None) or ""
        rows.append(
            {
                text("institution", lang): institution_name(inst, lang, short=True),
                text("rp_unit_of_count", lang): unit_label(cb.unit_of_count, lang),
                text("terr_region_column", lang): f"«{spec.original_name}»"
                if recorded
                else text("rp_not_recorded", lang),
                text("terr_region_note", lang): note or "—",
                text("terr_record_note", lang): (cb.notes or {}).get(lang) or "—",
                text("cb_status_column", lang): _codebook_status(cb, lang),
            }
        )
    return pd.DataFrame(rows)


def _codebook_status(cb, lang: str) -> str:
    from ..ingest.codebook_status import label

    return label(cb, lang)


def population_source_line(lang: str = "es", period=None) -> str:
    """Where the denominator comes from: INE's projections when rates are per year over a
    period, else the 2017 census figures of ``regions.csv``."""
    if period is not None:
        from ..core.population import source

        title, url = source()
        years = f"{pd.Timestamp(period[0]).year}–{pd.Timestamp(period[1]).year}"
        return text("terr_population_source_ine", lang, title=title, url=url, years=years)
    r = regions_table()
    urls = sorted(set(r.loc[r["population_sourced"], "source_url"]))
    when = pd.Timestamp(CENSUS_DATE).strftime("%d-%m-%Y" if lang == "es" else "%Y-%m-%d")
    return text("terr_population_source", lang, date=when, urls=" ".join(urls))


def unsourced_note(lang: str = "es", period=None) -> str:
    """The footnote on Ñuble/Biobío's census population ('' when INE's projections, which
    give both regions, are the denominator)."""
    if period is not None:
        return ""
    r = regions_table().set_index("code")
    names = [text(f"region_short_{c}", lang) for c in unsourced_regions()]
    total = int(r.loc[unsourced_regions(), "population_census_2017"].sum())
    return text(
        "terr_unsourced_note",
        lang,
        dagger=DAGGER,
        regions=_join(names, lang),
        total=thousands(total, lang),
    )


def alt_text(gated: list[GatedRegions], case_study: str, value: str, lang: str = "es") -> str:
    """Every visible value of the chart, panel by panel, north to south."""
    check_lang(lang)
    title = chart_title(case_study, value, lang)
    parts = []
    for g in gated:
        regional = g.frame[g.frame["region_code"].notna()]
        vals = []
        for r in regional.itertuples():
            if r.hidden:
                shown = disclosure.SUPPRESSED
            elif value == "rate":
                shown = _num(r.rate, lang) + ("" if r.population_sourced else DAGGER)
            else:
                shown = thousands(r.count, lang)
            vals.append(f"{r.label} {shown}")
        unit = unit_label(g.unit, lang)
        parts.append(f"{institution_name(g.institution, short=True)} ({unit}): " + "; ".join(vals))
    return f"{title}. " + ". ".join(parts) + "."


def chart_title(case_study: str, value: str, lang: str = "es", per: str = "") -> str:
    key = "terr_rates_title" + per if value == "rate" else "terr_counts_title"
    return text(key, lang, case_study=canon.case_study_label(case_study, lang))


# --------------------------------------------------------------------------------------
# chart: small multiples, regions north (top) to south (bottom)
# --------------------------------------------------------------------------------------
def plot_regions(
    gated: list[GatedRegions], case_study: str, value: str = "count", lang: str = "es"
):
    """One panel per institution; 16 regions on the y axis in geographic order (north at the
    top); a bar per region in the institution's colour with its value written at the end;
    ``[c]`` where the gate hid the value. For rates, Ñuble and Biobío (population without a
    source) are hatched and marked with a dagger, explained under the chart."""
    check_lang(lang)
    if value not in ("count", "rate"):
        raise ValueError("value must be 'count' or 'rate'")
    n = len(gated)
    if n == 0:
        raise ValueError("no institution to plot")
    ncols = min(3, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = new_figure(
        width=4.0 * ncols + 1.6,
        height=5.2 * nrows + 0.9,
        nrows=nrows,
        ncols=ncols,
        squeeze=False,
        sharey=True,
    )
    labels = [region_label(c, lang) for c in canon.region_codes()]
    for i, ax in enumerate(axes.ravel()):
        if i >= n:
            ax.set_visible(False)
            continue
        _region_panel(ax, gated[i], value, lang, labels, fallback=i)
    fig.suptitle(
        chart_title(case_study, value, lang, gated[0].per if gated else ""),
        x=0.01,
        ha="left",
        fontweight="bold",
        fontsize=12.5,
    )
    axes[0][0].set_ylabel(text("terr_region_axis", lang))
    notes = [text("terr_chart_key", lang)]
    if value == "rate" and not (gated and gated[0].per):  # INE's projections give Ñuble
        notes.append(unsourced_note(lang))
    fig.text(0.0, -0.01, " ".join(notes), fontsize=8.5, ha="left", va="top", wrap=True)
    return fig


def _region_panel(ax, g: GatedRegions, value: str, lang: str, labels: list[str], fallback: int):
    """One institution's panel: a bar per region (hidden values drawn as 0), labelled."""
    st = institution_style(g.institution, fallback=fallback)
    f = g.frame[g.frame["region_code"].notna()].reset_index(drop=True)
    vals = f[value].to_numpy(dtype=float)
    shown = np.where(f["hidden"], 0.0, vals)
    vmax = np.nanmax(shown) if np.isfinite(shown).any() and np.nanmax(shown) > 0 else 1.0
    hatches = ["////" if (value == "rate" and not ok) else None for ok in f["population_sourced"]]
    y = np.arange(len(labels))
    bars = ax.barh(y, shown, color=st["color"], edgecolor=st["color"], height=0.7, alpha=0.9)
    for bar, hatch in zip(bars, hatches, strict=True):
        if hatch:
            bar.set_hatch(hatch)
            bar.set_facecolor("white")
    _annotate_region_values(ax, f, vals, value, lang)
    ax.set_axisbelow(True)  # grid lines behind the bars
    ax.set_xlim(0, vmax * 1.3)
    ax.set_yticks(y, labels, fontsize=8.5)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # north at the top
    ax.grid(axis="y", visible=False)
    ax.tick_params(axis="x", labelsize=8)
    _label_region_panel(ax, g, value, lang)


def _annotate_region_values(ax, f: pd.DataFrame, vals: np.ndarray, value: str, lang: str):
    """Write each region's value at the end of its bar: ``[c]`` at 0 when the gate hid it,
    a dagger after rates whose population has no source."""
    for yi, (v, hid, ok) in enumerate(zip(vals, f["hidden"], f["population_sourced"], strict=True)):
        if hid:
            label = disclosure.SUPPRESSED
            x = 0
        elif value == "rate":
            label = _num(v, lang) + ("" if ok else DAGGER)
            x = v
        else:
            label = thousands(v, lang)
            x = v
        ax.annotate(
            label, (x, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8
        )


def _label_region_panel(ax, g: GatedRegions, value: str, lang: str):
    """Panel title (institution, unit, records without a region) and value axis."""
    unit = unit_label(g.unit, lang)
    no_region = g.frame.iloc[-1]
    nr = disclosure.SUPPRESSED if no_region["hidden"] else thousands(no_region["count"], lang)
    ax.set_title(
        f"{institution_name(g.institution, lang, short=True)} · {unit}\n"
        + text("terr_no_region_note", lang, n=nr),
        fontsize=10.5,
    )
    ax.xaxis.set_major_formatter(
        _decimal_formatter(lang) if value == "rate" else thousands_formatter(lang)
    )
    ax.set_xlabel(
        text("terr_rate_axis" + g.per, lang, unit=unit)
        if value == "rate"
        else text("terr_count_axis", lang, unit=unit),
        fontsize=8.5,
    )


def counts_source_line(source: str, case_study: str, lang: str = "es") -> str:
    data = (
        text("synthetic_short", lang) if source == "synthetic" else text("terr_private_data", lang)
    )
    return text("rp_source_records", lang, data=data, case_study=case_study)


def rates_source_line(source: str, case_study: str, lang: str = "es", period=None) -> str:
    pop = population_source_line(lang, period)
    return f"{counts_source_line(source, case_study, lang)} {pop}"


# --------------------------------------------------------------------------------------
# the page
# --------------------------------------------------------------------------------------
def page_title(case_study: str, lang: str = "es") -> str:
    return text("terr_page_title", lang, case_study=canon.case_study_label(case_study, lang))


def selection_sentence(sel: analysis.Selection, lang: str = "es") -> str:
    """The period shown, how records are placed in it, and which institutions had records
    that could not be placed (no usable date). No count is given here: counts go through
    the gate and appear in the charts' data."""
    check_lang(lang)
    fmt = "%d-%m-%Y" if lang == "es" else "%Y-%m-%d"
    out = text(
        "terr_selection",
        lang,
        start=sel.start.strftime(fmt),
        end=sel.end.strftime(fmt),
        who=_join([institution_name(i, lang, short=True) for i in sel.institutions], lang),
    )
    undated = [institution_name(i, lang, short=True) for i, n in sel.undated.items() if n > 0]
    if undated:
        out += " " + text("terr_undated", lang, who=_join(undated, lang))
    return out


def what_region_means_table(case_study: str, institutions, lang: str = "es") -> PublishedTable:
    return publish_table(
        what_region_means(case_study, institutions, lang),
        name=f"{case_study}_region_meaning",
        kind="metadata",
        origin=f"data/codebooks/{case_study}",
    )
