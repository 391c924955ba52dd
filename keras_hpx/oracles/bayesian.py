"""Bayesian optimisation with a Gaussian process: the Keras Tuner glue.

The math lives in `keras_hpx.bayes` (pure numpy/scipy); this oracle only turns
trials into observations and back:

    trials -> (values, score) of finished trials, pending running ones, keys of
    all of them -> `BayesianOptimizer.suggest` -> the next configuration.

Nothing of the model is saved: it is rebuilt from the trials at every
proposal, so save/reload and a crash resume with the same knowledge.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from keras_hpx.bayes.acquisition import AcquisitionFunction, get_acquisition
from keras_hpx.bayes.kernels import Kernel, get_kernel
from keras_hpx.bayes.optimizer import BayesianOptimizer
from keras_hpx.oracles.random import RandomOracle
from keras_hpx.samplers import Sampler, get_sampler

__all__ = ["BayesianOracle"]


class BayesianOracle(RandomOracle):
    """Gaussian-process Bayesian optimisation that never repeats a configuration.

    After an initial quasi-random design, each trial maximises an acquisition
    function of a Gaussian-process model of the objective:

    * **Model**: Matern 5/2 kernel with one length scale per feature column;
      unordered choices one-hot (no order imposed), numeric hyperparameters on
      their sampling scale (log-scaled ones in log space); targets
      standardised; length scales, signal and noise variance fitted by MAP
      (marginal likelihood plus priors), so noisy objectives are smoothed and
      deterministic ones interpolated.
    * **Acquisition**: log expected improvement by default: expected
      improvement's choices without its vanishing gradients (Ament et al., 2023).
    * **Optimisation**: Sobol candidates plus local moves around the best
      trials, refined with L-BFGS-B on continuous columns and neighbour moves on
      discrete ones; steps, integers and choices are respected and tried or
      running configurations are never proposed.
    * **Failures**: failed, NaN or infinite trials count as the worst score seen,
      never as 0. **Running trials** (other workers) are fantasised at the
      model's mean, so concurrent proposals differ. **Conditional**
      hyperparameters are masked when inactive, not filled with defaults.
    * A discrete space ends (`STOPPED`) once every configuration has run.

    Example:

    ```python
    oracle = keras_hpx.BayesianOracle(objective="val_loss", max_trials=40, seed=1)
    tuner = keras_tuner.RandomSearch(build_model, oracle=oracle, ...)
    ```

    Args:
        objective: The quantity to optimise. Defaults to `None`.
        max_trials: Maximum number of trials. Defaults to `10`.
        num_initial_points: Quasi-random trials before the model takes over.
            Defaults to `None`: 2.5 times the number of tuned hyperparameters,
            at least 5 and at most 15. A design that covers the space before the
            model exploits it: on the 6-d benchmarks 15 beat 6 and 10 (the model
            otherwise settles in the first basin it finds), while 5 is enough
            for 2-d problems.
        acquisition: `"logei"`, `"ei"`, `"pi"`, `"ucb"`, or a
            `keras_hpx.bayes.AcquisitionFunction`. Defaults to `"logei"`.
        kernel: `"matern52"`, `"matern32"`, `"rbf"`, or a
            `keras_hpx.bayes.Kernel`. Defaults to `"matern52"`.
        xi: Improvement margin of `"logei"`, `"ei"` and `"pi"`, in standard
            deviations of the observed scores; larger explores more. Defaults to
            `None` (0 for the EIs, 0.01 for PI).
        kappa: Width of `"ucb"` in posterior standard deviations. Defaults to
            `None` (2.0).
        initial_sampler: Sampler of the initial design: `"sobol"`, `"uniform"` or
            a `keras_hpx.samplers.Sampler`. Defaults to `"sobol"`.
        seed: Seed of every random choice. Defaults to `None`.
        hyperparameters: The search space. Defaults to `None`.
        **kwargs: `allow_new_entries`, `tune_new_entries`, `max_retries_per_trial`,
            `max_consecutive_failed_trials`, `max_time`, `target`, `patience`,
            `progress`: see `keras_hpx.oracles.base.HpxOracle`.
    """

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = 10,
        num_initial_points: int | None = None,
        acquisition: str | AcquisitionFunction = "logei",
        kernel: str | Kernel = "matern52",
        xi: float | None = None,
        kappa: float | None = None,
        initial_sampler: str | Sampler = "sobol",
        seed: int | None = None,
        hyperparameters: Any = None,
        **kwargs: Any,
    ):
        if num_initial_points is not None and (
            isinstance(num_initial_points, bool)
            or not isinstance(num_initial_points, int)
            or num_initial_points < 1
        ):
            raise ValueError(
                f"Invalid num_initial_points={num_initial_points!r}; expected an int >= 1 or None."
            )
        # Validate before any state exists (raises ValueError/TypeError naming the argument).
        get_sampler(initial_sampler, 0, argument="initial_sampler")
        optimizer = BayesianOptimizer(
            get_kernel(kernel), get_acquisition(acquisition, xi=xi, kappa=kappa)
        )
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            sampler=initial_sampler,
            seed=seed,
            **kwargs,
        )
        self.num_initial_points = num_initial_points
        self.optimizer = optimizer
        self.acquisition = optimizer.acquisition
        self.kernel = optimizer.kernel
        self.last_proposal: str | None = None  # "initial", "model" or "random"

    # ----- the proposal -------------------------------------------------------------------

    def initial_points(self) -> int:
        """Number of initial quasi-random trials for the current space."""
        if self.num_initial_points is not None:
            return self.num_initial_points
        tuned = sum(1 for p in self.space.params if p.kind != "fixed")
        return min(max(round(2.5 * tuned), 5), 15)

    def observations(self) -> tuple[list, list, set]:
        """`(observations, pending, excluded)` for `BayesianOptimizer.suggest`.

        Scores are flipped for maximised objectives; trials that failed or
        have no finite score come as `(values, None)`.
        """
        space = self.space
        sign = -1.0 if getattr(self.objective, "direction", "min") == "max" else 1.0
        running_ids = {t.trial_id for t in self.ongoing_trials.values()}
        observations, pending, excluded = [], [], set()
        for trial_id in self.start_order:
            trial = self.trials.get(trial_id)
            if trial is None:
                continue
            values = space.active_values(trial.hyperparameters.values)
            excluded.add(space.key(values))
            if trial_id in running_ids or trial.status == "RUNNING":
                pending.append(values)
                continue
            score = trial.score if trial.status in ("COMPLETED", "STOPPED") else None
            if score is not None:
                score = float(score)
                score = sign * score if math.isfinite(score) else None
            observations.append((values, score))
        return observations, pending, excluded

    def propose(self, trial_id: str) -> dict | None:
        space = self.space
        observations, pending, excluded = self.observations()
        n_finite = sum(1 for _, s in observations if s is not None)
        if len(self.start_order) < self.initial_points() or n_finite < 2 or not len(space):
            self.last_proposal = "initial"
            return self.sample_new()
        rng = self.rng_for(2, len(self.start_order))
        try:
            values = self.optimizer.suggest(
                space, observations, rng, pending=pending, excluded=excluded
            )
        except Exception as e:  # the model must never end the search: fall back to random
            warnings.warn(
                f"BayesianOracle: the model failed ({e!r}); proposing at random.", stacklevel=2
            )
            values = None
        if values is not None and not self.is_tried(values):
            self.last_proposal = "model"
            return values
        self.last_proposal = "random"
        return self.sample_new()

    def on_space_change(self) -> None:
        self.optimizer.last_params = None  # the columns changed: no warm start

    # ----- persistence --------------------------------------------------------------------

    def get_state(self) -> dict:
        state = super().get_state()
        state["bayesian"] = {
            "num_initial_points": self.num_initial_points,
            "acquisition": repr(self.acquisition),
            "kernel": repr(self.kernel),
        }
        return state

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        saved = state.get("bayesian", {})
        if "num_initial_points" in saved:  # the saved choice wins on resume, as in Keras Tuner
            self.num_initial_points = saved["num_initial_points"]
        self.optimizer.last_params = None
