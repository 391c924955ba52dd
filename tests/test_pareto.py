"""Pareto dominance, non-dominated sorting and hypervolume: closed forms and properties."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_hpx.pareto import (
    dominates,
    hypervolume,
    non_dominated,
    nondominated_ranks,
    normalise,
    to_minimise,
)


def test_dominance_ties_duplicates_and_non_finite_rows():
    Y = np.array([[1, 2], [2, 1], [1, 2], [2, 2], [0.5, np.nan], [3, 0.5]], dtype=float)
    assert non_dominated(Y).tolist() == [True, True, True, False, False, True]
    assert nondominated_ranks(Y).tolist() == [0, 0, 0, 1, -1, 0]
    assert dominates([1, 1], [1, 2]) and not dominates([1, 2], [1, 2])


def test_to_minimise_negates_maximised_columns():
    Y = to_minimise([[0.9, 10.0], [0.8, 5.0]], ["max", "min"])
    assert Y.tolist() == [[-0.9, 10.0], [-0.8, 5.0]]
    with pytest.raises(ValueError, match="direction"):
        to_minimise([[1.0]], ["up"])


def test_hypervolume_closed_forms():
    assert hypervolume(np.array([[0.0, 0.0]]), np.array([1.0, 1.0])) == 1.0
    # two points in 2-d: an L-shaped union
    assert hypervolume(np.array([[0.0, 0.5], [0.5, 0.0]]), np.array([1.0, 1.0])) == 0.75
    # a point outside the box adds nothing; duplicates add nothing
    Y = np.array([[0.5, 0.5], [0.5, 0.5], [2.0, 0.0]])
    assert hypervolume(Y, np.array([1.0, 1.0])) == 0.25
    # 3-d: one corner cube and an inclusion-exclusion pair
    assert hypervolume(np.array([[0.5, 0.5, 0.5]]), np.ones(3)) == pytest.approx(0.125)
    Y = np.array([[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]])
    assert hypervolume(Y, np.ones(3)) == pytest.approx(0.25 + 0.25 - 0.125)


def _hv_monte_carlo(Y, ref, n=200_000, seed=0):
    rng = np.random.default_rng(seed)
    low = Y.min(axis=0)
    U = low + rng.random((n, len(ref))) * (ref - low)
    covered = np.zeros(n, dtype=bool)
    for y in Y:
        covered |= np.all(U >= y, axis=1)
    return covered.mean() * np.prod(ref - low)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 12), st.integers(2, 4), st.integers(0, 10_000))
def test_hypervolume_agrees_with_monte_carlo_and_is_monotone(n, m, seed):
    rng = np.random.default_rng(seed)
    Y = rng.random((n, m))
    ref = np.ones(m) * 1.1
    hv = hypervolume(Y, ref)
    assert hv == pytest.approx(_hv_monte_carlo(Y, ref), abs=0.01)
    assert hypervolume(np.vstack([Y, rng.random((1, m))]), ref) >= hv - 1e-12


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 15), st.integers(1, 3), st.integers(0, 10_000))
def test_front_is_exactly_the_undominated_points(n, m, seed):
    rng = np.random.default_rng(seed)
    Y = rng.integers(0, 4, size=(n, m)).astype(float)  # ties and duplicates on purpose
    mask = non_dominated(Y)
    for i, j in itertools.product(range(n), range(n)):
        if dominates(Y[j], Y[i]):
            assert not mask[i]
    for i in range(n):
        if not mask[i]:
            assert any(dominates(Y[j], Y[i]) for j in range(n))


def test_normalise_maps_the_box_to_the_unit_cube():
    Y = normalise(np.array([[1.0, 10.0], [3.0, 10.0]]), [1.0, 10.0], [3.0, 10.0])
    assert Y.tolist() == [[0.0, 0.0], [1.0, 0.0]]
