"""Points in the unit cube for random and quasi-random search (pure numpy/scipy).

A sampler maps an index `i` (the i-th point of the search) to a point in
`[0, 1)^d`. Points depend only on `(seed, i, d)`, so a resumed search draws
exactly the points it would have drawn without the interruption.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import qmc

from keras_hpx.checks import invalid

__all__ = ["Sampler", "SobolSampler", "UniformSampler", "get_sampler", "SAMPLERS"]


class Sampler:
    """Base class: `point(index, dim)` returns the `index`-th point, shape `(dim,)`.

    Args:
        seed: The seed. Defaults to `0`.
    """

    name = "base"

    def __init__(self, seed: int = 0):
        self.seed = int(seed)

    def point(self, index: int, dim: int) -> np.ndarray:
        raise NotImplementedError

    def points(self, start: int, n: int, dim: int) -> np.ndarray:
        """Points `start .. start + n - 1`, shape `(n, dim)`."""
        return np.stack([self.point(start + i, dim) for i in range(n)]) if n else np.zeros((0, dim))


class UniformSampler(Sampler):
    """Independent uniform draws: point `i` comes from its own seeded stream."""

    name = "uniform"

    def point(self, index: int, dim: int) -> np.ndarray:
        return np.random.default_rng([self.seed, int(index)]).random(dim)


class SobolSampler(Sampler):
    """Scrambled Sobol points (`scipy.stats.qmc.Sobol`), seeded.

    Low-discrepancy: the first `n` points cover the cube more evenly than `n`
    independent draws, which helps small budgets.
    """

    name = "sobol"

    def __init__(self, seed: int = 0):
        super().__init__(seed)
        self._engine: qmc.Sobol | None = None
        self._dim = -1

    def point(self, index: int, dim: int) -> np.ndarray:
        return self.points(index, 1, dim)[0]

    def points(self, start: int, n: int, dim: int) -> np.ndarray:
        if dim == 0:
            return np.zeros((n, 0))
        engine = self._engine
        if engine is None or self._dim != dim or engine.num_generated > start:
            engine = qmc.Sobol(dim, scramble=True, seed=np.random.default_rng([self.seed, dim]))
            self._engine, self._dim = engine, dim
        if engine.num_generated < start:
            engine.fast_forward(start - engine.num_generated)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # balance properties need powers of two
            return engine.random(n)


SAMPLERS = {"uniform": UniformSampler, "sobol": SobolSampler}


def get_sampler(sampler: str | Sampler, seed: int, argument: str = "sampler") -> Sampler:
    """Resolves a sampler name or object.

    Args:
        sampler: `"uniform"`, `"sobol"` or a `Sampler` instance.
        seed: Seed for a sampler given by name.
        argument: The argument's name, for the error message. Defaults to `"sampler"`.
    """
    if isinstance(sampler, Sampler):
        return sampler
    if isinstance(sampler, str) and sampler.lower() in SAMPLERS:
        return SAMPLERS[sampler.lower()](seed)
    allowed = f"one of {sorted(SAMPLERS)} or a keras_hpx.samplers.Sampler instance"
    raise invalid(argument, sampler, allowed, ValueError if isinstance(sampler, str) else TypeError)
