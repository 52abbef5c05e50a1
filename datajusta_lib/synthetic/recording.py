"""Recording: how one institution writes down the events it captured.

The institution's codebook is inverted: each canonical value becomes one of the labels that
map to it, each canonical field goes to the column the codebook names, dates take the
codebook's format. On the way the institution makes the errors real registers make
(``synthetic_model.yaml``, ``recording``): reclassification, a neighbouring region, a stage
recorded one step behind, day and month swapped, typos in names, missing values, a row
entered twice. A few rows also carry a data problem the readers must quarantine
(:mod:`.synthetic_problems`). Every error and problem is kept, per row, in the truth, with
the canonical value a correct harmoniser must recover from each cell (``expected_<field>``).

Rows are columns of numpy arrays (``cols``) rather than a DataFrame: a million rows go
through a few dozen vectorised operations without per-row Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core import canon, contracts
from ..ingest.codebooks import Codebook
from .formats import (
    extra_column,
    format_dates,
    format_runs,
    label_choice,
    name_text,
    render_template,
    template_values,
    typo,
)
from .population import draw_cat
from .problems import corrupt

ROW_MODES = {"persons": "per_person", "cases": "per_case", "offences": "per_offence"}
STAGE_BEHIND = {
    "investigation": "complaint",
    "formalisation": "investigation",
    "conviction": "formalisation",
    "judicial_exit": "formalisation",
    "non_judicial_exit": "investigation",
}
# every mapped canonical field but the person key, which the generator draws itself
CANONICAL = tuple(f for f in contracts.MAPPED_FIELDS if f != "person_key")
FLAGS = ["name_typo", "date_swapped", "region_wrong", "reclassified", "stage_lagged", "id_missing"]


@dataclass
class Recorded:
    """One institution's export before it is written, and the truth about each of its rows."""

    institution: str
    table: pd.DataFrame  # original column names, text cells ("" = blank)
    numeric_columns: list[str]  # written as numbers in a workbook
    truth: pd.DataFrame  # one row per exported row, same order
    corruptions: pd.DataFrame  # the rows carrying a data problem the readers must catch
    file_year: np.ndarray  # year that picks the file when the export filename is a glob
    # the captured events still captured once rows reported after the extraction date are
    # left out (an export holds only what had been recorded by then)
    captured: np.ndarray


def _take(cols: dict, idx: np.ndarray) -> dict:
    return {k: v[idx] for k, v in cols.items()}


def _concat(a: dict, b: dict) -> dict:
    return {k: np.concatenate([a[k], b[k]]) for k in a}


def _as_arrays(frame: pd.DataFrame) -> dict:
    out = {}
    for c in frame.columns:
        s = frame[c]
        if (
            isinstance(s.dtype, pd.CategoricalDtype)
            or s.dtype == object
            or pd.api.types.is_string_dtype(s)
        ):
            out[c] = s.astype(object).where(s.notna(), None).to_numpy(dtype=object)
        elif c == "event_date":
            out[c] = s.to_numpy().astype("datetime64[D]")
        else:
            out[c] = s.to_numpy()
    return out


# --------------------------------------------------------------------------------------
# rows
# --------------------------------------------------------------------------------------
def _rows(view: pd.DataFrame, captured: np.ndarray, mode: str, params: dict, rng) -> dict:
    """One row per captured event, person (its first event) or case (its first victim); one
    per offence when the unit is offences; plus legitimate repeat rows."""
    ev = view.loc[captured].sort_values(["event_date", "event_id"], kind="stable")
    if mode == "per_person":
        ev = ev.drop_duplicates("person_id")
    elif mode == "per_case":
        ev = ev.drop_duplicates("case_id")
    elif mode not in ("per_event", "per_offence"):
        raise ValueError(f"unknown row mode {mode!r}")
    cols = _as_arrays(ev)
    n = len(ev)
    cols.update(
        offence_no=np.ones(n, dtype=np.int64),
        row_kind=np.full(n, "original", dtype=object),
        extra_delay=np.zeros(n, dtype=np.int64),
    )
    if mode == "per_offence":
        spec = params.get("offences") or {}
        add = _take(
            cols, np.flatnonzero(rng.random(n) < float(spec.get("extra_offence_rate", 0.0)))
        )
        add["offence_no"][:] = 2
        add["classification"] = np.asarray(
            draw_cat(rng, len(add["offence_no"]), spec.get("extra", {"other": 1})), dtype=object
        )
        cols = _concat(cols, add)
    n = len(cols["offence_no"])
    add = _take(cols, np.flatnonzero(rng.random(n) < float(params["repeat_rate"])))
    add["row_kind"][:] = "repeat"
    add["extra_delay"] = rng.integers(3, 120, size=len(add["offence_no"]))
    return _concat(cols, add)


def _report_dates(cols: dict, params: dict, rng) -> np.ndarray:
    d = params["report_delay_days"]
    n = len(cols["event_date"])
    delay = np.exp(np.log(float(d["median"])) + float(d["sigma"]) * rng.standard_normal(n))
    days = np.floor(delay).astype(np.int64) + cols["extra_delay"]
    rep = cols["event_date"] + days.astype("timedelta64[D]")
    if params.get("report_not_before"):
        rep = np.maximum(rep, np.datetime64(params["report_not_before"]))
    return rep


def _reported_by(cols: dict, as_of: pd.Timestamp) -> dict:
    """The rows recorded on or before the extraction date: later ones are not in the export
    yet (right-censoring, as in any real extraction)."""
    return _take(cols, np.flatnonzero(cols["report_date"] <= np.datetime64(as_of.date())))


# the unit a row stands for, per row mode: an event stays captured if its unit has a row
_ROW_UNIT = {"per_person": "person_id", "per_case": "case_id"}


def _still_captured(view: pd.DataFrame, captured: np.ndarray, cols: dict, mode: str) -> np.ndarray:
    unit = _ROW_UNIT.get(mode, "event_id")
    original = cols["row_kind"] == "original"
    return captured & np.isin(view[unit].to_numpy(), cols[unit][original])


# --------------------------------------------------------------------------------------
# recording errors on canonical values
# --------------------------------------------------------------------------------------
def _redraw(rng, values: np.ndarray, table: dict) -> np.ndarray:
    """values[i] -> another value with the probabilities in table[values[i]]."""
    out = values.copy()
    for true, alternatives in (table or {}).items():
        idx = np.flatnonzero(values == true)
        if not len(idx):
            continue
        keys = list(alternatives)
        p = np.array([float(alternatives[k]) for k in keys])
        stay = max(0.0, 1.0 - p.sum())
        pick = rng.choice(len(keys) + 1, size=len(idx), p=np.r_[p, stay] / (p.sum() + stay))
        moved = pick < len(keys)
        out[idx[moved]] = np.asarray(keys, dtype=object)[pick[moved]]
    return out


def _neighbour_regions(rng, codes: np.ndarray) -> np.ndarray:
    order = canon.region_codes()  # north to south
    i = (
        pd.Series(codes, dtype=object)
        .map({c: k for k, c in enumerate(order)})
        .fillna(0)
        .to_numpy(np.int64)
    )
    step = np.where(rng.random(len(codes)) < 0.5, -1, 1)
    j = np.clip(i + step, 0, len(order) - 1)
    j = np.where(j == i, i - step, j)
    return np.asarray(order, dtype=object)[j]


def _swap_day_month(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(swapped dates, where a swap is possible: day <= 12 and day != month)."""
    s = pd.DatetimeIndex(dates)
    ok = np.asarray((s.day <= 12) & (s.day != s.month))
    out = np.asarray(dates).astype("datetime64[D]").copy()
    if ok.any():
        sw = pd.to_datetime({"year": s.year[ok], "month": s.day[ok], "day": s.month[ok]})
        out[np.flatnonzero(ok)] = sw.to_numpy().astype("datetime64[D]")
    return out, ok


def _record_errors(cols: dict, params: dict, case_spec: dict, cb: Codebook, rng) -> None:
    n = len(cols["event_id"])
    cls = cols["classification"].copy()
    derive = (params.get("derive") or {}).get("classification")
    if derive:  # an institution with its own scheme (PIRO: clinical severity)
        cls = np.full(n, None, dtype=object)
        for value, dist in derive["map"].items():
            idx = np.flatnonzero(cols[derive["from"]] == value)
            cls[idx] = np.asarray(draw_cat(rng, len(idx), dist), dtype=object)
    law = case_spec.get("truth", {})
    if "covered" in cols and law.get("uncovered_recorded_as"):
        # before the definition changed these acts were not femicidio for anyone
        idx = np.flatnonzero(~cols["covered"].astype(bool))
        cls[idx] = np.asarray(draw_cat(rng, len(idx), law["uncovered_recorded_as"]), dtype=object)
    recorded_cls = _redraw(rng, cls, params.get("reclassify"))
    cols["reclassified"] = recorded_cls != cls
    cols["classification"] = recorded_cls
    wrong = rng.random(n) < float(params["wrong_region_rate"])
    cols["region_wrong"] = wrong
    cols["region_recorded"] = np.where(
        wrong, _neighbour_regions(rng, cols["region_code"]), cols["region_code"]
    )
    stage = cols["procedural_stage"]
    lag = (rng.random(n) < float(params["stage_lag_rate"])) & np.isin(stage, list(STAGE_BEHIND))
    cols["stage_lagged"] = lag
    cols["procedural_stage"] = np.where(
        lag, pd.Series(stage, dtype=object).map(STAGE_BEHIND).to_numpy(dtype=object), stage
    )
    swapped, can = _swap_day_month(cols["event_date"])
    since = np.datetime64(canon.in_law_since(cb.case_study))
    swap = (
        can
        & (rng.random(n) < float(params["date_swap_rate"]))
        & (swapped <= cols["report_date"])
        & (swapped >= since)
    )
    cols["date_swapped"] = swap
    cols["event_recorded"] = np.where(swap, swapped, cols["event_date"])


def _identity(cols: dict, persons: pd.DataFrame, params: dict, rng) -> None:
    pid = cols["person_id"]
    n = len(pid)
    names = name_text(
        persons["given_names"].to_numpy(dtype=object)[pid],
        persons["surname_1"].to_numpy(dtype=object)[pid],
        persons["surname_2"].to_numpy(dtype=object)[pid],
        params["name_style"],
    )
    hit = rng.random(n) < float(params["name_typo_rate"])
    for i in np.flatnonzero(hit):
        names[i] = typo(rng, names[i])
    cols["name"], cols["name_typo"] = names, hit
    cols["run"] = persons["run"].to_numpy(dtype="float64", na_value=np.nan)[pid]
    cols["run_dv"] = persons["run_dv"].astype(object).to_numpy()[pid]
    cols["passport"] = persons["passport"].astype(object).to_numpy()[pid]
    cols["id_missing"] = rng.random(n) < float(params["id_missing_rate"])
    cols["birth_date"] = persons["birth_date"].to_numpy(dtype="datetime64[ns]")[pid]


def _duplicates(cols: dict, params: dict, rng) -> dict:
    """The same row entered again, days later, as a new case, sometimes with a new typo."""
    n = len(cols["event_id"])
    cols["uid"] = np.arange(n)
    cols["duplicate_of_uid"] = np.full(n, -1)
    cols["case_key"] = cols["case_id"].copy()
    add = _take(cols, np.flatnonzero(rng.random(n) < float(params["duplicate_rate"])))
    k = len(add["uid"])
    add["row_kind"][:] = "duplicate"
    add["duplicate_of_uid"] = add["uid"].copy()
    add["uid"] = n + np.arange(k)
    add["report_date"] = add["report_date"] + rng.integers(0, 11, size=k).astype("timedelta64[D]")
    retype = rng.random(k) < 0.5
    for i in np.flatnonzero(retype):
        add["name"][i] = typo(rng, add["name"][i])
    add["name_typo"] = add["name_typo"] | retype
    add["case_key"] = int(cols["case_id"].max(initial=0)) + 1 + np.arange(k)
    return _concat(cols, add)


# --------------------------------------------------------------------------------------
# cells
# --------------------------------------------------------------------------------------
def _identifier_cells(cols: dict, kind: str, run_format: str) -> tuple[np.ndarray, np.ndarray]:
    n = len(cols["run"])
    cells = np.full(n, None, dtype=object)
    expected = np.full(n, None, dtype=object)
    usable = ~cols["id_missing"]
    if kind == "RUN":
        has = usable & ~np.isnan(cols["run"])
        body = cols["run"][has].astype(np.int64)
        dv = cols["run_dv"][has]
        cells[has] = format_runs(body, dv, run_format)
        expected[has] = "RUN:" + body.astype(str).astype(object) + dv
    elif kind == "passport":
        has = usable & pd.notna(cols["passport"])
        cells[has] = cols["passport"][has]
        expected[has] = "PASSPORT:" + cells[has]
    return cells, expected


def _field_cells(fname, spec, cb: Codebook, cols: dict, params: dict, rng):
    """(cells, expected canonical values, numeric?) for one recorded field, before missing."""
    if fname == "person_key":
        return (*_identifier_cells(cols, cb.identifier_kind, params["run_format"]), False)
    if fname == "person_name":
        return cols["name"].copy(), cols["name"].copy(), False
    if spec.dtype == "date":
        src = cols["event_recorded"] if fname == "event_date" else cols["report_date"]
        fmt = cb.date_format(fname)
        return format_dates(src, fmt), src.astype(object), fmt == "excel_serial"
    if spec.dtype == "integer":
        values = cols[fname].astype(np.int64)
        cells = values.astype(str).astype(object)
        if params.get("integer_style") == "decimal":
            return cells + (cb.export.decimal or ".") + "0", values.astype(object), False
        return cells, values.astype(object), True
    if spec.dtype == "category":
        source = cols["region_recorded" if fname == "region_code" else fname]
        rules = (params.get("labels") or {}).get(fname, {})
        cells = label_choice(rng, source, spec.values, rules, cols)
        expected = pd.Series(cells, dtype=object).map(spec.values).to_numpy(dtype=object)
        expected[pd.isna(cells)] = None
        return cells, expected, False
    raise ValueError(f"{cb.institution}: cannot write field {fname} of dtype {spec.dtype}")


def record_institution(
    view: pd.DataFrame,
    persons: pd.DataFrame,
    captured: np.ndarray,
    cb: Codebook,
    params: dict,
    case_spec: dict,
    rng,
    as_of: pd.Timestamp,
) -> Recorded:
    mode = params.get("rows") or ROW_MODES.get(cb.unit_of_count, "per_event")
    cols = _rows(view, captured, mode, params, rng)
    case = pd.Series(cols["case_id"])
    cols["case_victims"] = case.map(pd.Series(cols["person_id"]).groupby(case).nunique()).to_numpy()
    cols["report_date"] = _report_dates(cols, params, rng)
    cols = _reported_by(cols, as_of)
    still = _still_captured(view, captured, cols, mode)
    _record_errors(cols, params, case_spec, cb, rng)
    _identity(cols, persons, params, rng)
    cols = _reported_by(_duplicates(cols, params, rng), as_of)

    recorded = cb.recorded
    order_date = cols["report_date" if "report_date" in recorded else "event_recorded"]
    order = np.lexsort((cols["offence_no"], cols["case_key"], order_date))
    cols = _take(cols, order)
    n = len(order)
    year = (cols["report_date"].astype("datetime64[Y]").astype(np.int64) + 1970).astype(np.int64)
    tvalues = template_values(cols, rng, cols["case_key"], year)
    record_id = render_template(params["record_id"], tvalues, n)
    _check_ids(record_id, cb)

    table: dict[str, np.ndarray] = {cb.record_id: record_id}
    numeric, expected, missing = [], {}, {}
    tokens = np.asarray(cb.raw.get("missing_tokens") or [""], dtype=object)
    for fname, spec in recorded.items():
        cells, exp, is_num = _field_cells(fname, spec, cb, cols, params, rng)
        gone = pd.isna(cells)
        if fname not in ("person_key", "person_name"):
            rate = float(params["missing"].get(fname, params["missing"]["default"]))
            gone |= rng.random(n) < rate
        table[spec.original_name] = np.where(
            gone, tokens[rng.integers(0, len(tokens), size=n)], cells
        )
        expected[fname] = np.where(gone, None, exp)
        missing[fname] = pd.isna(expected[fname])
        if is_num:
            numeric.append(spec.original_name)
    for col in cb.extra_columns:
        spec = (params.get("extra") or {}).get(col)
        if spec is None:
            table[col] = np.full(n, "", dtype=object)
            continue
        table[col], is_num = extra_column(rng, spec, cols, tvalues, n)
        if is_num:
            numeric.append(col)
    _vary_labels(rng, table, recorded, float(params.get("label_variation_rate", 0.0)))

    problems = corrupt(rng, table, cols, missing, cb, float(params["quarantine_rate"]))
    truth = _row_truth(cols, record_id, expected, problems)
    frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in table.items()})
    return Recorded(cb.institution, frame, numeric, truth, problems, year, still)


def _vary_labels(rng, table: dict, recorded: dict, rate: float) -> None:
    """Letter-case and spacing variants of labels, as typed by hand (readers accept them)."""
    if rate <= 0:
        return
    for spec in recorded.values():
        if spec.dtype != "category":
            continue
        cells = table[spec.original_name]
        hit = np.flatnonzero((rng.random(len(cells)) < rate) & np.isin(cells, list(spec.values)))
        how = rng.integers(0, 3, size=len(hit))
        for i, h in zip(hit, how, strict=True):
            cells[i] = (cells[i].upper(), cells[i].lower(), f" {cells[i]} ")[h]


def _check_ids(record_id: np.ndarray, cb: Codebook) -> None:
    if len(pd.unique(record_id)) != len(record_id):
        raise ValueError(f"{cb.institution}/{cb.case_study}: synthetic record ids are not unique")
    if cb.record_id_pattern and len(record_id):
        ok = pd.Series(record_id, dtype=object).str.fullmatch(cb.record_id_pattern).to_numpy(bool)
        if not ok.all():
            raise ValueError(
                f"{cb.institution}/{cb.case_study}: synthetic record id {record_id[~ok][0]!r} does "
                f"not match the codebook pattern {cb.record_id_pattern!r}; fix record_id in "
                "synthetic_model.yaml"
            )


def _row_truth(
    cols: dict, record_id: np.ndarray, expected: dict, problems: pd.DataFrame
) -> pd.DataFrame:
    truth = pd.DataFrame(
        {
            "record_id": pd.Series(record_id, dtype=object),
            "row_index": np.arange(len(record_id)),
            "person_id": cols["person_id"],
            "event_id": cols["event_id"],
            "case_id": cols["case_id"],
            "row_kind": pd.Series(cols["row_kind"], dtype=object),
            "offence_no": cols["offence_no"],
            **{f: cols[f].astype(bool) for f in FLAGS},
        }
    )
    by_uid = pd.Series(record_id, index=cols["uid"], dtype=object)
    src = cols["duplicate_of_uid"]
    truth["duplicate_of"] = pd.Series(
        np.where(src >= 0, by_uid.reindex(src).to_numpy(dtype=object), None), dtype=object
    )
    truth["corruption"] = pd.Series(None, index=truth.index, dtype=object)
    if len(problems):
        truth.loc[problems["row_index"].to_numpy(), "corruption"] = problems["kind"].to_numpy()
    for fname, exp in expected.items():
        truth[f"expected_{fname}"] = pd.Series(exp, dtype=object)
    return truth
