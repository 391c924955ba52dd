"""Search-space encoding: hyperparameter values <-> points in the unit cube.

Pure numpy. Nothing here imports Keras or Keras Tuner: a Keras Tuner
`HyperParameters` object is read by duck typing in `Space.from_keras_tuner`.

Two encodings, for two jobs:

* **Unit encoding** (`Space.from_unit`, `Space.to_unit`): one coordinate per
  hyperparameter, `u` in `[0, 1)`. A uniform `u` gives the hyperparameter's own
  sampling distribution (log, reverse log, steps, uniform over choices), so
  random and quasi-random (Sobol) samplers draw in this cube.
* **Feature encoding** (`Space.encode`, `Space.decode`): the model's view, used
  by surrogates. Numeric and ordered hyperparameters take one column in `[0, 1]`
  on their sampling scale (discrete ones at `index / (n - 1)`); unordered
  categories are one-hot, so no order is imposed on them; `Fixed` takes none.
  Conditional hyperparameters come with an activity mask: an inactive one has
  mask 0 in all its columns and never counts, and its columns hold
  `INACTIVE_FILL` (outside `[0, 1]`, so two configurations that both lack a
  parameter agree on its columns and differ from every one that has it).
  `keras_hpx.space_encoder.SpaceEncoder` vectorises this encoding for the
  acquisition search.

Decoding always yields valid values: inside bounds, on the step grid, members
of the choice list.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

__all__ = ["INACTIVE_FILL", "Column", "Param", "Space", "canonical_key"]

_SAMPLINGS = ("linear", "log", "reverse_log")

INACTIVE_FILL = -0.5
"""Feature value of an inactive parameter's columns (outside the active range `[0, 1]`).

The one convention of the project: `Space.encode` and
`keras_hpx.space_encoder.SpaceEncoder` both fill with it.
"""


def _round_sig(value: float) -> float:
    """Rounds a stepped float to 12 significant digits (removes `0.1 * 3` noise)."""
    if value == 0 or not math.isfinite(value):
        return float(value)
    return float(f"{value:.12g}")


@dataclass(frozen=True)
class Column:
    """One feature column of the encoded space.

    Attributes:
        param: Index of the hyperparameter in `Space.params`.
        kind: `"continuous"`, `"discrete"` (an ordered grid of `levels` points at
            `i / (levels - 1)`) or `"onehot"` (one category of a one-hot group).
        levels: Number of grid points for `"discrete"`, group size for `"onehot"`.
        group: For `"onehot"`, the column indices of the whole group.
    """

    param: int
    kind: str
    levels: int = 0
    group: tuple[int, ...] = ()


@dataclass(frozen=True)
class Param:
    """One hyperparameter, as plain data.

    Attributes:
        name: The hyperparameter's name.
        kind: One of `"float"`, `"int"`, `"choice"`, `"boolean"`, `"fixed"`.
        min_value: Lower bound (numeric kinds).
        max_value: Upper bound (numeric kinds).
        step: Step (numeric kinds), or `None`. With log sampling it multiplies.
        sampling: `"linear"`, `"log"` or `"reverse_log"`.
        values: The members (choice, boolean) or the single value (fixed).
        ordered: Whether a choice's values have an order.
        default: The default value.
        conditions: `((parent_name, (values...)), ...)`: active only when every
            parent is active and has one of the listed values.
    """

    name: str
    kind: str
    min_value: float | None = None
    max_value: float | None = None
    step: float | None = None
    sampling: str = "linear"
    values: tuple = ()
    ordered: bool = False
    default: Any = None
    conditions: tuple = field(default=())

    @property
    def _lo(self) -> float:
        # `min_value` of a numeric kind, typed for the arithmetic below (not checked:
        # a numeric kind always has it).
        return cast(float, self.min_value)

    @property
    def _hi(self) -> float:
        # `max_value` of a numeric kind (see `_lo`).
        return cast(float, self.max_value)

    # ----- discrete structure -------------------------------------------------------------

    @property
    def n_values(self) -> int | None:
        """Number of possible values, or `None` for a continuous float."""
        if self.kind in ("choice", "boolean"):
            return len(self.values)
        if self.kind == "fixed":
            return 1
        if self.step is None:
            if self.kind == "int":
                return int(self._hi - self._lo + 1)
            return None
        if self.sampling == "linear":
            return int(math.floor((self._hi - self._lo) / self.step + 1e-9)) + 1
        return int(math.log(self._hi / self._lo, self.step) + 1e-8) + 1

    def value_at(self, index: int) -> Any:
        """The `index`-th value of a discrete hyperparameter (in increasing order)."""
        if self.kind in ("choice", "boolean"):
            return self.values[index]
        if self.kind == "fixed":
            return self.values[0]
        if self.step is None:  # int without step: every integer
            return int(self._lo + index)
        if self.sampling == "linear":
            v = self._lo + index * self.step
        elif self.sampling == "log":
            v = self._lo * self.step**index
        else:  # reverse_log mirrors log: dense near max_value
            v = self._hi + self._lo - self._lo * self.step**index
        return int(round(v)) if self.kind == "int" else _round_sig(v)

    def index_of(self, value: Any) -> int:
        """Index of a valid discrete value; raises `ValueError` if it is not one."""
        if self.kind in ("choice", "boolean", "fixed"):
            for i, member in enumerate(self.values):
                if _same(member, value):
                    return i
            raise ValueError(f"{value!r} is not one of {list(self.values)}")
        n = self.n_values
        if self.step is None:
            i = int(round(float(value) - self._lo))
        elif self.sampling == "linear":
            i = int(round((float(value) - self._lo) / self.step))
        elif self.sampling == "log":
            i = int(round(math.log(float(value) / self._lo, self.step)))
        else:
            inner = (self._hi + self._lo - float(value)) / self._lo
            i = int(round(math.log(max(inner, 1e-300), self.step)))
        # `n` is `None` only for a float without `step`, which has no grid (the
        # comparison then raises `TypeError`, as it always has).
        if 0 <= i < cast(int, n) and math.isclose(
            float(self.value_at(i)), float(value), rel_tol=1e-9, abs_tol=1e-12
        ):
            return i
        raise ValueError(f"{value!r} is not on the grid of {self.name!r}")

    def grid_values(self, points: int | None = None) -> list:
        """All values of a discrete hyperparameter, or `points` spaced on the scale.

        Args:
            points: For a float without `step`: the number of values, spaced evenly
                on the sampling scale, ends included. Ignored otherwise.
                Defaults to `None`.
        """
        n = self.n_values
        if n is None:
            if points is None:
                raise ValueError(
                    f"Float hyperparameter {self.name!r} has no `step`, so it has no "
                    "grid. Give it a `step`, or give the oracle `points` for it."
                )
            if points == 1:
                return [self._from_scale(0.5)]
            return [self._from_scale(t) for t in np.linspace(0.0, 1.0, points)]
        return [self.value_at(i) for i in range(n)]

    # ----- the sampling scale -------------------------------------------------------------

    def _to_scale(self, value: float) -> float:
        """Position of a numeric value on the sampling scale, in `[0, 1]`."""
        lo, hi, v = float(self._lo), float(self._hi), float(value)
        if hi == lo:
            return 0.5
        if self.sampling == "linear":
            t = (v - lo) / (hi - lo)
        elif self.sampling == "log":
            t = math.log(v / lo) / math.log(hi / lo)
        else:
            t = 1.0 - math.log((hi + lo - v) / lo) / math.log(hi / lo)
        return min(max(t, 0.0), 1.0)

    def _from_scale(self, t: float) -> float:
        """Inverse of `_to_scale` for a continuous float, clipped to the bounds."""
        lo, hi = float(self._lo), float(self._hi)
        t = min(max(float(t), 0.0), 1.0)
        if self.sampling == "linear":
            v = lo + t * (hi - lo)
        elif self.sampling == "log":
            v = lo * (hi / lo) ** t
        else:
            v = hi + lo - lo * (hi / lo) ** (1.0 - t)
        return min(max(v, lo), hi)

    # ----- unit encoding (sampling) -------------------------------------------------------

    def from_unit(self, u: float) -> Any:
        """Maps `u` in `[0, 1)` to a value; uniform `u` gives this parameter's prior."""
        u = min(max(float(u), 0.0), np.nextafter(1.0, 0.0))
        if self.kind == "fixed":
            return self.values[0]
        n = self.n_values
        if n is None:
            return self._from_scale(u)
        if self.kind == "int" and self.step is None and self.sampling != "linear":
            # Integers drawn on a log scale, as Keras Tuner does (max_value + 1 open end).
            lo, hi = float(self._lo), float(self._hi) + 1.0
            if self.sampling == "log":
                v = lo * (hi / lo) ** u
            else:
                v = hi + lo - lo * (hi / lo) ** (1.0 - u)
            return int(min(max(math.floor(v), self._lo), self._hi))
        return self.value_at(min(int(u * n), n - 1))

    def to_unit(self, value: Any) -> float:
        """The centre of the unit interval that `from_unit` maps to `value`."""
        if self.kind == "fixed":
            return 0.5
        n = self.n_values
        if n is None:
            return self._to_scale(value)
        if self.kind == "int" and self.step is None and self.sampling != "linear":
            lo, hi = float(self._lo), float(self._hi) + 1.0
            v = float(value) + 0.5
            if self.sampling == "log":
                return math.log(v / lo) / math.log(hi / lo)
            return 1.0 - math.log((hi + lo - v) / lo) / math.log(hi / lo)
        return (self.index_of(value) + 0.5) / n

    # ----- feature encoding (surrogates) --------------------------------------------------

    @property
    def onehot(self) -> bool:
        """Whether the features are one-hot (an unordered choice of 3 or more)."""
        return self.kind == "choice" and not self.ordered and len(self.values) > 2

    @property
    def n_columns(self) -> int:
        if self.kind == "fixed":
            return 0
        return len(self.values) if self.onehot else 1

    def features(self, value: Any) -> np.ndarray:
        """Feature columns of a valid value."""
        if self.kind == "fixed":
            return np.zeros(0)
        if self.onehot:
            out = np.zeros(len(self.values))
            out[self.index_of(value)] = 1.0
            return out
        n = self.n_values
        if n is None or (self.kind == "int" and self.step is None and n > 64):
            return np.array([self._to_scale(value)])
        return np.array([self.index_of(value) / (n - 1) if n > 1 else 0.5])

    def from_features(self, cols: np.ndarray) -> Any:
        """Nearest valid value to feature columns (argmax for one-hot)."""
        if self.kind == "fixed":
            return self.values[0]
        if self.onehot:
            return self.values[int(np.argmax(cols))]
        x = min(max(float(cols[0]), 0.0), 1.0)
        n = self.n_values
        if n is None:
            return self._from_scale(x)
        if self.kind == "int" and self.step is None and n > 64:
            v = int(round(self._from_scale(x)))
            return int(min(max(v, self._lo), self._hi))
        return self.value_at(int(round(x * (n - 1))) if n > 1 else 0)

    def column_kind(self) -> tuple[str, int]:
        if self.onehot:
            return "onehot", len(self.values)
        n = self.n_values
        if n is None or (self.kind == "int" and self.step is None and n > 64):
            return "continuous", 0
        return "discrete", n

    def describe(self) -> str:
        """Human description of the domain, e.g. `"float in [0.0001, 0.1], log sampling"`."""
        if self.kind in ("choice", "boolean", "fixed"):
            text = f"{self.kind} of {list(self.values)}"
        else:
            text = f"{self.kind} in [{self.min_value}, {self.max_value}]"
            if self.step is not None:
                text += f", step {self.step}"
            if self.sampling != "linear":
                text += f", {self.sampling} sampling"
        if self.conditions:
            text += "; active when " + " and ".join(f"{n} in {list(v)}" for n, v in self.conditions)
        return text

    # ----- validity -----------------------------------------------------------------------

    def is_valid(self, value: Any) -> bool:
        """Whether `value` is a legal value of this hyperparameter."""
        if self.kind in ("choice", "boolean", "fixed"):
            return any(_same(m, value) for m in self.values)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            return False
        v = float(value)
        if not math.isfinite(v):
            return False
        tol = 1e-9 * max(1.0, abs(float(self._hi)))
        if v < self._lo - tol or v > self._hi + tol:
            return False
        if self.kind == "int" and int(v) != v:
            return False
        if self.step is None and self.kind == "float":
            return True
        try:
            self.index_of(value)
        except ValueError:
            return False
        return True


def _same(a: Any, b: Any) -> bool:
    """Equality that keeps `True` apart from `1` and tolerates float noise."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
        return float(a) == float(b) or math.isclose(float(a), float(b), rel_tol=1e-9)
    return a == b


def _normalise(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(f"{float(value):.10g}")
    return value


def canonical_key(values: Mapping[str, Any]) -> tuple:
    """A hashable key of a configuration, stable across float noise (10 digits)."""
    return tuple(sorted((k, repr(_normalise(v))) for k, v in values.items()))


class Space:
    """An ordered list of `Param`s (parents before children) and its encodings.

    Args:
        params: The hyperparameters. Reordered so that every parent comes before
            the hyperparameters conditioned on it; otherwise the order is kept.
    """

    def __init__(self, params: Sequence[Param]):
        self.params: list[Param] = _topological(list(params))
        self.columns: list[Column] = []
        self._slices: list[slice] = []
        for i, p in enumerate(self.params):
            start = len(self.columns)
            kind, levels = p.column_kind()
            width = p.n_columns
            group = tuple(range(start, start + width)) if kind == "onehot" else ()
            for _ in range(width):
                self.columns.append(Column(i, kind, levels, group))
            self._slices.append(slice(start, start + width))
        self._parent_names = {n for p in self.params for n, _ in p.conditions}
        self._encoded_grid: tuple[list[dict], list[tuple], np.ndarray] | None = None

    # ----- construction -------------------------------------------------------------------

    @classmethod
    def from_keras_tuner(cls, hyperparameters: Any) -> Space:
        """Reads a Keras Tuner `HyperParameters` (duck-typed: no Keras import)."""
        return cls([_param_from_kt(hp) for hp in hyperparameters.space])

    def __len__(self) -> int:
        return len(self.params)

    @property
    def dim(self) -> int:
        """Number of feature columns."""
        return len(self.columns)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    @property
    def is_conditional(self) -> bool:
        return any(p.conditions for p in self.params)

    @property
    def is_discrete(self) -> bool:
        return all(p.n_values is not None for p in self.params)

    # ----- activity -----------------------------------------------------------------------

    @staticmethod
    def _conditions_hold(param: Param, values: Mapping[str, Any]) -> bool:
        return all(
            name in values and any(_same(values[name], v) for v in allowed)
            for name, allowed in param.conditions
        )

    def active_mask(self, values: Mapping[str, Any]) -> np.ndarray:
        """Boolean per parameter: active given `values` (parents decide children)."""
        active: dict[str, Any] = {}
        mask = np.zeros(len(self.params), dtype=bool)
        for i, p in enumerate(self.params):
            if self._conditions_hold(p, active):
                mask[i] = True
                if p.name in values:
                    active[p.name] = values[p.name]
        return mask

    def active_values(self, values: Mapping[str, Any], fill_defaults: bool = True) -> dict:
        """The values of the active hyperparameters only, in space order.

        Args:
            values: A (possibly partial or over-full) configuration.
            fill_defaults: Fill active hyperparameters missing from `values` with
                their defaults. Defaults to `True`.
        """
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name in out or not self._conditions_hold(p, out):
                continue
            if p.name in values:
                out[p.name] = values[p.name]
            elif fill_defaults:
                out[p.name] = p.default
        return out

    def key(self, values: Mapping[str, Any]) -> tuple:
        """Canonical key of the active part of a configuration."""
        return canonical_key(self.active_values(values))

    def is_valid(self, values: Mapping[str, Any]) -> bool:
        """Whether every active hyperparameter has a legal value in `values`."""
        seen: dict[str, Any] = {}
        for p in self.params:
            if p.name in seen or not self._conditions_hold(p, seen):
                continue
            if p.name not in values or not p.is_valid(values[p.name]):
                return False
            seen[p.name] = values[p.name]
        return True

    # ----- unit encoding ------------------------------------------------------------------

    def from_unit(self, u: Sequence[float] | np.ndarray) -> dict:
        """One coordinate per parameter -> the active values of a configuration."""
        coords = np.asarray(u, dtype=float)
        if coords.shape != (len(self.params),):
            raise ValueError(f"Expected {len(self.params)} coordinates, got shape {coords.shape}.")
        out: dict[str, Any] = {}
        for p, ui in zip(self.params, coords):
            if p.name not in out and self._conditions_hold(p, out):
                out[p.name] = p.from_unit(ui)
        return out

    def to_unit(self, values: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """Configuration -> `(u, mask)`; inactive coordinates are 0.5 with mask False."""
        mask = self.active_mask(values)
        u = np.full(len(self.params), 0.5)
        for i, p in enumerate(self.params):
            if mask[i] and p.name in values:
                u[i] = p.to_unit(values[p.name])
        return u, mask

    # ----- feature encoding ---------------------------------------------------------------

    def encode(
        self, values: Mapping[str, Any], fill: float = INACTIVE_FILL
    ) -> tuple[np.ndarray, np.ndarray]:
        """Configuration -> `(x, mask)`, both of length `dim`.

        Args:
            values: A configuration (missing active values take their defaults).
            fill: Feature value written in the columns of inactive parameters.
                Defaults to `INACTIVE_FILL` (`-0.5`).
        """
        full = self.active_values(values)
        pmask = self.active_mask(full)
        x = np.full(self.dim, float(fill))
        mask = np.zeros(self.dim, dtype=bool)
        for i, p in enumerate(self.params):
            if pmask[i] and p.n_columns:
                x[self._slices[i]] = p.features(full[p.name])
                mask[self._slices[i]] = True
        return x, mask

    def decode(self, x: Sequence[float] | np.ndarray) -> dict:
        """Feature vector -> the active values of the nearest valid configuration."""
        feats = np.asarray(x, dtype=float)
        if feats.shape != (self.dim,):
            raise ValueError(f"Expected {self.dim} features, got shape {feats.shape}.")
        out: dict[str, Any] = {}
        for i, p in enumerate(self.params):
            if p.name not in out and self._conditions_hold(p, out):
                out[p.name] = p.from_features(feats[self._slices[i]])
        return out

    def snap(self, x: np.ndarray) -> np.ndarray:
        """Rounds feature vectors (rows) onto the valid set: steps, integers, one-hot."""
        x = np.array(x, dtype=float, copy=True)
        one = x.ndim == 1
        x = np.atleast_2d(x)
        np.clip(x, 0.0, 1.0, out=x)
        done: set[int] = set()
        for j, col in enumerate(self.columns):
            if col.kind == "discrete" and col.levels > 1:
                x[:, j] = np.round(x[:, j] * (col.levels - 1)) / (col.levels - 1)
            elif col.kind == "onehot" and col.param not in done:
                done.add(col.param)
                g = list(col.group)
                winner = np.argmax(x[:, g], axis=1)
                x[:, g] = 0.0
                x[np.arange(len(x)), np.asarray(g)[winner]] = 1.0
        return x[0] if one else x

    # ----- grid ---------------------------------------------------------------------------

    def _grid_lists(self, points: Mapping[str, int] | int | None) -> list[Sequence]:
        # Lazy for discrete hyperparameters: a wide `Int` has as many values as its
        # range, and a grid (or its count) must not list them all to visit a few.
        lists: list[Sequence] = []
        for p in self.params:
            n = points.get(p.name) if isinstance(points, Mapping) else points
            lists.append(_GridValues(p) if p.n_values is not None else p.grid_values(n))
        return lists

    def grid(self, points: Mapping[str, int] | int | None = None) -> Iterator[dict]:
        """Every active combination once, in a deterministic order (last varies fastest).

        Lazy: values are made as they are visited, so the first combinations of a huge
        grid come at once.

        Args:
            points: Number of points for floats without `step`: one int for all, or
                a dict by name. Defaults to `None` (such a float raises `ValueError`).
        """
        lists = self._grid_lists(points)
        if not self.is_conditional:
            names = self.names
            for combo in _product(lists):
                yield dict(zip(names, combo))
            return

        def walk(i: int, current: dict) -> Iterator[dict]:
            if i == len(self.params):
                yield dict(current)
                return
            p = self.params[i]
            if p.name in current or not self._conditions_hold(p, current):
                yield from walk(i + 1, current)
                return
            for v in lists[i]:
                current[p.name] = v
                yield from walk(i + 1, current)
            del current[p.name]

        yield from walk(0, {})

    def encoded_grid(self) -> tuple[list[dict], list[tuple], np.ndarray]:
        """`grid()` of a discrete space with each configuration's `key` and feature row
        (`[size, dim]`, inactive columns at `INACTIVE_FILL`), listed once per space.

        An acquisition search over a small discrete space scores every configuration at
        every proposal; this keeps the listing and encoding out of that loop. Treat the
        returned objects as read-only.
        """
        if self._encoded_grid is None:
            configs = list(self.grid())
            keys = [self.key(c) for c in configs]
            rows = np.array([self.encode(c)[0] for c in configs]).reshape(len(configs), self.dim)
            rows.setflags(write=False)
            self._encoded_grid = (configs, keys, rows)
        return self._encoded_grid

    def grid_size(self, points: Mapping[str, int] | int | None = None) -> int:
        """Number of active combinations in `grid(points)`, without listing them.

        Hyperparameters linked by conditions (or sharing a name) are counted together,
        and the counts of unlinked groups multiply; within a group, the count from one
        position on depends only on the values chosen that later positions look at, so
        it is computed once per such assignment. Ten independent "use this layer? then
        its width" pairs cost ten small counts, not 2**10 branches.
        """
        lists = self._grid_lists(points)
        sizes = [len(v) for v in lists]
        if not self.is_conditional:
            return math.prod(sizes)
        group_of: dict[str, str] = {}

        def root(name: str) -> str:
            while group_of.setdefault(name, name) != name:
                name = group_of[name]
            return name

        for p in self.params:
            for parent, _ in p.conditions:
                group_of[root(parent)] = root(p.name)
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(self.params):
            groups.setdefault(root(p.name), []).append(i)
        total = 1
        for members in groups.values():
            total *= self._count_group(members, lists, sizes)
        return total

    def _count_group(self, members: list[int], lists: list[Sequence], sizes: list[int]) -> int:
        # Names that decide anything from member `k` on: the parents named there and
        # the names themselves (a name set once stays set).
        ahead: list[list[str]] = [[] for _ in range(len(members) + 1)]
        seen: set[str] = set()
        for k in range(len(members) - 1, -1, -1):
            p = self.params[members[k]]
            seen |= {n for n, _ in p.conditions} | {p.name}
            ahead[k] = sorted(seen)
        memo: dict[tuple, int] = {}

        def count(k: int, current: dict) -> int:
            if k == len(members):
                return 1
            key = (
                k,
                tuple((n, type(current[n]).__name__, current[n]) for n in ahead[k] if n in current),
            )
            if key in memo:
                return memo[key]
            i = members[k]
            p = self.params[i]
            if p.name in current or not self._conditions_hold(p, current):
                total = count(k + 1, current)
            elif p.name not in self._parent_names:
                # Nobody depends on this value: multiply instead of branching.
                current[p.name] = lists[i][0]
                total = sizes[i] * count(k + 1, current)
                del current[p.name]
            else:
                total = 0
                for v in lists[i]:
                    current[p.name] = v
                    total += count(k + 1, current)
                del current[p.name]
            memo[key] = total
            return total

        return count(0, {})

    def summary(self) -> list[str]:
        """One line per hyperparameter, for humans."""
        return [f"{p.name}: {p.describe()}" for p in self.params]


class _GridValues(Sequence):
    """The values of a discrete hyperparameter in index order, made on demand."""

    def __init__(self, param: Param):
        self._param = param
        self._n = cast(int, param.n_values)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._n))]
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError(index)
        return self._param.value_at(index)


def _product(lists: Sequence[Sequence]) -> Iterator[tuple]:
    """`itertools.product` over sequences without copying them (it would list a lazy
    sequence whole before the first combination)."""
    sizes = [len(v) for v in lists]
    if any(n == 0 for n in sizes):
        return
    index = [0] * len(lists)
    current = [v[0] for v in lists]
    while True:
        yield tuple(current)
        j = len(lists) - 1
        while j >= 0:
            index[j] += 1
            if index[j] < sizes[j]:
                current[j] = lists[j][index[j]]
                break
            index[j] = 0
            current[j] = lists[j][0]
            j -= 1
        if j < 0:
            return


def _topological(params: list[Param]) -> list[Param]:
    by_name: dict[str, list[Param]] = {}
    for p in params:
        by_name.setdefault(p.name, []).append(p)
    depth_cache: dict[str, int] = {}

    def depth(name: str, stack: tuple = ()) -> int:
        if name in depth_cache:
            return depth_cache[name]
        if name in stack:
            raise ValueError(f"Cyclic conditions around hyperparameter {name!r}.")
        d = 0
        for p in by_name.get(name, []):
            for parent, _ in p.conditions:
                d = max(d, depth(parent, stack + (name,)) + 1)
        depth_cache[name] = d
        return d

    order = sorted(range(len(params)), key=lambda i: (depth(params[i].name), i))
    return [params[i] for i in order]


def _param_from_kt(hp: Any) -> Param:
    """Converts one Keras Tuner hyperparameter object, by its class name."""
    kind = type(hp).__name__.lower()
    conditions = tuple(
        (c.name, tuple(_normalise(v) for v in c.values))
        for c in getattr(hp, "conditions", [])
        if hasattr(c, "values")
    )
    if kind in ("float", "int"):
        sampling = (getattr(hp, "sampling", None) or "linear").lower()
        if sampling not in _SAMPLINGS:
            raise ValueError(f"Unknown sampling {sampling!r} for {hp.name!r}.")
        cast = int if kind == "int" else float
        step = hp.step
        if kind == "int" and step is not None and sampling == "linear" and step < 1:
            step = 1
        return Param(
            name=hp.name,
            kind=kind,
            min_value=cast(hp.min_value),
            max_value=cast(hp.max_value),
            step=None if step is None else cast(step),
            sampling=sampling,
            default=hp.default,
            conditions=conditions,
        )
    if kind == "choice":
        values = tuple(_normalise(v) for v in hp.values)
        return Param(
            name=hp.name,
            kind="choice",
            values=values,
            ordered=bool(hp.ordered),
            default=hp.default,
            conditions=conditions,
        )
    if kind == "boolean":
        return Param(
            name=hp.name,
            kind="boolean",
            values=(False, True),
            default=bool(hp.default),
            conditions=conditions,
        )
    if kind == "fixed":
        return Param(
            name=hp.name,
            kind="fixed",
            values=(hp.value,),
            default=hp.value,
            conditions=conditions,
        )
    raise TypeError(f"Unsupported hyperparameter type {type(hp).__name__} ({hp.name!r}).")
