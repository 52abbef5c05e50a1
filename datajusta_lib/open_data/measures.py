"""Tables the pages draw, computed from the open series (``open_series``) only.

Each function returns plain counts (or rates with the counts behind them); the page
sections pass them through the disclosure gate before drawing (``sections.py``). Nothing
here adds values across institutions or units.
"""

from __future__ import annotations

import pandas as pd

from . import open_series
from .geo import population

SERNAMEG_DS = "sernameg_femicidios_consumados_frustrados_region_anio"


def _year(df: pd.DataFrame) -> pd.Series:
    return df["period_start"].dt.year


def _yearly(df: pd.DataFrame, by: str | None = None) -> pd.Series | pd.DataFrame:
    if by is None:
        return df.groupby(_year(df))["value"].sum()
    return df.groupby([_year(df), by])["value"].sum().unstack(fill_value=0)


# ------------------------------------------------------------------------ femicide
def femicide_yearly() -> dict[str, pd.DataFrame]:
    """National yearly series per institution (each in its own unit):
    sernameg (frustrado, consumado: victims), red_chilena (all, registered by SernamEG:
    victims), cead (police cases), pjud (court cases entering courts of guarantee)."""
    s = open_series("attempted_femicide", institution="SERNAMEG")
    s = s[s["dataset"] == SERNAMEG_DS]
    sern = _yearly(s, "phenomenon").rename(
        columns={"femicide_frustrated": "frustrado", "femicide_completed": "consumado"}
    )[["frustrado", "consumado"]]
    r = open_series("attempted_femicide", institution="RED_CHILENA")
    red = pd.DataFrame(
        {
            "red_chilena": _yearly(r),
            "registered_sernameg": _yearly(r[r["detail"].str.contains("registrado_sernameg=Si;")]),
        }
    ).fillna(0)
    c = open_series("attempted_femicide", institution="CEAD", phenomenon="femicide")
    c = c[(c["dataset"] == "cead_casos_policiales_region_anio_seleccion") & (_year(c) >= 2011)]
    p = open_series(
        "attempted_femicide",
        institution="PJUD_GARANTIA",
        phenomenon="femicide_completed_and_attempted",
        unit="court_cases",
    )
    return {
        "sernameg": sern,
        "red_chilena": red,
        "cead": _yearly(c).to_frame("cead"),
        "pjud": _yearly(p).to_frame("pjud"),
    }


RELATION_GROUPS = {
    "pareja o ex pareja": [
        "cónyuge",
        "conviviente",
        "pareja",
        "pololo",
        "ex",
        "coviviente",
        "cónyugue",
    ],
    "familiar": [
        "hijo",
        "nieto",
        "padre",
        "padrastro",
        "hermano",
        "tío",
        "sobrino",
        "yerno",
        "hijastro",
        "hermanastro",
        "primo",
        "cuñado",
    ],
    "conocido": ["conocido", "amigo", "vecino", "arrendatario", "acosador", "cliente"],
    "desconocido": ["desconocid", "desconoce", "se investiga"],
}
RELATION_EN = {
    "pareja o ex pareja": "partner or former partner",
    "familiar": "relative",
    "conocido": "acquaintance",
    "desconocido": "unknown / under investigation",
    "otro": "other",
}


def relation_group(label: str) -> str:
    low = str(label).lower().strip()
    for group, words in RELATION_GROUPS.items():
        # a relation of someone else ('pareja de la madre') is not the victim's partner
        if group == "pareja o ex pareja" and (" de " in low or " de su" in low):
            continue
        if any(low.startswith(w) or w in low.split() for w in words):
            return group
    return "otro"


def red_chilena_registered(
    by: str = "category", years: tuple[int, int] = (2012, 2024)
) -> pd.DataFrame:
    """Red Chilena femicides by category (or relationship group) x whether SernamEG
    registered them (Si / No / Sin información), for the years the field exists."""
    r = open_series("attempted_femicide", institution="RED_CHILENA")
    r = r[_year(r).between(*years)]
    reg = r["detail"].str.extract(r"registrado_sernameg=([^;]+);")[0]
    if by == "category":
        rows = r["category"]
    elif by == "relation":
        rel = r["detail"].str.extract(r"relacion=([^;]+);")[0]
        rows = rel.map(relation_group)
    else:
        raise ValueError(f"by must be category or relation, got {by!r}")
    out = r.assign(row=rows, reg=reg).groupby(["row", "reg"])["value"].sum().unstack(fill_value=0)
    cols = [c for c in ("Si", "No", "Sin información") if c in out.columns]
    out = out[cols]
    return out.loc[out.sum(axis=1).sort_values(ascending=False).index]


def registered_share() -> pd.DataFrame:
    """The index 'share of Red Chilena's femicides that SernamEG registered', per year:
    red_chilena, registered, share (%) for the years the field exists (2012-)."""
    y = femicide_yearly()["red_chilena"]
    y = y[y.index >= 2012]
    return y.assign(share=lambda d: 100 * d["registered_sernameg"] / d["red_chilena"])


# ------------------------------------------------------------------------ rates by region
def region_counts(case_study: str, **filters) -> pd.DataFrame:
    """Yearly counts by region code of one series (region-level rows only)."""
    dataset = filters.pop("dataset", None)
    s = open_series(case_study, **filters)
    if dataset:
        s = s[s["dataset"] == dataset]
    s = s[s["geo_level"].isin(["region", "appeals_court"])]
    return s.groupby([_year(s).rename("year"), "region_code"])["value"].sum().reset_index()


def region_rates(
    counts: pd.DataFrame,
    years: tuple[int, int],
    sex: str | None = None,
    pop_years: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Cases over ``years`` per 100,000 person-years (of women with ``sex='female'``) over
    ``pop_years`` (default: the same years), by region: region_code, n, population, rate.
    For a one-off event (the estallido) pass ``pop_years=(2019, 2019)``: per 100,000
    inhabitants. Counts assigned to Biobío before Ñuble existed would be compared with
    Biobío's population only: use years from 2019."""
    lo, hi = years
    c = counts[counts["year"].between(lo, hi)].groupby("region_code")["value"].sum()
    pop = population("region", sex=sex)
    plo, phi = pop_years or years
    p = pop[pop["year"].between(plo, phi)].groupby("code")["population"].sum()
    out = pd.DataFrame({"n": c, "population": p}).fillna({"n": 0})
    out["rate"] = 100_000 * out["n"] / out["population"]
    return out.rename_axis("region_code").reset_index()


# ------------------------------------------------------------------------ Poder Judicial
def pjud_monthly(phenomenon: str, institution: str = "PJUD_GARANTIA") -> pd.DataFrame:
    """Court cases entering and sentences per month (national) for one materia group."""
    s = open_series(phenomenon=phenomenon, institution=institution, source="ds_pjud")
    out = s.groupby(["period_start", "unit"])["value"].sum().unstack(fill_value=0)
    return out.reindex(columns=["court_cases", "sentences"], fill_value=0)


def pjud_yearly(phenomena: list[str], institution: str) -> pd.DataFrame:
    """Yearly court cases entering and sentences for each materia group (columns:
    '<phenomenon>|<unit>')."""
    s = open_series(phenomenon=phenomena, institution=institution, source="ds_pjud")
    out = s.groupby([_year(s), s["phenomenon"] + "|" + s["unit"]])["value"].sum()
    cols = [f"{p}|{u}" for p in phenomena for u in ("court_cases", "sentences")]
    return out.unstack(fill_value=0).reindex(columns=cols, fill_value=0)


def pjud_by_court(phenomena: list[str], unit: str, institution: str) -> pd.DataFrame:
    """Totals 2017-2021 by appeals court (north to south) and materia group."""
    s = open_series(phenomenon=phenomena, institution=institution, unit=unit, source="ds_pjud")
    out = s.groupby(["geo_name", "phenomenon"])["value"].sum().unstack(fill_value=0)
    order = _court_order(out.index)
    return out.reindex(index=order, columns=phenomena, fill_value=0)


def _court_order(courts) -> list[str]:
    from ..core import canon
    from .geo import region_code

    rank = {c: i for i, c in enumerate(canon.regions()["code"])}
    return sorted(
        courts, key=lambda c: (rank[region_code(c.replace("Corte de Apelaciones de ", ""))], c)
    )


def sentence_index(years: tuple[int, int] = (2019, 2021)) -> pd.DataFrame:
    """The open-data index: sentences per court case entering, courts of guarantee, by
    appeals court, for apremios ilegítimos + tortura and for all offences, over ``years``.
    Columns: cases_apremios_tortura, sentences_apremios_tortura, index_apremios_tortura,
    cases_all, sentences_all, index_all. Sentences in a year may belong to cases that
    entered earlier: a flow ratio, not a conviction rate."""
    lo, hi = years
    s = open_series(source="ds_pjud", institution="PJUD_GARANTIA")
    s = s[_year(s).between(lo, hi)]
    focus = s[s["phenomenon"].isin(["apremios_ilegitimos", "torture"])]
    allo = s[s["phenomenon"] == "all_offences"]
    f = focus.groupby(["geo_name", "unit"])["value"].sum().unstack(fill_value=0)
    a = allo.groupby(["geo_name", "unit"])["value"].sum().unstack(fill_value=0)
    out = pd.DataFrame(
        {
            "cases_apremios_tortura": f["court_cases"],
            "sentences_apremios_tortura": f["sentences"],
            "cases_all": a["court_cases"],
            "sentences_all": a["sentences"],
        }
    ).fillna(0)
    out.loc["Chile"] = out.sum()
    out["index_apremios_tortura"] = (
        out["sentences_apremios_tortura"] / out["cases_apremios_tortura"]
    )
    out["index_all"] = out["sentences_all"] / out["cases_all"]
    return out.reindex([*_court_order(out.index.drop("Chile")), "Chile"])


# ------------------------------------------------------------------------ protest violence
def indh_acts_weekly(top: int = 5) -> pd.DataFrame:
    """INDH map: acts per week (Monday) by type, the ``top`` types and 'Otros'."""
    s = open_series("protest_violence", source="indh_mapa")
    week = s["period_start"].dt.to_period("W-SUN").dt.start_time
    kinds = s.groupby("category")["value"].sum().sort_values(ascending=False)
    keep = list(kinds.index[:top])
    cat = s["category"].where(s["category"].isin(keep), "Otros")
    out = s.assign(week=week, cat=cat).groupby(["week", "cat"])["value"].sum().unstack(fill_value=0)
    return out.reindex(
        columns=[*keep, *(["Otros"] if "Otros" in out.columns else [])], fill_value=0
    )


INSTITUTIONS = ["Carabineros", "Ejercito", "PDI"]


def _institution(detail: pd.Series) -> pd.Series:
    inst = detail.str.extract(r"institucion=([^;]+);")[0].str.strip()
    return inst.where(inst.isin(INSTITUTIONS), "Otras / sin información")


def indh_by_region_institution() -> pd.DataFrame:
    """INDH: victims in its legal actions by region (north to south) x perpetrator institution."""
    s = open_series("protest_violence", institution="INDH", phenomenon="victims_in_legal_actions")
    s = s[s["dataset"] == "indh_acciones_region_institucion_figura"]
    out = s.assign(inst=_institution(s["detail"])).groupby(["region_code", "inst"])["value"].sum()
    out = out.unstack(fill_value=0)
    from ..core import canon

    order = [c for c in canon.regions()["code"] if c in out.index]
    cols = [c for c in [*INSTITUTIONS, "Otras / sin información"] if c in out.columns]
    return out.reindex(index=order, columns=cols, fill_value=0)


def indh_by_figure_institution(top: int = 6) -> pd.DataFrame:
    """INDH: victims by legal figure (the ``top`` figures and 'Otras') x institution."""
    s = open_series("protest_violence", institution="INDH", phenomenon="victims_in_legal_actions")
    s = s[s["dataset"] == "indh_acciones_region_institucion_figura"]
    figs = s.groupby("category")["value"].sum().sort_values(ascending=False)
    keep = list(figs.index[:top])
    fig = s["category"].where(s["category"].isin(keep), "Otras figuras")
    out = s.assign(fig=fig, inst=_institution(s["detail"])).groupby(["fig", "inst"])["value"].sum()
    out = out.unstack(fill_value=0)
    cols = [c for c in [*INSTITUTIONS, "Otras / sin información"] if c in out.columns]
    return out.reindex(index=[*keep, "Otras figuras"], columns=cols, fill_value=0)


def pacto_status() -> pd.Series:
    s = open_series("protest_violence", institution="PACTO")
    return s.groupby("category")["value"].sum().sort_values(ascending=False)


CDE_STAGES = [  # (keyword in the normalised stage, stage group), in procedural order
    ("notificacion", "Notificación de la demanda"),
    ("excepciones", "Excepciones dilatorias"),
    ("incompetencia", "Excepciones dilatorias"),
    ("discusion", "Discusión (contestación, réplica, dúplica)"),
    ("contestacion", "Discusión (contestación, réplica, dúplica)"),
    ("replica", "Discusión (contestación, réplica, dúplica)"),
    ("duplica", "Discusión (contestación, réplica, dúplica)"),
    ("prueba", "Prueba"),
    ("citacion", "Citación a oír sentencia"),
    ("apelacion", "Apelación"),
    ("suspension", "Suspensión del procedimiento"),
    ("sin informacion", "Sin información"),
]


def cde_stage(label: str) -> str:
    from .geo import normalise

    key = normalise(label)
    for word, group in CDE_STAGES:
        if word in key:
            return group
    raise ValueError(
        f"cde_demandas_falta_servicio_agregado.csv: column Etapa: unknown stage {label!r}"
    )


def cde_suits() -> pd.DataFrame:
    """CDE: suits by stage (grouped, in procedural order) x first-instance outcome."""
    s = open_series("protest_violence", institution="CDE", unit="suits")
    stage = s["detail"].str.extract(r"etapa=(.+)$")[0].map(cde_stage)
    out = s.assign(stage=stage).groupby(["stage", "category"])["value"].sum().unstack(fill_value=0)
    order = list(dict.fromkeys(g for _w, g in CDE_STAGES))
    return out.reindex([g for g in order if g in out.index])
