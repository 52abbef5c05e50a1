"""The case-study charts: titles, axes with units, written values, missing/not-recorded
shown, hidden cells marked, and alt text that lists every value shown."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from datajusta_lib.analysis import charts
from datajusta_lib.analysis.counts import MISSING, NON_JUDICIAL_EXIT, NOT_RECORDED, STAGES
from datajusta_lib.core.style import institution_style

nan = np.nan


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def tick_labels(ax, axis="y") -> list[str]:
    fig = ax.figure
    fig.canvas.draw()
    ticks = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    return [t.get_text() for t in ticks]


def visible_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


# ----------------------------------------------------------------------------- labels
def test_pct_and_counts_follow_the_language():
    assert charts.pct(42.0, "es") == "42 %"
    assert charts.pct(42.0, "en") == "42%"
    assert charts.pct(3.25, "es") == "3,2 %"  # one decimal under 10 %
    assert charts.pct(nan, "es") == "[c]"
    assert charts.count_text(12345, "es") == "12.345"
    assert charts.count_text(12345, "en") == "12,345"
    assert charts.count_text(nan) == "[c]"


def test_category_and_area_labels():
    assert charts.category_label("sex", "female", "es") == "mujer"
    assert charts.category_label("sex", MISSING, "en") == "missing (left blank)"
    assert charts.category_label("sex", NOT_RECORDED, "es") == "no lo registra"
    assert charts.category_label("nationality", "HTI", "es") == "Haití"
    assert charts.category_label("nationality", "foreign", "en") == "foreign"
    assert charts.category_label("age_band", "minor", "es") == "menor de 18 años"
    assert charts.category_label("procedural_stage", "judicial_exit", "en").startswith(
        "judicial exit"
    )
    assert (
        charts.category_label("funnel", "judicial_exit", "es")
        == "término judicial (con o sin condena)"
    )
    assert charts.area_label("13", "es") == "Metropolitana"
    assert charts.area_label("15", "es") == "Arica y Parinacota"
    assert charts.area_label("north", "en") == "North (Arica to Coquimbo)"


# ---------------------------------------------------------------------------- volumes
def volumes_frame():
    starts = pd.to_datetime(["2019-01-01", "2020-01-01", "2021-01-01"])
    rows = []
    for inst, unit, ns in [("FISCALIA", "offences", [12, nan, 30]), ("PDI", "persons", [0, 8, 15])]:
        for p, st, part, n in zip(
            ["2019", "2020", "2021"], starts, [True, False, False], ns, strict=True
        ):
            rows.append(
                {
                    "institution": inst,
                    "unit": unit,
                    "period": p,
                    "period_start": st,
                    "partial": part,
                    "n": n,
                }
            )
    return pd.DataFrame(rows)


def test_volumes_chart_one_panel_per_institution_with_units_and_values():
    changes = pd.DataFrame(
        {
            "date": [pd.Timestamp("2020-03-04")],
            "institutions": [("PDI",)],
            "note_es": ["x"],
            "note_en": ["x"],
        }
    )
    fig = charts.volumes_chart(
        volumes_frame(), freq="year", title="Registros por año", lang="es", changes=changes
    )
    axes = visible_axes(fig)
    assert len(axes) == 2
    assert fig._suptitle.get_text() == "Registros por año"
    assert axes[0].get_title(loc="left") == "Fiscalía · delitos"
    assert axes[1].get_title(loc="left") == "PDI · personas"
    assert axes[0].get_ylabel() == "delitos por año"
    assert axes[1].get_ylabel() == "personas por año"
    assert axes[1].get_xlabel() == "Año"
    t0 = [t.get_text() for t in axes[0].texts]
    assert "12" in t0 and "30" in t0 and "[c]" in t0  # values written; the hidden one marked
    t1 = [t.get_text() for t in axes[1].texts]
    assert {"0", "8", "15"} <= set(t1)
    assert any(t.startswith("cambio de definición 04-03-2020") for t in t1)
    assert not any(t.startswith("cambio de definición") for t in t0)  # only PDI's panel
    # each panel in its institution's colour
    assert axes[0].lines[0].get_color() == institution_style("FISCALIA")["color"]
    assert axes[1].lines[0].get_color() == institution_style("PDI")["color"]
    # the hidden value is a gap in the line, not a zero
    assert np.isnan(axes[0].lines[0].get_ydata()[1])


def test_volumes_alt_lists_every_value():
    alt = charts.volumes_alt(volumes_frame(), freq="year", title="Records per year", lang="en")
    assert alt.startswith("Records per year.")
    assert "Fiscalía (offences): 2019 (incomplete): 12; 2020: [c]; 2021: 30." in alt
    assert "PDI (persons): 2019 (incomplete): 0; 2020: 8; 2021: 15." in alt
    assert "[c]: value hidden by disclosure control." in alt


def test_volumes_chart_by_series_labels_each_line():
    df = volumes_frame()
    df = pd.concat(
        [
            df.assign(classification="femicidio_frustrado"),
            df.assign(classification="femicidio_tentado", n=df["n"].fillna(5) + 1),
        ]
    )
    fig = charts.volumes_chart(df, freq="year", title="t", lang="es", series="classification")
    ax = visible_axes(fig)[0]
    assert [ln.get_linestyle() for ln in ax.lines[:1]] == ["-"]
    assert "femicidio tentado" in [t.get_text() for t in ax.texts]
    alt = charts.volumes_alt(df, freq="year", title="t", lang="es", series="classification")
    assert "Fiscalía, femicidio tentado (delitos): 2019 (incompleto): 13; 2020: 6; 2021: 31." in alt


# ------------------------------------------------------------------------- categories
def categories_frame():
    return pd.DataFrame(
        {
            "institution": ["FISCALIA"] * 4 + ["PDI"] * 4 + ["CARABINEROS"],
            "unit": ["offences"] * 4 + ["persons"] * 4 + ["cases"],
            "category": ["female", "male", "intersex", MISSING] * 2 + [NOT_RECORDED],
            "n": [60, 30, 0, 10, nan, 40, nan, 6, nan],
            "share": [60.0, 30.0, 0.0, 10.0, nan, 80.0, nan, 12.0, nan],
        }
    )


def test_categories_chart_panels_values_missing_and_not_recorded():
    fig = charts.categories_chart(categories_frame(), field_name="sex", title="Sexo", lang="es")
    axes = visible_axes(fig)
    assert [ax.get_title(loc="left") for ax in axes] == [
        "Fiscalía · delitos",
        "PDI · personas",
        "Instituciones que no lo registran",
    ]
    assert tick_labels(axes[0]) == ["mujer", "hombre", "intersexual", "sin dato (en blanco)"]
    assert axes[0].get_xlabel() == "% de los registros de la institución"
    bars = axes[0].containers[0]
    assert list(bars.datavalues) == [60.0, 30.0, 0.0, 10.0]
    assert bars[3].get_hatch() == charts.GREY_HATCH  # missing: grey and hatched
    assert bars[0].get_hatch() in (None, "")
    t0 = [t.get_text() for t in axes[0].texts]
    assert t0 == ["60 (60 %)", "30 (30 %)", "0 (0 %)", "10 (10 %)"]
    t1 = [t.get_text() for t in axes[1].texts]
    assert t1 == ["[c]", "40 (80 %)", "[c]", "6 (12 %)"]
    assert axes[0].get_xlim() == axes[1].get_xlim() == (0, 120.0)  # one scale: 80 % * 1.5
    silent = " ".join(t.get_text() for t in axes[2].texts)
    assert "Carabineros" in silent and "sexo" in silent
    assert axes[2].patches and axes[2].patches[0].get_hatch() == charts.GREY_HATCH


def test_categories_alt_lists_values_and_who_does_not_record():
    alt = charts.categories_alt(categories_frame(), field_name="sex", title="Sex", lang="en")
    assert (
        "Fiscalía (offences): female 60 (60%); male 30 (30%); intersex 0 (0%); "
        "missing (left blank) 10 (10%)." in alt
    )
    assert (
        "PDI (persons): female [c]; male 40 (80%); intersex [c]; missing (left blank) 6 (12%)."
        in alt
    )
    assert "Carabineros: not recorded." in alt


def test_regions_use_area_labels_north_to_south():
    df = pd.DataFrame(
        {
            "institution": ["PDI"] * 3,
            "unit": ["persons"] * 3,
            "area": ["15", "12", MISSING],
            "n": [10, 20, 5],
            "share": [100 / 3.5, 200 / 3.5, 50 / 3.5],
        }
    )
    fig = charts.categories_chart(df, field_name="area", key="area", title="Dónde", lang="es")
    assert tick_labels(visible_axes(fig)[0]) == [
        "Arica y Parinacota",
        "Magallanes",
        "sin dato (en blanco)",
    ]
    alt = charts.categories_alt(df, field_name="area", key="area", title="Dónde", lang="es")
    assert "Arica y Parinacota 10" in alt and "Magallanes 20" in alt


# ----------------------------------------------------------------------------- funnel
def funnel_frame():
    steps = [*STAGES, NON_JUDICIAL_EXIT, MISSING]
    return pd.DataFrame(
        {
            "institution": ["FISCALIA"] * 7,
            "unit": ["cases"] * 7,
            "step": steps,
            "n": [120, 80, 40, nan, nan, 30, 5],
            "share_of_first": [100.0, 80 / 1.2, 40 / 1.2, nan, nan, 25.0, nan],
        }
    )


def test_funnel_chart_bars_counts_and_share_of_first():
    fig = charts.funnel_chart(funnel_frame(), title="Embudo", lang="es")
    ax = visible_axes(fig)[0]
    assert ax.get_title(loc="left") == "Fiscalía · causas" and ax.get_xlabel() == "causas"
    assert tick_labels(ax)[:2] == ["ingresó (denuncia o causa)", "llegó a investigación"]
    assert tick_labels(ax)[-2:] == [
        "salida no judicial (archivo, no perseverar…)",
        "sin dato (en blanco)",
    ]
    vals = list(ax.containers[0].datavalues)
    assert vals[:3] == [120, 80, 40] and np.isnan(vals[3])
    t = [x.get_text() for x in ax.texts]
    assert t == ["120 (100 %)", "80 (67 %)", "40 (33 %)", "[c]", "[c]", "30 (25 %)", "5"]
    bars = ax.containers[0]
    assert bars[5].get_hatch() == charts.EXIT_HATCH and bars[6].get_hatch() == charts.GREY_HATCH


def test_funnel_alt():
    alt = charts.funnel_alt(funnel_frame(), title="Funnel", lang="en")
    assert (
        "Fiscalía (cases): entered (complaint or case) 120 (100%); reached investigation 80 (67%)"
        in alt
    )
    assert "conviction [c]" in alt and "missing (left blank) 5." in alt


# ------------------------------------------------------------------------- comparison
def comparison_frame():
    return pd.DataFrame(
        {
            "figure": ["tp03", "tp04"],
            "published_institution": ["SPD_PAV", "SPD_PAV"],
            "metric": ["persons_entering_victim_protocol"] * 2,
            "published_value": [43.0, 19.0],
            "published_unit": ["persons"] * 2,
            "period_start": pd.to_datetime(["2018-01-01", "2019-01-01"]),
            "period_end": pd.to_datetime(["2018-12-31", "2019-12-31"]),
            "institution": ["SPD_PAV"] * 2,
            "unit": ["persons"] * 2,
            "n": [40.0, nan],
        }
    )


def test_comparison_chart_published_beside_records_with_units():
    fig = charts.comparison_chart(comparison_frame(), title="Beside", lang="en")
    ax = visible_axes(fig)[0]
    assert tick_labels(ax) == [
        "2018 (tp03)\npersons entering the protocol",
        "2019 (tp04)\npersons entering the protocol",
    ]
    published, records = ax.containers
    assert list(published.datavalues) == [43.0, 19.0]
    assert records[0].get_hatch() == charts.SYNTHETIC_HATCH  # synthetic, visibly different
    t = [x.get_text() for x in ax.texts]
    assert t == ["43 persons", "40 persons", "19 persons", "[c]"]
    legend = [x.get_text() for x in fig.legends[0].get_texts()]
    assert legend == ["published figure (real, sourced)", "synthetic records, same period"]


def test_comparison_alt_says_which_is_real_and_which_synthetic():
    alt = charts.comparison_alt(comparison_frame(), title="Beside", lang="es")
    assert "tp03: Apoyo a Víctimas publicó 43 personas" in alt
    assert "registros sintéticos de Apoyo a Víctimas: 40 personas" in alt
    assert "registros sintéticos de Apoyo a Víctimas: [c] personas" in alt
