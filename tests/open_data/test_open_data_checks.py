"""Cross-source checks: the open data against the figures the project already verified
(data/published/figures.csv). Where the two agree the test pins it; where they disagree
the test pins the disagreement, so that a revision by either publisher shows up here."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import datajusta_lib as dj


@pytest.fixture(scope="module")
def figures(root):
    return pd.read_csv(root / "data/published/figures.csv").set_index("id")


@pytest.fixture(scope="module")
def sernameg():
    t = dj.open_series("attempted_femicide", institution="SERNAMEG")
    t = t[t["dataset"] == "sernameg_femicidios_consumados_frustrados_region_anio"]
    return t.groupby(["phenomenon", t["period_start"].dt.year])["value"].sum()


@pytest.mark.parametrize(
    "fig_id, year", [("af01", 2019), ("af02", 2020), ("af04", 2022), ("af05", 2023)]
)
def test_sernameg_frustrated_femicides_equal_the_published_figure(figures, sernameg, fig_id, year):
    row = figures.loc[fig_id]
    assert row["metric"] == "attempted_femicides_frustrado"
    assert str(row["period_start"]).startswith(str(year))
    assert sernameg[("femicide_frustrated", year)] == row["value"]


def test_sernameg_frustrated_2019_is_109(sernameg):
    assert sernameg[("femicide_frustrated", 2019)] == 109


@pytest.mark.parametrize("fig_id, year", [("af11", 2020), ("af12", 2021), ("af13", 2022)])
def test_sernameg_completed_femicides_equal_the_published_figure(figures, sernameg, fig_id, year):
    assert figures.loc[fig_id, "metric"] == "femicides_consumado"
    assert sernameg[("femicide_completed", year)] == figures.loc[fig_id, "value"]


@pytest.mark.parametrize(
    "fig_id, phenomenon, year, published, open_value",
    [
        ("af03", "femicide_frustrated", 2021, 163, 164),  # CIF series vs SernamEG page
        ("af10", "femicide_completed", 2019, 49, 46),  # CIF (Informe Intersectorial) vs SernamEG
        ("af16", "femicide_completed", 2023, 43, 42),  # the figures file already notes 42 vs 43
    ],
)
def test_known_disagreements_stay_as_they_are(
    figures, sernameg, fig_id, phenomenon, year, published, open_value
):
    assert figures.loc[fig_id, "value"] == published
    assert sernameg[(phenomenon, year)] == open_value


def test_indh_vision_loss_equals_the_indh_balance(figures):
    """INDH's Oct 2020 balance (pv18 notes): 32 irreversible losses of vision."""
    note = figures.loc["pv18", "notes"]
    published = int(re.search(r"(\d+) irreversible loss of vision", note).group(1))
    t = dj.open_series("protest_violence", institution="INDH")
    inj = t[t["dataset"] == "indh_victimas_region_consecuencia_sexo"]
    assert (
        inj[inj["category"].str.startswith("Pérdida de visión")]["value"].sum() == published == 32
    )


def test_red_chilena_registered_by_sernameg_tracks_sernameg_completed(sernameg):
    """Red Chilena's cases flagged 'registered by SernamEG' are within 2 of SernamEG's own
    count in 7 of the 9 years 2015-2023 (2017: 41 vs 44, 2018: 34 vs 42; 2024 is partial):
    the two series describe the same killings."""
    red = dj.open_series("attempted_femicide", institution="RED_CHILENA")
    si = red[red["detail"].str.contains("registrado_sernameg=Si;")]
    by_year = si.groupby(si["period_start"].dt.year)["value"].sum()
    gaps = {y: abs(by_year[y] - sernameg[("femicide_completed", y)]) for y in range(2015, 2024)}
    assert sorted(y for y, gap in gaps.items() if gap > 2) == [2017, 2018], gaps
    # and Red Chilena counts more femicides than SernamEG every year
    total = red.groupby(red["period_start"].dt.year)["value"].sum()
    assert all(total[y] > sernameg[("femicide_completed", y)] for y in range(2013, 2024))


def test_court_femicide_cases_exceed_sernameg_completed_plus_frustrated(sernameg):
    """The Poder Judicial's femicidio materia mixes completed and attempted: 2019 176 cases
    entering courts of guarantee against SernamEG's 46 + 109 = 155 victims."""
    pj = dj.open_series(
        "attempted_femicide",
        institution="PJUD_GARANTIA",
        phenomenon="femicide_completed_and_attempted",
        unit="court_cases",
    )
    y2019 = pj[pj["period_start"].dt.year == 2019]["value"].sum()
    assert y2019 == 176
    assert sernameg[("femicide_completed", 2019)] + sernameg[("femicide_frustrated", 2019)] == 155
