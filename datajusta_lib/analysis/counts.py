"""The counts behind the case-study pages: volumes, regions, victim profiles, funnels.

Pure functions on canonical records (``contracts.RecordModel`` columns). Three rules hold
throughout, because the pages exist to show how institutions differ:

- **Units are never added.** Each institution counts in its own unit (``unit_of_count`` in its
  codebook: persons, cases, offences...). Every table here is per institution and carries
  the unit; nothing sums across institutions.
- **Nothing missing is hidden or imputed.** A field an institution does not record at all
  (its codebook says ``recorded: false``) is the category :data:`NOT_RECORDED`; a field it
  records but left empty in a row is :data:`MISSING`. Both are shown, never dropped.
- **Counts leave this module ungated.** They go through the disclosure gate
  (``gate.publish.gate_counts``) before a page shows them; the chart functions in
  ``analysis/charts.py`` draw only gated values, and :func:`funnel` works on gated stage counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
import yaml

from ..core import canon, contracts
from ..core.paths import data_dir
from ..ingest import codebooks

MISSING = "missing"  # recorded by the institution, empty in this record
NOT_RECORDED = "not_recorded"  # the institution does not record this field at all
OTHER = "others_grouped"  # categories grouped for display (not the canonical value "other")
UNDATED = "undated"

# The procedural funnel: a record that reached a stage also passed every earlier one.
STAGES = ("complaint", "investigation", "formalisation", "judicial_exit", "conviction")
NON_JUDICIAL_EXIT = "non_judicial_exit"  # a separate exit, not a stage of the funnel
STAGE_COUNT_ORDER = (*STAGES, NON_JUDICIAL_EXIT, MISSING)

PROFILE_FIELDS = contracts.PROFILE_FIELDS
CHILE = "CHL"
FREQUENCIES = ("week", "month", "quarter", "year")
_PERIOD_CODE = {"week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}

# Macro-zones used when regional counts are too small to publish region by region. A
# grouping of this project (north to south, contiguous regions), not an official division.
MACRO_ZONES = {
    "north": ("15", "01", "02", "03", "04"),
    "centre": ("05", "13", "06", "07"),
    "south": ("16", "08", "09", "14", "10"),
    "far_south": ("11", "12"),
}

# Coarse groupings for profiles whose fine categories would mostly be suppressed.
COARSE = {
    "age_band": {
        "0-13": "minor",
        "14-17": "minor",
        "18-29": "adult",
        "30-44": "adult",
        "45-59": "adult",
        "60+": "adult",
    },
    "gender_identity": {
        "woman": "cisgender",
        "man": "cisgender",
        "trans_woman": "trans_or_non_binary",
        "trans_man": "trans_or_non_binary",
        "non_binary": "trans_or_non_binary",
        "other": "trans_or_non_binary",
    },
    "migrant_status": {
        "not_migrant": "not_migrant",
        "regular": "regular",
        "irregular": "irregular_or_refugee",
        "refugee_or_asylum_seeker": "irregular_or_refugee",
    },
    "indigenous_people": {"none": "none"},  # every named people -> "indigenous"
    "nationality": {CHILE: CHILE},  # every other country -> "foreign"
}
_COARSE_DEFAULT = {"indigenous_people": "indigenous", "nationality": "foreign"}
COARSE_ORDER = {
    "age_band": ["minor", "adult"],
    "gender_identity": ["cisgender", "trans_or_non_binary"],
    "migrant_status": ["not_migrant", "regular", "irregular_or_refugee"],
    "indigenous_people": ["none", "indigenous"],
    "nationality": [CHILE, "foreign"],
}
SMALL_SHARE = 0.25  # coarsen when more than this share of non-zero cells would be hidden


# ------------------------------------------------------------------------- institutions
@dataclass(frozen=True)
class InstitutionInfo:
    """What a page needs from an institution's codebook."""

    institution: str
    unit: str
    recorded: frozenset[str]
    definition_changes: tuple[dict, ...] = ()
    # canonical values the codebook can map to, per category field (empty: not known)
    possible: Mapping[str, frozenset] = field(default_factory=dict)

    @property
    def date_basis(self) -> str | None:
        """The date that places a record in time: the event date, else the report date."""
        for col in ("event_date", "report_date"):
            if col in self.recorded:
                return col
        return None

    def records(self, field_name: str) -> bool:
        if field_name == "age_band":  # an age band is computed from the age when needed
            return bool({"age_band", "age"} & self.recorded)
        return field_name in self.recorded


def institution_info(case_study: str, institutions: Iterable[str] | None = None) -> dict:
    """``{institution: InstitutionInfo}`` from the codebooks of ``case_study``."""
    names = list(institutions) if institutions else codebooks.institutions(case_study)
    out = {}
    for inst in names:
        cb = codebooks.get(inst, case_study)
        out[inst] = InstitutionInfo(
            institution=inst,
            unit=cb.unit_of_count,
            recorded=frozenset(cb.recorded),
            definition_changes=tuple(cb.definition_changes),
            possible={
                name: frozenset(v for v in spec.values.values() if v is not None)
                for name, spec in cb.recorded.items()
                if spec.values
            },
        )
    return out


# ---------------------------------------------------------------------------- selection
@dataclass(frozen=True)
class Selection:
    """The records a page shows, and what was left out on the way."""

    case_study: str
    institutions: tuple[str, ...]
    start: pd.Timestamp
    end: pd.Timestamp
    region: str | None
    records: pd.DataFrame = field(repr=False)
    undated: dict = field(default_factory=dict)  # institution -> records without a usable date
    outside_region: dict = field(default_factory=dict)  # region filter: records elsewhere or blank

    @property
    def span_days(self) -> int:
        return int((self.end - self.start).days) + 1


def select(
    records: pd.DataFrame,
    case_study: str,
    info: Mapping[str, InstitutionInfo],
    *,
    institutions: Sequence[str] | None = None,
    period_start=None,
    period_end=None,
    region: str | None = None,
) -> Selection:
    """Records of ``case_study`` for a page, each placed in time by its institution's date.

    ``date`` (added) is the event date where the institution records it, else the report
    date. Records without that date cannot be placed in a period and are left out, counted
    per institution in ``undated`` (within the region, when one is chosen). The period
    defaults to the case study's period (``data/canonical.yaml``), narrowed to the years
    the records cover (from 1 January of the first record's year; an open end becomes the
    last record). With a ``region`` (official two-digit code), records of the
    period from other regions or without a region are left out and counted in
    ``outside_region``.
    """
    cs = canon.canonical()["case_studies"][case_study]["period"]
    df = records[records["case_study"] == case_study]
    wanted = list(institutions) if institutions else list(info)
    unknown = [i for i in wanted if i not in info]
    if unknown:
        raise ValueError(f"no codebook information for {unknown} in {case_study!r}")
    df = df[df["institution"].isin(wanted)].copy()
    basis = df["institution"].map({i: info[i].date_basis for i in wanted})
    date = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    for col in ("event_date", "report_date"):
        use = basis == col
        date[use] = pd.to_datetime(df.loc[use, col])
    df["date"] = date
    if region is not None and str(region) not in canon.region_codes():
        raise ValueError(f"unknown region {region!r}; official codes: {canon.region_codes()}")
    in_region = (
        (df["region_code"] == str(region)).fillna(False).astype(bool)
        if region is not None
        else pd.Series(True, index=df.index)
    )
    undated = df.loc[df["date"].isna() & in_region, "institution"].value_counts().to_dict()
    dated = df["date"].notna()
    if period_start is not None:
        start = pd.Timestamp(period_start)
    else:  # the case study's start, or 1 January of the first record's year if later
        start = pd.Timestamp(cs["start"])
        if dated.any():
            first = df.loc[dated, "date"].min()
            start = max(start, pd.Timestamp(year=first.year, month=1, day=1))
    end_param = period_end if period_end is not None else cs["end"]
    if end_param is not None:
        end = pd.Timestamp(end_param)
    elif dated.any():
        end = df.loc[dated, "date"].max().normalize()
    else:
        end = start
    if end < start:
        raise ValueError(f"period_end {end.date()} is before period_start {start.date()}")
    in_period = dated & (df["date"] >= start) & (df["date"] < end + pd.Timedelta(days=1))
    outside = df.loc[in_period & ~in_region, "institution"].value_counts().to_dict()
    df = df[in_period & in_region]
    return Selection(
        case_study=case_study,
        institutions=tuple(i for i in wanted),
        start=start,
        end=end,
        region=None if region is None else str(region),
        records=df.reset_index(drop=True),
        undated={i: int(undated.get(i, 0)) for i in wanted},
        outside_region={i: int(outside.get(i, 0)) for i in wanted} if region else {},
    )


# ------------------------------------------------------------------------------ volumes
def period_index(start: pd.Timestamp, end: pd.Timestamp, freq: str) -> pd.PeriodIndex:
    if freq not in FREQUENCIES:
        raise ValueError(f"freq must be one of {FREQUENCIES}, got {freq!r}")
    return pd.period_range(start, end, freq=_PERIOD_CODE[freq])


def period_label(period: pd.Period, freq: str) -> str:
    """A short, sortable label: 2019-W43 (ISO week), 2019-10, 2019-Q4, 2019."""
    if freq == "week":
        iso = period.start_time.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if freq == "month":
        return period.strftime("%Y-%m")
    if freq == "quarter":
        return f"{period.year}-Q{period.quarter}"
    return str(period.year)


def volumes(
    sel: Selection, info: Mapping[str, InstitutionInfo], freq: str, by: str | None = None
) -> pd.DataFrame:
    """Records per institution and period, in each institution's unit of count.

    One row per institution × period (× ``by`` category, e.g. classification) from the
    first to the last period of the selection, zeros included: a period without records
    is a count of 0, not a gap. ``partial`` marks the first/last period when the selection
    covers only part of it (its count is not comparable with full periods).
    Columns: institution, unit, [by], period, period_start, partial, n.
    """
    periods = period_index(sel.start, sel.end, freq)
    labels = [period_label(p, freq) for p in periods]
    starts = [p.start_time for p in periods]
    partial = [bool(p.start_time < sel.start or p.end_time.normalize() > sel.end) for p in periods]
    df = sel.records
    rows = []
    for inst in sel.institutions:
        d = df[df["institution"] == inst]
        keys = d["date"].dt.to_period(_PERIOD_CODE[freq])
        if by is None:
            groups = [(None, keys)]
        else:
            values = d[by].astype("object").where(d[by].notna(), MISSING)
            cats = _ordered_present(values, by, sel.case_study)
            groups = [(c, keys[values == c]) for c in cats]
        for cat, k in groups:
            counts = k.value_counts()
            for per, label, st, part in zip(periods, labels, starts, partial, strict=True):
                row = {"institution": inst, "unit": info[inst].unit}
                if by is not None:
                    row[by] = cat
                row.update(period=label, period_start=st, partial=part, n=int(counts.get(per, 0)))
                rows.append(row)
    cols = ["institution", "unit", *([by] if by else []), "period", "period_start", "partial", "n"]
    return pd.DataFrame(rows, columns=cols).astype({"n": "int64"})


def _ordered_present(values: pd.Series, field_name: str, case_study: str) -> list:
    """Categories present in ``values``: canonical vocabulary order, then the rest, missing last."""
    try:
        vocab = canon.vocabulary(field_name, case_study)
    except KeyError:
        vocab = []
    present = set(values.unique())
    head = [v for v in vocab if v in present]
    rest = sorted(present - set(head) - {MISSING, OTHER})
    tail = [v for v in (OTHER, MISSING) if v in present]
    return head + rest + tail


def small_share(counts: Iterable[int], k: int) -> float:
    """Share of the non-zero cells that hold fewer than ``k`` (would be suppressed)."""
    arr = np.asarray(list(counts), dtype=float)
    nonzero = arr[arr > 0]
    if nonzero.size == 0:
        return 0.0
    return float((nonzero < k).mean())


def choose_frequency(
    sel: Selection, info: Mapping[str, InstitutionInfo], k: int, freq: str | None = None
) -> str:
    """The finest of week/month/quarter/year that suits the span and survives the gate.

    Start from the span (up to 200 days: weeks; up to 3 years: months; else years) and move
    to coarser periods while more than :data:`SMALL_SHARE` of the non-zero cells would hold
    fewer than ``k`` records. ``freq`` given: used as is.
    """
    if freq is not None:
        if freq not in FREQUENCIES:
            raise ValueError(f"freq must be one of {FREQUENCIES}, got {freq!r}")
        return freq
    days = sel.span_days
    start = "week" if days <= 200 else "month" if days <= 3 * 366 else "year"
    candidates = list(FREQUENCIES[FREQUENCIES.index(start) :])
    for cand in candidates:
        v = volumes(sel, info, cand)
        if small_share(v["n"], k) <= SMALL_SHARE:
            return cand
    return candidates[-1]


def counts_series(long: pd.DataFrame, institution: str, key: str, **where) -> pd.Series:
    """The counts of one institution as a Series indexed by ``key`` (input order kept)."""
    d = long[long["institution"] == institution]
    for col, value in where.items():
        d = d[d[col] == value]
    return pd.Series(d["n"].to_numpy(), index=pd.Index(d[key].to_list(), name=key), name="n")


# ------------------------------------------------------------------------------ regions
def zone_of(region_code: str) -> str:
    for zone, codes in MACRO_ZONES.items():
        if region_code in codes:
            return zone
    raise KeyError(f"region {region_code!r} is in no macro-zone")


def by_region(
    sel: Selection, info: Mapping[str, InstitutionInfo], level: str = "region"
) -> pd.DataFrame:
    """Records per institution and region (or macro-zone), north to south.

    ``level``: ``region`` (the 16 regions, official order north to south) or ``zone``
    (:data:`MACRO_ZONES`). Every area appears for every institution (zeros included), then
    :data:`MISSING` (region recorded but blank). An institution that does not record the
    region has one row :data:`NOT_RECORDED` holding all its records.
    Columns: institution, unit, area, n.
    """
    if level == "region":
        areas = canon.region_codes()
        to_area = {c: c for c in areas}
    elif level == "zone":
        areas = list(MACRO_ZONES)
        to_area = {c: zone_of(c) for c in canon.region_codes()}
    else:
        raise ValueError(f"level must be 'region' or 'zone', got {level!r}")
    rows = []
    for inst in sel.institutions:
        d = sel.records[sel.records["institution"] == inst]
        unit = info[inst].unit
        if not info[inst].records("region_code"):
            rows.append({"institution": inst, "unit": unit, "area": NOT_RECORDED, "n": len(d)})
            continue
        area = d["region_code"].map(to_area)
        counts = area.value_counts()
        for a in areas:
            rows.append({"institution": inst, "unit": unit, "area": a, "n": int(counts.get(a, 0))})
        rows.append(
            {"institution": inst, "unit": unit, "area": MISSING, "n": int(area.isna().sum())}
        )
    return pd.DataFrame(rows, columns=["institution", "unit", "area", "n"]).astype({"n": "int64"})


def choose_region_level(sel: Selection, info: Mapping[str, InstitutionInfo], k: int) -> str:
    """``region`` unless more than :data:`SMALL_SHARE` of the non-zero regional cells would
    be suppressed, then ``zone``."""
    share = small_share(by_region(sel, info, "region").query("area != @NOT_RECORDED")["n"], k)
    return "region" if share <= SMALL_SHARE else "zone"


# ------------------------------------------------------------------------------ profile
AGE_BINS = [0, 14, 18, 30, 45, 60, np.inf]
AGE_LABELS = ["0-13", "14-17", "18-29", "30-44", "45-59", "60+"]


def age_bands(df: pd.DataFrame) -> pd.Series:
    """The recorded age band, or the band of the recorded age when no band was recorded.

    This is a computation, not an imputation: an age of 34 is in the band 30-44. Records
    with neither stay missing.
    """
    band = df["age_band"].astype("object")
    age = pd.to_numeric(df["age"], errors="coerce")
    from_age = pd.cut(age, AGE_BINS, right=False, labels=AGE_LABELS).astype("object")
    return band.where(band.notna(), from_age)


def _field_values(d: pd.DataFrame, field_name: str) -> pd.Series:
    if field_name == "age_band":
        return age_bands(d)
    return d[field_name].astype("object")


def coarse_value(field_name: str, value) -> object:
    if pd.isna(value) or value in (MISSING, NOT_RECORDED):
        return value
    mapping = COARSE.get(field_name)
    if mapping is None:
        return value
    return mapping.get(value, _COARSE_DEFAULT.get(field_name, value))


def profile(
    sel: Selection,
    info: Mapping[str, InstitutionInfo],
    field_name: str,
    *,
    coarse: bool = False,
    top: int | None = None,
) -> pd.DataFrame:
    """The distribution of one victim attribute as each institution records it.

    Categories come in canonical order (``data/canonical.yaml``), then :data:`OTHER` (the
    categories beyond the ``top`` most frequent over all institutions, e.g. for
    nationality), then :data:`MISSING` (recorded field left empty). An institution whose
    codebook does not record the field has a single row :data:`NOT_RECORDED` holding all
    its records, so its share of "not recorded" is 100 %. ``coarse`` groups categories
    (:data:`COARSE`): minors/adults, Chilean/foreign, and so on. Ages are put in bands
    (:func:`age_bands`). Columns: institution, unit, category, n.
    """
    recording = [i for i in sel.institutions if info[i].records(field_name)]
    d = sel.records[sel.records["institution"].isin(recording)]
    values = _field_values(d, field_name)
    if coarse:
        values = values.map(lambda v: coarse_value(field_name, v))
    values = values.where(values.notna(), MISSING)
    if top is not None:
        ranked = values[values != MISSING].value_counts()
        keep = set(ranked.index[:top])
        values = values.where(values.isin(keep | {MISSING}), OTHER)
    if coarse and field_name in COARSE_ORDER:
        cats = [*COARSE_ORDER[field_name], *([OTHER] if OTHER in set(values) else []), MISSING]
    else:
        possible = set().union(*(info[i].possible.get(field_name, ()) for i in recording))
        cats = _profile_categories(values, field_name, sel.case_study, possible)
    rows = []
    for inst in sel.institutions:
        unit = info[inst].unit
        if inst not in recording:
            n = int((sel.records["institution"] == inst).sum())
            rows.append({"institution": inst, "unit": unit, "category": NOT_RECORDED, "n": n})
            continue
        counts = values[d["institution"] == inst].value_counts()
        for c in cats:
            rows.append(
                {"institution": inst, "unit": unit, "category": c, "n": int(counts.get(c, 0))}
            )
    return pd.DataFrame(rows, columns=["institution", "unit", "category", "n"]).astype(
        {"n": "int64"}
    )


def _profile_categories(
    values: pd.Series, field_name: str, case_study: str, possible: set | None = None
) -> list:
    """Every canonical category some institution on the page can record (zeros shown: a
    possible category nobody is in is informative; one no codebook maps to is left out),
    then any other value present, then OTHER and MISSING."""
    try:
        vocab = canon.vocabulary(field_name, case_study)
    except KeyError:
        vocab = []
    if field_name == "age_band":
        vocab = AGE_LABELS
    elif possible:
        present_values = set(values.unique())
        vocab = [v for v in vocab if v in possible or v in present_values]
    present = set(values.unique())
    if field_name == "nationality":  # no closed vocabulary: Chile first, then by frequency
        ranked = [v for v in values.value_counts().index if v not in (MISSING, OTHER, CHILE)]
        head = ([CHILE] if CHILE in present else []) + ranked
    else:
        head = list(vocab) + sorted(present - set(vocab) - {MISSING, OTHER})
    return head + [OTHER] * (OTHER in present) + [MISSING]


def choose_coarse(
    sel: Selection, info: Mapping[str, InstitutionInfo], field_name: str, k: int, top=None
) -> bool:
    """Coarsen a profile when more than :data:`SMALL_SHARE` of its non-zero cells (all
    institutions recording it) would be suppressed and the field has a coarse grouping."""
    if field_name not in COARSE:
        return False
    fine = profile(sel, info, field_name, top=top)
    fine = fine[fine["category"] != NOT_RECORDED]
    return small_share(fine["n"], k) > SMALL_SHARE


# ------------------------------------------------------------------------------- funnel
def stage_counts(sel: Selection, info: Mapping[str, InstitutionInfo]) -> pd.DataFrame:
    """Records per institution by furthest procedural stage recorded (disjoint counts).

    Only institutions whose codebook records ``procedural_stage``. Categories in order:
    :data:`STAGES`, :data:`NON_JUDICIAL_EXIT`, :data:`MISSING`; zeros included. These counts
    add up to the institution's records, so they can pass the disclosure gate as one
    table; :func:`funnel` then derives the cumulative funnel from the gated counts.
    Columns: institution, unit, stage, n.
    """
    rows = []
    for inst in sel.institutions:
        if not info[inst].records("procedural_stage"):
            continue
        d = sel.records.loc[sel.records["institution"] == inst, "procedural_stage"]
        counts = d.astype("object").where(d.notna(), MISSING).value_counts()
        for s in STAGE_COUNT_ORDER:
            rows.append(
                {
                    "institution": inst,
                    "unit": info[inst].unit,
                    "stage": s,
                    "n": int(counts.get(s, 0)),
                }
            )
    return pd.DataFrame(rows, columns=["institution", "unit", "stage", "n"]).astype({"n": "int64"})


def funnel(stage_n: Mapping[str, float], k: int | None = None) -> pd.DataFrame:
    """The attrition funnel from disjoint counts by furthest stage (gated or not).

    Definition: a record *reaches* a stage when its furthest recorded stage is that stage or
    a later one in :data:`STAGES` (complaint → investigation → formalisation → judicial
    exit → conviction; a conviction is a judicial exit). The first step counts every record
    with a recorded stage: each entered as a complaint, including those closed without a
    judicial decision (:data:`NON_JUDICIAL_EXIT`: archivo provisional, decisión de no
    perseverar...). Those are shown as a separate exit, not a stage: how far they got
    before closing is not recorded, so they count only in the first step. Records without
    a stage (:data:`MISSING`) are outside the funnel and reported beside it.

    ``stage_n`` maps each of :data:`STAGE_COUNT_ORDER` to a count, or NaN when the gate
    hid it. A step is known when every disjoint count it adds up is visible, or, given the
    known total, when every count it excludes is. With ``k``, a step worked out this way
    that lands between 1 and k-1 is hidden too (a small group must not appear by
    subtraction). Returns columns step, n (NaN when not
    known), share_of_first (n / first step), in the order of the funnel, then the exit and
    the missing count (share_of_first NaN for missing).
    """
    v = {s: _num(stage_n.get(s, 0)) for s in STAGE_COUNT_ORDER}
    total = _num(stage_n.get("Total", np.nan))
    if np.isnan(total):
        total = _sum(list(v.values()))
    staged = [*STAGES, NON_JUDICIAL_EXIT]
    first = total - v[MISSING] if not np.isnan(total - v[MISSING]) else _sum([v[s] for s in staged])
    steps = []
    for i, s in enumerate(STAGES):
        if i == 0:
            n = first
        else:
            inside = [v[t] for t in STAGES[i:]]
            outside = [v[t] for t in STAGES[:i]] + [v[NON_JUDICIAL_EXIT]]
            n = _sum(inside)
            if np.isnan(n) and not np.isnan(first):
                rest = _sum(outside)
                n = first - rest if not np.isnan(rest) else np.nan
        if k is not None and 1 <= n <= k - 1:
            n = np.nan
        steps.append((s, n))
    steps += [(NON_JUDICIAL_EXIT, v[NON_JUDICIAL_EXIT]), (MISSING, v[MISSING])]
    out = pd.DataFrame(steps, columns=["step", "n"])
    out["share_of_first"] = out["n"] / first if first and not np.isnan(first) else np.nan
    out.loc[out["step"] == MISSING, "share_of_first"] = np.nan
    return out


def _num(value) -> float:
    return np.nan if value is None or pd.isna(value) else float(value)


def _sum(values: list[float]) -> float:
    return float(np.nan) if any(np.isnan(x) for x in values) else float(sum(values))


# ----------------------------------------------------------------- published comparison
@cache
def _comparisons() -> dict:
    with open(data_dir() / "analysis" / "published_comparisons.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def comparable_figures(case_study: str) -> list[dict]:
    """Published figures that count what an institution's records count (one dict per
    figure: figure, institution, where, date, period, note)."""
    out = []
    for entry in _comparisons().get(case_study, []) or []:
        for fig in entry["figures"]:
            out.append(
                {
                    "figure": fig,
                    "institution": entry["institution"],
                    "where": entry.get("where") or {},
                    "date": entry.get("date"),
                    "period": entry.get("period"),
                    "note": entry.get("note") or {},
                }
            )
    return out


_COMPARISON_COLUMNS = [
    "figure",
    "published_institution",
    "metric",
    "published_value",
    "published_unit",
    "period_start",
    "period_end",
    "as_of",
    "source_url",
    "institution",
    "unit",
    "n",
]


def published_comparison(
    records: pd.DataFrame,
    case_study: str,
    info: Mapping[str, InstitutionInfo],
    figures: pd.DataFrame,
    *,
    comparisons: list[dict] | None = None,
    institutions: Sequence[str] | None = None,
    period_start=None,
    period_end=None,
) -> pd.DataFrame:
    """Each published figure beside the count of the records that correspond to it.

    For every figure listed in ``data/analysis/published_comparisons.yaml`` (or
    ``comparisons``) whose institution is on the page and whose period overlaps the page's
    period: the records of that institution matching its ``where`` filter with a date (the
    entry's ``date``, else the institution's date basis) inside the figure's own period,
    counted in the institution's unit (an entry's ``period`` replaces the figure's period
    for the records, when the figure's period is not the one its events fall in, e.g. a
    programme's activity period). The published value keeps its unit, source address
    and publication date. National figures only: the page's region filter does not apply.
    Columns: figure, published_institution, metric, published_value, published_unit,
    period_start, period_end, as_of, source_url, institution, unit, n.
    """
    entries = comparable_figures(case_study) if comparisons is None else comparisons
    by_id = figures.set_index("id")
    lo = pd.Timestamp(period_start) if period_start is not None else None
    hi = pd.Timestamp(period_end) if period_end is not None else None
    rows = []
    recs = records[records["case_study"] == case_study]
    for e in entries:
        inst = e["institution"]
        if inst not in info or (institutions and inst not in institutions):
            continue
        if e["figure"] not in by_id.index:
            raise KeyError(f"comparison names figure {e['figure']!r}, not in the published figures")
        fig = by_id.loc[e["figure"]]
        if (lo is not None and fig["period_end"] < lo) or (
            hi is not None and fig["period_start"] > hi
        ):
            continue
        n = _records_matching_figure(recs[recs["institution"] == inst], e, fig, info[inst])
        rows.append(
            {
                "figure": e["figure"],
                "published_institution": fig["institution"],
                "metric": fig["metric"],
                "published_value": float(fig["value"]),
                "published_unit": fig["unit"],
                "period_start": fig["period_start"],
                "period_end": fig["period_end"],
                "as_of": fig["as_of"],
                "source_url": fig["source_url"],
                "institution": inst,
                "unit": info[inst].unit,
                "n": n,
            }
        )
    return pd.DataFrame(rows, columns=_COMPARISON_COLUMNS)


def _records_matching_figure(d: pd.DataFrame, e: dict, fig: pd.Series, inst: InstitutionInfo):
    """How many of one institution's records match the entry's ``where`` filter with a date
    (the entry's ``date``, else the date basis) in the entry's ``period``, else the figure's."""
    for col, allowed in e["where"].items():
        d = d[d[col].isin(allowed)]
    date_col = e["date"] or inst.date_basis
    dates = pd.to_datetime(d[date_col])
    lo_rec, hi_rec = (
        (pd.Timestamp(e["period"][0]), pd.Timestamp(e["period"][1]))
        if e.get("period")
        else (fig["period_start"], fig["period_end"])
    )
    inside = (dates >= lo_rec) & (dates < hi_rec + pd.Timedelta(days=1))
    return int(inside.sum())


# ----------------------------------------------------------------- definition changes
def definition_changes(
    info: Mapping[str, InstitutionInfo],
    institutions: Sequence[str],
    field_name: str = "classification",
) -> pd.DataFrame:
    """Dated changes of definition of a field, from the codebooks, one row per date.

    Columns: date, institutions (tuple), note_es, note_en (the first institution's note).
    """
    rows: dict = {}
    for inst in institutions:
        for ch in info[inst].definition_changes:
            if ch.get("field") != field_name or ch.get("date") is None:
                continue
            d = pd.Timestamp(ch["date"])
            entry = rows.setdefault(d, {"date": d, "institutions": [], "note": ch["note"]})
            entry["institutions"].append(inst)
    out = [
        {
            "date": r["date"],
            "institutions": tuple(r["institutions"]),
            "note_es": r["note"]["es"],
            "note_en": r["note"]["en"],
        }
        for r in sorted(rows.values(), key=lambda r: r["date"])
    ]
    return pd.DataFrame(out, columns=["date", "institutions", "note_es", "note_en"])
