import math
import time

import numpy as np
import pytest

from keras_hpx.bayes import BayesianOptimizer
from keras_hpx.space import Param, Space


def _hartmann6(x):
    alpha = np.array([1.0, 1.2, 3.0, 3.2])
    A = np.array(
        [
            [10, 3, 17, 3.5, 1.7, 8],
            [0.05, 10, 17, 0.1, 8, 14],
            [3, 3.5, 1.7, 10, 17, 8],
            [17, 8, 0.05, 10, 0.1, 14],
        ]
    )
    P = 1e-4 * np.array(
        [
            [1312, 1696, 5569, 124, 8283, 5886],
            [2329, 4135, 8307, 3736, 1004, 9991],
            [2348, 1451, 3522, 2883, 3047, 6650],
            [4047, 8828, 8732, 5743, 1091, 381],
        ]
    )
    return -float(alpha @ np.exp(-(A * (x - P) ** 2).sum(1)))


def _observations(n, seed=0):
    space = Space([Param(f"x{i}", "float", 0.0, 1.0) for i in range(6)])
    rng = np.random.default_rng(seed)
    obs = []
    for _ in range(n):
        v = space.from_unit(rng.random(6))
        obs.append((v, _hartmann6(np.array([v[f"x{i}"] for i in range(6)]))))
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
