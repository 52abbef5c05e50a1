"""The datajusta command line: exit codes and messages people can act on."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from datajusta_lib import __version__
from datajusta_lib.cli import app

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0 and result.output.strip() == __version__


def test_validate_figures_passes_on_the_shipped_file(root):
    result = runner.invoke(app, ["validate-figures", str(root / "data/published/figures.csv")])
    assert result.exit_code == 0, result.output
    assert "47 rows read, 47 accepted, 0 rejected" in result.output


def test_validate_figures_fails_naming_file_row_column_and_rule(root, tmp_path):
    df = pd.read_csv(root / "data/published/figures.csv", dtype=str)
    df.loc[2, "value"] = "-7"
    df.loc[4, "source_url"] = None
    bad = tmp_path / "bad.csv"
    df.to_csv(bad, index=False)
    result = runner.invoke(app, ["validate-figures", str(bad)])
    assert result.exit_code == 1
    assert (
        f"{bad}, row 4, column value: rule greater_than_or_equal_to(0); value -7.0" in result.output
    )
    assert f"{bad}, row 6, column source_url: rule not_nullable" in result.output
    assert "47 rows read, 45 accepted, 2 rejected" in result.output


def test_validate_figures_missing_file_exits_2(tmp_path):
    result = runner.invoke(app, ["validate-figures", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "no such file" in result.output
