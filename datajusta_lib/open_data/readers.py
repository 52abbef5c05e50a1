"""One reader per open-data source: its files -> the long series table (``SeriesModel``).

Each reader returns a :class:`SourceRead`: the validated ``table``, and ``set_aside``, the
rows it did not turn into series values with the reason (a region that did not exist yet, a
row with no count), so that nothing leaves silently; ``unmatched`` lists place names that
matched no official code (they stay in the table with a null code and
``geo_level = comuna_not_stated``).

Provenance (publisher, collecting repository and commit, licence) comes from each source's
``datapackage.json`` (``source_meta``); ``as_of`` is the collection date (the collecting
repository's commit) unless the source gives a snapshot date of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache

import pandas as pd

from .contract import COLUMNS, check_series
from .geo import BIOBIO, NUBLE, match_comunas, open_dir, region_code

SOURCE_NAMES = [
    "femicidios_chile",
    "delincuencia_chile",
    "ds_pjud",
    "listado_victimas",
    "indh_mapa",
]

SERNAMEG_URL = "https://www.sernameg.gob.cl/?page_id=27084"
DATOSGOB_URL = "https://datos.gob.cl/"
RED_CHILENA_URL = "http://www.nomasviolenciacontramujeres.cl/"
CEAD_URL = "https://cead.minsegpublica.gob.cl/estadisticas-delictuales/"
PJUD_URL = "https://www.pjud.cl/post/estadisticas/"
INDH_MAP_URL = "https://mapaviolacionesddhh.indh.cl/"


@dataclass
class SourceRead:
    source: str
    table: pd.DataFrame
    set_aside: pd.DataFrame = field(default_factory=lambda: _aside([]))
    unmatched: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["dataset", "name", "rows"])
    )


def _aside(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["dataset", "row", "reason", "value"])


@cache
def source_meta(source: str) -> dict:
    """The source's datapackage.json (``datajusta`` block: publishers, repository, commit...)."""
    path = open_dir() / source / "datapackage.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no datapackage for open-data source {source!r}")
    return json.loads(path.read_text(encoding="utf-8"))


def _as_of(source: str) -> str:
    return source_meta(source)["datajusta"]["commit_date"]


def _frame(rows: pd.DataFrame | dict, **constants) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for key, value in constants.items():
        df[key] = value
    for col in COLUMNS:
        if col not in df.columns:
            df[col] = None
    return df


def _read(source: str, name: str, **kwargs) -> pd.DataFrame:
    path = open_dir() / source / name
    df = pd.read_csv(path, **kwargs)
    df["source_row"] = range(2, len(df) + 2)  # line in the file (header is line 1)
    return df


def _regions(names: pd.Series, dataset: str) -> pd.Series:
    out = {}
    for name in names.dropna().unique():
        try:
            out[name] = region_code(name)
        except KeyError as err:
            raise ValueError(f"{dataset}: column region: {err}") from None
    return names.map(out).astype("object")


def _finish(source: str, parts: list[pd.DataFrame], **extra) -> SourceRead:
    """Validate each dataset against the contract (errors name its file, line, column and
    rule) and concatenate."""
    checked = []
    for part in parts:
        ds = part["dataset"].iloc[0]
        cols = [*COLUMNS, "source_row"] if "source_row" in part.columns else COLUMNS
        checked.append(check_series(part[cols], source=f"data/open/{source}/{ds}.csv"))
    table = pd.concat(checked, ignore_index=True).drop(columns="source_row", errors="ignore")
    return SourceRead(source=source, table=table, **extra)


def _year(y: pd.Series) -> tuple[pd.Series, pd.Series]:
    y = y.astype(int).astype(str)
    return y + "-01-01", y + "-12-31"


def _month(ym: pd.Series, missing: tuple[str, str] | None = None) -> tuple[pd.Series, pd.Series]:
    """First and last day of each month; a missing month gets the ``missing`` period."""
    start = pd.to_datetime(ym)
    first = start.dt.strftime("%Y-%m-%d")
    last = (start + pd.offsets.MonthEnd(0)).dt.strftime("%Y-%m-%d")
    if missing is not None:
        first, last = first.fillna(missing[0]), last.fillna(missing[1])
    return first, last


def _month_granularity(ym: pd.Series) -> pd.Series:
    return ym.notna().map({True: "month", False: "period"})


def _month_note(ym: pd.Series, note: str | None = None) -> pd.Series:
    missing = "month not stated: the whole period"
    return ym.notna().map({True: note, False: f"{note}; {missing}" if note else missing})


def _read_with_regions(source: str, dataset: str, region_col: str = "region", **kwargs):
    """A dataset's CSV with ``region_code`` from its region names (unknown names: an error)."""
    df = _read(source, dataset + ".csv", **kwargs)
    df["region_code"] = _regions(df[region_col], dataset)
    return df


def _detail(*pairs: tuple[str, pd.Series]) -> pd.Series:
    """'name=value; name=value' per row; callers fill missing values as the source words them."""
    out = None
    for name, values in pairs:
        item = f"{name}=" + values
        out = item if out is None else out + "; " + item
    return out


# ============================================================================ femicidios
_BIOBIO_WITH_NUBLE = "Biobío including Ñuble (created Sep 2018)"
_SERNAMEG_REGION_YEAR = dict(
    institution="SERNAMEG",
    case_study="attempted_femicide",
    unit="victims",
    granularity="year",
    geo_level="region",
)


def read_femicidios_chile() -> SourceRead:
    """SernamEG completed and frustrated femicides (region x year), SernamEG 2008-2014 from
    datos.gob.cl, and Red Chilena's femicides with whether SernamEG registered each one.

    Ñuble: SernamEG's table has a Ñuble row for every year but gives 0 up to 2018 (the region
    did not exist; its cases are in Biobío): those rows are set aside with that reason and the
    Biobío rows of 2013-2018 say they include Ñuble. The 2008-2014 file has no Ñuble: its
    Biobío rows say the same. Red Chilena assigns earlier cases to Ñuble by place: kept."""
    src = "femicidios_chile"
    as_of = _as_of(src)
    parts, aside = _sernameg_region_year(src, as_of)
    parts.append(_sernameg_datosgob_2008_2014(src, as_of))
    parts.append(_red_chilena(src, as_of))
    # the aggregate may hold two rows for one cell (same labels): sum them, say so
    return _finish(src, [_merge_same_cells(p) for p in parts], set_aside=_aside(aside))


def _sernameg_region_year(src: str, as_of: str) -> tuple[list[pd.DataFrame], list[dict]]:
    """Completed and frustrated femicides by region and year; Ñuble before 2019 set aside."""
    ds = "sernameg_femicidios_consumados_frustrados_region_anio"
    s = _read_with_regions(src, ds)
    parts, aside = [], []
    for col, phen, cat in (
        ("femicidios_consumados", "femicide_completed", "Femicidio consumado"),
        ("femicidios_frustrados", "femicide_frustrated", "Femicidio frustrado"),
    ):
        d = s.copy()
        pre = (d["region_code"] == NUBLE) & (d["anio"] <= 2018)
        aside += _nuble_set_aside(d[pre], ds, col)
        d = d[~pre]
        start, end = _year(d["anio"])
        note = (d["region_code"] == BIOBIO) & (d["anio"] <= 2018)
        parts.append(
            _frame(
                {
                    "region_code": d["region_code"],
                    "value": d[col],
                    "period_start": start,
                    "period_end": end,
                    "source_row": d["source_row"],
                    "note": note.map({True: _BIOBIO_WITH_NUBLE, False: None}),
                    "geo_name": d["region"],
                },
                source=src,
                dataset=ds,
                publisher="SernamEG",
                phenomenon=phen,
                category=cat,
                source_url=SERNAMEG_URL,
                as_of=as_of,
                **_SERNAMEG_REGION_YEAR,
            )
        )
    return parts, aside


def _nuble_set_aside(rows: pd.DataFrame, ds: str, col: str) -> list[dict]:
    """SernamEG's Ñuble rows from before the region existed (its cases are in Biobío)."""
    return [
        {
            "dataset": ds,
            "row": r.source_row,
            "reason": f"Ñuble {r.anio}: region created in Sep 2018; SernamEG counts its cases in Biobío ({col})",
            "value": getattr(r, col),
        }
        for r in rows.itertuples()
    ]


def _sernameg_datosgob_2008_2014(src: str, as_of: str) -> pd.DataFrame:
    ds = "sernameg_datosgob_femicidios_region_2008_2014"
    g = _read_with_regions(src, ds)
    start, end = _year(g["anio"])
    return _frame(
        {
            "region_code": g["region_code"],
            "value": g["femicidios"],
            "period_start": start,
            "period_end": end,
            "source_row": g["source_row"],
            "geo_name": g["region"],
            "note": (g["region_code"] == BIOBIO).map({True: _BIOBIO_WITH_NUBLE, False: None}),
        },
        source=src,
        dataset=ds,
        publisher="SernamEG (datos.gob.cl)",
        phenomenon="femicide_completed",
        category="Femicidio consumado",
        source_url=DATOSGOB_URL,
        as_of=as_of,
        **_SERNAMEG_REGION_YEAR,
    )


def _red_chilena(src: str, as_of: str) -> pd.DataFrame:
    """Red Chilena's femicides by year, category and region, with whether SernamEG
    registered each one (in ``detail``)."""
    ds = "red_chilena_femicidios_agregado"
    r = _read(src, ds + ".csv")
    r["region_code"] = _regions(r["cut_region"].astype("object").where(r["cut_region"].notna()), ds)
    start, end = _year(r["anio"])
    unknown = "Sin información"
    detail = _detail(
        ("relacion", r["relacion_victima_femicida"].fillna(unknown)),
        ("registrado_sernameg", r["registrado_sernameg"].fillna(unknown)),
        ("forma", r["forma_de_agresion"].fillna(unknown)),
        ("tipificacion", r["tipificacion_penal"].fillna(unknown)),
    )
    return _frame(
        {
            "region_code": r["region_code"],
            "geo_level": r["region_code"].notna().map({True: "region", False: "region_not_stated"}),
            "geo_name": r["region"],
            "category": r["categoria_femicidio"],
            "detail": detail,
            "value": r["n_femicidios"],
            "period_start": start,
            "period_end": end,
            "source_row": r["source_row"],
        },
        source=src,
        dataset=ds,
        publisher="Red Chilena contra la Violencia hacia las Mujeres",
        institution="RED_CHILENA",
        case_study="attempted_femicide",
        phenomenon="femicide_red_chilena",
        unit="victims",
        granularity="year",
        source_url=RED_CHILENA_URL,
        as_of=as_of,
    )


def _merge_same_cells(df: pd.DataFrame) -> pd.DataFrame:
    from .contract import KEY

    key = [k for k in KEY if k in df.columns]
    filled = df[key].astype("object").where(df[key].notna(), "\x00")
    if not filled.duplicated().any():
        return df
    grouped = df.assign(_k=filled.apply(tuple, axis=1)).groupby("_k", sort=False)
    out = grouped.first()
    out["value"] = grouped["value"].sum()
    return out.reset_index(drop=True)


# ============================================================================ CEAD
CEAD_PHENOMENA = {
    "Femicidios": ("femicide", "attempted_femicide"),
    "Violencia intrafamiliar": ("family_violence", "attempted_femicide"),
    "Desórdenes públicos": ("public_disorder", "protest_violence"),
    "Homicidios": ("homicide", None),
    "Violaciones": ("rape", None),
    "Abusos sexuales": ("sexual_abuse", None),
    "Lesiones graves o gravísimas": ("serious_injuries", None),
}


def read_delincuencia_chile() -> SourceRead:
    """CEAD police cases: region x year (seven delitos), region x month (three), femicides by
    comuna x month (non-zero months). CEAD re-downloaded every year with today's comunas,
    so Ñuble has its own values before 2018: kept, with a note."""
    src = "delincuencia_chile"
    as_of = _as_of(src)
    base = dict(
        source=src,
        publisher="CEAD, Subsecretaría de Prevención del Delito",
        institution="CEAD",
        unit="police_cases",
        source_url=CEAD_URL,
        as_of=as_of,
    )
    parts = []
    for ds, granularity in (
        ("cead_casos_policiales_region_anio_seleccion", "year"),
        ("cead_region_mes_seleccion", "month"),
    ):
        d = _read(src, ds + ".csv")
        unknown = set(d["delito"]) - set(CEAD_PHENOMENA)
        if unknown:
            raise ValueError(f"{ds}.csv: column delito: unknown values {sorted(unknown)}")
        start, end = _year(d["anio"]) if granularity == "year" else _month(d["fecha"])
        code = d["cut_region"].map(lambda v: f"{int(v):02d}")
        year = start.str[:4].astype(int)
        parts.append(
            _frame(
                {
                    "phenomenon": d["delito"].map(lambda v: CEAD_PHENOMENA[v][0]),
                    "case_study": d["delito"].map(lambda v: CEAD_PHENOMENA[v][1]),
                    "category": d["delito"],
                    "region_code": code,
                    "geo_name": d["region"],
                    "value": d["delito_n"],
                    "period_start": start,
                    "period_end": end,
                    "source_row": d["source_row"],
                    "note": ((code == NUBLE) & (year < 2019)).map(
                        {
                            True: "Ñuble before its creation (Sep 2018): CEAD assigns by today's comunas",
                            False: None,
                        }
                    ),
                },
                dataset=ds,
                granularity=granularity,
                geo_level="region",
                **base,
            )
        )
    ds = "cead_femicidios_comuna_mes_nonzero"
    c = _read(src, ds + ".csv")
    start, end = _month(c["fecha"])
    parts.append(
        _frame(
            {
                "comuna_code": c["cut_comuna"].map(lambda v: f"{int(v):05d}"),
                "region_code": c["cut_region"].map(lambda v: f"{int(v):02d}"),
                "geo_name": c["comuna"],
                "value": c["delito_n"],
                "period_start": start,
                "period_end": end,
                "source_row": c["source_row"],
            },
            dataset=ds,
            phenomenon="femicide",
            case_study="attempted_femicide",
            category="Femicidios",
            granularity="month",
            geo_level="comuna",
            note="months with no case are not in the file",
            **base,
        )
    )
    return _finish(src, parts)


# ============================================================================ Poder Judicial
PJUD_GROUPS = {
    "trata_personas_411": ("trafficking_411_quater", "trafficking"),
    "trafico_migrantes_411bis": ("smuggling_411_bis", "trafficking"),
    "explotacion_sexual_menores": ("sexual_exploitation_of_minors", "trafficking"),
    "femicidio_390bis_ter": ("femicide_completed_and_attempted", "attempted_femicide"),
    "parricidio": ("parricide", "attempted_femicide"),
    "vif_maltrato_habitual": ("family_violence_habitual_abuse", "attempted_femicide"),
    "apremios_ilegitimos_150E": ("apremios_ilegitimos", "protest_violence"),
    "tortura_150A_150B": ("torture", "protest_violence"),
    "abusos_funcionarios_publicos": ("abuses_by_public_officials", "protest_violence"),
    "desordenes_publicos_269": ("public_disorder", "protest_violence"),
    "ley_21208": ("ley_21208", "protest_violence"),
    "maltrato_obra_carabineros": ("assault_on_carabineros", "protest_violence"),
    "lesa_humanidad": ("crimes_against_humanity", "protest_violence"),
    "homicidio": ("homicide", None),
    "secuestro": ("kidnapping", None),
}
PJUD_COURTS = {
    "Juzgado de Garantia": "PJUD_GARANTIA",
    "Tribunal de Juicio Oral en lo Penal": "PJUD_TOP",
}
PJUD_UNITS = {"Ingresos Causas Por Materia": "court_cases", "Sentencias Por Delito": "sentences"}


def read_ds_pjud() -> SourceRead:
    """Poder Judicial cases entering court and sentences by materia, appeals court and month
    (and all materias together, the denominator). The two court types are two institutions
    here (PJUD_GARANTIA, PJUD_TOP): a case reaching an oral tribunal is counted again there."""
    src = "ds_pjud"
    as_of = _as_of(src)
    parts = []
    for ds, group_col in (
        ("pjud_materias_clave_corte_mes_2017_2021", "grupo"),
        ("pjud_penal_controles_corte_mes_2017_2021", "grupo"),
        ("pjud_totales_corte_mes_2017_2021", None),
    ):
        d = _read(src, ds + ".csv")
        for col, allowed in (("tipo_tribunal", PJUD_COURTS), ("informe", PJUD_UNITS)):
            bad = set(d[col]) - set(allowed)
            if bad:
                raise ValueError(f"{ds}.csv: column {col}: unknown values {sorted(bad)}")
        if group_col:
            bad = set(d[group_col]) - set(PJUD_GROUPS)
            if bad:
                raise ValueError(f"{ds}.csv: column grupo: unknown values {sorted(bad)}")
            phen = d[group_col].map(lambda v: PJUD_GROUPS[v][0])
            case = d[group_col].map(lambda v: PJUD_GROUPS[v][1])
            value = d["total"]
        else:
            phen, case, value = "all_offences", None, d["total_all_materias"]
        start, end = _month(d["anio"].astype(str) + "-" + d["mes"].astype(str).str.zfill(2))
        court = d["corte"].str.replace("Corte De Apelaciones De ", "", regex=False)
        parts.append(
            _frame(
                {
                    "institution": d["tipo_tribunal"].map(PJUD_COURTS),
                    "unit": d["informe"].map(PJUD_UNITS),
                    "phenomenon": phen,
                    "case_study": case,
                    "category": d["materia"] if "materia" in d.columns else None,
                    "region_code": court.map(region_code),
                    "geo_name": "Corte de Apelaciones de " + court,
                    "value": value,
                    "period_start": start,
                    "period_end": end,
                    "source_row": d["source_row"],
                },
                source=src,
                dataset=ds,
                publisher="Poder Judicial de Chile",
                granularity="month",
                geo_level="appeals_court",
                source_url=PJUD_URL,
                as_of=as_of,
                note="region of the court's seat; a jurisdiction is not exactly a region",
            )
        )
    return _finish(src, parts)


# ============================================================================ listado_victimas
INDH_PERIOD = ("2019-10-17", "2020-03-14")
INDH_URL = "https://www.indh.cl/"
PVI_URL = "https://ddhh.minjusticia.gob.cl/"
PACTO_URL = "https://www.minsal.cl/"
CDE_URL = "https://www.cde.cl/"
SEX = {
    "hombre": "male",
    "mujer": "female",
    "masculino": "male",
    "femenino": "female",
    "no binario": "non_binary",
    "otro": "other",
    "sin informacion": "not_stated",
    "": "not_stated",
}


def _sex(s: pd.Series) -> pd.Series:
    from .geo import normalise

    out = s.map(lambda v: SEX.get(normalise(v)))
    bad = s[out.isna()].unique()
    if len(bad):
        raise ValueError(f"unknown sex/gender values {list(bad)}")
    return out


def _geo(code: pd.Series) -> pd.Series:
    return code.notna().map({True: "region", False: "region_not_stated"})


# the INDH's lists of legal actions and victims (a snapshot at the last filing date)
_INDH = dict(
    publisher="INDH",
    institution="INDH",
    case_study="protest_violence",
    source_url=INDH_URL,
    as_of="2020-08-03",  # last filing date in the snapshot
)
_INDH_PERIOD_BY_REGION = dict(
    period_start=INDH_PERIOD[0],
    period_end=INDH_PERIOD[1],
    granularity="period",
    geo_level="region",
)


def read_listado_victimas() -> SourceRead:
    """INDH legal actions and victims, the PVI catalogue, the PACTO eye-trauma registry and
    the CDE's civil suits (aggregates derived from files about identifiable victims: every
    table derived from them passes the disclosure gate). The capture histories are read by
    ``eye_trauma.capture_histories``."""
    src = "listado_victimas"
    _as_of(src)  # a source without its datapackage fails here, as the other readers do
    parts = [*_indh_legal_actions(src), _indh_victims_by_injury(src)]
    by_comuna, unmatched = _indh_victims_by_comuna_month(src)
    parts += [
        *by_comuna,
        _indh_victims_by_day(src),
        _pacto_eye_trauma(src),
        _pvi_catalogue(src),
        *_cde_civil_suits(src),
    ]
    return _finish(src, [_merge_same_cells(p) for p in parts], unmatched=unmatched)


def _indh_legal_actions(src: str) -> list[pd.DataFrame]:
    """Victims, legal actions and eye-trauma victims by region, institution and legal figure."""
    ds = "indh_acciones_region_institucion_figura"
    a = _read_with_regions(src, ds)
    detail = _detail(
        ("institucion", a["institucion"]),
        ("clasificacion", a["clasificacion_tematica"].fillna("Sin información")),
    )
    return [
        _frame(
            {
                "region_code": a["region_code"],
                "geo_name": a["region"],
                "category": a["figura_juridica"],
                "detail": detail,
                "value": a[col],
                "source_row": a["source_row"],
            },
            source=src,
            dataset=ds,
            phenomenon=phen,
            unit=unit,
            note=note,
            **_INDH_PERIOD_BY_REGION,
            **_INDH,
        )
        for col, phen, unit, note in (
            ("n_victimas", "victims_in_legal_actions", "victims", None),
            (
                "n_acciones_judiciales",
                "legal_actions",
                "legal_actions",
                "one action may name victims in several cells: do not add across cells",
            ),
            ("n_trauma_ocular", "eye_trauma_victims_in_legal_actions", "victims", None),
        )
    ]


def _indh_victims_by_injury(src: str) -> pd.DataFrame:
    ds = "indh_victimas_region_consecuencia_sexo"
    c = _read_with_regions(src, ds)
    return _frame(
        {
            "region_code": c["region_code"],
            "geo_name": c["region"],
            "category": c["consecuencia"],
            "sex": _sex(c["sexo"]),
            "value": c["n_victimas"],
            "source_row": c["source_row"],
        },
        source=src,
        dataset=ds,
        phenomenon="victims_by_injury",
        unit="victims",
        **_INDH_PERIOD_BY_REGION,
        **_INDH,
    )


def _indh_victims_by_comuna_month(src: str) -> tuple[list[pd.DataFrame], pd.DataFrame]:
    """Victims and eye-trauma victims by comuna and month, and the comuna names that matched
    no official code."""
    ds = "indh_victimas_comuna_mes"
    m = _read_with_regions(src, ds, dtype={"cut_comuna": str})
    match = match_comunas(m["comuna1"], region_codes=m["region_code"])
    start, end = _month(m["mes_hecho"], INDH_PERIOD)
    parts = [
        _frame(
            {
                "region_code": m["region_code"],
                "comuna_code": match.codes,
                "geo_level": match.codes.notna().map({True: "comuna", False: "comuna_not_stated"}),
                "geo_name": m["comuna1"],
                "value": m[col],
                "period_start": start,
                "period_end": end,
                "granularity": _month_granularity(m["mes_hecho"]),
                "note": _month_note(m["mes_hecho"]),
                "source_row": m["source_row"],
            },
            source=src,
            dataset=ds,
            phenomenon=phen,
            unit="victims",
            **_INDH,
        )
        for col, phen in (
            ("n_victimas", "victims_in_legal_actions"),
            ("n_trauma_ocular", "eye_trauma_victims_in_legal_actions"),
        )
    ]
    return parts, match.unmatched.assign(dataset=ds)


def _indh_victims_by_day(src: str) -> pd.DataFrame:
    ds = "indh_victimas_diario_hecho_funcionario"
    d = _read(src, ds + ".csv")
    return _frame(
        {
            "category": d["hecho1"].fillna("Sin información"),
            "detail": _detail(("funcionario", d["tipo_funcionario1"].fillna("Sin información"))),
            "value": d["n_victimas"],
            "period_start": d["fecha_hecho"].fillna(INDH_PERIOD[0]),
            "period_end": d["fecha_hecho"].fillna(INDH_PERIOD[1]),
            "granularity": d["fecha_hecho"].notna().map({True: "day", False: "period"}),
            "note": d["fecha_hecho"]
            .notna()
            .map({True: None, False: "date not stated: the whole period"}),
            "source_row": d["source_row"],
        },
        source=src,
        dataset=ds,
        phenomenon="victims_in_legal_actions",
        unit="victims",
        geo_level="country",
        **_INDH,
    )


def _pacto_eye_trauma(src: str) -> pd.DataFrame:
    """Patients admitted to the eye-trauma unit by month, region, sex, age and status."""
    ds = "pacto_trauma_ocular_registro_agregado"
    p = _read_with_regions(src, ds)
    start, end = _month(p["mes_ingreso_uto"], ("2019-10-01", "2023-12-31"))
    return _frame(
        {
            "region_code": p["region_code"],
            "geo_level": _geo(p["region_code"]),
            "geo_name": p["region"],
            "category": p["estado_2023"],
            "sex": _sex(p["genero"]),
            "age_band": p["edad_al_trauma"],
            "value": p["n_personas"],
            "period_start": start,
            "period_end": end,
            "granularity": _month_granularity(p["mes_ingreso_uto"]),
            "note": _month_note(
                p["mes_ingreso_uto"],
                "month of admission to the Unidad de Trauma Ocular; category = status at 31 Dec 2023",
            ),
            "source_row": p["source_row"],
        },
        source=src,
        dataset=ds,
        publisher="MINSAL, programa PACTO (trauma ocular)",
        institution="PACTO",
        case_study="protest_violence",
        phenomenon="eye_trauma_patients_admitted",
        detail=None,
        unit="persons",
        source_url=PACTO_URL,
        as_of="2023-12-31",
    )


def _pvi_catalogue(src: str) -> pd.DataFrame:
    """The PVI's catalogue of victims by region, kind of harm, victim and institution."""
    ds = "pvi_catastro_victimas_agregado"
    v = _read(src, ds + ".csv")
    v["region_code"] = _regions(v["region_hecho"].str.strip(), ds)
    unknown = "SIN INFORMACIÓN"
    return _frame(
        {
            "region_code": v["region_code"],
            "geo_level": _geo(v["region_code"]),
            "geo_name": v["region_hecho"].str.strip(),
            "category": v["tipo_dano1"].fillna(unknown),
            "detail": _detail(
                ("tipo_victima", v["tipo_victima"].fillna(unknown)),
                ("institucion", v["institucion_hecho1"].fillna(unknown)),
                ("hecho", v["tipo_hecho1"].fillna(unknown)),
            ),
            "sex": _sex(v["genero"].fillna("")),
            "value": v["n_personas"],
            "source_row": v["source_row"],
        },
        source=src,
        dataset=ds,
        publisher="Subsecretaría de Derechos Humanos, Programa de Violencia Institucional (PVI)",
        institution="PVI",
        case_study="protest_violence",
        phenomenon="victims_in_catalogue",
        unit="persons",
        period_start=INDH_PERIOD[0],
        period_end="2023-12-13",
        granularity="period",
        source_url=PVI_URL,
        as_of="2023-12-13",
    )


def _cde_civil_suits(src: str) -> list[pd.DataFrame]:
    """The CDE's suits for damages and their claimants, by state office, stage and outcome."""
    ds = "cde_demandas_falta_servicio_agregado"
    s = _read(src, ds + ".csv")
    detail = _detail(
        ("ingreso", s["RI-Año"].map(lambda y: "sin año" if pd.isna(y) else str(int(y)))),
        ("etapa", s["Etapa"].fillna("Sin información")),
    )
    return [
        _frame(
            {
                "region_code": s["Procuraduría"].map(region_code),
                "geo_name": "Procuraduría Fiscal de "
                + s["Procuraduría"].replace("Sanatiago", "Santiago"),
                "category": s["Sentencia Primera Instancia"].fillna("Sin sentencia"),
                "detail": detail,
                "value": s[col].fillna(0),
                "source_row": s["source_row"],
            },
            source=src,
            dataset=ds,
            publisher="Consejo de Defensa del Estado (CDE)",
            institution="CDE",
            case_study="protest_violence",
            phenomenon="civil_suits_against_the_state",
            unit=unit,
            period_start="2019-10-18",
            period_end="2024-01-31",
            granularity="period",
            geo_level="state_office",
            note="suits for damages (falta de servicio) for protest injuries; status at 31 Jan 2024",
            source_url=CDE_URL,
            as_of="2024-01-31",
        )
        for col, unit in (("n_causas", "suits"), ("n_demandantes", "claimants"))
    ]


# ============================================================================ INDH map
def read_indh_mapa() -> SourceRead:
    """INDH map: repressive acts per day, comuna, type and place (one act per case), counted.
    Comuna names are matched to CUT codes; unmatched names are reported and kept."""
    src = "indh_mapa"
    ds = "indh_mapa_actos_2019"
    d = _read(src, ds + ".csv")
    match = match_comunas(d["nombre_comuna"])
    d["comuna_code"] = match.codes
    d["region_code"] = d["comuna_code"].str[:2]
    keys = [
        "date",
        "comuna_code",
        "region_code",
        "nombre_comuna",
        "repressive_type_original",
        "location",
    ]
    g = (
        d.fillna({"repressive_type_original": "Sin información", "location": "Sin información"})
        .groupby(keys, dropna=False, as_index=False)
        .size()
    )
    table = _frame(
        {
            "period_start": g["date"],
            "period_end": g["date"],
            "comuna_code": g["comuna_code"],
            "region_code": g["region_code"],
            "geo_level": g["comuna_code"].notna().map({True: "comuna", False: "comuna_not_stated"}),
            "geo_name": g["nombre_comuna"],
            "category": g["repressive_type_original"],
            "detail": "lugar=" + g["location"],
            "value": g["size"],
        },
        source=src,
        dataset=ds,
        publisher="INDH, Mapa de violaciones a los derechos humanos",
        institution="INDH",
        case_study="protest_violence",
        phenomenon="repressive_acts",
        unit="acts",
        granularity="day",
        source_url=INDH_MAP_URL,
        as_of=_as_of(src),
        note="one act per case (the first)",
    )
    return _finish(src, [table], unmatched=match.unmatched.assign(dataset=ds))


READERS = {
    "femicidios_chile": read_femicidios_chile,
    "delincuencia_chile": read_delincuencia_chile,
    "ds_pjud": read_ds_pjud,
    "listado_victimas": read_listado_victimas,
    "indh_mapa": read_indh_mapa,
}


@cache
def read_source(source: str) -> SourceRead:
    if source not in READERS:
        raise KeyError(f"unknown open-data source {source!r}; expected one of {sorted(READERS)}")
    return READERS[source]()
