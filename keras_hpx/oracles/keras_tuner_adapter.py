"""Everything keras-hpx needs from Keras Tuner beyond its public API, in one place.

Supported: keras-tuner >= 1.4.7, < 1.5 (the range pinned in `pyproject.toml`).
Each private name used below is read defensively, so a missing one fails here,
with a message naming it, rather than deep inside a search.

What is used, and why:

* `LOCKS` / `THREADS` of `keras_tuner.src.engine.oracle`: the per-oracle lock
  behind `@keras_tuner.synchronized`. Keras Tuner's decorator never releases
  it when the wrapped call raises, which deadlocks the next caller from another
  thread (a distributed chief with a timer, a user's thread). `synchronized`
  here takes the same lock (so Keras Tuner's own decorated base methods, called
  inside, see it as held by this thread) and always releases it.
* `Oracle._retry_queue`: trials waiting to be rerun (after a crash or a retry).
* `Oracle._directory`, `Oracle._project_name`, `Oracle._get_oracle_fname()`,
  `Oracle._get_trial_dir()`: where the project's files live.
* `Oracle._save_trial()`: overridden to write `trial.json` atomically;
  `Oracle.reload()`: overridden to check every file it reads.
* `keras_tuner.src.engine.objective.create_objective`: how `Oracle` reads its
  `objective` argument (a direction inferred from a metric's name), called early to
  check the argument before any state exists.
* `keras_tuner.src.engine.metrics_tracking.MetricsTracker`: a fresh, empty
  metrics record for a trial that is rerun after its worker was lost.
* `keras_tuner.src.engine.tuner_utils.validate_trial_results`: with several
  objectives Keras Tuner looks for a key named `"multi_objective"` in the dict a
  `run_trial` returns, and rejects `{"val_accuracy": ..., "params": ...}` (its
  bug). `accept_multi_objective_dicts()` wraps it so that a dict holding every
  objective passes; everything else is checked as before.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import keras_tuner

__all__ = [
    "SUPPORTED",
    "create_objective",
    "new_metrics",
    "oracle_file",
    "project_dir",
    "retry_queue",
    "synchronized",
    "trial_dir",
    "trial_from_state",
    "new_trial",
    "accept_multi_objective_dicts",
]

SUPPORTED = ">=1.4.7,<1.5"

try:
    from keras_tuner.src.engine import metrics_tracking as _kt_metrics
    from keras_tuner.src.engine import objective as _kt_objective
    from keras_tuner.src.engine import oracle as _kt_oracle
    from keras_tuner.src.engine import trial as _kt_trial

    _LOCKS = _kt_oracle.LOCKS
    _THREADS = _kt_oracle.THREADS
    _MetricsTracker = _kt_metrics.MetricsTracker
    _Trial = _kt_trial.Trial
    _create_objective = _kt_objective.create_objective
except (ImportError, AttributeError) as e:  # pragma: no cover - depends on the installed version
    raise ImportError(
        f"keras-hpx needs keras-tuner {SUPPORTED}; a private part it uses ({e}) was not found "
        f"in keras-tuner {getattr(keras_tuner, '__version__', '?')}."
    ) from e

F = TypeVar("F", bound=Callable[..., Any])


def synchronized(func: F) -> F:
    """Like `keras_tuner.synchronized`, but the lock is released when `func` raises.

    Re-entrant per thread, and shares Keras Tuner's lock, so a Keras Tuner base
    method decorated with Keras Tuner's own decorator can be called inside.
    """

    @functools.wraps(func)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        name = threading.current_thread().name
        if _THREADS[self] == name:
            return func(self, *args, **kwargs)
        _LOCKS[self].acquire()
        _THREADS[self] = name
        try:
            return func(self, *args, **kwargs)
        finally:
            _THREADS[self] = None
            _LOCKS[self].release()

    return wrapped  # type: ignore[return-value]


def retry_queue(oracle: Any) -> list:
    """The oracle's queue of trial ids waiting to be rerun."""
    return oracle._retry_queue


def project_dir(oracle: Any) -> str | None:
    """`<directory>/<project_name>` once the tuner has set it, else `None`."""
    directory = getattr(oracle, "_directory", None)
    name = getattr(oracle, "_project_name", None)
    if directory is None or name is None:
        return None
    return os.path.join(str(directory), str(name))


def oracle_file(oracle: Any) -> str:
    """Path of `oracle.json`."""
    return oracle._get_oracle_fname()


def trial_dir(oracle: Any, trial_id: str) -> str:
    """Directory of one trial (`trial_<id>`), created by Keras Tuner."""
    return oracle._get_trial_dir(trial_id)


def create_objective(objective: Any) -> Any:
    """The `Objective` (or `MultiObjective`) Keras Tuner's `Oracle` makes of `objective`."""
    return _create_objective(objective)


def new_metrics() -> Any:
    """An empty `MetricsTracker` (a trial's metrics record)."""
    return _MetricsTracker()


def trial_from_state(state: dict) -> Any:
    """A `Trial` from the content of its `trial.json`."""
    return _Trial.from_state(state)


def new_trial(hyperparameters: Any, trial_id: str, status: str) -> Any:
    """A `Trial` with the given space (its values empty), id and status."""
    return _Trial(hyperparameters=hyperparameters, trial_id=trial_id, status=status)


def accept_multi_objective_dicts() -> None:
    """Makes Keras Tuner accept a `run_trial` dict that holds every objective of a
    `MultiObjective` (idempotent; other results are validated as Keras Tuner does)."""
    from keras_tuner.src.engine import objective as kt_objective
    from keras_tuner.src.engine import tuner_utils

    original = tuner_utils.validate_trial_results
    if getattr(original, "_keras_hpx", False):
        return

    def validate_trial_results(results: Any, objective: Any, func_name: str) -> Any:
        if (
            isinstance(objective, kt_objective.MultiObjective)
            and isinstance(results, dict)
            and all(name in results for name in objective.name_to_direction)
        ):
            return None
        if isinstance(objective, kt_objective.MultiObjective) and isinstance(results, list):
            for elem in results:
                validate_trial_results(elem, objective, func_name)
            return None
        return original(results, objective, func_name)

    validate_trial_results._keras_hpx = True  # type: ignore[attr-defined]
    tuner_utils.validate_trial_results = validate_trial_results
