"""Multiple systems estimation: how many victims did no institution record?

``dj.mse.estimate(data, ...)`` is the entry point (``estimator``). ``data`` turns tables or
linked records into capture histories, ``models`` builds and fits the Poisson log-linear
models, ``select`` chooses among them and ``bootstrap`` gives their intervals. See docs/mse.md.
"""

from .data import CaptureHistories, MSEInputError, capture_histories, capture_histories_from_records
from .estimator import (
    MAX_LISTS,
    MSEResult,
    estimate,
    estimate_by_stratum,
    informative,
    macrozone,
    person_strata,
)

__all__ = [
    "MAX_LISTS",
    "CaptureHistories",
    "MSEInputError",
    "MSEResult",
    "capture_histories",
    "capture_histories_from_records",
    "estimate",
    "estimate_by_stratum",
    "informative",
    "macrozone",
    "person_strata",
]
