"""Random and quasi-random (Sobol) search that never repeats a configuration."""

from __future__ import annotations

from typing import Any

from keras_hpx.oracles.base import HpxOracle
from keras_hpx.oracles.design import PointSource
from keras_hpx.samplers import SAMPLERS, Sampler, get_sampler

__all__ = ["RandomOracle"]


def discrete_expected(oracle: HpxOracle) -> int | None:
    """Trials a sampling oracle will run: the grid size of a discrete space, capped by
    `max_trials`; else `max_trials`."""
    space = oracle.space
    if len(space) and space.is_discrete:
        size = space.grid_size()
        return min(size, oracle.max_trials) if oracle.max_trials else size
    return oracle.max_trials


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
            `max_consecutive_failed_trials`, `max_time`, `max_epochs`, `target`, `patience`,
            `stop_rules`, `trial_timeout`, `progress`: see `keras_hpx.HpxOracle`.
    """

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = 10,
        *,
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
        self.points = PointSource(get_sampler(sampler, self.seed), self.seed)

    @property
    def sampler(self) -> Sampler:
        """The point sequence."""
        return self.points.sampler

    def expected_trials(self) -> int | None:
        return discrete_expected(self)

    def propose(self, trial_id: str) -> dict | None:
        space = self.space
        if not len(space):
            # Nothing declared yet: run once with the defaults to discover the space.
            return {} if not self.trials else None
        return self.points.next(space, self.is_tried)

    def get_state(self) -> dict:
        state = super().get_state()
        state["random"] = {"draws": self.points.draws, "sampler": self.sampler_name}
        return state

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        saved = state.get("random", {})
        name = saved.get("sampler")
        sampler = self.points.sampler
        if name in SAMPLERS:  # the saved choice wins on resume, as in Keras Tuner
            self.sampler_name = name
            sampler = get_sampler(name, self.seed)
        self.points = PointSource(sampler, self.seed, draws=int(saved.get("draws", 0)))
