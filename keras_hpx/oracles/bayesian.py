"""Bayesian optimisation with a Gaussian process: the Keras Tuner glue.

The math lives in `keras_hpx.bayes` (pure numpy/scipy); this oracle only turns
trials into observations and back, and composes two parts:

* an initial design (`design.PointSource` over a Sobol or uniform sampler, the
  same part `RandomOracle` uses), for the first `num_initial_points` trials and
  as the fallback;
* a `keras_hpx.bayes.BayesianOptimizer` (injectable: `optimizer=`), asked
  `suggest(space, observations, rng, pending=..., excluded=...)` for every
  later trial.

Nothing of the model is saved: it is rebuilt from the trials at every
proposal, so save/reload and a crash resume with the same knowledge. Its
settings are saved (`BayesianOptimizer.get_config`) and restored on resume.
"""

from __future__ import annotations

import enum
import math
import warnings
from typing import Any, NamedTuple

import numpy as np

from keras_hpx.bayes.acquisition import AcquisitionFunction
from keras_hpx.bayes.fidelity import TrainingRun
from keras_hpx.bayes.gp import GPParams
from keras_hpx.bayes.kernels import Kernel
from keras_hpx.bayes.optimizer import BayesianOptimizer
from keras_hpx.checks import check_bool, check_int, check_number, invalid
from keras_hpx.oracles.base import HpxOracle
from keras_hpx.oracles.design import PointSource
from keras_hpx.oracles.random import discrete_expected
from keras_hpx.records import Status
from keras_hpx.samplers import SAMPLERS, Sampler, get_sampler

__all__ = ["BayesianOracle", "Observations", "ProposalSource"]


class ProposalSource(str, enum.Enum):
    """Where the last proposal came from."""

    INITIAL = "initial"
    """The initial design."""
    MODEL = "model"
    """The Gaussian-process model."""
    RANDOM = "random"
    """The initial design's sampler, after the model failed or found nothing new."""
    RERUN = "rerun"
    """The model, again, for a configuration whose every run was stopped early."""


class Observations(NamedTuple):
    """What the model is told: `(observed, pending, excluded)`.

    Attributes:
        observed: `(values, score)` of finished trials, scores minimised (flipped
            for maximised objectives); failed or non-finite ones as `None`.
        pending: Values of running trials.
        excluded: `Space.key`s of every trial (never proposed again).
        runs: Each observed trial's learning curve (`keras_hpx.bayes.fidelity.
            TrainingRun`, aligned with `observed`), or `None` when no trial was
            stopped early (or `multi_fidelity=False`, or several objectives).
    """

    observed: list
    pending: list
    excluded: set
    runs: list | None = None


# Arguments that a given `optimizer` replaces, at their defaults.
_DEFAULTS = {"acquisition": "logei", "kernel": "matern52", "xi": None, "kappa": None}
_DEFAULTS.update(alpha=None, beta=None)


class BayesianOracle(HpxOracle):
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
    * **Several objectives** (`objective=[...]`): one GP per objective and the
      exact log expected hypervolume improvement over the observed front
      (`keras_hpx.bayes.hypervolume_improvement`); the reference point is the
      worst observed value of each objective plus a tenth of its range, in
      each model's standardised units. An objective's scores are warped only
      when they reject the identity (a warp would distort the hypervolume).
      `BayesianOptimizer(pareto="parego")` uses random Chebyshev
      scalarisations instead.

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
        optimizer: A configured `keras_hpx.bayes.BayesianOptimizer` (GP prior,
            noise floor, candidate and fit budgets); then `acquisition`,
            `kernel`, `xi`, `kappa`, `alpha` and `beta` must be left at their
            defaults. Defaults to `None` (one built from those arguments).
        multi_fidelity: Model trials stopped early (by `WeakTrialStopping`) at
            the epochs they reached, not as finished runs: one Gaussian process
            over configuration and training budget, fitted to every trial's
            learning curve, aiming at the full budget
            (`keras_hpx.bayes.fidelity`). Only when some trial was stopped
            early: searches whose trials all run to the end are unchanged.
            Defaults to `True`.
        rerun_stopped: With the multi-fidelity model in use, a configuration
            whose every run was stopped early stays a candidate of the model
            (never of the initial design): proposed again only when the model,
            knowing its early scores, still ranks it first. `WeakTrialStopping`
            trains such a rerun to the end, so an early cut is not final: a
            slow starter the rule stopped once can still show its full score.
            At most one rerun per configuration (a run trained to the end
            excludes it for good). Defaults to `True`.
        alpha: Keras Tuner's `BayesianOptimizationOracle` argument (the noise
            added to the GP's diagonal), accepted for drop-in use: mapped to the
            GP's noise floor (`min_noise`); the noise above it is still fitted.
            Defaults to `None` (our default floor).
        beta: Keras Tuner's exploration factor of its `mean - beta * std`
            acquisition: mapped to `acquisition="ucb", kappa=beta`. Refused with
            any other `acquisition`. Defaults to `None`.
        seed: Seed of every random choice. Defaults to `None`.
        hyperparameters: The search space. Defaults to `None`.
        **kwargs: `allow_new_entries`, `tune_new_entries`, `max_retries_per_trial`,
            `max_consecutive_failed_trials`, `max_time`, `max_epochs`, `target`, `patience`,
            `stop_rules`, `trial_timeout`, `progress`: see `keras_hpx.HpxOracle`.
    """

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = 10,
        *,
        num_initial_points: int | None = None,
        acquisition: str | AcquisitionFunction = "logei",
        kernel: str | Kernel = "matern52",
        xi: float | None = None,
        kappa: float | None = None,
        initial_sampler: str | Sampler = "sobol",
        optimizer: BayesianOptimizer | None = None,
        multi_fidelity: bool = True,
        rerun_stopped: bool = True,
        alpha: float | None = None,
        beta: float | None = None,
        seed: int | None = None,
        hyperparameters: Any = None,
        **kwargs: Any,
    ):
        # Validate before any state exists (errors name the argument).
        check_int("num_initial_points", num_initial_points, 1, allow_none=True)
        check_bool("multi_fidelity", multi_fidelity)
        check_bool("rerun_stopped", rerun_stopped)
        get_sampler(initial_sampler, 0, argument="initial_sampler")
        optimizer = _build_optimizer(optimizer, acquisition, kernel, xi, kappa, alpha, beta)
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            seed=seed,
            **kwargs,
        )
        self.num_initial_points = num_initial_points
        self.multi_fidelity = multi_fidelity
        self.rerun_stopped = rerun_stopped
        self.optimizer = optimizer
        self.sampler_name = (
            initial_sampler if isinstance(initial_sampler, str) else type(initial_sampler).__name__
        )
        self.initial_design = PointSource(get_sampler(initial_sampler, self.seed), self.seed)
        self.last_proposal: ProposalSource | None = None
        self._model_space: Any = None

    @property
    def acquisition(self) -> AcquisitionFunction:
        """The optimizer's acquisition function."""
        return self.optimizer.acquisition

    @property
    def kernel(self) -> Kernel:
        """The optimizer's kernel."""
        return self.optimizer.kernel

    # ----- the proposal -------------------------------------------------------------------

    def initial_points(self) -> int:
        """Number of initial quasi-random trials for the current space."""
        if self.num_initial_points is not None:
            return self.num_initial_points
        tuned = sum(1 for p in self.space.params if p.kind != "fixed")
        return min(max(round(2.5 * tuned), 5), 15)

    def expected_trials(self) -> int | None:
        return discrete_expected(self)

    def observations(self) -> Observations:
        """The trials as the model sees them (see `Observations`).

        With several objectives the score is the vector of the trial's objectives
        (`objective_values`), each signed to be minimised, or `None` if one is
        missing or not finite.
        """
        space = self.space
        signs = None
        if self.multi_objective:
            signs = np.array([-1.0 if o.direction == "max" else 1.0 for o in self.objectives])
        sign = -1.0 if self.direction() == "max" else 1.0
        running_ids = {t.trial_id for t in self.ongoing_trials.values()}
        curves = self._learning_curves()
        runs: list[TrainingRun | None] = []
        observed: list[tuple[dict, Any]] = []
        pending: list[dict] = []
        excluded: set = set()
        for trial_id in self.start_order:
            trial = self.trials.get(trial_id)
            if trial is None or trial_id in self.damaged_trials:
                continue  # a damaged trial's values are unknown
            values = space.active_values(trial.hyperparameters.values)
            excluded.add(space.key(values))
            if trial_id in running_ids or trial.status == Status.RUNNING:
                pending.append(values)
                continue
            score = trial.score if trial.status in (Status.COMPLETED, Status.STOPPED) else None
            if signs is not None:
                vector = self.objective_values(trial) if score is not None else None
                observed.append((values, None if vector is None else list(signs * vector)))
                continue
            if score is not None:
                score = float(score)
                score = sign * score if math.isfinite(score) else None
            observed.append((values, score))
            curve = curves.get(str(trial_id)) if curves is not None else None
            runs.append(
                None
                if not curve
                else TrainingRun(
                    {step: sign * value for step, value in curve.items()},
                    stopped=self.early_stop(trial_id) is not None,
                )
            )
        stopped = any(r is not None and r.stopped for r in runs)
        return Observations(observed, pending, excluded, runs if stopped else None)

    def stopped_only(self) -> set:
        """`Space.key`s of the configurations whose every trial was stopped early (none
        running, none trained to the end, none failed): the ones `rerun_stopped` lets the
        model propose again."""
        space = self.space
        stopped: set = set()
        other: set = set()
        for trial_id in self.start_order:
            trial = self.trials.get(trial_id)
            if trial is None or trial_id in self.damaged_trials:
                continue
            key = space.key(trial.hyperparameters.values)
            ended = trial.status in (Status.COMPLETED, Status.STOPPED)
            if ended and self.early_stop(trial_id) is not None:
                stopped.add(key)
            else:
                other.add(key)
        return stopped - other

    def _learning_curves(self) -> dict[str, dict[int, float]] | None:
        """The objective's per-epoch curves when the model should see them (one
        objective, `multi_fidelity`, some trial stopped early), else `None`."""
        if self.multi_objective or not self.multi_fidelity or not self._early_stops:
            return None
        name = getattr(self.objective, "name", None)
        return None if name is None else self.curves(name)

    def propose(self, trial_id: str) -> dict | None:
        space = self.space
        if not len(space):
            return {} if not self.trials else None
        if space is not self._model_space:
            if self._model_space is not None:  # new columns: the last fit is no warm start
                self.optimizer.reset()
            self._model_space = space
        obs = self.observations()
        n_finite = sum(1 for _, s in obs.observed if s is not None)
        if len(self.start_order) < self.initial_points() or n_finite < 2:
            self.last_proposal = ProposalSource.INITIAL
            return self.initial_design.next(space, self.is_tried)
        rng = self.rng_for(2, len(self.start_order))
        rerunnable = self.stopped_only() if self.rerun_stopped and obs.runs is not None else set()
        try:
            values = self.optimizer.suggest(
                space,
                obs.observed,
                rng,
                pending=obs.pending,
                excluded=obs.excluded - rerunnable,
                runs=obs.runs,
            )
        except Exception as e:  # the model must never end the search: fall back to random
            warnings.warn(
                f"BayesianOracle: the model failed ({e!r}); proposing at random.", stacklevel=2
            )
            values = None
        if values is not None and space.key(values) in rerunnable:
            self.last_proposal = ProposalSource.RERUN
            return values
        if values is not None and not self.is_tried(values):
            self.last_proposal = ProposalSource.MODEL
            return values
        self.last_proposal = ProposalSource.RANDOM
        return self.initial_design.next(space, self.is_tried)

    # ----- persistence --------------------------------------------------------------------

    def get_state(self) -> dict:
        state = super().get_state()
        state["bayesian"] = {
            "num_initial_points": self.num_initial_points,
            "initial_sampler": self.sampler_name,
            "draws": self.initial_design.draws,
            "optimizer": self.optimizer.get_config(),
            # The last fit warm-starts the next one: saved, so a resumed search
            # proposes exactly what an uninterrupted one would have.
            "warm_starts": {
                name: _params_to_dict(params) for name, params in self.optimizer.warm_starts.items()
            },
            "multi_fidelity": self.multi_fidelity,
            "rerun_stopped": self.rerun_stopped,
        }
        return state

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        saved = state.get("bayesian", {})
        # The saved settings win on resume, as Keras Tuner does for its own.
        if "num_initial_points" in saved:
            self.num_initial_points = saved["num_initial_points"]
        config = saved.get("optimizer")
        if isinstance(config, dict):
            try:
                self.optimizer = BayesianOptimizer.from_config(config)
            except (ValueError, TypeError, KeyError) as e:
                warnings.warn(
                    f"BayesianOracle: the saved optimizer settings could not be restored ({e}); "
                    "using the ones given to the constructor.",
                    stacklevel=2,
                )
        sampler = self.initial_design.sampler
        name = saved.get("initial_sampler")
        if name in SAMPLERS:
            self.sampler_name = name
            sampler = get_sampler(name, self.seed)
        draws = saved.get("draws", state.get("random", {}).get("draws", 0))  # 0.1.0: "random"
        self.initial_design = PointSource(sampler, self.seed, draws=int(draws))
        if "multi_fidelity" in saved:
            self.multi_fidelity = bool(saved["multi_fidelity"])
        if "rerun_stopped" in saved:
            self.rerun_stopped = bool(saved["rerun_stopped"])
        warm = saved.get("warm_starts")
        if not isinstance(warm, dict):  # 0.1.0 and early 0.2.0: the one model's fit
            warm = {"score": saved.get("warm_start")}
        self.optimizer.warm_starts = {
            name: params
            for name, params in ((n, _params_from_dict(p)) for n, p in warm.items())
            if params is not None
        }
        self._model_space = None


def _params_to_dict(params: GPParams | None) -> dict | None:
    if params is None:
        return None
    return {
        "lengthscales": [float(v) for v in np.ravel(params.lengthscales)],
        "signal_var": float(params.signal_var),
        "noise_var": float(params.noise_var),
    }


def _params_from_dict(data: Any) -> GPParams | None:
    if not isinstance(data, dict):
        return None
    try:
        return GPParams(
            np.asarray(data["lengthscales"], dtype=float),
            float(data["signal_var"]),
            float(data["noise_var"]),
        )
    except (KeyError, TypeError, ValueError):
        return None  # only a warm start: the next fit starts from the prior instead


def _build_optimizer(
    optimizer: Any,
    acquisition: Any,
    kernel: Any,
    xi: Any,
    kappa: Any,
    alpha: Any,
    beta: Any,
) -> BayesianOptimizer:
    """The optimizer from the oracle's arguments (validated; nothing is built twice)."""
    if optimizer is not None:
        if not isinstance(optimizer, BayesianOptimizer):
            raise invalid(
                "optimizer", optimizer, "a keras_hpx.bayes.BayesianOptimizer or None", TypeError
            )
        given = {"acquisition": acquisition, "kernel": kernel, "xi": xi, "kappa": kappa}
        given.update(alpha=alpha, beta=beta)
        clash = [name for name, value in given.items() if value != _DEFAULTS[name]]
        if clash:
            raise invalid(
                clash[0],
                given[clash[0]],
                "its default when `optimizer` is given (configure the optimizer instead)",
            )
        return optimizer
    options: dict[str, Any] = {}
    if alpha is not None:
        options["min_noise"] = check_number("alpha", alpha, positive=True)
    if beta is not None:
        check_number("beta", beta, minimum=0.0)
        if kappa is not None:
            raise invalid("kappa", kappa, "None when `beta` (Keras Tuner's name for it) is given")
        if acquisition not in ("logei", "ucb"):
            raise invalid(
                "beta",
                beta,
                "None unless acquisition='ucb' (beta is the width of Keras Tuner's "
                f"upper-confidence-bound acquisition; acquisition={acquisition!r} has none)",
            )
        acquisition, kappa = "ucb", float(beta)
    return BayesianOptimizer(kernel, acquisition, xi=xi, kappa=kappa, **options)
