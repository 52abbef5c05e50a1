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
    display(
        HTML(
            f'<div class="dj-banner dj-banner-published" role="note"><p>{html.escape(t("real_banner", lang))}</p></div>'
        )
    )
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


# ------------------------------------------------------------------------ attempted femicide
def _femicide(lang: str) -> None:
    y = measures.femicide_yearly()
    say(t("af_series_text", lang))
    g_sern = _gate(y["sernameg"], "open_sernameg_femicides_year")
    g_red = _gate(y["red_chilena"], "open_red_chilena_femicides_year")
    g_cead = _gate(y["cead"], "open_cead_femicides_year")
    g_pj = _gate(y["pjud"], "open_pjud_femicidio_year")
    sern, red = _visible(g_sern, "year"), _visible(g_red, "year")
    cead, pj = _visible(g_cead, "year"), _visible(g_pj, "year")
    panels = [
        Panel(
            f"SernamEG · {_unit('victims', lang)}",
            _unit("victims", lang),
            [
                Line(t("s_femicide_frustrated", lang), sern["frustrado"]),
                Line(t("s_femicide_completed", lang), sern["consumado"]),
            ],
        ),
        Panel(
            f"Red Chilena · {_unit('victims', lang)}",
            _unit("victims", lang),
            [
                Line(t("s_red_total", lang), red["red_chilena"]),
                Line(t("s_red_in_sernameg", lang), red["registered_sernameg"].loc[2012:]),
            ],
        ),
        Panel(
            f"CEAD · {_unit('police_cases', lang)}",
            _unit("police_cases", lang),
            [Line(t("s_cead_femicide", lang), cead["cead"])],
        ),
        Panel(
            f"{_pub('PJUD', lang)} · {_unit('court_cases', lang)}",
            _unit("court_cases", lang),
            [Line(t("s_pjud_femicide", lang), pj["pjud"])],
        ),
    ]
    title = t("af_series_title", lang)
    pubs = [_pub(k, lang) for k in ("SERNAMEG", "RED_CHILENA", "CEAD", "PJUD")]
    sub = ch.subtitle(
        ", ".join(pubs),
        t("af_series_units", lang),
        _as_of("femicidios_chile")
        + " / "
        + _as_of("delincuencia_chile")
        + " / "
        + _as_of("ds_pjud"),
        lang,
    )
    fig = ch.time_panels(
        panels, title=title, sub=sub, lang=lang, marks=[(LEY_GABRIELA, t("ley_gabriela", lang))]
    )
    _show(
        fig,
        ch.time_alt(panels, title, lang),
        source_line(
            ["femicidios_chile", "delincuencia_chile", "ds_pjud"],
            [f"{pubs[0]}, {pubs[1]}", pubs[2], pubs[3]],
            t("af_series_units", lang),
            lang,
        ),
        [g_sern, g_red, g_cead, g_pj],
        lang,
    )

    say(t("af_red_text", lang))
    for by in ("category", "relation"):
        tab = measures.red_chilena_registered(by)
        if by == "relation" and lang == "en":
            tab.index = [measures.RELATION_EN[i] for i in tab.index]
        tab.columns = [t(f"reg_{c.replace(' ', '_').replace('ó', 'o')}", lang) for c in tab.columns]
        g, vis = _gate_lines(tab, f"open_red_chilena_registered_by_{by}", "label")
        title = t(f"af_red_title_{by}", lang)
        sub = ch.subtitle(
            _pub("RED_CHILENA", lang), _unit("victims", lang), _as_of("femicidios_chile"), lang
        )
        fig = ch.hbars(
            vis,
            title=title,
            sub=sub,
            xlabel=t("af_red_xlabel", lang),
            lang=lang,
            stacked=True,
        )
        _show(
            fig,
            ch.bars_alt(vis, title, lang),
            source_line(
                ["femicidios_chile"], [_pub("RED_CHILENA", lang)], _unit("victims", lang), lang
            ),
            g,
            lang,
        )

    say(t("af_rates_text", lang))
    _femicide_rates(lang, territorial=False)


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
        sent = m["sentences"].groupby(m.index.year).sum()
        yearly[t(key, lang)] = sent
    ys = pd.DataFrame(yearly)
    gs, vis = _gate_lines(ys, "open_pjud_apremios_tortura_sentences_year", "year")
    gates += gs
    vis.index = [pd.Timestamp(f"{y}-07-01") for y in vis.index]
    panels.append(
        Panel(
            f"{t('s_sentences', lang)} · {t('s_garantia', lang)}",
            _unit("sentences", lang) + " / " + t("axis_year", lang),
            [Line(c, vis[c]) for c in vis.columns],
            label_all=True,
        )
    )
    title = t("pv_courts_title", lang)
    sub = ch.subtitle(
        _pub("PJUD", lang),
        f"{_unit('court_cases', lang)}, {_unit('sentences', lang)}",
        _as_of("ds_pjud"),
        lang,
    )
    fig = ch.time_panels(
        panels,
        title=title,
        sub=sub,
        lang=lang,
        freq="month",
        marks=[(ESTALLIDO, t("estallido", lang))],
    )
    _show(
        fig,
        ch.time_alt(panels, title, lang, "month"),
        source_line(
            ["ds_pjud"],
            [_pub("PJUD", lang)],
            f"{_unit('court_cases', lang)}, {_unit('sentences', lang)}",
            lang,
        ),
        gates,
        lang,
    )

    say(t("pv_acts_text", lang))
    w = measures.indh_acts_weekly(top=3)
    g, vis = _gate_lines(w, "open_indh_map_acts_week", "date")
    panels = [
        Panel(
            f"INDH · {_unit('acts', lang)}",
            _unit("acts", lang),
            [Line(c, vis[c]) for c in vis.columns],
        )
    ]
    title = t("pv_acts_title", lang)
    sub = ch.subtitle(t("pub_INDH_map", lang), _unit("acts", lang), "2019-10-18 – 2019-12-31", lang)
    fig = ch.time_panels(panels, title=title, sub=sub, lang=lang, freq="month", height=3.6)
    _show(
        fig,
        ch.time_alt(panels, title, lang, "month"),
        source_line(["indh_mapa"], [t("pub_INDH_map", lang)], _unit("acts", lang), lang),
        g,
        lang,
    )

    say(t("pv_indh_text", lang))
    for which, tab in (
        ("region", measures.indh_by_region_institution()),
        ("figure", measures.indh_by_figure_institution()),
    ):
        if which == "region":
            tab.index = [ch.region_label(c) for c in tab.index]
        g, vis = _gate_lines(tab, f"open_indh_victims_by_{which}_institution", "label")
        title = t(f"pv_indh_title_{which}", lang)
        sub = ch.subtitle(_pub("INDH", lang), _unit("victims", lang), t("pv_indh_date", lang), lang)
        fig = ch.hbars(
            vis,
            title=title,
            sub=sub,
            xlabel=t("stacked_xlabel", lang, unit=_unit("victims", lang)),
            lang=lang,
            stacked=True,
        )
        _show(
            fig,
            ch.bars_alt(vis, title, lang),
            source_line(["listado_victimas"], [_pub("INDH", lang)], _unit("victims", lang), lang),
            g,
            lang,
        )

    _eye_trauma(lang)

    say(t("pv_after_text", lang))
    st = measures.pacto_status()
    g1 = _gate(st, "open_pacto_status_2023")
    cde = measures.cde_suits()
    cde.columns = [t(f"cde_{c.replace(' ', '_').lower()}", lang) for c in cde.columns]
    g2, vis2 = _gate_lines(cde, "open_cde_suits_stage_outcome", "label")
    vis1 = _visible(g1)
    vis1.columns = [_unit("persons", lang)]
    title = t("pv_pacto_title", lang)
    sub = ch.subtitle(_pub("PACTO", lang), _unit("persons", lang), "2023-12-31", lang)
    fig = ch.hbars(vis1, title=title, sub=sub, xlabel=_unit("persons", lang), lang=lang)
    _show(
        fig,
        ch.bars_alt(vis1, title, lang),
        source_line(["listado_victimas"], [_pub("PACTO", lang)], _unit("persons", lang), lang),
        g1,
        lang,
    )
    title = t("pv_cde_title", lang)
    sub = ch.subtitle(_pub("CDE", lang), _unit("suits", lang), "2024-01-31", lang)
    fig = ch.hbars(
        vis2,
        title=title,
        sub=sub,
        xlabel=t("stacked_xlabel", lang, unit=_unit("suits", lang)),
        lang=lang,
        stacked=True,
    )
    _show(
        fig,
        ch.bars_alt(vis2, title, lang),
        source_line(["listado_victimas"], [_pub("CDE", lang)], _unit("suits", lang), lang),
        g2,
        lang,
    )


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
    say(t("pv_eye_text", lang))
    res = eye_trauma.estimate()
    latent = eye_trauma.estimate_latent()
    overlap = eye_trauma.overlap_counts()
    g = _gate(overlap, "open_eye_trauma_capture_histories")
    vis = _visible(g)["n"]
    orig = eye_trauma.original_estimates()
    fig, (a1, a2) = ch.new_figure(11, 4.6, ncols=2, gridspec_kw={"width_ratios": [1, 1.25]})
    y = np.arange(len(vis))[::-1]
    a1.barh(
        y,
        np.nan_to_num(vis.to_numpy(dtype=float)),
        color=ch.PALETTE[0],
        edgecolor="#222222",
        linewidth=0.6,
    )
    for yi, v in zip(y, vis.to_numpy(dtype=float), strict=True):
        a1.text((v if np.isfinite(v) else 0) + 4, yi, ch.number(v, lang), va="center", fontsize=8.5)
    a1.set_yticks(y, list(vis.index))
    a1.set_xlim(0, np.nanmax(vis.to_numpy(dtype=float)) * 1.25)
    a1.set_title(t("eye_overlap_panel", lang), fontsize=10.5)
    a1.set_xlabel(_unit("persons", lang))
    a1.grid(axis="y", visible=False)
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
    y2 = np.arange(len(rows))[::-1]
    for yi, (_label, v, lo, hi, color) in zip(y2, rows, strict=True):
        a2.plot(
            [v],
            [yi],
            marker="D" if color == "#000000" else "o",
            color=color,
            markersize=8 if color == "#000000" else 6,
        )
        if lo is not None and np.isfinite(lo):
            a2.plot([lo, hi], [yi, yi], color=color, linewidth=2)
        a2.annotate(
            ch.number(v, lang),
            (v, yi),
            xytext=(0, 6),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    a2.axvline(res.n_observed, color="#999999", linestyle=":", linewidth=1)
    a2.set_yticks(y2, [r[0] for r in rows], fontsize=8.5)
    a2.set_title(t("eye_estimates_panel", lang), fontsize=10.5)
    a2.set_xlabel(_unit("persons", lang))
    a2.grid(axis="y", visible=False)
    title = t("eye_title", lang)
    sub = ch.subtitle(
        f"INDH, PVI, {_pub('PACTO', lang)}", _unit("persons", lang), t("eye_date", lang), lang
    )
    ch._header(fig, title, sub)
    alt = t(
        "eye_alt",
        lang,
        overlaps="; ".join(f"{i}: {ch.number(v, lang)}" for i, v in vis.items()),
        total=ch.number(res.total, lang),
        lo=ch.number(res.interval[0], lang),
        hi=ch.number(res.interval[1], lang),
        pairs=", ".join(ch.number(v, lang) for v in orig["population_size"]),
    )
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
    _show(
        fig,
        f"{t('alt_prefix', lang)} {alt}",
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


# ------------------------------------------------------------------------ trafficking
def _trafficking(lang: str) -> None:
    phen = ["trafficking_411_quater", "smuggling_411_bis"]
    names = {
        "trafficking_411_quater": t("s_trata", lang),
        "smuggling_411_bis": t("s_trafico", lang),
    }
    total = measures.pjud_yearly(phen, "PJUD_GARANTIA")
    n_cases = int(total["trafficking_411_quater|court_cases"].sum())
    say(t("tp_courts_text", lang, n=n_cases, per_month=ch.number(n_cases / 60, lang, 1)))
    panels, gates = [], []
    for inst, key in (("PJUD_GARANTIA", "s_garantia"), ("PJUD_TOP", "s_top")):
        y = measures.pjud_yearly(phen, inst)
        gs, vis = _gate_lines(y, f"open_pjud_trafficking_{inst.lower()}_year", "year")
        gates += gs
        lines = [
            Line(f"{names[c.split('|')[0]]}: {t('s_' + c.split('|')[1], lang)}", vis[c])
            for c in vis.columns
        ]
        panels.append(
            Panel(
                f"{_pub('PJUD', lang)} · {t(key, lang)}",
                f"{_unit('court_cases', lang)} / {_unit('sentences', lang)}",
                lines,
            )
        )
    title = t("tp_courts_title", lang)
    sub = ch.subtitle(
        _pub("PJUD", lang),
        f"{_unit('court_cases', lang)}, {_unit('sentences', lang)}",
        _as_of("ds_pjud"),
        lang,
    )
    fig = ch.time_panels(panels, title=title, sub=sub, lang=lang, height=2.8)
    _show(
        fig,
        ch.time_alt(panels, title, lang),
        source_line(
            ["ds_pjud"],
            [_pub("PJUD", lang)],
            f"{_unit('court_cases', lang)}, {_unit('sentences', lang)}",
            lang,
        ),
        gates,
        lang,
    )

    say(t("tp_courts_region_text", lang))
    tab = measures.pjud_by_court(phen, "court_cases", "PJUD_GARANTIA")
    tab.index = [i.replace("Corte de Apelaciones de ", "") for i in tab.index]
    tab.columns = [names[c] for c in tab.columns]
    g, vis = _gate_lines(tab, "open_pjud_trafficking_by_appeals_court", "label")
    title = t("tp_court_title", lang)
    sub = ch.subtitle(_pub("PJUD", lang), _unit("court_cases", lang), _as_of("ds_pjud"), lang)
    fig = ch.hbars(vis, title=title, sub=sub, xlabel=_unit("court_cases", lang), lang=lang)
    _show(
        fig,
        ch.bars_alt(vis, title, lang),
        source_line(["ds_pjud"], [_pub("PJUD", lang)], _unit("court_cases", lang), lang),
        g,
        lang,
    )

    say(t("tp_published_text", lang))
    from ..ingest.published import metric_label, published_figures

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
    panels = [
        Panel(
            f"SPD · {_unit('persons', lang)}",
            _unit("persons", lang),
            [Line(t("tp_protocol", lang), prot.set_index("year")["value"].astype(float))],
        ),
        Panel(
            f"{_pub('PJUD', lang)} · {_unit('court_cases', lang)}",
            _unit("court_cases", lang),
            [
                Line(
                    t("s_trata", lang) + " · " + t("s_garantia", lang),
                    vis["trafficking_411_quater|court_cases"],
                ),
                Line(
                    t("s_trata", lang) + " · " + t("s_sentences", lang),
                    vis["trafficking_411_quater|sentences"],
                ),
            ],
        ),
    ]
    title = t("tp_published_title", lang)
    sub = ch.subtitle(
        f"{t('pub_SPD', lang)}; {_pub('PJUD', lang)}",
        f"{_unit('persons', lang)}; {_unit('court_cases', lang)}",
        f"{prot['as_of'].max():%Y-%m-%d} / {_as_of('ds_pjud')}",
        lang,
    )
    fig = ch.time_panels(panels, title=title, sub=sub, lang=lang)
    src = (
        "; ".join(sorted(set(prot["source_url"])))
        + " | "
        + source_line(["ds_pjud"], [_pub("PJUD", lang)], _unit("court_cases", lang), lang)
    )
    _show(fig, ch.time_alt(panels, title, lang), src, [prot_pub, *g], lang)
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
    display(
        HTML(
            f'<div class="dj-banner dj-banner-published" role="note"><p>{html.escape(t("real_banner", lang))}</p></div>'
        )
    )
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
    sub = ch.subtitle(
        pubs, t(f"terr_units_{case_study}", lang), " / ".join(_as_of(s) for s in srcs), lang
    )
    fig = ch.hbars(vis, title=title, sub=sub, xlabel=t(f"terr_units_{case_study}", lang), lang=lang)
    _show(
        fig,
        ch.bars_alt(vis, title, lang),
        source_line(
            srcs, [t(f"pub_{s[5]}", lang) for s in specs], t(f"terr_units_{case_study}", lang), lang
        ),
        g,
        lang,
    )

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
    fig = ch.time_panels(
        panels,
        title=title,
        sub=sub,
        lang=lang,
        height=2.0,
        marks=[(LEY_GABRIELA, t("ley_gabriela", lang))]
        if case_study == "attempted_femicide"
        else [],
    )
    _show(
        fig,
        ch.time_alt(panels, title, lang),
        source_line([*srcs, "censo_proyecciones_poblacion"], [pubs, _pub("INE", lang)], unit, lang),
        tables,
        lang,
    )


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
    display(
        HTML(
            f'<div class="dj-banner dj-banner-published" role="note"><p>{html.escape(t("real_banner", lang))}</p></div>'
        )
    )
    say(t("index_intro", lang))
    say(f"## {t('index_sentences_heading', lang)}")
    say(t("index_sentences_method", lang))
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

    def shown(which: str) -> pd.DataFrame:
        cols = ["corte", f"cases_{which}", f"sentences_{which}", f"index_{which}"]
        return df[cols].set_axis([court, cases, sentences, index], axis=1)

    focus = publish_table(
        shown("focus"),
        name="open_index_sentences_per_case_apremios_tortura",
        kind="estimates",
        observed=[cases, sentences],
        label_columns=[court],
    )
    allo = publish_table(
        shown("all"),
        name="open_index_sentences_per_case_all",
        kind="estimates",
        observed=[cases, sentences],
        label_columns=[court],
    )
    pub = [focus, allo]
    vis = pd.DataFrame(
        {
            t("index_focus", lang): pd.to_numeric(focus.table[index], errors="coerce").to_numpy(),
            t("index_all", lang): pd.to_numeric(allo.table[index], errors="coerce").to_numpy(),
        },
        index=focus.table[court],
    )
    title = t("index_sentences_title", lang)
    sub = ch.subtitle(_pub("PJUD", lang), t("index_unit", lang), _as_of("ds_pjud"), lang)
    fig = ch.hbars(vis, title=title, sub=sub, xlabel=t("index_unit", lang), lang=lang, decimals=1)
    _show(
        fig,
        ch.bars_alt(vis, title, lang, 1),
        source_line(["ds_pjud"], [_pub("PJUD", lang)], t("index_unit", lang), lang),
        pub,
        lang,
    )
    show_table(
        focus,
        caption=t("index_sentences_caption", lang) + " · " + t("index_focus", lang),
        source=source_line(["ds_pjud"], [_pub("PJUD", lang)], t("index_unit", lang), lang),
        lang=lang,
    )
    show_table(
        allo,
        caption=t("index_sentences_caption", lang) + " · " + t("index_all", lang),
        source=source_line(["ds_pjud"], [_pub("PJUD", lang)], t("index_unit", lang), lang),
        lang=lang,
    )

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
    panels = [
        Panel(
            t("index_share_panel", lang),
            t("unit_share", lang),
            [Line(t("index_share_line", lang), s)],
            decimals=1,
        )
    ]
    title = t("index_share_title", lang)
    sub = ch.subtitle(
        f"{_pub('RED_CHILENA', lang)}; SernamEG",
        t("unit_share", lang),
        _as_of("femicidios_chile"),
        lang,
    )
    fig = ch.time_panels(
        panels,
        title=title,
        sub=sub,
        lang=lang,
        marks=[(LEY_GABRIELA, t("ley_gabriela", lang))],
        height=3.0,
    )
    _show(
        fig,
        ch.time_alt(panels, title, lang),
        source_line(["femicidios_chile"], [_pub("RED_CHILENA", lang)], t("unit_share", lang), lang),
        pub,
        lang,
    )
    say(t("index_caveats", lang))

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
