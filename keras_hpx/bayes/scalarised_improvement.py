"""Expected improvement of a random Chebyshev scalarisation of several models (qParEGO).

Several objectives, all **minimised**, each with its own Gaussian process: at a point
the objectives are independent Gaussians `Y_j ~ N(mean_j, std_j**2)`. One proposal
draws weights `w` (uniform on the simplex) and scalarises the objectives, normalised by
the observed ranges (`lo`, `span`), with the augmented Chebyshev function

    g(y) = max_j w_j (y_j - lo_j) / span_j + rho * sum_j w_j (y_j - lo_j) / span_j,

which every Pareto-optimal point minimises for some `w`; the acquisition is the expected
improvement of `g(Y)` below the best scalarised value seen. `g(Y)` is not Gaussian, so
the expectation is a Monte-Carlo average over fixed base samples `z` (`Y = mean + std z`,
the same `z` for every point: a smooth, deterministic function of the point), with the
improvement softened by a softplus of temperature `tau` so its log and gradient exist
everywhere (Daulton et al., 2020, qParEGO; Ament et al., 2023, for the soft log form).

Unlike ParEGO on one model of the scalarised scores, each objective keeps its own
model (its own length scales and noise), and new weights cost no new fit.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["chebyshev_log_ei_and_grad"]

_MIN_STD = 1e-10


def _log_softplus(u: np.ndarray) -> np.ndarray:
    """`log(log(1 + exp(u)))`, stable on both sides (`u` far below 0: `u` itself)."""
    with np.errstate(divide="ignore"):
        out = np.log(np.logaddexp(0.0, np.maximum(u, -30.0)))
    return np.where(u < -30.0, u, out)


def chebyshev_log_ei_and_grad(
    mean: np.ndarray,
    std: np.ndarray,
    *,
    weights: np.ndarray,
    lo: np.ndarray,
    span: np.ndarray,
    best: float,
    base_samples: np.ndarray,
    rho: float = 0.05,
    tau: float = 1e-3,
    grad: bool = True,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Log of the (soft) expected improvement of the Chebyshev scalarisation.

    Args:
        mean: `(n, m)` predictive means of the minimised objectives.
        std: `(n, m)` predictive standard deviations.
        weights: `(m,)` non-negative weights summing to 1.
        lo: `(m,)` the observed minimum of each objective (same units as `mean`).
        span: `(m,)` the observed range of each objective (positive).
        best: The lowest scalarised value seen.
        base_samples: `(s, m)` standard normal draws, shared by every point.
        rho: Weight of the sum term. Defaults to `0.05`.
        tau: Softplus temperature of the improvement, in scalarised units.
            Defaults to `1e-3`.
        grad: Also return the derivatives. Defaults to `True`.

    Returns:
        `(value (n,), d value / d mean (n, m), d value / d std (n, m))`; the
        derivatives are `None` without `grad`.
    """
    mean = np.atleast_2d(np.asarray(mean, dtype=float))
    std = np.maximum(np.atleast_2d(np.asarray(std, dtype=float)), _MIN_STD)
    scale = np.asarray(weights, dtype=float) / np.asarray(span, dtype=float)  # (m,)
    Z = np.asarray(base_samples, dtype=float)
    Y = mean[:, None, :] + std[:, None, :] * Z[None, :, :]  # (n, s, m)
    terms = (Y - np.asarray(lo, dtype=float)) * scale
    top = np.argmax(terms, axis=2)  # (n, s)
    g = np.take_along_axis(terms, top[..., None], axis=2)[..., 0] + rho * terms.sum(axis=2)
    u = (best - g) / tau
    log_imp = np.log(tau) + _log_softplus(u)  # log(tau * softplus(u))
    total = special.logsumexp(log_imp, axis=1)
    value = total - np.log(Z.shape[0])
    if not grad:
        return value, None, None
    # d imp_s / d g_s = -sigmoid(u_s); d g_s / d Y_sj = scale_j (1[j = top_s] + rho);
    # d log EI / d Y_sj = -sigmoid(u_s) dg_sj / sum_s imp_s, in log space.
    chosen = np.zeros_like(terms)
    np.put_along_axis(chosen, top[..., None], 1.0, axis=2)
    dg = scale * (chosen + rho)  # (n, s, m)
    per_sample = -np.exp(special.log_expit(u) - total[:, None])  # (n, s)
    dmean = np.einsum("ns,nsm->nm", per_sample, dg)
    dstd = np.einsum("ns,nsm,sm->nm", per_sample, dg, Z)
    return value, dmean, dstd
