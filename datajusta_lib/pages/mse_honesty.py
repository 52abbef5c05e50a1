"""How far to trust an "unrecorded victims" estimate (issue 13: no false precision).

- On synthetic data the truth is known: :func:`synthetic_truth` counts the generator's
  victims of the population the page names, and :func:`truth_text` puts it beside the
  estimate, with the coverage measured over repeated synthetic worlds
  (``data/analysis/mse_coverage.yaml``, from ``benchmarks/mse_coverage.py``).
- On any data, :func:`precision_text` compares the interval's width with the disagreement
  between model-selection methods (stepwise, AIC, BIC) and says when the interval is the
  narrower, naming the assumption that most likely fails and what would address it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from ..core.i18n import text
from ..mse import MSEResult
from .unrecorded_victims import _eligibility, _n

SELECTIONS = ("stepwise", "aic", "bic")


@cache
def coverage_records() -> dict:
    from ..core.paths import data_dir

    path = data_dir() / "analysis" / "mse_coverage.yaml"
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def coverage(case_study: str) -> dict | None:
    """The coverage over repeated synthetic worlds for this case study, or None."""
    runs = coverage_records()
    row = (runs.get("case_studies") or {}).get(case_study)
    return (
        None if row is None else {**{k: v for k, v in runs.items() if k != "case_studies"}, **row}
    )


def synthetic_truth(case_study: str, synthetic_dir: Path | str | None = None) -> int | None:
    """The number of victims of the page's population in the generated synthetic world
    (``data/synthetic/_truth``): victims only, with a true classification in the population
    (``mse_lists.yaml``); None when there is no truth folder."""
    from ..core.paths import synthetic_dir as default_dir

    folder = Path(synthetic_dir or default_dir()) / "_truth" / case_study
    if not (folder / "persons.parquet").is_file():
        return None
    persons = pd.read_parquet(folder / "persons.parquet", columns=["person_id", "is_victim"])
    victims = set(persons.loc[persons["is_victim"].astype(bool), "person_id"])
    population = _eligibility()[case_study].get("classification")
    if population:
        events = pd.read_parquet(folder / "events.parquet", columns=["person_id", "classification"])
        victims &= set(events.loc[events["classification"].isin(population), "person_id"])
    return len(victims)


def _pct(x: float, lang: str, signed: bool = False) -> str:
    body = f"{x:+.0f}" if signed else f"{x:.0f}"
    return body.replace("-", "−")


def truth_text(case_study: str, source: str, res: MSEResult, lang: str = "es") -> str:
    """On synthetic data: the truth beside the estimate and the coverage over repeated
    worlds (Markdown); '' on other data or without an estimate."""
    if source != "synthetic" or not res.ok:
        return ""
    truth = synthetic_truth(case_study)
    parts = []
    if truth:
        lo, hi = res.interval
        population = _eligibility()[case_study]["population"][lang]
        parts.append(
            text(
                "truth_beside",
                lang,
                truth=_n(truth, lang),
                population=population,
                total=_n(res.total, lang),
                lo=_n(lo, lang),
                hi=_n(hi, lang),
                verdict=text("truth_contains" if lo <= truth <= hi else "truth_misses", lang),
                error=_pct(100 * (res.total - truth) / truth, lang, signed=True),
            )
        )
    cov = coverage(case_study)
    if cov:
        parts.append(
            text(
                "coverage_worlds",
                lang,
                worlds=cov["worlds"],
                coverage=_pct(100 * cov["coverage"], lang),
                bias=_pct(100 * cov["mean_relative_bias"], lang, signed=True),
                date=cov["date"],
                command=cov["command"],
            )
        )
    return "\n\n".join(parts)


def model_spread(results: dict[str, MSEResult]) -> float | None:
    """How far apart the totals of stepwise, AIC and BIC selection are (None if < 2 ok)."""
    totals = [r.total for k, r in results.items() if k in SELECTIONS and r.ok]
    return max(totals) - min(totals) if len(totals) >= 2 else None


def interval_narrower_than_models(res: MSEResult, results: dict[str, MSEResult]) -> bool:
    spread = model_spread(results)
    return bool(res.ok and spread is not None and (res.interval[1] - res.interval[0]) < spread)


def precision_text(
    case_study: str, source: str, res: MSEResult, results: dict[str, MSEResult], lang: str = "es"
) -> str:
    """The interval against the model disagreement and, when the interval cannot be
    trusted (narrower than that disagreement, or missing the truth in most synthetic
    worlds), the failing assumption and its remedy (Markdown)."""
    if not res.ok:
        return ""
    spread = model_spread(results)
    width = res.interval[1] - res.interval[0]
    parts = []
    narrower = spread is not None and width < spread
    if spread is not None:
        key = "interval_narrower" if narrower else "interval_wider"
        parts.append(text(key, lang, width=_n(width, lang), spread=_n(spread, lang)))
    cov = coverage(case_study) if source == "synthetic" else None
    poor = cov is not None and cov["coverage"] < 0.8
    if narrower or poor or source != "synthetic":
        parts.append(text("failing_assumption", lang))
    return "\n\n".join(parts)
