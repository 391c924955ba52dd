"""Acquisition functions, in the *minimisation* convention.

The surrogate predicts a Gaussian `f(x) ~ N(mean, std**2)` of a score to be
minimised; `best` is the lowest score seen so far. Every acquisition returns a
value to *maximise*, elementwise over arrays, and `value_and_grad` also gives
its partial derivatives in `mean` and `std` (the optimiser chains them with
the surrogate's gradients). With `z = (best - xi - mean) / std`:

* `ExpectedImprovement`: `E[max(best - xi - f, 0)] = std * h(z)`, where
  `h(z) = phi(z) + z Phi(z)`.
* `LogExpectedImprovement`: `log(std) + log h(z)`, with `log h` evaluated
  stably far into the tail (Ament et al., 2023, "Unexpected improvements to
  expected improvement for Bayesian optimization"): finite and with useful
  gradients where EI underflows to 0.
* `ProbabilityOfImprovement`: `Phi(z)`.
* `UpperConfidenceBound`: `-(mean - kappa * std)`, the lower confidence bound
  of the minimised score (the upper bound of the maximised one).

All quantities are in the surrogate's standardised units, so `xi` is a
fraction of the observed scores' standard deviation.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable
from typing import ClassVar

import numpy as np
from scipy import special

from keras_hpx.checks import check_number, invalid

__all__ = [
    "ACQUISITIONS",
    "AcquisitionFunction",
    "ExpectedImprovement",
    "LogExpectedImprovement",
    "ProbabilityOfImprovement",
    "UpperConfidenceBound",
    "get_acquisition",
    "log_h",
]

_MIN_STD = 1e-10
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_SQRT_PI_2 = 0.5 * math.log(0.5 * math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


def _log1mexp(a: np.ndarray) -> np.ndarray:
    """`log(1 - exp(a))` for `a < 0`, accurate on both sides of `-log 2`."""
    a = np.minimum(a, -1e-300)
    return np.where(a > -math.log(2.0), np.log(-np.expm1(a)), np.log1p(-np.exp(a)))


def log_h(z: np.ndarray) -> np.ndarray:
    """`log(phi(z) + z Phi(z))`, stable for very negative `z`.

    For `z > -1` the direct formula is accurate. Below, with
    `Phi(z) = 0.5 erfcx(-z / sqrt 2) exp(-z**2 / 2)`,

        h(z) = phi(z) * (1 - sqrt(pi / 2) |z| erfcx(|z| / sqrt 2)),

    whose bracket is evaluated as `log1mexp` of its log (no cancellation); past
    `z < -1/sqrt(eps)` the asymptote `h(z) ~ phi(z) / z**2` is used.
    """
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    direct = z > -1.0
    zd = z[direct]
    out[direct] = np.log(special.ndtr(zd) * zd + np.exp(-0.5 * zd * zd - _LOG_SQRT_2PI))
    tail = ~direct
    zt = z[tail]
    far = zt < -1.0 / math.sqrt(np.finfo(float).eps)
    az = np.abs(np.where(far, -2.0, zt))
    bracket = _log1mexp(np.log(special.erfcx(az * _INV_SQRT2) * az) + _LOG_SQRT_PI_2)
    out[tail] = np.where(
        far,
        -0.5 * zt * zt - _LOG_SQRT_2PI - 2.0 * np.log(np.abs(zt)),
        -0.5 * zt * zt - _LOG_SQRT_2PI + bracket,
    )
    return out


def _dlog_h(z: np.ndarray, lh: np.ndarray) -> np.ndarray:
    """`d log h / dz = Phi(z) / h(z)`, computed in log space."""
    return np.exp(special.log_ndtr(z) - lh)


class AcquisitionFunction(abc.ABC):
    """A function of the predictive `(mean, std)` and the incumbent, to maximise."""

    name: ClassVar[str] = ""

    def __call__(self, mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
        """The acquisition value (higher is more promising), elementwise."""
        return self.value_and_grad(mean, std, best)[0]

    @abc.abstractmethod
    def value_and_grad(
        self, mean: np.ndarray, std: np.ndarray, best: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`(value, d value / d mean, d value / d std)`, elementwise."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


def _z(mean, std, best, xi):
    mean = np.asarray(mean, dtype=float)
    std = np.maximum(np.asarray(std, dtype=float), _MIN_STD)
    return (best - xi - mean) / std, std


class ExpectedImprovement(AcquisitionFunction):
    """Expected improvement below `best - xi`.

    Args:
        xi: Improvement margin, in standardised units; larger explores more.
            Defaults to `0.0`.
    """

    name = "ei"

    def __init__(self, xi: float = 0.0):
        self.xi = check_number("xi", xi, minimum=0.0)

    def value_and_grad(self, mean, std, best):
        z, std = _z(mean, std, best, self.xi)
        cdf, pdf = special.ndtr(z), np.exp(-0.5 * z * z - _LOG_SQRT_2PI)
        # d/dmean = -Phi(z); d/dstd = phi(z)
        return std * (pdf + z * cdf), -cdf, pdf


class LogExpectedImprovement(AcquisitionFunction):
    """Log of the expected improvement, stable where EI underflows (the default).

    Args:
        xi: Improvement margin, in standardised units; larger explores more.
            Defaults to `0.0`.
    """

    name = "logei"

    def __init__(self, xi: float = 0.0):
        self.xi = check_number("xi", xi, minimum=0.0)

    def value_and_grad(self, mean, std, best):
        z, std = _z(mean, std, best, self.xi)
        lh = log_h(z)
        dz = _dlog_h(z, lh)
        # z = (best - xi - mean) / std: dz/dmean = -1/std, dz/dstd = -z/std
        return lh + np.log(std), -dz / std, (1.0 - dz * z) / std


class ProbabilityOfImprovement(AcquisitionFunction):
    """Probability that `f(x) < best - xi`.

    Args:
        xi: Improvement margin, in standardised units. Defaults to `0.01`.
    """

    name = "pi"

    def __init__(self, xi: float = 0.01):
        self.xi = check_number("xi", xi, minimum=0.0)

    def value_and_grad(self, mean, std, best):
        z, std = _z(mean, std, best, self.xi)
        pdf = np.exp(-0.5 * z * z - _LOG_SQRT_2PI)
        return special.ndtr(z), -pdf / std, -pdf * z / std


class UpperConfidenceBound(AcquisitionFunction):
    """Optimistic bound `-(mean - kappa * std)` (a lower confidence bound on the loss).

    Args:
        kappa: Width of the bound in standard deviations; larger explores more.
            Defaults to `2.0`.
    """

    name = "ucb"

    def __init__(self, kappa: float = 2.0):
        self.kappa = check_number("kappa", kappa, minimum=0.0)

    def value_and_grad(self, mean, std, best):
        mean = np.asarray(mean, dtype=float)
        std = np.asarray(std, dtype=float)
        return -(mean - self.kappa * std), -np.ones_like(mean), np.full_like(std, self.kappa)


ACQUISITIONS: dict[str, type[AcquisitionFunction]] = {
    "logei": LogExpectedImprovement,
    "ei": ExpectedImprovement,
    "pi": ProbabilityOfImprovement,
    "ucb": UpperConfidenceBound,
    "lcb": UpperConfidenceBound,
}


_ACQUISITION_ALLOWED = (
    f"one of {sorted(ACQUISITIONS)} or a keras_hpx.bayes.acquisition.AcquisitionFunction"
)


def get_acquisition(
    acquisition: str | AcquisitionFunction,
    *,
    xi: float | None = None,
    kappa: float | None = None,
) -> AcquisitionFunction:
    """Resolves an acquisition name or instance.

    Args:
        acquisition: `"logei"`, `"ei"`, `"pi"`, `"ucb"` (alias `"lcb"`), or an
            `AcquisitionFunction` instance (used as is).
        xi: Margin for the improvement-based functions. Defaults to `None` (the
            class default).
        kappa: Width for `"ucb"`. Defaults to `None` (the class default).

    Returns:
        An `AcquisitionFunction`.

    Raises:
        ValueError: For an unknown name or a bad `xi`/`kappa`.
        TypeError: For anything that is neither a string nor an `AcquisitionFunction`.
    """
    if isinstance(acquisition, AcquisitionFunction):
        return acquisition
    if not isinstance(acquisition, str):
        raise invalid("acquisition", acquisition, _ACQUISITION_ALLOWED, TypeError)
    cls = ACQUISITIONS.get(acquisition.lower())
    if cls is None:
        raise invalid("acquisition", acquisition, _ACQUISITION_ALLOWED)
    if cls is UpperConfidenceBound:
        return cls() if kappa is None else cls(kappa=kappa)
    # The other classes all take `xi` (the abstract base does not declare it).
    make: Callable[..., AcquisitionFunction] = cls
    return make() if xi is None else make(xi=xi)
