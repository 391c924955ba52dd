"""Acquisition optimisation over an encoded search space.

The acquisition is maximised over *valid* feature vectors of a
`keras_hpx.space.Space`:

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

Conditional spaces: inactive columns hold the constant `fill` (outside
`[0, 1]`), so two configurations that both lack a parameter do not differ in
its columns, and a configuration that lacks it differs from every one that has
it. Every point that changes a parent is re-encoded through `decode`/`encode`
so the activity pattern stays consistent.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Collection, Hashable
from typing import Any

import numpy as np
import scipy.optimize
from scipy.stats import qmc

__all__ = ["INACTIVE_FILL", "SpaceEncoder", "optimize_acquisition"]

# Discrete columns with at most this many levels try every level as a neighbour.
_ALL_LEVELS = 32

INACTIVE_FILL = -0.5
"""Feature value of inactive conditional columns (outside the active range [0, 1])."""

AcqFn = Callable[[np.ndarray], np.ndarray]
AcqGradFn = Callable[[np.ndarray], tuple[float, np.ndarray]]


class SpaceEncoder:
    """Vectorised helpers around a `Space` for the optimiser.

    Args:
        space: The search space (`keras_hpx.space.Space`).
        fill: Feature value of inactive columns. Defaults to `INACTIVE_FILL`.
    """

    def __init__(self, space: Any, fill: float = INACTIVE_FILL):
        self.space = space
        self.fill = float(fill)
        self.dim = space.dim
        self.conditional = bool(space.is_conditional)
        kinds = [c.kind for c in space.columns]
        self.continuous = np.array([k == "continuous" for k in kinds], dtype=bool)
        self.discrete = [
            (j, c.levels)
            for j, c in enumerate(space.columns)
            if c.kind == "discrete" and c.levels > 1
        ]
        groups: dict[int, tuple[int, ...]] = {}
        for c in space.columns:
            if c.kind == "onehot":
                groups.setdefault(c.param, c.group)
        self.groups = list(groups.values())

    def encode(self, values: dict) -> np.ndarray:
        """A configuration -> its feature vector (inactive columns at `fill`)."""
        return self.space.encode(values, fill=self.fill)[0]

    def decode(self, x: np.ndarray) -> dict:
        return self.space.decode(np.where(x < 0.0, 0.0, x))

    def canonical(self, x: np.ndarray) -> np.ndarray:
        """Rows moved onto valid, consistently masked feature vectors."""
        x = np.atleast_2d(x)
        if not self.conditional:
            return self.space.snap(x)
        return np.array([self.encode(self.decode(row)) for row in x]).reshape(len(x), self.dim)

    def active(self, x: np.ndarray) -> np.ndarray:
        """Column activity of one feature vector."""
        if not self.conditional:
            return np.ones(self.dim, dtype=bool)
        return self.space.encode(self.decode(x))[1]

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Uniform points `[m, dim]` -> valid feature vectors spread like the prior.

        Discrete columns are uniform over their levels, one-hot groups uniform
        over categories (the group's first coordinate picks), continuous columns
        uniform on the sampling scale.
        """
        x = np.array(u, dtype=float, copy=True)
        for j, levels in self.discrete:
            x[:, j] = np.minimum(np.floor(u[:, j] * levels), levels - 1) / (levels - 1)
        for g in self.groups:
            pick = np.minimum(np.floor(u[:, g[0]] * len(g)), len(g) - 1).astype(int)
            x[:, list(g)] = 0.0
            x[np.arange(len(x)), np.asarray(g)[pick]] = 1.0
        for j, c in enumerate(self.space.columns):
            if c.kind == "discrete" and c.levels <= 1:
                x[:, j] = 0.5
        return self.canonical(x) if self.conditional else x

    def perturb(
        self, anchors: np.ndarray, n: int, rng: np.random.Generator, scale: float
    ) -> np.ndarray:
        """`n` random local moves around the rows of `anchors`."""
        if len(anchors) == 0 or n <= 0:
            return np.empty((0, self.dim))
        base = anchors[rng.integers(len(anchors), size=n)].copy()
        cont = np.flatnonzero(self.continuous)
        if cont.size:
            step = rng.normal(0.0, scale, size=(n, cont.size))
            base[:, cont] = np.clip(base[:, cont] + step, 0.0, 1.0)
        p_move = 1.0 / max(1, len(self.discrete) + len(self.groups))
        for j, levels in self.discrete:
            move = rng.random(n) < p_move
            delta = rng.choice([-1.0, 1.0], size=n) / (levels - 1)
            base[move, j] = np.clip(base[move, j] + delta[move], 0.0, 1.0)
        for g in self.groups:
            move = rng.random(n) < p_move
            pick = rng.integers(len(g), size=n)
            rows = np.flatnonzero(move)
            base[np.ix_(rows, list(g))] = 0.0
            base[rows, np.asarray(g)[pick[rows]]] = 1.0
        if self.conditional:
            # Undo the fill on inactive columns so decode sees in-range numbers.
            return self.canonical(base)
        return self.space.snap(base)

    def neighbours(self, x: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Single-column moves from `x` on its active discrete and one-hot columns."""
        rows = []
        for j, levels in self.discrete:
            if not active[j]:
                continue
            current = int(round(x[j] * (levels - 1)))
            if levels <= _ALL_LEVELS:
                targets = [i for i in range(levels) if i != current]
            else:  # long grids: steps of 1, 2, 4, ... both ways
                steps = [2**k for k in range(int(math.log2(levels)) + 1)]
                targets = [current + s for s in steps] + [current - s for s in steps]
            for i in targets:
                if 0 <= i < levels:
                    y = x.copy()
                    y[j] = i / (levels - 1)
                    rows.append(y)
        for g in self.groups:
            if not active[g[0]]:
                continue
            for c in g:
                if x[c] < 0.5:
                    y = x.copy()
                    y[list(g)] = 0.0
                    y[c] = 1.0
                    rows.append(y)
        if not rows:
            return np.empty((0, self.dim))
        out = np.array(rows)
        return self.canonical(out) if self.conditional else out


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
    space: Any,
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
    fill: float = INACTIVE_FILL,
) -> dict | None:
    """The valid, non-excluded configuration with the highest acquisition found.

    Args:
        space: The search space (`keras_hpx.space.Space`).
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
        fill: Feature value of inactive columns. Defaults to `INACTIVE_FILL`.

    Returns:
        The active values of the chosen configuration, or `None` when every
        configuration found is excluded (for a small discrete space: when the
        space is exhausted).
    """
    enc = SpaceEncoder(space, fill)
    excluded = excluded if isinstance(excluded, (set, frozenset, dict)) else set(excluded)

    if space.is_discrete and space.grid_size() <= max_grid:
        configs = [c for c in space.grid() if space.key(c) not in excluded]
        if not configs:
            return None
        X = np.array([enc.encode(c) for c in configs]).reshape(len(configs), enc.dim)
        vals = acq(X)
        vals = np.where(np.isnan(vals), -np.inf, vals)
        return space.active_values(configs[int(np.argmax(vals))])

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
