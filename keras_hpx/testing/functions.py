"""Standard test functions for optimisers (pure numpy), shared by tests and benchmarks.

Each takes a configuration dict (`x1`, `x2` for Branin; `x0`..`x5` for Hartmann6)
and returns the value to minimise; `*_MIN` is the known global minimum.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

__all__ = ["BRANIN_MIN", "HARTMANN6_MIN", "branin", "hartmann6"]

BRANIN_MIN = 0.397887357729738
HARTMANN6_MIN = -3.322368011415515

_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def branin(values: Mapping[str, float]) -> float:
    """Branin-Hoo on `x1` in [-5, 10], `x2` in [0, 15]; three global minima."""
    x1, x2 = float(values["x1"]), float(values["x2"])
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(values: Mapping[str, float]) -> float:
    """Hartmann 6-d on `x0`..`x5` in [0, 1]; one global and several local minima."""
    x = np.array([float(values[f"x{i}"]) for i in range(6)])
    return -float(_H6_ALPHA @ np.exp(-(_H6_A * (x - _H6_P) ** 2).sum(1)))
