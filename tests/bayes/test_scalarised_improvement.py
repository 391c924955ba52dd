"""qParEGO's acquisition: the soft Monte-Carlo EI of a Chebyshev scalarisation, against a
brute-force average, its gradients against finite differences, and its far tail."""

import numpy as np
import pytest

from keras_hpx.bayes.scalarised_improvement import chebyshev_log_ei_and_grad


def _setting(m, samples, tau=1e-3):
    rng = np.random.default_rng(m)
    return rng, {
        "weights": rng.dirichlet(np.ones(m)),
        "lo": np.zeros(m),
        "span": np.ones(m),
        "best": 0.2,
        "base_samples": rng.standard_normal((samples, m)),
        "tau": tau,
    }


@pytest.mark.parametrize("m", [2, 3])
def test_it_is_the_average_improvement_of_the_scalarised_samples(m):
    rng, kw = _setting(m, 4096)
    mean = rng.random((5, m)) * 0.4
    std = 0.05 + 0.2 * rng.random((5, m))
    value = chebyshev_log_ei_and_grad(mean, std, grad=False, **kw)[0]
    Z, w = kw["base_samples"], kw["weights"]
    for i in range(len(mean)):
        t = (mean[i] + std[i] * Z) * w
        g = t.max(axis=1) + 0.05 * t.sum(axis=1)
        expected = np.maximum(kw["best"] - g, 0.0).mean()
        assert np.exp(value[i]) == pytest.approx(expected, rel=0.02, abs=2e-4)


def test_gradients_match_finite_differences():
    rng, kw = _setting(3, 64, tau=0.05)  # a smooth softplus: finite differences are exact
    mean = rng.random((4, 3)) * 0.3
    std = 0.1 + 0.3 * rng.random((4, 3))
    _, dmean, dstd = chebyshev_log_ei_and_grad(mean, std, **kw)
    eps = 1e-6
    for j in range(3):
        e = np.zeros(3)
        e[j] = eps

        def f(mu, sd):
            return chebyshev_log_ei_and_grad(mu, sd, grad=False, **kw)[0]

        np.testing.assert_allclose(
            dmean[:, j], (f(mean + e, std) - f(mean - e, std)) / (2 * eps), rtol=1e-5, atol=1e-7
        )
        np.testing.assert_allclose(
            dstd[:, j], (f(mean, std + e) - f(mean, std - e)) / (2 * eps), rtol=1e-5, atol=1e-7
        )


def test_far_from_improving_it_stays_finite_and_ordered():
    _, kw = _setting(2, 64)
    mean = np.array([[1.0, 1.0], [3.0, 3.0], [30.0, 30.0]])
    value, dmean, dstd = chebyshev_log_ei_and_grad(mean, np.full((3, 2), 0.1), **kw)
    assert np.all(np.isfinite(value)) and np.all(np.diff(value) < 0)
    assert np.all(np.isfinite(dmean)) and np.all(dmean <= 0) and np.any(dmean < 0)
    assert np.all(np.isfinite(dstd))
