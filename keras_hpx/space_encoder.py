"""Vectorised feature encoding of a `Space`, for searching over encoded points.

`Space.encode` and `Space.decode` work on one configuration; `SpaceEncoder`
works on rows of feature vectors and keeps them *valid*: on the step grid,
one-hot groups with a single 1, and for conditional spaces the activity
pattern consistent with the parents (inactive columns at `INACTIVE_FILL`).
It gives the moves an acquisition search needs: canonical points, column
activity, prior-like points from the unit cube, random perturbations and
single-column neighbours.

Pure numpy; nothing here imports Keras.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from keras_hpx.space import INACTIVE_FILL, Space

__all__ = ["SpaceEncoder"]

# Discrete columns with at most this many levels try every level as a neighbour.
_ALL_LEVELS = 32


class SpaceEncoder:
    """Vectorised helpers around a `Space`: rows of feature vectors in, valid rows out.

    Inactive columns hold `INACTIVE_FILL` (the convention of `Space.encode`).

    Args:
        space: The search space.
    """

    def __init__(self, space: Space):
        self.space = space
        self.fill = INACTIVE_FILL
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

    def encode(self, values: Mapping[str, Any]) -> np.ndarray:
        """A configuration -> its feature vector (inactive columns at `INACTIVE_FILL`)."""
        return self.space.encode(values, fill=INACTIVE_FILL)[0]

    def decode(self, x: np.ndarray) -> dict:
        """A feature vector -> the active values of the nearest valid configuration."""
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
        """`n` random local moves around the rows of `anchors`.

        Args:
            anchors: Valid feature vectors, shape `(k, dim)`.
            n: Number of moves.
            rng: The source of randomness.
            scale: Standard deviation of the Gaussian step on continuous columns.

        Returns:
            Valid feature vectors, shape `(n, dim)` (`(0, dim)` without anchors).
        """
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
            base[np.ix_(rows, np.asarray(g))] = 0.0
            base[rows, np.asarray(g)[pick[rows]]] = 1.0
        if self.conditional:
            # Undo the fill on inactive columns so decode sees in-range numbers.
            return self.canonical(base)
        return self.space.snap(base)

    def neighbours(self, x: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Single-column moves from `x` on its active discrete and one-hot columns.

        Every other level of a short ordered grid, steps of 1, 2, 4, ... levels
        both ways on a long one, every other category of a one-hot group.

        Args:
            x: A valid feature vector, shape `(dim,)`.
            active: Its column activity, shape `(dim,)` (see `active`).

        Returns:
            Valid feature vectors, shape `(k, dim)`.
        """
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
