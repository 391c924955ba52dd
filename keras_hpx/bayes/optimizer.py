"""One Bayesian-optimisation step: observations in, next configuration out.

`BayesianOptimizer.suggest` orchestrates the pure pieces:

    encode (Space) -> clean scores -> standardise + MAP fit (gp) -> fantasies for
    pending points -> acquisition (acquisition) -> optimise (optimize) -> decode

Conventions:

* Scores are **minimised**; the oracle flips the sign of maximised objectives.
* Failed observations (score `None`, NaN, `+inf` or `-inf`) count as the worst
  finite score observed: bad, never 0 and never "best". They keep the model
  away from regions that crash without distorting the scale.
* Scores are warped by a fitted Yeo-Johnson power transform (`warp_scores`)
  before the model sees them: monotone, so the ranking is unchanged, and closer
  to the Gaussian the GP assumes on skewed objectives.
* Pending (running) configurations are added as *kriging-believer* fantasies
  of the latent function: the model is conditioned, without noise, on
  `f(pending) = posterior mean`, and the incumbent includes them, so the
  acquisition at and around a pending point drops and concurrent proposals
  differ. Their keys must also be in `excluded`.
* Cost: the hyperparameter fit sees at most `max_fit` observations (the best
  half of them by score plus the most recent), so its cost is bounded; the
  posterior conditions on all observations (one Cholesky, `O(n**3 / 3)`) and
  scores the candidates in `O(n**2)` each. Measured on 2 CPU cores in 6
  dimensions: see `docs/benchmarks.md`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Collection, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.stats

from keras_hpx.bayes.acquisition import AcquisitionFunction, get_acquisition
from keras_hpx.bayes.gp import GaussianProcess, GPParams
from keras_hpx.bayes.kernels import Kernel, get_kernel
from keras_hpx.bayes.optimize import INACTIVE_FILL, SpaceEncoder, optimize_acquisition

__all__ = ["BayesianOptimizer", "clean_scores", "suggest", "warp_scores"]

try:  # optional: a pure-Python helper that ships with scikit-learn
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None


def _single_threaded_blas():
    """BLAS on one thread: the matrices here are small, and threaded OpenBLAS on
    small triangular solves was 30x slower on a busy 2-core machine."""
    if threadpool_limits is None:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


Observation = tuple[Mapping[str, Any], Any]


def clean_scores(scores: Sequence[Any]) -> np.ndarray:
    """Scores -> floats, non-finite or missing ones replaced by the worst finite one.

    Args:
        scores: Scores to minimise; `None`, NaN, `+inf`, `-inf` and anything not
            convertible to float mark failed observations.

    Returns:
        A float array; all NaN when no score is finite.
    """
    out = np.full(len(scores), np.nan)
    for i, s in enumerate(scores):
        try:
            v = float(s)
        except (TypeError, ValueError):
            continue
        if math.isfinite(v):
            out[i] = v
    finite = np.isfinite(out)
    if finite.any():
        out[~finite] = np.max(out[finite])
    return out


def warp_scores(y: np.ndarray) -> np.ndarray:
    """A monotone Yeo-Johnson power transform of standardised scores, fitted by MLE.

    Objectives are often skewed: a loss with a long tail of bad runs, or a flat
    landscape with one deep well. The transform (`scipy.stats.yeojohnson`, as
    HEBO does: Cowen-Rivers et al., 2022) makes the scores closer to Gaussian,
    which the GP assumes, without changing their order. Identity when there
    are fewer than 3 distinct scores or the fit fails.

    Args:
        y: Finite scores, shape `(n,)`.

    Returns:
        The transformed scores, shape `(n,)`.
    """
    y = np.asarray(y, dtype=float)
    if len(y) < 3 or len(np.unique(y)) < 3:
        return y
    z = (y - y.mean()) / y.std()
    try:
        with np.errstate(all="ignore"):
            out = scipy.stats.yeojohnson(z)[0]
    except (ValueError, FloatingPointError, OverflowError):  # pragma: no cover
        return z
    if not np.all(np.isfinite(out)) or np.std(out) <= 0:
        return z
    return out


class BayesianOptimizer:
    """Gaussian-process Bayesian optimisation over a `Space`, without Keras.

    Holds only its configuration and the last fitted hyperparameters (a warm
    start for the next fit); every call rebuilds the model from the
    observations it is given.

    Args:
        kernel: `"matern52"`, `"matern32"`, `"rbf"` or a `Kernel`. Defaults to
            `"matern52"`.
        acquisition: `"logei"`, `"ei"`, `"pi"`, `"ucb"` or an
            `AcquisitionFunction`. Defaults to `"logei"`.
        xi: Improvement margin of `"logei"`, `"ei"`, `"pi"` in standardised units.
            Defaults to `None` (the acquisition's default).
        kappa: Width of `"ucb"`. Defaults to `None` (the acquisition's default, 2).
        max_fit: Most observations the hyperparameter fit sees. Defaults to `150`.
        n_candidates: Quasi-random candidates per proposal. Defaults to `2048`.
        n_starts: Candidates refined locally. Defaults to `10`.
        warp: Fit the model to Yeo-Johnson-warped scores (`warp_scores`).
            Defaults to `True`.
    """

    def __init__(
        self,
        kernel: str | Kernel = "matern52",
        acquisition: str | AcquisitionFunction = "logei",
        *,
        xi: float | None = None,
        kappa: float | None = None,
        max_fit: int = 150,
        n_candidates: int = 2048,
        n_starts: int = 10,
        warp: bool = True,
    ):
        self.kernel = get_kernel(kernel)
        self.acquisition = get_acquisition(acquisition, xi=xi, kappa=kappa)
        for name, value, low in (
            ("max_fit", max_fit, 2),
            ("n_candidates", n_candidates, 1),
            ("n_starts", n_starts, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"Invalid {name}={value!r}; expected an int >= {low}.")
        self.max_fit = max_fit
        self.n_candidates = n_candidates
        self.n_starts = n_starts
        self.warp = bool(warp)
        self.last_params: GPParams | None = None

    def _encode(self, enc: SpaceEncoder, configs: Sequence[Mapping[str, Any]]) -> tuple:
        rows, keep = [], []
        for i, values in enumerate(configs):
            try:
                rows.append(enc.encode(values))
            except (ValueError, TypeError, KeyError):
                continue  # not representable in this space (e.g. it changed); skip it
            keep.append(i)
        return np.array(rows).reshape(len(rows), enc.dim), np.array(keep, dtype=int)

    def _fit_subset(self, y: np.ndarray) -> np.ndarray | None:
        n = len(y)
        if n <= self.max_fit:
            return None
        half = self.max_fit // 2
        best = np.argsort(y, kind="stable")[:half]
        recent = [i for i in range(n - 1, -1, -1) if i not in set(best)][: self.max_fit - half]
        return np.sort(np.concatenate([best, np.array(recent, dtype=int)]))

    def suggest(
        self,
        space: Any,
        observations: Sequence[Observation],
        rng: np.random.Generator,
        *,
        pending: Sequence[Mapping[str, Any]] = (),
        excluded: Collection[Hashable] = frozenset(),
    ) -> dict | None:
        """The next configuration to evaluate.

        Args:
            space: The search space (`keras_hpx.space.Space`).
            observations: `(values, score)` pairs; scores are minimised, failed
                ones may be `None`, NaN or infinite.
            rng: The source of randomness.
            pending: Configurations being evaluated now. Defaults to `()`.
            excluded: `Space.key`s never to propose (tried and pending).
                Defaults to `frozenset()`.

        Returns:
            The active values of a valid configuration not in `excluded`, or
            `None` when none could be found (an exhausted discrete space).
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"Invalid rng={rng!r}; expected a numpy.random.Generator.")
        with _single_threaded_blas():
            return self._suggest(space, observations, rng, pending, excluded)

    def _suggest(self, space, observations, rng, pending, excluded) -> dict | None:
        enc = SpaceEncoder(space, INACTIVE_FILL)
        configs = [v for v, _ in observations]
        X, keep = self._encode(enc, configs)
        y = clean_scores([observations[i][1] for i in keep])
        finite = np.isfinite(y)
        if finite.sum() < 2 or enc.dim == 0:
            return self._random(space, rng, excluded)

        if self.warp:
            y = warp_scores(y)
        gp = GaussianProcess(self.kernel)
        gp.fit(X, y, warm_start=self.last_params, fit_subset=self._fit_subset(y))
        self.last_params = gp.params
        ys = gp.standardize(y)
        best = float(np.min(ys))
        Xp, _ = self._encode(enc, list(pending))
        if len(Xp):
            fantasy = gp.predict(Xp)[0]
            noise = np.concatenate(
                [np.full(len(X), gp.params.noise_var), np.full(len(Xp), gp.min_noise)]
            )
            gp.condition(np.vstack([X, Xp]), np.concatenate([ys, fantasy]), noise)
            best = min(best, float(np.min(fantasy)))

        acquisition = self.acquisition

        def acq(x: np.ndarray) -> np.ndarray:
            mean, var = gp.predict(x)
            return acquisition(mean, np.sqrt(var), best)

        def acq_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
            mean, var, dmean, dvar = gp.predict_with_grad(x[None])
            std = np.sqrt(np.maximum(var, 1e-20))
            a, da_dm, da_ds = acquisition.value_and_grad(mean, std, best)
            grad = da_dm[0] * dmean[0] + da_ds[0] * dvar[0] / (2.0 * std[0])
            return float(a[0]), grad

        anchors = X[np.argsort(y, kind="stable")[:5]]
        return optimize_acquisition(
            space,
            acq,
            acq_grad,
            rng,
            excluded=excluded,
            anchors=anchors,
            n_candidates=self.n_candidates,
            n_starts=self.n_starts,
        )

    def _random(self, space: Any, rng: np.random.Generator, excluded: Collection[Hashable]):
        """A uniformly random non-excluded configuration (too little data to model)."""
        return optimize_acquisition(
            space,
            lambda x: rng.random(len(x)),
            lambda x: (0.0, np.zeros_like(x)),
            rng,
            excluded=excluded,
            n_candidates=64,
            n_starts=0,
        )


def suggest(
    space: Any,
    observations: Sequence[Observation],
    rng: np.random.Generator,
    *,
    pending: Sequence[Mapping[str, Any]] = (),
    excluded: Collection[Hashable] = frozenset(),
    kernel: str | Kernel = "matern52",
    acquisition: str | AcquisitionFunction = "logei",
    xi: float | None = None,
    kappa: float | None = None,
    **options: int,
) -> dict | None:
    """The next configuration to evaluate (a one-shot `BayesianOptimizer`).

    Args:
        space: The search space (`keras_hpx.space.Space`).
        observations: `(values, score)` pairs, scores minimised; `None`, NaN and
            infinite scores count as the worst finite score.
        rng: The source of randomness.
        pending: Configurations being evaluated now. Defaults to `()`.
        excluded: `Space.key`s never to propose. Defaults to `frozenset()`.
        kernel: Kernel name or instance. Defaults to `"matern52"`.
        acquisition: Acquisition name or instance. Defaults to `"logei"`.
        xi: Improvement margin (standardised units). Defaults to `None`.
        kappa: Confidence-bound width. Defaults to `None`.
        **options: `max_fit`, `n_candidates`, `n_starts` of `BayesianOptimizer`.

    Returns:
        The active values of a new configuration, or `None` if none is left.
    """
    return BayesianOptimizer(kernel, acquisition, xi=xi, kappa=kappa, **options).suggest(
        space, observations, rng, pending=pending, excluded=excluded
    )
