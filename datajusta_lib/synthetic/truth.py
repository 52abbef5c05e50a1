"""The ground truth of each case study: who the victims are, what happened, when and where.

One builder per case study turns the parameters of ``synthetic_model.yaml`` (scaled by
``scale``) into a :class:`~datajusta_lib.synthetic.population.Truth`. The structures differ
because the phenomena do: protest violence mixes victims of violence with detained persons
(Carabineros records detentions); attempted femicide has one victim per event and a change
of legal definition in March 2020; trafficking comes in cases of many victims and lives next
to migrant smuggling (art. 411 bis), which the same registers hold.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .population import (
    Truth,
    add_identity,
    add_indigenous,
    age_band_of,
    ages_from_bands,
    case_sizes,
    cases_by_proximity,
    dates_uniform,
    dates_weighted,
    draw_cat,
    draw_persons,
    finish_events,
    protest_intensity,
    region_distribution,
    set_birth_dates,
    weekday_weight,
    weighted_sample,
)


def build_truth(
    case_study: str, spec: dict, scale: float, rng: np.random.Generator, figures: pd.DataFrame
) -> Truth:
    builder = {
        "protest_violence": _protest,
        "attempted_femicide": _femicide,
        "trafficking": _trafficking,
    }.get(case_study)
    if builder is None:
        raise ValueError(f"no synthetic model for case study {case_study!r}")
    persons, events = builder(spec, scale, rng, figures)
    return Truth(case_study, persons, events)


def _n(value: float, scale: float) -> int:
    return int(round(float(value) * scale))


def _first_by_person(pid: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Earliest value per person (values are datetime64[D])."""
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, pid, values.astype("datetime64[D]").astype(np.int64))
    return out.astype("datetime64[D]")


def _stages(rng, n_cases: int, dist: dict) -> pd.Categorical:
    return draw_cat(rng, n_cases, dist)


def _finish_persons(rng, persons, events_pid, event_dates, event_region, spec):
    n = len(persons)
    first = _first_by_person(events_pid, event_dates, n)
    bands = draw_cat(rng, n, spec["age_bands"])
    set_birth_dates(rng, persons, first, ages_from_bands(rng, bands))
    home = np.empty(n, dtype=object)
    home[events_pid[::-1]] = np.asarray(event_region, dtype=object)[::-1]  # first event's region
    persons["region_code"] = pd.Categorical(home)
    add_indigenous(rng, persons, home, spec)
    add_identity(rng, persons)


# --------------------------------------------------------------------------------------
def _protest(spec, scale, rng, figures):
    t, per = spec["truth"], spec["person"]
    start, end = spec["period"]
    n_v = _n(t["victims"]["value"], scale)
    n_d = _n(t["detained_only"]["value"], scale)
    n_eye = min(_n(t["eye_injured"]["value"], scale), n_v)
    persons = draw_persons(rng, n_v + n_d, per)
    persons["is_victim"] = np.arange(n_v + n_d) < n_v

    second = np.flatnonzero(rng.random(n_v) < t["second_event_share"])
    again = np.flatnonzero(rng.random(n_d) < t["repeat_detention_share"])
    v_pid = np.concatenate([np.arange(n_v), second])
    d_pid = n_v + np.concatenate([np.arange(n_d), again])
    pid = np.concatenate([v_pid, d_pid])
    n_ev = len(pid)
    violent = np.arange(n_ev) < len(v_pid)

    dates = dates_weighted(rng, n_ev, start, end, protest_intensity(spec["dates"]))
    regions = region_distribution(spec["regions"])
    home = np.asarray(draw_cat(rng, n_v + n_d, regions), dtype=object)
    region = home[pid]
    moved = rng.random(n_ev) < 0.1
    region[moved] = np.asarray(draw_cat(rng, int(moved.sum()), regions), dtype=object)

    classification = np.full(n_ev, None, dtype=object)
    classification[violent] = np.asarray(
        draw_cat(rng, int(violent.sum()), spec["classification"]), dtype=object
    )
    # eye injuries: n_eye victims, men more often (pv21: 86% of PIRO patients were men)
    male = np.asarray(persons["sex"][:n_v] == "male")
    eye_persons = weighted_sample(rng, np.where(male, spec["eye_male_weight"], 1.0), n_eye)
    eye = np.zeros(n_ev, dtype=bool)
    eye[eye_persons] = True  # the first len(v_pid) events start with one event per victim
    classification[eye] = np.asarray(draw_cat(rng, n_eye, spec["eye_classification"]), dtype=object)
    severity = np.full(n_ev, None, dtype=object)
    severity[eye] = np.asarray(draw_cat(rng, n_eye, spec["eye_severity"]), dtype=object)

    detained = ~violent | (rng.random(n_ev) < t["in_custody_share"])
    perp = np.asarray(draw_cat(rng, n_ev, spec["perpetrator_type"]), dtype=object)
    a, b = (np.datetime64(d) for d in spec["armed_forces_window"])
    window = (dates >= a) & (dates <= b) & violent & ~detained
    perp[window & (rng.random(n_ev) < spec["armed_forces_share"])] = "armed_forces"
    perp[~violent] = "carabineros"  # the detaining agent

    case = np.empty(n_ev, dtype=np.int64)
    vi = np.flatnonzero(violent)
    case[vi] = cases_by_proximity(rng, dates[vi], region[vi], t["same_incident_join"])
    n_vcases = int(case[vi].max()) + 1 if len(vi) else 0
    case[~violent] = n_vcases + np.arange(int((~violent).sum()))
    stage_of_case = np.asarray(
        _stages(rng, int(case.max()) + 1 if n_ev else 0, spec["procedural_stage"]), dtype=object
    )
    stage = stage_of_case[case]
    stage[~violent] = None

    _finish_persons(rng, persons, pid, dates, region, per)
    events = finish_events(
        rng,
        {
            "person_id": pid,
            "case_id": case,
            "event_date": dates,
            "region_code": region,
            "kind": pd.Categorical(np.where(violent, "violence", "detention")),
            "classification": pd.Categorical(classification),
            "perpetrator_type": pd.Categorical(perp),
            "procedural_stage": pd.Categorical(stage),
            "detained": detained,
            "eye_injury": eye,
            "eye_severity": pd.Categorical(severity),
        },
        persons,
        end,
    )
    # severity raises visibility: the gravest events are the most widely known
    grave = events["classification"].isin(["homicidio", "homicidio_frustrado", "tortura"]) | eye
    events["visibility"] = events["visibility"] + 0.5 * grave
    return persons, events


# --------------------------------------------------------------------------------------
def _figure_value(figures: pd.DataFrame, fid: str) -> float:
    row = figures.loc[figures["id"] == fid]
    if row.empty:
        raise KeyError(f"published figure {fid!r} is not in data/published/figures.csv")
    return float(row["value"].iloc[0])


def _figure_year(figures: pd.DataFrame, fid: str) -> int:
    return int(pd.Timestamp(figures.loc[figures["id"] == fid, "period_start"].iloc[0]).year)


def _femicide(spec, scale, rng, figures):
    t, per = spec["truth"], spec["person"]
    start, end = spec["period"]
    years = list(range(pd.Timestamp(start).year, pd.Timestamp(end).year + 1))
    counts: dict[tuple[int, str], int] = {}
    for cls in ("femicidio_frustrado", "femicidio_tentado", "femicidio_consumado"):
        c = t[cls]
        mult = c["multiplier"]
        mult = mult if isinstance(mult, list) else [mult] * len(c["figures"])
        for fid, m in zip(c["figures"], mult, strict=True):
            counts[(_figure_year(figures, fid), cls)] = _n(m * _figure_value(figures, fid), scale)
    ratio = t["femicidio_tentado"]["before_first_figure_ratio"]
    for y in years:
        counts.setdefault(
            (y, "femicidio_tentado"), int(round(ratio * counts.get((y, "femicidio_frustrado"), 0)))
        )
    dates, classes = [], []
    for (y, cls), k in sorted(counts.items()):
        dates.append(
            dates_weighted(
                rng,
                k,
                f"{y}-01-01",
                f"{y}-12-31",
                weekday_weight(spec["dates"].get("weekend_weight", 1.0)),
            )
        )
        classes.append(np.full(k, cls, dtype=object))
    dates = np.concatenate(dates) if dates else np.zeros(0, dtype="datetime64[D]")
    classification = np.concatenate(classes) if classes else np.zeros(0, dtype=object)
    n = len(dates)
    persons = draw_persons(rng, n, per)
    persons["is_victim"] = True
    region = np.asarray(draw_cat(rng, n, region_distribution(spec["regions"])), dtype=object)
    perp = np.asarray(draw_cat(rng, n, spec["perpetrator_type"]), dtype=object)
    partner = np.isin(perp, ["intimate_partner", "former_intimate_partner"])
    cohabiting = partner & (rng.random(n) < t["cohabiting_share"])
    # covered by the definition in force on the day; consumado are context and all count
    covered = (
        (dates >= np.datetime64(t["law_change"]))
        | cohabiting
        | (classification == "femicidio_consumado")
    )
    stage = np.asarray(_stages(rng, n, spec["procedural_stage"]), dtype=object)
    pid = np.arange(n)
    _finish_persons(rng, persons, pid, dates, region, per)
    events = finish_events(
        rng,
        {
            "person_id": pid,
            "case_id": pid.copy(),
            "event_date": dates,
            "region_code": region,
            "kind": pd.Categorical(np.full(n, "femicide")),
            "classification": pd.Categorical(classification),
            "perpetrator_type": pd.Categorical(perp),
            "procedural_stage": pd.Categorical(stage),
            "cohabiting": cohabiting,
            "covered": covered,
        },
        persons,
        end,
    )
    events["visibility"] = events["visibility"] + 1.0 * (
        events["classification"] == "femicidio_consumado"
    )
    return persons, events


# --------------------------------------------------------------------------------------
class _Cases(NamedTuple):
    """Per-case arrays of trafficking and smuggling; victims take theirs by case index."""

    kind: np.ndarray
    date: np.ndarray
    size: np.ndarray
    region: np.ndarray
    exploitation: np.ndarray
    perpetrator: np.ndarray
    formalised: np.ndarray
    stage: np.ndarray
    nationality: np.ndarray


def _trafficking(spec, scale, rng, figures):
    # the random draws happen in a fixed order (cases, persons, events): keep it so the
    # same seed gives the same world
    cases = _trafficking_cases(spec, scale, rng)
    case = np.repeat(np.arange(len(cases.size)), cases.size)
    persons, dates = _trafficking_persons(spec, cases, case, rng)
    events = _trafficking_events(spec, cases, case, persons, dates, rng)
    return persons, events


def _case_size_blocks(t: dict, period: list, scale: float, rng) -> list:
    """(kind, first day, last day, case sizes) per kind and calendar year, pro rata of the year."""
    s, e = pd.Timestamp(period[0]), pd.Timestamp(period[1])
    blocks = []
    for kind, key, size_key in (
        ("trafficking", "victims_per_year", "case_size"),
        ("smuggling", "smuggled_per_year", "smuggling_case_size"),
    ):
        for y in range(s.year, e.year + 1):
            a, b = max(s, pd.Timestamp(f"{y}-01-01")), min(e, pd.Timestamp(f"{y}-12-31"))
            frac = ((b - a).days + 1) / (366 if y % 4 == 0 else 365)
            total = _n(t[key]["value"] * frac, scale)
            sizes = case_sizes(rng, total, t[size_key])
            blocks.append((kind, a, b, sizes))
    return blocks


def _trafficking_cases(spec, scale, rng) -> _Cases:
    """The cases: kind, date, size, region, exploitation, perpetrator, stage and nationality."""
    t, per = spec["truth"], spec["person"]
    blocks = _case_size_blocks(t, spec["period"], scale, rng)
    kinds, case_dates, case_sizes_all = [], [], []
    for kind, a, b, sizes in blocks:
        kinds.append(np.full(len(sizes), kind, dtype=object))
        case_dates.append(dates_uniform(rng, len(sizes), str(a.date()), str(b.date())))
        case_sizes_all.append(sizes)
    kind_c = np.concatenate(kinds)
    date_c = np.concatenate(case_dates)
    size_c = np.concatenate(case_sizes_all).astype(np.int64)
    n_cases = len(size_c)
    region_c = np.asarray(
        draw_cat(rng, n_cases, region_distribution(spec["regions"])), dtype=object
    )
    expl_c = np.asarray(draw_cat(rng, n_cases, t["exploitation"]), dtype=object)
    expl_c[kind_c == "smuggling"] = "smuggling"
    perp_c = np.asarray(draw_cat(rng, n_cases, spec["perpetrator_type"]), dtype=object)
    perp_c[kind_c == "smuggling"] = "criminal_network"
    formal_c, stage_c = _case_formalisation(spec, kind_c, size_c, rng)
    nat_c = np.asarray(draw_cat(rng, n_cases, per["nationality"]), dtype=object)
    early = date_c < np.datetime64("2015-01-01")  # tp01: all victims were foreign until 2015
    foreign_only = {k: v for k, v in per["nationality"].items() if k != "CHL"}
    redraw = early & (nat_c == "CHL")
    nat_c[redraw] = np.asarray(draw_cat(rng, int(redraw.sum()), foreign_only), dtype=object)
    return _Cases(kind_c, date_c, size_c, region_c, expl_c, perp_c, formal_c, stage_c, nat_c)


def _case_formalisation(spec, kind_c, size_c, rng) -> tuple[np.ndarray, np.ndarray]:
    """Whether each case was formalised (likelier when large, rarer for smuggling) and its stage."""
    f = spec["truth"]["formalisation"]
    n_cases = len(size_c)
    logit = f["intercept"] + f["per_log_size"] * np.log(size_c) - 1.5 * (kind_c == "smuggling")
    formal_c = rng.random(n_cases) < 1 / (1 + np.exp(-logit))
    stage_c = np.where(
        formal_c,
        np.asarray(draw_cat(rng, n_cases, spec["procedural_stage"]["formalised"]), dtype=object),
        np.asarray(
            draw_cat(rng, n_cases, spec["procedural_stage"]["not_formalised"]), dtype=object
        ),
    )
    return formal_c, stage_c


def _trafficking_persons(spec, cases: _Cases, case: np.ndarray, rng):
    """One person per case member: event date, nationality, sex and migrant status."""
    t, per = spec["truth"], spec["person"]
    end = spec["period"][1]
    n = len(case)
    dates = cases.date[case] + rng.integers(0, 21, size=n).astype("timedelta64[D]")
    dates = np.minimum(dates, np.datetime64(end))
    own_nat = np.asarray(draw_cat(rng, n, per["nationality"]), dtype=object)
    own_nat[(cases.date[case] < np.datetime64("2015-01-01")) & (own_nat == "CHL")] = "BOL"
    nat = np.where(rng.random(n) < t["same_nationality_in_case"], cases.nationality[case], own_nat)
    male_share = (
        np.vectorize(lambda x: t["male_share_by_exploitation"].get(x, 0.6))(
            cases.exploitation[case]
        )
        if n
        else np.zeros(0)
    )
    sex = pd.Categorical(np.where(rng.random(n) < male_share, "male", "female"))
    persons = draw_persons(rng, n, per, sex=sex, nationality=pd.Categorical(nat))
    smug = cases.kind[case] == "smuggling"
    mig = np.asarray(persons["migrant_status"], dtype=object)
    mig[smug & (mig != "not_migrant")] = np.where(
        rng.random(int((smug & (mig != "not_migrant")).sum())) < 0.8, "irregular", "regular"
    )
    persons["migrant_status"] = pd.Categorical(
        mig, categories=persons["migrant_status"].cat.categories
    )
    persons["is_victim"] = ~smug
    _finish_persons(rng, persons, np.arange(n), dates, cases.region[case], per)
    return persons, dates


def _trafficking_events(spec, cases: _Cases, case, persons, dates, rng) -> pd.DataFrame:
    """One event per person, carrying its case's attributes; minors get their own offence."""
    n = len(case)
    smug = cases.kind[case] == "smuggling"
    events = finish_events(
        rng,
        {
            "person_id": np.arange(n),
            "case_id": case,
            "event_date": dates,
            "region_code": cases.region[case],
            "kind": pd.Categorical(cases.kind[case]),
            "classification": pd.Categorical(
                np.where(smug, "smuggling_411_bis", "trafficking_411_quater")
            ),
            "perpetrator_type": pd.Categorical(cases.perpetrator[case]),
            "procedural_stage": pd.Categorical(cases.stage[case]),
            "exploitation": pd.Categorical(cases.exploitation[case]),
            "formalised": cases.formalised[case],
            "case_size": cases.size[case],
        },
        persons,
        spec["period"][1],
    )
    # victims of one case are found together: visibility is mostly the case's
    n_cases = len(cases.size)
    events["visibility"] = 0.8 * rng.standard_normal(n_cases)[case] + 0.6 * events["visibility"]
    minors = events["minor"].to_numpy() & ~smug
    cls = np.asarray(events["classification"], dtype=object)
    cls[minors] = "trafficking_minors_411_quater"
    events["classification"] = pd.Categorical(cls)
    events["age_band"] = age_band_of(events["age"].to_numpy())
    return events
