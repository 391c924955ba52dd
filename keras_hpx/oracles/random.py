"""Random and quasi-random (Sobol) search that never repeats a configuration."""

from __future__ import annotations

from typing import Any

from keras_hpx.oracles.base import HpxOracle
from keras_hpx.samplers import SAMPLERS, Sampler, get_sampler

__all__ = ["RandomOracle"]

# Draws tried before concluding that a discrete space is (nearly) exhausted.
_MAX_COLLISIONS = 64
# Past this size a discrete space is not listed to find its untried configurations.
_MAX_ENUMERATE = 200_000


class RandomOracle(HpxOracle):
    """Draws configurations at random, uniformly or from a scrambled Sobol sequence.

    Log sampling, steps and conditional scopes are respected (each hyperparameter
    is drawn from its own prior; inactive ones are not drawn). A configuration is
    never repeated: on a small discrete space every combination runs once, then
    the search stops. The `i`-th draw depends only on `seed` and `i`, so the same
    seed gives the same trials, across a crash and resume too.

    Example:

    ```python
    oracle = keras_hpx.RandomOracle(objective="val_loss", max_trials=30, sampler="sobol", seed=1)
    tuner = keras_tuner.RandomSearch(build_model, oracle=oracle, ...)
    ```

    Args:
        objective: The quantity to optimise. Defaults to `None`.
        max_trials: Maximum number of trials. Defaults to `10`.
        hyperparameters: The search space. Defaults to `None`.
        sampler: `"uniform"` (independent draws), `"sobol"` (scrambled Sobol
            points, more even coverage for small budgets) or a
            `keras_hpx.samplers.Sampler`. Defaults to `"uniform"`.
        seed: Seed of every draw. Defaults to `None`.
        **kwargs: `allow_new_entries`, `tune_new_entries`, `max_retries_per_trial`,
            `max_consecutive_failed_trials`, `max_time`, `target`, `patience`,
            `progress`: see `HpxOracle`.
    """

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = 10,
        hyperparameters: Any = None,
        sampler: str | Sampler = "uniform",
        seed: int | None = None,
        **kwargs: Any,
    ):
        get_sampler(sampler, 0)  # validate before any state exists
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            seed=seed,
            **kwargs,
        )
        self.sampler_name = sampler if isinstance(sampler, str) else type(sampler).__name__
        self.sampler = get_sampler(sampler, self.seed)
        self._draws = 0  # sampler points consumed: saved, so a resume continues the stream

    def expected_trials(self) -> int | None:
        space = self.space
        if len(space) and space.is_discrete:
            size = space.grid_size()
            return min(size, self.max_trials) if self.max_trials else size
        return self.max_trials

    def sample_new(self) -> dict | None:
        """The next untried configuration from the sampler, or `None` if none is left.

        Shared with `BayesianOracle` for its initial design.
        """
        space = self.space
        if not len(space):
            return {} if not self.trials else None
        dim = len(space)
        for _ in range(_MAX_COLLISIONS):
            u = self.sampler.point(self._draws, dim)
            self._draws += 1
            values = space.from_unit(u)
            if not self.is_tried(values):
                return values
        return self._untried_at_random(space)

    def _untried_at_random(self, space: Any) -> dict | None:
        """Many collisions: on a small discrete space, pick among what is left."""
        if not space.is_discrete or space.grid_size() > _MAX_ENUMERATE:
            return None
        left = [v for v in space.grid() if not self.is_tried(v)]
        if not left:
            return None
        return left[int(self.rng_for(1, self._draws).integers(len(left)))]

    def propose(self, trial_id: str) -> dict | None:
        return self.sample_new()

    def get_state(self) -> dict:
        state = super().get_state()
        state["random"] = {"draws": self._draws, "sampler": self.sampler_name}
        return state

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        self._draws = int(state.get("random", {}).get("draws", 0))
        name = state.get("random", {}).get("sampler")
        if name in SAMPLERS:  # the saved choice wins on resume, as in Keras Tuner
            self.sampler_name = name
            self.sampler = get_sampler(name, self.seed)
