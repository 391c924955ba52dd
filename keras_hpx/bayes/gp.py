"""Gaussian-process regression with MAP-fitted kernel hyperparameters.

Notation (shapes in brackets; `n` observations, `m` query points, `d` feature
columns of the encoded space):

    X        [n, d]  training inputs, features in [0, 1] (see `keras_hpx.space`).
    y        [n]     training targets after standardisation (zero mean, unit std).
    y_mean   []      mean of the raw targets, removed by `standardize`.
    y_std    []      standard deviation of the raw targets, divided out.
    l        [d]     length scales, one per feature column; columns of one group
                     (`tied`, e.g. a categorical's one-hot columns) share one.
    s2       []      signal variance: prior variance of the latent function f.
    sn2      []      noise variance of y around f (`min_noise` plus a fitted part).
    theta    [k + 2] unconstrained parameters: `(log l, log s2, log(sn2 - min_noise))`,
                     one log length scale per group of columns (`k <= d`).
    r2       [n, n]  scaled squared distances `sum_j (X_ij - X_kj)**2 / l_j**2`.
    k(r2)            the kernel (`keras_hpx.bayes.kernels`), `k(0) = 1`.
    K        [n, n]  `s2 k(r2) + sn2 I`: covariance of the observed targets.
    L        [n, n]  lower Cholesky factor of K.
    alpha    [n]     `K^-1 y`.
    x        [m, d]  query points.
    k_x      [m, n]  `s2 k(r2(x, X))`: covariance between f(x) and the targets.
    mean     [m]     posterior mean of f(x): `k_x alpha` (standardised units).
    var      [m]     posterior variance of f(x): `s2 - diag(k_x K^-1 k_x^T)`.

Fit: maximum a posteriori. The loss is the negative log marginal likelihood,

    0.5 y^T K^-1 y + sum(log diag L) + 0.5 n log(2 pi),

minus the log prior density of the hyperparameters (see `Prior`); its gradient
with respect to theta is `0.5 tr((K^-1 - alpha alpha^T) dK/dtheta)` minus the
prior's, computed analytically and minimised with scipy's L-BFGS-B.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.optimize

from keras_hpx.bayes.kernels import Kernel, get_kernel, scaled_sq_dist
from keras_hpx.bayes.transforms import mean_and_std
from keras_hpx.checks import check_int, check_number, invalid

__all__ = ["GaussianProcess", "GPParams", "Prior"]

_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class GPParams:
    """Kernel hyperparameters of a fitted GP.

    Attributes:
        lengthscales: One length scale per feature column, shape `(d,)`.
        signal_var: Prior variance of the latent function (standardised units).
        noise_var: Observation noise variance (standardised units).
    """

    lengthscales: np.ndarray
    signal_var: float
    noise_var: float


@dataclass(frozen=True)
class Prior:
    """Prior densities for MAP estimation (all on the standardised scale).

    * Length scales: `log p(l) = -w (l**2 + 1 / l**2)` per dimension, symmetric in
      `log l` around `l = 1` (the width of the unit cube). It is flat between about
      0.3 and 3 and rises steeply outside, above all below 0.1: short length scales
      that explain noise by wiggles are the usual failure of maximum likelihood
      with few points. (The same shape as Optuna's GPSampler prior, written in `l`.)
    * Signal variance: Gamma(`signal_shape`, `signal_rate`), mode near 1 as
      expected for standardised targets.
    * Noise variance: Gamma(`noise_shape`, `noise_rate`), with density all the way
      down to `min_noise`, so deterministic objectives are interpolated while
      noisy ones get their noise estimated.

    Attributes:
        lengthscale_weight: `w` above. Defaults to `0.1`.
        signal_shape: Gamma shape of the signal variance. Defaults to `2.0`.
        signal_rate: Gamma rate of the signal variance. Defaults to `1.0`.
        noise_shape: Gamma shape of the noise variance. Defaults to `1.1`.
        noise_rate: Gamma rate of the noise variance. Defaults to `30.0`.
    """

    lengthscale_weight: float = 0.1
    signal_shape: float = 2.0
    signal_rate: float = 1.0
    noise_shape: float = 1.1
    noise_rate: float = 30.0

    def log_density(self, theta: np.ndarray, min_noise: float) -> tuple[float, np.ndarray]:
        """Log prior density (up to a constant) and its gradient in theta."""
        d = theta.size - 2
        l2 = np.exp(2.0 * theta[:d])
        w = self.lengthscale_weight
        lp = float(-w * np.sum(l2 + 1.0 / l2))
        g = np.empty_like(theta)
        g[:d] = -2.0 * w * (l2 - 1.0 / l2)
        s2 = math.exp(theta[d])
        lp += (self.signal_shape - 1.0) * theta[d] - self.signal_rate * s2
        g[d] = (self.signal_shape - 1.0) - self.signal_rate * s2
        extra = math.exp(theta[d + 1])
        sn2 = min_noise + extra
        lp += (self.noise_shape - 1.0) * math.log(sn2) - self.noise_rate * sn2
        g[d + 1] = ((self.noise_shape - 1.0) / sn2 - self.noise_rate) * extra
        return lp, g


def _tie_index(d: int, tied: Sequence[Sequence[int]]) -> np.ndarray | None:
    """Column -> length-scale index for `d` columns where each group of `tied` shares
    one (`None` when nothing is tied)."""
    groups = [sorted({int(j) for j in g}) for g in tied if len(g) > 1]
    if not groups:
        return None
    owner = np.full(d, -1)
    for i, group in enumerate(groups):
        if group[0] < 0 or group[-1] >= d or np.any(owner[group] >= 0):
            raise ValueError(
                f"`tied` must hold disjoint groups of column indices in [0, {d}). "
                f"Received: tied={[list(g) for g in tied]}"
            )
        owner[group] = i
    # Number the length scales in column order: a group at its first column.
    tie = np.empty(d, dtype=int)
    seen: dict[int, int] = {}
    for j in range(d):
        key = owner[j] if owner[j] >= 0 else -(j + 1)
        tie[j] = seen.setdefault(key, len(seen))
    return tie


def _cholesky(K: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor, adding growing jitter if K is numerically singular."""
    jitter = 0.0
    scale = float(np.mean(np.diag(K))) if K.size else 1.0
    for _ in range(8):
        try:
            if jitter:
                return scipy.linalg.cholesky(
                    K + jitter * np.eye(len(K)), lower=True, check_finite=False
                )
            return scipy.linalg.cholesky(K, lower=True, check_finite=False)
        except scipy.linalg.LinAlgError:
            jitter = scale * 1e-9 if jitter == 0.0 else jitter * 10.0
    raise np.linalg.LinAlgError("Covariance matrix is not positive definite, even with jitter.")


def _inverse_from_cholesky(L: np.ndarray) -> np.ndarray:
    """`K^-1` from the lower Cholesky factor of K (LAPACK potri, symmetrised)."""
    inv, info = scipy.linalg.lapack.dpotri(L, lower=1)
    if info != 0:
        return scipy.linalg.cho_solve((L, True), np.eye(len(L)), check_finite=False)
    return np.tril(inv) + np.tril(inv, -1).T


class GaussianProcess:
    """GP regression on standardised targets with MAP-fitted hyperparameters.

    Args:
        kernel: A kernel name (`"matern52"`, `"matern32"`, `"rbf"`) or a `Kernel`.
            Defaults to `"matern52"`.
        prior: Prior densities of the hyperparameters. Defaults to `None`
            (`Prior()`).
        min_noise: Lower bound of the noise variance (standardised units); keeps
            the covariance well conditioned. Defaults to `1e-9`.
        max_iter: L-BFGS-B iterations per fit start. Defaults to `200`.
    """

    def __init__(
        self,
        kernel: str | Kernel = "matern52",
        *,
        prior: Prior | None = None,
        min_noise: float = 1e-9,
        max_iter: int = 200,
    ):
        self.kernel = get_kernel(kernel)
        if prior is not None and not isinstance(prior, Prior):
            raise invalid("prior", prior, "a keras_hpx.bayes.Prior or None", TypeError)
        self.prior = prior if prior is not None else Prior()
        self.min_noise = check_number("min_noise", min_noise, positive=True)
        self.max_iter = check_int("max_iter", max_iter, 1)
        self.params: GPParams | None = None
        self.y_mean = 0.0
        self.y_std = 1.0
        self._X: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._L: np.ndarray | None = None
        self._alpha: np.ndarray | None = None
        self._tie: np.ndarray | None = None  # column -> length-scale index, set by `fit`

    # ----- targets ------------------------------------------------------------------------

    def standardize(self, y: np.ndarray) -> np.ndarray:
        """Raw targets -> the standardised units of the fitted model."""
        return (np.asarray(y, dtype=float) - self.y_mean) / self.y_std

    # ----- parameters <-> theta -----------------------------------------------------------

    def _theta(self, params: GPParams) -> np.ndarray:
        extra = max(params.noise_var - self.min_noise, 1e-12)
        log_l = np.log(params.lengthscales)
        if self._tie is not None:  # a group's log length scale: the mean over its columns
            log_l = np.bincount(self._tie, log_l) / np.bincount(self._tie)
        return np.concatenate([log_l, [math.log(params.signal_var), math.log(extra)]])

    def _params(self, theta: np.ndarray) -> GPParams:
        k = theta.size - 2
        log_l = theta[:k] if self._tie is None else theta[:k][self._tie]
        return GPParams(
            lengthscales=np.exp(log_l),
            signal_var=float(math.exp(theta[k])),
            noise_var=float(self.min_noise + math.exp(theta[k + 1])),
        )

    # ----- the MAP objective --------------------------------------------------------------

    def neg_log_posterior(
        self, theta: np.ndarray, X: np.ndarray, y: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """Negative log marginal likelihood minus log prior, and its gradient.

        Args:
            theta: Unconstrained hyperparameters, shape `(k + 2,)` (see the module notes).
            X: Inputs, shape `(n, d)`.
            y: Standardised targets, shape `(n,)`.
        """
        p = self._params(theta)
        n = len(X)
        k = theta.size - 2
        r2 = scaled_sq_dist(X, X, p.lengthscales)
        kv, kg = self.kernel.value_and_grad(r2)
        Kf = p.signal_var * kv
        K = Kf + p.noise_var * np.eye(n)
        try:
            L = _cholesky(K)
        except np.linalg.LinAlgError:
            return 1e25, np.zeros_like(theta)
        alpha = scipy.linalg.cho_solve((L, True), y, check_finite=False)
        nll = 0.5 * float(y @ alpha) + float(np.log(np.diag(L)).sum()) + 0.5 * n * _LOG_2PI
        Kinv = _inverse_from_cholesky(L)
        W = Kinv - np.outer(alpha, alpha)  # d nll = 0.5 tr(W dK)
        grad = np.empty_like(theta)
        # dK/dlog l_j = s2 k'(r2) * (-2 (X_ij - X_kj)^2 / l_j^2)
        M = W * kg
        rows = M.sum(1)
        Xs = X / p.lengthscales
        quad = 2.0 * (rows @ (Xs * Xs)) - 2.0 * np.einsum("ij,ij->j", Xs, M @ Xs)
        grad_l = 0.5 * p.signal_var * (-2.0) * quad
        grad[:k] = grad_l if self._tie is None else np.bincount(self._tie, grad_l, minlength=k)
        grad[k] = 0.5 * float(np.sum(W * Kf))
        grad[k + 1] = 0.5 * float(np.trace(W)) * (p.noise_var - self.min_noise)
        lp, lp_grad = self.prior.log_density(theta, self.min_noise)
        return nll - lp, grad - lp_grad

    def _bounds(self, d: int) -> list[tuple[float, float]]:
        return [(math.log(1e-3), math.log(1e3))] * d + [
            (math.log(1e-3), math.log(1e2)),
            (math.log(1e-12), math.log(10.0)),
        ]

    # ----- fitting ------------------------------------------------------------------------

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        warm_start: GPParams | None = None,
        fit_subset: np.ndarray | None = None,
        tied: Sequence[Sequence[int]] = (),
    ) -> GaussianProcess:
        """Standardises `y`, fits the hyperparameters (MAP) and conditions on the data.

        Two L-BFGS-B starts: the prior's mode and `warm_start` (the previous fit)
        when given, else a shorter length scale; the better optimum wins.

        Columns in one group of `tied` share one length scale. For the one-hot
        columns of a categorical this is a single "how much does this choice
        matter" scale, as in Optuna's and BoTorch's categorical kernels, instead
        of one per category to be learnt from few points.

        Args:
            X: Inputs, shape `(n, d)`, finite.
            y: Raw targets, shape `(n,)`, finite.
            warm_start: Hyperparameters to start one fit from. Defaults to `None`.
            fit_subset: Row indices the hyperparameter fit sees (to bound its
                cost); the model then conditions on all rows. Defaults to `None`
                (all rows).
            tied: Groups of column indices that share a length scale (disjoint).
                Defaults to `()` (one length scale per column).

        Returns:
            `self`.
        """
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        if X.ndim != 2 or y.shape != (len(X),):
            raise ValueError(
                f"Expected X of shape (n, d) and y of shape (n,); got {X.shape}, {y.shape}."
            )
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
            raise ValueError("X and y must be finite; map failed observations first.")
        n, d = X.shape
        self._tie = _tie_index(d, tied)
        k = d if self._tie is None else int(self._tie.max()) + 1
        self.y_mean, std = mean_and_std(y)
        # Spread below float64's resolution of the scores is no signal (a constant).
        self.y_std = std if std > 1e-12 * float(np.max(np.abs(y), initial=0.0)) else 1.0
        ys = self.standardize(y)
        Xf, yf = (X, ys) if fit_subset is None else (X[fit_subset], ys[fit_subset])

        starts = [
            GPParams(np.ones(d), 1.0, 1e-2),
            warm_start
            if warm_start is not None and np.shape(warm_start.lengthscales) == (d,)
            else GPParams(np.full(d, 0.3), 1.0, 1e-3),
        ]
        bounds = self._bounds(k)
        best_theta, best_val = None, np.inf
        for start in starts:
            theta0 = np.clip(self._theta(start), [b[0] for b in bounds], [b[1] for b in bounds])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = scipy.optimize.minimize(
                    self.neg_log_posterior,
                    theta0,
                    args=(Xf, yf),
                    jac=True,
                    method="L-BFGS-B",
                    bounds=bounds,
                    options={"maxiter": self.max_iter},
                )
            if np.isfinite(res.fun) and res.fun < best_val:
                best_theta, best_val = res.x, float(res.fun)
        if best_theta is None:
            best_theta = self._theta(starts[0])
        self.params = self._params(best_theta)
        self.condition(X, ys)
        return self

    def condition(
        self, X: np.ndarray, y: np.ndarray, noise_var: np.ndarray | None = None
    ) -> GaussianProcess:
        """Conditions on `(X, y)` (standardised targets) with the current hyperparameters.

        Used after `fit`, and to add fantasies for pending points.

        Args:
            X: Inputs, shape `(n, d)`.
            y: Standardised targets, shape `(n,)`.
            noise_var: Per-point noise variances, shape `(n,)`; a fantasy of the
                latent function itself takes `min_noise`. Defaults to `None`
                (the fitted noise variance everywhere).

        Returns:
            `self`.
        """
        if self.params is None:
            raise RuntimeError("Call fit() before condition().")
        p = self.params
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        K = p.signal_var * self.kernel.value(scaled_sq_dist(X, X, p.lengthscales))
        K[np.diag_indices_from(K)] += p.noise_var if noise_var is None else noise_var
        self._L = _cholesky(K)
        self._alpha = scipy.linalg.cho_solve((self._L, True), y, check_finite=False)
        self._X, self._y = X, y
        return self

    # ----- prediction ---------------------------------------------------------------------

    @property
    def X(self) -> np.ndarray | None:
        """The conditioning inputs (`None` before `fit`)."""
        return self._X

    @property
    def y(self) -> np.ndarray | None:
        """The conditioning targets (standardised; `None` before `fit`)."""
        return self._y

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of f at query points (standardised units).

        Args:
            x: Query points, shape `(m, d)`.

        Returns:
            `(mean, var)`, each of shape `(m,)`; the variance is clipped at 0.
        """
        if self._L is None:
            raise RuntimeError("Call fit() before predict().")
        p, X, alpha = self.params, self._X, self._alpha
        # `condition` sets `_L`, `_X` and `_alpha` together, and needs `params`.
        assert p is not None and X is not None and alpha is not None
        x = np.atleast_2d(np.asarray(x, dtype=float))
        kx = p.signal_var * self.kernel.value(scaled_sq_dist(x, X, p.lengthscales))
        mean = kx @ alpha
        v = scipy.linalg.solve_triangular(self._L, kx.T, lower=True, check_finite=False)
        var = p.signal_var - np.einsum("ij,ij->j", v, v)
        return mean, np.maximum(var, 0.0)

    def predict_with_grad(
        self, x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Posterior mean and variance with their gradients in `x`.

        Args:
            x: Query points, shape `(m, d)`.

        Returns:
            `(mean [m], var [m], dmean [m, d], dvar [m, d])`.
        """
        if self._L is None:
            raise RuntimeError("Call fit() before predict_with_grad().")
        p, X, alpha = self.params, self._X, self._alpha
        # `condition` sets `_L`, `_X` and `_alpha` together, and needs `params`.
        assert p is not None and X is not None and alpha is not None
        x = np.atleast_2d(np.asarray(x, dtype=float))
        inv_l2 = 1.0 / p.lengthscales**2
        kv, kg = self.kernel.value_and_grad(scaled_sq_dist(x, X, p.lengthscales))
        kx = p.signal_var * kv
        mean = kx @ alpha
        Kinv_kx = scipy.linalg.cho_solve((self._L, True), kx.T, check_finite=False).T  # [m, n]
        var = p.signal_var - np.einsum("ij,ij->i", kx, Kinv_kx)
        # d kx_i / d x = s2 k'(r2_i) 2 (x - X_i) / l^2
        G = 2.0 * p.signal_var * kg  # [m, n]

        def contract(w: np.ndarray) -> np.ndarray:
            # sum_i G_i w_i (x - X_i) * inv_l2, for each query point
            gw = G * w
            return (gw.sum(1)[:, None] * x - gw @ X) * inv_l2

        dmean = contract(np.broadcast_to(alpha, G.shape))
        dvar = -2.0 * contract(Kinv_kx)
        return mean, np.maximum(var, 0.0), dmean, dvar
