#!/usr/bin/env python
"""Where the real open data in ``data/open/`` come from, and how to collect them again.

Nothing in the project fetches data at run time: the pages read the files committed under
``data/open/<source>/``. This script is for the maintainer who refreshes them.

    python scripts/refresh_open_data.py --print
        how a user with internet re-collects each source from its publisher (no network used)

    python scripts/refresh_open_data.py --from-extract ../shared/open-data
        rebuild ``data/open/`` from an extract folder laid out like ``shared/open-data``
        (one folder per collecting repository, each with its SOURCES.md): copies the small
        files, reduces the large ones to what the project uses (see ``reduced`` below and
        each datapackage's ``description``) and writes a Frictionless ``datapackage.json``
        per source. Then run ``pytest tests/test_open_data*.py``: the readers' row counts and
        totals and the cross-source checks say whether the new files still agree.

The source metadata (publisher, collecting repository and commit, licence *as stated*, unit,
period, geography, caveats) lives in ``SOURCES`` below and is written into each
``datapackage.json``; the library reads it back from there (``datajusta_lib.open_data``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPEN = ROOT / "data" / "open"

NOT_STATED = "not stated"

# ------------------------------------------------------------------------------- metadata
SOURCES: dict[str, dict] = {
    "femicidios_chile": {
        "title": "Femicides in Chile: SernamEG (completed and frustrated) and Red Chilena contra la Violencia hacia las Mujeres",
        "publishers": [
            {
                "title": "Servicio Nacional de la Mujer y la Equidad de Género (SernamEG)",
                "path": "https://www.sernameg.gob.cl/?page_id=27084",
            },
            {
                "title": "datos.gob.cl dataset 7161 (SernamEG, 2008-2014)",
                "path": "https://datos.gob.cl/",
            },
            {
                "title": "Red Chilena contra la Violencia hacia las Mujeres, Registro de femicidios",
                "path": "http://www.nomasviolenciacontramujeres.cl/",
            },
        ],
        "repository": "https://github.com/bastianolea/femicidios_chile",
        "commit": "62eb921fe5894842125d4d57ecbcc6ad9b1d8738",
        "commit_date": "2024-12-13",
        "licence": (
            "Repository licence GPL-3 (applies to its code; no data licence stated). SernamEG: "
            "not stated. Red Chilena states: 'El uso de los datos está a disposición de todas, "
            "todos y todes, citando la fuente'."
        ),
        "unit": "victims (femicides)",
        "period": "2008-2024 (SernamEG 2013-2024 by region; 2024 probably partial, collected Oct 2024)",
        "geography": "region (16 regions; 15 before Ñuble in the 2008-2014 datos.gob.cl file)",
        "caveats": [
            "Scraped by the collecting repository from SernamEG's web page and Red Chilena's sheets; publishers revise figures.",
            "2024 values are probably partial (the repository says it was updated to Oct 2024).",
            "Red Chilena counts femicides with a wider definition than the law before Ley Gabriela (2020); 'registrado_sernameg' says whether SernamEG counted the same case.",
            "Red Chilena: names, case numbers, dates, ages, comunas and narratives were not carried over, only counts.",
        ],
        "files": {
            "sernameg_femicidios_consumados_frustrados_region_anio.csv": "SernamEG femicidios consumados and frustrados, region x year 2013-2024",
            "sernameg_datosgob_femicidios_region_2008_2014.csv": "SernamEG femicidios consumados 2008-2014 (datos.gob.cl), 15 regions before Ñuble",
            "red_chilena_femicidios_agregado.csv": "Red Chilena femicides 2010-2024 by category, relationship, form of aggression, whether SernamEG registered it, legal classification",
        },
        "not_copied": "sernameg_femicidios_consumados.xlsx and sernameg_femicidios_frustrados.xlsx (verbatim repository files whose content is the merged CSV)",
        "refresh": [
            "SernamEG: open https://www.sernameg.gob.cl/?page_id=27084 and copy the table of femicidios consumados and frustrados by region and year (the repository's obtener_sernameg.R scrapes it).",
            "datos.gob.cl: download dataset 7161 (SernamEG xlsx 2008-2012 and 2013-2014).",
            "Red Chilena: download each year's Google Sheet linked from its 'Registro de femicidios' page and aggregate to counts (never keep names, dates or narratives).",
            "Or clone https://github.com/bastianolea/femicidios_chile at a newer commit and re-run this script on an extract of it.",
        ],
    },
    "delincuencia_chile": {
        "title": "CEAD police cases by comuna and month (Subsecretaría de Prevención del Delito)",
        "publishers": [
            {
                "title": "CEAD, Subsecretaría de Prevención del Delito (casos policiales de Carabineros y PDI)",
                "path": "https://cead.minsegpublica.gob.cl/estadisticas-delictuales/",
            }
        ],
        "repository": "https://github.com/bastianolea/delincuencia_chile",
        "commit": "099a5cd5309c2cae4c066b84968d206efbe9b3f1",
        "commit_date": "2026-06-10",
        "licence": "Repository licence GPL-3 (code). Data licence: not stated by CEAD (public government statistics).",
        "unit": "police cases (casos policiales: denuncias + detenciones en flagrancia)",
        "period": "2010-2025, monthly (Femicidios category from 2011)",
        "geography": "comuna (CUT) and region",
        "caveats": [
            "Scraped from CEAD's web API by the collecting repository; CEAD re-classified categories in 2024/25 and the author re-downloaded all years.",
            "Police cases are not victims nor court cases: CEAD femicide counts differ from SernamEG's case review.",
            "No 'trata de personas' category in this collection.",
        ],
        "files": {
            "cead_casos_policiales_region_anio_seleccion.csv": "region x year for Femicidios, VIF, Homicidios, Desórdenes públicos, Violaciones, Abusos sexuales, Lesiones graves",
            "cead_femicidios_comuna_mes_nonzero.csv": "Femicidios by comuna and month (non-zero months only)",
            "cead_region_mes_seleccion.csv": "REDUCED: region x month for Femicidios, Violencia intrafamiliar, Desórdenes públicos, summed from the repository's comuna x month parquet",
        },
        "reduced": {
            "cead_region_mes_seleccion.csv": "summed by cut_region x month for three delitos from cead_delincuencia_chile.parquet (1,987,200 rows, 2.2 MB), which is not copied",
        },
        "not_copied": "cead_delincuencia_chile.parquet (2.2 MB, 30 delitos x 345 comunas x 192 months): only the region x month sums of three delitos are kept",
        "refresh": [
            "CEAD: https://cead.minsegpublica.gob.cl/estadisticas-delictuales/ lets you export 'casos policiales' by comuna, delito and month; the collecting repository scrapes the same through the site's API.",
            "Or clone https://github.com/bastianolea/delincuencia_chile at a newer commit (datos/procesados/) and re-run this script on an extract of it.",
        ],
    },
    "ds_pjud": {
        "title": "Poder Judicial: criminal cases entering court and sentences by offence, court and month, 2017-2021",
        "publishers": [
            {
                "title": "Poder Judicial de Chile, estadísticas (Ingresos Causas Por Materia; Sentencias Por Delito)",
                "path": "https://www.pjud.cl/post/estadisticas/",
            }
        ],
        "repository": "https://github.com/Sud-Austral/ds_pjud",
        "commit": "c954f6c2ed08150a8084921a51e59d3a5474cb85",
        "commit_date": "2022-03-07",
        "licence": f"{NOT_STATED} (the collecting repository has no licence file; the Poder Judicial publishes the reports on its public statistics page)",
        "unit": "court cases (causas ingresadas) and sentences (sentencias), per materia",
        "period": "2017-01 to 2021-12, monthly",
        "geography": "court (Juzgado de Garantía, Tribunal de Juicio Oral en lo Penal), aggregated here to Corte de Apelaciones",
        "caveats": [
            "A case reaching an oral tribunal appears again under Tribunal de Juicio Oral en lo Penal: never add the two court types.",
            "The materia is the label chosen at case entry and may be re-qualified later.",
            "Femicidio (art. 390 bis/ter) includes completed and attempted femicides under the same materia.",
            "Five-year window only; scraped xlsx reports.",
        ],
        "files": {
            "pjud_materias_clave_corte_mes_2017_2021.csv": "REDUCED: selected materias (groups) by report, court type, appeals court and month",
            "pjud_penal_controles_corte_mes_2017_2021.csv": "homicidio, VIF maltrato habitual, secuestro by appeals court and month (verbatim)",
            "pjud_totales_corte_mes_2017_2021.csv": "REDUCED: all materias by report, court type, appeals court and month (denominator)",
            "pjud_penal_catalogo_materias_totales_2017_2021.csv": "every materia label and its national 5-year total (verbatim)",
        },
        "reduced": {
            "pjud_materias_clave_corte_mes_2017_2021.csv": "pjud_penal_materias_clave_tribunal_mes_2017_2021.csv (18,482 rows, 3.8 MB) summed over tribunals within each Corte de Apelaciones; the materia label is kept",
            "pjud_totales_corte_mes_2017_2021.csv": "pjud_penal_totales_tribunal_mes_2017_2021.csv (22,823 rows, 3.1 MB) summed over tribunals within each Corte de Apelaciones; n_tribunals counts the tribunal-month files",
        },
        "not_copied": "the per-tribunal files (6.9 MB): the project uses appeals courts only",
        "refresh": [
            "Poder Judicial: https://www.pjud.cl/post/estadisticas/ publishes monthly xlsx reports per court; download 'Ingresos Causas Por Materia' and 'Sentencias Por Delito' for every Juzgado de Garantía and Tribunal de Juicio Oral en lo Penal.",
            "Or clone https://github.com/Sud-Austral/ds_pjud (188,962 files) and re-run the extraction that produced shared/open-data/ds_pjud, then this script.",
        ],
    },
    "listado_victimas": {
        "title": "Protest violence 2019-2020: INDH legal actions, PVI victim catalogue, MINSAL PACTO eye-trauma registry, CDE civil suits (aggregates)",
        "publishers": [
            {
                "title": "Instituto Nacional de Derechos Humanos (INDH), BBDD Acciones judiciales y víctimas",
                "path": "https://www.indh.cl/",
            },
            {
                "title": "Subsecretaría de Derechos Humanos, Programa de Violencia Institucional (PVI), Catastro",
                "path": "https://ddhh.minjusticia.gob.cl/",
            },
            {
                "title": "MINSAL, Programa de Acompañamiento y Cuidados en Trauma Ocular (PACTO)",
                "path": "https://www.minsal.cl/",
            },
            {
                "title": "Consejo de Defensa del Estado (CDE), demandas por falta de servicio",
                "path": "https://www.cde.cl/",
            },
        ],
        "repository": "https://github.com/mau-carrasco/listado_victimas",
        "commit": "3685a89a05360fd03f6bf442bc42c9423b11a80c",
        "commit_date": "2024-02-28",
        "licence": f"{NOT_STATED} (the collecting repository states no licence; its inputs are government and INDH working files)",
        "unit": "victims, legal actions, persons, suits (per file)",
        "period": "facts 17 Oct 2019 - 14 Mar 2020; INDH snapshot about Aug 2020; PVI Dec 2023; PACTO 31 Dec 2023; CDE 31 Jan 2024",
        "geography": "region, comuna (INDH)",
        "caveats": [
            "Aggregates derived from files about identifiable victims (names, RUT, case numbers were never copied): every table the project derives from them passes the disclosure gate.",
            "INDH n_acciones_judiciales does not add up across cells (one action can name victims in several cells).",
            "INDH snapshot precedes its October 2020 balance; not the final 2023 balance.",
            "Legal status unclear: real, published on GitHub, unlicensed; used for aggregate analysis with attribution.",
        ],
        "files": {
            "indh_acciones_region_institucion_figura.csv": "INDH victims and legal actions by region x perpetrator institution x legal figure",
            "indh_victimas_region_consecuencia_sexo.csv": "INDH victims by region x injury outcome x sex",
            "indh_victimas_comuna_mes.csv": "INDH victims by comuna and month of the fact",
            "indh_victimas_diario_hecho_funcionario.csv": "INDH victims by day, type of act and type of agent",
            "pacto_trauma_ocular_registro_agregado.csv": "MINSAL PACTO eye-trauma registry: persons by month of admission, region, gender, age band, status 2023",
            "pvi_catastro_victimas_agregado.csv": "PVI catalogue: persons by region, type of victim, gender, institution, act, damage",
            "cde_demandas_falta_servicio_agregado.csv": "CDE civil damages suits by office, year, stage and first-instance outcome",
            "historial_capturas.csv": "eye-trauma capture histories across INDH, PVI and PACTO (verbatim but for the blank header of the R row index, named row here; 440 persons)",
            "to_consolidado.csv": "the same capture histories without the unobserved cell (verbatim but for the row-index header, named row)",
            "estimacion_pob_trauma_ocular.csv": "the original study's pairwise Chapman estimates (verbatim)",
        },
        "refresh": [
            "The inputs are working files of INDH, the Subsecretaría de Derechos Humanos, MINSAL and the CDE that are not on a public page; the collecting repository https://github.com/mau-carrasco/listado_victimas holds them. Re-aggregate from a newer commit (counts only, never names, RUT, RUC/RIT or narratives) or request updated aggregates from each institution (Ley 20.285 de transparencia).",
        ],
    },
    "indh_mapa": {
        "title": "INDH map of human rights violations: repressive acts by date and comuna, 18 Oct - 31 Dec 2019",
        "publishers": [
            {
                "title": "INDH, Mapa de violaciones a los derechos humanos",
                "path": "https://mapaviolacionesddhh.indh.cl/",
            }
        ],
        "repository": "https://github.com/frcastrog/police-repression",
        "commit": "15b485477cb40cd09133e26ae0a9ee261ce136e1",
        "commit_date": "2025-07-13",
        "licence": f"{NOT_STATED} (the collecting repository has no licence file; it provides the data for replication of 'Deterrence or Defiance?', F. Castro)",
        "unit": "acts (one per INDH case: its first act)",
        "period": "2019-10-18 to 2019-12-31, daily",
        "geography": "comuna (names, matched to CUT by the library)",
        "caveats": [
            "One act per case (the first).",
            "Comuna names are accent-stripped; the library matches them to CUT codes and reports any it cannot match.",
            "Derived from records of identifiable victims: derived tables pass the disclosure gate.",
        ],
        "files": {
            "indh_mapa_actos_2019.csv": "one row per act: date, comuna name, type of act, location",
        },
        "refresh": [
            "INDH: https://mapaviolacionesddhh.indh.cl/ offers a researchers' download; or clone https://github.com/frcastrog/police-repression (01-data/indh_clean.RData) and drop the case number column.",
        ],
    },
    "censo_proyecciones_poblacion": {
        "title": "INE population projections (base Censo 2017) by comuna, year and sex; region by age band",
        "publishers": [
            {
                "title": "Instituto Nacional de Estadísticas (INE), Proyecciones de población",
                "path": "https://www.ine.gob.cl/estadisticas/sociales/demografia-y-vitales/proyecciones-de-poblacion",
            }
        ],
        "repository": "https://github.com/bastianolea/censo_proyecciones_poblacion",
        "commit": "f057636dfbf6d65e910c87ca4d97cfd6cd5a4091",
        "commit_date": "2025-07-21",
        "licence": "Repository licence GPL-3 (code). INE data licence: not stated in the collecting repository.",
        "unit": "persons (projected population, 30 June)",
        "period": "2002-2035 (kept here: 2008-2025)",
        "geography": "comuna (CUT) and region",
        "caveats": [
            "Projections, not census counts.",
            "Ñuble (16) appears in every year: INE projects the 2018 division backwards.",
        ],
        "files": {
            "proyecciones_comuna_anio_sexo.csv": "REDUCED: comuna x year x sex, years 2008-2025",
            "proyecciones_region_anio_sexo_edad.csv": "REDUCED: region x year x sex x age band, years 2008-2025",
        },
        "reduced": {
            "proyecciones_comuna_anio_sexo.csv": "years 2008-2025 only (the extract has 2002-2035)",
            "proyecciones_region_anio_sexo_edad.csv": "years 2008-2025 only (the extract has 2002-2035)",
        },
        "not_copied": "censo_proyecciones_anio.csv (total by comuna and year = the sum of the two sexes)",
        "refresh": [
            "INE: download the comuna projections by sex and age (base 2017) from the address above; or clone https://github.com/bastianolea/censo_proyecciones_poblacion.",
        ],
    },
    "cut_comunas": {
        "title": "Códigos Únicos Territoriales (CUT) of the 346 comunas (SUBDERE, updated 06-09-2018)",
        "publishers": [
            {
                "title": "SUBDERE, Códigos Únicos Territoriales (CUT_2018_v04.xls)",
                "path": "https://www.subdere.gov.cl/",
            }
        ],
        "repository": "https://github.com/bastianolea/cut_comunas",
        "commit": "f803b7f52ff72d9a60e20d9417c39a2e4fac3fa5",
        "commit_date": "2025-07-07",
        "licence": f"{NOT_STATED} (no licence file; public government code list)",
        "unit": "-",
        "period": "codes in force from 6 Sep 2018 (with Ñuble)",
        "geography": "comuna, province, region",
        "caveats": ["Before Sep 2018 the 21 comunas of Ñuble (16xxx) had Biobío codes (084xx)."],
        "files": {"cut_comuna.csv": "346 comunas with names (with accents) and codes (verbatim)"},
        "refresh": [
            "SUBDERE publishes the CUT list; or clone https://github.com/bastianolea/cut_comunas."
        ],
    },
    "chilemapas": {
        "title": "Territorial codes with accent-stripped comuna names (chilemapas)",
        "publishers": [
            {"title": "INE and SUBDERE (via chilemapas)", "path": "https://www.ine.gob.cl/"}
        ],
        "repository": "https://github.com/pachadotdev/chilemapas",
        "commit": "69724f749f285c3d98852a0259e8d513f73b38fa",
        "commit_date": "2022-07-14",
        "licence": "GPL-3 (package DESCRIPTION)",
        "unit": "-",
        "period": "2017 census geography",
        "geography": "comuna, province, region",
        "caveats": ["Names are accent-stripped; used only as a second spelling for name matching."],
        "files": {"codigos_territoriales.csv": "346 comunas with accent-stripped names (verbatim)"},
        "not_copied": "comunas.geojson, regiones.geojson, censo_2017_comunas.csv, divisiones_salud.csv: the map is a region tile map drawn by the library, needing no geometry",
        "refresh": [
            "Install the R package chilemapas or clone https://github.com/pachadotdev/chilemapas."
        ],
    },
}

POPULATION_YEARS = (2008, 2025)


# ------------------------------------------------------------------------------- build
def _build_files(src: Path, dest: Path, name: str) -> None:
    """Copy or reduce the files of one source from the extract folder into ``dest``."""
    import pandas as pd

    s = src / name
    dest.mkdir(parents=True, exist_ok=True)
    if name == "delincuencia_chile":
        for f in (
            "cead_casos_policiales_region_anio_seleccion.csv",
            "cead_femicidios_comuna_mes_nonzero.csv",
        ):
            shutil.copyfile(s / f, dest / f)
        df = pd.read_parquet(s / "cead_delincuencia_chile.parquet")
        keep = ["Femicidios", "Violencia intrafamiliar", "Desórdenes públicos"]
        sel = df[df["delito"].isin(keep)]
        missing = set(keep) - set(sel["delito"])
        if missing:
            raise SystemExit(f"{s}: delitos not found: {sorted(missing)}")
        out = (
            sel.groupby(["cut_region", "region", "fecha", "delito"], as_index=False)["delito_n"]
            .sum()
            .assign(cut_region=lambda d: d["cut_region"].astype(int))
        )
        out["fecha"] = pd.to_datetime(out["fecha"]).dt.strftime("%Y-%m-%d")
        out.to_csv(dest / "cead_region_mes_seleccion.csv", index=False)
    elif name == "ds_pjud":
        for f in (
            "pjud_penal_controles_corte_mes_2017_2021.csv",
            "pjud_penal_catalogo_materias_totales_2017_2021.csv",
        ):
            shutil.copyfile(s / f, dest / f)
        m = pd.read_csv(s / "pjud_penal_materias_clave_tribunal_mes_2017_2021.csv")
        keys = ["informe", "tipo_tribunal", "corte", "anio", "mes", "grupo", "materia"]
        m.groupby(keys, as_index=False)["total"].sum().to_csv(
            dest / "pjud_materias_clave_corte_mes_2017_2021.csv", index=False
        )
        t = pd.read_csv(s / "pjud_penal_totales_tribunal_mes_2017_2021.csv")
        keys = ["informe", "tipo_tribunal", "corte", "anio", "mes"]
        t.groupby(keys, as_index=False).agg(
            total_all_materias=("total_all_materias", "sum"), n_tribunals=("tribunal", "nunique")
        ).to_csv(dest / "pjud_totales_corte_mes_2017_2021.csv", index=False)
    elif name == "censo_proyecciones_poblacion":
        lo, hi = POPULATION_YEARS
        for f in ("proyecciones_comuna_anio_sexo.csv", "proyecciones_region_anio_sexo_edad.csv"):
            df = pd.read_csv(s / f)
            df[df["año"].between(lo, hi)].to_csv(dest / f, index=False)
    else:
        for f in SOURCES[name]["files"]:
            shutil.copyfile(s / f, dest / f)
            text = (dest / f).read_text(encoding="utf-8")
            if text.startswith('"",'):  # an R row index with a blank header: name it "row"
                (dest / f).write_text('"row",' + text[3:], encoding="utf-8")
    shutil.copyfile(s / "SOURCES.md", dest / "SOURCES.md")


def _fields(path: Path) -> list[dict]:
    import pandas as pd

    sep = ";" if path.name == "cut_comuna.csv" else ","
    df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    out = []
    for col in df.columns:
        values = df[col][df[col] != ""]
        kind = "string"
        if col and len(values):
            num = pd.to_numeric(values, errors="coerce")
            if num.notna().all():
                kind = "number"
        out.append({"name": col, "type": kind})
    return out


def write_datapackage(name: str, dest: Path) -> dict:
    meta = SOURCES[name]
    resources = []
    for f, description in meta["files"].items():
        path = dest / f
        data = path.read_bytes()
        dialect = {"delimiter": ";"} if f == "cut_comuna.csv" else None
        res = {
            "name": path.stem.lower().replace("_", "-"),
            "path": f,
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "description": description
            + (f". Reduced: {meta['reduced'][f]}" if f in meta.get("reduced", {}) else ""),
            "bytes": len(data),
            "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
            "schema": {"fields": _fields(path)},
        }
        if dialect:
            res["dialect"] = dialect
        resources.append(res)
    pkg = {
        "name": "open-" + name.replace("_", "-"),
        "title": meta["title"],
        "description": (
            f"Extract of {meta['repository']} at commit {meta['commit']} ({meta['commit_date']}), "
            "which collected the data from the publishers listed in `sources`. "
            + (f"Not copied: {meta['not_copied']}. " if meta.get("not_copied") else "")
            + "See SOURCES.md for the extract's own notes."
        ),
        "licenses": [
            {
                "name": "not-stated" if meta["licence"].startswith(NOT_STATED) else "as-stated",
                "title": meta["licence"],
            }
        ],
        "sources": [
            *meta["publishers"],
            {
                "title": f"collecting repository (commit {meta['commit']})",
                "path": meta["repository"],
            },
        ],
        "datajusta": {
            "publishers": [p["title"] for p in meta["publishers"]],
            "repository": meta["repository"],
            "commit": meta["commit"],
            "commit_date": meta["commit_date"],
            "licence_as_stated": meta["licence"],
            "unit": meta["unit"],
            "period": meta["period"],
            "geography": meta["geography"],
            "caveats": meta["caveats"],
            "refresh": meta["refresh"],
        },
        "resources": resources,
    }
    (dest / "datapackage.json").write_text(
        json.dumps(pkg, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return pkg


def print_instructions() -> None:
    for name, meta in SOURCES.items():
        print(f"## {name}: {meta['title']}")
        print(
            f"   collected by {meta['repository']} @ {meta['commit'][:12]} ({meta['commit_date']})"
        )
        print(f"   licence as stated: {meta['licence']}")
        for p in meta["publishers"]:
            print(f"   publisher: {p['title']} <{p['path']}>")
        for step in meta["refresh"]:
            print(f"   - {step}")
        print()
    print(
        "Then lay the files out like shared/open-data (one folder per source with SOURCES.md) and run:\n"
        "   python scripts/refresh_open_data.py --from-extract <that folder>\n"
        "   pytest tests/test_open_data.py tests/test_open_data_checks.py"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--print", action="store_true", help="print how to re-collect each source (no network)"
    )
    group.add_argument(
        "--from-extract", type=Path, metavar="DIR", help="rebuild data/open/ from an extract folder"
    )
    group.add_argument(
        "--datapackages", action="store_true", help="only rewrite the datapackage.json files"
    )
    args = parser.parse_args(argv)
    if args.print:
        print_instructions()
        return 0
    if args.from_extract is not None:
        if not args.from_extract.is_dir():
            print(f"error: {args.from_extract} is not a folder", file=sys.stderr)
            return 2
        for name in SOURCES:
            if not (args.from_extract / name / "SOURCES.md").is_file():
                print(f"error: {args.from_extract / name}/SOURCES.md not found", file=sys.stderr)
                return 2
            _build_files(args.from_extract, OPEN / name, name)
    for name in SOURCES:
        write_datapackage(name, OPEN / name)
        print(f"wrote {(OPEN / name / 'datapackage.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
