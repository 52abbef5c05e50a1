"""The synthetic world: fabricated institutional exports, and the truth they were drawn from.

Its own pipeline step (``datajusta synth``): ingestion reads what it wrote but never runs it.
``population`` draws victims, ``recording`` decides what each institution records and how,
``formats`` and ``problems`` give each export its institution's habits and flaws, ``capture``
says who was on which list, ``truth`` and ``export`` write the truth and the files, and
``generator`` runs the whole. ``calibration`` compares synthetic counts with the published
figures they follow; ``model`` reads the parameters (``data/synthetic_model.yaml``).
"""

from .calibration import (
    CALIBRATION_TOLERANCE,
    CHECK_TOLERANCE,
    calibration_docs,
    calibration_table,
    write_calibration_docs,
)
from .generator import GENERATOR_VERSION, TRUTH_DIR, fingerprint, generate, victim_histories
from .model import default_seed, load_figures, load_model, model_file

__all__ = [
    "CALIBRATION_TOLERANCE",
    "CHECK_TOLERANCE",
    "GENERATOR_VERSION",
    "TRUTH_DIR",
    "calibration_docs",
    "calibration_table",
    "default_seed",
    "fingerprint",
    "generate",
    "load_figures",
    "load_model",
    "model_file",
    "victim_histories",
    "write_calibration_docs",
]
