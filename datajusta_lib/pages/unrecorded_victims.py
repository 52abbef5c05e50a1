"""Words, tables and the chart for the "unrecorded victims" pages (Spanish and English).

Everything a notebook shows about an estimate comes from here, so that the notebook stays
thin and every sentence is tested: :func:`describe` (the result in words), :func:`notes_text`
(caveats the data raised), :func:`assumptions` (the four assumptions and how they fail in
each case study), :func:`summary_table`, :func:`strata_table` and :func:`plot_estimate`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..core.i18n import check_lang, has_text, institution_name, text
from ..core.style import HATCHES, institution_style, new_figure, thousands
from ..mse.estimator import MSEResult


def _n(value: float, lang: str) -> str:
    if value == np.inf:  # an unbounded end of an interval
        return text("unbounded", lang)
    return thousands(round(value), lang)


def _name(code: str, lang: str) -> str:
    return institution_name(code, lang, short=True)


def _pair(pair: str, lang: str) -> str:
    a, b = pair.split(":")
    return f"{_name(a, lang)} – {_name(b, lang)}"


def _join(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    last = " y " if lang == "es" else " and "
    return ", ".join(items[:-1]) + last + items[-1]


def method_text(res: MSEResult, lang: str) -> str:
    if res.method == "stepwise":
        p = f"{res.pthresh:g}"
        return text("method_stepwise", lang, pthresh=p.replace(".", ",") if lang == "es" else p)
    return text(f"method_{res.method}", lang)


def describe(res: MSEResult, lang: str = "es") -> str:
    """The estimate in a few sentences of Markdown, or why there is none."""
    check_lang(lang)
    if not res.ok:
        return text("no_estimate", lang, reason=problem_text(res.problem, lang))
    lo, hi = res.interval
    n = res.n_observed
    parts = [
        text(
            "summary",
            lang,
            k=len(res.lists),
            n=_n(n, lang),
            dark=_n(res.dark, lang),
            total=_n(res.total, lang),
            level=round(res.level * 100),
            lo=_n(lo, lang),
            hi=_n(hi, lang),
            share=round(100 * n / res.total),
            share_lo=round(100 * n / hi),
            share_hi=min(100, round(100 * n / lo)),
        )
    ]
    finite = [x for x in res.model_terms if x not in res.infinite_terms]
    if finite:
        parts.append(
            text(
                "model_terms",
                lang,
                method=method_text(res, lang),
                terms=_join([_pair(p, lang) for p in finite], lang),
            )
        )
    else:
        parts.append(text("model_main", lang))
    if res.infinite_terms:
        parts.append(
            text(
                "model_infinite",
                lang,
                terms=_join([_pair(p, lang) for p in res.infinite_terms], lang),
            )
        )
    if res.interval_method == "holds_everyone":  # no model was fitted: say only why
        return "\n\n".join([parts[0], text("interval_holds_everyone", lang)])
    n_boot = len(res.bootstrap.replicates) if res.bootstrap is not None else 0
    if res.interval_method == "bca":
        key = "interval_bca" if res.bootstrap.reselect else "interval_bca_fixed"
        parts.append(text(key, lang, n_boot=thousands(n_boot, lang)))
    else:
        parts.append(text(f"interval_{res.interval_method}", lang, n_boot=thousands(n_boot, lang)))
    return "\n\n".join(parts)


def problem_text(problem: dict | None, lang: str) -> str:
    if problem is None:
        return ""
    code = problem["code"]
    if code == "mle_does_not_exist":
        return text(
            "problem_mle_does_not_exist",
            lang,
            histories=", ".join(problem.get("forced_zero_histories", [])) or "—",
        )
    return text(f"problem_{code}", lang)


def _note(note: dict, lang: str) -> str:
    code = note["code"]
    values = {k: v for k, v in note.items() if k != "code"}
    if code == "lists_without_identifier":
        values["lists"] = _join([_name(x, lang) for x in note["lists"]], lang)
    elif code == "unlinked_records":
        values["records"] = "; ".join(
            f"{_name(k, lang)}: {thousands(v, lang)}" for k, v in note["records"].items()
        )
    elif code == "list_dropped":
        reason = note["reason"]
        values["list"] = _name(note["list"], lang)
        if reason.startswith("same_as:"):
            values["reason"] = text(
                "reason_same_as", lang, other=_name(reason.split(":", 1)[1], lang)
            )
        else:
            values["reason"] = text(f"reason_{reason}", lang)
    elif code == "no_overlap":
        values["pair"] = _pair(note["pair"], lang)
    elif code in ("isolated_list", "list_holds_everyone"):
        values["list"] = _name(note["list"], lang)
    return text(f"note_{code}", lang, **values)


def notes_text(res: MSEResult, lang: str = "es") -> str:
    """The caveats the data raised, as a Markdown bullet list ('' if none)."""
    lines = [f"- {_note(n, lang)}" for n in res.notes]
    return "\n".join(lines)


def assumptions(case_study: str, lang: str = "es") -> str:
    """The four assumptions of the method, each with how it is likely to fail here."""
    items = [
        text(f"assumption_{key}", lang, example=text(f"examples.{case_study}.{key}", lang))
        for key in ("closed", "independence", "homogeneous", "definitions")
    ]
    return "\n".join(
        [
            text("assumptions_intro", lang),
            "",
            *[f"{i}. {x}" for i, x in enumerate(items, 1)],
            "",
            text("assumptions_direction", lang),
        ]
    )


def list_sizes(res: MSEResult, lang: str = "es") -> pd.Series:
    """Persons on each linkable list, labelled for the page: pass it to ``dj.gate_counts``."""
    sizes = res.list_sizes.copy()
    sizes.index = pd.Index([_name(x, lang) for x in sizes.index], name=text("col_list", lang))
    return sizes.rename(text("col_persons_on_list", lang))


def estimates_table(res: MSEResult, lang: str = "es") -> pd.DataFrame:
    """Observed, unrecorded and total with their interval, plus the observed count behind
    every row (``observed=`` for the ``estimates`` gate)."""
    obs_col = text("col_observed", lang)
    rows = [
        {
            "what": text("row_observed", lang),
            "value": res.n_observed,
            "lower": pd.NA,
            "upper": pd.NA,
        }
    ]
    if res.ok:
        lo, hi = res.interval
        rows += [
            {
                "what": text("row_dark", lang),
                "value": round(res.dark),
                "lower": round(lo - res.n_observed),
                # an unbounded upper end (no finite limit) is left empty; describe() says why
                "upper": round(hi - res.n_observed) if np.isfinite(hi) else pd.NA,
            },
            {
                "what": text("row_total", lang),
                "value": round(res.total),
                "lower": round(lo),
                "upper": round(hi) if np.isfinite(hi) else pd.NA,
            },
        ]
    df = pd.DataFrame(rows)
    for col in ("value", "lower", "upper"):
        df[col] = df[col].astype("Int64")
    df[obs_col] = res.n_observed
    return df.rename(
        columns={
            "what": text("col_what", lang),
            "value": text("col_persons", lang),
            "lower": text("col_lower", lang),
            "upper": text("col_upper", lang),
        }
    )


def alternatives_table(results: dict[str, MSEResult], lang: str = "es") -> pd.DataFrame:
    """The point estimate under each model-selection method: how much the answer depends on
    the choice of model (``observed=`` column for the ``estimates`` gate)."""
    rows = []
    for res in results.values():
        finite = [x for x in res.model_terms if x not in res.infinite_terms]
        rows.append(
            {
                text("col_method", lang): method_text(res, lang),
                text("col_model", lang): ", ".join(_pair(p, lang) for p in finite)
                or text("main_effects", lang),
                text("col_total", lang): round(res.total) if res.ok else pd.NA,
                text("col_status", lang): text("status_ok", lang)
                if res.ok
                else problem_text(res.problem, lang),
                text("col_observed", lang): res.n_observed,
            }
        )
    out = pd.DataFrame(rows)
    out[text("col_total", lang)] = out[text("col_total", lang)].astype("Int64")
    return out


def model_spread_text(results: dict[str, MSEResult], lang: str = "es") -> str:
    """One sentence on how much the total depends on the model choice (Markdown)."""
    totals = [r.total for r in results.values() if r.ok]
    if len(totals) < 2:
        return ""
    lo, hi = min(totals), max(totals)
    key = (
        "spread_large" if hi > 1.25 * lo else "spread_moderate" if hi > 1.1 * lo else "spread_small"
    )
    return text(key, lang, lo=_n(lo, lang), hi=_n(hi, lang), pct=round(100 * (hi / lo - 1)))


def strata_table(rows: pd.DataFrame, lang: str = "es", labels: dict | None = None) -> pd.DataFrame:
    """Per-stratum results of :func:`datajusta_lib.mse.estimate_by_stratum`, readable, with
    the observed count behind each row (``observed=`` for the ``estimates`` gate)."""
    labels = labels or {}
    ok = rows["ok"].astype(bool).to_numpy()

    def col(name):
        values = rows[name] if name in rows.columns else pd.Series(np.nan, index=rows.index)
        return pd.array(
            [round(v) if good else pd.NA for v, good in zip(values, ok, strict=True)], dtype="Int64"
        )

    return pd.DataFrame(
        {
            text("col_stratum", lang): [
                text("no_value", lang) if pd.isna(v) else labels.get(v, v) for v in rows["stratum"]
            ],
            text("col_total", lang): col("total"),
            text("col_lower", lang): col("lower"),
            text("col_upper", lang): col("upper"),
            text("col_status", lang): [
                text("status_ok", lang) if good else text(f"problem_{p}", lang)
                for good, p in zip(ok, rows["problem"], strict=True)
            ],
            text("col_observed", lang): rows["observed"].astype(int).to_numpy(),
        }
    )


def plot_estimate(res: MSEResult, lang: str = "es", sizes: pd.Series | None = None, k: int = 5):
    """Horizontal bars: each list, the persons on at least one, and the estimated total with
    its interval; returns (fig, alt text).

    ``sizes``: the list sizes a chart may draw, i.e. ``dj.gate_counts(list_sizes(res)).visible``
    (NaN where the gate hid a small count). Without it, sizes below ``k`` are hidden here.
    Hidden sizes get no bar, only the words "fewer than k". Every bar carries its number, so
    the chart reads without colour."""
    check_lang(lang)
    if sizes is None:
        raw = list_sizes(res, lang)
        sizes = raw.where(raw >= k)
    fig, ax = new_figure(8.5, 0.55 * (len(sizes) + 3) + 1.2)
    labels, values, styles = [], [], []
    for i, (code, (label, n)) in enumerate(zip(res.list_sizes.index, sizes.items(), strict=True)):
        labels.append(label)
        values.append(float(n))
        st = institution_style(code, i)
        styles.append({"color": st["color"], "hatch": HATCHES[i % len(HATCHES)]})
    labels.append(text("row_observed", lang))
    values.append(float(res.n_observed) if res.n_observed >= k else np.nan)
    styles.append({"color": "#555555", "hatch": ""})
    if res.ok:
        labels.append(text("row_total", lang))
        values.append(res.total)
        styles.append({"color": "#ffffff", "hatch": "xx"})
    y = np.arange(len(values))[::-1]
    finite = [v for v in values if np.isfinite(v)]
    bounded = res.ok and np.isfinite(res.interval[1])
    top = max(finite + ([res.interval[1]] if bounded else []) + [1.0])
    ax.set_axisbelow(True)
    hidden_text = text("suppressed", lang, k=k)
    for j, (yi, v, st) in enumerate(zip(y, values, styles, strict=True)):
        hidden = not np.isfinite(v)
        if not hidden:
            ax.barh(yi, v, color=st["color"], hatch=st["hatch"], edgecolor="#222222", linewidth=0.8)
        label = hidden_text if hidden else _n(v, lang)
        x = 0 if hidden else v
        if res.ok and j == len(values) - 1:  # the estimate: number and interval after it
            lo, hi = res.interval
            hi_text, hi = hi, (hi if np.isfinite(hi) else top * 1.45)  # unbounded: to the edge
            ax.errorbar(
                res.total,
                yi,
                xerr=[[res.total - lo], [hi - res.total]],
                fmt="none",
                ecolor="#000000",
                capsize=6,
                linewidth=1.8,
            )
            span = text(
                "chart_interval",
                lang,
                level=round(res.level * 100),
                lo=_n(lo, lang),
                hi=_n(hi_text, lang),
            )
            label = f"{label}\n({span})"
            x = hi
        ax.text(x + top * 0.015, yi, label, va="center", ha="left", fontsize=9.5)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, top * 1.6)
    ax.set_xlabel(text("chart_xlabel", lang))
    ax.set_title(text("chart_title", lang))
    ax.grid(axis="y", visible=False)
    shown = [
        f"{lab} {hidden_text if not np.isfinite(v) else _n(v, lang)}"
        for lab, v in zip(labels[: len(sizes)], values, strict=False)
    ]
    alt = text(
        "chart_alt",
        lang,
        lists="; ".join(shown),
        n=_n(res.n_observed, lang) if res.n_observed >= k else hidden_text,
        total=_n(res.total, lang) if res.ok else "—",
        lo=_n(res.interval[0], lang) if res.ok else "—",
        hi=_n(res.interval[1], lang) if res.ok else "—",
    )
    return fig, alt


def load_records(case_study: str, source: str = "synthetic") -> pd.DataFrame:
    """The case study's canonical records (``dj.load``) without printing ingestion warnings
    on the page: rows quarantined at ingestion are said by :func:`quarantine_text` instead."""
    import warnings

    from ..ingest.loading import load

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*quarantined; see dj\.quarantine")
        return load(case_study, source=source)


def quarantine_text(records: pd.DataFrame, lang: str = "es") -> str:
    """How many rows ingestion refused (they are in no list of this page); '' if none."""
    loads = records.attrs.get("ingestion", [])
    rejected = sum(int(x.get("n_rejected", 0)) for x in loads)
    read = sum(int(x.get("n_read", 0)) for x in loads)
    if not rejected:
        return ""
    return text("quarantined", lang, rejected=thousands(rejected, lang), read=thousands(read, lang))


def source_line(source: str, lang: str = "es") -> str:
    """The source line under every table and chart of the page."""
    import json

    from ..core.paths import synthetic_dir

    if source == "synthetic":
        meta = Path(synthetic_dir()) / "metadata.json"
        seed = json.loads(meta.read_text())["seed"] if meta.exists() else "?"
        return text("source_synthetic", lang, seed=seed)
    return text("source_private", lang)


def stratum_labels(by: str, values, lang: str = "es") -> dict:
    """Display names of stratum values (sex codes, macro-zones); others unchanged."""
    prefix = {"sex": "sex_", "macrozone": "zone_"}.get(by)

    def label(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return text("no_value", lang)
        return text(f"{prefix}{v}", lang) if prefix and has_text(f"{prefix}{v}") else str(v)

    return {v: label(v) for v in values}


def stratum_order(by: str) -> list | None:
    """The order strata are shown in: macro-zones north to south, sexes as in the vocabulary."""
    from ..analysis.counts import MACRO_ZONES
    from ..core.canon import vocabulary

    if by == "macrozone":
        return list(MACRO_ZONES)
    if by == "sex":
        return vocabulary("sex")
    return None


def by_label(by: str, lang: str = "es") -> str:
    key = f"by_{by}"
    return text(key, lang) if has_text(key) else by


@cache
def _eligibility() -> dict:
    from ..core.paths import data_dir

    with open(data_dir() / "analysis" / "mse_lists.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def eligible_records(records: pd.DataFrame, case_study: str) -> tuple[pd.DataFrame, dict]:
    """The records of the lists that count the estimate's population, and what was left out.

    Returns the kept records and ``{"excluded": {institution: n_rows}, "only": {institution:
    (values, n_rows_dropped)}}`` for :func:`eligibility_text`.
    """
    rules = _eligibility()[case_study]
    keep = ~records["institution"].isin(list(rules.get("exclude") or {}))
    excluded = records.loc[~keep, "institution"].value_counts().to_dict()
    only = {}
    for institution, conditions in (rules.get("only") or {}).items():
        of_inst = records["institution"] == institution
        ok = pd.Series(True, index=records.index)
        for column, values in conditions.items():
            ok &= records[column].isin(values)
        dropped = of_inst & ~ok
        only[institution] = (tuple(v for vs in conditions.values() for v in vs), int(dropped.sum()))
        keep &= ~dropped
    population = list(rules.get("classification") or [])
    by_list: dict[str, int] = {}
    if population:
        other = keep & ~records["classification"].isin(population)
        by_list = {k: int(v) for k, v in records.loc[other, "institution"].value_counts().items()}
        keep &= ~other
    kept = records[keep]
    kept.attrs = dict(records.attrs)
    selection = {"excluded": excluded, "only": only}
    if population:
        selection["classification"] = (tuple(population), by_list)
    return kept, selection


def _classification_label(value: str, case_study: str | None, lang: str) -> str:
    """A classification code in words (``data/i18n/labels.yaml``), never the code itself."""
    from ..core.i18n import text

    try:
        return text(f"value_classification_{value}", lang)
    except KeyError:
        return value.replace("_", " ")


def eligibility_text(case_study: str, selection: dict, lang: str = "es") -> str:
    """Which population the estimate is about, and each list or row set left out and why."""
    rules = _eligibility()[case_study]
    parts = [text("eligibility_population", lang, population=rules["population"][lang])]
    for institution in selection["excluded"]:
        reason = rules["exclude"][institution][lang]
        parts.append(
            text("eligibility_excluded", lang, institution=_name(institution, lang), reason=reason)
        )
    for institution, (values, dropped) in selection["only"].items():
        if dropped:
            parts.append(
                text(
                    "eligibility_only",
                    lang,
                    institution=_name(institution, lang),
                    values=_join(
                        [_classification_label(v, case_study, lang) for v in values], lang
                    ),
                    dropped=_n(dropped, lang),
                )
            )
    if "classification" in selection:
        values, by_list = selection["classification"]
        dropped = {k: v for k, v in by_list.items() if v}
        parts.append(
            text(
                "eligibility_population_only",
                lang,
                values=_join([_classification_label(v, case_study, lang) for v in values], lang),
                dropped=_n(sum(dropped.values()), lang),
                lists="; ".join(f"{_name(k, lang)}: {_n(v, lang)}" for k, v in dropped.items())
                or "—",
            )
        )
    return " ".join(parts)


def latent_class_text(loglinear: MSEResult, latent, lang: str = "es") -> str:
    """The latent-class (LCMCR) estimate beside the log-linear one, with a reading of when
    each is credible; no figure when the chains did not converge."""
    check_lang(lang)
    if not latent.ok:
        rhat = f"{latent.rhat:.3f}"
        rhat = rhat.replace(".", ",") if lang == "es" else rhat
        return text("latent_not_converged", lang, rhat=rhat)
    key = "latent_similar"
    ll = "—"
    if loglinear.ok:
        lo, hi = loglinear.interval
        ll = f"{_n(lo, lang)}–{_n(hi, lang)}"
        if latent.interval[0] > hi:
            key = "latent_higher"
        elif latent.interval[1] < lo:
            key = "latent_lower"
    reading = text(key, lang)
    return text(
        "latent_ok",
        lang,
        lo=_n(latent.interval[0], lang),
        hi=_n(latent.interval[1], lang),
        total=_n(latent.total, lang),
        ll=ll,
        reading=reading,
    )


# --------------------------------------------------------------------------------------
# linkage: the estimate uses the probabilistic links (issue 15), and says how much they matter
# --------------------------------------------------------------------------------------
def link_records(records: pd.DataFrame, case_study: str, source: str = "synthetic"):
    """The records linked by the project's privacy-preserving linkage: ``person_key`` becomes
    the person splink estimates from the encodings (see ``dj.linkage``).

    Returns ``(records, result)``. With private data and no linkage key set, the records keep
    their exact keyed hash and ``result`` is None; :func:`linkage_text` says so."""
    from ..ingest.pseudonymise import MissingKeyError
    from ..linkage.cache import case_study_linkage
    from ..linkage.link import attach_links

    try:
        _, result = case_study_linkage(case_study, source)  # the interoperability page's links
    except MissingKeyError:
        if source == "synthetic":
            raise
        return records, None
    return attach_links(records, result), result


def linkage_text(ch, lang: str = "es", linkage=None) -> str:
    """Which lists could be linked and which could not (Markdown). ``linkage``: the result of
    :func:`link_records` (probabilistic links), or None when the records kept their exact
    pseudonymous keys."""
    suffix = "_probabilistic" if linkage is not None else ""
    linked = _join([_name(x, lang) for x in ch.lists], lang)
    parts = [text(f"linkage_linked{suffix}", lang, n=len(ch.lists), lists=linked)]
    if ch.dropped_lists:
        parts.append(
            text(
                f"linkage_dropped{suffix}",
                lang,
                lists=_join([_name(x, lang) for x in ch.dropped_lists], lang),
            )
        )
    partial = {k: v for k, v in ch.unlinked.items() if v and k not in ch.dropped_lists}
    if partial:
        parts.append(
            text(
                f"linkage_partial{suffix}",
                lang,
                lists=_join(
                    [f"{_name(k, lang)} ({thousands(v, lang)})" for k, v in partial.items()], lang
                ),
            )
        )
    if linkage is None:
        parts.insert(0, text("linkage_exact_fallback", lang))
    return " ".join(parts)


def _decimal(x: float, lang: str) -> str:
    s = f"{x:g}"
    return s.replace(".", ",") if lang == "es" else s


def _linkage_label(variant: dict, lang: str) -> str:
    if variant["links"] == "estimated":
        key = "linkage_row_used" if variant["used"] else "linkage_row_threshold"
        return text(key, lang, threshold=_decimal(variant["threshold"], lang))
    return text(f"linkage_row_{variant['links']}", lang)


def _total(res: MSEResult):
    return round(res.total) if res.ok else pd.NA


def linkage_table(variants: list[dict], lang: str = "es") -> pd.DataFrame:
    """One row per way of linking the same records (``dj.linkage.quality.mse_by_linkage``):
    persons observed, the total with this page's model and with the model chosen again, and
    that model; ``observed=`` column for the ``estimates`` gate."""
    rows = []
    for v in variants:
        same, again = v["same_model"], v["reselected"]
        finite = [x for x in again.model_terms if x not in again.infinite_terms]
        rows.append(
            {
                text("col_linkage_method", lang): _linkage_label(v, lang),
                text("col_total_same_model", lang): _total(same),
                text("col_total_reselected", lang): _total(again),
                text("col_model_reselected", lang): (
                    ", ".join(_pair(p, lang) for p in finite) or text("main_effects", lang)
                )
                if again.ok
                else problem_text(again.problem, lang),
                text("col_observed", lang): same.n_observed,
            }
        )
    out = pd.DataFrame(rows)
    for col in ("col_total_same_model", "col_total_reselected"):
        out[text(col, lang)] = out[text(col, lang)].astype("Int64")
    return out


def linkage_spread_text(variants: list[dict], lang: str = "es") -> str:
    """How much the total moves with the linkage, with this page's model and when the model
    is chosen again; the true links beside them on synthetic data (Markdown)."""
    estimated = [v for v in variants if v["links"] == "estimated"]
    by = {v["links"]: v for v in variants if v["links"] != "estimated"}

    def span(key, pool):
        totals = [v[key].total for v in pool if v[key].ok]
        return (min(totals), max(totals)) if totals else None

    parts = []
    same = span("same_model", estimated)
    if same:
        exact = by.get("exact")
        parts.append(
            text(
                "linkage_spread_same",
                lang,
                lo=_n(same[0], lang),
                hi=_n(same[1], lang),
                exact=_n(exact["same_model"].total, lang)
                if exact and exact["same_model"].ok
                else "—",
            )
        )
    again = span("reselected", [v for v in variants if v["links"] != "true"])
    if same and again:
        wider = (again[1] - again[0]) > 2 * (same[1] - same[0]) and again[1] > 1.1 * again[0]
        key = "linkage_spread_model" if wider else "linkage_spread_reselected"
        parts.append(text(key, lang, lo=_n(again[0], lang), hi=_n(again[1], lang)))
    true, page = by.get("true"), next((v for v in estimated if v["used"]), None)
    if true and true["same_model"].ok and true["reselected"].ok:
        same_t, again_t = true["same_model"].total, true["reselected"].total
        # the linkage errors matter little with the page's model, but tip the model choice
        tipped = (
            page is not None
            and page["same_model"].ok
            and abs(same_t / page["same_model"].total - 1) < 0.05
            and abs(again_t / same_t - 1) > 0.05
        )
        parts.append(
            text(
                "linkage_truth_model" if tipped else "linkage_truth",
                lang,
                same=_n(same_t, lang),
                again=_n(again_t, lang),
            )
        )
    return " ".join(parts)
