"""Recording-quality profiles: which institution records what, how completely and how validly.

The structure of each register comes from its codebook (``data/codebooks/<case_study>/``):
whether a field is recorded, under which name, the unit a row counts, the identifier it
holds, its category labels and the dates its definitions changed. The quality numbers come
from the records themselves:

- **completeness** of a field in one institution's list = rows whose canonical value is
  present / rows of that institution. Only computed where the codebook says the field is
  recorded (a field nobody records is not "0 % complete", it is absent by design).
- **validity** = values that conformed to the codebook (a known label, a date in the declared
  format, a whole number, an identifier with a valid check digit) / non-missing values
  delivered. The non-conforming ones are the quarantined rows whose reasons name the field.

Both are shares over the rows of one institution's list; a share computed over fewer than k
rows is hidden by the disclosure gate before it is shown (:func:`gate_matrix`).

Everything here is one vectorised pass over the records, so profiling a million rows costs
well under a second (``benchmarks/profile.py``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core import canon
from ..core.i18n import check_lang, institution_name, text, unit_label
from ..core.style import institution_style, new_figure, thousands
from ..gate.publish import PublishedTable, publish_table
from ..ingest import codebooks

# Canonical fields profiled, grouped as a reader asks about them: who is it (identifier),
# when, where, what happened, and who the victim is.
FIELD_GROUPS: dict[str, tuple[str, ...]] = {
    "identification": ("person_key",),
    "when": ("event_date", "report_date"),
    "where": ("region_code",),
    "what": ("classification", "perpetrator_type", "procedural_stage"),
    "who": (
        "sex",
        "gender_identity",
        "age",
        "age_band",
        "nationality",
        "migrant_status",
        "indigenous_people",
        "disability",
    ),
}
PROFILE_FIELDS: tuple[str, ...] = tuple(f for group in FIELD_GROUPS.values() for f in group)

# Fields two lists can be compared on when no common identifier exists. An institution that
# records the age has the age band too (ingestion derives it), so both count as "age band".
QUASI_IDENTIFIERS: tuple[str, ...] = ("event_date", "region_code", "sex", "age_band", "nationality")

# The victim attribute each case study turns on, used in the page's lead sentence: who the
# victims are (migrant status) for trafficking; who the aggressor is for femicide and for
# institutional violence.
KEY_FIELD = {
    "trafficking": "migrant_status",
    "attempted_femicide": "perpetrator_type",
    "protest_violence": "perpetrator_type",
}

STATUS_OK = "ok"
STATUS_NOT_RECORDED = "not_recorded"
STATUS_SUPPRESSED = "suppressed"
STATUS_NO_ROWS = "no_rows"  # recorded, but the list has no rows in this selection


# --------------------------------------------------------------------------------------
# structure, from the codebooks
# --------------------------------------------------------------------------------------
def institutions(case_study: str) -> list[str]:
    """Institutions with a codebook for the case study, in a fixed (alphabetical) order."""
    return codebooks.institutions(case_study)


def recording_flags(case_study: str) -> pd.DataFrame:
    """One row per institution × profiled field: recorded (bool), original name and dtype.

    A field a codebook does not describe at all counts as not recorded.
    """
    rows = []
    for inst in institutions(case_study):
        cb = codebooks.get(inst, case_study)
        for f in PROFILE_FIELDS:
            spec = cb.specs.get(f)
            recorded = bool(spec is not None and spec.recorded)
            rows.append(
                {
                    "institution": inst,
                    "field": f,
                    "recorded": recorded,
                    "original_name": spec.original_name if recorded else None,
                    "dtype": spec.dtype if recorded else None,
                }
            )
    return pd.DataFrame(rows)


def units_of_count(case_study: str, lang: str = "es") -> pd.DataFrame:
    """Per institution: the unit one row counts, the identifier it holds and what a row is."""
    check_lang(lang)
    rows = []
    for inst in institutions(case_study):
        cb = codebooks.get(inst, case_study)
        rows.append(
            {
                "institution": inst,
                "unit_of_count": cb.unit_of_count,
                "unit_label": unit_label(cb.unit_of_count, lang),
                "identifier_kind": cb.identifier_kind,
                "what_a_row_is": (cb.notes or {}).get(lang, ""),
            }
        )
    return pd.DataFrame(rows)


def category_scheme(case_study: str, field: str) -> pd.DataFrame:
    """Canonical value × institution -> the institution's original labels for it.

    Rows follow the canonical vocabulary order (values no institution uses are left out);
    labels an institution maps to an explicit missing value appear in a last row whose
    ``canonical_value`` is NA. Cells hold a sorted list of labels; an institution that does
    not record the field has ``None`` in every cell, one that records it but has no label
    for a value has an empty list.
    """
    if field not in codebooks.CATEGORY_FIELDS:
        raise ValueError(
            f"{field!r} is not a category field; choose one of {codebooks.CATEGORY_FIELDS}"
        )
    insts = institutions(case_study)
    if field == "region_code":
        vocab = canon.region_codes()
    elif field == "nationality":
        vocab = []  # open vocabulary (ISO codes): order of first appearance
    else:
        vocab = canon.vocabulary(field, case_study if field == "classification" else None)
    labels: dict[str, dict[object, list[str]]] = {}
    recorded: dict[str, bool] = {}
    for inst in insts:
        spec = codebooks.get(inst, case_study).specs.get(field)
        recorded[inst] = bool(spec is not None and spec.recorded)
        by_value: dict[object, list[str]] = {}
        for label, value in ((spec.values or {}) if recorded[inst] else {}).items():
            by_value.setdefault(value, []).append(label)
        labels[inst] = by_value
    used = {v for by in labels.values() for v in by if v is not None}
    order = [v for v in vocab if v in used] + sorted(used - set(vocab))
    has_missing = any(None in by for by in labels.values())
    values: list[object] = [*order, *([None] if has_missing else [])]
    rows = []
    for value in values:
        row: dict[str, object] = {"canonical_value": value}
        for inst in insts:
            row[inst] = sorted(labels[inst].get(value, [])) if recorded[inst] else None
        rows.append(row)
    out = pd.DataFrame(rows, columns=["canonical_value", *insts])
    out["canonical_value"] = (
        out["canonical_value"].astype(object).where(out["canonical_value"].notna(), None)
    )
    return out


def scheme_differences(scheme: pd.DataFrame) -> pd.DataFrame:
    """Canonical values that two or more institutions record under different labels.

    One row per canonical value with ``n_institutions`` (institutions with a label for it)
    and ``n_labels`` (distinct labels, compared ignoring case and spacing), keeping only
    values with more than one distinct label. Sorted by ``n_labels`` descending.
    """
    insts = [c for c in scheme.columns if c != "canonical_value"]
    rows = []
    for r in scheme.itertuples(index=False):
        value = r[0]
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            continue  # the labels an institution records as "no data"
        cells = {inst: cell for inst, cell in zip(insts, r[1:], strict=True) if cell}
        distinct = {codebooks.normalise_label(label) for cell in cells.values() for label in cell}
        if len(cells) >= 2 and len(distinct) >= 2:
            rows.append(
                {
                    "canonical_value": value,
                    "n_institutions": len(cells),
                    "n_labels": len(distinct),
                    "labels": cells,
                }
            )
    out = pd.DataFrame(rows, columns=["canonical_value", "n_institutions", "n_labels", "labels"])
    return out.sort_values(
        ["n_labels", "n_institutions"], ascending=False, kind="stable"
    ).reset_index(drop=True)


def definition_changes(case_study: str, lang: str = "es") -> pd.DataFrame:
    """Every definitional change the codebooks declare: date, institution, field, note."""
    check_lang(lang)
    rows = [
        {
            "date": pd.Timestamp(ch["date"]),
            "institution": cb.institution,
            "field": ch["field"],
            "note": ch["note"][lang],
        }
        for cb in codebooks.all_codebooks(case_study)
        for ch in cb.definition_changes
    ]
    out = pd.DataFrame(rows, columns=["date", "institution", "field", "note"])
    out["date"] = pd.to_datetime(out["date"])
    return out.sort_values(["date", "institution"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# identifiers and linkage
# --------------------------------------------------------------------------------------
def _has_quasi_identifier(recorded: dict[str, bool], qi: str) -> bool:
    if qi == "age_band":
        return recorded.get("age_band", False) or recorded.get("age", False)
    return recorded.get(qi, False)


def linkage_pairs(case_study: str) -> pd.DataFrame:
    """Every pair of institutions and how their lists can be linked.

    ``method`` is ``exact`` when both hold the same kind of identifier (the keyed hash of
    the same normalised RUN or passport number is the same key in both lists) and
    ``probabilistic`` otherwise: the lists can only be compared on the quasi-identifiers
    both record (``shared_quasi_identifiers``), with the errors that implies.
    """
    flags = recording_flags(case_study)
    rec = {
        inst: dict(zip(g["field"], g["recorded"], strict=True))
        for inst, g in flags.groupby("institution", sort=False)
    }
    kinds = {i: codebooks.get(i, case_study).identifier_kind for i in institutions(case_study)}
    rows = []
    for a, b in itertools.combinations(institutions(case_study), 2):
        exact = kinds[a] == kinds[b] and kinds[a] != "none"
        shared = [
            qi
            for qi in QUASI_IDENTIFIERS
            if _has_quasi_identifier(rec[a], qi) and _has_quasi_identifier(rec[b], qi)
        ]
        rows.append(
            {
                "institution_a": a,
                "institution_b": b,
                "identifier_a": kinds[a],
                "identifier_b": kinds[b],
                "method": "exact" if exact else "probabilistic",
                "key_kind": kinds[a] if exact else None,
                "shared_quasi_identifiers": shared,
            }
        )
    return pd.DataFrame(rows)


def identifiers(case_study: str, matrix: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per institution: identifier kind, the institutions it can link to exactly, and how
    complete its key is (from ``matrix``, the recording matrix, when given)."""
    pairs = linkage_pairs(case_study)
    rows = []
    for inst in institutions(case_study):
        kind = codebooks.get(inst, case_study).identifier_kind
        exact = pairs[
            (pairs["method"] == "exact")
            & ((pairs["institution_a"] == inst) | (pairs["institution_b"] == inst))
        ]
        partners = sorted(set(exact["institution_a"]).union(exact["institution_b"]) - {inst})
        rows.append({"institution": inst, "identifier_kind": kind, "exact_partners": partners})
    out = pd.DataFrame(rows)
    if matrix is not None:
        key = matrix[matrix["field"] == "person_key"].set_index("institution")
        out["key_completeness"] = out["institution"].map(key["completeness"])
        out["key_status"] = out["institution"].map(key["status"])
    return out


# --------------------------------------------------------------------------------------
# quality, from the records
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Inputs:
    """What a page reads: accepted records, quarantined rows and how many rows were read."""

    source: str
    records: pd.DataFrame
    quarantine: pd.DataFrame
    n_read: int

    @property
    def n_quarantined(self) -> int:
        return len(self.quarantine)


def load_inputs(case_study: str, source: str = "synthetic", institutions=None) -> Inputs:
    """``dj.load`` and ``dj.quarantine`` for a page. Ingestion's warning about quarantined
    rows is not repeated as a warning in the page: the page reports the same rows itself,
    as validity per field and in :func:`quarantine_sentence`."""
    import warnings

    from ..ingest import loading

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*rows quarantined.*")
        records = loading.load(case_study, source, institutions)
        quarantine = loading.quarantine(case_study, source, institutions)
    n_read = sum(i["n_read"] for i in records.attrs.get("ingestion", []))
    return Inputs(source, records, quarantine, n_read or len(records) + len(quarantine))


def data_source_line(source: str, lang: str = "es") -> str:
    """'Fuente: datos sintéticos (generador Data Justa, semilla 2019)' or the private data."""
    import json

    from ..core.paths import synthetic_dir

    check_lang(lang)
    if source == "synthetic":
        meta = synthetic_dir() / "metadata.json"
        seed = (
            json.loads(meta.read_text(encoding="utf-8")).get("seed", "?") if meta.is_file() else "?"
        )
        return text("source_line_synthetic", lang, seed=seed)
    return text("rp_source_private", lang)


def quarantine_sentence(inputs: Inputs, lang: str = "es", *, k: int | None = None) -> str:
    """How many rows were read and how many were set aside, with where to find them. The
    two numbers pass the disclosure gate first (rows accepted and quarantined, with the rows
    read as their total): a quarantine of fewer than k rows is not given as a number."""
    from ..gate.publish import gate_counts

    check_lang(lang)
    accepted = inputs.n_read - inputs.n_quarantined
    g = gate_counts(
        pd.Series([accepted, inputs.n_quarantined], index=["accepted", "quarantined"]),
        name="rows_read",
        k=k,
    )
    read = g.totals["grand"]
    quarantined = g.visible["quarantined"]
    if inputs.n_quarantined == 0:
        return text("rp_quarantine_none", lang, n=thousands(read, lang))
    if np.isnan(quarantined):
        return text("rp_quarantine_few", lang, n=thousands(read, lang), k=g.k)
    return text(
        "rp_quarantine",
        lang,
        n=thousands(read, lang),
        q=thousands(quarantined, lang),
        pct=pct(quarantined / read, lang, 1),
    )


def completeness(records: pd.DataFrame, fields: tuple[str, ...] = PROFILE_FIELDS) -> pd.DataFrame:
    """Rows and rows with a present value, per institution × field.

    One factorisation of the institution column, then one ``bincount`` per field: linear in
    the rows, no per-row Python and no copy of the table.
    """
    cols = [f for f in fields if f in records.columns]
    codes, insts = pd.factorize(records["institution"], sort=True)
    k = len(insts)
    n_rows = np.bincount(codes, minlength=k)
    present = {
        f: np.bincount(codes, weights=records[f].notna().to_numpy(), minlength=k) for f in cols
    }
    long = pd.DataFrame(
        {
            "institution": np.repeat(np.asarray(insts, dtype=object), len(cols)),
            "field": np.tile(np.asarray(cols, dtype=object), k),
            "n_rows": np.repeat(n_rows, len(cols)).astype("int64"),
            "n_present": np.column_stack([present[f] for f in cols]).ravel().astype("int64")
            if cols
            else np.zeros(0, dtype="int64"),
        }
    )
    return long


_FIELD_IN_LABEL = re.compile(r"\(([a-z_]+)\)")


def field_failures(failures: pd.DataFrame, institution: str | None = None) -> pd.DataFrame:
    """Harmonisation failures (``file, row, column, rule, value``) as one row per quarantined
    row × canonical field it failed on: ``institution, field, row_id, rule``.

    Columns are labelled by harmonisation as ``ORIGINAL_NAME (field)``; a cross-field rule
    names two (``FECHA_HECHO (event_date), FECHA_INGRESO (report_date)``) and counts against
    both. Failures that are not about a value (the record id, a missing or unknown column,
    an unparseable line) are left out: they say nothing about a field's validity.
    ``institution`` is used when ``failures`` has no institution column.
    """
    cols = ["institution", "field", "row_id", "rule"]
    if failures is None or failures.empty:
        return pd.DataFrame(columns=cols)
    f = failures[failures["row"].notna() & failures["column"].notna()]
    if "institution" in f.columns:
        inst = f["institution"]
    elif institution is not None:
        inst = pd.Series(institution, index=f.index)
    else:
        raise ValueError("failures without an institution column need institution=")
    fields = f["column"].astype(str).str.findall(_FIELD_IN_LABEL.pattern)
    out = pd.DataFrame(
        {
            "institution": inst.to_numpy(),
            "field": fields.to_numpy(),
            "row_id": (
                f["file"].astype(str) + ":" + pd.to_numeric(f["row"]).astype("Int64").astype(str)
            ).to_numpy(),
            "rule": f["rule"].astype(str).to_numpy(),
        }
    ).explode("field")
    out = out[out["field"].isin(PROFILE_FIELDS)]
    return out[cols].reset_index(drop=True)


def quarantine_failures(quarantine: pd.DataFrame) -> pd.DataFrame:
    """The same as :func:`field_failures`, read from ``dj.quarantine(...)``: each rejected
    row's ``reasons`` are ``LABEL: rule (value)`` joined by ``; `` and each label names the
    canonical field(s) in brackets."""
    cols = ["institution", "field", "row_id", "rule"]
    if quarantine is None or quarantine.empty:
        return pd.DataFrame(columns=cols)
    q = quarantine[quarantine["reasons"].notna()]
    pieces = q["reasons"].astype(str).str.split("; ").explode()
    parts = pieces.str.extract(r"^(?P<label>[^:]*?): (?P<rule>[a-z_]+)")
    row_id = q["source_file"].astype(str) + ":" + q["source_row"].astype("Int64").astype(str)
    out = pd.DataFrame(
        {
            "institution": q["institution"].reindex(parts.index).to_numpy(),
            "field": _fields_named(parts["label"]),
            "row_id": row_id.reindex(parts.index).to_numpy(),
            "rule": parts["rule"].to_numpy(),
        }
    ).explode("field")
    out = out[out["field"].isin(PROFILE_FIELDS)]
    return out[cols].reset_index(drop=True)


def _fields_named(labels: pd.Series) -> np.ndarray:
    """The canonical fields each column label names, parsed once per distinct label."""
    codes, uniques = pd.factorize(labels.fillna(""))
    parsed = [_FIELD_IN_LABEL.findall(str(u)) for u in uniques]
    out = np.empty(len(codes), dtype=object)
    for i, c in enumerate(codes):
        out[i] = parsed[c]
    return out


def invalid_counts(failures: pd.DataFrame) -> pd.DataFrame:
    """Non-conforming values per institution × field from a table of field failures.

    ``failures`` has one row per (quarantined row, field, rule) with at least the columns
    ``institution``, ``field`` and a row identity ``row_id`` (any column that identifies
    the quarantined row, e.g. ``source_file`` + ``source_row``). A row with two failures on
    the same field counts once.
    """
    if failures.empty:
        return pd.DataFrame({"institution": [], "field": [], "n_invalid": []}).astype(
            {"n_invalid": "int64"}
        )
    per = failures.drop_duplicates(["institution", "field", "row_id"])
    out = per.groupby(["institution", "field"], sort=True).size().rename("n_invalid").reset_index()
    return out.astype({"n_invalid": "int64"})


def recording_matrix(
    case_study: str,
    records: pd.DataFrame | None = None,
    failures: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The recording matrix in long form: institution × field.

    Columns: ``recorded`` (codebook), ``n_rows`` (rows of the institution's list),
    ``n_present``, ``completeness`` (share, NA where not recorded), ``n_invalid``,
    ``n_checked`` (non-missing values delivered = present + invalid), ``validity`` (share,
    NA where nothing was delivered) and ``status`` (``ok`` or ``not_recorded``). Without
    records only the structural columns are filled.

    Quarantined rows are not in ``records``: a list's ``n_rows`` counts the accepted rows,
    and a quarantined row counts against validity only for the field its reason names.
    """
    flags = recording_flags(case_study)
    out = flags.copy()
    if records is not None:
        comp = completeness(records)
        out = out.merge(comp, on=["institution", "field"], how="left")
        n_rows = comp.drop_duplicates("institution").set_index("institution")["n_rows"]
        out["n_rows"] = out["institution"].map(n_rows).fillna(0).astype("int64")
        out["n_present"] = out["n_present"].fillna(0).astype("int64")
        inv = invalid_counts(
            failures
            if failures is not None
            else pd.DataFrame(columns=["institution", "field", "row_id"])
        )
        out = out.merge(inv, on=["institution", "field"], how="left")
        out["n_invalid"] = out["n_invalid"].fillna(0).astype("int64")
        out["n_checked"] = out["n_present"] + out["n_invalid"]
        rec = out["recorded"]
        with np.errstate(invalid="ignore", divide="ignore"):
            out["completeness"] = (out["n_present"] / out["n_rows"]).where(
                rec & (out["n_rows"] > 0)
            )
            out["validity"] = (out["n_present"] / out["n_checked"]).where(
                rec & (out["n_checked"] > 0)
            )
    out["status"] = np.where(out["recorded"], STATUS_OK, STATUS_NOT_RECORDED)
    if records is not None:
        out.loc[out["recorded"] & (out["n_rows"] == 0), "status"] = STATUS_NO_ROWS
    return out


# --------------------------------------------------------------------------------------
# disclosure: shares over fewer than k rows are hidden
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GatedMatrix:
    """The recording matrix after the disclosure gate.

    ``frame``: the long matrix the chart and the text use, with ``completeness`` /
    ``validity`` NA where hidden, ``status`` = ``suppressed`` where an institution's list is
    too small and ``validity_hidden`` where too few values were checked; the counts behind
    the shares are dropped. ``completeness`` and ``validity`` are the two published tables
    (kind ``estimates``) the chart is drawn from and that the page offers for download.
    """

    frame: pd.DataFrame
    completeness: PublishedTable
    validity: PublishedTable

    @property
    def tables(self) -> list[PublishedTable]:
        return [self.completeness, self.validity]


def _share_pct(share) -> float:
    """A share as the percentage the chart writes and the table publishes: whole numbers,
    except that nothing short of all is shown as 100 and nothing above none as 0
    (0.998 -> 99.8, 0.0004 -> 0.1), so a near-perfect field never reads as perfect."""
    if share is None or pd.isna(share):
        return np.nan
    value = float(np.round(100 * share))
    if value == 100 and share < 1:
        return float(np.floor(1000 * share) / 10)
    if value == 0 and share > 0:
        return float(np.ceil(1000 * share) / 10)
    return value


def gate_matrix(
    matrix: pd.DataFrame, case_study: str, lang: str = "es", *, k: int | None = None
) -> GatedMatrix:
    """Hide completeness computed over fewer than k rows and validity over fewer than k
    values, with the gate's rule for statistics from records (kind ``estimates``).

    Completeness is published as one row per institution (its list size is the record count
    behind every share in the row, so the gate sees each size once); validity as one row per
    institution × recorded field with the number of values checked. The gate hides the rows
    resting on fewer than k records and, as for any table of counts, complementary rows so
    that a hidden size cannot be worked out from a total.
    """
    from ..gate.disclosure import SUPPRESSED

    check_lang(lang)
    m = matrix.reset_index(drop=True)
    insts = list(dict.fromkeys(m["institution"]))
    fields = [f for f in PROFILE_FIELDS if f in set(m["field"])]
    rows_col = text("rp_rows_col", lang)
    inst_col = text("institution", lang)
    field_col = text("rp_field", lang)
    shares = m.pivot(index="institution", columns="field", values="completeness").loc[insts, fields]
    sizes = m.drop_duplicates("institution").set_index("institution")["n_rows"].loc[insts]
    wide = pd.DataFrame(
        {inst_col: [short(i) for i in insts], rows_col: sizes.astype("int64").to_numpy()}
    )
    for f in fields:
        wide[field_label(f, lang)] = [_share_pct(v) for v in shares[f]]
    completeness = publish_table(
        wide, name=f"{case_study}_recording_completeness", kind="estimates", observed=rows_col, k=k
    )
    hidden_inst = {
        i for i, v in zip(insts, completeness.table[rows_col], strict=True) if v == SUPPRESSED
    }

    rec = m[m["recorded"]].reset_index(drop=True)
    checked_col = text("rp_values_checked_col", lang)
    long = pd.DataFrame(
        {
            inst_col: rec["institution"].map(short),
            field_col: rec["field"].map(lambda f: field_label(f, lang)),
            checked_col: rec["n_checked"].astype("int64"),
            text("rp_validity", lang): [
                np.nan if i in hidden_inst else _share_pct(v)
                for i, v in zip(rec["institution"], rec["validity"], strict=True)
            ],
        }
    )
    validity = publish_table(
        long, name=f"{case_study}_recording_validity", kind="estimates", observed=checked_col, k=k
    )
    hidden_pairs = {
        (i, f)
        for i, f, v in zip(
            rec["institution"], rec["field"], validity.table[checked_col], strict=True
        )
        if v == SUPPRESSED
    }

    out = m.copy()
    hide_c = out["institution"].isin(hidden_inst)
    hide_v = pd.Series(
        [(i, f) in hidden_pairs for i, f in zip(out["institution"], out["field"], strict=True)],
        index=out.index,
    )
    out.loc[hide_c, "completeness"] = np.nan
    out.loc[hide_c | hide_v, "validity"] = np.nan
    out["validity_hidden"] = (hide_c | hide_v) & out["recorded"]
    out.loc[hide_c & out["recorded"], "status"] = STATUS_SUPPRESSED
    out = out.drop(columns=["n_present", "n_invalid", "n_checked", "n_rows"])
    return GatedMatrix(out, completeness, validity)


# --------------------------------------------------------------------------------------
# text: numbers, labels, findings
# --------------------------------------------------------------------------------------
def pct(share: float, lang: str = "es", digits: int | None = None) -> str:
    """0.973 -> '97 %' (es) / '97%' (en); 0.998 -> '99,8 %' (never '100 %' short of all);
    NA -> '—'. ``digits`` forces a number of decimals."""
    if share is None or pd.isna(share):
        return "—"
    if digits is None:
        v = _share_pct(share)
        value = f"{v:.0f}" if v == int(v) else f"{v:.1f}"
    else:
        value = f"{100 * share:.{digits}f}"
    return f"{value.replace('.', ',')} %" if lang == "es" else f"{value}%"


def field_label(field: str, lang: str = "es") -> str:
    return text(f"field_{field}", lang)


def value_label(field: str, value, lang: str = "es") -> str:
    """A canonical value in words ('sin valor' for an explicit missing)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return text("rp_mapped_to_missing", lang)
    if field == "region_code":
        names = dict(zip(canon.regions()["code"], canon.regions()["name"], strict=True))
        return names.get(value, value)
    if field == "nationality":
        return value
    return text(f"value_{field}_{value}", lang)


def short(inst: str) -> str:
    return institution_name(inst, short=True)


def _join(items: list[str], lang: str) -> str:
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    conj = " y " if lang == "es" else " and "
    return ", ".join(items[:-1]) + conj + items[-1]


def _range_phrase(matrix: pd.DataFrame, field: str, lang: str) -> str:
    """', from 40 % (X) to 98 % (Y) complete' over the institutions whose share is shown."""
    if "completeness" not in matrix.columns:
        return ""
    shown = matrix[(matrix["field"] == field) & matrix["completeness"].notna()]
    if len(shown) < 2:
        return ""
    shown = shown.sort_values(["completeness", "institution"])
    lo, hi = shown.iloc[0], shown.iloc[-1]
    return text(
        "rp_completeness_range",
        lang,
        lo=pct(lo["completeness"], lang),
        who_lo=short(lo["institution"]),
        hi=pct(hi["completeness"], lang),
        who_hi=short(hi["institution"]),
    )


def _key_field_sentence(case_study: str, matrix: pd.DataFrame, lang: str) -> str:
    key = KEY_FIELD[case_study]
    insts = institutions(case_study)
    rows = matrix[matrix["field"] == key]
    rec = rows[rows["recorded"]]["institution"].tolist()
    not_rec = rows[~rows["recorded"]]["institution"].tolist()
    field = field_label(key, lang).lower()
    if not rec:
        return text("rp_lead_key_none", lang, total=len(insts), field=field)
    if not not_rec:
        return text(
            "rp_lead_key_all",
            lang,
            total=len(insts),
            field=field,
            range=_range_phrase(matrix, key, lang),
        )
    return text(
        "rp_lead_key_some",
        lang,
        n=len(rec),
        total=len(insts),
        field=field,
        who=_join([short(i) for i in rec], lang),
        others=_join([short(i) for i in not_rec], lang),
    )


def _linkage_sentence(case_study: str, matrix: pd.DataFrame, lang: str) -> str:
    ids = identifiers(case_study, matrix if "completeness" in matrix.columns else None)
    linkable = ids[ids["exact_partners"].map(len) > 0]
    none = ids[ids["identifier_kind"] == "none"]["institution"].tolist()
    parts = []
    if len(linkable) == len(ids):
        kinds = sorted(set(linkable["identifier_kind"]))
        parts.append(
            text(
                "rp_lead_linkable_all",
                lang,
                kind=_join([text(f"rp_identifier_{k}", lang) for k in kinds], lang),
            )
        )
    elif len(linkable):
        parts.append(
            text(
                "rp_lead_linkable",
                lang,
                n=len(linkable),
                total=len(ids),
                who=_join([short(i) for i in linkable["institution"]], lang),
            )
        )
    else:
        parts.append(text("rp_lead_no_linkable", lang))
    if "key_completeness" in ids.columns:
        holes = linkable.dropna(subset=["key_completeness"]).sort_values(
            ["key_completeness", "institution"]
        )
        if len(holes) and holes.iloc[0]["key_completeness"] < 1:
            worst = holes.iloc[0]
            parts.append(
                text(
                    "rp_lead_key_missing",
                    lang,
                    pct=pct(1 - worst["key_completeness"], lang),
                    who=short(worst["institution"]),
                )
            )
    if len(none) == 1:
        parts.append(text("rp_lead_no_identifier_one", lang, who=short(none[0])))
    elif none:
        parts.append(
            text("rp_lead_no_identifier_many", lang, who=_join([short(i) for i in none], lang))
        )
    return " ".join(parts)


def lead_finding(case_study: str, matrix: pd.DataFrame, lang: str = "es") -> str:
    """The page's first sentences: who records the case study's key attribute (and how
    completely, when records are profiled), who can link exactly, who holds no identifier."""
    check_lang(lang)
    from ..ingest.codebook_status import qualifier

    said = f"{_key_field_sentence(case_study, matrix, lang)} {_linkage_sentence(case_study, matrix, lang)}"
    return f"{qualifier(codebooks.all_codebooks(case_study), lang)} {said}"


def completeness_finding(matrix: pd.DataFrame, lang: str = "es") -> str:
    """Fields every institution records, fields nobody records, the least complete shown."""
    check_lang(lang)
    insts = matrix["institution"].unique()
    by_field = matrix.groupby("field", sort=False)["recorded"].sum()
    everywhere = [f for f in PROFILE_FIELDS if by_field.get(f, 0) == len(insts)]
    # the age band is derived at ingestion wherever the age is recorded: not a gap
    nowhere = [
        f
        for f in PROFILE_FIELDS
        if by_field.get(f, 0) == 0 and not (f == "age_band" and by_field.get("age", 0) > 0)
    ]
    parts = [
        text(
            "rp_fields_everywhere",
            lang,
            n=len(everywhere),
            total=len(PROFILE_FIELDS),
            fields=_join([field_label(f, lang).lower() for f in everywhere], lang) or "—",
        )
    ]
    if nowhere:
        parts.append(
            text(
                "rp_fields_nowhere",
                lang,
                fields=_join([field_label(f, lang).lower() for f in nowhere], lang),
            )
        )
    if "completeness" in matrix.columns:
        shown = matrix.dropna(subset=["completeness"])
        if len(shown):
            worst = shown.sort_values(["completeness", "institution", "field"]).iloc[0]
            parts.append(
                text(
                    "rp_least_complete",
                    lang,
                    field=field_label(worst["field"], lang).lower(),
                    who=short(worst["institution"]),
                    pct=pct(worst["completeness"], lang),
                )
            )
    return " ".join(parts)


def units_finding(units: pd.DataFrame, lang: str = "es") -> str:
    """'The N institutions count in M different units: ...'."""
    groups = units.groupby("unit_of_count", sort=True)["institution"].apply(list)
    listing = "; ".join(
        f"{unit_label(u, lang)}: {_join([short(i) for i in insts], lang)}"
        for u, insts in groups.items()
    )
    return text("rp_units_finding", lang, n=len(units), m=len(groups), listing=listing)


def scheme_finding(case_study: str, field: str, scheme: pd.DataFrame, lang: str = "es") -> str:
    """The sharpest example of one category written differently by different institutions."""
    check_lang(lang)
    diffs = scheme_differences(scheme)
    recorders = [c for c in scheme.columns if c != "canonical_value" and scheme[c].notna().all()]
    name = field_label(field, lang).lower()
    if not recorders:
        return text("rp_scheme_nobody", lang, field=name)
    if len(recorders) == 1:
        return text("rp_scheme_one", lang, field=name, who=short(recorders[0]))
    if diffs.empty:
        return text("rp_scheme_same", lang, field=name, n=len(recorders))
    top = diffs.iloc[0]
    spelled: dict[str, list[str]] = {}  # normalised label -> institutions writing it
    first: dict[str, str] = {}
    for inst, labels in top["labels"].items():
        for label in labels[:1]:
            key = codebooks.normalise_label(label)
            first.setdefault(key, label)
            spelled.setdefault(key, []).append(short(inst))
    examples = [f"«{first[key]}» ({_join(who, lang)})" for key, who in list(spelled.items())[:4]]
    return text(
        "rp_scheme_finding",
        lang,
        field=name,
        n=len(recorders),
        k=len(diffs),
        value=value_label(field, top["canonical_value"], lang),
        examples=_join(examples, lang),
    )


def linkage_finding(case_study: str, lang: str = "es") -> str:
    check_lang(lang)
    pairs = linkage_pairs(case_study)
    exact = pairs[pairs["method"] == "exact"]
    if exact.empty:
        return text("rp_linkage_none_exact", lang, total=len(pairs))
    if len(exact) == len(pairs):
        kinds = sorted(set(exact["key_kind"]))
        return text(
            "rp_linkage_all_exact",
            lang,
            total=len(pairs),
            kind=_join([text(f"rp_identifier_{k}", lang) for k in kinds], lang),
        )
    listing = _join(
        [f"{short(r.institution_a)}–{short(r.institution_b)}" for r in exact.itertuples()], lang
    )
    return text("rp_linkage_finding", lang, n=len(exact), total=len(pairs), listing=listing)


def changes_finding(changes: pd.DataFrame, lang: str = "es") -> str:
    if changes.empty:
        return text("rp_changes_none", lang)
    dates = changes["date"].dt.strftime("%d-%m-%Y" if lang == "es" else "%Y-%m-%d")
    return text(
        "rp_changes_finding",
        lang,
        n=len(changes),
        n_dates=changes["date"].nunique(),
        first=dates.iloc[0],
        last=dates.iloc[-1],
    )


# --------------------------------------------------------------------------------------
# tables for display (labels in the page's language)
# --------------------------------------------------------------------------------------
def units_table(units: pd.DataFrame, lang: str = "es") -> pd.DataFrame:
    return pd.DataFrame(
        {
            text("institution", lang): units["institution"].map(short),
            text("rp_unit_of_count", lang): units["unit_label"],
            text("rp_identifier", lang): units["identifier_kind"].map(
                lambda k: text(f"rp_identifier_{k}", lang)
            ),
            text("rp_what_a_row_is", lang): units["what_a_row_is"],
        }
    )


def scheme_table(scheme: pd.DataFrame, field: str, lang: str = "es") -> pd.DataFrame:
    """The side-by-side scheme with labels joined and the canonical value in words."""
    insts = [c for c in scheme.columns if c != "canonical_value"]

    def cell(labels):
        if labels is None:
            return text("rp_not_recorded", lang)
        return " · ".join(labels) if labels else "—"

    out = pd.DataFrame(
        {
            text("rp_canonical_value", lang): [
                value_label(field, v, lang) for v in scheme["canonical_value"]
            ]
        }
    )
    for inst in insts:
        out[short(inst)] = scheme[inst].map(cell)
    return out


def changes_table(changes: pd.DataFrame, lang: str = "es") -> pd.DataFrame:
    fmt = "%d-%m-%Y" if lang == "es" else "%Y-%m-%d"
    return pd.DataFrame(
        {
            "#": range(1, len(changes) + 1),
            text("rp_date", lang): changes["date"].dt.strftime(fmt),
            text("institution", lang): changes["institution"].map(short),
            text("rp_field", lang): changes["field"].map(lambda f: field_label(f, lang)),
            text("rp_what_changed", lang): changes["note"],
        }
    )


def identifiers_table(ids: pd.DataFrame, lang: str = "es") -> pd.DataFrame:
    out = pd.DataFrame(
        {
            text("institution", lang): ids["institution"].map(short),
            text("rp_identifier", lang): ids["identifier_kind"].map(
                lambda k: text(f"rp_identifier_{k}", lang)
            ),
            text("rp_exact_partners", lang): ids["exact_partners"].map(
                lambda p: ", ".join(short(i) for i in p) if p else text("rp_none", lang)
            ),
        }
    )
    if "key_completeness" in ids.columns:
        out[text("rp_key_completeness", lang)] = [
            text("rp_not_recorded", lang)
            if st == STATUS_NOT_RECORDED
            else text("rp_suppressed", lang)
            if st == STATUS_SUPPRESSED
            else pct(c, lang)
            for c, st in zip(ids["key_completeness"], ids["key_status"], strict=True)
        ]
    return out


def linkage_table(pairs: pd.DataFrame, lang: str = "es") -> pd.DataFrame:
    return pd.DataFrame(
        {
            text("rp_pair", lang): [
                f"{short(a)} – {short(b)}"
                for a, b in zip(pairs["institution_a"], pairs["institution_b"], strict=True)
            ],
            text("rp_method", lang): [
                text("rp_method_exact", lang, kind=text(f"rp_identifier_short_{k}", lang))
                if m == "exact"
                else text("rp_method_probabilistic", lang)
                for m, k in zip(pairs["method"], pairs["key_kind"], strict=True)
            ],
            text("rp_shared_quasi_identifiers", lang): pairs["shared_quasi_identifiers"].map(
                lambda qs: (
                    ", ".join(field_label(q, lang).lower() for q in qs)
                    if qs
                    else text("rp_none", lang)
                )
            ),
        }
    )


# --------------------------------------------------------------------------------------
# charts
# --------------------------------------------------------------------------------------
_NOT_RECORDED_FACE = "#f2f2f2"
_SUPPRESSED_FACE = "#e6e6e6"


# Completeness bands: most registers are 80-100 % complete, so the bands are finer at the
# top, where the differences that matter for analysis lie.
SHADE_BANDS = (0.5, 0.75, 0.9, 0.97)
_SHADES = ("#f0f6fb", "#d3e5f2", "#a6cde6", "#2f7fb6", "#1b4f80")


def _shade(share: float) -> tuple[str, str]:
    """Face and text colour for a completeness share: light to dark blue in 5 bands, the
    written number keeping enough contrast (dark text on light, white on dark)."""
    i = int(np.searchsorted(SHADE_BANDS, share, side="right"))
    return _SHADES[i], ("white" if i >= 3 else "black")


def plot_recording_matrix(gated: pd.DataFrame, case_study: str, lang: str = "es"):
    """Institutions × fields. Each recorded cell shows completeness (large) and validity
    (small); a field not recorded is a hatched grey cell with a dash, a hidden share says
    so. The shade repeats the completeness number, so nothing depends on colour."""
    check_lang(lang)
    insts = list(dict.fromkeys(gated["institution"]))
    fields = [f for f in PROFILE_FIELDS if f in set(gated["field"])]
    cells = gated.set_index(["institution", "field"])
    n_i, n_f = len(insts), len(fields)
    has_quality = "completeness" in gated.columns
    fig, ax = new_figure(width=max(8.5, 0.78 * n_f + 2.6), height=0.62 * n_i + 2.4)
    for yi, inst in enumerate(insts):
        for xi, f in enumerate(fields):
            c = cells.loc[(inst, f)]
            if c["status"] == STATUS_NOT_RECORDED:
                face, fg, hatch = _NOT_RECORDED_FACE, "#555555", "////"
                main, sub = "—", ""
            elif not has_quality:
                face, fg, hatch = "#9ecae1", "black", None
                main, sub = "✓", ""
            elif c["status"] == STATUS_SUPPRESSED:
                face, fg, hatch = _SUPPRESSED_FACE, "black", "...."
                main, sub = text("rp_suppressed_short", lang), ""
            elif c["status"] == STATUS_NO_ROWS:
                face, fg, hatch = "white", "#555555", None
                main, sub = text("rp_no_rows", lang), ""
            else:
                face, fg = _shade(c["completeness"])
                hatch = None
                main = pct(c["completeness"], lang)
                sub = (
                    text("rp_suppressed_short", lang)
                    if c.get("validity_hidden", False)
                    else pct(c["validity"], lang)
                )
                sub = f"v {sub}"
            ax.add_patch(_rect(xi, yi, face, hatch))
            ax.text(
                xi,
                yi - (0.12 if sub else 0),
                main,
                ha="center",
                va="center",
                color=fg,
                fontsize=9,
                fontweight="bold",
            )
            if sub:
                ax.text(xi, yi + 0.24, sub, ha="center", va="center", color=fg, fontsize=7)
    ax.set_xlim(-0.5, n_f - 0.5)
    ax.set_ylim(n_i - 0.5, -0.5)
    ax.set_xticks(range(n_f), [field_label(f, lang) for f in fields], rotation=40, ha="right")
    ax.set_yticks(range(n_i), [short(i) for i in insts])
    ax.tick_params(length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    # colour-free markers of groups: thin separators between field groups
    edge = 0
    for group in FIELD_GROUPS.values():
        edge += sum(1 for f in group if f in fields)
        if 0 < edge < n_f:
            ax.axvline(edge - 0.5, color="#444444", linewidth=1.2)
    ax.set_title(text("rp_matrix_title", lang, case_study=canon.case_study_label(case_study, lang)))
    ax.set_xlabel(text("rp_matrix_xlabel", lang))
    ax.set_ylabel(text("rp_matrix_ylabel", lang))
    fig.text(
        0.0,
        -0.02,
        text("rp_matrix_key" if has_quality else "rp_matrix_key_structure", lang),
        fontsize=8.5,
        ha="left",
        va="top",
        wrap=True,
    )
    return fig


def _rect(x: float, y: float, face: str, hatch: str | None):
    from matplotlib.patches import Rectangle

    return Rectangle(
        (x - 0.5, y - 0.5),
        1,
        1,
        facecolor=face,
        edgecolor="white",
        linewidth=1.5,
        hatch=hatch,
        hatchcolor="#b0b0b0",
    )


def matrix_alt(gated: pd.DataFrame, case_study: str, lang: str = "es") -> str:
    """Alt text: per institution, how many fields it records and its least complete one."""
    check_lang(lang)
    parts = []
    for inst, g in gated.groupby("institution", sort=False):
        recorded = g[g["recorded"]]
        missing = g[~g["recorded"]]["field"].map(lambda f: field_label(f, lang).lower()).tolist()
        piece = text(
            "rp_alt_institution",
            lang,
            who=short(inst),
            n=len(recorded),
            total=len(g),
            missing=_join(missing, lang) or "—",
        )
        if "completeness" in g.columns and recorded["completeness"].notna().any():
            worst = (
                recorded.dropna(subset=["completeness"])
                .sort_values("completeness", kind="stable")
                .iloc[0]
            )
            piece += " " + text(
                "rp_alt_worst",
                lang,
                field=field_label(worst["field"], lang).lower(),
                pct=pct(worst["completeness"], lang),
            )
        elif (recorded["status"] == STATUS_SUPPRESSED).any():
            piece += " " + text("rp_alt_suppressed", lang)
        elif (recorded["status"] == STATUS_NO_ROWS).any():
            piece += " " + text("rp_alt_no_rows", lang)
        parts.append(piece)
    title = text("rp_matrix_title", lang, case_study=canon.case_study_label(case_study, lang))
    return f"{title}. " + " ".join(parts) + " " + text("rp_alt_table_below", lang)


def plot_definition_changes(changes: pd.DataFrame, case_study: str, lang: str = "es"):
    """A timeline: one row per institution, one numbered marker per definitional change
    (numbers refer to the table below), the case study's period shaded."""
    check_lang(lang)
    insts = institutions(case_study)
    fig, ax = new_figure(width=9.5, height=0.55 * len(insts) + 2.2)
    period = canon.canonical()["case_studies"][case_study]["period"]
    start = pd.Timestamp(period["start"])
    end = pd.Timestamp(period["end"]) if period.get("end") else None
    dates = list(changes["date"]) + [start] + ([end] if end is not None else [])
    lo = min(dates) - pd.Timedelta(days=365)
    hi = max(dates + [pd.Timestamp.now().normalize()]) + pd.Timedelta(days=120)
    if end is None:
        end = hi
    ax.axvspan(start, end, facecolor="#f3f3f3", zorder=0, linewidth=0)
    ax.annotate(
        text("rp_period_of_interest", lang),
        (start, -0.75),
        xytext=(4, 0),
        textcoords="offset points",
        fontsize=8.5,
        va="center",
        annotation_clip=False,
    )
    for y in range(len(insts)):
        ax.hlines(y, lo, hi, color="#cccccc", linewidth=1, zorder=1)
    y_of = {inst: y for y, inst in enumerate(insts)}
    for n, row in enumerate(changes.itertuples(), start=1):
        st = institution_style(row.institution)
        y = y_of[row.institution]
        ax.plot(
            row.date, y, linestyle="none", markersize=11, markeredgecolor="white", zorder=3, **st
        )
        ax.annotate(
            str(n),
            (row.date, y),
            xytext=(0, 9),
            textcoords="offset points",
            ha="center",
            fontsize=9,
            fontweight="bold",
        )
    ax.set_yticks(range(len(insts)), [short(i) for i in insts])
    ax.set_ylim(len(insts) - 0.4, -1.1)
    ax.set_xlim(lo, hi)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(text("rp_timeline_xlabel", lang))
    ax.set_title(
        text("rp_timeline_title", lang, case_study=canon.case_study_label(case_study, lang))
    )
    return fig


def changes_alt(changes: pd.DataFrame, case_study: str, lang: str = "es") -> str:
    fmt = "%d-%m-%Y" if lang == "es" else "%Y-%m-%d"
    items = [
        f"{n}. {row.date.strftime(fmt)}, {short(row.institution)}, {field_label(row.field, lang).lower()}"
        for n, row in enumerate(changes.itertuples(), start=1)
    ]
    title = text("rp_timeline_title", lang, case_study=canon.case_study_label(case_study, lang))
    body = "; ".join(items) if items else text("rp_changes_none", lang)
    return f"{title}. {body}."


def plot_linkage(case_study: str, lang: str = "es"):
    """Institution × institution: E (exact, shared key kind) or the number of shared
    quasi-identifiers for probabilistic linkage; written in every cell."""
    check_lang(lang)
    insts = institutions(case_study)
    pairs = linkage_pairs(case_study)
    n = len(insts)
    fig, ax = new_figure(width=0.9 * n + 3.2, height=0.75 * n + 2.0)
    idx = {inst: i for i, inst in enumerate(insts)}
    for r in pairs.itertuples():
        for a, b in ((r.institution_a, r.institution_b), (r.institution_b, r.institution_a)):
            x, y = idx[b], idx[a]
            if r.method == "exact":
                kind = text(f"rp_identifier_short_{r.key_kind}", lang)
                face, hatch, label, fg = (
                    "#1b5d94",
                    None,
                    text("rp_cell_exact", lang, kind=kind),
                    "white",
                )
            else:
                face, hatch, label, fg = (
                    "#f2f2f2",
                    "////",
                    text("rp_cell_probabilistic", lang, n=len(r.shared_quasi_identifiers)),
                    "black",
                )
            ax.add_patch(_rect(x, y, face, hatch))
            ax.text(x, y, label, ha="center", va="center", fontsize=8, color=fg, fontweight="bold")
    for i in range(n):
        ax.add_patch(_rect(i, i, "white", None))
        ax.text(i, i, "·", ha="center", va="center", color="#999999")
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xticks(range(n), [short(i) for i in insts], rotation=30, ha="right")
    ax.set_yticks(range(n), [short(i) for i in insts])
    ax.tick_params(length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(text("rp_linkage_title", lang))
    ax.set_xlabel(text("rp_linkage_axis", lang))
    ax.set_ylabel(text("rp_linkage_axis", lang))
    fig.text(0.0, -0.02, text("rp_linkage_key", lang), fontsize=8.5, ha="left", va="top", wrap=True)
    return fig


def linkage_alt(case_study: str, lang: str = "es") -> str:
    return f"{text('rp_linkage_title', lang)}. {linkage_finding(case_study, lang)}"


def codebook_source_line(case_study: str, lang: str = "es") -> str:
    """The source line of tables read from the codebooks, with the codebooks' status."""
    from ..ingest.codebook_status import source_clause

    line = text("rp_source_codebooks", lang, case_study=case_study)
    return f"{line} {source_clause(codebooks.all_codebooks(case_study), lang)}"


# --------------------------------------------------------------------------------------
# the page: titles, source lines, what is published with each figure
# --------------------------------------------------------------------------------------
# Category fields shown side by side, in this order, when at least two institutions record
# them: what happened, who did it, where the case stands, who the victim is.
SCHEME_FIELDS = ("classification", "perpetrator_type", "procedural_stage", "sex", "migrant_status")


def page_title(case_study: str, lang: str = "es") -> str:
    return text("rp_page_title", lang, case_study=canon.case_study_label(case_study, lang))


def scheme_fields(case_study: str) -> list[str]:
    """The fields of :data:`SCHEME_FIELDS` at least two institutions record."""
    flags = recording_flags(case_study)
    n = flags[flags["recorded"]].groupby("field").size()
    return [f for f in SCHEME_FIELDS if n.get(f, 0) >= 2]


def codebook_origin(case_study: str) -> str:
    return f"data/codebooks/{case_study}"


def matrix_source_line(source: str, case_study: str, lang: str = "es") -> str:
    return text(
        "rp_source_records",
        lang,
        data=data_source_line(source, lang).split(": ", 1)[-1],
        case_study=case_study,
    )


def publish_changes(changes: pd.DataFrame, case_study: str, lang: str = "es") -> PublishedTable:
    """The numbered definitional changes, published with the timeline as its data."""
    return publish_table(
        changes_table(changes, lang),
        name=f"{case_study}_definition_changes",
        kind="metadata",
        origin=codebook_origin(case_study),
    )


def changes_markdown(changes: pd.DataFrame, lang: str = "es") -> str:
    """The numbered list under the timeline: date, institution, field and what changed."""
    if changes.empty:
        return text("rp_changes_none", lang)
    t = changes_table(changes, lang)
    return "\n".join(
        f"{r[0]}. **{r[1]}**, {r[2]}, {r[3].lower()}: {r[4]}" for r in t.itertuples(index=False)
    )


def publish_linkage(case_study: str, lang: str = "es") -> PublishedTable:
    """Every pair of institutions and how they can be linked, published with the chart."""
    return publish_table(
        linkage_table(linkage_pairs(case_study), lang),
        name=f"{case_study}_linkage_pairs",
        kind="metadata",
        origin=codebook_origin(case_study),
    )
