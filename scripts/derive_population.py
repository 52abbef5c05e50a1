"""Derive data/reference/population_region_year_sex.csv from the INE population projections.

Input: the team's open-data copy of INE "Proyecciones de población" (base Censo 2017), by
region, year, sex and age band (``proyecciones_region_anio_sexo_edad.csv``; see its
SOURCES.md). Output: population by region (2-digit code), year (2010–2025) and sex, summed
over age bands, with the source on every row. Run from the repository root:

    .venv/bin/python scripts/derive_population.py /path/to/censo_proyecciones_poblacion
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

SOURCE_URL = (
    "https://www.ine.gob.cl/estadisticas/sociales/demografia-y-vitales/proyecciones-de-poblacion"
)
SEX = {"femenino": "female", "masculino": "male"}


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else Path("/work/shared/open-data/censo_proyecciones_poblacion")
    df = pd.read_csv(folder / "proyecciones_region_anio_sexo_edad.csv")
    df = df[df["año"].between(2010, 2025)]
    out = (
        df.assign(
            region_code=df["cut_region"].astype(int).map("{:02d}".format),
            sex=df["género"].map(SEX),
        )
        .groupby(["region_code", "año", "sex"], as_index=False)["población"]
        .sum()
        .rename(columns={"año": "year", "población": "population"})
    )
    if out["sex"].isna().any() or out["region_code"].nunique() != 16:
        raise SystemExit(f"{folder}: unexpected regions or sexes")
    out["source"] = "INE, Proyecciones de población base Censo 2017"
    out["source_url"] = SOURCE_URL
    dest = Path("data/reference/population_region_year_sex.csv")
    out.sort_values(["region_code", "year", "sex"]).to_csv(dest, index=False)
    print(f"{dest}: {len(out)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
