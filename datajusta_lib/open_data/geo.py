"""Places in the open data: region names and comuna names to official CUT codes, population.

Publishers write the same place many ways ("Libertador Bernardo Ohiggins", "O’HIGGINS",
"Región Metropolitana", "Estacion Central", "Coihaique"). ``region_code`` and
``match_comunas`` turn names into the official codes (CUT, SUBDERE 2018: two digits for a
region, five for a comuna) by comparing names without accents, case, punctuation or
articles, then through a short list of old or alternative spellings. A name that does not
match is never dropped: ``match_comunas`` returns it with a null code and the caller reports
it (``ComunaMatch.unmatched``).

Ñuble (region 16) was created on 6 September 2018 from Biobío (08); its 21 comunas moved
from codes 084xx to 16xxx. ``NUBLE_SINCE`` is that date; readers say how each source treats
earlier years (see ``docs/open_data.md``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache

import pandas as pd

from ..core.paths import data_dir

NUBLE_SINCE = date(2018, 9, 6)
NUBLE, BIOBIO = "16", "08"


def open_dir():
    return data_dir() / "open"


def normalise(name) -> str:
    """'Estación  Central' -> 'estacion central'; "O’Higgins" -> 'ohiggins'."""
    if name is None or (not isinstance(name, str) and pd.isna(name)):
        return ""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    text = text.lower().replace("\xa0", " ")
    text = re.sub(r"['’`´]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


# region: a keyword found in the normalised name -> code (first match wins; order matters)
_REGION_KEYS = [
    ("arica", "15"),
    ("tarapaca", "01"),
    ("iquique", "01"),
    ("antofagasta", "02"),
    ("atacama", "03"),
    ("copiapo", "03"),
    ("coquimbo", "04"),
    ("la serena", "04"),
    ("valparaiso", "05"),
    ("metropolitana", "13"),
    ("santiago", "13"),
    ("sanatiago", "13"),  # a typo in the CDE file
    ("san miguel", "13"),
    ("ohiggins", "06"),
    ("o higgins", "06"),
    ("rancagua", "06"),
    ("maule", "07"),
    ("talca", "07"),
    ("nuble", "16"),
    ("chillan", "16"),
    ("biobio", "08"),
    ("bio bio", "08"),
    ("concepcion", "08"),
    ("araucania", "09"),
    ("temuco", "09"),
    ("los rios", "14"),
    ("valdivia", "14"),
    ("los lagos", "10"),
    ("puerto montt", "10"),
    ("aysen", "11"),
    ("aisen", "11"),
    ("coyhaique", "11"),
    ("magallanes", "12"),
    ("punta arenas", "12"),
]
NOT_STATED = {"", "sin informacion", "no aplica", "nan", "sin dato", "no informa"}


def region_code(name) -> str | None:
    """The two-digit code of a region written by name (or by its capital / appeals court),
    None when the name says the region is not stated; KeyError when it is not a region."""
    key = normalise(name)
    if key in NOT_STATED:
        return None
    if re.fullmatch(r"\d+(\.0)?", str(name).strip()):
        return f"{int(float(name)):02d}"
    for word, code in _REGION_KEYS:
        if re.search(rf"\b{word}\b", key):
            return code
    raise KeyError(f"not a region name: {name!r}")


def region_name(code: str, short: bool = True) -> str:
    from ..analysis.charts import SHORT_REGION
    from ..core.canon import regions

    reg = regions().set_index("code")
    return SHORT_REGION.get(code, reg.at[code, "name"]) if short else reg.at[code, "name"]


# ------------------------------------------------------------------------------ comunas
# old or alternative spellings seen in publishers' files -> the official (CUT 2018) name
ALIASES = {
    "coihaique": "coyhaique",
    "aisen": "aysen",
    "llay llay": "llaillay",
    "til til": "tiltil",
    "marchigue": "marchihue",
    "paiguano": "paihuano",
    "treguaco": "trehuaco",
    "alto bio bio": "alto biobio",
    "la calera": "calera",
    "puerto natales": "natales",
    "natales": "natales",
    "cabo de hornos ex navarino": "cabo de hornos",
    "navarino": "cabo de hornos",
    "antartica chilena": "antartica",
    "isla de pascua rapa nui": "isla de pascua",
    "rapa nui": "isla de pascua",
    "san pedro": "san pedro",
    "los angeles": "los angeles",
    "quinta de tilcoco": "quinta de tilcoco",
    "ranquil": "ranquil",
    "padre las casas": "padre las casas",
    "o higgins": "ohiggins",
    "san vicente de tagua tagua": "san vicente",
    "santiago centro": "santiago",
    "estacion central": "estacion central",
    # misspellings seen in INDH's files
    "padre de las casas": "padre las casas",
    "villarica": "villarrica",
    "mauillin": "maullin",
    "quinteros": "quintero",
}
# towns that are not comunas, written where a comuna was asked for -> their comuna
LOCALITIES = {
    "puerto aysen": "aysen",
    "llolleo": "san antonio",
    "ventanas": "puchuncavi",
}


@cache
def comunas() -> pd.DataFrame:
    """The 346 comunas (CUT 2018) with region code, official name and normalised names."""
    cut = pd.read_csv(open_dir() / "cut_comunas" / "cut_comuna.csv", sep=";", dtype=str)
    cm = pd.read_csv(open_dir() / "chilemapas" / "codigos_territoriales.csv", dtype=str)
    out = cut.rename(
        columns={
            "codigo_comuna": "comuna_code",
            "nombre_comuna": "name",
            "codigo_region": "region_code",
        }
    )[["comuna_code", "name", "region_code"]]
    out = out.merge(
        cm.rename(columns={"commune_id": "comuna_code", "commune_name": "name_plain"})[
            ["comuna_code", "name_plain"]
        ],
        on="comuna_code",
        how="left",
    )
    return out.reset_index(drop=True)


@cache
def _comuna_index() -> dict[str, str]:
    """normalised name -> comuna code (both official spellings)."""
    index: dict[str, str] = {}
    for row in comunas().itertuples(index=False):
        for name in (row.name, row.name_plain):
            key = normalise(name)
            if key:
                index.setdefault(key, row.comuna_code)
    return index


@dataclass(frozen=True)
class ComunaMatch:
    """Codes for a column of comuna names; ``unmatched`` lists the names (name, reason, rows)
    that did not match a comuna and are kept with a null code."""

    codes: pd.Series
    unmatched: pd.DataFrame


def match_comunas(names: pd.Series, *, region_codes: pd.Series | None = None) -> ComunaMatch:
    """Match comuna names to CUT codes: exact on the normalised name, then through ALIASES,
    then with the words 'comuna de' removed. With ``region_codes``, a match in another region
    is refused (two comunas never share a name within a region)."""
    index = _comuna_index()

    def one(name) -> str | None:
        key = normalise(name)
        if key in NOT_STATED:
            return None
        for candidate in (
            key,
            ALIASES.get(key, key),
            LOCALITIES.get(key, key),
            re.sub(r"^comuna de ", "", key),
        ):
            if candidate in index:
                return index[candidate]
        return None

    unique = pd.Series(names.dropna().unique())
    lookup = {n: one(n) for n in unique}
    found = names.map(lookup).astype("object")
    codes = found
    wrong = pd.Series(False, index=names.index)
    if region_codes is not None:
        wrong = found.notna() & region_codes.notna() & (found.str[:2] != region_codes)
        codes = found.mask(wrong, None)
    stated = names.map(lambda n: normalise(n) not in NOT_STATED)
    missing = codes.isna() & stated
    reason = pd.Series("no comuna of that name", index=names.index).mask(
        wrong, "the comuna of that name is in region " + found.str[:2].fillna("")
    )
    unmatched = (
        pd.DataFrame({"name": names[missing], "reason": reason[missing]})
        .value_counts()
        .rename("rows")
        .reset_index()
    )
    return ComunaMatch(codes=codes, unmatched=unmatched)


# ------------------------------------------------------------------------------ population
@cache
def population_comuna() -> pd.DataFrame:
    """INE projections (base Censo 2017): comuna_code, region_code, year, sex, population."""
    df = pd.read_csv(
        open_dir() / "censo_proyecciones_poblacion" / "proyecciones_comuna_anio_sexo.csv"
    )
    out = pd.DataFrame(
        {
            "comuna_code": df["cut_comuna"].map(lambda v: f"{int(v):05d}"),
            "region_code": df["cut_region"].map(lambda v: f"{int(v):02d}"),
            "year": df["año"].astype(int),
            "sex": df["género"].map({"femenino": "female", "masculino": "male"}),
            "population": df["población"].astype(int),
        }
    )
    if out["sex"].isna().any():
        raise ValueError("proyecciones_comuna_anio_sexo.csv: unknown value in column género")
    return out


def population(level: str = "region", sex: str | None = None) -> pd.DataFrame:
    """Population by ``level`` (region | comuna | country) and year, of one sex or both
    (``sex`` = female | male | None). Columns: code, year, population."""
    df = population_comuna()
    if sex is not None:
        df = df[df["sex"] == sex]
    col = {"region": "region_code", "comuna": "comuna_code", "country": None}[level]
    if col is None:
        return df.groupby("year", as_index=False)["population"].sum().assign(code="00")
    return (
        df.groupby([col, "year"], as_index=False)["population"].sum().rename(columns={col: "code"})
    )
