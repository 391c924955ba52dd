import math

import numpy as np
import pytest

from keras_hpx.bayes.acquisition import (
    ExpectedImprovement,
    LogExpectedImprovement,
    ProbabilityOfImprovement,
    UpperConfidenceBound,
    get_acquisition,
    log_h,
)


def test_expected_improvement_closed_form():
    ei = ExpectedImprovement()
    # Minimising: a mean 0.5 above the best (z = -0.5) is BoTorch's maximisation
    # case "mean -0.5, best 0": phi(-0.5) - 0.5 Phi(-0.5) = 0.19780.
    assert ei(np.array([0.5]), np.array([1.0]), 0.0)[0] == pytest.approx(0.19780, abs=1e-5)
    # A mean 0.5 *below* the best improves more: phi(0.5) + 0.5 Phi(0.5) = 0.69780.
    assert ei(np.array([-0.5]), np.array([1.0]), 0.0)[0] == pytest.approx(0.69780, abs=1e-5)
    # Scaling: EI(mean, std) = std * EI(mean/std, 1).
    assert ei(np.array([1.0]), np.array([2.0]), 0.0)[0] == pytest.approx(2 * 0.19780, abs=1e-5)
    # xi shifts the target.
    ei_xi = ExpectedImprovement(xi=0.5)
    assert ei_xi(np.array([0.0]), np.array([1.0]), 0.0)[0] == pytest.approx(0.19780, abs=1e-5)


def test_log_ei_equals_log_of_ei_where_ei_is_not_tiny():
    mean = np.linspace(-3.0, 6.0, 40)
    std = np.linspace(0.2, 2.0, 40)
    ei = ExpectedImprovement()(mean, std, 0.3)
    logei = LogExpectedImprovement()(mean, std, 0.3)
    assert np.all(ei > 1e-12)
    np.testing.assert_allclose(logei, np.log(ei), rtol=1e-9, atol=1e-9)


def test_log_ei_is_finite_and_monotone_where_ei_underflows():
    mean = np.array([10.0, 40.0, 1e3, 1e9, 1e12])
    std = np.ones_like(mean)
    assert np.all(ExpectedImprovement()(mean, std, 0.0)[1:] == 0.0)
    logei = LogExpectedImprovement()(mean, std, 0.0)
    assert np.all(np.isfinite(logei))
    assert np.all(np.diff(logei) < 0)
    # Asymptote: log h(z) ~ -z^2/2 - log(sqrt(2 pi)) - 2 log|z|
    z = -40.0
    expected = -0.5 * z * z - 0.5 * math.log(2 * math.pi) - 2 * math.log(40.0)
    assert log_h(np.array([z]))[0] == pytest.approx(expected, rel=1e-3)


def test_log_h_is_continuous_across_the_branch_point():
    z = np.array([-1.0 - 1e-9, -1.0, -1.0 + 1e-9])
    lh = log_h(z)
    assert np.ptp(lh) < 1e-7


@pytest.mark.parametrize(
    "acq",
    [
        ExpectedImprovement(),
        LogExpectedImprovement(),
        LogExpectedImprovement(xi=0.1),
        ProbabilityOfImprovement(),
        UpperConfidenceBound(kappa=1.5),
    ],
    ids=repr,
)
def test_gradients_match_finite_differences(acq):
    mean = np.array([-1.0, -0.2, 0.0, 0.7, 3.0, 12.0])
    std = np.array([0.3, 1.0, 0.5, 2.0, 0.8, 1.0])
    best = 0.1
    _, dm, ds = acq.value_and_grad(mean, std, best)
    h = 1e-6
    num_dm = (acq(mean + h, std, best) - acq(mean - h, std, best)) / (2 * h)
    num_ds = (acq(mean, std + h, best) - acq(mean, std - h, best)) / (2 * h)
    np.testing.assert_allclose(dm, num_dm, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(ds, num_ds, rtol=1e-4, atol=1e-7)


def test_probability_of_improvement_and_ucb_closed_forms():
    pi = ProbabilityOfImprovement(xi=0.0)
    assert pi(np.array([0.0]), np.array([1.0]), 0.0)[0] == pytest.approx(0.5)
    assert pi(np.array([1.0]), np.array([1.0]), 0.0)[0] == pytest.approx(0.158655, abs=1e-6)
    ucb = UpperConfidenceBound(kappa=2.0)
    assert ucb(np.array([1.0]), np.array([0.5]), 0.0)[0] == pytest.approx(0.0)


def test_get_acquisition_names_objects_and_errors():
    assert isinstance(get_acquisition("logei"), LogExpectedImprovement)
    assert get_acquisition("ei", xi=0.2).xi == 0.2
    assert get_acquisition("ucb", kappa=3.0).kappa == 3.0
    assert isinstance(get_acquisition("lcb"), UpperConfidenceBound)
    obj = ProbabilityOfImprovement()
    assert get_acquisition(obj) is obj
    with pytest.raises(
        ValueError, match=r"'ei'.*'logei'.*'pi'.*'ucb'.*Received: acquisition='expected'$"
    ):
        get_acquisition("expected")
    with pytest.raises(TypeError, match="acquisition=1.5"):
        get_acquisition(1.5)
    with pytest.raises(ValueError, match="xi=-0.1"):
        ExpectedImprovement(xi=-0.1)
    with pytest.raises(ValueError, match="kappa=nan"):
        UpperConfidenceBound(kappa=float("nan"))
