"""Eye trauma in the 2019-2020 protests across three lists: INDH, PVI and PACTO.

The collecting repository (mau-carrasco/listado_victimas, commissioned by the Subsecretaría
de Derechos Humanos) linked the eye-trauma victims of three lists and published only the
counts per capture history (440 distinct persons): the INDH's legal actions, the PVI victim
catalogue (Subsecretaría de DDHH) and MINSAL's PACTO eye-trauma programme. This module
estimates with the project's estimator (``datajusta_lib.mse.estimate``) how many eye-trauma
victims none of the three recorded, and puts it beside the original study's pairwise
Chapman estimates. The histories come from records of identifiable victims: tables of them
pass the disclosure gate.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from .geo import open_dir

LISTS = ["INDH", "PVI", "PACTO"]


def capture_histories() -> pd.DataFrame:
    """One row per observed history (0/1 per list) with ``count``; 7 rows, 440 persons."""
    path = open_dir() / "listado_victimas" / "historial_capturas.csv"
    df = pd.read_csv(path)
    missing = set(LISTS + ["Freq"]) - set(df.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    df = df[LISTS + ["Freq"]].rename(columns={"Freq": "count"})
    unobserved = (df[LISTS] == 0).all(axis=1)
    if df.loc[unobserved, "count"].notna().any():
        raise ValueError(f"{path}: the all-zero history must be NA (it is what is estimated)")
    return df[~unobserved].astype(int).reset_index(drop=True)


@cache
def estimate(selection: str = "stepwise", n_boot: int = 1000, seed: int = 1):
    """The multiple systems estimate (``MSEResult``) of the eye-trauma victim population."""
    from .. import mse

    return mse.estimate(capture_histories(), selection=selection, n_boot=n_boot, seed=seed)


def estimate_latent(seed: int = 1):
    """The Bayesian latent-class estimate (``LCMCRResult``) of the same population: it allows
    for victims more or less visible to all three lists at once (docs/mse.md)."""
    from .. import mse

    return mse.estimate(capture_histories(), method="lcmcr", seed=seed)


def original_estimates() -> pd.DataFrame:
    """The original study's pairwise Chapman estimates, verbatim (list numbers as in the
    study; the extract does not say which number is which list)."""
    df = pd.read_csv(open_dir() / "listado_victimas" / "estimacion_pob_trauma_ocular.csv")
    return df.rename(
        columns={
            "Comparison": "comparison",
            "Population Size": "population_size",
            "95% CI Lower": "ci_lower",
            "95% CI Upper": "ci_upper",
        }
    )[["comparison", "population_size", "ci_lower", "ci_upper"]]


def overlap_counts() -> pd.Series:
    """Persons by combination of lists ('INDH + PACTO', ...), for the disclosure gate."""
    ch = capture_histories()
    labels = ch[LISTS].apply(
        lambda r: " + ".join(n for n, v in zip(LISTS, r, strict=True) if v), axis=1
    )
    return pd.Series(ch["count"].to_numpy(), index=pd.Index(labels, name="lists"), name="n")
