"""Score transforms: raw observed scores -> targets the Gaussian process can fit.

Scores are **minimised** (the oracle flips the sign of maximised objectives).

* `clean_scores`: failed observations (score `None`, NaN, `+inf`, `-inf` or
  anything not convertible to float) count as the worst finite score observed:
  bad, never 0 and never "best". They keep the model away from regions that
  crash without distorting the scale.
* `warp_scores`: a fitted Yeo-Johnson power transform, monotone (the ranking is
  unchanged) and closer to the Gaussian the GP assumes on skewed objectives;
  `warp_scores(y, only_if_needed=True)` applies it only when the scores reject the
  identity (a likelihood-ratio test).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.stats

__all__ = ["clean_scores", "warp_scores"]


def mean_and_std(y: np.ndarray) -> tuple[float, float]:
    """`(mean, std)` of `y`, the std computed on the deviations scaled to at most 1, so
    that scores of any scale get one (`np.std` of values near 1e-200 squares them to
    0, and near 1e200 to infinity).
    """
    y = np.asarray(y, dtype=float)
    if len(y) == 0:
        return 0.0, 0.0
    mean = float(np.mean(y))
    deviations = y - mean
    scale = float(np.max(np.abs(deviations)))
    if scale == 0.0 or not math.isfinite(scale):
        return mean, 0.0 if scale == 0.0 else math.inf
    if 1e-150 < scale < 1e150:  # squares are safe: numpy's own, bit for bit
        return mean, float(np.std(y))
    return mean, scale * float(np.sqrt(np.mean((deviations / scale) ** 2)))


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


# Chi-square quantile, one degree of freedom, 95%: the likelihood-ratio test's threshold.
_CHI2_1_95 = 3.841458820694124


def warp_scores(y: np.ndarray, *, only_if_needed: bool = False) -> np.ndarray:
    """A monotone Yeo-Johnson power transform of standardised scores, fitted by MLE.

    Objectives are often skewed: a loss with a long tail of bad runs, or a flat
    landscape with one deep well. The transform (`scipy.stats.yeojohnson`, as
    HEBO does: Cowen-Rivers et al., 2022) makes the scores closer to Gaussian,
    which the GP assumes, without changing their order. Identity when there
    are fewer than 3 distinct scores; the standardised scores when the fit fails.

    A monotone warp leaves a minimiser where it is, but not the distances between
    scores: under several objectives it changes the hypervolume an acquisition
    measures. `only_if_needed=True` warps only when the scores reject the identity:
    twice the log-likelihood gain of the fitted power over `lambda = 1` above the
    chi-square 95% quantile with one degree of freedom (3.84); otherwise the
    standardised scores are returned, an affine map that keeps every hypervolume's
    proportions. With few scores the test rarely rejects (with 3, practically never).

    Args:
        y: Finite scores, shape `(n,)`.
        only_if_needed: Warp only when the likelihood-ratio test rejects the
            identity. Defaults to `False`.

    Returns:
        The transformed scores, shape `(n,)`.
    """
    y = np.asarray(y, dtype=float)
    if len(y) < 3 or len(np.unique(y)) < 3:
        return y
    mean, std = mean_and_std(y)
    z = (y - mean) / std
    try:
        with np.errstate(all="ignore"):
            out, lam = scipy.stats.yeojohnson(z)
            if only_if_needed:
                gain = scipy.stats.yeojohnson_llf(lam, z) - scipy.stats.yeojohnson_llf(1.0, z)
                if not 2.0 * gain > _CHI2_1_95:
                    return z
    except (ValueError, FloatingPointError, OverflowError):  # pragma: no cover
        return z
    if not np.all(np.isfinite(out)) or np.std(out) <= 0:
        return z
    return out
