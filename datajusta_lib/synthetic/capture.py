"""Which institution sees which event: the capture model and its calibration.

For institution *i* and eligible event *e*::

    logit P(i captures e) = alpha_cell(i, e) + effects_i(victim, place, event)
                            + visibility_i * h_e + sum_j referral_ij * [j captured e]

``h_e`` is the event's latent visibility, shared by every list (heterogeneous catchability,
which makes lists overlap more than independent lists would); ``referral`` adds direct
dependence on institutions listed earlier (INDH files its querellas with the Fiscalía, the
CIF is fed by the police...). Each event draws one uniform ``u``; it is captured when
``logit(u) - eta < alpha``. So the captured count of a cell is a step function of alpha and
alpha is set between the k-th and (k+1)-th smallest unit threshold: the realised count, in
the cell's unit (events, persons or cases), equals the target exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

UNITS = ("events", "persons", "cases")


@dataclass
class CaptureResult:
    captured: dict[str, np.ndarray]  # institution -> bool mask over events
    cells: list[dict] = field(default_factory=list)  # one row per calibration cell


def where_mask(events: pd.DataFrame, where: dict | None) -> np.ndarray:
    mask = np.ones(len(events), dtype=bool)
    for column, values in (where or {}).items():
        if column not in events.columns:
            raise KeyError(f"synthetic model filters on {column!r}, which the truth does not have")
        values = values if isinstance(values, list) else [values]
        mask &= events[column].isin(values).to_numpy()
    return mask


def period_mask(events: pd.DataFrame, period) -> np.ndarray:
    start, end = (pd.Timestamp(p) for p in period)
    d = events["event_date"]
    return ((d >= start) & (d <= end)).to_numpy()


def linear_effects(events: pd.DataFrame, effects: dict | None) -> np.ndarray:
    eta = np.zeros(len(events))
    for column, coef in (effects or {}).items():
        if column not in events.columns:
            raise KeyError(
                f"synthetic model has an effect on {column!r}, which the truth does not have"
            )
        col = events[column]
        if isinstance(coef, dict) and isinstance(col.dtype, pd.CategoricalDtype):
            # one coefficient per category, taken by code: no per-row lookup
            per_cat = np.array([float(coef.get(c, 0.0)) for c in col.cat.categories] + [0.0])
            eta += per_cat[col.cat.codes.to_numpy()]  # code -1 (missing) takes the last 0.0
        elif isinstance(coef, dict):
            eta += (
                col.astype(object)
                .map({k: float(v) for k, v in coef.items()})
                .fillna(0.0)
                .to_numpy(float)
            )
        else:
            eta += float(coef) * col.to_numpy(dtype=float)
    return eta


def _unit_ids(events: pd.DataFrame, unit: str) -> np.ndarray:
    if unit not in UNITS:
        raise ValueError(f"calibration unit must be one of {UNITS}, not {unit!r}")
    return {
        "events": events["event_id"],
        "persons": events["person_id"],
        "cases": events["case_id"],
    }[unit].to_numpy()


def unit_thresholds(threshold: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Smallest threshold per unit: a person (case) is captured when any of its events is."""
    if len(ids) == 0:
        return np.zeros(0)
    order = np.argsort(ids, kind="stable")
    sid = ids[order]
    starts = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]])
    return np.minimum.reduceat(threshold[order], starts)


def n_distinct(ids: np.ndarray) -> int:
    """Distinct non-negative integer ids (a flag array: faster than sorting)."""
    if len(ids) == 0:
        return 0
    seen = np.zeros(int(ids.max()) + 1, dtype=bool)
    seen[ids] = True
    return int(seen.sum())


def count_units(captured: np.ndarray, ids: np.ndarray) -> int:
    return n_distinct(ids[captured])


def solve_alpha(thresholds: np.ndarray, target: int) -> float:
    """Intercept capturing exactly ``target`` units; every unit when the target exceeds them
    (possible at very small scales: the calibration table then shows the shortfall)."""
    s = np.sort(thresholds)
    target = min(target, len(s))
    if target == 0:
        return -np.inf
    if target == len(s):
        return float(s[-1]) + 1.0
    return float(s[target - 1] + s[target]) / 2.0


def cell_target(cell: dict, figures: pd.DataFrame, scale: float, n_units: int) -> tuple[int, dict]:
    """Target count of a cell and what it is calibrated to."""
    info: dict = {"figure_id": None, "figure_value": None, "factor": None, "rate": None}
    if "figure" in cell:
        row = figures.loc[figures["id"] == cell["figure"]]
        if row.empty:
            raise KeyError(
                f"published figure {cell['figure']!r} is not in data/published/figures.csv"
            )
        value = float(row["value"].iloc[0])
        factor = float(cell.get("factor", 1.0))
        info.update(figure_id=cell["figure"], figure_value=value, factor=factor)
        return int(round(value * factor * scale)), info
    if "value" in cell:
        return int(round(float(cell["value"]) * scale)), info
    if "rate" in cell:
        info["rate"] = float(cell["rate"])
        return int(round(float(cell["rate"]) * n_units)), info
    raise ValueError(f"calibration cell needs figure, value or rate: {cell}")


def cell_period(cell: dict, figures: pd.DataFrame, default_period) -> tuple[str, str]:
    if "period" in cell:
        return tuple(str(p) for p in cell["period"])
    if "figure" in cell:
        row = figures.loc[figures["id"] == cell["figure"]].iloc[0]
        return (
            str(pd.Timestamp(row["period_start"]).date()),
            str(pd.Timestamp(row["period_end"]).date()),
        )
    return tuple(str(p) for p in default_period)


def capture_all(
    events: pd.DataFrame,
    case_study: str,
    spec: dict,
    defaults: dict,
    figures: pd.DataFrame,
    scale: float,
    rng_for,
) -> CaptureResult:
    """Run the capture model for every institution of one case study, in the listed order."""
    result = CaptureResult(captured={})
    h = events["visibility"].to_numpy()
    for inst, ispec in spec["institutions"].items():
        rng = rng_for(inst)
        eligible = where_mask(events, ispec.get("eligible"))
        eta = linear_effects(events, ispec.get("effects"))
        eta += float(ispec.get("visibility", defaults["visibility"])) * h
        for other, delta in (ispec.get("referral") or {}).items():
            if other not in result.captured:
                raise ValueError(
                    f"{case_study}/{inst}: referral from {other}, which is not listed before it"
                )
            eta += float(delta) * result.captured[other]
        if ispec.get("draw", "event") == "case":  # the whole case is found, or none of it
            case = events["case_id"].to_numpy()
            u = rng.random(int(case.max()) + 1 if len(case) else 0)[case]
        else:
            u = rng.random(len(events))
        threshold = np.log(u) - np.log1p(-u) - eta
        alpha = np.full(len(events), np.nan)
        solved = []
        cells = []
        for cell in ispec["calibration"]:
            period = cell_period(cell, figures, spec["period"])
            in_cell = eligible & where_mask(events, cell.get("where")) & period_mask(events, period)
            unit = cell.get("unit", "events")
            ids = _unit_ids(events, unit)[in_cell]
            n_units = n_distinct(ids)
            target, info = cell_target(cell, figures, scale, n_units)
            row = {
                "case_study": case_study,
                "institution": inst,
                "period_start": period[0],
                "period_end": period[1],
                "unit": unit,
                "where": _describe(cell.get("where")),
                "role": "check" if cell.get("check") else "calibrated",
                "target": target,
                "eligible_units": n_units,
                "basis": cell.get("basis"),
                "note": cell.get("note"),
                "_where": cell.get("where"),
                **info,
            }
            if not cell.get("check"):
                if not np.isnan(alpha[in_cell]).all():
                    raise ValueError(
                        f"{case_study}/{inst}: calibration cell {period[0]}..{period[1]} "
                        f"{row['where']} overlaps an earlier cell"
                    )
                a = solve_alpha(unit_thresholds(threshold[in_cell], ids), target)
                alpha[in_cell] = a
                solved.append(a)
            cells.append((row, in_cell, ids))
        finite = [a for a in solved if np.isfinite(a)]
        rest = eligible & np.isnan(alpha)
        alpha[rest] = np.mean(finite) if finite else -np.inf
        captured = eligible & (threshold < np.nan_to_num(alpha, nan=-np.inf))
        result.captured[inst] = captured
        for row, in_cell, ids in cells:
            row["synthetic"] = count_units(captured[in_cell], ids)
            result.cells.append(row)
    return result


def _describe(where: dict | None) -> str:
    if not where:
        return ""
    return "; ".join(
        f"{k}={'|'.join(str(v) for v in (vs if isinstance(vs, list) else [vs]))}"
        for k, vs in where.items()
    )


def capture_histories(events: pd.DataFrame, captured: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per person with one boolean column per institution (the true capture history)."""
    hist = pd.DataFrame({inst: mask for inst, mask in captured.items()})
    hist["person_id"] = events["person_id"].to_numpy()
    return hist.groupby("person_id", sort=True).any().reset_index()
