"""Stationary covariance kernels with one length scale per input dimension.

Every kernel here is a function of the *scaled squared distance*

    r2(x, x') = sum_j (x_j - x'_j) ** 2 / l_j ** 2

and is written `k(r2)` with `k(0) = 1`; the Gaussian process multiplies it by a
signal variance. A kernel only has to give `k(r2)` and its derivative
`dk/dr2`; the gradients with respect to the length scales (for the marginal
likelihood) and to the inputs (for acquisition optimisation) follow by the
chain rule in `keras_hpx.bayes.gp`. Writing the derivative in `r2` rather
than in `r = sqrt(r2)` keeps it finite at `r2 = 0` for all three kernels.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import numpy as np

from keras_hpx.checks import invalid

__all__ = [
    "RBF",
    "Kernel",
    "Matern32",
    "Matern52",
    "KERNELS",
    "get_kernel",
    "scaled_sq_dist",
]


class Kernel(abc.ABC):
    """A stationary, isotropic-after-scaling kernel `k(r2)` with `k(0) = 1`."""

    name: ClassVar[str] = ""

    @abc.abstractmethod
    def value_and_grad(self, r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`(k(r2), dk/dr2)`, elementwise (the derivative finite at `r2 = 0`).

        The one method a kernel writes: value and derivative share the exponential.
        """

    def value(self, r2: np.ndarray) -> np.ndarray:
        """`k(r2)`, elementwise."""
        return self.value_and_grad(r2)[0]

    def grad(self, r2: np.ndarray) -> np.ndarray:
        """`dk/dr2`, elementwise."""
        return self.value_and_grad(r2)[1]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Matern52(Kernel):
    """Matern 5/2: `(1 + s + s**2 / 3) exp(-s)` with `s = sqrt(5 r2)`.

    Twice differentiable sample paths: smooth enough to model training curves
    and losses, rough enough not to over-smooth (the usual default in Bayesian
    optimisation, e.g. Snoek et al., 2012).
    """

    name = "matern52"

    def value_and_grad(self, r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r2 = np.maximum(r2, 0.0)
        s = np.sqrt(5.0 * r2)
        e = np.exp(-s)
        return (1.0 + s + (5.0 / 3.0) * r2) * e, (-5.0 / 6.0) * (1.0 + s) * e


class Matern32(Kernel):
    """Matern 3/2: `(1 + s) exp(-s)` with `s = sqrt(3 r2)`. Once differentiable paths."""

    name = "matern32"

    def value_and_grad(self, r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r2 = np.maximum(r2, 0.0)
        s = np.sqrt(3.0 * r2)
        e = np.exp(-s)
        return (1.0 + s) * e, -1.5 * e


class RBF(Kernel):
    """Squared exponential `exp(-r2 / 2)`: infinitely smooth paths."""

    name = "rbf"

    def value_and_grad(self, r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = np.exp(-0.5 * np.maximum(r2, 0.0))
        return k, -0.5 * k


KERNELS: dict[str, type[Kernel]] = {cls.name: cls for cls in (Matern52, Matern32, RBF)}


_KERNEL_ALLOWED = f"one of {sorted(KERNELS)} or a keras_hpx.bayes.kernels.Kernel instance"


def get_kernel(kernel: str | Kernel) -> Kernel:
    """Resolves a kernel name or instance.

    Args:
        kernel: One of `"matern52"`, `"matern32"`, `"rbf"`, or a `Kernel` instance.

    Returns:
        A `Kernel` instance.

    Raises:
        ValueError: For an unknown name.
        TypeError: For anything that is neither a string nor a `Kernel`.
    """
    if isinstance(kernel, Kernel):
        return kernel
    if isinstance(kernel, str):
        cls = KERNELS.get(kernel.lower())
        if cls is None:
            raise invalid("kernel", kernel, _KERNEL_ALLOWED)
        return cls()
    raise invalid("kernel", kernel, _KERNEL_ALLOWED, TypeError)


def scaled_sq_dist(x1: np.ndarray, x2: np.ndarray, lengthscales: np.ndarray) -> np.ndarray:
    """Pairwise scaled squared distances `r2`, shape `(len(x1), len(x2))`.

    Args:
        x1: Points, shape `(n1, d)`.
        x2: Points, shape `(n2, d)`.
        lengthscales: One positive length scale per dimension, shape `(d,)`.
    """
    a = np.asarray(x1, dtype=float) / lengthscales
    b = np.asarray(x2, dtype=float) / lengthscales
    r2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(r2, 0.0)
