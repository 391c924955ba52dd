"""`keras_hpx.samplers`: points in the unit cube that depend only on (seed, index, dim)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.stats import qmc

from keras_hpx.samplers import (
    SAMPLERS,
    Sampler,
    SobolSampler,
    UniformSampler,
    get_sampler,
)

KINDS = [UniformSampler, SobolSampler]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dim", [1, 3, 7])
def test_shape_and_bounds(kind, dim):
    sampler = kind(seed=3)
    pts = sampler.points(0, 64, dim)
    assert pts.shape == (64, dim)
    assert np.all(pts >= 0.0) and np.all(pts < 1.0)
    one = sampler.point(5, dim)
    assert one.shape == (dim,)
    assert np.all(one >= 0.0) and np.all(one < 1.0)
    assert sampler.points(10, 0, dim).shape == (0, dim)
    # the points are spread over the cube, not stuck in a corner
    assert pts.min() < 0.1 and pts.max() > 0.9
    assert len({tuple(p) for p in pts}) == 64


@pytest.mark.parametrize("kind", KINDS)
def test_a_point_depends_only_on_seed_index_and_dim(kind):
    dim = 4
    reference = kind(seed=11).points(0, 20, dim)
    # one by one, in order, from a fresh instance
    fresh = kind(seed=11)
    assert np.array_equal(np.stack([fresh.point(i, dim) for i in range(20)]), reference)
    # out of order, from another fresh instance (a resumed search starts anywhere)
    shuffled = kind(seed=11)
    for i in [13, 2, 19, 0, 7, 7, 18, 1]:
        assert np.array_equal(shuffled.point(i, dim), reference[i]), i
    # a block starting in the middle, after other dimensions were asked for
    mixed = kind(seed=11)
    mixed.points(0, 5, 2)
    assert np.array_equal(mixed.points(8, 6, dim), reference[8:14])
    # the same instance again, going backwards
    assert np.array_equal(mixed.points(3, 2, dim), reference[3:5])


@pytest.mark.parametrize("kind", KINDS)
def test_different_seeds_give_different_points(kind):
    a = kind(seed=0).points(0, 16, 3)
    for seed in (1, 2, 12345):
        b = kind(seed=seed).points(0, 16, 3)
        assert not np.allclose(a, b), seed
        assert np.abs(a - b).max() > 0.1, seed


@pytest.mark.parametrize("k", [4, 6])
def test_sobol_first_power_of_two_points_are_more_even_than_uniform(k):
    n, dim, seeds = 2**k, 3, range(8)
    sobol = [qmc.discrepancy(SobolSampler(seed=s).points(0, n, dim)) for s in seeds]
    uniform = [qmc.discrepancy(UniformSampler(seed=s).points(0, n, dim)) for s in seeds]
    # the worst Sobol draw beats the typical uniform one, and on average by far
    assert max(sobol) < np.median(uniform)
    assert np.mean(sobol) < 0.5 * np.mean(uniform)


def test_get_sampler_by_name_and_instance():
    assert sorted(SAMPLERS) == ["sobol", "uniform"]
    for name, kind in SAMPLERS.items():
        sampler = get_sampler(name, seed=5)
        assert type(sampler) is kind and sampler.name == name and sampler.seed == 5
        assert isinstance(get_sampler(name.upper(), seed=5), kind)
    # a seeded sampler from a name draws what the class with that seed draws
    assert np.array_equal(
        get_sampler("sobol", seed=9).points(0, 4, 2), SobolSampler(9).points(0, 4, 2)
    )
    mine = UniformSampler(seed=1)
    assert get_sampler(mine, seed=99) is mine  # an instance is used as it is


@pytest.mark.parametrize(
    "bad, error",
    [("halton", ValueError), ("", ValueError), (None, TypeError), (3, TypeError)]
    + [(UniformSampler, TypeError)],
)
def test_get_sampler_rejects_unknown_values_naming_the_argument(bad, error):
    # Keras' wording: what is allowed, then "Received: name=value"; a wrong type is a
    # TypeError, an unknown name a ValueError.
    with pytest.raises(error, match=r"\['sobol', 'uniform'\].*Received: sampler="):
        get_sampler(bad, seed=0)
    with pytest.raises(error, match=rf"Received: initial_sampler={re.escape(repr(bad))}$"):
        get_sampler(bad, seed=0, argument="initial_sampler")


def test_the_base_class_is_abstract():
    with pytest.raises(NotImplementedError):
        Sampler(seed=0).point(0, 2)
