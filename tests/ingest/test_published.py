"""Published figures: comparisons, disagreements and texts checked against the figures by hand."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pytest

from datajusta_lib.core.canon import case_studies
from datajusta_lib.ingest import published as pub


def test_every_metric_and_institution_is_described():
    df = pub.published_figures()
    for metric in df["metric"].unique():
        assert pub.metric_label(metric, "es") and pub.metric_label(metric, "en")
    from datajusta_lib.core.i18n import institutions

    assert set(df["institution"]) <= set(institutions())


def test_disagreements_are_the_known_conflicts():
    """Hand-checked against figures.csv: same metric (or same_as), unit and period, different value."""
    dis = pub.disagreements(pub.published_figures())
    got = {(r.ids, r.low, r.high) for r in dis.itertuples()}
    assert got == {
        ("pv03, pv04", 190, 197),  # INDH vs Minsal on 12 Nov 2019 (starts 17 vs 18 Oct)
        ("pv22, pv24", 10142, 11506),  # Fiscalía human-rights unit vs 2025 report, same period
        ("af14, af16", 42, 43),  # CIF series vs SernamEG, 2023
        ("af15, af17", 43, 44),  # CIF series vs SernamEG, 2024
    }


def test_figures_counting_different_things_are_not_called_disagreements():
    dis = pub.disagreements(pub.published_figures("attempted_femicide"))
    # frustrado and tentado in the same year are different metrics, not a conflict
    assert not dis["ids"].str.contains("af07").any()


def test_comparison_table_keeps_value_unit_dates_and_source_of_every_figure():
    df = pub.published_figures("protest_violence")
    table = pub.comparison_table(df, "es")
    assert len(table) == len(df)
    row = table.set_index("id").loc["pv22"]
    assert row["Valor"] == "10.142"
    assert row["Unidad"] == "causas"
    assert row["Publicado"] == "23-04-2025"
    assert row["Período"] == "18-10-2019 – 31-03-2020"
    assert row["Fuente"].startswith("https://elciudadano.com/")
    en = pub.comparison_table(df, "en").set_index("id").loc["pv22"]
    assert (en["Value"], en["Unit"], en["Published"]) == ("10,142", "cases", "2025-04-23")


@pytest.mark.parametrize("case_study", case_studies())
def test_every_family_plots_with_alt_text_listing_each_value(case_study):
    df = pub.published_figures(case_study)
    for family in pub.families(df):
        fig = pub.plot_family(df, family, "en")
        try:
            ax = fig.axes[0]
            assert ax.get_title(loc="left") == pub.family_title(family, "en")
            assert ax.get_xlabel() or ax.get_ylabel()
        finally:
            plt.close(fig)
        alt = pub.alt_text(df, family, "en")
        for value in df.loc[df["family"] == family, "value"]:
            assert f"{value:,.0f}" in alt


@pytest.mark.parametrize("case_study", case_studies())
@pytest.mark.parametrize("lang", ["es", "en"])
def test_readings_cite_only_existing_figures_with_their_values(case_study, lang):
    """Every figure id cited in a reading exists, and the number quoted next to it is its value."""
    df = pub.published_figures().set_index("id")
    text = pub.reading(case_study, lang)
    cited = re.findall(r"\(((?:[a-z]{2}\d{2}(?:, )?)+)\)", text)
    ids = [i for group in cited for i in group.split(", ")]
    assert ids, "a reading must cite its figures"
    for fid in ids:
        assert fid in df.index, fid
    # the value of every cited figure is quoted in the reading, formatted for the language
    for fid in ids:
        value = df.at[fid, "value"]
        formatted = f"{value:,.0f}".replace(",", "." if lang == "es" else ",")
        assert formatted in text, (fid, formatted)


def test_metric_and_family_descriptions_are_clean(root):
    """Catches YAML flow mappings split by an unquoted comma (a silent stray key)."""
    import yaml

    spec = yaml.safe_load((root / "data/published/metrics.yaml").read_text(encoding="utf-8"))
    for name, metric in spec["metrics"].items():
        assert set(metric) <= {"family", "es", "en", "same_as"}, (name, metric)
        assert metric["family"] in spec["families"], name
        assert all(isinstance(metric[lang], str) and metric[lang] for lang in ("es", "en")), name
    for name, family in spec["families"].items():
        assert set(family) == {"case_study", "chart", "title"}, name
        assert set(family["title"]) == {"es", "en"}, name
