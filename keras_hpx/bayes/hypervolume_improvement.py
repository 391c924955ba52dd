"""Expected hypervolume improvement, exact and in log form, for independent Gaussian models.

Several objectives, all **minimised**, each with its own Gaussian-process model:
at a point `x` the objectives are independent Gaussians `Y_j ~ N(mean_j, std_j**2)`.
The *hypervolume improvement* of an outcome `y` over a front `P` with reference
point `r` is the volume that `y` dominates below `r` and no point of `P`
dominates. Split that undominated region into disjoint boxes `[l_c, u_c]`
(`nondominated_cells`); inside box `c` the improvement is
`prod_j (u_cj - max(y_j, l_cj))^+`, a product of one function per objective, so
under independence its expectation is a product of one-dimensional integrals:

    EHVI(x) = sum_c prod_j psi(l_cj, u_cj; mean_j, std_j),
    psi(l, u) = E[(u - max(Y, l))^+] = integral_l^u P(Y <= t) dt
              = std * (h(b) - h(a)),  a = (l - mean) / std,  b = (u - mean) / std,

with `h(z) = phi(z) + z Phi(z)` (the function behind expected improvement; `l = -inf`
gives `std * h(b)`, the expected improvement below `u`). This is exact, not a
Monte-Carlo estimate. `log_ehvi` returns its logarithm, evaluated in log space
throughout (`log h` from `keras_hpx.bayes.acquisition`, a log-sum-exp over the
boxes), so it stays finite with useful gradients far from the front, as log
expected improvement does for one objective (Ament et al., 2023; Daulton et al.,
2020 for the box decomposition and the expected hypervolume improvement).

Cost: `nondominated_cells` makes `(k + 1)**(m - 1)` boxes for a front of `k`
points in `m` objectives (one column of boxes per cell of a grid on the first
`m - 1` objectives); `log_ehvi` evaluates each objective's `psi` once per distinct
interval and sums over the boxes: `O(n * boxes * m)` additions for `n` points.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from keras_hpx.bayes.acquisition import _dlog_h, _log1mexp, log_h
from keras_hpx.pareto import non_dominated

__all__ = ["log_ehvi", "log_ehvi_and_grad", "nondominated_cells", "reference_point"]

_MIN_STD = 1e-10
_FLOOR = -1e6  # stands for -inf in box bounds (outcomes below it are beyond any model)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def reference_point(Y: np.ndarray, margin: float = 0.1) -> np.ndarray:
    """The reference point chosen automatically: the worst observed value of each
    objective plus `margin` times that objective's observed range.

    So every observed point counts, and extending the front at its ends is worth a
    little more than matching its worst point. (BoTorch's `infer_reference_point`
    uses the front's nadir instead, which credits the ends less.)

    Args:
        Y: `(n, m)` finite minimised outcomes, `n >= 1`.
        margin: Fraction of each range added beyond the worst value. Defaults to `0.1`.

    Returns:
        `(m,)` reference point; an objective with no spread gets `worst + margin`.
    """
    Y = np.asarray(Y, dtype=float)
    worst, best = Y.max(axis=0), Y.min(axis=0)
    span = np.where(worst > best, worst - best, 1.0)
    return worst + margin * span


def nondominated_cells(front: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint boxes that cover the region below `ref` that no point of `front` dominates.

    Grid lines through every coordinate of the front split the first `m - 1`
    objectives into cells; above each cell, the undominated part of the last
    objective is everything below the lowest last value of the points that
    dominate the cell in the first `m - 1` objectives (or below `ref`).

    Args:
        front: `(k, m)` minimised points (dominated or duplicate points are allowed;
            points not below `ref` in every objective are ignored).
        ref: `(m,)` reference point.

    Returns:
        `(lower, upper)`, each `(boxes, m)`; `lower` holds `-inf` where a box is
        unbounded below.
    """
    ref = np.asarray(ref, dtype=float)
    m = ref.shape[0]
    P = np.asarray(front, dtype=float).reshape(-1, m)
    P = P[np.all(np.isfinite(P), axis=1) & np.all(P < ref, axis=1)]
    P = np.unique(P[non_dominated(P)], axis=0)  # fewer grid lines, the same region
    if m == 1:
        top = P[:, 0].min() if len(P) else ref[0]
        return np.array([[-np.inf]]), np.array([[top]])
    edges = [np.concatenate([[-np.inf], np.unique(P[:, j]), [ref[j]]]) for j in range(m - 1)]
    grids = np.meshgrid(*[np.arange(len(e) - 1) for e in edges], indexing="ij")
    idx = np.stack([g.ravel() for g in grids], axis=1)  # (cells, m - 1)
    lo = np.stack([edges[j][idx[:, j]] for j in range(m - 1)], axis=1)
    hi = np.stack([edges[j][idx[:, j] + 1] for j in range(m - 1)], axis=1)
    if len(P):
        dominates = np.all(P[None, :, : m - 1] <= lo[:, None, :], axis=2)  # (cells, k)
        top = np.min(np.where(dominates, P[None, :, m - 1], ref[m - 1]), axis=1)
    else:
        top = np.full(len(lo), ref[m - 1])
    lower = np.column_stack([lo, np.full(len(lo), -np.inf)])
    upper = np.column_stack([hi, top])
    keep = np.all(upper > lower, axis=1)
    return lower[keep], upper[keep]


def _log_diff(la: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """`log(exp(la) - exp(lb))` for `la >= lb` (`-inf` where they are equal)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = la + _log1mexp(np.minimum(lb - la, 0.0))
    return np.where(lb == -np.inf, la, out)


def _psi_terms(
    lower: np.ndarray, upper: np.ndarray, mean: np.ndarray, std: np.ndarray, grad: bool
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """`log psi` for intervals `(lower, upper)` (shape `(q,)`) and points (shape `(n,)`),
    shape `(n, q)`; with `grad`, also `d log psi / d mean` and `d log psi / d std`."""
    s = std[:, None]
    a = (np.maximum(lower, _FLOOR)[None, :] - mean[:, None]) / s
    b = (upper[None, :] - mean[:, None]) / s
    with np.errstate(divide="ignore"):  # h(a) underflowing to 0 far below is exact enough
        lhb, lha = log_h(b), log_h(a)
    log_psi = np.log(s) + _log_diff(lhb, lha)
    if not grad:
        return log_psi, None, None
    # d psi / d mean = -(Phi(b) - Phi(a)); d psi / d std = phi(b) - phi(a).
    lcb, lca = special.log_ndtr(b), special.log_ndtr(a)
    dmean = -np.exp(_log_diff(lcb, lca) - log_psi)
    lpb, lpa = -0.5 * b * b - _LOG_SQRT_2PI, -0.5 * a * a - _LOG_SQRT_2PI
    hi, lo = np.maximum(lpb, lpa), np.minimum(lpb, lpa)
    sign = np.where(lpb >= lpa, 1.0, -1.0)
    dstd = sign * np.exp(_log_diff(hi, lo) - log_psi)
    # Where psi is essentially the expected improvement (a far below), use its
    # stable derivatives instead of the differences of tiny terms.
    ei_like = a < -30.0
    if np.any(ei_like):
        dz = _dlog_h(b, lhb)
        dmean = np.where(ei_like, -dz / s, dmean)
        dstd = np.where(ei_like, (1.0 - dz * b) / s, dstd)
    return log_psi, dmean, dstd


def log_ehvi_and_grad(
    mean: np.ndarray, std: np.ndarray, lower: np.ndarray, upper: np.ndarray, grad: bool = True
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Log expected hypervolume improvement, with its derivatives in `mean` and `std`.

    Args:
        mean: `(n, m)` predictive means of the minimised objectives.
        std: `(n, m)` predictive standard deviations.
        lower: `(boxes, m)` lower corners from `nondominated_cells`.
        upper: `(boxes, m)` upper corners.
        grad: Also return the derivatives. Defaults to `True`.

    Returns:
        `(value (n,), d value / d mean (n, m), d value / d std (n, m))`; the
        derivatives are `None` without `grad`. The value is `-inf` only when no box
        has any volume.
    """
    mean = np.atleast_2d(np.asarray(mean, dtype=float))
    std = np.maximum(np.atleast_2d(np.asarray(std, dtype=float)), _MIN_STD)
    n, m = mean.shape
    if len(lower) == 0:
        empty = np.zeros((n, m)) if grad else None
        return np.full(n, -np.inf), empty, empty
    total = np.zeros((n, len(lower)))
    parts = []
    for j in range(m):
        pairs, inverse = np.unique(
            np.stack([lower[:, j], upper[:, j]], axis=1), axis=0, return_inverse=True
        )
        inverse = np.ravel(inverse)
        lp, dm, ds = _psi_terms(pairs[:, 0], pairs[:, 1], mean[:, j], std[:, j], grad)
        total += lp[:, inverse]
        parts.append((inverse, dm, ds))
    value = special.logsumexp(total, axis=1)
    if not grad:
        return value, None, None
    weights = np.exp(total - value[:, None])  # each box's share of the EHVI
    dmean = np.empty((n, m))
    dstd = np.empty((n, m))
    for j, (inverse, dm, ds) in enumerate(parts):
        assert dm is not None and ds is not None
        dmean[:, j] = np.sum(weights * dm[:, inverse], axis=1)
        dstd[:, j] = np.sum(weights * ds[:, inverse], axis=1)
    return value, dmean, dstd


def log_ehvi(mean: np.ndarray, std: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """`log_ehvi_and_grad` without the derivatives: `(n,)` values."""
    return log_ehvi_and_grad(mean, std, lower, upper, grad=False)[0]
