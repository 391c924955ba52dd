import numpy as np
import pytest
from scipy.optimize import approx_fprime

from keras_hpx.bayes.gp import GaussianProcess, GPParams, Prior


def _data(n=12, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    y = np.sin(3 * X[:, 0]) + 0.5 * X[:, 1] ** 2 + 0.1 * rng.normal(size=n)
    return X, (y - y.mean()) / y.std()


@pytest.mark.parametrize("kernel", ["matern52", "matern32", "rbf"])
def test_map_objective_gradient_matches_finite_differences(kernel):
    X, y = _data()
    gp = GaussianProcess(kernel)
    theta = np.array([np.log(0.4), np.log(1.3), np.log(0.7), np.log(1.5), np.log(0.05)])
    value, grad = gp.neg_log_posterior(theta, X, y)
    numeric = approx_fprime(theta, lambda t: gp.neg_log_posterior(t, X, y)[0], 1e-6)
    assert np.isfinite(value)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-4)


def test_prior_gradient_matches_finite_differences():
    prior = Prior()
    theta = np.array([-1.0, 0.5, 0.2, -3.0])
    _, grad = prior.log_density(theta, 1e-6)
    numeric = approx_fprime(theta, lambda t: prior.log_density(t, 1e-6)[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kernel", ["matern52", "rbf"])
def test_posterior_interpolates_noiseless_data(kernel):
    X = np.linspace(0, 1, 9)[:, None]
    y = np.cos(4 * X[:, 0])
    gp = GaussianProcess(kernel).fit(X, y)
    mean, var = gp.predict(X)
    np.testing.assert_allclose(gp.standardize(y), mean, atol=1e-3)
    assert np.all(var < 1e-3)
    assert gp.params.noise_var < 1e-3
    # Away from the data the posterior is uncertain again.
    assert gp.predict(np.array([[3.0]]))[1][0] > 0.5 * gp.params.signal_var


def test_map_fit_recovers_short_and_long_length_scales():
    rng = np.random.default_rng(1)
    X = rng.random((40, 2))
    # Fast in dimension 0, slow in dimension 1.
    y = np.sin(12 * X[:, 0]) + 0.3 * X[:, 1]
    gp = GaussianProcess().fit(X, y)
    short, long = gp.params.lengthscales
    assert short < 0.5
    assert long > 3 * short


def test_map_fit_improves_the_objective_and_estimates_noise():
    rng = np.random.default_rng(2)
    X = rng.random((30, 2))
    y = X[:, 0] + 0.3 * rng.normal(size=30)
    gp = GaussianProcess().fit(X, y)
    ys = gp.standardize(y)
    fitted = gp.neg_log_posterior(gp._theta(gp.params), X, ys)[0]
    default = gp.neg_log_posterior(gp._theta(GPParams(np.ones(2), 1.0, 1e-3)), X, ys)[0]
    assert fitted < default
    assert gp.params.noise_var > 0.05  # noisy data: the noise is not interpolated away


def test_predict_gradients_match_finite_differences():
    X, y = _data(n=15, d=2, seed=3)
    gp = GaussianProcess().fit(X, y)
    x = np.array([[0.3, 0.6], [0.9, 0.1]])
    mean, var, dmean, dvar = gp.predict_with_grad(x)
    m2, v2 = gp.predict(x)
    np.testing.assert_allclose(mean, m2)
    np.testing.assert_allclose(var, v2, atol=1e-12)
    for i in range(len(x)):
        fm = lambda z: gp.predict(z[None])[0][0]  # noqa: E731
        fv = lambda z: gp.predict(z[None])[1][0]  # noqa: E731
        np.testing.assert_allclose(dmean[i], approx_fprime(x[i], fm, 1e-7), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(dvar[i], approx_fprime(x[i], fv, 1e-7), rtol=1e-4, atol=1e-6)


def test_constant_targets_and_duplicates_do_not_crash():
    X = np.array([[0.1, 0.2], [0.1, 0.2], [0.5, 0.5]])
    gp = GaussianProcess().fit(X, np.array([1.0, 1.0, 1.0]))
    mean, var = gp.predict(np.array([[0.3, 0.3]]))
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(var))


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="finite"):
        GaussianProcess().fit(np.zeros((2, 1)), np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="min_noise=0"):
        GaussianProcess(min_noise=0)
    with pytest.raises(RuntimeError, match="fit"):
        GaussianProcess().predict(np.zeros((1, 1)))


def test_tied_columns_share_one_length_scale_with_an_exact_gradient():
    X, y = _data(n=15, d=4)
    gp = GaussianProcess().fit(X, y, tied=[(1, 2)])
    lengths = gp.params.lengthscales
    assert lengths.shape == (4,) and lengths[1] == lengths[2]
    assert len({lengths[0], lengths[1], lengths[3]}) == 3  # the others stay free
    # theta holds one log length scale per group: 3 here, then signal and noise.
    theta = np.array([np.log(0.4), np.log(1.3), np.log(0.7), np.log(1.5), np.log(0.05)])
    value, grad = gp.neg_log_posterior(theta, X, y)
    numeric = approx_fprime(theta, lambda t: gp.neg_log_posterior(t, X, y)[0], 1e-6)
    assert np.isfinite(value)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-4)
    # Tying changes the model: the untied fit gives the two columns their own scales.
    free = GaussianProcess().fit(X, y).params.lengthscales
    assert free[1] != free[2]


@pytest.mark.parametrize("tied", [[(0, 1), (1, 2)], [(0, 5)], [(-1, 0)]])
def test_bad_tied_groups_raise(tied):
    X, y = _data(n=6, d=3)
    with pytest.raises(ValueError, match=r"Received: tied="):
        GaussianProcess().fit(X, y, tied=tied)
