import math
import time

import numpy as np
import pytest

from keras_hpx.bayes import BayesianOptimizer
from keras_hpx.space import Param, Space
from keras_hpx.testing.functions import hartmann6


def _observations(n, seed=0):
    space = Space([Param(f"x{i}", "float", 0.0, 1.0) for i in range(6)])
    rng = np.random.default_rng(seed)
    obs = []
    for _ in range(n):
        v = space.from_unit(rng.random(6))
        obs.append((v, hartmann6(v)))
    return space, obs


def test_cost_per_proposal_at_100_observations_in_6_dimensions():
    space, obs = _observations(100)
    opt = BayesianOptimizer()
    excluded = {space.key(v) for v, _ in obs}
    rng = np.random.default_rng(0)
    opt.suggest(space, obs, rng, excluded=excluded)  # warm up imports and caches
    times = []
    for _ in range(3):
        t = time.perf_counter()
        v = opt.suggest(space, obs, rng, excluded=excluded)
        times.append(time.perf_counter() - t)
        assert space.is_valid(v)
    # The budget is 0.5 s on 2 cores; allow for a machine shared with other jobs.
    assert min(times) < 1.0, times


@pytest.mark.slow
def test_cost_per_proposal_at_500_observations_is_bounded():
    space, obs = _observations(500)
    opt = BayesianOptimizer()
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    v = opt.suggest(space, obs, rng, excluded={space.key(v) for v, _ in obs})
    assert space.is_valid(v)
    assert time.perf_counter() - t < 5.0
    assert math.isfinite(opt.last_params.noise_var)
