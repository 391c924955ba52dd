"""Pareto dominance, non-dominated sorting and hypervolume (pure numpy).

Notation: `Y` is an `(n, m)` array of `n` points in `m` objectives, all
**minimised** (use `to_minimise` first: maximised columns are negated). A point
`a` dominates `b` when `a <= b` in every objective and `a < b` in at least one.
Equal points do not dominate each other, so duplicates share a front. Rows
with a non-finite value are never in any front (rank `-1`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from keras_hpx.checks import invalid

__all__ = [
    "chebyshev",
    "dominates",
    "hypervolume",
    "non_dominated",
    "nondominated_ranks",
    "normalise",
    "to_minimise",
]


def to_minimise(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """`values` with every `"max"` column negated, as floats, shape `(n, m)`.

    Args:
        values: `(n, m)` objective values.
        directions: `"min"` or `"max"` for each of the `m` columns.

    Raises:
        ValueError: `directions` does not match the columns, or holds another word.
    """
    Y = (
        np.array(values, dtype=float).reshape(len(values), -1)
        if len(values)
        else np.zeros((0, len(directions)))
    )
    if Y.shape[1] != len(directions):
        raise ValueError(f"{Y.shape[1]} objective columns but {len(directions)} directions.")
    for d in directions:
        if d not in ("min", "max"):
            raise invalid("directions", list(directions), "'min' or 'max' for each objective")
    sign = np.array([-1.0 if d == "max" else 1.0 for d in directions])
    return Y * sign


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether point `a` dominates point `b` (both minimised)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all(a <= b) and np.any(a < b))


def _valid(Y: np.ndarray) -> np.ndarray:
    return np.all(np.isfinite(Y), axis=1)


def non_dominated(Y: np.ndarray) -> np.ndarray:
    """Boolean mask of the points no other point dominates (non-finite rows excluded)."""
    Y = np.asarray(Y, dtype=float)
    n = len(Y)
    valid = _valid(Y) if n else np.zeros(0, dtype=bool)
    mask = valid.copy()
    idx = np.flatnonzero(valid)
    if len(idx) == 0:
        return mask
    P = Y[idx]
    # dominated[i]: some j with P[j] <= P[i] everywhere and < somewhere.
    le = np.all(P[:, None, :] <= P[None, :, :], axis=2)  # le[j, i]: P[j] <= P[i]
    lt = np.any(P[:, None, :] < P[None, :, :], axis=2)
    dominated = np.any(le & lt, axis=0)
    mask[idx] = ~dominated
    return mask


def nondominated_ranks(Y: np.ndarray) -> np.ndarray:
    """Front number of each point: 0 for the Pareto front, 1 for the next, ...; -1 for
    rows with a non-finite value."""
    Y = np.asarray(Y, dtype=float)
    ranks = np.full(len(Y), -1, dtype=int)
    left = np.flatnonzero(_valid(Y)) if len(Y) else np.zeros(0, dtype=int)
    rank = 0
    while len(left):
        front = non_dominated(Y[left])
        ranks[left[front]] = rank
        left = left[~front]
        rank += 1
    return ranks


def normalise(Y: np.ndarray, ideal: np.ndarray, nadir: np.ndarray) -> np.ndarray:
    """`(Y - ideal) / (nadir - ideal)` per column (a zero range counts as 1)."""
    Y = np.asarray(Y, dtype=float)
    ideal, nadir = np.asarray(ideal, dtype=float), np.asarray(nadir, dtype=float)
    span = nadir - ideal
    span = np.where(span > 0, span, 1.0)
    return (Y - ideal) / span


def hypervolume(Y: np.ndarray, ref: np.ndarray) -> float:
    """The volume dominated by the points and bounded by the reference point `ref`.

    Points that do not strictly dominate `ref` in every objective add nothing.
    Exact: a sweep in 2 objectives, recursive slicing over the last objective
    otherwise (fine for the tens to hundreds of points of a search).

    Args:
        Y: `(n, m)` minimised points.
        ref: `(m,)` reference point (worse than every point that should count).
    """
    Y = np.asarray(Y, dtype=float)
    ref = np.asarray(ref, dtype=float)
    if Y.ndim != 2 or Y.shape[1] != ref.shape[0]:
        raise ValueError(f"Y has shape {Y.shape}; expected (n, {ref.shape[0]}).")
    Y = Y[_valid(Y)]
    Y = Y[np.all(Y < ref, axis=1)]
    if not len(Y):
        return 0.0
    return float(_hv(Y[non_dominated(Y)], ref))


def _hv(P: np.ndarray, ref: np.ndarray) -> float:
    m = P.shape[1]
    if m == 1:
        return float(ref[0] - P[:, 0].min())
    if m == 2:
        order = np.argsort(P[:, 0], kind="stable")
        total, best_y = 0.0, ref[1]
        for x, y in P[order]:
            if y < best_y:
                total += (ref[0] - x) * (best_y - y)
                best_y = y
        return total
    # Slice along the last objective: between consecutive levels, the (m-1)-d volume
    # of the points at or below the level.
    order = np.argsort(P[:, -1], kind="stable")
    P = P[order]
    levels = np.append(P[:, -1], ref[-1])
    total = 0.0
    for i in range(len(P)):
        height = levels[i + 1] - levels[i]
        if height <= 0:
            continue
        S = P[: i + 1, :-1]
        S = S[non_dominated(S)]
        total += height * _hv(S, ref[:-1])
    return total


def chebyshev(Y: np.ndarray, weights: np.ndarray, rho: float = 0.05) -> np.ndarray:
    """The augmented Chebyshev scalarisation of normalised, minimised points (ParEGO):
    `max_k w_k y_k + rho * sum_k w_k y_k`, one value per row (lower is better).

    Every Pareto-optimal point is the minimiser for some weights, so drawing the
    weights afresh at each proposal spreads a single-objective search over the front.

    Args:
        Y: `(n, m)` points, each column normalised to about [0, 1].
        weights: `(m,)` non-negative weights summing to 1.
        rho: Weight of the sum term (breaks ties along the axes). Defaults to `0.05`.
    """
    Y = np.asarray(Y, dtype=float)
    w = np.asarray(weights, dtype=float)
    return np.max(Y * w, axis=1) + rho * (Y @ w)
