"""Replays recorded learning curves through oracles, stopping rules and pruners, as if training.

A search "trains" a configuration by reading its recorded curve one epoch at a time from a
`CurveTable` (written by `record.py`), and is charged one epoch of budget per epoch read.
Every driver returns a `Trace`: the anytime curve of the best validation score seen
against the cumulative epochs trained, and the wall seconds spent inside the method.

Drivers:

- `run_oracle`: any Keras Tuner oracle (keras-hpx's or Keras Tuner's), optionally with
  keras-hpx's `WeakTrialStopping` deciding per epoch. The callback is the real class,
  unmodified: each trial runs inside `ReplayTuner.run_trial`, a stand-in tuner that holds
  the oracle and the trial where the callback looks for them (`find_tuner_context`), and
  the callback gets `on_train_begin`, then `on_epoch_end(epoch, logs)` for every epoch
  with the recorded logs, on a stand-in model whose `stop_training` it sets. So each epoch
  is reported by the callback itself (`update_trial(trial_id, logs, step=epoch)`, the
  `stopped_at_epoch` metric and `record_early_stop` on a stop), the other trials' curves
  are read the way it reads them (`HpxOracle.curves`), and the rule is the one it builds.
  Without a callback the driver reports each epoch itself, as the callback would, so the
  trial is scored by its best epoch in both cases.
- `run_kt_hyperband`: Keras Tuner's `HyperbandOracle`. Its trials carry `tuner/epochs`,
  `tuner/initial_epoch` and (when continuing) `tuner/trial_id`; as Keras Tuner's
  `Hyperband` tuner reloads the checkpoint of `tuner/trial_id`, only the epochs from
  `tuner/initial_epoch` to `tuner/epochs` are trained (and charged), read from the
  configuration's recorded curve (the curve of an uninterrupted run: Keras Tuner resumes
  from the round's best epoch's weights, a small difference). As `Tuner.run_trial` does,
  one report per round: the metrics of the round's best epoch.
- `run_optuna`: an Optuna sampler and pruner by ask and tell: `trial.report(value,
  epochs_done)` then `trial.should_prune()` after every epoch; a pruned trial is told
  `PRUNED`, a finished one its best epoch's value (as the other methods score a trial).

The anytime score: after every epoch trained, the best objective value seen so far over
every epoch of every trial, stopped or not (a run keeps its best epoch's weights, as
Keras Tuner's checkpoint does): `Trace.best`. `Trace.best_final` counts only epochs
that are a configuration's last recorded epoch (fully trained runs). Regret is the
difference to the table's optimum of the same kind (`CurveTable.optimum`), always
`>= 0` (for `val_accuracy`, optimum minus score).

Nothing here trains or needs a particular Keras backend; importing this module sets no
environment variable (the scripts that use it choose the backend).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"
METRICS = ("val_loss", "val_accuracy", "loss", "accuracy")
DIRECTIONS = {"val_loss": "min", "val_accuracy": "max", "loss": "min", "accuracy": "max"}


class BudgetSpent(Exception):
    """Raised inside a replayed trial when the search's epoch budget is used up."""


class CurveTable:
    """Recorded learning curves of every configuration of a discrete space on one dataset.

    Args:
        name: The dataset's name.
        hyperparameters: `{name: [values]}` in index order (row-major, last fastest).
        arrays: `{metric: float32 [configs, epochs]}` for `METRICS`, plus
            `epoch_seconds` `[configs, epochs]` and `overhead_seconds` `[configs]`.

    Raises:
        ValueError: The arrays do not match the space, or a configuration is missing.
    """

    def __init__(
        self, name: str, hyperparameters: Mapping[str, list], arrays: Mapping[str, np.ndarray]
    ) -> None:
        self.name = name
        self.hyperparameters = {k: list(v) for k, v in hyperparameters.items()}
        self.shape = tuple(len(v) for v in self.hyperparameters.values())
        self.num_configs = int(np.prod(self.shape))
        self.arrays = {k: np.asarray(v) for k, v in arrays.items()}
        for metric in METRICS:
            if self.arrays[metric].shape[0] != self.num_configs:
                raise ValueError(
                    f"{name}: {metric} has {self.arrays[metric].shape[0]} rows for a space "
                    f"of {self.num_configs} configurations."
                )
        recorded = self.arrays.get("recorded")
        if recorded is not None and not recorded.all():
            raise ValueError(
                f"{name}: only {int(recorded.sum())} of {self.num_configs} configurations "
                "are recorded; finish the recording (record.py resumes)."
            )
        self.max_epochs = int(self.arrays["val_loss"].shape[1])
        self._lookup = [
            {_key(v): i for i, v in enumerate(values)} for values in self.hyperparameters.values()
        ]

    @classmethod
    def load(cls, dataset: str, data_dir: str | os.PathLike = DATA_DIR) -> CurveTable:
        """Loads `<data_dir>/<dataset>.npz` (no pickle) and its space from the file itself."""
        with np.load(Path(data_dir) / f"{dataset}.npz", allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files if k != "meta"}
            meta = json.loads(str(f["meta"]))
        space = {hp["name"]: hp["values"] for hp in meta["hyperparameters"]}
        return cls(dataset, space, arrays)

    @property
    def space(self) -> Any:
        """The space as `keras_tuner.HyperParameters`: one `Choice` per hyperparameter
        (numbers ordered, strings not)."""
        import keras_tuner as kt

        hp = kt.HyperParameters()
        for name, values in self.hyperparameters.items():
            hp.Choice(name, values, ordered=not isinstance(values[0], str))
        return hp

    def index(self, values: Mapping[str, Any]) -> int:
        """The flat index of a configuration; keys that are not hyperparameters (such as
        Keras Tuner's `tuner/epochs`) are ignored.

        Raises:
            KeyError: A hyperparameter is missing or has a value outside the space.
        """
        positions = []
        for (name, _), lookup in zip(self.hyperparameters.items(), self._lookup):
            value = values[name]
            if _key(value) not in lookup:
                raise KeyError(f"{name}={value!r} is not in the recorded space")
            positions.append(lookup[_key(value)])
        return int(np.ravel_multi_index(positions, self.shape))

    def config(self, index: int) -> dict[str, Any]:
        """The configuration at flat `index`."""
        positions = np.unravel_index(index, self.shape)
        return {
            name: values[int(p)]
            for (name, values), p in zip(self.hyperparameters.items(), positions)
        }

    def curve(self, values: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The configuration's recorded arrays per epoch: `METRICS` and `epoch_seconds`."""
        i = self.index(values)
        return {k: self.arrays[k][i] for k in (*METRICS, "epoch_seconds")}

    def optimum(self, objective: str, final: bool = False) -> float:
        """The best value of `objective` in the table: over every epoch of every
        configuration, or (`final=True`) over the last epochs only. NaN never counts."""
        values = self.arrays[objective]
        values = values[:, -1] if final else values
        if DIRECTIONS[objective] == "min":
            return float(np.nanmin(values))
        return float(np.nanmax(values))

    def full_training_epochs(self) -> int:
        """Epochs of one full training run (one "full-training equivalent")."""
        return self.max_epochs


def _key(value: Any) -> Any:
    """A lookup key that treats `3` and `3.0`, or float32 noise, alike."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return round(float(value), 12)
    return value


@dataclass
class Trace:
    """What one search did: its anytime curve and its cost.

    Attributes:
        objective: The metric (`"val_loss"` or `"val_accuracy"`).
        epochs: Cumulative epochs trained after each epoch (1, 2, 3, ...).
        best: The best objective value seen after each epoch (any epoch of any trial).
        best_final: The best value at a configuration's last epoch seen so far (NaN
            before the first full run).
        trials: Per trial: `(config index, first epoch, epochs trained, stopped early)`.
        method_seconds: Wall seconds spent inside the method (proposals, reports,
            stopping decisions, pruning), excluding reading the table.
    """

    objective: str
    epochs: list[int] = field(default_factory=list)
    best: list[float] = field(default_factory=list)
    best_final: list[float] = field(default_factory=list)
    trials: list[tuple[int, int, int, bool]] = field(default_factory=list)
    method_seconds: float = 0.0

    @property
    def total_epochs(self) -> int:
        """Epochs trained in all."""
        return self.epochs[-1] if self.epochs else 0

    def best_at(self, budget: float, final: bool = False) -> float:
        """The best value seen within `budget` cumulative epochs (NaN if none)."""
        n = int(np.searchsorted(np.asarray(self.epochs), budget, side="right"))
        if n == 0:
            return math.nan
        return (self.best_final if final else self.best)[n - 1]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "objective": self.objective,
            "epochs": self.epochs,
            "best": [_json_float(v) for v in self.best],
            "best_final": [_json_float(v) for v in self.best_final],
            "trials": [list(t) for t in self.trials],
            "method_seconds": self.method_seconds,
        }


def _json_float(value: float) -> float | None:
    return None if not math.isfinite(value) else float(value)


class Search:
    """The budget and the anytime bookkeeping of one replayed search.

    Args:
        table: The recorded curves.
        objective: The metric every method optimises and the trace follows.
        budget_epochs: The search ends once this many epochs are trained.
    """

    def __init__(self, table: CurveTable, objective: str, budget_epochs: int) -> None:
        if objective not in DIRECTIONS:
            raise ValueError(f"Invalid objective={objective!r}; expected one of {METRICS}.")
        self.table = table
        self.objective = objective
        self.direction = DIRECTIONS[objective]
        self.budget_epochs = int(budget_epochs)
        self.trace = Trace(objective)
        self._best = math.nan
        self._best_final = math.nan
        self._clock = 0.0
        self._started: float | None = None

    @property
    def spent(self) -> int:
        """Epochs trained so far."""
        return self.trace.total_epochs

    @property
    def exhausted(self) -> bool:
        """Whether the epoch budget is used up."""
        return self.spent >= self.budget_epochs

    def better(self, a: float, b: float) -> bool:
        """Whether `a` beats `b` in the objective's direction (NaN never beats)."""
        if math.isnan(a):
            return False
        if math.isnan(b):
            return True
        return a < b if self.direction == "min" else a > b

    def train_epoch(self, curve: Mapping[str, np.ndarray], epoch: int) -> dict[str, float]:
        """Charges one epoch and returns that epoch's logs.

        Raises:
            BudgetSpent: The budget was already used up (nothing is charged).
        """
        if self.exhausted:
            raise BudgetSpent
        logs = {m: float(curve[m][epoch]) for m in METRICS}
        value = logs[self.objective]
        if self.better(value, self._best):
            self._best = value
        if epoch == self.table.max_epochs - 1 and self.better(value, self._best_final):
            self._best_final = value
        self.trace.epochs.append(self.spent + 1)
        self.trace.best.append(self._best)
        self.trace.best_final.append(self._best_final)
        return logs

    @contextlib.contextmanager
    def method(self) -> Iterator[None]:
        """Times a block of the method's own work (added to `method_seconds`)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.trace.method_seconds += time.perf_counter() - start


# ----- Keras Tuner style oracles (keras-hpx's and Keras Tuner's) ------------------------------


class _StandInModel:
    """What `WeakTrialStopping` touches of a Keras model: `stop_training` and `metrics`."""

    def __init__(self) -> None:
        self.stop_training = False
        self.metrics: list[Any] = []


class ReplayTuner:
    """A stand-in tuner: runs replayed trials where `WeakTrialStopping` finds its tuner.

    `keras_hpx.callbacks._context.find_tuner_context` looks up the call stack for a frame
    whose `self` has `oracle` and `hypermodel` and whose locals hold the trial: the frame
    of `run_trial` below is one, as Keras Tuner's `Tuner.run_trial` is.

    Args:
        oracle: The oracle trials are reported to.
        search: The budget and bookkeeping.
        callback: A `keras_hpx.WeakTrialStopping`, or `None` to report epochs directly.
    """

    hypermodel = None

    def __init__(self, oracle: Any, search: Search, callback: Any = None) -> None:
        self.oracle = oracle
        self.search = search
        self.callback = callback

    def run_trial(self, trial: Any) -> tuple[int, bool]:
        """Trains `trial` epoch by epoch from the table; returns (epochs, stopped early).

        Raises:
            BudgetSpent: The budget ran out during the trial (after its last epoch's
                report).
        """
        search, callback, oracle = self.search, self.callback, self.oracle
        curve = search.table.curve(trial.hyperparameters.values)
        model = _StandInModel()
        trained = 0
        if callback is not None:
            callback.set_model(model)
            callback.set_params({"epochs": search.table.max_epochs, "verbose": 0})
            with search.method():
                callback.on_train_begin()
        try:
            for epoch in range(search.table.max_epochs):
                logs = search.train_epoch(curve, epoch)
                trained += 1
                with search.method():
                    if callback is not None:
                        callback.on_epoch_end(epoch, logs)
                    else:
                        oracle.update_trial(trial.trial_id, logs, step=epoch)
                if model.stop_training:
                    return trained, True
        except BudgetSpent:
            raise BudgetSpent(trained) from None
        finally:
            if callback is not None:
                with search.method():
                    callback.on_train_end()
        return trained, False


def silence(oracle: Any) -> Any:
    """Turns off Keras Tuner's per-trial display (as `tuner.search(verbose=0)` does)."""
    display = getattr(oracle, "_display", None)
    if display is not None:
        display.verbose = 0
    return oracle


def run_oracle(
    table: CurveTable,
    make_oracle: Callable[[Any], Any],
    budget_epochs: int,
    objective: str = "val_loss",
    make_callback: Callable[[], Any] | None = None,
    max_trials: int | None = None,
) -> Trace:
    """Drives a Keras Tuner oracle over the table until the epoch budget is spent.

    Args:
        table: The recorded curves.
        make_oracle: Builds the oracle from a `keras_tuner.Objective` (its space must be
            `table.space`).
        budget_epochs: Cumulative epochs after which the search ends.
        objective: The metric to optimise. Defaults to `"val_loss"`.
        make_callback: Builds a `WeakTrialStopping` (or `None`: no stopping).
        max_trials: Also end after this many trials (`None`: budget only).

    Returns:
        The `Trace`.
    """
    import keras_tuner as kt

    search = Search(table, objective, budget_epochs)
    with tempfile.TemporaryDirectory() as tmp, _quiet():
        with search.method():
            oracle = silence(make_oracle(kt.Objective(objective, DIRECTIONS[objective])))
            oracle._set_project_dir(tmp, "replay")
            callback = make_callback() if make_callback is not None else None
        tuner = ReplayTuner(oracle, search, callback)
        idle = 0
        while not search.exhausted and (
            max_trials is None or len(search.trace.trials) < max_trials
        ):
            with search.method():
                trial = oracle.create_trial("tuner0")
            if trial.status == "STOPPED":
                break
            if trial.status != "RUNNING":  # IDLE: nothing runs elsewhere, so it cannot last
                idle += 1
                if idle > 100:
                    raise RuntimeError(f"{type(oracle).__name__} stays IDLE with no trial running")
                continue
            idle = 0
            index = table.index(trial.hyperparameters.values)
            try:
                trained, stopped = tuner.run_trial(trial)
            except BudgetSpent as spent:
                search.trace.trials.append((index, 0, int(spent.args[0]), False))
                break  # the search ends with this (unfinished) trial
            search.trace.trials.append((index, 0, trained, stopped))
            with search.method():
                trial.status = "COMPLETED"
                oracle.end_trial(trial)
    return search.trace


# Keras Tuner takes seed 0 for "no seed"; our seed 0 is this one (outside its 1-10000 draws).
KT_SEED_ZERO = 10_001


def run_kt_hyperband(
    table: CurveTable,
    budget_epochs: int,
    objective: str = "val_loss",
    seed: int = 0,
    factor: int = 3,
) -> Trace:
    """Drives Keras Tuner's `HyperbandOracle` (max_epochs = the table's) as its tuner would.

    Args:
        table: The recorded curves.
        budget_epochs: Cumulative epochs (newly trained) after which the search ends.
        objective: The metric to optimise. Defaults to `"val_loss"`.
        seed: The oracle's seed; `0` is passed as `KT_SEED_ZERO` (Keras Tuner's `Oracle`
            reads `seed or random.randint(1, 10000)`, so its seed 0 would draw a new
            seed in every run). Defaults to `0`.
        factor: Hyperband's reduction factor. Defaults to `3`.

    Returns:
        The `Trace`.
    """
    import keras_tuner as kt

    search = Search(table, objective, budget_epochs)
    direction = DIRECTIONS[objective]
    with tempfile.TemporaryDirectory() as tmp, _quiet():
        with search.method():
            oracle = kt.oracles.HyperbandOracle(
                objective=kt.Objective(objective, direction),
                max_epochs=table.max_epochs,
                factor=factor,
                hyperband_iterations=10**6,  # the epoch budget ends the search
                hyperparameters=table.space,
                seed=seed if seed != 0 else KT_SEED_ZERO,
            )
            silence(oracle)
            oracle._set_project_dir(tmp, "hyperband")
        while not search.exhausted:
            with search.method():
                trial = oracle.create_trial("tuner0")
            if trial.status != "RUNNING":
                break
            values = trial.hyperparameters.values
            start = int(values.get("tuner/initial_epoch", 0))
            stop = int(values.get("tuner/epochs", table.max_epochs))
            curve = table.curve(values)
            index = table.index(values)
            best: dict[str, float] | None = None
            trained = 0
            try:
                for epoch in range(start, stop):
                    logs = search.train_epoch(curve, epoch)
                    trained += 1
                    if best is None or search.better(logs[objective], best[objective]):
                        best = logs
            except BudgetSpent:
                search.trace.trials.append((index, start, trained, False))
                break
            search.trace.trials.append((index, start, trained, False))
            with search.method():
                # Tuner.run_trial returns the History; the tuner reports its best epoch.
                oracle.update_trial(trial.trial_id, best if best is not None else {})
                trial.status = "COMPLETED"
                oracle.end_trial(trial)
    return search.trace


# ----- Optuna ----------------------------------------------------------------------------------


def run_optuna(
    table: CurveTable,
    sampler: Any,
    pruner: Any,
    budget_epochs: int,
    objective: str = "val_loss",
) -> Trace:
    """Drives an Optuna sampler and pruner by ask and tell, one report per epoch.

    Args:
        table: The recorded curves.
        sampler: An `optuna.samplers.BaseSampler` (seeded).
        pruner: An `optuna.pruners.BasePruner`, or `None` for none.
        budget_epochs: Cumulative epochs after which the search ends.
        objective: The metric to optimise. Defaults to `"val_loss"`.

    Returns:
        The `Trace`.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    search = Search(table, objective, budget_epochs)
    state = optuna.trial.TrialState
    with search.method():
        study = optuna.create_study(
            # A fixed name: HyperbandPruner assigns trials to brackets by a hash of the
            # study's name, a random one by default (the search would not repeat).
            study_name="replay",
            direction="minimize" if search.direction == "min" else "maximize",
            sampler=sampler,
            pruner=pruner if pruner is not None else optuna.pruners.NopPruner(),
        )
    while not search.exhausted:
        with search.method():
            trial = study.ask()
            values = {
                name: trial.suggest_categorical(name, choices)
                for name, choices in table.hyperparameters.items()
            }
        curve = table.curve(values)
        index = table.index(values)
        best, trained, pruned = math.nan, 0, False
        try:
            for epoch in range(table.max_epochs):
                value = search.train_epoch(curve, epoch)[objective]
                trained += 1
                if search.better(value, best):
                    best = value
                with search.method():
                    trial.report(value, epoch + 1)  # step = epochs done (the resource)
                    pruned = trial.should_prune()
                if pruned:
                    break
        except BudgetSpent:
            search.trace.trials.append((index, 0, trained, False))
            break
        search.trace.trials.append((index, 0, trained, pruned))
        with search.method():
            if pruned:
                study.tell(trial, state=state.PRUNED)
            elif math.isnan(best):
                study.tell(trial, state=state.FAIL)
            else:
                study.tell(trial, best)
    return search.trace


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keeps Keras Tuner's prints and warnings (e.g. the deprecated per-step reports)
    out of the benchmark's output."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield
