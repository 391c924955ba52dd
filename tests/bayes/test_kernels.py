import numpy as np
import pytest

from keras_hpx.bayes.kernels import RBF, Matern32, Matern52, get_kernel, scaled_sq_dist

KERNELS = [Matern52(), Matern32(), RBF()]


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.name)
def test_unit_at_zero_and_decreasing(kernel):
    r2 = np.linspace(0.0, 9.0, 50)
    k = kernel.value(r2)
    assert k[0] == pytest.approx(1.0)
    assert np.all(np.diff(k) < 0)
    assert np.all(k > 0)


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.name)
def test_grad_matches_finite_differences(kernel):
    r2 = np.array([1e-4, 0.01, 0.3, 1.0, 2.5, 7.0])
    h = 1e-6
    numeric = (kernel.value(r2 + h) - kernel.value(r2 - h)) / (2 * h)
    np.testing.assert_allclose(kernel.grad(r2), numeric, rtol=1e-5, atol=1e-8)
    value, grad = kernel.value_and_grad(r2)
    np.testing.assert_allclose(value, kernel.value(r2))
    np.testing.assert_allclose(grad, kernel.grad(r2))


def test_closed_forms():
    # Matern 5/2 at r = 1: (1 + sqrt5 + 5/3) exp(-sqrt5)
    s5 = np.sqrt(5.0)
    assert Matern52().value(np.array([1.0]))[0] == pytest.approx((1 + s5 + 5 / 3) * np.exp(-s5))
    s3 = np.sqrt(3.0)
    assert Matern32().value(np.array([1.0]))[0] == pytest.approx((1 + s3) * np.exp(-s3))
    assert RBF().value(np.array([2.0]))[0] == pytest.approx(np.exp(-1.0))


def test_scaled_sq_dist_uses_one_length_scale_per_dimension():
    a = np.array([[0.0, 0.0]])
    b = np.array([[1.0, 1.0], [0.5, 0.0]])
    r2 = scaled_sq_dist(a, b, np.array([1.0, 0.5]))
    np.testing.assert_allclose(r2, [[1.0 + 4.0, 0.25]])


def test_get_kernel_names_and_errors():
    assert isinstance(get_kernel("matern52"), Matern52)
    assert isinstance(get_kernel("RBF"), RBF)
    k = Matern32()
    assert get_kernel(k) is k
    with pytest.raises(ValueError, match=r"matern32.*matern52.*rbf.*Received: kernel='gauss'$"):
        get_kernel("gauss")
    with pytest.raises(TypeError, match="kernel=3"):
        get_kernel(3)
