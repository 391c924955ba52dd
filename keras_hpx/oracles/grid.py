"""Exhaustive grid search: every active combination once, then STOPPED."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from keras_hpx.checks import check_bool, check_int
from keras_hpx.oracles.base import HpxOracle
from keras_hpx.space import Space

__all__ = ["GridOracle"]

# A shuffled grid is listed in memory; past this size, shuffling is refused.
_MAX_SHUFFLED = 5_000_000


class GridOracle(HpxOracle):
    """Runs every active combination of the search space exactly once.

    Conditional hyperparameters multiply only their parent's branch. Floats need
    a `step`, or a number of points in `float_points` (spaced on their sampling
    scale, ends included). Hyperparameters discovered while the model is built
    extend the grid. Nothing is kept but the trials: after a crash or interrupt,
    `overwrite=False` resumes with no combination lost or repeated.

    Example:

    ```python
    oracle = keras_hpx.GridOracle(objective="val_accuracy", float_points={"lr": 4})
    tuner = keras_tuner.RandomSearch(build_model, oracle=oracle, ...)
    ```

    Args:
        objective: The quantity to optimise (see `keras_tuner.Oracle`).
            Defaults to `None`.
        max_trials: Maximum number of trials. Defaults to `None`: the whole grid.
        hyperparameters: The search space. Defaults to `None`.
        float_points: Points for each float without `step`: an int for all of
            them, or a dict by name. Defaults to `None` (such a float is an error).
        shuffle: Visit the grid in a random order drawn from `seed`.
            Defaults to `False` (last hyperparameter varies fastest).
        seed: Seed of the shuffle. Defaults to `None`.
        **kwargs: `allow_new_entries`, `tune_new_entries`, `max_retries_per_trial`,
            `max_consecutive_failed_trials`, `max_time`, `max_epochs`, `target`, `patience`,
            `stop_rules`, `trial_timeout`, `progress`: see `keras_hpx.HpxOracle`.
    """

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = None,
        *,
        hyperparameters: Any = None,
        float_points: int | Mapping[str, int] | None = None,
        shuffle: bool = False,
        seed: int | None = None,
        **kwargs: Any,
    ):
        _check_points(float_points)
        check_bool("shuffle", shuffle)
        if hyperparameters is not None and hasattr(hyperparameters, "space"):
            _check_floats(hyperparameters, float_points)
            _check_shuffle(hyperparameters, float_points, shuffle)
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            seed=seed,
            **kwargs,
        )
        self.float_points = (
            dict(float_points) if isinstance(float_points, Mapping) else float_points
        )
        self.shuffle = shuffle
        self._walk: Iterator[dict] | None = None
        self._pending: dict | None = None
        self._size: int | None = None
        self._walk_space: Space | None = None

    # ----- grid ---------------------------------------------------------------------------

    def _sync_walk(self) -> Space:
        """Restarts the walk when the space changed (the walk skips tried combinations)."""
        space = self.space
        if space is not self._walk_space:
            self._walk, self._pending, self._size = None, None, None
            self._walk_space = space
        return space

    def grid_size(self) -> int:
        """Number of combinations in the current space (conditional branches counted right).

        Raises:
            ValueError: a float has neither `step` nor `float_points`.
        """
        space = self._sync_walk()
        if self._size is None:
            self._size = space.grid_size(self.float_points) if len(space) else 0
        return self._size

    def expected_trials(self) -> int | None:
        size = self.grid_size()
        return min(size, self.max_trials) if self.max_trials else size

    def summary(self) -> str:
        """The space, one line per hyperparameter, and the grid size."""
        lines = [f"Grid of {self.grid_size()} combinations:"]
        lines += ["  " + line for line in self.space.summary()]
        return "\n".join(lines)

    def _iterate(self) -> Iterator[dict]:
        space = self.space
        if not self.shuffle:
            yield from space.grid(self.float_points)
            return
        size = self.grid_size()
        if size > _MAX_SHUFFLED:  # grown past the limit by hyperparameters found later
            raise _too_big_to_shuffle(size)
        combos = list(space.grid(self.float_points))
        order = self.rng_for(0).permutation(len(combos))
        for i in order:
            yield combos[int(i)]

    def propose(self, trial_id: str) -> dict | None:
        space = self._sync_walk()
        if not len(space):
            # Nothing declared yet: run once with the defaults to discover the space.
            return {} if not self.trials else None
        _check_floats(self.hyperparameters, self.float_points)
        if self._walk is None:
            self._walk = self._iterate()
        while True:
            if self._pending is None:
                self._pending = next(self._walk, None)
                if self._pending is None:
                    self._walk = iter(())  # exhausted until the space changes
                    return None
            candidate = self._pending
            self._pending = None
            if not self.is_tried(candidate):
                return candidate

    def update_space(self, hyperparameters: Any) -> None:
        if not self.trials:
            # The tuner declares the space before the first trial, outside any lock:
            # a float that cannot be gridded is reported here, where raising is safe.
            _check_floats(hyperparameters, self.float_points)
            _check_shuffle(hyperparameters, self.float_points, self.shuffle)
        super().update_space(hyperparameters)

    # ----- persistence --------------------------------------------------------------------

    def get_state(self) -> dict:
        state = super().get_state()
        state["grid"] = {"float_points": self.float_points, "shuffle": self.shuffle}
        return state

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        grid = state.get("grid", {})
        self.float_points = grid.get("float_points", self.float_points)
        self.shuffle = grid.get("shuffle", self.shuffle)
        self._walk_space = None


def _check_points(points: Any) -> None:
    if points is None:
        return
    if isinstance(points, Mapping):
        for name, value in points.items():
            check_int(f"float_points[{name!r}]", value, 1)
        return
    check_int("float_points", points, 1)


def _too_big_to_shuffle(size: int) -> ValueError:
    return ValueError(
        f"Invalid argument `shuffle`: a shuffled grid is listed in memory, so it can have "
        f"at most {_MAX_SHUFFLED} combinations; this one has {size}. Use shuffle=False "
        "(the grid is then walked lazily) or keras_hpx.RandomOracle. Received: shuffle=True"
    )


def _check_shuffle(hyperparameters: Any, points: Any, shuffle: bool) -> None:
    """Raises if `shuffle` would list a grid larger than `_MAX_SHUFFLED`."""
    if not shuffle or not hyperparameters.space:
        return
    size = Space.from_keras_tuner(hyperparameters).grid_size(points)
    if size > _MAX_SHUFFLED:
        raise _too_big_to_shuffle(size)


def _check_floats(hyperparameters: Any, points: Any) -> None:
    """Raises if a float has neither a step nor a number of points."""
    for hp in hyperparameters.space:
        if type(hp).__name__ != "Float" or hp.step is not None:
            continue
        n = points.get(hp.name) if isinstance(points, Mapping) else points
        if n is None:
            raise ValueError(
                f"GridOracle cannot grid Float {hp.name!r} "
                f"(min_value={hp.min_value}, max_value={hp.max_value}) without a step. "
                f"Give it a `step`, or pass float_points={{{hp.name!r}: N}} (or an int for all "
                "floats) to place N points on its sampling scale, ends included."
            )
