"""Exact log expected hypervolume improvement: the box decomposition against the
hypervolume itself, the expectation against Monte Carlo, the gradients against finite
differences, and stability far from the front."""

import math

import numpy as np
import pytest

from keras_hpx.bayes.hypervolume_improvement import (
    log_ehvi,
    log_ehvi_and_grad,
    nondominated_cells,
    reference_point,
)
from keras_hpx.pareto import hypervolume


def _cell_hvi(y, lower, upper):
    return np.prod(np.clip(upper - np.maximum(y, lower), 0.0, None), axis=1).sum()


@pytest.mark.parametrize("m", [2, 3, 4])
def test_boxes_give_the_exact_hypervolume_improvement_of_any_point(m):
    rng = np.random.default_rng(m)
    front = rng.random((7, m))
    ref = np.full(m, 1.2)
    lower, upper = nondominated_cells(front, ref)
    for _ in range(40):
        y = rng.random(m) * 1.4 - 0.2
        expected = hypervolume(np.vstack([front, y]), ref) - hypervolume(front, ref)
        assert _cell_hvi(y, lower, upper) == pytest.approx(expected, abs=1e-12)


def test_two_objectives_make_one_box_per_gap_of_the_front():
    front = np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0], [0.7, 0.8]])  # the last is dominated
    lower, upper = nondominated_cells(front, np.array([2.0, 2.0]))
    assert len(lower) == 4  # 3 front points: 4 vertical strips
    assert np.all(lower[:, 1] == -np.inf)


def test_points_at_or_beyond_the_reference_add_no_box_edges():
    lower, upper = nondominated_cells(np.array([[3.0, 0.0], [np.nan, 0.1]]), np.array([2.0, 2.0]))
    assert len(lower) == 1
    np.testing.assert_array_equal(upper, [[2.0, 2.0]])


@pytest.mark.parametrize("m", [2, 3])
def test_the_expectation_matches_monte_carlo(m):
    rng = np.random.default_rng(10 + m)
    front = rng.random((5, m))
    lower, upper = nondominated_cells(front, np.full(m, 1.1))
    mean = rng.random((6, m))
    std = 0.05 + 0.3 * rng.random((6, m))
    values = np.exp(log_ehvi(mean, std, lower, upper))
    draws = rng.standard_normal((100_000, m))
    for i in range(len(mean)):
        ys = mean[i] + std[i] * draws
        hvi = np.prod(
            np.clip(upper[None] - np.maximum(ys[:, None, :], lower[None]), 0.0, None), axis=2
        ).sum(axis=1)
        error = 4 * hvi.std() / math.sqrt(len(hvi)) + 1e-9
        assert abs(values[i] - hvi.mean()) < error, (i, values[i], hvi.mean())


def test_without_a_front_it_is_the_expected_volume_below_the_reference():
    lower, upper = nondominated_cells(np.zeros((0, 2)), np.array([1.0, 2.0]))
    mean, std = np.array([[0.3, 1.0]]), np.array([[0.2, 0.5]])
    # Independent objectives: E[(1 - Y1)^+] E[(2 - Y2)^+], each an expected improvement.
    from scipy.stats import norm

    def ei(best, mu, sigma):
        z = (best - mu) / sigma
        return sigma * (z * norm.cdf(z) + norm.pdf(z))

    expected = ei(1.0, 0.3, 0.2) * ei(2.0, 1.0, 0.5)
    assert math.exp(log_ehvi(mean, std, lower, upper)[0]) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("m", [2, 3])
def test_gradients_match_finite_differences(m):
    rng = np.random.default_rng(20 + m)
    front = rng.random((6, m))
    lower, upper = nondominated_cells(front, np.full(m, 1.1))
    mean = rng.random((5, m)) * 1.5 - 0.2
    std = 0.05 + 0.5 * rng.random((5, m))
    _, dmean, dstd = log_ehvi_and_grad(mean, std, lower, upper)
    eps = 1e-6
    for j in range(m):
        step = np.zeros(m)
        step[j] = eps
        num_m = (
            log_ehvi(mean + step, std, lower, upper) - log_ehvi(mean - step, std, lower, upper)
        ) / (2 * eps)
        num_s = (
            log_ehvi(mean, std + step, lower, upper) - log_ehvi(mean, std - step, lower, upper)
        ) / (2 * eps)
        np.testing.assert_allclose(dmean[:, j], num_m, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(dstd[:, j], num_s, rtol=1e-4, atol=1e-6)


def test_far_from_the_front_it_stays_finite_and_ordered():
    lower, upper = nondominated_cells(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([2.0, 2.0]))
    mean = np.array([[3.0, 3.0], [10.0, 10.0], [40.0, 40.0], [1e3, 1e3]])
    value, dmean, dstd = log_ehvi_and_grad(mean, np.ones_like(mean), lower, upper)
    assert np.all(np.isfinite(value)) and np.all(np.diff(value) < 0)
    assert np.all(np.isfinite(dmean)) and np.all(dmean < 0)  # lower means would improve
    assert np.all(np.isfinite(dstd)) and np.all(dstd > 0)  # so would more uncertainty


def test_reference_point_is_the_worst_plus_a_tenth_of_the_range():
    Y = np.array([[0.0, 5.0], [2.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(reference_point(Y), [2.2, 5.4])
    np.testing.assert_allclose(reference_point(np.array([[1.0, 1.0]])), [1.1, 1.1])
