"""Multiple systems estimation: how many victims did no institution record?

``dj.mse.estimate(data, ...)`` is the entry point (``estimator``). ``data`` turns tables or
linked records into capture histories, ``models`` builds and fits the Poisson log-linear
models, ``select`` chooses among them and ``bootstrap`` gives their intervals; ``lcmcr`` is
the Bayesian latent-class alternative (``method="lcmcr"``). See docs/mse.md.
"""

from . import estimator
from .estimator import *  # noqa: F403 - the package's public names are the estimator's

__all__ = estimator.__all__
