"""Estimation under attack (issue 14, points 11-13): never an absurd number, never a traceback."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from datajusta_lib import mse
from datajusta_lib.cli import app
from datajusta_lib.pages import unrecorded_victims as mse_report

ONE_LIST_HOLDS_ALL = pd.DataFrame(
    {"A": [1, 1, 1, 1], "B": [0, 1, 0, 1], "C": [0, 0, 1, 1], "count": [20, 10, 10, 6]}
)
SPARSE_OVERLAP = pd.DataFrame({"A": [1, 0, 1], "B": [0, 1, 1], "count": [999, 999, 1]})


def _mse(tmp_path, text: str, *args: str, name: str = "t.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, CliRunner().invoke(app, ["mse", str(path), "--n-boot", "0", *args])


# ----------------------------------------------------------------------------- 11
def test_a_list_holding_everyone_never_gives_a_total_below_the_observed():
    res = mse.estimate(ONE_LIST_HOLDS_ALL, n_boot=200, seed=1)
    assert res.ok
    assert res.n_observed == 46
    assert res.total >= res.n_observed, f"total {res.total} below the {res.n_observed} observed"
    assert res.total == 46 and res.dark == 0  # as SparseMSE
    assert res.interval == (46, 46)
    assert [n["code"] for n in res.notes] == ["list_holds_everyone"]
    text = mse_report.describe(res, "es")
    assert "46" in text and "**unas 0 personas" in text


@pytest.mark.parametrize("n_boot", [0, 200])
def test_no_estimate_is_ever_below_the_number_observed(n_boot):
    rng = np.random.default_rng(3)
    for _ in range(20):
        counts = rng.integers(0, 30, size=7)
        counts[rng.integers(0, 7)] += 1
        table = {f"{i:03b}"[::-1]: int(c) for i, c in zip(range(1, 8), counts, strict=True)}
        res = mse.estimate(table, n_boot=n_boot, seed=1)
        if res.ok:
            assert res.total >= res.n_observed == counts.sum()
            assert res.interval[0] >= res.n_observed


# ----------------------------------------------------------------------------- 12
def test_bootstrap_replicates_without_overlap_make_the_interval_unbounded():
    res = mse.estimate(SPARSE_OVERLAP, n_boot=1000, seed=1)
    assert res.ok and res.total == pytest.approx(1_000_000)
    lo, hi = res.interval
    assert math.isinf(hi), (
        f"95% interval {lo:,.0f} to {hi:,.0f}: replicates with no overlap dropped"
    )
    assert lo < res.total
    codes = {n["code"]: n for n in res.notes}
    assert codes["bootstrap_infinite"]["infinite"] > 300
    assert "bootstrap_failures" not in codes
    assert "no upper limit" in mse_report.describe(res, "en")
    assert "sin límite superior" in mse_report.describe(res, "es")
    table = mse_report.estimates_table(res, "en")
    assert table["Upper limit"].isna().tolist() == [True, True, True]  # left empty, said in words
    mse_report.plot_estimate(res, "en")  # draws (to the edge) instead of failing


def test_percentile_interval_with_unbounded_replicates():
    res = mse.estimate(SPARSE_OVERLAP, n_boot=400, seed=2, interval="percentile")
    assert math.isinf(res.interval[1])


# ----------------------------------------------------------------------------- 13
@pytest.mark.parametrize("name", ["count", "Freq", "frequency", "n", "COUNT"])
def test_usual_count_column_names_are_recognised(tmp_path, name):
    _, run = _mse(tmp_path, f"A,B,{name}\n1,0,5\n0,1,3\n1,1,2\n")
    assert run.exit_code == 0, run.output
    assert "10 distinct persons" in run.output


def test_without_a_count_column_the_message_says_count(tmp_path):
    path, run = _mse(tmp_path, "A,B,veces\n1,0,5\n0,1,3\n1,1,2\n")
    assert run.exit_code == 1
    assert str(path) in run.output and "--count COLUMN" in run.output
    _, run = _mse(tmp_path, "A,B,veces\n1,0,5\n0,1,3\n1,1,2\n", "--count", "veces")
    assert run.exit_code == 0, run.output


def test_duplicate_list_names_are_refused(tmp_path):
    _, run = _mse(tmp_path, "A,A,count\n1,0,5\n0,1,3\n1,1,2\n")
    assert run.exit_code == 1, run.output
    assert "'A' appears more than once in the header (columns [1, 2])" in run.output


def test_a_semicolon_file_is_read(tmp_path):
    _, run = _mse(tmp_path, "A;B;count\n1;0;5\n0;1;3\n1;1;2\n")
    assert run.exit_code == 0, run.output
    assert "10 distinct persons" in run.output


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_an_empty_file_is_a_clear_error(tmp_path, text):
    path, run = _mse(tmp_path, text)
    assert run.exit_code == 1
    assert run.exception is None or isinstance(run.exception, SystemExit)
    assert f"{path}: the file is empty" in run.output


def test_messages_show_numbers_not_numpy_reprs(tmp_path):
    _, run = _mse(tmp_path, "A,B,count\n1,0,5\n0,2,3\n1,1,2.5\n")
    assert "np." not in run.output
    assert "row 2, column 'B': value 2 is not 0 or 1" in run.output
    _, run = _mse(tmp_path, "A,B,count\n1,0,5\n0,1,3\n1,1,2.5\n")
    assert "np." not in run.output
    assert "row 3, column 'count': 2.5 is not a whole number" in run.output


def test_errors_are_translated_with_lang_es(tmp_path):
    _, run = _mse(tmp_path, "A,B,count\n1,0,5\n0,1,3\n1,1,2.5\n", "--lang", "es")
    assert "fila 3, columna 'count': 2.5 no es un número entero" in run.output
    assert "tabla de historias de captura" in run.output
    _, run = _mse(tmp_path, "", "--lang", "es")
    assert "el archivo está vacío" in run.output
    _, run = _mse(tmp_path, "A,B,veces\n1,0,5\n", "--lang", "es")
    assert "--count COLUMNA" in run.output


def test_every_error_message_exists_in_both_languages():
    import yaml

    from datajusta_lib.core.paths import data_dir

    messages = yaml.safe_load((data_dir() / "i18n" / "mse_errors.yaml").read_text("utf-8"))
    for key, entry in messages.items():
        assert set(entry) == {"es", "en"}, key
