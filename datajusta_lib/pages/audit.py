"""The data justice audit of a case study, institution by institution.

Everything here is computed from the codebooks (``data/codebooks``), the records (``dj.load``),
the team's statement of purpose (``data/audit/purposes.yaml``), the sensitivity rules
(``data/audit/sensitivity.yaml``), the disclosure gate's configuration and, where it exists,
the rendered site (during a render, the new site: the audit renders after the other pages).
Nothing is asserted: when a codebook does not say whether consent was
given, the audit says "not recorded" -- that is the finding.

Each ``*_table`` function returns a table ready for ``dj.show_table`` (labels in the page's
language) together with the gate it must pass; the raw functions return language-neutral
frames and are what the tests check. ``checklist`` gathers the evidence into the
accountability checklist.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..core.i18n import institution_name, text
from ..core.paths import data_dir, site_dir, synthetic_dir
from ..gate import disclosure as dc
from ..gate.publish import PublishedTable, gate_counts, publish_table
from ..ingest import codebooks as cbm

AUDIT_DIR = "audit"
NAME_FIELD = "person_name"
CHILD_BANDS = ("0-13", "14-17")
STATUSES = ("met", "attention", "not_met", "not_recorded", "not_available")


# ============================================================================ configuration
@cache
def _yaml(name: str) -> dict:
    with open(data_dir() / AUDIT_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def purposes() -> dict:
    return _yaml("purposes.yaml")


def sensitivity() -> dict:
    return _yaml("sensitivity.yaml")


def purpose(case_study: str) -> dict:
    try:
        return purposes()[case_study]
    except KeyError:
        raise KeyError(
            f"no purpose stated for {case_study!r} in data/audit/purposes.yaml"
        ) from None


def disaggregation(case_study: str) -> dict:
    """Fields needed to disaggregate the counts so that discrimination can be seen (a
    human-rights-based approach to data), with the basis: ``{"basis": {...}, "fields":
    {field: {"why": {es, en}}}}``; empty when the purpose states none."""
    return purpose(case_study).get("disaggregation") or {"basis": None, "fields": {}}


def for_disaggregation(case_study: str) -> set[str]:
    """Disaggregation fields that the purpose does not already need for something else."""
    return set(disaggregation(case_study)["fields"]) - set(purpose(case_study)["needed"])


def field_name(field: str, lang: str) -> str:
    """A canonical field's label, or the delivered column's own name."""
    try:
        return text(f"field_{field}", lang)
    except KeyError:
        pass
    try:
        return text(f"field_{field}", lang)
    except KeyError:
        # a column of the institution's own file: quoted as such, not shown as a code
        return text("ev_column", lang, column=field)


def _status_label(inst: str, case_study: str, lang: str) -> str:
    from ..ingest.codebook_status import label

    cbs = {cb.institution: cb for cb in _codebooks(case_study)}
    return label(cbs[inst], lang)


def _has_label(key: str) -> bool:
    from ..core.i18n import _labels as page_labels

    return key in page_labels()


def _inst(inst: str, lang: str) -> str:
    return institution_name(inst, lang, short=True)


def _join(items, lang: str, empty: str | None = None) -> str:
    items = list(items)
    if not items:
        return empty if empty is not None else text("none", lang)
    return ", ".join(items)


def _codebooks(case_study: str) -> list[cbm.Codebook]:
    return sorted(cbm.all_codebooks(case_study), key=lambda c: c.institution)


# ============================================================================ minimum data
@dataclass(frozen=True)
class FieldFindings:
    institution: str
    delivered: int  # columns the export holds (record id, recorded fields, extra columns)
    collected: tuple[str, ...]  # canonical fields recorded (+ person_name)
    needed: tuple[str, ...]  # needed and recorded (or recorded in finer detail)
    finer: tuple[str, ...]  # recorded in more detail than the purpose needs
    excess: tuple[str, ...]  # recorded, kept in the canonical table, not needed
    dropped: tuple[str, ...]  # delivered and discarded at ingestion (names, extra columns)
    missing: tuple[str, ...]  # needed, not recorded
    disaggregation: tuple[str, ...] = ()  # recorded, needed to see discrimination


def field_findings(case_study: str) -> list[FieldFindings]:
    """Per institution: the fields collected against the fields the stated purpose needs."""
    need = purpose(case_study)["needed"]
    finer_of = {f: set((spec or {}).get("finer", [])) for f, spec in need.items()}
    out = []
    for cb in _codebooks(case_study):
        recorded = set(cb.recorded)
        collected = sorted(recorded)
        satisfied, finer, missing = [], [], []
        for f in need:
            if f in recorded:
                satisfied.append(f)
            elif finer_of[f] & recorded:
                satisfied.append(f)
                finer += sorted(finer_of[f] & recorded)
            else:
                missing.append(f)
        used = set(satisfied) | set(finer)
        disagg = sorted(recorded & for_disaggregation(case_study))
        excess = sorted(recorded - used - set(disagg) - {NAME_FIELD})
        dropped = ([NAME_FIELD] if NAME_FIELD in recorded else []) + list(cb.extra_columns)
        out.append(
            FieldFindings(
                cb.institution,
                len(cb.columns()),
                tuple(collected),
                tuple(satisfied),
                tuple(finer),
                tuple(excess),
                tuple(dropped),
                tuple(missing),
                disaggregation=tuple(disagg),
            )
        )
    return out


def fields_table(case_study: str, lang: str) -> PublishedTable:
    rows = []
    for f in field_findings(case_study):

        def names(fields, f=f):
            return _join([field_name(x, lang) for x in fields], lang)

        rows.append(
            {
                text("col_institution", lang): _inst(f.institution, lang),
                text("col_collected", lang): len(f.collected)
                + len(f.dropped)
                - (NAME_FIELD in f.dropped),
                text("col_needed", lang): names(f.needed),
                text("col_finer", lang): names(f.finer),
                text("col_disaggregation", lang): names(f.disaggregation) or "—",
                text("col_excess", lang): names(f.excess),
                text("col_dropped", lang): names(f.dropped),
                text("col_missing", lang): names(f.missing),
                text("cb_status_column", lang): _status_label(f.institution, case_study, lang),
            }
        )
    return publish_table(
        pd.DataFrame(rows),
        name="minimum_data",
        kind="metadata",
        origin="data/codebooks, data/audit/purposes.yaml",
    )


# ============================================================================ sensitive fields
def sensitive_findings(case_study: str) -> pd.DataFrame:
    """One row per institution x sensitive category it holds, with the evidence (language
    neutral: field names, delivered columns, classification values, the institution)."""
    spec = sensitivity()["categories"]
    rows = []
    for cb in _codebooks(case_study):
        delivered = [
            cb.record_id,
            *(s.original_name for s in cb.recorded.values()),
            *cb.extra_columns,
        ]
        class_values = set()
        cls = cb.specs.get("classification")
        if cls is not None and cls.recorded:
            class_values = {v for v in (cls.values or {}).values() if v}
        for cat, rule in spec.items():
            evidence = []
            fields = [f for f in rule.get("fields", []) if f in cb.recorded]
            evidence += [("field", f) for f in fields]
            if cb.institution in rule.get("institutions", []):
                evidence.append(("institution", cb.institution))
            if case_study in rule.get("case_studies", []):
                evidence.append(("case_study", case_study))
            if cb.identifier_kind in rule.get("identifier_kinds", []):
                evidence.append(("identifier", cb.identifier_kind))
            for v in rule.get("classification", []):
                if v in class_values:
                    evidence.append(("classification", v))
            if rule.get("record_id"):
                evidence.append(("record_id", cb.record_id))
            for pattern in rule.get("columns", []):
                for col in delivered:
                    seen = {v for _, v in evidence}
                    if col and re.search(pattern, col, re.IGNORECASE) and col not in seen:
                        evidence.append(("column", col))
            if "records_under_age" in rule and ({"age", "age_band"} & set(cb.recorded)):
                evidence.append(("field", "age" if "age" in cb.recorded else "age_band"))
            if evidence:
                rows.append({"institution": cb.institution, "category": cat, "evidence": evidence})
    return pd.DataFrame(rows, columns=["institution", "category", "evidence"])


def _evidence_text(evidence: list[tuple[str, str]], lang: str) -> str:
    parts = []
    for kind, value in evidence:
        if kind == "field":
            parts.append(field_name(value, lang))
        elif kind == "column":
            parts.append(text("ev_column", lang, column=value))
        elif kind == "record_id":
            parts.append(text("ev_record_id", lang, column=value))
        elif kind == "classification":
            key = f"value_classification_{value}"
            value = text(key, lang) if _has_label(key) else value
            parts.append(text("ev_classification", lang, value=value))
        elif kind == "institution":
            parts.append(text("ev_institution", lang))
        elif kind == "case_study":
            parts.append(text("ev_case_study", lang))
        elif kind == "identifier":
            parts.append(text("ev_identifier", lang, kind=value))
    return "; ".join(parts)


def sensitive_table(case_study: str, lang: str) -> PublishedTable:
    spec = sensitivity()["categories"]
    need = set(purpose(case_study)["needed"])
    finer = {x for v in purpose(case_study)["needed"].values() for x in (v or {}).get("finer", [])}
    disagg = for_disaggregation(case_study)
    rows = []
    for _, r in sensitive_findings(case_study).iterrows():
        fields = [v for k, v in r["evidence"] if k == "field"]
        unneeded = [f for f in fields if f not in need and f not in finer and f not in disagg]
        rows.append(
            {
                text("col_institution", lang): _inst(r["institution"], lang),
                text("col_category", lang): spec[r["category"]]["label"][lang],
                text("col_evidence", lang): _evidence_text(r["evidence"], lang),
                text("col_disaggregation", lang): _join(
                    [field_name(f, lang) for f in fields if f in disagg], lang, "—"
                ),
                text("col_not_needed", lang): _join(
                    [field_name(f, lang) for f in unneeded], lang, "—"
                ),
                text("col_why_sensitive", lang): spec[r["category"]]["why"][lang],
            }
        )
    return publish_table(
        pd.DataFrame(rows),
        name="sensitive_fields",
        kind="metadata",
        origin="data/codebooks, data/audit/sensitivity.yaml",
    )


def children_counts(records: pd.DataFrame) -> pd.DataFrame:
    """Records per institution by age group (child / adult / unknown), from age or age band."""
    band = records["age_band"].astype("object")
    age = pd.to_numeric(records["age"], errors="coerce").astype("float")
    child = (band.isin(CHILD_BANDS) | (age < 18)).to_numpy(dtype=bool)
    adult = ~child & (band.notna() | age.notna()).to_numpy(dtype=bool)
    group = np.select([child, adult], ["child", "adult"], default="unknown")
    out = pd.crosstab(records["institution"], group).reindex(
        columns=["child", "adult", "unknown"], fill_value=0
    )
    out.index.name = "institution"
    return out


# The tables of the audit page that count rows by institution are one system for a reader
# (issue 14): the accepted rows of an institution appear in several of them, its read rows
# in the ingestion table. Their links let the gate protect them jointly (see ``linked``).
ROWS_READ = "rows_read"


def accepted_link(lang: str, columns: str | None = None, estimates: bool = False):
    """The link of a table of accepted rows by institution (and ``columns``)."""
    from ..gate.linked import Link

    return Link(
        ROWS_READ,
        rows="institution",
        columns=columns,
        fixed={"status": "accepted"},
        label_column=text("col_institution", lang) if estimates else None,
    )


def children_table(records: pd.DataFrame, lang: str, k: int | None = None):
    counts = children_counts(records)
    counts.index = [_inst(i, lang) for i in counts.index]
    counts.index.name = text("col_institution", lang)
    counts.columns = [text(f"age_group_{c}", lang) for c in counts.columns]
    return gate_counts(
        counts,
        name="records_of_children",
        k=k,
        link=accepted_link(lang, columns="age_group"),
        total_row=False,
    )


# ============================================================================ consent, purpose, retention
GOVERNANCE_ITEMS = {
    "consent": r"consentimiento|\bconsent",
    "purpose": r"finalidad|prop[oó]sito|\bpurpose",
    "retention": r"conservaci[oó]n|retenci[oó]n|plazo de guarda|\bretention|\bretained|kept for",
    "access": r"rectificaci[oó]n|derecho de acceso|\bcorrection|right of access",
}


def _strings(obj) -> list[str]:
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return [obj] if isinstance(obj, str) else []


def governance_findings(case_study: str) -> pd.DataFrame:
    """Whether each codebook records consent, purpose, retention and access/correction: a
    structured ``governance`` block if the codebook schema ever has one, else a mention in its
    notes; else not recorded."""
    rows = []
    for cb in _codebooks(case_study):
        gov = cb.raw.get("governance") if isinstance(cb.raw.get("governance"), dict) else {}
        notes = _strings(cb.raw.get("notes")) + [
            s for f in cb.specs.values() for s in _strings(f.notes)
        ]
        row = {"institution": cb.institution}
        for item, pattern in GOVERNANCE_ITEMS.items():
            if gov.get(item):
                row[item] = "recorded"
            elif any(re.search(pattern, n, re.IGNORECASE) for n in notes):
                row[item] = "mentioned_in_notes"
            else:
                row[item] = "not_recorded"
        rows.append(row)
    return pd.DataFrame(rows, columns=["institution", *GOVERNANCE_ITEMS])


def governance_table(case_study: str, lang: str) -> PublishedTable:
    f = governance_findings(case_study)
    out = pd.DataFrame({text("col_institution", lang): [_inst(i, lang) for i in f["institution"]]})
    for item in GOVERNANCE_ITEMS:
        out[text(f"gov_{item}", lang)] = [text(f"gov_status_{v}", lang) for v in f[item]]
    return publish_table(
        out, name="consent_purpose_retention", kind="metadata", origin="data/codebooks"
    )


# ============================================================================ identifiers and linkage
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def identifier_findings(case_study: str, records: pd.DataFrame) -> pd.DataFrame:
    """Per institution: identifier kind, records, records with a pseudonymous key, whether every
    key is a keyed hash, and whether names were delivered (and dropped)."""
    rows = []
    for cb in _codebooks(case_study):
        r = records[records["institution"] == cb.institution]
        keys = r["person_key"].dropna().astype(str)
        rows.append(
            {
                "institution": cb.institution,
                "identifier_kind": cb.identifier_kind,
                "records": len(r),
                "with_key": int(len(keys)),
                "keys_are_hashes": bool(keys.map(lambda s: bool(_HEX64.match(s))).all()),
                "names_delivered": NAME_FIELD in cb.recorded,
            }
        )
    return pd.DataFrame(rows)


def identifier_table(
    case_study: str, records: pd.DataFrame, lang: str, k: int | None = None
) -> PublishedTable:
    f = identifier_findings(case_study, records)
    linkage = sensitivity()["identifier_linkage"]
    yes, no = text("yes", lang), text("no", lang)
    table = pd.DataFrame(
        {
            text("col_institution", lang): [_inst(i, lang) for i in f["institution"]],
            text("col_identifier", lang): [
                text(f"identifier_{v}", lang) for v in f["identifier_kind"]
            ],
            text("col_linkage", lang): [linkage[v][lang] for v in f["identifier_kind"]],
            text("col_records", lang): f["records"],
            text("col_with_key_pct", lang): [
                round(100 * w / n, 1) if n else 0.0
                for w, n in zip(f["with_key"], f["records"], strict=True)
            ],
            text("col_keys_hashed", lang): [yes if v else no for v in f["keys_are_hashes"]],
            text("col_names", lang): [
                text("names_dropped", lang) if v else no for v in f["names_delivered"]
            ],
        }
    )
    return publish_table(
        table,
        name="identifiers_and_linkage",
        kind="estimates",
        observed=text("col_records", lang),
        k=k,
        link=accepted_link(lang, estimates=True),
    )


# ============================================================================ re-identification risk
def quasi_identifiers(records: pd.DataFrame) -> list[str]:
    """The configured quasi-identifiers an institution's records actually hold."""
    return [
        c for c in sensitivity()["quasi_identifiers"] if c in records and records[c].notna().any()
    ]


def _with_age_band(records: pd.DataFrame) -> pd.DataFrame:
    """age_band from age where only the age is recorded (what a published table would show)."""
    if "age" not in records:
        return records
    age = pd.to_numeric(records["age"], errors="coerce")
    bins = [-1, 13, 17, 29, 44, 59, 200]
    derived = pd.cut(age, bins=bins, labels=["0-13", "14-17", "18-29", "30-44", "45-59", "60+"])
    band = records["age_band"].astype("object")
    return records.assign(age_band=band.where(band.notna(), derived.astype("object")))


@dataclass(frozen=True)
class Reidentification:
    institution: str
    records: int
    quasi_identifiers: tuple[str, ...]
    unique: int  # records alone in their class
    below_k: int  # records in classes smaller than k (unique included)
    sensitive: str | None
    homogeneous: int  # records in classes where the sensitive attribute has one value
    min_l: int


def reidentification(
    case_study: str, records: pd.DataFrame, k: int | None = None
) -> list[Reidentification]:
    """k-anonymity (and distinct l-diversity of the case study's sensitive attribute) of each
    institution's records over the quasi-identifiers it holds (region x sex x age band x
    nationality). The records are never published; this measures what a record-level release
    would expose, and why the gate refuses one."""
    k = dc.resolve_k(k)
    attr = sensitivity()["l_diversity_attribute"].get(case_study)
    out = []
    for inst, r in _with_age_band(records).groupby("institution", sort=True):
        qi = quasi_identifiers(r)
        if not qi:
            out.append(Reidentification(inst, len(r), (), 0, 0, None, 0, 0))
            continue
        ka = dc.k_anonymity(r, qi)
        sizes = ka.classes["size"]
        homogeneous, min_l, sens = 0, 0, None
        if attr and attr in r and r[attr].notna().any() and attr not in qi:
            sens = attr
            ld = dc.l_diversity(r, qi, attr)
            homogeneous = int(ld.classes.loc[ld.classes["distinct"] == 1, "size"].sum())
            min_l = ld.l
        out.append(
            Reidentification(
                inst,
                len(r),
                tuple(qi),
                int(sizes[sizes == 1].sum()),
                ka.records_below(k),
                sens,
                homogeneous,
                min_l,
            )
        )
    return out


def reidentification_counts(risk: list[Reidentification], k: int, lang: str):
    """Records by the size of their quasi-identifier class: 1, 2..k-1, k or more (gated)."""
    rows = {
        _inst(r.institution, lang): [r.unique, r.below_k - r.unique, r.records - r.below_k]
        for r in risk
    }
    cols = [
        text("class_unique", lang),
        text("class_small", lang, k_minus_1=k - 1),
        text("class_safe", lang, k=k),
    ]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    frame.index.name = text("col_institution", lang)
    return gate_counts(
        frame,
        name="records_by_class_size",
        k=k,
        link=accepted_link(lang, columns="class_size"),
        total_row=False,
    )


def reidentification_table(risk: list[Reidentification], lang: str, k: int) -> PublishedTable:
    """Shares per institution (each rests on the institution's record count, gated)."""

    def pct(a, n):
        return round(100 * a / n, 1) if n else 0.0

    table = pd.DataFrame(
        {
            text("col_institution", lang): [_inst(r.institution, lang) for r in risk],
            text("col_quasi_identifiers", lang): [
                " × ".join(field_name(q, lang) for q in r.quasi_identifiers) or "—" for r in risk
            ],
            text("col_records", lang): [r.records for r in risk],
            text("col_unique_pct", lang): [pct(r.unique, r.records) for r in risk],
            text("col_below_k_pct", lang, k=k): [pct(r.below_k, r.records) for r in risk],
            text("col_sensitive", lang): [
                field_name(r.sensitive, lang) if r.sensitive else "—" for r in risk
            ],
            text("col_homogeneous_pct", lang): [
                pct(r.homogeneous, r.records) if r.sensitive else "—" for r in risk
            ],
        }
    )
    return publish_table(
        table,
        name="reidentification_risk",
        kind="estimates",
        observed=text("col_records", lang),
        k=k,
        link=accepted_link(lang, estimates=True),
    )


# ============================================================================ disclosure risk of tables
BREAKDOWNS = ("region_code", "year", "sex", "age_band", "nationality", "classification")


def breakdown_risk(records: pd.DataFrame, k: int | None = None) -> pd.DataFrame:
    """What the gate hides in the one-way tables a page would publish for each institution
    (records by region, year, sex, age band, nationality and classification): categories,
    cells hidden as small (primary) and to protect them (secondary), and the share of records
    in hidden cells."""
    k = dc.resolve_k(k)
    recs = _with_age_band(records).assign(
        year=pd.to_datetime(records["event_date"]).dt.year.astype("Int64")
    )
    rows = []
    for inst, r in recs.groupby("institution", sort=True):
        for dim in BREAKDOWNS:
            values = r[dim].dropna()
            if values.empty:
                continue
            counts = values.astype(str).value_counts().sort_index()
            g = gate_counts(counts, name="probe", k=k)
            hidden = g.result.suppressed[:-1]
            rows.append(
                {
                    "institution": inst,
                    "dimension": dim,
                    "records": int(counts.sum()),
                    "categories": int(len(counts)),
                    "primary": int(g.result.primary.sum()),
                    "secondary": int(g.result.secondary.sum()),
                    "records_hidden": int(counts.to_numpy()[hidden].sum()),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "institution",
            "dimension",
            "records",
            "categories",
            "primary",
            "secondary",
            "records_hidden",
        ],
    )


def breakdown_table(records: pd.DataFrame, lang: str, k: int | None = None) -> PublishedTable:
    k = dc.resolve_k(k)
    f = breakdown_risk(records, k)
    dims = {d: (field_name(d, lang) if d != "year" else text("dim_year", lang)) for d in BREAKDOWNS}
    table = pd.DataFrame(
        {
            text("col_institution", lang): [_inst(i, lang) for i in f["institution"]],
            text("col_breakdown", lang): [dims[d] for d in f["dimension"]],
            text("col_records", lang): f["records"],
            text("col_categories", lang): f["categories"],
            text("col_primary", lang): f["primary"],
            text("col_secondary", lang): f["secondary"],
            text("col_hidden_pct", lang): [
                round(100 * h / n, 1) if n else 0.0
                for h, n in zip(f["records_hidden"], f["records"], strict=True)
            ],
        }
    )
    return publish_table(
        table,
        name="disclosure_risk_by_breakdown",
        kind="estimates",
        observed=text("col_records", lang),
        k=k,
    )


# ============================================================================ the rendered site
def _manifest(site: Path) -> dict:
    try:
        return json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def site_pages(case_study: str, site: Path | None = None) -> list[Path]:
    """The pages of the rendered site (``paths.site_dir``) about ``case_study`` (from its manifest)."""
    site = Path(site or site_dir())
    pages = []
    for entry in _manifest(site).get("pages", []):
        params = entry.get("parameters") or {}
        if entry.get("in_site") and params.get("case_study") == case_study:
            page = site / entry["page"]
            if page.is_file():
                pages.append(page)
    return sorted(pages)


def site_tables(case_study: str, site: Path | None = None) -> pd.DataFrame:
    """The gated tables the rendered site publishes about ``case_study``: their stamp,
    read back from the pages (kind, rule, k, hidden cells or rows)."""
    site = Path(site or site_dir())
    rows = []
    for page in site_pages(case_study, site):
        parser = dc._PageParser()
        try:
            parser.feed(page.read_text(encoding="utf-8"))
        except OSError:  # the site was swapped while reading
            continue
        for stamp in parser.stamped:
            try:
                gate = json.loads(stamp.get("gate") or "{}")
            except json.JSONDecodeError:
                gate = {}
            rows.append(
                {
                    "page": page.relative_to(site).as_posix(),
                    "table": stamp.get("table"),
                    "kind": stamp.get("kind"),
                    "rule": gate.get("rule"),
                    "k": gate.get("k"),
                    "hidden_primary": gate.get("primary_suppressed"),
                    "hidden_secondary": gate.get("secondary_suppressed"),
                    "hidden_rows": gate.get("suppressed_rows"),
                }
            )
    cols = [
        "page",
        "table",
        "kind",
        "rule",
        "k",
        "hidden_primary",
        "hidden_secondary",
        "hidden_rows",
    ]
    return (
        pd.DataFrame(rows, columns=cols).drop_duplicates(["page", "table"]).reset_index(drop=True)
    )


def site_tables_table(
    case_study: str, lang: str, site: Path | None = None
) -> PublishedTable | None:
    """One row per page of this case study in the page's language, named by its title: how
    many tables it publishes (by kind) and what the gate hid in them (no file names)."""
    f = site_tables(case_study, site)
    f = f[f["page"].str.startswith(f"{lang}/")] if not f.empty else f
    if f.empty:
        return None
    site = Path(site or site_dir())

    def total(v):
        v = pd.to_numeric(v, errors="coerce")
        return int(v.sum()) if v.notna().any() else "—"

    rows = []
    for page, g in f.groupby("page", sort=False):
        kinds = g["kind"].dropna().value_counts()
        rows.append(
            {
                text("col_page", lang): _page_title(site / page) or page,
                text("col_tables", lang): len(g),
                text("col_kind", lang): ", ".join(
                    f"{n} {text(f'kind_{k}', lang)}" for k, n in kinds.items()
                ),
                "k": total(g["k"].dropna().head(1)) if g["k"].notna().any() else "—",
                text("col_primary", lang): total(g["hidden_primary"]),
                text("col_secondary", lang): total(g["hidden_secondary"]),
                text("col_hidden_rows", lang): total(g["hidden_rows"]),
            }
        )
    return publish_table(
        pd.DataFrame(rows), name="published_tables", kind="metadata", origin="outputs/site (stamps)"
    )


def _page_title(page: Path) -> str | None:
    """A rendered page's title as its readers see it (without the site's name)."""
    try:
        head = page.read_text(encoding="utf-8")[:4000]
    except OSError:
        return None
    m = re.search(r"<title>(.*?)</title>", head, re.S)
    return html_lib.unescape(m.group(1)).split(" — ")[0].strip() if m else None


def site_render_time(site: Path | None = None) -> str | None:
    return _manifest(Path(site or site_dir())).get("render_finished")


def site_problems(
    case_study: str, site: Path | None = None
) -> tuple[int, list[str], list[str]] | None:
    """(pages checked, disclosure problems, identifiers found) for the rendered pages of
    ``case_study`` and their tables; None when there is no rendered site yet."""
    from ..gate import scanner

    site = Path(site or site_dir())
    pages = site_pages(case_study, site)
    if not pages:
        return None
    from ..gate import linked

    disclosure = [
        p
        for p in dc.site_check(site) + linked.site_check(site)
        if any(pg.relative_to(site).as_posix() in p for pg in pages)
    ]
    names = scanner.default_name_index()
    files = list(pages)
    for page in pages:
        tables = page.parent / "tables" / page.stem
        files += sorted(tables.glob("*.csv")) if tables.is_dir() else []
    hits = [h for f in files if f.is_file() for h in scanner.scan_file(f, root=site, names=names)]
    return len(pages), disclosure, scanner.problems(hits)


def site_checks_wired() -> dict[str, bool]:
    """Whether the renderer runs the identifier scan and the disclosure check on every site."""
    try:
        from ..site import render
    except ImportError:
        return {"scanner": False, "disclosure": False}
    names = [
        c if isinstance(c, str) else f"{c.__module__}:{c.__qualname__}" for c in render.SITE_CHECKS
    ]
    return {
        "scanner": "datajusta_lib.gate.scanner:site_check" in names,
        "disclosure": "datajusta_lib.gate.disclosure:site_check" in names,
    }


# ============================================================================ ingestion and lineage
def ingestion_counts(records: pd.DataFrame) -> pd.DataFrame:
    """Rows read, accepted and quarantined per institution (from the load's own account)."""
    rows = [
        {
            "institution": i["institution"],
            "read": i["n_read"],
            "accepted": i["n_accepted"],
            "rejected": i["n_rejected"],
        }
        for i in records.attrs.get("ingestion", [])
    ]
    return pd.DataFrame(rows, columns=["institution", "read", "accepted", "rejected"])


def lines_accounted(records: pd.DataFrame) -> bool:
    """Whether, for every institution, the files' physical data lines are all accounted for:
    rows read + blank lines + continuation lines == data lines (unknown counts fail)."""
    ing = records.attrs.get("ingestion", [])
    return bool(ing) and all(
        i.get("n_lines") is not None
        and i["n_read"] + i.get("n_blank", 0) + i.get("n_continuation", 0) == i["n_lines"]
        for i in ing
    )


def ingestion_table(records: pd.DataFrame, lang: str, k: int | None = None):
    f = ingestion_counts(records).set_index("institution")
    counts = f[["accepted", "rejected"]].copy()
    counts.index = [_inst(i, lang) for i in counts.index]
    counts.index.name = text("col_institution", lang)
    counts.columns = [text("col_accepted", lang), text("col_rejected", lang)]
    from ..gate.linked import Link

    link = Link(
        ROWS_READ,
        rows="institution",
        columns="status",
        labels={
            text("col_accepted", lang): {"status": "accepted"},
            text("col_rejected", lang): {"status": "quarantined"},
        },
    )
    return gate_counts(counts, name="accepted_and_quarantined", k=k, link=link, total_row=False)


# ============================================================================ the checklist
@dataclass(frozen=True)
class Item:
    key: str
    status: str
    evidence: dict  # values for the evidence sentence

    def row(self, lang: str) -> dict:
        return {
            text("col_principle", lang): text(f"item_{self.key}", lang),
            text("col_status", lang): text(f"status_{self.status}", lang),
            text("col_evidence", lang): text(
                f"evidence_{self.key}_{self.status}", lang, **self.evidence
            ),
        }


def num(value: float, lang: str, decimals: int = 1) -> str:
    """A number for a sentence: decimal comma in Spanish, point in English."""
    out = f"{value:,.{decimals}f}"
    if lang == "es":
        out = out.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
    return out


def _fewer(n: int, k: int, lang: str) -> str:
    return dc.count_text(n, lang, k)


def checklist(
    case_study: str,
    records: pd.DataFrame,
    source: str,
    lang: str,
    *,
    k: int | None = None,
    site: Path | None = None,
    check_site: bool = True,
) -> list[Item]:
    """The accountability checklist, each item with evidence computed from the data, the
    codebooks and the configuration (the principles and where each is checked:
    docs/data_justice.md)."""
    k = dc.resolve_k(k)
    items = [
        _minimum_data_item(case_study, lang),
        _sensitive_needed_item(case_study, lang),
        _identifiers_item(records, lang),
        _rejected_kept_item(records, lang, k),
        _lineage_item(records, lang),
    ]
    gov = governance_findings(case_study)
    items += _governance_items(gov)
    # the project's own purpose is stated
    items.append(Item("purpose_stated", "met", {"needed": len(purpose(case_study)["needed"])}))
    wired = site_checks_wired()
    items.append(_small_counts_item(wired, lang, k))
    found = site_problems(case_study, site) if check_site else None
    items.append(_published_identifiers_item(found, wired, lang, site))
    items.append(_microdata_item(case_study, records, lang, k))
    if source == "synthetic":
        items.append(_synthetic_labelled_item())
    items.append(_figures_sourced_item(case_study))
    items.append(_accountability_channel_item(gov))
    return items


# The checklist items, one helper each, in the order of the checklist.
def _minimum_data_item(case_study: str, lang: str) -> Item:
    """Collect no more than the minimum: fields delivered beyond (or finer than) the purpose."""
    fields = field_findings(case_study)
    excess = sorted({(f.institution, x) for f in fields for x in (*f.excess, *f.finer)})
    inst_excess = sorted({i for i, _ in excess})
    return Item(
        "minimum_data",
        "attention" if excess else "met",
        {
            "n": len(excess),
            "institutions": _join([_inst(i, lang) for i in inst_excess], lang),
            "dropped": sum(len(f.dropped) for f in fields),
        },
    )


def _sensitive_needed_item(case_study: str, lang: str) -> Item:
    """Sensitive data only where the purpose (or the disaggregation) needs them."""
    need = set(purpose(case_study)["needed"])
    sens = sensitive_findings(case_study)
    unneeded = sorted(
        {
            v
            for ev in sens["evidence"]
            for kind, v in ev
            if kind == "field"
            and v not in need
            and v not in for_disaggregation(case_study)
            and v not in {"age"}
            and v != NAME_FIELD
        }
    )
    return Item(
        "sensitive_needed",
        "attention" if unneeded else "met",
        {"fields": _join([field_name(f, lang) for f in unneeded], lang), "n": len(unneeded)},
    )


def _identifiers_item(records: pd.DataFrame, lang: str) -> Item:
    """Direct identifiers never leave ingestion: no extra column, keys are hashes, no name."""
    from ..core.contracts import RECORD_COLUMNS
    from ..gate.scanner import default_name_index, scan_frame

    extra_cols = [c for c in records.columns if c not in RECORD_COLUMNS and c != "source_sheet"]
    keys = records["person_key"].dropna().astype(str)
    bad_keys = int((~keys.map(lambda s: bool(_HEX64.match(s)))).sum())
    text_cols = [c for c in records.columns if c not in ("person_key", "source_file", "record_id")]
    hits = scan_frame(records[text_cols], names=default_name_index())
    ok = not extra_cols and bad_keys == 0 and not hits and NAME_FIELD not in records.columns
    return Item(
        "identifiers_pseudonymised",
        "met" if ok else "not_met",
        {
            "keys": num(len(keys), lang, 0),
            "bad_keys": bad_keys,
            "hits": len(hits),
            "columns": _join(extra_cols, lang),
        },
    )


def _rejected_kept_item(records: pd.DataFrame, lang: str, k: int) -> Item:
    """Rejected rows kept with their reason; accepted + rejected = read."""
    ing = ingestion_counts(records)
    balanced = (
        bool(((ing["accepted"] + ing["rejected"]) == ing["read"]).all()) if len(ing) else False
    )
    # and every physical data line of the files is a row read, a blank line or the
    # continuation of a multi-line value (a stray quote must not swallow rows)
    balanced = balanced and lines_accounted(records)
    accepted_match = bool(
        len(ing)
        and ing.set_index("institution")["accepted"].reindex(sorted(ing["institution"])).sum()
        == len(records)
    )
    return Item(
        "rejected_kept",
        "met" if balanced and accepted_match else "not_met",
        {
            "read": num(int(ing["read"].sum()), lang, 0),
            "rejected": _fewer(int(ing["rejected"].sum()), k, lang),
            "institutions": len(ing),
        },
    )


def _lineage_item(records: pd.DataFrame, lang: str) -> Item:
    """Lineage: every record says which file and row it came from."""
    lineage = records[["source_file", "source_row"]].notna().all(axis=1)
    return Item(
        "lineage",
        "met" if bool(lineage.all()) else "not_met",
        {"pct": num(100 * float(lineage.mean()) if len(records) else 0.0, lang)},
    )


def _governance_items(gov: pd.DataFrame) -> list[Item]:
    """Consent, purpose, retention, access: recorded in the codebooks?"""
    items = []
    for item in GOVERNANCE_ITEMS:
        recorded = int((gov[item] == "recorded").sum())
        mentioned = int((gov[item] == "mentioned_in_notes").sum())
        status = (
            "met"
            if recorded == len(gov) and len(gov)
            else ("attention" if recorded or mentioned else "not_recorded")
        )
        items.append(
            Item(
                f"{item}_recorded",
                status,
                {"recorded": recorded, "mentioned": mentioned, "total": len(gov)},
            )
        )
    return items


def _small_counts_item(wired: dict[str, bool], lang: str, k: int) -> Item:
    """Small counts suppressed before publication (the configuration; the site: next item)."""
    return Item(
        "small_counts_suppressed",
        "met" if wired["disclosure"] else "attention",
        {"k": k, "wired": text("yes" if wired["disclosure"] else "no", lang)},
    )


def _published_identifiers_item(
    found: tuple | None, wired: dict[str, bool], lang: str, site: Path | None
) -> Item:
    """No identifier on the published pages; ``found`` is ``site_problems``' answer, None
    when the site was not checked (or not rendered)."""
    if found is None:
        return Item(
            "no_identifiers_published",
            "not_available",
            {"wired": text("yes" if wired["scanner"] else "no", lang)},
        )
    n_pages, disc, idents = found
    status = "met" if not disc and not idents and wired["scanner"] else "not_met"
    return Item(
        "no_identifiers_published",
        status,
        {
            "pages": n_pages,
            "identifiers": len(idents),
            "disclosure": len(disc),
            "when": site_render_time(site) or "—",
            "wired": text("yes" if wired["scanner"] else "no", lang),
        },
    )


def _microdata_item(case_study: str, records: pd.DataFrame, lang: str, k: int) -> Item:
    """Record-level outputs refused; the evidence is how exposed the microdata would be."""
    risk = reidentification(case_study, records, k)
    n = sum(r.records for r in risk)
    unique = sum(r.unique for r in risk)
    return Item(
        "microdata_not_published",
        "met",
        {"pct_unique": num(100 * unique / n if n else 0.0, lang), "k": k},
    )


def _synthetic_labelled_item() -> Item:
    """Synthetic data labelled as such, in their metadata and in their path."""
    meta_path = synthetic_dir() / "metadata.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        meta = {}
    labelled = bool(meta.get("synthetic")) and "synthetic" in str(synthetic_dir()).lower()
    return Item("synthetic_labelled", "met" if labelled else "not_met", {"path": "data/synthetic"})


def _figures_sourced_item(case_study: str) -> Item:
    """Narratives true, not fabricated: every published figure carries its source."""
    from ..ingest.published import published_figures

    figs = published_figures(case_study)
    sourced = figs["source_url"].astype(str).str.match(r"^https?://").all() if len(figs) else True
    return Item("figures_sourced", "met" if sourced else "not_met", {"n": len(figs)})


def _accountability_channel_item(gov: pd.DataFrame) -> Item:
    """Accountability to the people in the data: a channel (access) recorded everywhere?"""
    channel = int((gov["access"] == "recorded").sum())
    return Item(
        "accountability_channel",
        "met" if channel == len(gov) and len(gov) else "not_recorded",
        {"recorded": channel, "total": len(gov)},
    )


def checklist_table(items: list[Item], lang: str) -> PublishedTable:
    return publish_table(
        pd.DataFrame([it.row(lang) for it in items]),
        name="accountability_checklist",
        kind="metadata",
        origin="computed from data/codebooks, the records, data/audit and the render configuration",
    )


def checklist_summary(items: list[Item], lang: str) -> str:
    counts = {s: sum(1 for it in items if it.status == s) for s in STATUSES}
    return text(
        "checklist_summary",
        lang,
        total=len(items),
        met=counts["met"],
        attention=counts["attention"],
        not_met=counts["not_met"],
        not_recorded=counts["not_recorded"],
        not_available=counts["not_available"],
    )


# ============================================================================ narrative
def purpose_text(case_study: str, lang: str) -> str:
    need = purpose(case_study)["needed"]
    lines = [
        f"> {purpose(case_study)['purpose'][lang].strip()}",
        "",
        text("needed_intro", lang),
        "",
    ]
    for f, spec in need.items():
        lines.append(f"- **{field_name(f, lang)}**: {spec['why'][lang]}")
    dis = disaggregation(case_study)
    if dis["fields"]:
        basis = dis["basis"] or {}
        cite = f"[{basis.get('title', '')}]({basis.get('url', '')}), {basis.get('where', '')}"
        if lang != "en":  # the document's own (English) title, marked as such for readers
            cite = f'<span lang="en">{cite}</span>'
        lines += ["", text("disaggregation_intro", lang, source=cite), ""]
        for f, spec in dis["fields"].items():
            lines.append(f"- **{field_name(f, lang)}**: {spec['why'][lang]}")
    return "\n".join(lines)


def minimum_data_text(case_study: str, lang: str) -> str:
    fields = field_findings(case_study)
    excess = {f.institution: f.excess for f in fields if f.excess}
    finer = {f.institution: f.finer for f in fields if f.finer}
    missing = {f.institution: f.missing for f in fields if f.missing}
    names = [f.institution for f in fields if NAME_FIELD in f.dropped]
    from ..ingest.codebook_status import qualifier

    parts = [
        qualifier(_codebooks(case_study), lang),
        text(
            "minimum_summary",
            lang,
            institutions=len(fields),
            excess=len(excess),
            finer=len(finer),
            missing=len(missing),
        ),
    ]
    if names:
        parts.append(
            text("names_summary", lang, institutions=_join([_inst(i, lang) for i in names], lang))
        )
    if missing:
        worst = max(missing, key=lambda i: len(missing[i]))
        parts.append(
            text(
                "missing_worst",
                lang,
                institution=_inst(worst, lang),
                fields=_join([field_name(x, lang) for x in missing[worst]], lang),
            )
        )
    return " ".join(parts)


def reidentification_text(risk: list[Reidentification], lang: str, k: int) -> str:
    n = sum(r.records for r in risk)
    unique = sum(r.unique for r in risk)
    below = sum(r.below_k for r in risk)
    worst = max(risk, key=lambda r: (r.unique / r.records) if r.records else 0, default=None)
    text_ = text(
        "reid_summary",
        lang,
        pct_unique=num(100 * unique / n if n else 0.0, lang),
        pct_below=num(100 * below / n if n else 0.0, lang),
        k=k,
    )
    if worst is not None and worst.records:
        text_ += " " + text(
            "reid_worst",
            lang,
            institution=_inst(worst.institution, lang),
            pct=num(100 * worst.unique / worst.records, lang),
            qi=" × ".join(field_name(q, lang) for q in worst.quasi_identifiers),
        )
    return text_


def reidentification_figure(gated, lang: str):
    """Bar chart of the share of each institution's records by class size, drawn from the
    gated counts (a hidden cell is a gap, labelled [c])."""
    import matplotlib.pyplot as plt

    from ..core.style import use_house_style

    use_house_style()
    shares = gated.shares("rows")
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(shares) + 1.6))
    left = np.zeros(len(shares))
    hatches = ["///", "..", ""]
    colors = ["#D55E00", "#E69F00", "#56B4E9"]
    y = np.arange(len(shares))
    for j, col in enumerate(shares.columns):
        vals = shares[col].to_numpy(dtype=float)
        ax.barh(
            y,
            np.nan_to_num(vals),
            left=left,
            color=colors[j],
            hatch=hatches[j],
            edgecolor="white",
            label=col,
        )
        left += np.nan_to_num(vals)
    for i, row in enumerate(shares.itertuples(index=False)):
        if any(np.isnan(v) for v in row):
            ax.text(101, i, dc.SUPPRESSED, va="center", fontsize=9)
    ax.set_yticks(y, [str(i) for i in shares.index])
    ax.invert_yaxis()
    ax.set_xlim(0, 108)
    ax.set_xlabel(text("fig_reid_x", lang))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3, frameon=False)
    fig.tight_layout()
    return fig


def reidentification_alt(gated, lang: str) -> str:
    shares = gated.shares("rows")
    parts = []
    for inst, row in shares.iterrows():
        unique = row.iloc[0]
        parts.append(f"{inst}: {dc.SUPPRESSED if np.isnan(unique) else num(unique, lang) + ' %'}")
    return text("fig_reid_alt", lang, values="; ".join(parts))


def records_source(source: str, lang: str) -> str:
    """The source line of a table computed from the records."""
    if source not in ("synthetic", "private"):
        raise ValueError(f"source must be synthetic or private, got {source!r}")
    return text(f"src_records_{source}", lang)


def site_tables_note(case_study: str, lang: str, site: Path | None = None) -> str:
    when = site_render_time(site)
    if site_tables(case_study, site).empty or not when:
        return text("site_tables_none", lang)
    return text("site_tables_when", lang, when=when)


def codebook_source(case_study: str, key: str, lang: str) -> str:
    """A source line of a table read from the codebooks, with the codebooks' status."""
    from ..ingest.codebook_status import source_clause

    return f"{text(key, lang)} {source_clause(_codebooks(case_study), lang)}"


def page_title(case_study: str, lang: str) -> str:
    from ..core.canon import case_study_label

    return text("audit_title", lang, case_study=case_study_label(case_study, lang))
