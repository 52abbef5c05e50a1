"""Synthetic ground truth: the victims and events of one case study (see docs/synthetic.md).

Everything is drawn with numpy from the parameters in ``synthetic_model.yaml``; nothing here
is real. Names are composed from invented syllables and identifiers come from ranges that no
natural person holds (:func:`draw_runs`, :func:`draw_passports`).

The truth is two tables. ``persons``: one row per person (attributes, synthetic name and
identifiers). ``events``: one row per victimisation (or detention) of one person, with the
case it belongs to, where and when it happened and its true classification, plus a latent
``visibility`` shared by every institution (what makes lists overlap more than chance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core import canon

STR = np.dtypes.StringDType()

AGE_BANDS = {
    "0-13": (10, 13),
    "14-17": (14, 17),
    "18-29": (18, 29),
    "30-44": (30, 44),
    "45-59": (45, 59),
    "60+": (60, 84),
}

# Invented syllables: names are built from these, never drawn from a list of real names.
_GIVEN_START = [
    "Ba",
    "Be",
    "Ca",
    "Da",
    "Fe",
    "Ga",
    "Li",
    "Lu",
    "Ma",
    "Ne",
    "Ri",
    "Sa",
    "Te",
    "Va",
    "Ya",
    "Zu",
    "Qui",
    "Ro",
    "Mi",
    "Ta",
    "Ar",
    "El",
    "Is",
    "Or",
]
_GIVEN_MIDDLE = [
    "lin",
    "ren",
    "dor",
    "sel",
    "mir",
    "ven",
    "lor",
    "ti",
    "ra",
    "ne",
    "so",
    "ba",
    "cil",
    "fen",
    "gu",
    "mal",
    "rí",
    "tá",
]
_GIVEN_END_F = ["a", "ela", "ina", "ia", "ena", "ira", "ué"]
_GIVEN_END_M = ["o", "el", "an", "io", "en", "ur", "ón"]
_SURNAME_START = [
    "Al",
    "Ber",
    "Cor",
    "Dal",
    "Es",
    "Fal",
    "Gor",
    "Hu",
    "Ir",
    "Lar",
    "Mon",
    "Nar",
    "Or",
    "Pas",
    "Quel",
    "Res",
    "Sol",
    "Tor",
    "Ur",
    "Var",
    "Zan",
    "Yel",
    "Cha",
    "Pu",
]
_SURNAME_MIDDLE = ["ca", "de", "la", "mi", "no", "re", "ta", "vi", "ga", "be", "lo", "su", "ñi"]
_SURNAME_END = [
    "ndez",
    "rra",
    "lles",
    "ño",
    "quez",
    "tti",
    "ras",
    "dia",
    "nque",
    "lvo",
    "rález",
    "ñán",
    "lía",
    "zco",
    "bal",
    "mur",
]

RUN_RANGE = (40_000_000, 49_999_999)  # not yet assigned to natural persons
PASSPORT_PREFIX = "ZZ"  # ISO 3166 user-assigned code: no State issues it


PERSON_ATTRIBUTES = [
    "sex",
    "gender_identity",
    "nationality",
    "migrant_status",
    "indigenous_people",
    "disability",
]


@dataclass
class Truth:
    case_study: str
    persons: pd.DataFrame
    events: pd.DataFrame

    def view(self) -> pd.DataFrame:
        """Events with their victim's attributes: what capture and recording look at."""
        pid = self.events["person_id"].to_numpy()
        extra = {c: self.persons[c].take(pid).reset_index(drop=True) for c in PERSON_ATTRIBUTES}
        return self.events.reset_index(drop=True).assign(**extra)


# --------------------------------------------------------------------------------------
# small vectorised helpers
# --------------------------------------------------------------------------------------
def draw_cat(rng: np.random.Generator, n: int, dist: dict) -> pd.Categorical:
    keys = list(dist)
    p = np.asarray([float(dist[k]) for k in keys])
    codes = rng.choice(len(keys), size=n, p=p / p.sum()) if n else np.zeros(0, dtype=np.int64)
    return pd.Categorical.from_codes(codes, categories=keys)


def weighted_sample(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """k indices without replacement, probability proportional to weights (Gumbel top-k)."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k >= len(weights):
        return np.arange(len(weights))
    keys = np.log(weights) + rng.gumbel(size=len(weights))
    return np.argpartition(-keys, k - 1)[:k]


def region_distribution(overrides: dict) -> dict:
    """Share of events per region: the overrides, the rest in proportion to population."""
    reg = canon.regions()
    pop = dict(zip(reg["code"], reg["population_census_2017"].astype(float), strict=True))
    fixed = {str(k): float(v) for k, v in overrides.items()}
    rest = 1.0 - sum(fixed.values())
    free_pop = sum(v for k, v in pop.items() if k not in fixed)
    return {code: fixed.get(code, rest * pop[code] / free_pop) for code in reg["code"]}


def dates_uniform(rng, n: int, start: str, end: str) -> np.ndarray:
    a, b = np.datetime64(start, "D"), np.datetime64(end, "D")
    return a + rng.integers(0, (b - a).astype(int) + 1, size=n).astype("timedelta64[D]")


def dates_weighted(rng, n: int, start: str, end: str, daily_weight) -> np.ndarray:
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    w = np.asarray(daily_weight(days), dtype=float)
    return days[rng.choice(len(days), size=n, p=w / w.sum())]


def protest_intensity(params: dict):
    def weight(days: np.ndarray) -> np.ndarray:
        w = np.zeros(len(days))
        for a, b, v in params["segments"]:
            w[(days >= np.datetime64(a)) & (days <= np.datetime64(b))] = v
        for d, mult in params.get("peak_days", {}).items():
            w[days == np.datetime64(d)] *= mult
        return w

    return weight


def weekday_weight(weekend: float):
    def weight(days: np.ndarray) -> np.ndarray:
        dow = (days.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 0 = Monday
        return np.where(dow >= 5, weekend, 1.0)

    return weight


def age_band_of(age: np.ndarray) -> pd.Categorical:
    bands = list(AGE_BANDS)
    edges = [AGE_BANDS[b][0] for b in bands[1:]]
    return pd.Categorical.from_codes(np.searchsorted(edges, age, side="right"), categories=bands)


def ages_from_bands(rng, bands: pd.Categorical) -> np.ndarray:
    lo = np.array([AGE_BANDS[b][0] for b in bands.categories])[bands.codes]
    hi = np.array([AGE_BANDS[b][1] for b in bands.categories])[bands.codes]
    return rng.integers(lo, hi + 1)


# --------------------------------------------------------------------------------------
# names and identifiers
# --------------------------------------------------------------------------------------
def _pick(rng, options: list[str], n: int) -> np.ndarray:
    return np.asarray(options)[rng.integers(0, len(options), size=n)]  # fixed-width: fast


def draw_names(rng, female: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Given names, first and second surname, composed from invented syllables."""
    n = len(female)

    def given() -> np.ndarray:
        end = np.where(female, _pick(rng, _GIVEN_END_F, n), _pick(rng, _GIVEN_END_M, n))
        middle = np.where(rng.random(n) < 0.7, _pick(rng, _GIVEN_MIDDLE, n), "")
        return np.strings.add(np.strings.add(_pick(rng, _GIVEN_START, n), middle), end)

    def surname() -> np.ndarray:
        middle = np.where(rng.random(n) < 0.6, _pick(rng, _SURNAME_MIDDLE, n), "")
        return np.strings.add(
            np.strings.add(_pick(rng, _SURNAME_START, n), middle), _pick(rng, _SURNAME_END, n)
        )

    first = given()
    second = np.where(rng.random(n) < 0.55, np.strings.add(" ", given()), "")
    return np.strings.add(first, second), surname(), surname()


def run_check_digit(body: np.ndarray) -> np.ndarray:
    """Chilean RUN check digit (modulo 11), vectorised; equals stdnum.cl.rut.calc_check_digit."""
    body = np.asarray(body, dtype=np.int64)
    total = np.zeros(len(body), dtype=np.int64)
    rest = body.copy()
    for i in range(12):  # RUN bodies have 8 digits, Fiscalía RUC numbers 10
        total += (rest % 10) * (2 + i % 6)
        rest //= 10
    r = 11 - total % 11
    return np.where(r == 11, "0", np.where(r == 10, "K", r.astype(str))).astype(STR)


def draw_runs(rng, n: int) -> np.ndarray:
    """n distinct RUN bodies from 40,000,000-49,999,999, a range not assigned to natural persons."""
    lo, hi = RUN_RANGE
    if n > hi - lo + 1:
        raise ValueError(
            f"cannot draw {n:,} distinct synthetic RUNs from a range of {hi - lo + 1:,}"
        )
    return lo + rng.choice(hi - lo + 1, size=n, replace=False)


def draw_passports(rng, n: int) -> np.ndarray:
    """n distinct passport numbers 'ZZ' + 7 digits (ZZ: user-assigned ISO code, no issuing State)."""
    if n > 9_000_000:
        raise ValueError(f"cannot draw {n:,} distinct synthetic passport numbers")
    digits = 1_000_000 + rng.choice(9_000_000, size=n, replace=False)
    return np.strings.add(PASSPORT_PREFIX, digits.astype(STR))


# --------------------------------------------------------------------------------------
# persons
# --------------------------------------------------------------------------------------
def draw_persons(
    rng,
    n: int,
    spec: dict,
    sex: pd.Categorical | None = None,
    nationality: pd.Categorical | None = None,
) -> pd.DataFrame:
    """Person attributes; ``sex``/``nationality`` may be given (e.g. drawn per case)."""
    sex = draw_cat(rng, n, spec["sex"]) if sex is None else sex
    sex_arr = np.asarray(sex, dtype=object)
    gender = np.where(sex_arr == "female", "woman", np.where(sex_arr == "male", "man", "other"))
    minority = rng.random(n) < spec.get("gender_minority", 0.0)
    kinds = draw_cat(
        rng, n, spec.get("gender_minority_kinds", {"trans": 0.55, "non_binary": 0.35, "other": 0.1})
    )
    kinds = np.asarray(kinds, dtype=object)
    trans = np.where(sex_arr == "male", "trans_woman", "trans_man")  # identity differs from sex
    gender = np.where(minority, np.where(kinds == "trans", trans, kinds), gender)
    gender = np.where(sex_arr == "intersex", np.where(minority, gender, "other"), gender)

    nat = draw_cat(rng, n, spec["nationality"]) if nationality is None else nationality
    foreign = np.asarray(nat, dtype=object) != "CHL"
    mig = np.asarray(draw_cat(rng, n, spec["migrant_status"]), dtype=object)
    mig = np.where(foreign, mig, "not_migrant")

    disability = np.where(rng.random(n) < spec.get("disability", 0.0), "yes", "no")
    return pd.DataFrame(
        {
            "person_id": np.arange(n, dtype=np.int64),
            "sex": pd.Categorical(sex_arr, categories=canon.vocabulary("sex")),
            "gender_identity": pd.Categorical(
                gender, categories=canon.vocabulary("gender_identity")
            ),
            "nationality": pd.Categorical(np.asarray(nat, dtype=object)),
            "migrant_status": pd.Categorical(mig, categories=canon.vocabulary("migrant_status")),
            "disability": pd.Categorical(disability, categories=["yes", "no"]),
        }
    )


def add_indigenous(rng, persons: pd.DataFrame, region: np.ndarray, spec: dict) -> None:
    base = spec["indigenous_people"]
    values = np.asarray(draw_cat(rng, len(persons), base), dtype=object)
    for code, extra in spec.get("indigenous_by_region", {}).items():
        here = np.flatnonzero(region == code)
        dist = dict(base)
        for k, v in extra.items():
            dist[k] = v
        dist["none"] = max(0.0, 1.0 - sum(v for k, v in dist.items() if k != "none"))
        values[here] = np.asarray(draw_cat(rng, len(here), dist), dtype=object)
    foreign = np.asarray(persons["nationality"], dtype=object) != "CHL"
    values[foreign] = "none"  # the canonical list names Chile's peoples only
    persons["indigenous_people"] = pd.Categorical(
        values, categories=canon.vocabulary("indigenous_people")
    )


def add_identity(rng, persons: pd.DataFrame) -> None:
    """Synthetic names, RUNs (Chileans and part of the migrants) and passports (foreigners)."""
    n = len(persons)
    female = np.asarray(persons["gender_identity"].isin(["woman", "trans_woman"]))
    given, s1, s2 = draw_names(rng, female)
    # object columns: the recording step works on numpy arrays, arrow strings would round-trip
    persons["given_names"] = pd.Series(given.astype(object), dtype=object)
    persons["surname_1"] = pd.Series(s1.astype(object), dtype=object)
    persons["surname_2"] = pd.Series(s2.astype(object), dtype=object)
    mig = np.asarray(persons["migrant_status"], dtype=object)
    p_run = np.select(
        [mig == "not_migrant", mig == "regular", mig == "refugee_or_asylum_seeker"],
        [1.0, 0.8, 0.3],
        default=0.0,
    )
    has_run = rng.random(n) < p_run
    runs = np.full(n, -1, dtype=np.int64)
    runs[has_run] = draw_runs(rng, int(has_run.sum()))
    persons["run"] = pd.Series(pd.array(runs, dtype="Int64")).where(has_run)
    dv = run_check_digit(np.where(has_run, runs, 0))
    persons["run_dv"] = pd.Series(np.where(has_run, dv.astype(object), None), dtype=object)
    foreign = mig != "not_migrant"
    has_pp = foreign & (rng.random(n) < 0.88)
    pp = np.full(n, None, dtype=object)
    pp[has_pp] = draw_passports(rng, int(has_pp.sum())).astype(object)
    persons["passport"] = pd.Series(pp, dtype=object)


def finish_events(rng, events: dict, persons: pd.DataFrame, period_end: str) -> pd.DataFrame:
    """Common event columns: age at the event, band, flags, latent visibility."""
    ev = pd.DataFrame(events)
    ev.insert(0, "event_id", np.arange(len(ev), dtype=np.int64))
    ev["event_date"] = ev["event_date"].astype("datetime64[s]")
    birth = persons["birth_date"].to_numpy().astype("datetime64[D]")[ev["person_id"].to_numpy()]
    days = (ev["event_date"].to_numpy().astype("datetime64[D]") - birth).astype(np.int64)
    ev["age"] = (days // 365.2425).astype(np.int64)
    ev["age_band"] = age_band_of(ev["age"].to_numpy())
    ev["minor"] = ev["age"] < 18
    ev["foreign"] = (
        np.asarray(persons["nationality"], dtype=object)[ev["person_id"].to_numpy()] != "CHL"
    )
    ev["visibility"] = rng.standard_normal(len(ev))
    ev["region_code"] = pd.Categorical(
        np.asarray(ev["region_code"], dtype=object), categories=canon.region_codes()
    )
    ev["year"] = ev["event_date"].dt.year.astype(np.int64)
    assert (ev["event_date"] <= pd.Timestamp(period_end)).all()
    return ev


def set_birth_dates(rng, persons: pd.DataFrame, first_date: np.ndarray, age: np.ndarray) -> None:
    offset = rng.integers(0, 365, size=len(persons))
    years = age.astype("timedelta64[D]") * 365 + (age // 4).astype("timedelta64[D]")
    persons["birth_date"] = (
        first_date.astype("datetime64[D]") - years - offset.astype("timedelta64[D]")
    ).astype("datetime64[D]")


def cases_by_proximity(rng, date: np.ndarray, region: np.ndarray, join: float) -> np.ndarray:
    """Case ids: consecutive events on the same day and region share a case with prob. join."""
    day = np.asarray(date).astype("datetime64[D]").astype(np.int64)
    reg = pd.factorize(np.asarray(region, dtype=object))[0]  # integer codes sort fast
    order = np.lexsort((day, reg))
    d, r = day[order], reg[order]
    same = np.zeros(len(order), dtype=bool)
    if len(order) > 1:
        same[1:] = (d[1:] == d[:-1]) & (r[1:] == r[:-1])
    joined = same & (rng.random(len(order)) < join)
    case_sorted = np.cumsum(~joined) - 1
    case = np.empty(len(order), dtype=np.int64)
    case[order] = case_sorted
    return case


def case_sizes(rng, total: int, spec: dict) -> np.ndarray:
    """Victims per case (1 + negative binomial) until ``total`` victims are placed."""
    sizes = []
    placed = 0
    while placed < total:
        k = max(16, int((total - placed) / 2))
        single = rng.random(k) < spec["single"]
        r = spec["dispersion"]
        extra = rng.negative_binomial(r, r / (r + spec["mean_extra"]), size=k)
        s = np.where(single, 1, 1 + np.maximum(extra, 1))
        cum = placed + np.cumsum(s)
        keep = cum <= total
        sizes.append(s[keep])
        placed = int(cum[keep][-1]) if keep.any() else placed
        if not keep.all() and placed < total:
            sizes.append(np.array([total - placed]))
            placed = total
    return np.concatenate(sizes) if sizes else np.zeros(0, dtype=np.int64)
