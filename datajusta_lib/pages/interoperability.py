"""Words, gated tables and charts for the interoperability pages (Spanish and English).

The notebook ``notebooks/interoperability.ipynb`` only calls these. Every table of counts goes
through ``gate_counts``; every table of statistics carries the record counts behind it
(``kind="estimates"``, ``observed=``) so that the gate can hide rows resting on few records.
Linkage runs once per case study and set of exports, then is read from a cache of encodings
and linkage outputs (no identifier in it: see docs/privacy.md).
"""

from __future__ import annotations

import json

import pandas as pd

from ..core.i18n import check_lang, institution_name, text
from ..core.paths import synthetic_dir
from ..linkage import link as lk
from ..linkage import paths as lpaths
from ..linkage import quality as q
from ..linkage.cache import case_study_linkage


def t(key: str, lang: str, **values) -> str:
    """The linkage page's string ``key`` (``data/i18n/linkage.yaml``) through the one lookup."""
    return text(f"linkage.{key}", check_lang(lang), **values)


def _n(x, lang: str) -> str:
    s = f"{int(round(x)):,}"
    return s.replace(",", ".") if lang == "es" else s


def source_line(source: str, lang: str = "es") -> str:
    if source == "synthetic":
        meta = synthetic_dir() / "metadata.json"
        seed = json.loads(meta.read_text())["seed"] if meta.exists() else "?"
        return t("source_synthetic", lang, seed=seed)
    return t("source_private", lang)


# --------------------------------------------------------------------------------------
# linkage, cached (shared with the unrecorded-victims pages)
# --------------------------------------------------------------------------------------
def linkage(case_study: str, source: str = "synthetic") -> tuple[pd.DataFrame, lk.LinkageResult]:
    """(encoded records, linkage result) of a case study, from the cache when unchanged."""
    return case_study_linkage(case_study, source)


# --------------------------------------------------------------------------------------
# words and tables
# --------------------------------------------------------------------------------------
def summary_text(encoded: pd.DataFrame, res: lk.LinkageResult, lang: str = "es") -> str:
    held = encoded.groupby("institution")["identifiers_held"].first()
    none = [institution_name(i, lang, short=True) for i in held.index if held[i] == "none"]
    extra = t("held_none", lang, names=", ".join(none)) if none else t("held_all", lang)
    return t(
        "linked_summary",
        lang,
        k=held.size,
        records=_n(len(res.clusters), lang),
        persons=_n(res.clusters["cluster_id"].nunique(), lang),
        threshold=str(res.threshold).replace(".", "," if lang == "es" else "."),
        held=extra,
    )


def overlap_counts(res: lk.LinkageResult, lang: str = "es") -> pd.Series:
    """Persons by the exact combination of lists (to be gated)."""
    lists = [c for c in res.overlaps.columns if c != "cluster_id"]
    names = {c: institution_name(c, lang, short=True) for c in lists}
    combo = res.overlaps[lists].apply(lambda r: " + ".join(names[c] for c in lists if r[c]), axis=1)
    out = combo.value_counts()
    out.index.name = t("col_lists", lang)
    return out.rename(t("col_persons", lang))


def one_list_only(res: lk.LinkageResult, lang: str = "es") -> pd.DataFrame:
    """Per list: persons on it, on it only, on another list too. A person on several lists is
    in several rows, so the rows are not added up (an ``estimates`` table, ``observed`` = the
    list's persons)."""
    lists = [c for c in res.overlaps.columns if c != "cluster_id"]
    o = res.overlaps[lists]
    n_lists = o.sum(axis=1)
    rows = [
        {
            t("col_list", lang): institution_name(c, lang, short=True),
            t("col_persons", lang): int(o[c].sum()),
            t("only_this", lang): int((o[c] & (n_lists == 1)).sum()),
            t("also_other", lang): int((o[c] & (n_lists > 1)).sum()),
        }
        for c in lists
    ]
    return pd.DataFrame(rows)


def quality_table(encoded, res, case_study: str, lang: str = "es") -> pd.DataFrame:
    qt = q.quality_table(res.clusters, encoded, case_study)
    qt = qt[qt["scope"] != "between two lists"]
    return pd.DataFrame(
        {
            t("col_scope", lang): qt["scope"].map(
                {
                    "all lists": t("scope_all", lang),
                    "lists with a name, identifier or birth date": t("scope_ids", lang),
                }
            ),
            t("col_method", lang): qt["method"].map(
                {
                    "splink on encodings": t("method_splink", lang),
                    "exact keyed hash": t("method_exact", lang),
                }
            ),
            t("col_records", lang): qt["records"].astype(int),
            t("col_precision", lang): qt["precision"].round(3),
            t("col_recall", lang): qt["recall"].round(3),
            t("col_f1", lang): qt["f1"].round(3),
        }
    ).reset_index(drop=True)


SCENARIOS = {
    "scenario_all": {},
    "scenario_id_birth": {"*": ["name"]},
    "scenario_id_only": {"*": ["name", "birth_date"]},
    "scenario_no_id": {"*": ["identifier"]},
}


def scenario_table(encoded, res, case_study: str, lang: str = "es") -> pd.DataFrame:
    """Linkage quality if every institution shared only some fields (the trained model
    scores the reduced encodings; a field not shared falls in its null level)."""
    rows = []
    for key, drop in SCENARIOS.items():
        if drop:
            e2 = lk.without_fields(encoded, drop)
            r2 = lk.link(e2, case_study=case_study, trained=res.model)
        else:
            e2, r2 = encoded, res
        qt = q.quality_table(r2.clusters, e2, case_study)
        row = qt[(qt["scope"] == "all lists") & (qt["method"] == "splink on encodings")].iloc[0]
        rows.append(
            {
                t("col_fields", lang): t(key, lang),
                t("col_records", lang): int(row["records"]),
                t("col_precision", lang): round(row["precision"], 3),
                t("col_recall", lang): round(row["recall"], 3),
                t("col_f1", lang): round(row["f1"], 3),
            }
        )
    return pd.DataFrame(rows)


def mse_table(records: pd.DataFrame, res, case_study: str, lang: str = "es") -> pd.DataFrame:
    """The stepwise estimate of the same records linked three ways: the true persons, the
    links estimated from the encodings and the exact keyed hash (records that hold no name,
    identifier or birth date left out of all three, as on the unrecorded-victims pages)."""
    from ..linkage.link import attach_links

    variants = q.mse_by_linkage(
        attach_links(records, res), res, thresholds=(), case_study=case_study
    )
    order = {"true": 0, "estimated": 1, "exact": 2}
    variants = sorted(variants, key=lambda v: order[v["links"]])
    fits = [v["reselected"] for v in variants]
    return pd.DataFrame(
        {
            t("col_links", lang): [t(f"links_{v['links']}", lang) for v in variants],
            t("col_observed", lang): [r.n_observed for r in fits],
            t("col_dark", lang): [round(r.dark) if r.ok else pd.NA for r in fits],
            t("col_total", lang): [round(r.total) if r.ok else pd.NA for r in fits],
        }
    ).astype({t("col_dark", lang): "Int64", t("col_total", lang): "Int64"})


# --------------------------------------------------------------------------------------
# paths
# --------------------------------------------------------------------------------------
def person_paths(records: pd.DataFrame, res, case_study: str):
    linked = lpaths.linked_records(records, res.clusters)
    return linked, lpaths.paths(linked, case_study)


def flow_counts(pp: pd.DataFrame, lang: str = "es") -> pd.Series:
    f = lpaths.flows(pp)
    f.index.name = t("col_flow", lang)
    return f.rename(t("col_persons", lang))


def funnel_table(pp: pd.DataFrame, case_study: str, lang: str = "es") -> pd.DataFrame:
    """Persons whose path includes each step. A person goes through several steps, so the
    rows are not added up (an ``estimates`` table, ``observed`` = the persons)."""
    f = lpaths.funnel(pp, case_study)
    f = f[f > 0]
    return pd.DataFrame(
        {
            t("col_step", lang): [lpaths.step_label(s, lang) for s in f.index],
            t("col_persons", lang): f.to_numpy(dtype=int),
        }
    )


def times_table(linked: pd.DataFrame, case_study: str, lang: str = "es") -> pd.DataFrame:
    tb = lpaths.times_between_steps(linked, case_study)
    return pd.DataFrame(
        {
            t("col_step", lang): tb["step"].map(lambda s: lpaths.step_label(s, lang)),
            t("col_next", lang): tb["next_step"].map(lambda s: lpaths.step_label(s, lang)),
            t("col_persons", lang): tb["persons"].astype(int),
            t("col_median", lang): tb["median_days"].round(0),
            t("col_q1", lang): tb["q1_days"].round(0),
            t("col_q3", lang): tb["q3_days"].round(0),
        }
    )


def dropout_counts(pp: pd.DataFrame, lang: str = "es", by: str = "sex") -> pd.DataFrame:
    """Linked persons by their last recorded step (rows) and ``sex`` or ``macrozone``."""
    from ..mse import macrozone
    from .unrecorded_victims import stratum_labels

    pp = pp.assign(macrozone=macrozone(pp["region_code"])) if by == "macrozone" else pp
    d = lpaths.dropouts(pp, by)
    d = d.rename(columns=stratum_labels(by, list(d.columns), lang))
    d.index = [lpaths.step_label(s, lang) for s in d.index]
    d.index.name = t("col_last_step", lang)
    d.columns.name = None
    return d
