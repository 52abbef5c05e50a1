"""Words, tables and the chart for the "unrecorded victims" pages (Spanish and English).

Everything a notebook shows about an estimate comes from here, so that the notebook stays
thin and every sentence is tested: :func:`describe` (the result in words), :func:`notes_text`
(caveats the data raised), :func:`assumptions` (the four assumptions and how they fail in
each case study), :func:`summary_table`, :func:`strata_table` and :func:`plot_estimate`.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import yaml

from .i18n import check_lang, institution_name
from .mse import MSEResult
from .style import HATCHES, institution_style, new_figure, thousands


@cache
def _texts() -> dict:
    from importlib.resources import files

    return yaml.safe_load(files("datajusta_lib").joinpath("mse_texts.yaml").read_text("utf-8"))


def t(key: str, lang: str, **values) -> str:
    check_lang(lang)
    entry = _texts()[key][lang]
    return entry.format(**values) if values else entry


def _n(value: float, lang: str) -> str:
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
        return t("method_stepwise", lang, pthresh=res.pthresh)
    return t(f"method_{res.method}", lang)


def describe(res: MSEResult, lang: str = "es") -> str:
    """The estimate in a few sentences of Markdown, or why there is none."""
    check_lang(lang)
    if not res.ok:
        return t("no_estimate", lang, reason=problem_text(res.problem, lang))
    lo, hi = res.interval
    n = res.n_observed
    parts = [
        t(
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
            t(
                "model_terms",
                lang,
                method=method_text(res, lang),
                terms=_join([_pair(p, lang) for p in finite], lang),
            )
        )
    else:
        parts.append(t("model_main", lang))
    if res.infinite_terms:
        parts.append(
            t(
                "model_infinite",
                lang,
                terms=_join([_pair(p, lang) for p in res.infinite_terms], lang),
            )
        )
    n_boot = len(res.bootstrap.replicates) if res.bootstrap is not None else 0
    if res.interval_method == "bca":
        key = "interval_bca" if res.bootstrap.reselect else "interval_bca_fixed"
        parts.append(t(key, lang, n_boot=thousands(n_boot, lang)))
    else:
        parts.append(t(f"interval_{res.interval_method}", lang, n_boot=thousands(n_boot, lang)))
    return "\n\n".join(parts)


def problem_text(problem: dict | None, lang: str) -> str:
    if problem is None:
        return ""
    code = problem["code"]
    if code == "mle_does_not_exist":
        return t(
            "problem_mle_does_not_exist",
            lang,
            histories=", ".join(problem.get("forced_zero_histories", [])) or "—",
        )
    return t(f"problem_{code}", lang)


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
            values["reason"] = t("reason_same_as", lang, other=_name(reason.split(":", 1)[1], lang))
        else:
            values["reason"] = t(f"reason_{reason}", lang)
    elif code == "no_overlap":
        values["pair"] = _pair(note["pair"], lang)
    elif code == "isolated_list":
        values["list"] = _name(note["list"], lang)
    return t(f"note_{code}", lang, **values)


def notes_text(res: MSEResult, lang: str = "es") -> str:
    """The caveats the data raised, as a Markdown bullet list ('' if none)."""
    lines = [f"- {_note(n, lang)}" for n in res.notes]
    return "\n".join(lines)


def assumptions(case_study: str, lang: str = "es") -> str:
    """The four assumptions of the method, each with how it is likely to fail here."""
    ex = _texts()["examples"][case_study]
    items = [
        t(f"assumption_{key}", lang, example=ex[key][lang])
        for key in ("closed", "independence", "homogeneous", "definitions")
    ]
    return "\n".join(
        [
            t("assumptions_intro", lang),
            "",
            *[f"{i}. {x}" for i, x in enumerate(items, 1)],
            "",
            t("assumptions_direction", lang),
        ]
    )


def summary_table(res: MSEResult, lang: str = "es") -> pd.DataFrame:
    """Recorded list sizes beside the estimate (counts are raw: show it through the gate)."""
    rows = [
        {
            "what": t("row_list", lang, name=_name(x, lang)),
            "persons": int(n),
            "lower": np.nan,
            "upper": np.nan,
        }
        for x, n in res.list_sizes.items()
    ]
    rows.append(
        {
            "what": t("row_observed", lang),
            "persons": res.n_observed,
            "lower": np.nan,
            "upper": np.nan,
        }
    )
    if res.ok:
        lo, hi = res.interval
        rows.append(
            {
                "what": t("row_dark", lang),
                "persons": round(res.dark),
                "lower": round(lo - res.n_observed),
                "upper": round(hi - res.n_observed),
            }
        )
        rows.append(
            {
                "what": t("row_total", lang),
                "persons": round(res.total),
                "lower": round(lo),
                "upper": round(hi),
            }
        )
    df = pd.DataFrame(rows)
    for col in ("lower", "upper"):
        df[col] = df[col].astype("Int64")
    return df.rename(
        columns={
            "what": t("col_what", lang),
            "persons": t("col_persons", lang),
            "lower": t("col_lower", lang),
            "upper": t("col_upper", lang),
        }
    )


def strata_table(rows: pd.DataFrame, lang: str = "es", labels: dict | None = None) -> pd.DataFrame:
    """The per-stratum results of :func:`datajusta_lib.mse.estimate_by_stratum`, readable."""
    labels = labels or {}
    out = pd.DataFrame(
        {
            t("col_stratum", lang): [labels.get(v, v) for v in rows["stratum"]],
            t("col_observed", lang): rows["observed"].astype(int),
            t("col_total", lang): [
                round(v) if ok else pd.NA
                for v, ok in zip(rows.get("total", np.nan), rows["ok"], strict=True)
            ],
            t("col_lower", lang): [
                round(v) if ok else pd.NA
                for v, ok in zip(rows.get("lower", np.nan), rows["ok"], strict=True)
            ],
            t("col_upper", lang): [
                round(v) if ok else pd.NA
                for v, ok in zip(rows.get("upper", np.nan), rows["ok"], strict=True)
            ],
            t("col_status", lang): [
                t("status_ok", lang) if ok else t(f"problem_{p}", lang)
                for ok, p in zip(rows["ok"], rows["problem"], strict=True)
            ],
        }
    )
    for col in out.columns[2:5]:
        out[col] = out[col].astype("Int64")
    return out


def plot_estimate(res: MSEResult, lang: str = "es", suppress_below: int = 10):
    """Horizontal bars: each list, the persons on at least one, and the estimated total with
    its interval. Every bar carries its number (or "fewer than k" with no bar, for counts
    below ``suppress_below``), so the chart reads without colour. Returns (fig, alt text)."""
    check_lang(lang)
    fig, ax = new_figure(8.5, 0.55 * (len(res.list_sizes) + 3) + 1.2)
    labels, values, styles = [], [], []
    for i, (name, n) in enumerate(res.list_sizes.items()):
        labels.append(_name(name, lang))
        values.append(int(n))
        st = institution_style(name, i)
        styles.append({"color": st["color"], "hatch": HATCHES[i % len(HATCHES)]})
    labels.append(t("row_observed", lang))
    values.append(res.n_observed)
    styles.append({"color": "#555555", "hatch": ""})
    if res.ok:
        labels.append(t("row_total", lang))
        values.append(res.total)
        styles.append({"color": "#ffffff", "hatch": "xx"})
    y = np.arange(len(values))[::-1]
    top = max(values + ([res.interval[1]] if res.ok else []))
    ax.set_axisbelow(True)
    for k, (yi, v, st) in enumerate(zip(y, values, styles, strict=True)):
        small = v < suppress_below
        if not small:
            ax.barh(yi, v, color=st["color"], hatch=st["hatch"], edgecolor="#222222", linewidth=0.8)
        label = t("suppressed", lang, k=suppress_below) if small else _n(v, lang)
        x = 0 if small else v
        if res.ok and k == len(values) - 1:  # the estimate: number and interval after it
            lo, hi = res.interval
            ax.errorbar(
                res.total,
                yi,
                xerr=[[res.total - lo], [hi - res.total]],
                fmt="none",
                ecolor="#000000",
                capsize=6,
                linewidth=1.8,
            )
            span = t(
                "chart_interval",
                lang,
                level=round(res.level * 100),
                lo=_n(lo, lang),
                hi=_n(hi, lang),
            )
            label = f"{label}\n({span})"
            x = hi
        ax.text(x + top * 0.015, yi, label, va="center", ha="left", fontsize=9.5)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, top * 1.6)
    ax.set_xlabel(t("chart_xlabel", lang))
    ax.set_title(t("chart_title", lang))
    ax.grid(axis="y", visible=False)
    shown = [
        f"{lab} {t('suppressed', lang, k=suppress_below) if v < suppress_below else _n(v, lang)}"
        for lab, v in zip(labels[: len(res.list_sizes)], values, strict=False)
    ]
    alt = t(
        "chart_alt",
        lang,
        lists="; ".join(shown),
        n=_n(res.n_observed, lang),
        total=_n(res.total, lang) if res.ok else "—",
        lo=_n(res.interval[0], lang) if res.ok else "—",
        hi=_n(res.interval[1], lang) if res.ok else "—",
    )
    return fig, alt
