"""A source of new points from a sampler: the random search, and the Bayesian initial design.

`PointSource` draws the `i`-th point of a `keras_hpx.samplers.Sampler`, decodes
it in the current space and skips configurations already tried. Its only
state is the number of draws, saved with the oracle, so a resumed search draws
exactly what it would have drawn without the interruption. When draws keep
colliding on a small discrete space, it picks at random among the untried
configurations that are left, so the space is used up exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from keras_hpx.samplers import Sampler
from keras_hpx.space import Space

__all__ = ["PointSource"]

# Draws tried before concluding that a discrete space is (nearly) exhausted.
MAX_COLLISIONS = 64
# Past this size a discrete space is not listed to find its untried configurations.
MAX_ENUMERATE = 200_000


class PointSource:
    """Untried configurations drawn from a sampler.

    Args:
        sampler: The point sequence.
        seed: Seed of the fallback choice among untried configurations.
        draws: Points already consumed (a resume). Defaults to `0`.
    """

    def __init__(self, sampler: Sampler, seed: int, draws: int = 0):
        self.sampler = sampler
        self.seed = int(seed)
        self.draws = int(draws)

    def next(self, space: Space, is_tried: Callable[[Mapping[str, Any]], bool]) -> dict | None:
        """The next untried configuration, or `None` when none is left to find.

        Args:
            space: The current search space (non-empty).
            is_tried: Whether a configuration ran or is running.
        """
        dim = len(space)
        for _ in range(MAX_COLLISIONS):
            u = self.sampler.point(self.draws, dim)
            self.draws += 1
            values = space.from_unit(u)
            if not is_tried(values):
                return values
        if not space.is_discrete or space.grid_size() > MAX_ENUMERATE:
            return None
        left = [v for v in space.grid() if not is_tried(v)]
        if not left:
            return None
        rng = np.random.default_rng([self.seed, 1, self.draws])
        return left[int(rng.integers(len(left)))]
