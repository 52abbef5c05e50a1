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
    "load": "ingest.loading",
    "codebook": "ingest.loading",
    "quarantine": "ingest.loading",
    "ingestion_summary": "ingest.loading",
    "published_figures": "ingest.published",
    # real open data (data/open/, docs/open_data.md)
    "open_series": "open_data",
    # contracts
    "validate": "core.contracts",
    "ValidationReport": "core.contracts",
    "ContractError": "core.contracts",
    "RecordModel": "core.contracts",
    "PublishedFigureModel": "core.contracts",
    # vocabulary
    "case_studies": "core.canon",
    "regions": "core.canon",
    # display helpers for notebooks
    "show_figure": "analysis.display",
    "show_table": "analysis.display",
    "banner": "analysis.display",
    "say": "analysis.display",
    "text": "core.i18n",
    # case-study pages (trafficking, attempted femicide, protest violence)
    "CasePage": "pages.case_study",
    # recording practices and the territorial view
    "recording_matrix": "pages.recording_practices",
    "region_counts": "pages.territorial",
    # multiple systems estimation: dj.mse.estimate, dj.mse.capture_histories, ...
    "mse": "mse",
    # synthetic data: the published figures each synthetic count is calibrated to
    "calibration_table": "synthetic.calibration",
    # disclosure control: the publish gate (docs/disclosure.md) and the identifier scanner
    "gate_counts": "gate.publish",
    "publish_table": "gate.publish",
    "k_anonymity": "gate.disclosure",
    "l_diversity": "gate.disclosure",
    "scan_path": "gate.scanner",
    # the site: what `datajusta render` runs (docs/rendering.md)
    "render_site": "site.render",
}

__all__ = sorted([*_API, "__version__"])


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'datajusta_lib' has no attribute {name!r}")
    if module == name:  # a subpackage that is itself public (dj.mse)
        return importlib.import_module(f".{module}", __name__)
    return getattr(importlib.import_module(f".{module}", __name__), name)


def __dir__():
    return __all__
