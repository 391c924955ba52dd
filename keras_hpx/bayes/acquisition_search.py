"""Maximising an acquisition function over an encoded search space.

The acquisition is maximised over *valid* feature vectors of a
`keras_hpx.space.Space` (moves from `keras_hpx.space_encoder.SpaceEncoder`):

1. **Candidates.** Small discrete spaces (at most `max_grid` configurations)
   are enumerated exactly. Otherwise a scrambled Sobol sample (seeded from the
   caller's `Generator`) drawn on each parameter's sampling scale, plus
   perturbations of `anchors` (the best observed points), are scored in one
   vectorised batch.
2. **Local refinement** of the best few: L-BFGS-B on the active continuous
   columns (analytic gradient), then the best single move among the
   neighbours on discrete columns (every other level of a short ordered grid,
   steps of 1, 2, 4, ... levels on a long one, or another category of a
   one-hot group), alternating until neither improves.
3. **Decoding.** Points are visited in decreasing acquisition order and
   decoded with `Space.decode` (always valid values); the first whose
   `Space.key` is not excluded (tried or pending) is returned, or `None`.

Conditional spaces: inactive columns hold `keras_hpx.space.INACTIVE_FILL`
(outside `[0, 1]`), so two configurations that both lack a parameter do not
differ in its columns, and a configuration that lacks it differs from every one
that has it. Every point that changes a parent is re-encoded through
`decode`/`encode` so the activity pattern stays consistent.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Collection, Hashable

import numpy as np
import scipy.optimize
from scipy.stats import qmc

from keras_hpx.space import Space
from keras_hpx.space_encoder import SpaceEncoder

__all__ = ["optimize_acquisition"]

AcqFn = Callable[[np.ndarray], np.ndarray]
AcqGradFn = Callable[[np.ndarray], tuple[float, np.ndarray]]


def _sobol(d: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """`m` scrambled Sobol points in `[0, 1)^d`, the scrambling seeded from `rng`."""
    seed = int(rng.integers(2**32))
    try:
        sampler = qmc.Sobol(d, scramble=True, rng=seed)
    except TypeError:  # scipy < 1.15 names it `seed`
        sampler = qmc.Sobol(d, scramble=True, seed=seed)
    return sampler.random(m)


def _refine(
    x0: np.ndarray,
    value0: float,
    enc: SpaceEncoder,
    acq: AcqFn,
    acq_grad: AcqGradFn,
    maxiter: int,
    max_rounds: int,
) -> tuple[np.ndarray, float]:
    """Local ascent from `x0`: L-BFGS-B on the active continuous columns, then the
    best discrete neighbour, alternating until neither improves (`max_rounds` at most)."""
    x, value = x0.copy(), float(value0)
    for _ in range(max_rounds):
        improved = False
        active = enc.active(x)
        cont = np.flatnonzero(enc.continuous & active)
        if cont.size:
            base = x.copy()

            def fun(z: np.ndarray, base=base, cont=cont) -> tuple[float, np.ndarray]:
                base[cont] = z
                v, g = acq_grad(base)
                return -v, -g[cont]

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = scipy.optimize.minimize(
                    fun,
                    x[cont],
                    jac=True,
                    method="L-BFGS-B",
                    bounds=[(0.0, 1.0)] * cont.size,
                    options={"maxiter": maxiter},
                )
            if np.all(np.isfinite(res.x)):
                cand = x.copy()
                cand[cont] = np.clip(res.x, 0.0, 1.0)
                cand = enc.canonical(cand)[0]
                v = float(acq(cand[None])[0])
                if v > value + 1e-12 * max(1.0, abs(value)):
                    x, value, improved = cand, v, True
        nb = enc.neighbours(x, enc.active(x))
        if len(nb):
            vals = acq(nb)
            i = int(np.argmax(vals))
            if vals[i] > value + 1e-12 * max(1.0, abs(value)):
                x, value, improved = nb[i], float(vals[i]), True
        if not improved:
            break
    return x, value


def optimize_acquisition(
    space: Space,
    acq: AcqFn,
    acq_grad: AcqGradFn,
    rng: np.random.Generator,
    *,
    excluded: Collection[Hashable] = frozenset(),
    anchors: np.ndarray | None = None,
    n_candidates: int = 1024,
    n_local: int = 256,
    n_starts: int = 5,
    maxiter: int = 200,
    max_rounds: int = 4,
    max_grid: int = 4096,
) -> dict | None:
    """The valid, non-excluded configuration with the highest acquisition found.

    Args:
        space: The search space.
        acq: Acquisition of feature rows `[m, d] -> [m]` (higher is better).
        acq_grad: `x [d] -> (value, gradient [d])` for one feature vector.
        rng: Source of randomness (seeds the Sobol sequence and the perturbations).
        excluded: `Space.key`s never to return (tried or pending). Defaults to
            `frozenset()`.
        anchors: Encoded points to search around (e.g. the best observed).
            Defaults to `None`.
        n_candidates: Sobol candidates (rounded up to a power of two).
            Defaults to `1024`.
        n_local: Random perturbations of the anchors. Defaults to `256`.
        n_starts: Best candidates refined locally. Defaults to `5`.
        maxiter: L-BFGS-B iterations per refinement round. Defaults to `200`.
        max_rounds: Alternations of continuous and discrete moves. Defaults to `4`.
        max_grid: Discrete spaces with at most this many configurations are
            enumerated exactly instead. Defaults to `4096`.

    Returns:
        The active values of the chosen configuration, or `None` when every
        configuration found is excluded (for a small discrete space: when the
        space is exhausted).
    """
    enc = SpaceEncoder(space)
    excluded = excluded if isinstance(excluded, (set, frozenset, dict)) else set(excluded)

    if space.is_discrete and space.grid_size() <= max_grid:
        configs, keys, rows = space.encoded_grid()
        keep = [i for i, key in enumerate(keys) if key not in excluded]
        if not keep:
            return None
        vals = acq(rows[keep])
        vals = np.where(np.isnan(vals), -np.inf, vals)
        return dict(configs[keep[int(np.argmax(vals))]])

    m = 1 << max(1, math.ceil(math.log2(max(2, n_candidates))))
    if enc.dim:
        X = enc.from_unit(_sobol(enc.dim, m, rng))
    else:
        X = np.zeros((1, 0))
    if anchors is not None and len(anchors) and enc.dim:
        X = np.vstack([X, enc.perturb(np.asarray(anchors, dtype=float), n_local, rng, 0.1)])
    vals = acq(X)
    vals = np.where(np.isnan(vals), -np.inf, vals)

    # Starts: the best candidates, then the best anchor itself (the incumbent).
    starts = [i for i in np.argsort(-vals, kind="stable")[: 4 * n_starts] if np.isfinite(vals[i])]
    if anchors is not None and len(anchors) and enc.dim and n_starts:
        X = np.vstack([X, enc.canonical(np.asarray(anchors[:1], dtype=float))])
        vals = np.append(vals, acq(X[-1:]))
        starts = starts + [len(X) - 1] if np.isfinite(vals[-1]) else starts
    refined_x, refined_v = [], []
    seen: set[bytes] = set()
    for n_done, i in enumerate(starts):
        if n_done >= n_starts and i != len(X) - 1:
            continue
        tag = np.round(X[i], 9).tobytes()
        if tag in seen:
            continue
        seen.add(tag)
        x, v = _refine(X[i], vals[i], enc, acq, acq_grad, maxiter, max_rounds)
        refined_x.append(x)
        refined_v.append(v)

    pool = np.vstack([np.array(refined_x).reshape(-1, enc.dim), X]) if refined_x else X
    pool_v = np.concatenate([np.array(refined_v, dtype=float), vals])
    checked: set = set()
    for i in np.argsort(-pool_v, kind="stable"):
        values = enc.decode(pool[i])
        key = space.key(values)
        if key in checked:
            continue
        checked.add(key)
        if key not in excluded:
            return values
    return None
