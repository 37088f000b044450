r"""Distance decay: the weight in [0, 1] a facility gives the people it reaches, by walking time.

A pair reached after :math:`t` minutes gets the weight

* ``step``: :math:`d = 1` for :math:`t \le` ``zero_minutes`` (the plain coverage rule);
* ``linear``: :math:`d = 1` up to ``full_minutes`` :math:`F`, then :math:`(Z - t)/(Z - F)`, 0 at
  ``zero_minutes`` :math:`Z`;
* ``exponential``: :math:`d = 1` up to :math:`F`, then :math:`e^{-\beta (t - F)}` up to and
  including :math:`Z`, 0 beyond.

How the weights enter the model (levels of gradual cover) is in :mod:`lifecircle.models.service`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DECAY_DECIMALS", "DECAY_SHAPES", "decay_weight"]

DECAY_SHAPES = ("step", "linear", "exponential")
# Scenario decay weights are rounded to this many decimals (a change of at most 0.0005): it keeps
# the number of levels small and lets CP-SAT scale the objective exactly.
DECAY_DECIMALS = 3


def decay_weight(minutes, shape: str, full_minutes: float, zero_minutes: float,
                 beta: float | None = None) -> np.ndarray:
    """Weight in [0, 1] of a facility ``minutes`` away (see the module docstring).

    Parameters
    ----------
    minutes : array_like
        Walking times in minutes.
    shape : {"step", "linear", "exponential"}
        The decay shape.
    full_minutes, zero_minutes : float
        Full weight up to ``full_minutes``; zero beyond ``zero_minutes``.
    beta : float, optional
        Per minute, for ``exponential`` only (> 0).

    Returns
    -------
    numpy.ndarray
        Weights, the shape of ``minutes``.
    """
    t = np.asarray(minutes, dtype=float)
    if shape == "step":
        return (t <= zero_minutes).astype(float)
    if shape == "linear":
        if zero_minutes <= full_minutes:
            return (t <= full_minutes).astype(float)
        return np.clip((zero_minutes - t) / (zero_minutes - full_minutes), 0.0, 1.0)
    if shape == "exponential":
        if beta is None or beta <= 0:
            raise ValueError("decay_weight: exponential decay needs beta > 0")
        w = np.exp(-beta * np.maximum(t - full_minutes, 0.0))
        return np.where(t <= zero_minutes, w, 0.0)
    raise ValueError(f"decay_weight: unknown shape {shape!r}")
