"""The house plotting style: colour-blind-safe, readable without colour, same look everywhere.

Every institution has one fixed colour and marker (``data/institutions.yaml``); charts also
label series directly so that colour is never the only carrier of meaning.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # notebooks and the renderer never need a GUI backend

import matplotlib.pyplot as plt  # noqa: E402

from .i18n import institutions  # noqa: E402

# Okabe & Ito (2008) palette, without yellow (too little contrast on white for lines/markers).
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#777777"]
MARKERS = ["o", "s", "^", "D", "P", "v", "X", "h"]
HATCHES = ["", "//", "..", "xx", "\\\\", "oo", "--", "++"]

RC = {
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "font.family": "DejaVu Sans",
    "font.size": 10.5,
    "axes.titlesize": 12.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.8,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    "lines.markersize": 7,
}


def use_house_style() -> None:
    plt.rcParams.update(RC)


def institution_style(institution: str, fallback: int = 0) -> dict:
    """Colour and marker of an institution (a fixed fallback for unknown ones)."""
    entry = institutions().get(institution)
    if entry is None:
        return {
            "color": PALETTE[fallback % len(PALETTE)],
            "marker": MARKERS[fallback % len(MARKERS)],
        }
    return {"color": entry["color"], "marker": entry["marker"]}


def new_figure(width: float = 8.5, height: float = 4.5, **kwargs):
    use_house_style()
    return plt.subplots(figsize=(width, height), layout="constrained", **kwargs)


def thousands(value: float, lang: str = "es") -> str:
    """12345 -> '12.345' in Spanish, '12,345' in English."""
    text = f"{value:,.0f}"
    return text.replace(",", ".") if lang == "es" else text


def thousands_formatter(lang: str = "es"):
    """An axis formatter writing 12.345 (es) or 12,345 (en)."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: thousands(value, lang))
