"""Data Justa Notebooks helper library.

``import datajusta_lib as dj`` gives the small public API documented in the README. Names
are imported lazily so that ``import datajusta_lib`` stays fast in notebooks and the CLI.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_API = {
    # data
    "load": "loading",
    "codebook": "loading",
    "quarantine": "loading",
    "ingestion_summary": "loading",
    "published_figures": "published",
    # real open data (data/open/, docs/open_data.md)
    "open_series": "open_data",
    # contracts
    "validate": "contracts",
    "ValidationReport": "contracts",
    "ContractError": "contracts",
    "RecordModel": "contracts",
    "PublishedFigureModel": "contracts",
    # vocabulary
    "case_studies": "canon",
    "regions": "canon",
    # display helpers for notebooks
    "show_figure": "display",
    "show_table": "display",
    "banner": "display",
    "say": "display",
    "text": "i18n",
    # case-study pages (trafficking, attempted femicide, protest violence)
    "CasePage": "case_pages",
    # recording practices and the territorial view
    "recording_matrix": "profiles",
    "region_counts": "territorial",
    # multiple systems estimation: dj.mse.estimate, dj.mse.capture_histories, ...
    "mse": "mse",
    # synthetic data: the published figures each synthetic count is calibrated to
    "calibration_table": "synthetic",
    # disclosure control: the publish gate (docs/disclosure.md) and the identifier scanner
    "gate_counts": "disclosure",
    "publish_table": "publish",
    "k_anonymity": "disclosure",
    "l_diversity": "disclosure",
    "scan_path": "scanner",
    # the site: what `datajusta render` runs (docs/rendering.md)
    "render_site": "render",
}

__all__ = sorted([*_API, "__version__"])


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'datajusta_lib' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


def __dir__():
    return __all__
