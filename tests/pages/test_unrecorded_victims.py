"""Words, tables and chart of the "unrecorded victims" pages, in both languages."""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

from datajusta_lib.core.i18n import has_text, text
from datajusta_lib.mse import estimator as mse
from datajusta_lib.pages import unrecorded_victims as rep

LANGS = ("es", "en")
NOTE_CODES = [
    "duplicate_histories_summed",
    "lists_without_identifier",
    "unlinked_records",
    "list_dropped",
    "no_overlap",
    "isolated_list",
    "bootstrap_failures",
    "bootstrap_unreliable",
    "extreme_extrapolation",
    "interval_unbounded",
    "solver_disagreement",
    "not_converged",
]
PROBLEM_CODES = [
    "fewer_than_two_informative",
    "no_overlap_at_all",
    "mle_does_not_exist",
    "not_identifiable",
    "too_few_persons",
    "fewer_than_two_lists",
]


@pytest.fixture(scope="module")
def uk(reference_dir):
    table = pd.read_csv(reference_dir / "uk_modern_slavery_2013_five_lists.csv")
    return mse.estimate(table, n_boot=100, seed=1)


def test_every_note_problem_and_assumption_has_its_text():
    # both languages and the same placeholders: tests/core/test_i18n.py, for every text file
    for code in NOTE_CODES:
        assert has_text(f"note_{code}"), code
    for code in PROBLEM_CODES:
        assert has_text(f"problem_{code}"), code
    for case in ("trafficking", "attempted_femicide", "protest_violence"):
        for item in ("closed", "independence", "homogeneous", "definitions"):
            assert has_text(f"examples.{case}.{item}"), (case, item)


@pytest.mark.parametrize("lang", LANGS)
def test_description_carries_the_numbers(uk, lang):
    text = rep.describe(uk, lang)
    sep = "." if lang == "es" else ","
    assert f"2{sep}744" in text and f"11{sep}313" in text
    lo, hi = uk.interval
    assert rep.thousands(round(lo), lang) in text and rep.thousands(round(hi), lang) in text
    assert "BCa" in text
    assert "LA – NG" in text  # the model's dependences named


@pytest.mark.parametrize("lang", LANGS)
def test_every_note_reads(lang):
    notes = [
        {"code": "duplicate_histories_summed"},
        {"code": "lists_without_identifier", "lists": ["MITP"]},
        {"code": "unlinked_records", "records": {"PDI": 3}},
        {"code": "list_dropped", "list": "A", "reason": "same_as:B"},
        {"code": "list_dropped", "list": "A", "reason": "holds_everyone"},
        {"code": "no_overlap", "pair": "PDI:SERMIG"},
        {"code": "isolated_list", "list": "OSC"},
        {"code": "bootstrap_failures", "failed": 3, "of": 100},
        {"code": "bootstrap_unreliable", "finite": 10},
        {"code": "extreme_extrapolation", "ratio": 31.2},
        {"code": "interval_unbounded", "upper": 1e6},
        {"code": "solver_disagreement", "max_diff": 0.01},
        {"code": "not_converged"},
    ]
    assert {n["code"] for n in notes} == set(NOTE_CODES)
    res = mse.MSEResult(
        ok=False,
        lists=("A", "B"),
        n_observed=0,
        list_sizes=pd.Series(),
        method="main",
        pthresh=None,
        notes=notes,
    )
    text = rep.notes_text(res, lang)
    assert text.count("\n- ") == len(notes) - 1
    assert "{" not in text


@pytest.mark.parametrize("case", ["trafficking", "attempted_femicide", "protest_violence"])
@pytest.mark.parametrize("lang", LANGS)
def test_assumptions_name_all_four_with_a_local_failure(case, lang):
    text = rep.assumptions(case, lang)
    assert len(re.findall(r"^\d\. \*\*", text, flags=re.M)) == 4
    assert "{" not in text


def test_estimates_table_carries_its_basis(uk):
    df = rep.estimates_table(uk, "en")
    assert list(df.columns) == [
        "What",
        "Persons",
        "Lower limit",
        "Upper limit",
        "Persons observed (basis)",
    ]
    assert df["Persons observed (basis)"].tolist() == [2744] * 3
    assert df["Persons"].tolist() == [2744, round(uk.dark), round(uk.total)]
    assert df["Upper limit"].iloc[2] == round(uk.interval[1])


def test_list_sizes_are_labelled_for_the_gate(uk):
    s = rep.list_sizes(uk, "es")
    assert s.name == "Personas en la lista" and s.index.name == "Lista"
    assert s.tolist() == [94, 567, 1169, 807, 336]


def test_chart_hides_small_counts_and_reads_without_colour(uk):
    sizes = rep.list_sizes(uk, "en").astype(float)
    sizes.iloc[0] = np.nan  # what the gate hides
    fig, alt = rep.plot_estimate(uk, "en", sizes=sizes, k=5)
    ax = fig.axes[0]
    bars = [
        p
        for p in ax.patches
        if isinstance(p, matplotlib.patches.Rectangle) and p.get_width() > 0 and p.get_height() < 1
    ]
    widths = sorted(round(b.get_width()) for b in bars)
    assert 94 not in widths and 567 in widths and round(uk.total) in widths
    texts = [t.get_text() for t in ax.texts]
    assert "fewer than 5" in texts
    assert any("11,313" in x and "95% interval" in x for x in texts)
    assert len({b.get_hatch() for b in bars}) >= 4  # patterns, not only colours
    assert "LA fewer than 5" in alt and "11,313" in alt
    matplotlib.pyplot.close(fig)


def test_alternatives_and_strata_tables(uk, reference_dir):
    table = pd.read_csv(reference_dir / "uk_modern_slavery_2013_five_lists.csv")
    alts = {m: mse.estimate(table, selection=m, n_boot=0) for m in ("stepwise", "main")}
    df = rep.alternatives_table(alts, "es")
    assert df["Total estimado"].tolist() == [11313, 13444]
    rows = pd.DataFrame(
        [
            {
                "stratum": "female",
                "observed": 300,
                "ok": True,
                "total": 812.4,
                "lower": 700.2,
                "upper": 990.0,
                "problem": None,
            },
            {"stratum": "male", "observed": 12, "ok": False, "problem": "too_few_persons"},
        ]
    )
    out = rep.strata_table(rows, "en", rep.stratum_labels("sex", rows["stratum"], "en"))
    assert out["Group"].tolist() == ["female", "male"]
    assert out["Persons observed (basis)"].tolist() == [300, 12]
    assert out["Estimated total"].tolist()[0] == 812
    assert out["Status"].tolist() == ["estimated", "Too few persons observed to estimate."]
    assert rep.stratum_labels("macrozone", ["far_south"], "es") == {"far_south": "Austral"}


def test_model_spread_is_said_plainly(uk, reference_dir):
    table = pd.read_csv(reference_dir / "uk_modern_slavery_2013_five_lists.csv")
    close = {m: mse.estimate(table, selection=m, n_boot=0) for m in ("stepwise", "aic")}
    assert rep.model_spread_text(close, "en").startswith(
        "From the same data, the totals run from 11,175 to 11,313"
    )
    far = {m: mse.estimate(table, selection=m, n_boot=0) for m in ("stepwise", "bic")}
    text = rep.model_spread_text(far, "es")
    assert text.startswith("**Con los mismos datos") and "22.991" in text
    assert rep.model_spread_text({"main": far["bic"]}, "en") == ""
    moderate = {m: mse.estimate(table, selection=m, n_boot=0) for m in ("stepwise", "main")}
    assert "by about 19%" in rep.model_spread_text(moderate, "en")  # 11,313 vs 13,444


def test_quarantine_is_said_from_the_ingestion_record():
    recs = pd.DataFrame({"institution": ["PDI"], "person_key": [None]})
    assert rep.quarantine_text(recs, "en") == ""
    recs.attrs["ingestion"] = [{"n_read": 1200, "n_rejected": 7}, {"n_read": 30, "n_rejected": 0}]
    assert "7 of 1,230 rows" in rep.quarantine_text(recs, "en")
    assert "7 de 1.230 filas" in rep.quarantine_text(recs, "es")


# --- the linkage behind the estimate (issue 15) ---------------------------------------
def _fit(total, observed=100, terms=(), ok=True):
    from types import SimpleNamespace

    return SimpleNamespace(
        ok=ok,
        total=float(total),
        n_observed=observed,
        model_terms=list(terms),
        infinite_terms=[],
        problem=None if ok else {"code": "too_few_persons"},
    )


def _variants(true_same, true_again, used=12831.0):
    v = [
        {"links": "estimated", "threshold": 0.5, "used": False},
        {"links": "estimated", "threshold": 0.9, "used": True},
        {"links": "estimated", "threshold": 0.99, "used": False},
        {"links": "exact", "threshold": None, "used": False},
        {"links": "true", "threshold": None, "used": False},
    ]
    same = [12602, used, 12957, 12501, true_same]
    again = [12602, used, 12957, 12501, true_again]
    for row, s, a in zip(v, same, again, strict=True):
        row["same_model"] = _fit(s, terms=["FISCALIA:INDH"])
        row["reselected"] = _fit(a, terms=["DPP:FISCALIA"])
    return v


@pytest.mark.parametrize("lang", LANGS)
def test_linkage_spread_says_when_the_links_tip_the_model_choice(lang):
    tipped = rep.linkage_spread_text(_variants(12741, 11619), lang)
    sep = "." if lang == "es" else ","
    assert f"12{sep}602" in tipped and f"12{sep}957" in tipped and f"12{sep}501" in tipped
    assert f"11{sep}619" in tipped
    assert ("cambiar el modelo elegido" if lang == "es" else "change the model chosen") in tipped
    plain = rep.linkage_spread_text(_variants(12700, 12650), lang)
    assert ("cambiar el modelo elegido" if lang == "es" else "change the model chosen") not in plain
    assert f"12{sep}650" in plain
    # without the truth (real data) nothing is said about true links
    real = rep.linkage_spread_text(_variants(1, 1)[:4], lang)
    assert ("verdaderos" if lang == "es" else "true links") not in real


@pytest.mark.parametrize("lang", LANGS)
def test_linkage_table_names_each_linkage_and_carries_its_basis(lang):
    table = rep.linkage_table(_variants(12741, 11619), lang)
    first = table.columns[0]
    labels = list(table[first])
    assert ("0,9" if lang == "es" else "0.9") in labels[1]
    assert ("esta página" if lang == "es" else "this page") in labels[1]
    assert ("sintéticos" if lang == "es" else "synthetic") in labels[4]
    assert table[text("col_observed", lang)].tolist() == [100] * 5
    assert table[text("col_total_same_model", lang)].tolist()[-1] == 12741


def test_linkage_text_says_when_it_falls_back_to_exact_keys():
    from types import SimpleNamespace

    ch = SimpleNamespace(lists=("FISCALIA", "PDI"), dropped_lists=("OSC",), unlinked={})
    probabilistic = rep.linkage_text(ch, "es", linkage=object())
    assert "enlace probabilístico" in probabilistic and "nombre, identificador ni" in probabilistic
    exact = rep.linkage_text(ch, "en", linkage=None)
    assert exact.startswith("Without a linkage key") and "exact match" in exact
