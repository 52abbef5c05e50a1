"""Recording: how one institution writes down the events it captured.

The institution's codebook is inverted: each canonical value becomes one of the labels that
map to it, each canonical field goes to the column the codebook names, dates take the
codebook's format. On the way the institution makes the errors real registers make
(``synthetic_model.yaml``, ``recording``): reclassification, a neighbouring region, a stage
recorded one step behind, day and month swapped, typos in names, missing values, a row
entered twice. A few rows also carry a data problem the readers must quarantine (invalid
RUN check digit, future date, impossible age, formula-like cell, unknown label); every
error and problem is kept, per row, in the truth.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import canon
from .codebooks import Codebook, normalise_label
from .synthetic_population import draw_cat, run_check_digit

ROW_MODES = {"persons": "per_person", "cases": "per_case", "offences": "per_offence"}
STAGE_BEHIND = {
    "investigation": "complaint",
    "formalisation": "investigation",
    "conviction": "formalisation",
    "judicial_exit": "formalisation",
    "non_judicial_exit": "investigation",
}
FORMULA = '=HYPERLINK("http://example.invalid/ficha","ver ficha")'
FUTURE_YEAR = 2060  # a future year that also survives two-digit-year formats (%y: 00-68 -> 20xx)
EXCEL_EPOCH = np.datetime64("1899-12-30")
QUARANTINE_KINDS = (
    "invalid_run_check_digit",
    "future_date",
    "age_out_of_range",
    "formula_like",
    "unknown_category",
)
CANONICAL_FIELDS = (
    "event_date",
    "report_date",
    "region_code",
    "classification",
    "sex",
    "gender_identity",
    "age",
    "age_band",
    "nationality",
    "migrant_status",
    "indigenous_people",
    "disability",
    "perpetrator_type",
    "procedural_stage",
)


@dataclass
class Recorded:
    """One institution's export before it is written, and the truth about each of its rows."""

    institution: str
    table: pd.DataFrame  # original column names, text cells ("" = blank)
    numeric_columns: list[str]  # written as numbers in a workbook
    truth: pd.DataFrame  # one row per exported row, same order
    corruptions: pd.DataFrame  # the rows carrying a data problem the readers must catch
    file_year: np.ndarray  # year that picks the file when the export filename is a glob


# --------------------------------------------------------------------------------------
# row formation
# --------------------------------------------------------------------------------------
def _rows(view: pd.DataFrame, captured: np.ndarray, mode: str, params: dict, rng) -> pd.DataFrame:
    ev = view.loc[captured].sort_values(["event_date", "event_id"], kind="stable")
    if mode == "per_person":
        ev = ev.drop_duplicates("person_id")
    elif mode == "per_case":  # the case's first (main) victim
        ev = ev.drop_duplicates("case_id")
    elif mode not in ("per_event", "per_offence"):
        raise ValueError(f"unknown row mode {mode!r}")
    rows = ev.reset_index(drop=True)
    for c in rows.columns:
        if isinstance(rows[c].dtype, pd.CategoricalDtype):
            rows[c] = rows[c].astype(object).where(rows[c].notna(), None)
    rows["offence_no"] = 1
    rows["row_kind"] = "original"
    rows["extra_delay"] = 0
    if mode == "per_offence":
        spec = params.get("offences") or {}
        more = rng.random(len(rows)) < float(spec.get("extra_offence_rate", 0.0))
        add = rows.loc[more].copy()
        add["offence_no"] = 2
        add["classification"] = np.asarray(
            draw_cat(rng, len(add), spec.get("extra", {"other": 1})), dtype=object
        )
        rows = pd.concat([rows, add], ignore_index=True)
    repeat = rng.random(len(rows)) < float(params["repeat_rate"])
    if repeat.any():
        add = rows.loc[repeat].copy()
        add["row_kind"] = "repeat"
        add["extra_delay"] = rng.integers(3, 120, size=len(add))
        rows = pd.concat([rows, add], ignore_index=True)
    return rows


def _report_dates(rows: pd.DataFrame, params: dict, rng, as_of: pd.Timestamp) -> np.ndarray:
    d = params["report_delay_days"]
    delay = np.exp(np.log(float(d["median"])) + float(d["sigma"]) * rng.standard_normal(len(rows)))
    days = np.floor(delay).astype(np.int64) + rows["extra_delay"].to_numpy(np.int64)
    ev = rows["event_date"].to_numpy().astype("datetime64[D]")
    rep = ev + days.astype("timedelta64[D]")
    if params.get("report_not_before"):
        rep = np.maximum(rep, np.datetime64(params["report_not_before"]))
    return np.minimum(rep, np.datetime64(as_of.date()))


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
    pos = {c: i for i, c in enumerate(order)}
    i = np.array([pos.get(c, 0) for c in codes])
    step = np.where(rng.random(len(codes)) < 0.5, -1, 1)
    j = np.clip(i + step, 0, len(order) - 1)
    j = np.where(j == i, i - step, j)
    return np.asarray(order, dtype=object)[j]


def _swap_day_month(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(swapped dates, where a swap is possible: day <= 12 and day != month)."""
    s = pd.DatetimeIndex(dates)
    ok = (s.day <= 12) & (s.day != s.month)
    out = np.asarray(dates).astype("datetime64[D]").copy()
    if ok.any():
        sw = pd.to_datetime({"year": s.year[ok], "month": s.day[ok], "day": s.month[ok]})
        out[np.flatnonzero(ok)] = sw.to_numpy().astype("datetime64[D]")
    return out, np.asarray(ok)


def _typo(rng: np.random.Generator, name: str) -> str:
    """One keyboard-style error: substitution, deletion, transposition or doubled letter."""
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) < 3:
        return name
    i = letters[int(rng.integers(1, len(letters)))]
    kind = int(rng.integers(0, 4))
    if kind == 0:
        new = string.ascii_lowercase[int(rng.integers(0, 26))]
        return name[:i] + (new.upper() if name[i].isupper() else new) + name[i + 1 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    if kind == 2 and i + 1 < len(name) and name[i + 1].isalpha():
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name[:i] + name[i] + name[i:]


# --------------------------------------------------------------------------------------
# rendering canonical values as the institution writes them
# --------------------------------------------------------------------------------------
def format_dates(dates: np.ndarray, fmt: str) -> np.ndarray:
    """Vectorised strftime for the codebook formats (%d %m %Y %y, 'iso', 'excel_serial')."""
    d = np.asarray(dates).astype("datetime64[D]")
    if fmt == "excel_serial":
        return (d - EXCEL_EPOCH).astype(np.int64).astype(str).astype(object)
    if fmt == "iso":
        fmt = "%Y-%m-%d"
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    parts = {
        "%Y": np.char.zfill(y.astype(str), 4),
        "%y": np.char.zfill((y % 100).astype(str), 2),
        "%m": np.char.zfill(m.astype(str), 2),
        "%d": np.char.zfill(day.astype(str), 2),
    }
    out = np.full(len(d), "", dtype=object)
    i = 0
    while i < len(fmt):
        tok = fmt[i : i + 2]
        if tok in parts:
            out = out + parts[tok].astype(object)
            i += 2
        else:
            out = out + fmt[i]
            i += 1
    return out


def format_runs(body: np.ndarray, dv: np.ndarray, style: str) -> np.ndarray:
    body = np.asarray(body, dtype=np.int64)
    dv = np.asarray(dv, dtype=object)
    plain = body.astype(str).astype(object)
    if style == "compact":
        return plain + dv
    if style == "dash":
        return plain + "-" + dv
    if style == "dotted":
        millions, rest = body // 1_000_000, body % 1_000_000
        return (
            millions.astype(str).astype(object)
            + "."
            + np.char.zfill((rest // 1000).astype(str), 3).astype(object)
            + "."
            + np.char.zfill((rest % 1000).astype(str), 3).astype(object)
            + "-"
            + dv
        )
    raise ValueError(f"unknown run_format {style!r}")


def _label_choice(rng, canonical: np.ndarray, spec, rules: dict, rows: pd.DataFrame) -> np.ndarray:
    """Invert a category mapping: each canonical value becomes one of the labels mapped to it.

    Several labels for one value are sub-units or variants: picked uniformly, unless the model
    restricts a label to a period (``from``/``until``), to rows matching ``where``, or weights it.
    Values with no label of their own get a label mapped to null, or stay missing (None).
    """
    by_value: dict = {}
    for label, value in spec.values.items():
        by_value.setdefault(value, []).append(label)
    out = np.full(len(canonical), None, dtype=object)
    dates = rows["event_date"].to_numpy()
    for value in pd.unique(canonical):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        idx = np.flatnonzero(canonical == value)
        labels = by_value.get(value) or by_value.get(None)
        if not labels:
            continue
        weights = np.ones((len(idx), len(labels)))
        for j, label in enumerate(labels):
            rule = rules.get(label) or {}
            w = np.full(len(idx), float(rule.get("weight", 1.0)))
            if "from" in rule:
                w[dates[idx] < np.datetime64(rule["from"])] = 0
            if "until" in rule:
                w[dates[idx] >= np.datetime64(rule["until"])] = 0
            for col, allowed in (rule.get("where") or {}).items():
                w[~np.isin(rows[col].to_numpy()[idx], allowed)] = 0
            weights[:, j] = w
        dead = weights.sum(axis=1) == 0
        weights[dead] = 1.0  # no rule applies: any label of the value
        cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
        pick = (rng.random(len(idx))[:, None] > cum).sum(axis=1)
        out[idx] = np.asarray(labels, dtype=object)[np.minimum(pick, len(labels) - 1)]
    return out


def _name_text(given, s1, s2, style: dict) -> np.ndarray:
    given, s1, s2 = (np.asarray(x, dtype=object) for x in (given, s1, s2))
    if style.get("order") == "surname_first":
        text = s1 + " " + s2 + " " + given
    else:
        text = given + " " + s1 + " " + s2
    case = style.get("case", "upper")
    if case == "upper":
        return np.char.upper(text.astype(str)).astype(object)
    return text


# --------------------------------------------------------------------------------------
# templates: record ids and generated extra columns
# --------------------------------------------------------------------------------------
def render_template(template: str, values: dict[str, np.ndarray], n: int) -> np.ndarray:
    out = np.full(n, "", dtype=object)
    for literal, name, spec, _ in string.Formatter().parse(template):
        if literal:
            out = out + literal
        if name is None:
            continue
        if name not in values:
            raise KeyError(
                f"template {template!r}: unknown field {{{name}}}; known: {sorted(values)}"
            )
        v = values[name]
        if np.issubdtype(np.asarray(v).dtype, np.integer) and spec:
            width = int(spec.lstrip("0") or 0)
            v = np.char.zfill(np.asarray(v).astype(str), width)
        out = out + np.asarray(v).astype(str).astype(object)
    return out


def _ruc_numbers(rng, key: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Fiscalía-style RUC per case key: two-digit year, eight-digit number, check digit."""
    uniq, first = np.unique(key, return_index=True)
    order = np.argsort(first, kind="stable")
    uk, yy = uniq[order], year[first[order]] % 100
    number = np.zeros(len(uk), dtype=np.int64)
    for y in np.unique(yy):
        sel = np.flatnonzero(yy == y)
        number[sel] = 100_000 + np.cumsum(rng.integers(1, 40, size=len(sel)))
    body = yy * 100_000_000 + number
    ruc = (
        np.char.zfill(body.astype(str), 10).astype(object)
        + "-"
        + run_check_digit(body).astype(object)
    )
    lookup = dict(zip(uk.tolist(), ruc.tolist(), strict=True))
    return np.array([lookup[k] for k in key.tolist()], dtype=object)


def _template_values(rows: pd.DataFrame, rng, key: np.ndarray, year: np.ndarray) -> dict:
    n = len(rows)
    seq = np.arange(1, n + 1)
    seq_in_year = pd.Series(year).groupby(year).cumcount().to_numpy() + 1
    case_rank = pd.factorize(key)[0] + 1
    in_case = pd.Series(key).groupby(key).cumcount().to_numpy() + 1
    region = rows["region_recorded"].to_numpy().astype(str)
    names = dict(zip(canon.regions()["code"], canon.regions()["name"], strict=True))
    return {
        "seq": seq,
        "seq_in_year": seq_in_year,
        "year": year,
        "yy": year % 100,
        "region": region,
        "region_int": np.char.lstrip(region, "0"),
        "region_label": np.array([names.get(c, "") for c in region], dtype=object),
        "case": case_rank,
        "in_case": in_case,
        "offence": in_case,
        "victim": in_case,
        "ruc": _ruc_numbers(rng, key, year),
        "unit": rng.integers(1, 31, size=n),
    }


def _extra_column(
    rng, spec: dict, rows: pd.DataFrame, tvalues: dict, n: int
) -> tuple[np.ndarray, bool]:
    """(cells, numeric) for one extra column described in the model."""
    if "choice" in spec:
        return np.asarray(draw_cat(rng, n, spec["choice"]), dtype=object), False
    if "template" in spec:
        return render_template(spec["template"], tvalues, n), False
    if spec.get("region_label"):
        return tvalues["region_label"].copy(), False
    if "where" in spec:  # yes/no from the truth, right with probability `agree`
        truth = np.ones(n, dtype=bool)
        for c, allowed in spec["where"].items():
            truth &= rows[c].isin(allowed).to_numpy()
        agree = rng.random(n) < float(spec.get("agree", 1.0))
        val = np.where(agree, truth, ~truth)
        return np.where(val, spec["label_true"], spec["label_false"]).astype(object), False
    if spec.get("time"):
        return np.char.add(
            np.char.add(np.char.zfill(rng.integers(0, 24, n).astype(str), 2), ":"),
            np.char.zfill(rng.integers(0, 60, n).astype(str), 2),
        ).astype(object), False
    if "integer" in spec:
        lo, hi = spec["integer"]
        return rng.integers(lo, hi + 1, size=n).astype(str).astype(object), True
    if spec.get("case_victims"):
        return rows["case_victims"].astype(str).to_numpy(dtype=object), True
    if "from" in spec:
        col = rows[spec["from"]].astype(object).to_numpy()
        return np.array([spec["map"].get(v, "") for v in col], dtype=object), False
    raise ValueError(f"unknown extra column generator: {spec}")


# --------------------------------------------------------------------------------------
# the institution's export
# --------------------------------------------------------------------------------------
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
    rows = _rows(view, captured, mode, params, rng)
    n = len(rows)
    if "case_id" in rows and n:
        rows["case_victims"] = rows.groupby("case_id")["person_id"].transform("nunique")
    rows["report_date"] = _report_dates(rows, params, rng, as_of)
    rows["event_date"] = rows["event_date"].to_numpy().astype("datetime64[D]")

    # ---- recording errors on canonical values (flags kept for the truth) ----------------
    cls = rows["classification"].to_numpy(dtype=object).copy()
    derive = (params.get("derive") or {}).get("classification")
    if derive:
        src = rows[derive["from"]].to_numpy(dtype=object)
        cls = np.full(n, None, dtype=object)
        for value, dist in derive["map"].items():
            idx = np.flatnonzero(src == value)
            cls[idx] = np.asarray(draw_cat(rng, len(idx), dist), dtype=object)
    truth_cls = cls.copy()
    law = case_spec.get("truth", {})
    if "covered" in rows and law.get("uncovered_recorded_as"):
        # before the definition changed, these acts were not femicidio for anyone
        idx = np.flatnonzero(~rows["covered"].to_numpy(bool))
        cls[idx] = np.asarray(draw_cat(rng, len(idx), law["uncovered_recorded_as"]), dtype=object)
    truth_cls = cls.copy()
    cls = _redraw(rng, cls, params.get("reclassify"))
    reclassified = cls != truth_cls
    region = rows["region_code"].to_numpy(dtype=object)
    wrong_region = rng.random(n) < float(params["wrong_region_rate"])
    region = np.where(wrong_region, _neighbour_regions(rng, region), region)
    stage = rows["procedural_stage"].to_numpy(dtype=object)
    lag = (rng.random(n) < float(params["stage_lag_rate"])) & pd.Series(stage).isin(
        STAGE_BEHIND
    ).to_numpy()
    stage = np.where(lag, pd.Series(stage).map(STAGE_BEHIND).to_numpy(dtype=object), stage)
    event_date = rows["event_date"].to_numpy().astype("datetime64[D]")
    swapped_dates, can_swap = _swap_day_month(event_date)
    since = np.datetime64(canon.in_law_since(cb.case_study))
    swap = (
        can_swap
        & (rng.random(n) < float(params["date_swap_rate"]))
        & (swapped_dates <= rows["report_date"].to_numpy())
        & (swapped_dates >= since)
    )
    event_date = np.where(swap, swapped_dates, event_date)
    rows = rows.assign(
        classification=cls,
        region_recorded=region,
        procedural_stage=stage,
        event_recorded=event_date,
    )
    rows["reclassified"], rows["region_wrong"] = reclassified, wrong_region
    rows["stage_lagged"], rows["date_swapped"] = lag, swap

    # ---- identity as recorded ----------------------------------------------------------
    pid = rows["person_id"].to_numpy()
    person = persons.iloc[pid]
    name = _name_text(
        person["given_names"], person["surname_1"], person["surname_2"], params["name_style"]
    )
    typo = rng.random(n) < float(params["name_typo_rate"])
    name = name.copy()
    for i in np.flatnonzero(typo):
        name[i] = _typo(rng, name[i])
    rows["name"], rows["name_typo"] = name, typo
    rows["run"] = person["run"].to_numpy()
    rows["run_dv"] = person["run_dv"].to_numpy(dtype=object)
    rows["passport"] = person["passport"].to_numpy(dtype=object)
    rows["id_missing"] = rng.random(n) < float(params["id_missing_rate"])

    # ---- erroneous duplicates: the same row entered again under a new record id --------
    dup = np.flatnonzero(rng.random(n) < float(params["duplicate_rate"]))
    rows["case_key"] = rows["case_id"].to_numpy()
    rows["uid"] = np.arange(n)
    rows["duplicate_of_uid"] = -1
    if len(dup):
        add = rows.iloc[dup].copy()
        add["row_kind"] = "duplicate"
        add["duplicate_of_uid"] = add["uid"].to_numpy()
        add["uid"] = n + np.arange(len(dup))
        later = rng.integers(0, 11, size=len(dup)).astype("timedelta64[D]")
        add["report_date"] = np.minimum(
            add["report_date"].to_numpy().astype("datetime64[D]") + later,
            np.datetime64(as_of.date()),
        )
        retype = rng.random(len(dup)) < 0.5
        names = add["name"].to_numpy(dtype=object)
        for i in np.flatnonzero(retype):
            names[i] = _typo(rng, names[i])
        add["name"] = names
        add["name_typo"] = add["name_typo"].to_numpy() | retype
        add["case_key"] = (
            int(rows["case_id"].max()) + 1 + np.arange(len(dup))
        )  # entered as a new case
        rows = pd.concat([rows, add], ignore_index=True)
    n = len(rows)

    # ---- file order and record ids -------------------------------------------------------
    recorded = cb.recorded
    order_date = "report_date" if "report_date" in recorded else "event_recorded"
    rows = rows.sort_values([order_date, "case_key", "offence_no"], kind="stable").reset_index(
        drop=True
    )
    year = pd.DatetimeIndex(rows["report_date"]).year.to_numpy().astype(np.int64)
    tvalues = _template_values(rows, rng, rows["case_key"].to_numpy(), year)
    record_id = render_template(params["record_id"], tvalues, n)
    _check_ids(record_id, cb)

    # ---- cells ----------------------------------------------------------------------------
    table: dict[str, np.ndarray] = {cb.record_id: record_id}
    numeric: list[str] = []
    expected: dict[str, np.ndarray] = {}
    own_tokens = [t for t in (cb.raw.get("missing_tokens") or [])] or [""]
    labels_rules = params.get("labels") or {}
    category_fields = []
    for fname, spec in recorded.items():
        col = spec.original_name
        if fname == "person_key":
            cells, exp = _identifier_cells(rows, cb.identifier_kind, params["run_format"])
        elif fname == "person_name":
            cells, exp = rows["name"].to_numpy(dtype=object), rows["name"].to_numpy(dtype=object)
        elif spec.dtype == "date":
            src = rows["event_recorded"] if fname == "event_date" else rows["report_date"]
            fmt = cb.date_format(fname)
            cells = format_dates(src.to_numpy(), fmt)
            exp = src.to_numpy().astype("datetime64[D]").astype(object)
            if fmt == "excel_serial":
                numeric.append(col)
        elif spec.dtype == "integer":
            values = rows[fname].to_numpy(np.int64)
            cells = values.astype(str).astype(object)
            if params.get("integer_style") == "decimal":
                cells = cells + (cb.export.decimal or ".") + "0"
            else:
                numeric.append(col)
            exp = values.astype(object)
        elif spec.dtype == "category":
            source = {"region_code": "region_recorded"}.get(fname, fname)
            canonical_values = rows[source].to_numpy(dtype=object)
            cells = _label_choice(rng, canonical_values, spec, labels_rules.get(fname, {}), rows)
            exp = np.array(
                [spec.values.get(c) if c is not None else None for c in cells], dtype=object
            )
            category_fields.append(fname)
        else:
            raise ValueError(f"{cb.institution}: cannot write field {fname} of dtype {spec.dtype}")
        cells = np.asarray(cells, dtype=object)
        missing = cells == None  # noqa: E711 - elementwise
        rate = float(params["missing"].get(fname, params["missing"]["default"]))
        if fname not in ("person_key", "person_name"):
            missing |= rng.random(n) < rate
        tokens = np.asarray(own_tokens, dtype=object)
        cells = np.where(missing, tokens[rng.integers(0, len(tokens), size=n)], cells)
        exp = np.where(missing, None, exp)
        table[col] = cells
        expected[fname] = exp

    for col in cb.extra_columns:
        spec = (params.get("extra") or {}).get(col)
        if spec is None:
            table[col] = np.full(n, "", dtype=object)
            continue
        cells, is_num = _extra_column(rng, spec, rows, tvalues, n)
        table[col] = cells
        if is_num:
            numeric.append(col)

    # ---- letter-case and spacing variants of labels (readers accept them) ---------------
    vary = float(params.get("label_variation_rate", 0.0))
    for fname in category_fields:
        col = recorded[fname].original_name
        cells = table[col]
        hit = np.flatnonzero(
            (rng.random(n) < vary) & pd.Series(cells).isin(list(recorded[fname].values)).to_numpy()
        )
        for i in hit:
            cells[i] = [cells[i].upper(), cells[i].lower(), f" {cells[i]} "][
                int(rng.integers(0, 3))
            ]

    corruptions = _corrupt(rng, table, rows, cb, params, expected, n)
    truth = _row_truth(rows, record_id, expected, corruptions)
    return Recorded(cb.institution, pd.DataFrame(table), numeric, truth, corruptions, year)


def _identifier_cells(
    rows: pd.DataFrame, kind: str, run_format: str
) -> tuple[np.ndarray, np.ndarray]:
    n = len(rows)
    cells = np.full(n, None, dtype=object)
    expected = np.full(n, None, dtype=object)
    usable = ~rows["id_missing"].to_numpy(bool)
    if kind == "RUN":
        has = usable & rows["run"].notna().to_numpy()
        body = rows["run"].to_numpy(dtype=float)[has].astype(np.int64)
        dv = rows["run_dv"].to_numpy(dtype=object)[has]
        cells[has] = format_runs(body, dv, run_format)
        expected[has] = np.char.add(np.char.add("RUN:", body.astype(str)), dv.astype(str)).astype(
            object
        )
    elif kind == "passport":
        has = usable & rows["passport"].notna().to_numpy()
        cells[has] = rows["passport"].to_numpy(dtype=object)[has]
        expected[has] = "PASSPORT:" + cells[has]
    return cells, expected


def _check_ids(record_id: np.ndarray, cb: Codebook) -> None:
    if len(pd.unique(record_id)) != len(record_id):
        raise ValueError(f"{cb.institution}/{cb.case_study}: synthetic record ids are not unique")
    if cb.record_id_pattern and len(record_id):
        ok = pd.Series(record_id, dtype=object).str.fullmatch(cb.record_id_pattern)
        if not ok.all():
            bad = record_id[~ok.to_numpy()][0]
            raise ValueError(
                f"{cb.institution}/{cb.case_study}: synthetic record id {bad!r} does not match the "
                f"codebook pattern {cb.record_id_pattern!r}; fix record_id in synthetic_model.yaml"
            )


# --------------------------------------------------------------------------------------
# data problems the readers must quarantine
# --------------------------------------------------------------------------------------
def _corrupt(rng, table, rows, cb: Codebook, params, expected, n) -> pd.DataFrame:
    rate = float(params["quarantine_rate"])
    k = max(int(round(rate * n)), 1 if n >= 100 else 0)
    taken = np.zeros(n, dtype=bool)
    taken[rows["row_kind"].to_numpy() != "original"] = True  # keep duplicates clean
    out = []
    recorded = cb.recorded

    def pick(candidates: np.ndarray) -> np.ndarray:
        free = np.flatnonzero(candidates & ~taken)
        chosen = rng.choice(free, size=min(k, len(free)), replace=False) if len(free) else free
        taken[chosen] = True
        return np.sort(chosen)

    def note(idx, kind, fname, col, before):
        for i in idx:
            out.append(
                {
                    "row_index": int(i),
                    "kind": kind,
                    "field": fname,
                    "column": col,
                    "original_value": before[i],
                    "written_value": table[col][i],
                }
            )

    def filled(col):
        tokens = {normalise_label(t) for t in cb.missing_tokens}
        return np.array([normalise_label(v) not in tokens for v in table[col]])

    if cb.identifier_kind == "RUN" and "person_key" in recorded:
        col = recorded["person_key"].original_name
        idx = pick(pd.Series(expected["person_key"], dtype=object).notna().to_numpy())
        before = table[col].copy()
        for i in idx:
            v = table[col][i]
            wrong = "0123456789K"[
                ("0123456789K".index(v[-1].upper()) + 1 + int(rng.integers(0, 10))) % 11
            ]
            table[col][i] = v[:-1] + wrong
        note(idx, "invalid_run_check_digit", "person_key", col, before)
    dates = [f for f in ("event_date", "report_date") if f in recorded]
    if dates:
        fname = dates[0]
        col = recorded[fname].original_name
        idx = pick(pd.Series(expected[fname], dtype=object).notna().to_numpy())
        before = table[col].copy()
        d = pd.DatetimeIndex(
            rows["event_recorded" if fname == "event_date" else "report_date"].to_numpy()[idx]
        )
        future = pd.to_datetime(
            {"year": FUTURE_YEAR + d.year % 8, "month": d.month, "day": np.minimum(d.day, 28)}
        ).to_numpy()
        table[col][idx] = format_dates(future, cb.date_format(fname))
        note(idx, "future_date", fname, col, before)
    if "age" in recorded:
        col = recorded["age"].original_name
        idx = pick(pd.Series(expected["age"], dtype=object).notna().to_numpy())
        before = table[col].copy()
        for i in idx:
            bad = int("1" + str(int(expected["age"][i])))
            table[col][i] = str(bad if bad > 110 else 999)
        note(idx, "age_out_of_range", "age", col, before)
    cats = [f for f, spec in recorded.items() if spec.dtype == "category"]
    # a formula pasted into a mapped column (names and extra columns never leave ingestion)
    formula_field = next(
        (
            f
            for f in (
                "classification",
                "perpetrator_type",
                "procedural_stage",
                "nationality",
                "region_code",
                "sex",
            )
            if f in cats
        ),
        None,
    )
    if formula_field:
        col = recorded[formula_field].original_name
        idx = pick(filled(col))
        before = table[col].copy()
        table[col][idx] = FORMULA
        note(idx, "formula_like", formula_field, col, before)
    unknown_field = next(
        (
            f
            for f in ("sex", "region_code", "nationality", *cats)
            if f in cats and (f != formula_field or len(cats) == 1)
        ),
        None,
    )
    if unknown_field:
        spec = recorded[unknown_field]
        col = spec.original_name
        labels = [lab for lab in spec.values if spec.values[lab] is not None]
        unknown = f"{labels[0]}/{labels[1]}" if len(labels) > 1 else "PENDIENTE DE CLASIFICAR"
        known = {normalise_label(x) for x in [*spec.values, *cb.missing_tokens]}
        if normalise_label(unknown) in known:
            raise ValueError(f"{cb.institution}: the unknown label {unknown!r} is a real label")
        idx = pick(filled(col))
        before = table[col].copy()
        table[col][idx] = unknown
        note(idx, "unknown_category", unknown_field, col, before)
    return pd.DataFrame(
        out, columns=["row_index", "kind", "field", "column", "original_value", "written_value"]
    )


def _row_truth(rows, record_id, expected, corruptions) -> pd.DataFrame:
    truth = pd.DataFrame(
        {
            "record_id": record_id,
            "row_index": np.arange(len(rows)),
            "person_id": rows["person_id"].to_numpy(),
            "event_id": rows["event_id"].to_numpy(),
            "case_id": rows["case_id"].to_numpy(),
            "row_kind": rows["row_kind"].to_numpy(dtype=object),
            "offence_no": rows["offence_no"].to_numpy(),
            "name_typo": rows["name_typo"].to_numpy(bool),
            "date_swapped": rows["date_swapped"].to_numpy(bool),
            "region_wrong": rows["region_wrong"].to_numpy(bool),
            "reclassified": rows["reclassified"].to_numpy(bool),
            "stage_lagged": rows["stage_lagged"].to_numpy(bool),
            "id_missing": rows["id_missing"].to_numpy(bool),
        }
    )
    uid_to_id = pd.Series(record_id, index=rows["uid"].to_numpy())
    src = rows["duplicate_of_uid"].to_numpy()
    truth["duplicate_of"] = np.where(src >= 0, uid_to_id.reindex(src).to_numpy(dtype=object), None)
    truth["corruption"] = None
    if len(corruptions):
        truth.loc[corruptions["row_index"].to_numpy(), "corruption"] = corruptions[
            "kind"
        ].to_numpy()
    for fname, exp in expected.items():
        truth[f"expected_{fname}"] = exp
    return truth
