"""The real-data sections of the pages: what the notebooks call (one line each).

``show(case_study, lang)`` displays the real-data section that leads a case-study page and
then the heading that opens its synthetic demonstration; ``show_territorial(case_study,
lang)`` the real rates and the tile map of Chile; ``show_index(lang)`` the open-data index
page. Every figure is drawn from tables that passed the disclosure gate and is published
with them (``counts=``); tables re-published exactly as a publisher published them say so.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
from IPython.display import HTML, display

from ..analysis.display import say, show_figure, show_table
from ..gate.publish import gate_counts, publish_table
from ..mse import lcmcr as mse_lcmcr
from . import charts as ch
from . import eye_trauma, measures
from .charts import Line, Panel, t
from .readers import source_meta

K_NOTE = None  # the gate's k is the project's (DATAJUSTA_K or 5)
LEY_GABRIELA = 2020 + 2 / 12  # 4 March 2020, on a year axis
ESTALLIDO = "2019-10-18"


# ------------------------------------------------------------------------ provenance
def _licence(source: str, lang: str) -> str:
    stated = source_meta(source)["datajusta"]["licence_as_stated"]
    if stated.startswith("not stated"):
        return t("licence_not_stated", lang)
    if stated.startswith("Repository licence GPL-3"):
        return t("licence_gpl", lang)
    return stated.split(" (")[0]


def source_line(sources: list[str], publishers: list[str], unit: str, lang: str) -> str:
    """'Real data · publisher · unit · collected by repo (commit, date) · licence' for each
    source (the line under every real-data figure)."""
    parts = []
    for i, src in enumerate(sources):
        meta = source_meta(src)["datajusta"]
        line = t(
            "source_line",
            lang,
            publishers=publishers[i] if i < len(publishers) else publishers[-1],
            unit=unit,
            repo=meta["repository"].removeprefix("https://"),
            commit=meta["commit"][:7],
            date=meta["commit_date"],
            licence=_licence(src, lang),
        )
        parts.append(line if i == 0 else line.split(" · ", 1)[1])
    return " | ".join(parts)


def _pub(key: str, lang: str) -> str:
    return t(f"pub_{key}", lang)


def _unit(key: str, lang: str) -> str:
    return t(f"unit_{key}", lang)


def _as_of(source: str) -> str:
    return source_meta(source)["datajusta"]["commit_date"]


# ------------------------------------------------------------------------ gating
def _gate(df: pd.DataFrame | pd.Series, name: str):
    """Counts through the disclosure gate with string labels (years, dates as text)."""
    data = df.copy()
    data.index = [_label(i) for i in data.index]
    if isinstance(data, pd.DataFrame):
        data.columns = [str(c) for c in data.columns]
    return gate_counts(data.astype(int), name=name)


def _gate_lines(df: pd.DataFrame, name: str, kind: str) -> tuple[list, pd.DataFrame]:
    """Each column (one line of a chart) through the gate on its own, so that a small count
    in one series does not hide cells of another; returns the gated tables and the visible
    values (columns as given)."""
    from .geo import normalise

    gates, cols = [], {}
    for col in df.columns:
        g = _gate(df[col].rename("n"), f"{name}_{normalise(col).replace(' ', '_')}"[:120])
        gates.append(g)
        cols[col] = _visible(g, kind).iloc[:, 0]
    return gates, pd.DataFrame(cols)


def _label(i) -> str:
    if isinstance(i, pd.Timestamp):
        return i.strftime("%Y-%m-%d")
    return str(int(i)) if isinstance(i, (int, np.integer, float)) else str(i)


def _back(index, kind: str):
    if kind == "year":
        return [int(i) for i in index]
    if kind == "date":
        return [pd.Timestamp(i) for i in index]
    return list(index)


def _visible(gated, kind: str = "label") -> pd.DataFrame:
    vis = gated.visible
    vis = vis.to_frame() if isinstance(vis, pd.Series) else vis
    vis.index = _back(vis.index, kind)
    return vis


def _rates_table(rates: pd.DataFrame, name: str, lang: str, unit: str):
    """Rates by region through the estimates gate (rows from fewer than k cases hidden)."""
    df = pd.DataFrame(
        {
            "region": [ch.region_label(c) for c in rates["region_code"]],
            "region_code": rates["region_code"].astype(str),
            "n": rates["n"].astype(int),
            "rate": rates["rate"].round(1),
        }
    )
    return publish_table(
        df, name=name, kind="estimates", observed="n", label_columns=["region", "region_code"]
    )


def _rates_visible(pub) -> pd.Series:
    tab = pub.table
    return pd.Series(
        pd.to_numeric(tab["rate"], errors="coerce").to_numpy(), index=tab["region_code"]
    )


# ======================================================================== case studies
def show(case_study: str, lang: str = "es") -> None:
    """The real-data section of a case-study page, then the synthetic section's heading."""
    say(f"## {t('real_heading', lang)}")
    _published_banner(lang)
    say(t("real_intro", lang))
    {"attempted_femicide": _femicide, "protest_violence": _protest, "trafficking": _trafficking}[
        case_study
    ](lang)
    synthetic_divider(lang)


def synthetic_divider(lang: str = "es") -> None:
    """The heading and sentence that open the synthetic demonstration below the real data (the
    notebook's ``dj.banner`` follows it, so the synthetic banner opens that section)."""
    say(f"## {t('synthetic_heading', lang)}")
    say(t("synthetic_intro_plain", lang))


def _show(fig, alt: str, source: str, counts, lang: str, caption: str | None = None) -> None:
    show_figure(fig, alt=alt, source=source, counts=counts, lang=lang, caption=caption)


def _published_banner(lang: str) -> None:
    """The banner that marks what follows as real published data."""
    display(
        HTML(
            f'<div class="dj-banner dj-banner-published" role="note"><p>{html.escape(t("real_banner", lang))}</p></div>'
        )
    )


def _credit(source: str, publisher: str, unit: str, date: str, lang: str) -> tuple[str, str]:
    """(subtitle, source line) of a chart drawn from one source: both name its publisher and
    unit of count."""
    return ch.subtitle(publisher, unit, date, lang), source_line([source], [publisher], unit, lang)


def _bars(vis: pd.DataFrame, title: str, sub: str, source: str, gates, lang: str, **hbars) -> None:
    """Bars of gated values (``ch.hbars`` options), shown with their text alternative, source
    line and published tables."""
    fig = ch.hbars(vis, title=title, sub=sub, lang=lang, **hbars)
    _show(fig, ch.bars_alt(vis, title, lang, hbars.get("decimals", 0)), source, gates, lang)


def _panels(panels: list[Panel], title: str, sub: str, source: str, gates, lang: str, **kw) -> None:
    """Time panels of gated values (``ch.time_panels`` options), shown with their text
    alternative, source line and published tables."""
    fig = ch.time_panels(panels, title=title, sub=sub, lang=lang, **kw)
    _show(fig, ch.time_alt(panels, title, lang, kw.get("freq", "year")), source, gates, lang)


# ------------------------------------------------------------------------ attempted femicide
def _femicide(lang: str) -> None:
    _femicide_series(lang)
    say(t("af_red_text", lang))
    for by in ("category", "relation"):
        _red_chilena_registered(by, lang)
    say(t("af_rates_text", lang))
    _femicide_rates(lang, territorial=False)


def _femicide_series(lang: str) -> None:
    """Femicides by year as SernamEG, Red Chilena, CEAD and the courts count them: one panel
    per publisher and unit, never added together."""
    y = measures.femicide_yearly()
    say(t("af_series_text", lang))
    gates = [
        _gate(y["sernameg"], "open_sernameg_femicides_year"),
        _gate(y["red_chilena"], "open_red_chilena_femicides_year"),
        _gate(y["cead"], "open_cead_femicides_year"),
        _gate(y["pjud"], "open_pjud_femicidio_year"),
    ]
    sern, red, cead, pj = (_visible(g, "year") for g in gates)
    victims, police, court = (_unit(k, lang) for k in ("victims", "police_cases", "court_cases"))
    panels = [
        Panel(
            f"SernamEG · {victims}",
            victims,
            [
                Line(t("s_femicide_frustrated", lang), sern["frustrado"]),
                Line(t("s_femicide_completed", lang), sern["consumado"]),
            ],
        ),
        Panel(
            f"Red Chilena · {victims}",
            victims,
            [
                Line(t("s_red_total", lang), red["red_chilena"]),
                Line(t("s_red_in_sernameg", lang), red["registered_sernameg"].loc[2012:]),
            ],
        ),
        Panel(f"CEAD · {police}", police, [Line(t("s_cead_femicide", lang), cead["cead"])]),
        Panel(
            f"{_pub('PJUD', lang)} · {court}", court, [Line(t("s_pjud_femicide", lang), pj["pjud"])]
        ),
    ]
    sources = ["femicidios_chile", "delincuencia_chile", "ds_pjud"]
    pubs = [_pub(k, lang) for k in ("SERNAMEG", "RED_CHILENA", "CEAD", "PJUD")]
    units = t("af_series_units", lang)
    sub = ch.subtitle(", ".join(pubs), units, " / ".join(_as_of(s) for s in sources), lang)
    source = source_line(sources, [f"{pubs[0]}, {pubs[1]}", pubs[2], pubs[3]], units, lang)
    marks = [(LEY_GABRIELA, t("ley_gabriela", lang))]
    _panels(panels, t("af_series_title", lang), sub, source, gates, lang, marks=marks)


def _red_chilena_registered(by: str, lang: str) -> None:
    """Red Chilena's femicides by category or relation, split by whether SernamEG registered them."""
    tab = measures.red_chilena_registered(by)
    if by == "relation" and lang == "en":
        tab.index = [measures.RELATION_EN[i] for i in tab.index]
    tab.columns = [t(f"reg_{c.replace(' ', '_').replace('ó', 'o')}", lang) for c in tab.columns]
    g, vis = _gate_lines(tab, f"open_red_chilena_registered_by_{by}", "label")
    sub, source = _credit(
        "femicidios_chile",
        _pub("RED_CHILENA", lang),
        _unit("victims", lang),
        _as_of("femicidios_chile"),
        lang,
    )
    title = t(f"af_red_title_{by}", lang)
    _bars(vis, title, sub, source, g, lang, xlabel=t("af_red_xlabel", lang), stacked=True)


def _femicide_measures():
    ds = measures.SERNAMEG_DS
    return [
        (
            "s_femicide_frustrated",
            "SERNAMEG",
            "femicidios_chile",
            measures.region_counts(
                "attempted_femicide",
                institution="SERNAMEG",
                phenomenon="femicide_frustrated",
                dataset=ds,
            ),
            "victims",
        ),
        (
            "s_femicide_completed",
            "SERNAMEG",
            "femicidios_chile",
            measures.region_counts(
                "attempted_femicide",
                institution="SERNAMEG",
                phenomenon="femicide_completed",
                dataset=ds,
            ),
            "victims",
        ),
        (
            "s_cead_femicide",
            "CEAD",
            "delincuencia_chile",
            measures.region_counts(
                "attempted_femicide",
                institution="CEAD",
                phenomenon="femicide",
                dataset="cead_casos_policiales_region_anio_seleccion",
            ),
            "police_cases",
        ),
    ]


def _femicide_rates(lang: str, territorial: bool) -> None:
    years = (2019, 2023)
    tables, cols = [], {}
    for key, inst, _src, counts, unit in _femicide_measures():
        rates = measures.region_rates(counts, years, sex="female")
        pub = _rates_table(rates, f"open_rate_women_{key}", lang, unit)
        tables.append(pub)
        cols[f"{_pub(inst, lang).split(',')[0]}: {t(key, lang)}"] = _rates_visible(pub)
    values = pd.DataFrame(cols)
    title = t("af_map_title", lang, lo=years[0], hi=years[1])
    sub = ch.subtitle(
        f"SernamEG, CEAD; {_pub('INE', lang)}",
        t("unit_rate_women", lang),
        f"{_as_of('femicidios_chile')} / {_as_of('delincuencia_chile')}",
        lang,
    )
    fig = ch.tile_map(values, title=title, sub=sub, lang=lang)
    _show(
        fig,
        ch.tile_alt(values, title, lang),
        source_line(
            ["femicidios_chile", "delincuencia_chile", "censo_proyecciones_poblacion"],
            [_pub("SERNAMEG", lang), _pub("CEAD", lang), _pub("INE", lang)],
            t("unit_rate_women", lang),
            lang,
        ),
        tables,
        lang,
        caption=t("map_caption", lang),
    )


# ------------------------------------------------------------------------ protest violence
def _protest(lang: str) -> None:
    _protest_courts(lang)
    _protest_acts(lang)
    _protest_indh(lang)
    _eye_trauma(lang)
    _protest_after(lang)


def _protest_courts(lang: str) -> None:
    """Court cases for apremios ilegítimos and torture by month, and their sentences by year."""
    say(t("pv_courts_text", lang))
    panels, gates, yearly = [], [], {}
    for phen, key in (("apremios_ilegitimos", "s_apremios"), ("torture", "s_tortura")):
        m = measures.pjud_monthly(phen)
        g = _gate(
            m["court_cases"].rename(t("s_court_cases", lang)), f"open_pjud_{phen}_cases_month"
        )
        gates.append(g)
        vis = _visible(g, "date").iloc[:, 0]
        panels.append(
            Panel(
                f"{t(key, lang)} · {t('s_garantia', lang)}",
                _unit("court_cases", lang) + " / " + t("axis_month", lang),
                [Line(t("s_court_cases", lang), vis)],
            )
        )
        yearly[t(key, lang)] = m["sentences"].groupby(m.index.year).sum()
    gs, vis = _gate_lines(pd.DataFrame(yearly), "open_pjud_apremios_tortura_sentences_year", "year")
    gates += gs
    vis.index = [pd.Timestamp(f"{y}-07-01") for y in vis.index]  # mid-year on a month axis
    panels.append(
        Panel(
            f"{t('s_sentences', lang)} · {t('s_garantia', lang)}",
            _unit("sentences", lang) + " / " + t("axis_year", lang),
            [Line(c, vis[c]) for c in vis.columns],
            label_all=True,
        )
    )
    units = f"{_unit('court_cases', lang)}, {_unit('sentences', lang)}"
    sub, source = _credit("ds_pjud", _pub("PJUD", lang), units, _as_of("ds_pjud"), lang)
    marks = [(ESTALLIDO, t("estallido", lang))]
    title = t("pv_courts_title", lang)
    _panels(panels, title, sub, source, gates, lang, freq="month", marks=marks)


def _protest_acts(lang: str) -> None:
    """Repressive acts per week on the INDH map, for the three most frequent kinds."""
    say(t("pv_acts_text", lang))
    w = measures.indh_acts_weekly(top=3)
    g, vis = _gate_lines(w, "open_indh_map_acts_week", "date")
    acts = _unit("acts", lang)
    panels = [Panel(f"INDH · {acts}", acts, [Line(c, vis[c]) for c in vis.columns])]
    sub, source = _credit(
        "indh_mapa", t("pub_INDH_map", lang), acts, "2019-10-18 – 2019-12-31", lang
    )
    _panels(panels, t("pv_acts_title", lang), sub, source, g, lang, freq="month", height=3.6)


def _protest_indh(lang: str) -> None:
    """Victims in the INDH's legal actions by region and by legal figure, per institution."""
    say(t("pv_indh_text", lang))
    victims = _unit("victims", lang)
    for which, tab in (
        ("region", measures.indh_by_region_institution()),
        ("figure", measures.indh_by_figure_institution()),
    ):
        if which == "region":
            tab.index = [ch.region_label(c) for c in tab.index]
        g, vis = _gate_lines(tab, f"open_indh_victims_by_{which}_institution", "label")
        sub, source = _credit(
            "listado_victimas", _pub("INDH", lang), victims, t("pv_indh_date", lang), lang
        )
        xlabel = t("stacked_xlabel", lang, unit=victims)
        title = t(f"pv_indh_title_{which}", lang)
        _bars(vis, title, sub, source, g, lang, xlabel=xlabel, stacked=True)


def _protest_after(lang: str) -> None:
    """What came after: the eye-trauma patients' status in 2023 and the suits against the State."""
    say(t("pv_after_text", lang))
    st = measures.pacto_status()
    g1 = _gate(st, "open_pacto_status_2023")
    cde = measures.cde_suits()
    cde.columns = [t(f"cde_{c.replace(' ', '_').lower()}", lang) for c in cde.columns]
    g2, vis2 = _gate_lines(cde, "open_cde_suits_stage_outcome", "label")
    persons, suits = _unit("persons", lang), _unit("suits", lang)
    vis1 = _visible(g1)
    vis1.columns = [persons]
    sub, source = _credit("listado_victimas", _pub("PACTO", lang), persons, "2023-12-31", lang)
    _bars(vis1, t("pv_pacto_title", lang), sub, source, g1, lang, xlabel=persons)
    sub, source = _credit("listado_victimas", _pub("CDE", lang), suits, "2024-01-31", lang)
    xlabel = t("stacked_xlabel", lang, unit=suits)
    _bars(vis2, t("pv_cde_title", lang), sub, source, g2, lang, xlabel=xlabel, stacked=True)


def _original_shown(orig: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The original study's pairwise estimates as published, with readers' column names."""
    pairs = orig["comparison"].str.replace("events_", "").str.replace("_", "–")
    return pd.DataFrame(
        {
            t("eye_col_pair", lang): [t("eye_pair_lists", lang, pair=p) for p in pairs],
            t("eye_col_value", lang): orig["population_size"].to_numpy(),
            t("eye_col_lo", lang): orig["ci_lower"].to_numpy(),
            t("eye_col_hi", lang): orig["ci_upper"].to_numpy(),
            t("eye_col_source", lang): source_meta("listado_victimas")["datajusta"]["repository"],
        }
    )


def _eye_trauma(lang: str) -> None:
    """Eye-trauma victims on three lists: how the lists overlap, and how many none recorded
    (log-linear MSE, LCMCR and the original study's pairwise estimates as published)."""
    say(t("pv_eye_text", lang))
    res = eye_trauma.estimate()
    latent = eye_trauma.estimate_latent()
    overlap = eye_trauma.overlap_counts()
    g = _gate(overlap, "open_eye_trauma_capture_histories")
    vis = _visible(g)["n"]
    orig = eye_trauma.original_estimates()
    fig = _eye_trauma_figure(vis, _estimate_points(res, latent, orig, lang), res.n_observed, lang)
    est_pub, orig_pub = _eye_trauma_tables(res, latent, orig, lang)
    _show(
        fig,
        f"{t('alt_prefix', lang)} {_eye_trauma_alt(vis, res, orig, lang)}",
        source_line(
            ["listado_victimas"],
            ["INDH, PVI, " + _pub("PACTO", lang)],
            _unit("persons", lang),
            lang,
        ),
        [g, est_pub, orig_pub],
        lang,
    )
    say(
        t(
            "eye_reading",
            lang,
            n=ch.number(res.n_observed, lang),
            total=ch.number(res.total, lang),
            lo=ch.number(res.interval[0], lang),
            hi=ch.number(res.interval[1], lang),
            dark=ch.number(res.dark, lang),
            terms=", ".join(res.model_terms) or "—",
        )
    )
    say(t("eye_lcmcr_reading", lang, latent=mse_lcmcr.describe(latent, lang)))
    show_table(
        _original_shown(orig, lang),
        caption=t("eye_orig_caption", lang),
        source=t("published_note", lang),
        name="open_eye_trauma_original_pairwise",
        lang=lang,
        kind="published",
    )
    say(t("eye_assumptions", lang))


def _estimate_points(res, latent, orig: pd.DataFrame, lang: str) -> list[tuple]:
    """(label, value, low, high, colour) of each estimate drawn: observed, MSE and LCMCR when
    they converged, and the original study's pairwise estimates."""
    rows = [(t("eye_observed", lang), float(res.n_observed), None, None, "#555555")]
    if res.ok:
        rows.append((t("eye_mse", lang), res.total, *res.interval, "#000000"))
    if latent.ok:
        rows.append((t("eye_lcmcr", lang), latent.total, *latent.interval, ch.PALETTE[2]))
    for r in orig.itertuples():
        rows.append(
            (
                t("eye_pairwise", lang, pair=r.comparison.replace("events_", "").replace("_", "–")),
                float(r.population_size),
                r.ci_lower,
                r.ci_upper,
                ch.PALETTE[1],
            )
        )
    return rows


def _eye_trauma_figure(vis: pd.Series, points: list[tuple], n_observed, lang: str):
    """Overlap counts (left) and the estimates with their intervals (right)."""
    fig, (a1, a2) = ch.new_figure(11, 4.6, ncols=2, gridspec_kw={"width_ratios": [1, 1.25]})
    _overlap_panel(a1, vis, lang)
    _estimates_panel(a2, points, n_observed, lang)
    sub = ch.subtitle(
        f"INDH, PVI, {_pub('PACTO', lang)}", _unit("persons", lang), t("eye_date", lang), lang
    )
    ch._header(fig, t("eye_title", lang), sub)
    return fig


def _overlap_panel(ax, vis: pd.Series, lang: str) -> None:
    y = np.arange(len(vis))[::-1]
    ax.barh(
        y,
        np.nan_to_num(vis.to_numpy(dtype=float)),
        color=ch.PALETTE[0],
        edgecolor="#222222",
        linewidth=0.6,
    )
    for yi, v in zip(y, vis.to_numpy(dtype=float), strict=True):
        ax.text((v if np.isfinite(v) else 0) + 4, yi, ch.number(v, lang), va="center", fontsize=8.5)
    ax.set_yticks(y, list(vis.index))
    ax.set_xlim(0, np.nanmax(vis.to_numpy(dtype=float)) * 1.25)
    ax.set_title(t("eye_overlap_panel", lang), fontsize=10.5)
    ax.set_xlabel(_unit("persons", lang))
    ax.grid(axis="y", visible=False)


def _estimates_panel(ax, points: list[tuple], n_observed, lang: str) -> None:
    """Each estimate as a point (the MSE estimate as a black diamond) with its interval."""
    y2 = np.arange(len(points))[::-1]
    for yi, (_label, v, lo, hi, color) in zip(y2, points, strict=True):
        ax.plot(
            [v],
            [yi],
            marker="D" if color == "#000000" else "o",
            color=color,
            markersize=8 if color == "#000000" else 6,
        )
        if lo is not None and np.isfinite(lo):
            ax.plot([lo, hi], [yi, yi], color=color, linewidth=2)
        ax.annotate(
            ch.number(v, lang),
            (v, yi),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    ax.axvline(n_observed, color="#999999", linestyle=":", linewidth=1)
    ax.set_yticks(y2, [r[0] for r in points], fontsize=8.5)
    ax.set_title(t("eye_estimates_panel", lang), fontsize=10.5)
    ax.set_xlabel(_unit("persons", lang))
    ax.grid(axis="y", visible=False)


def _eye_trauma_alt(vis: pd.Series, res, orig: pd.DataFrame, lang: str) -> str:
    return t(
        "eye_alt",
        lang,
        overlaps="; ".join(f"{i}: {ch.number(v, lang)}" for i, v in vis.items()),
        total=ch.number(res.total, lang),
        lo=ch.number(res.interval[0], lang),
        hi=ch.number(res.interval[1], lang),
        pairs=", ".join(ch.number(v, lang) for v in orig["population_size"]),
    )


def _eye_trauma_tables(res, latent, orig: pd.DataFrame, lang: str):
    """The estimates (through the estimates gate) and the original study's estimates (as
    published), for download."""
    est_rows = [
        (t("eye_observed", lang), res.n_observed, None, None),
        (t("eye_mse", lang), round(res.total), round(res.interval[0]), round(res.interval[1])),
    ]
    if latent.ok:
        lo, hi = latent.interval
        est_rows.append((t("eye_lcmcr", lang), round(latent.total), round(lo), round(hi)))
    cols = [t(f"eye_col_{c}", lang) for c in ("what", "value", "lo", "hi")]
    est = pd.DataFrame(est_rows, columns=cols).assign(observed=res.n_observed)
    est_pub = publish_table(est, name="open_eye_trauma_mse", kind="estimates", observed="observed")
    orig_pub = publish_table(
        _original_shown(orig, lang), name="open_eye_trauma_original_pairwise", kind="published"
    )
    return est_pub, orig_pub


# ------------------------------------------------------------------------ trafficking
def _trafficking(lang: str) -> None:
    phen = ["trafficking_411_quater", "smuggling_411_bis"]
    names = {
        "trafficking_411_quater": t("s_trata", lang),
        "smuggling_411_bis": t("s_trafico", lang),
    }
    _trafficking_courts(phen, names, lang)
    _trafficking_by_court(phen, names, lang)
    _trafficking_published(lang)


def _trafficking_courts(phen: list[str], names: dict[str, str], lang: str) -> None:
    """Court cases and sentences by year for trafficking and smuggling, one panel per court
    type (a case reaching an oral tribunal is counted again there)."""
    total = measures.pjud_yearly(phen, "PJUD_GARANTIA")
    n_cases = int(total["trafficking_411_quater|court_cases"].sum())
    say(t("tp_courts_text", lang, n=n_cases, per_month=ch.number(n_cases / 60, lang, 1)))
    panels, gates = [], []
    units = f"{_unit('court_cases', lang)} / {_unit('sentences', lang)}"
    for inst, key in (("PJUD_GARANTIA", "s_garantia"), ("PJUD_TOP", "s_top")):
        y = measures.pjud_yearly(phen, inst)
        gs, vis = _gate_lines(y, f"open_pjud_trafficking_{inst.lower()}_year", "year")
        gates += gs
        lines = [
            Line(f"{names[c.split('|')[0]]}: {t('s_' + c.split('|')[1], lang)}", vis[c])
            for c in vis.columns
        ]
        panels.append(Panel(f"{_pub('PJUD', lang)} · {t(key, lang)}", units, lines))
    sub, source = _credit(
        "ds_pjud",
        _pub("PJUD", lang),
        f"{_unit('court_cases', lang)}, {_unit('sentences', lang)}",
        _as_of("ds_pjud"),
        lang,
    )
    _panels(panels, t("tp_courts_title", lang), sub, source, gates, lang, height=2.8)


def _trafficking_by_court(phen: list[str], names: dict[str, str], lang: str) -> None:
    say(t("tp_courts_region_text", lang))
    tab = measures.pjud_by_court(phen, "court_cases", "PJUD_GARANTIA")
    tab.index = [i.replace("Corte de Apelaciones de ", "") for i in tab.index]
    tab.columns = [names[c] for c in tab.columns]
    g, vis = _gate_lines(tab, "open_pjud_trafficking_by_appeals_court", "label")
    cases = _unit("court_cases", lang)
    sub, source = _credit("ds_pjud", _pub("PJUD", lang), cases, _as_of("ds_pjud"), lang)
    _bars(vis, t("tp_court_title", lang), sub, source, g, lang, xlabel=cases)


def _trafficking_published(lang: str) -> None:
    """Persons entering the victim protocol (SPD, as published) beside trafficking cases and
    sentences in court, and the figures the MITP published."""
    say(t("tp_published_text", lang))
    from ..ingest.published import published_figures

    figs = published_figures("trafficking")
    prot = figs[figs["metric"] == "persons_entering_victim_protocol"].copy()
    prot["year"] = pd.to_datetime(prot["period_start"]).dt.year
    prot_pub = publish_table(
        prot[["id", "institution", "metric", "year", "value", "unit", "as_of", "source_url"]],
        name="open_published_trafficking_protocol",
        kind="published",
    )
    ycases = measures.pjud_yearly(["trafficking_411_quater"], "PJUD_GARANTIA")
    g, vis = _gate_lines(ycases, "open_pjud_trata_garantia_year", "year")
    persons, cases = _unit("persons", lang), _unit("court_cases", lang)
    trata = t("s_trata", lang)
    panels = [
        Panel(
            f"SPD · {persons}",
            persons,
            [Line(t("tp_protocol", lang), prot.set_index("year")["value"].astype(float))],
        ),
        Panel(
            f"{_pub('PJUD', lang)} · {cases}",
            cases,
            [
                Line(
                    f"{trata} · {t('s_garantia', lang)}", vis["trafficking_411_quater|court_cases"]
                ),
                Line(
                    f"{trata} · {t('s_sentences', lang)}", vis["trafficking_411_quater|sentences"]
                ),
            ],
        ),
    ]
    sub = ch.subtitle(
        f"{t('pub_SPD', lang)}; {_pub('PJUD', lang)}",
        f"{persons}; {cases}",
        f"{prot['as_of'].max():%Y-%m-%d} / {_as_of('ds_pjud')}",
        lang,
    )
    source = (
        "; ".join(sorted(set(prot["source_url"])))
        + " | "
        + source_line(["ds_pjud"], [_pub("PJUD", lang)], cases, lang)
    )
    _panels(panels, t("tp_published_title", lang), sub, source, [prot_pub, *g], lang)
    _mitp_figures(figs, lang)


def _mitp_figures(figs: pd.DataFrame, lang: str) -> None:
    """The MITP's published figures, as a sentence listing each with its period and source."""
    from ..ingest.published import metric_label

    figs_mitp = figs[figs["institution"] == "MITP"]
    if len(figs_mitp):
        say(
            t(
                "tp_mitp_text",
                lang,
                items="; ".join(
                    f"{r.value:g} ({metric_label(r.metric, lang)}, {r.period_start:%Y}–{r.period_end:%Y}, {r.source_url})"
                    for r in figs_mitp.itertuples()
                ),
            )
        )


# ======================================================================== territorial
def show_territorial(case_study: str, lang: str = "es") -> None:
    """Real rates by region as a tile map of Chile (north at the top), counts by region
    and national yearly rates, for the case study's open series."""
    say(f"## {t('terr_heading', lang)}")
    _published_banner(lang)
    say(t(f"terr_text_{case_study}", lang))
    specs = _territorial_specs(case_study)
    tables, cols, counts = [], {}, {}
    for label, counts_df, years, sex, _src, _pub_key in specs:
        pop_years = (2019, 2019) if label[0] in ("terr_indh", "terr_pacto") else None
        rates = measures.region_rates(counts_df, years, sex=sex, pop_years=pop_years)
        pub = _rates_table(rates, f"open_terr_rate_{label[0]}", lang, "")
        tables.append(pub)
        span = str(years[0]) if years[0] == years[1] else f"{years[0]}–{years[1]}"
        cols[t(label[0], lang) + f" ({span})"] = _rates_visible(pub)
        counts[t(label[0], lang)] = rates.set_index("region_code")["n"]
    values = pd.DataFrame(cols)
    unit = t("unit_rate_women" if specs[0][3] == "female" else "unit_rate_people", lang)
    pubs = ", ".join(dict.fromkeys(t(f"pub_{s[5]}", lang) for s in specs))
    srcs = list(dict.fromkeys(s[4] for s in specs))
    title = t(f"terr_map_title_{case_study}", lang)
    sub = ch.subtitle(
        f"{pubs}; {_pub('INE', lang)}", unit, " / ".join(_as_of(s) for s in srcs), lang
    )
    fig = ch.tile_map(
        values, title=title, sub=sub, lang=lang, decimals=2 if case_study == "trafficking" else 1
    )
    _show(
        fig,
        ch.tile_alt(values, title, lang, 2 if case_study == "trafficking" else 1),
        source_line(
            [*srcs, "censo_proyecciones_poblacion"],
            [*(t(f"pub_{s[5]}", lang) for s in specs), _pub("INE", lang)],
            unit,
            lang,
        ),
        tables,
        lang,
        caption=t("map_caption", lang),
    )

    from ..core import canon

    cnt = pd.DataFrame(counts).reindex(canon.regions()["code"]).fillna(0)
    cnt.index = [ch.region_label(c) for c in cnt.index]
    g, vis = _gate_lines(cnt, f"open_terr_counts_{case_study}", "label")
    title = t(f"terr_counts_title_{case_study}", lang)
    units = t(f"terr_units_{case_study}", lang)
    sub = ch.subtitle(pubs, units, " / ".join(_as_of(s) for s in srcs), lang)
    source = source_line(srcs, [t(f"pub_{s[5]}", lang) for s in specs], units, lang)
    _bars(vis, title, sub, source, g, lang, xlabel=units)

    _national_rates(case_study, specs, lang)
    if case_study == "attempted_femicide":
        _comuna_rates(lang)


def _territorial_specs(case_study: str):
    """(label keys, yearly counts by region, years, population sex, source, publisher key)."""
    if case_study == "attempted_femicide":
        ms = _femicide_measures()
        return [((k,), c, (2019, 2023), "female", s, inst) for k, inst, s, c, _u in ms]
    if case_study == "protest_violence":
        return [
            (
                ("terr_indh",),
                measures.region_counts(
                    "protest_violence",
                    institution="INDH",
                    phenomenon="victims_in_legal_actions",
                    dataset="indh_acciones_region_institucion_figura",
                ),
                (2019, 2020),
                None,
                "listado_victimas",
                "INDH",
            ),
            (
                ("terr_pacto",),
                measures.region_counts("protest_violence", institution="PACTO"),
                (2019, 2023),
                None,
                "listado_victimas",
                "PACTO",
            ),
            (
                ("terr_cead_disorder",),
                measures.region_counts(
                    "protest_violence",
                    institution="CEAD",
                    phenomenon="public_disorder",
                    dataset="cead_casos_policiales_region_anio_seleccion",
                ),
                (2019, 2019),
                None,
                "delincuencia_chile",
                "CEAD",
            ),
            (
                ("terr_pjud_apremios",),
                measures.region_counts(
                    "protest_violence",
                    institution="PJUD_GARANTIA",
                    phenomenon="apremios_ilegitimos",
                    unit="court_cases",
                ),
                (2019, 2020),
                None,
                "ds_pjud",
                "PJUD",
            ),
        ]
    return [
        (
            ("s_trata",),
            measures.region_counts(
                "trafficking",
                institution="PJUD_GARANTIA",
                phenomenon="trafficking_411_quater",
                unit="court_cases",
            ),
            (2017, 2021),
            None,
            "ds_pjud",
            "PJUD",
        ),
        (
            ("s_trafico",),
            measures.region_counts(
                "trafficking",
                institution="PJUD_GARANTIA",
                phenomenon="smuggling_411_bis",
                unit="court_cases",
            ),
            (2017, 2021),
            None,
            "ds_pjud",
            "PJUD",
        ),
    ]


def _national_rates(case_study: str, specs, lang: str) -> None:
    from .geo import population

    panels, tables = [], []
    for label, counts_df, _years, sex, _src, _pk in specs:
        if case_study == "protest_violence" and label[0] in ("terr_indh", "terr_pacto"):
            continue  # one period only: no yearly series
        yearly = counts_df.groupby("year")["value"].sum()
        if case_study == "attempted_femicide":
            yearly = yearly[yearly.index >= 2013]
        pop = population("country", sex=sex).set_index("year")["population"]
        df = pd.DataFrame(
            {
                "year": yearly.index.astype(str),
                "n": yearly.astype(int).to_numpy(),
                "rate": (100_000 * yearly / pop.reindex(yearly.index)).round(2).to_numpy(),
            }
        )
        pub = publish_table(
            df,
            name=f"open_terr_national_rate_{label[0]}",
            kind="estimates",
            observed="n",
            label_columns=["year"],
        )
        tables.append(pub)
        tab = pub.table
        s = pd.Series(
            pd.to_numeric(tab["rate"], errors="coerce").to_numpy(), index=tab["year"].astype(int)
        )
        panels.append(
            Panel(
                t(label[0], lang),
                t("unit_rate_women" if sex == "female" else "unit_rate_people", lang),
                [Line(t(label[0], lang), s)],
                decimals=2,
            )
        )
    title = t(f"terr_national_title_{case_study}", lang)
    pubs = ", ".join(
        dict.fromkeys(
            t(f"pub_{s[5]}", lang)
            for s in specs
            if not (case_study == "protest_violence" and s[0][0] in ("terr_indh", "terr_pacto"))
        )
    )
    unit = t("unit_rate_women" if specs[0][3] == "female" else "unit_rate_people", lang)
    srcs = list(dict.fromkeys(s[4] for s in specs))
    sub = ch.subtitle(
        f"{pubs}; {_pub('INE', lang)}", unit, " / ".join(_as_of(s) for s in srcs), lang
    )
    source = source_line(
        [*srcs, "censo_proyecciones_poblacion"], [pubs, _pub("INE", lang)], unit, lang
    )
    marks = [(LEY_GABRIELA, t("ley_gabriela", lang))] if case_study == "attempted_femicide" else []
    _panels(panels, title, sub, source, tables, lang, height=2.0, marks=marks)


def _comuna_rates(lang: str) -> None:
    from .. import open_data
    from .geo import comunas, population

    say(t("terr_comuna_text", lang))
    s = open_data.open_series("attempted_femicide", institution="CEAD", phenomenon="femicide")
    s = s[(s["geo_level"] == "comuna") & s["period_start"].dt.year.between(2019, 2023)]
    n = s.groupby("comuna_code")["value"].sum()
    pop = population("comuna", sex="female")
    p = pop[pop["year"].between(2019, 2023)].groupby("code")["population"].sum()
    names = comunas().set_index("comuna_code")["name"]
    df = pd.DataFrame(
        {
            "comuna": names.reindex(n.index).to_numpy(),
            "cut": n.index,
            "n": n.astype(int).to_numpy(),
            "rate": (100_000 * n / p.reindex(n.index)).round(1).to_numpy(),
        }
    )
    df = df[df["n"] >= 5].sort_values("rate", ascending=False)
    df.columns = [t("col_comuna", lang), "CUT", t("col_cases", lang), t("col_rate_women", lang)]
    show_table(
        df,
        caption=t("terr_comuna_caption", lang),
        source=source_line(
            ["delincuencia_chile", "censo_proyecciones_poblacion"],
            [_pub("CEAD", lang), _pub("INE", lang)],
            t("unit_rate_women", lang),
            lang,
        ),
        name="open_cead_femicide_comuna_rates",
        lang=lang,
        kind="estimates",
        observed=t("col_cases", lang),
        label_columns=[t("col_comuna", lang), "CUT"],
    )


# ======================================================================== the index page
def show_index(lang: str = "es") -> None:
    """The open-data index page: two indicators computed only from open data, the
    catalogue of sources, and what each can and cannot say."""
    _published_banner(lang)
    say(t("index_intro", lang))
    _index_sentences(lang)
    _index_registered_share(lang)
    say(f"## {t('catalogue_heading', lang)}")
    show_table(
        catalogue(lang),
        caption=t("catalogue_caption", lang),
        source=t("catalogue_source", lang),
        name="open_data_catalogue",
        lang=lang,
        kind="metadata",
        origin="data/open/*/datapackage.json",
    )


def _index_sentences(lang: str) -> None:
    """Sentences per court case entering, by appeals court: apremios ilegítimos and torture
    beside all offences."""
    say(f"## {t('index_sentences_heading', lang)}")
    say(t("index_sentences_method", lang))
    focus, allo, court, index = _sentence_tables(lang)
    vis = pd.DataFrame(
        {
            t("index_focus", lang): pd.to_numeric(focus.table[index], errors="coerce").to_numpy(),
            t("index_all", lang): pd.to_numeric(allo.table[index], errors="coerce").to_numpy(),
        },
        index=focus.table[court],
    )
    unit = t("index_unit", lang)
    sub, source = _credit("ds_pjud", _pub("PJUD", lang), unit, _as_of("ds_pjud"), lang)
    title = t("index_sentences_title", lang)
    _bars(vis, title, sub, source, [focus, allo], lang, xlabel=unit, decimals=1)
    for pub, which in ((focus, "index_focus"), (allo, "index_all")):
        caption = t("index_sentences_caption", lang) + " · " + t(which, lang)
        show_table(pub, caption=caption, source=source, lang=lang)


def _sentence_tables(lang: str):
    """The two indicator tables through the estimates gate, and the court and index column
    names: (apremios and torture, all offences, court column, index column)."""
    idx = measures.sentence_index()
    courts = [i.replace("Corte de Apelaciones de ", "") for i in idx.index]
    df = pd.DataFrame(
        {
            "corte": courts,
            "cases_focus": idx["cases_apremios_tortura"].astype(int).to_numpy(),
            "sentences_focus": idx["sentences_apremios_tortura"].astype(int).to_numpy(),
            "index_focus": (100 * idx["index_apremios_tortura"]).round(1).to_numpy(),
            "cases_all": idx["cases_all"].astype(int).to_numpy(),
            "sentences_all": idx["sentences_all"].astype(int).to_numpy(),
            "index_all": (100 * idx["index_all"]).round(1).to_numpy(),
        }
    )
    court, cases, sentences, index = (
        t(k, lang) for k in ("idx_court", "idx_cases", "idx_sentences", "idx_index")
    )

    def published(which: str, name: str):
        cols = ["corte", f"cases_{which}", f"sentences_{which}", f"index_{which}"]
        return publish_table(
            df[cols].set_axis([court, cases, sentences, index], axis=1),
            name=name,
            kind="estimates",
            observed=[cases, sentences],
            label_columns=[court],
        )

    focus = published("focus", "open_index_sentences_per_case_apremios_tortura")
    allo = published("all", "open_index_sentences_per_case_all")
    return focus, allo, court, index


def _index_registered_share(lang: str) -> None:
    """The share of Red Chilena's femicides that SernamEG registered, by year."""
    say(f"## {t('index_share_heading', lang)}")
    say(t("index_share_method", lang))
    sh = measures.registered_share()
    df = pd.DataFrame(
        {
            "year": sh.index.astype(str),
            "red_chilena": sh["red_chilena"].astype(int).to_numpy(),
            "registered": sh["registered_sernameg"].astype(int).to_numpy(),
            "share": sh["share"].round(1).to_numpy(),
        }
    )
    pub = publish_table(
        df,
        name="open_index_registered_share",
        kind="estimates",
        observed=["red_chilena"],
        label_columns=["year"],
    )
    tab = pub.table
    s = pd.Series(
        pd.to_numeric(tab["share"], errors="coerce").to_numpy(), index=tab["year"].astype(int)
    )
    unit = t("unit_share", lang)
    panels = [
        Panel(
            t("index_share_panel", lang), unit, [Line(t("index_share_line", lang), s)], decimals=1
        )
    ]
    sub = ch.subtitle(
        f"{_pub('RED_CHILENA', lang)}; SernamEG", unit, _as_of("femicidios_chile"), lang
    )
    source = source_line(["femicidios_chile"], [_pub("RED_CHILENA", lang)], unit, lang)
    marks = [(LEY_GABRIELA, t("ley_gabriela", lang))]
    title = t("index_share_title", lang)
    _panels(panels, title, sub, source, pub, lang, marks=marks, height=3.0)
    say(t("index_caveats", lang))


def _licence_stated(stated: str, lang: str) -> str:
    """The licence as the source states it; in Spanish, the licences it names and whether the
    data's own licence is stated (the statements are quoted in English on the English page)."""
    if lang == "en":
        return stated
    named = re.findall(r"GPL-\d|CC[- ]BY[\w.-]*|MIT|ODbL|Apache-[\d.]+", stated)
    data = "datos: no declarada" if "not stated" in stated else "ver la fuente"
    return (", ".join(dict.fromkeys(named)) + " (repositorio); " if named else "") + data


def catalogue(lang: str = "es") -> pd.DataFrame:
    """One row per open-data source: publishers, unit, period, geography, licence, repository."""
    from .geo import open_dir

    rows = []
    for path in sorted(open_dir().glob("*/datapackage.json")):
        meta = source_meta(path.parent.name)["datajusta"]
        publishers = "; ".join(meta["publishers"])
        if lang == "es":
            publishers = publishers.replace(" and ", " y ")
        publishers = re.sub(
            r"\s*\([^()]*\.(?:xlsx?|csv|pdf)\)", "", publishers
        )  # files: in the data
        described = {  # the datapackages describe unit, period and geography in English
            t("cat_unit", lang): meta["unit"],
            t("cat_period", lang): meta["period"],
            t("cat_geography", lang): meta["geography"],
        }
        rows.append(
            {
                t("cat_publishers", lang): publishers,
                **(described if lang == "en" else {}),
                t("cat_licence", lang): _licence_stated(meta["licence_as_stated"], lang),
                t(
                    "cat_repository", lang
                ): f"{meta['repository']} @ {meta['commit'][:7]} ({meta['commit_date']})",
            }
        )
    return pd.DataFrame(rows)
