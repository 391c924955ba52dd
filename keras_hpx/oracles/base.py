"""The Keras Tuner glue shared by every keras-hpx oracle.

`HpxOracle` subclasses `keras_tuner.Oracle` and leaves one method to its
subclasses, `propose(trial_id)`, which returns a new configuration or `None`
when nothing new is left. Everything else lives here, once:

* argument validation, before any state exists (Keras Tuner's lock never
  releases on an exception, so nothing may raise inside it);
* configurations never repeat: every trial's active values are keyed
  (`Space.key`), running ones included, and proposals already tried are refused;
* `IDLE` while trials still run and nothing new is left (their results or newly
  discovered hyperparameters may open the space), `STOPPED` only when done;
* search-level stopping: `max_time`, `target`, `patience`;
* `enqueue_trial(values)`: warm-start configurations run first;
* a CSV of trials and an optional progress line as each trial ends;
* state written atomically (a kill during a save leaves a loadable file) and
  everything rebuilt from the trials on reload.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from collections import Counter
from collections.abc import Mapping
from typing import Any

import keras_tuner
import numpy as np

from keras_hpx import report
from keras_hpx.space import Space

__all__ = ["HpxOracle", "atomic_save_json"]

_RUNNING = "RUNNING"
_IDLE = "IDLE"
_STOPPED = "STOPPED"

# Seconds to wait before answering IDLE: the tuner asks again at once, so this
# keeps an idle worker from spinning a core (or the chief's gRPC server).
_IDLE_WAIT = 0.05


def _check_int(name: str, value: Any, minimum: int, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        allowed = f"an integer >= {minimum}" + (" or None" if allow_none else "")
        raise ValueError(f"Invalid {name}={value!r}: expected {allowed}.")


def _check_positive(name: str, value: Any) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.number))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(
            f"Invalid {name}={value!r}: expected a positive number of seconds or None."
        )


class HpxOracle(keras_tuner.Oracle):
    """Base class of the keras-hpx oracles (not used directly).

    Args:
        objective: A string, `keras_tuner.Objective`, or list of them: the
            quantity to optimise. Defaults to `None` (Keras Tuner's default).
        max_trials: Maximum number of trials (failed ones count). Defaults to
            `None`: no limit beyond the oracle's own end and the stopping rules.
        hyperparameters: A `HyperParameters` search space; more may be discovered
            while building the model. Defaults to `None`.
        allow_new_entries: Whether the model may register hyperparameters not in
            `hyperparameters`. Defaults to `True`.
        tune_new_entries: Whether such new hyperparameters are tuned (else they
            keep their defaults). Defaults to `True`.
        seed: Seed of all the oracle's randomness; same seed, same trials.
            Defaults to `None` (a random seed, saved with the oracle).
        max_retries_per_trial: Times a crashing trial is retried. Defaults to `0`.
        max_consecutive_failed_trials: Failed trials in a row that end the search
            with an error. Defaults to `3`.
        max_time: Seconds of search (summed over resumes) after which no new
            trial starts. Defaults to `None`.
        target: An objective value that ends the search once a trial reaches it.
            Defaults to `None`.
        patience: Completed trials without improvement that end the search.
            Defaults to `None`.
        progress: Print one line per finished trial (k of N, best so far, time
            left). Defaults to `False`.
    """

    def __init__(
        self,
        objective: Any = None,
        max_trials: int | None = None,
        hyperparameters: Any = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        seed: int | None = None,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        max_time: float | None = None,
        target: float | None = None,
        patience: int | None = None,
        progress: bool = False,
    ):
        _check_int("max_trials", max_trials, 1, allow_none=True)
        _check_int("seed", seed, 0, allow_none=True)
        _check_int("max_retries_per_trial", max_retries_per_trial, 0, allow_none=False)
        _check_int(
            "max_consecutive_failed_trials", max_consecutive_failed_trials, 1, allow_none=False
        )
        _check_positive("max_time", max_time)
        _check_int("patience", patience, 1, allow_none=True)
        if target is not None and (
            isinstance(target, bool)
            or not isinstance(target, (int, float, np.number))
            or not math.isfinite(target)
        ):
            raise ValueError(f"Invalid target={target!r}: expected a finite number or None.")
        if hyperparameters is not None and not hasattr(hyperparameters, "space"):
            raise TypeError(
                "Invalid hyperparameters="
                f"{hyperparameters!r}: expected a keras_tuner.HyperParameters or None."
            )
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            seed=seed,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        if seed is not None:  # Keras Tuner reads `seed or random`, which loses seed=0
            self.seed = int(seed)
            self._seed_state = self.seed
        self.max_time = None if max_time is None else float(max_time)
        self.target = None if target is None else float(target)
        self.patience = patience
        self.progress = bool(progress)
        # Persisted state.
        self._queue: list[dict] = []
        self._elapsed_before = 0.0
        self._start_times: dict[str, float] = {}
        self._early_stops: dict[str, str] = {}
        self.stop_reason: str | None = None
        # Derived caches (rebuilt from the trials, never saved).
        self._session_start: float | None = None
        self._space_cache: tuple[int, Space] | None = None
        self._trial_keys: dict[str, tuple] = {}
        self._key_counts: Counter = Counter()
        self._keyed_upto = 0
        self._csv: report.TrialsCSV | None = None
        self._defer_save = False
        self._skip_trial_save = False

    # ----- the one method subclasses write -------------------------------------------------

    def propose(self, trial_id: str) -> dict | None:
        """Returns the active values of a new, untried configuration, or `None`.

        Called under the oracle's lock: must not raise. `self.is_tried(values)`
        tells whether a configuration was tried or is running.
        """
        raise NotImplementedError

    # ----- space and seen configurations ----------------------------------------------------

    @property
    def space(self) -> Space:
        """The current search space, encoded (rebuilt when it grows)."""
        n = len(self.hyperparameters.space)
        if self._space_cache is None or self._space_cache[0] != n:
            self._space_cache = (n, Space.from_keras_tuner(self.hyperparameters))
            self._reset_keys()
            self.on_space_change()
        return self._space_cache[1]

    def on_space_change(self) -> None:
        """Hook: the space grew (or was loaded). Subclasses drop their caches here."""

    def _reset_keys(self) -> None:
        self._trial_keys = {}
        self._key_counts = Counter()
        self._keyed_upto = 0

    def _key_trial(self, trial_id: str) -> None:
        trial = self.trials.get(trial_id)
        if trial is None:
            return
        old = self._trial_keys.get(trial_id)
        if old is not None:
            self._key_counts[old] -= 1
        key = self.space.key(trial.hyperparameters.values)
        self._trial_keys[trial_id] = key
        self._key_counts[key] += 1

    def _sync_keys(self) -> None:
        space = self.space  # may reset the keys
        del space
        order = self.start_order
        for trial_id in order[self._keyed_upto :]:
            self._key_trial(trial_id)
        self._keyed_upto = len(order)

    def is_tried(self, values: Mapping[str, Any]) -> bool:
        """Whether the active part of `values` was tried, or is running."""
        self._sync_keys()
        return self._key_counts[self.space.key(values)] > 0

    def rng_for(self, *stream: int) -> np.random.Generator:
        """A Generator determined by the oracle's seed and `stream` (e.g. a trial number)."""
        return np.random.default_rng([int(self.seed), *map(int, stream)])

    # ----- Keras Tuner's hooks ------------------------------------------------------------

    def populate_space(self, trial_id: str) -> dict:
        if self._session_start is None:
            self._session_start = time.monotonic()
        reason = self._search_stop_reason()
        if reason is not None:
            if self.stop_reason is None:
                self.stop_reason = reason
                print(f"keras-hpx: search stopped: {reason}")
            return {"status": _STOPPED}
        if not len(self.space) and self.trials and not self.ongoing_trials:
            # A first trial ran with the defaults and declared nothing to tune.
            self.stop_reason = "empty search space: the model declared no hyperparameters"
            warnings.warn(f"keras-hpx: {self.stop_reason}; nothing to search.", stacklevel=2)
            return {"status": _STOPPED}
        try:
            values = self._pop_queue()
            if values is None:
                values = self.propose(trial_id)
        except Exception as e:  # never leak Keras Tuner's lock
            warnings.warn(f"{type(self).__name__}.propose failed: {e!r}", stacklevel=2)
            values = None
            if not self.ongoing_trials:
                self.stop_reason = f"proposal failed: {e!r}"
                return {"status": _STOPPED}
        if values is None:
            if self.ongoing_trials or self._retry_queue:
                time.sleep(_IDLE_WAIT)
                return {"status": _IDLE}
            if self.stop_reason is None:
                self.stop_reason = "search space exhausted"
            return {"status": _STOPPED}
        self._start_times[trial_id] = time.time()
        return {"status": _RUNNING, "values": values}

    @keras_tuner.synchronized
    def create_trial(self, tuner_id: str) -> Any:
        trial = super().create_trial(tuner_id)
        if trial.status == _RUNNING and trial.trial_id not in self._start_times:
            self._start_times[trial.trial_id] = time.time()  # a retried trial
        return trial

    @keras_tuner.synchronized
    def update_trial(self, trial_id: str, metrics: dict, step: int = 0) -> Any:
        # Keras Tuner rewrites trial.json at every report; a running trial is rerun
        # after a crash anyway, so the file is written when the trial ends instead.
        self._skip_trial_save = True
        try:
            return super().update_trial(trial_id, metrics, step=step)
        finally:
            self._skip_trial_save = False

    @keras_tuner.synchronized
    def end_trial(self, trial: Any) -> None:
        self._defer_save = True  # one state write at the end instead of two
        try:
            super().end_trial(trial)
            trial_id = trial.trial_id
            self._key_trial(trial_id)  # new hyperparameters may have appeared
            stored = self.trials[trial_id]
            if stored.status in ("COMPLETED", "FAILED", "STOPPED"):
                start = self._start_times.pop(trial_id, None)
                seconds = None if start is None else time.time() - start
                try:
                    self._report(stored, seconds)
                except Exception as e:  # never leak Keras Tuner's lock
                    warnings.warn(f"Could not report trial {trial_id}: {e!r}", stacklevel=2)
        finally:
            self._defer_save = False
            self.save()

    def score_trial(self, trial: Any) -> None:
        """Scores a trial; a NaN or infinite objective or metric makes it fail, with a reason.

        Keras Tuner only catches NaN objectives; an infinite one would be ranked as
        the best (or worst) trial, and a diverged loss goes unnoticed.
        """
        super().score_trial(trial)
        bad = []
        score = trial.score
        if score is None or not math.isfinite(float(score)):
            bad.append(f"objective {getattr(self.objective, 'name', 'score')}={score}")
        for name, tracker in trial.metrics.metrics.items():
            history = tracker.get_history()
            if not history:
                continue
            value = np.asarray(history[-1].value, dtype=float)
            if not np.all(np.isfinite(value)) and name != getattr(self.objective, "name", None):
                bad.append(f"{name}={float(np.ravel(value)[0])}")
        if bad:
            trial.score = float("nan")  # Keras Tuner marks the trial INVALID (then FAILED)
            trial.message = "non-finite result: " + ", ".join(bad)

    # ----- search-level stopping ----------------------------------------------------------

    def elapsed(self) -> float:
        """Seconds of search so far, summed over resumes."""
        now = 0.0 if self._session_start is None else time.monotonic() - self._session_start
        return self._elapsed_before + now

    def _direction(self) -> str:
        return getattr(self.objective, "direction", "min") or "min"

    def _completed_scores(self) -> list[float]:
        scores = []
        for trial_id in self.end_order:
            trial = self.trials.get(trial_id)
            if trial is not None and trial.status == "COMPLETED" and trial.score is not None:
                scores.append(float(trial.score))
        return scores

    def best_score(self) -> float | None:
        return report.best_of(self._completed_scores(), self._direction())

    def _search_stop_reason(self) -> str | None:
        if self.stop_reason is not None and not self.stop_reason.startswith("search space"):
            return self.stop_reason
        if self.max_time is not None and self.elapsed() >= self.max_time:
            return f"max_time={self.max_time:g}s reached after {self.elapsed():.1f}s"
        if self.target is None and self.patience is None:
            return None
        scores = self._completed_scores()
        better = (lambda a, b: a > b) if self._direction() == "max" else (lambda a, b: a < b)
        best, since = None, 0
        for s in scores:
            if not math.isfinite(s):
                since += 1
                continue
            if best is None or better(s, best):
                best, since = s, 0
            else:
                since += 1
        if self.target is not None and best is not None and not better(self.target, best):
            return f"target={self.target:g} reached (best {best:.6g})"
        if self.patience is not None and best is not None and since >= self.patience:
            return f"patience={self.patience}: {since} completed trials without improvement"
        return None

    # ----- warm start ---------------------------------------------------------------------

    def enqueue_trial(self, values: Mapping[str, Any]) -> None:
        """Runs the configuration `values` before any proposed one (warm start).

        Missing active hyperparameters take their defaults. Validated at once
        against the known space; hyperparameters discovered later are checked
        when the trial is created.

        Args:
            values: Hyperparameter values by name.

        Raises:
            ValueError: a name not in the space, or a value it does not allow.
        """
        if not isinstance(values, Mapping) or not values:
            raise ValueError(
                f"Invalid values={values!r}: expected a non-empty dict of hyperparameter values."
            )
        space = self.space
        if len(space):
            known = set(space.names)
            unknown = [k for k in values if k not in known]
            if unknown and not self.allow_new_entries:
                raise ValueError(
                    f"Invalid values={dict(values)!r}: unknown hyperparameters {unknown}; "
                    f"the space has {sorted(known)}."
                )
            for p in space.params:
                if p.name in values and not p.is_valid(values[p.name]):
                    allowed = p.describe()
                    raise ValueError(
                        f"Invalid value for {p.name!r} in enqueue_trial: "
                        f"received {values[p.name]!r}; allowed: {allowed}."
                    )
        self._queue.append(dict(values))

    def _pop_queue(self) -> dict | None:
        space = self.space
        while self._queue:
            values = space.active_values(self._queue.pop(0))
            if not space.is_valid(values):
                warnings.warn(
                    f"Enqueued trial {values!r} is not valid in the space; skipped.", stacklevel=2
                )
                continue
            if self.is_tried(values):
                continue
            return values
        return None

    # ----- results ------------------------------------------------------------------------

    def _csv_path(self) -> str | None:
        if (
            getattr(self, "_directory", None) is None
            or getattr(self, "_project_name", None) is None
        ):
            return None
        return os.path.join(str(self._directory), self._project_name, "trials.csv")

    def _report(self, trial: Any, seconds: float | None) -> None:
        metrics = {}
        try:
            for name in trial.metrics.metrics:
                metrics[name] = trial.metrics.get_last_value(name)
        except Exception:  # metrics are a courtesy in the CSV
            metrics = {}
        values = self.space.active_values(trial.hyperparameters.values)
        stopped, error = self._early_stops.get(trial.trial_id), None
        message = trial.message if isinstance(trial.message, str) else ""
        if stopped is None and message.startswith("stopped:"):
            stopped = message[len("stopped:") :].strip()
        if stopped is None and "stopped_early" in metrics:
            # Over gRPC only metrics travel: WeakTrialStopping's marker says enough.
            at = metrics.get("stopped_at_epoch")
            stopped = "stopped early" + ("" if at is None else f" at epoch {int(at) + 1}")
        if trial.status == "FAILED" and message:
            lines = [line for line in message.strip().splitlines() if line.strip()]
            error = lines[-1].strip() if lines else message
        path = self._csv_path()
        if path is not None:
            if self._csv is None or self._csv.path != path:
                self._csv = report.TrialsCSV(path)
            try:
                self._csv.append(
                    trial.trial_id,
                    trial.status,
                    trial.score,
                    seconds,
                    values,
                    metrics,
                    stopped,
                    error=error,
                )
            except OSError as e:
                warnings.warn(f"Could not write {path}: {e}", stacklevel=2)
        if self.progress:
            total = self.max_trials or self.expected_trials()
            print(
                report.progress_line(
                    done=len(self.end_order),
                    total=total,
                    trial_id=trial.trial_id,
                    status=trial.status + (" (stopped early)" if stopped else ""),
                    score=trial.score,
                    best=self.best_score(),
                    elapsed=self.elapsed(),
                    values=values,
                    objective=getattr(self.objective, "name", "score"),
                ),
                flush=True,
            )

    def record_early_stop(self, trial_id: str, step: int, reason: str) -> None:
        """Notes that a running trial was stopped early (called by `WeakTrialStopping`).

        The trial keeps its status and the best score it reached; the reason goes
        to `trials.csv` (column `stopped_reason`).

        Args:
            trial_id: The trial.
            step: The epoch (0-based) at which it was stopped.
            reason: Why.
        """
        self._early_stops[str(trial_id)] = f"at epoch {int(step) + 1}: {reason}"

    def expected_trials(self) -> int | None:
        """Number of trials the search will run, when known (else `None`)."""
        return None

    # ----- persistence --------------------------------------------------------------------

    def get_state(self) -> dict:
        state = super().get_state()
        state["hpx"] = {
            "queue": self._queue,
            "elapsed": self.elapsed(),
            "start_times": self._start_times,
            "early_stops": self._early_stops,
            "stop_reason": self.stop_reason,
            "max_time": self.max_time,
            "target": self.target,
            "patience": self.patience,
        }
        return state

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        hpx = state.get("hpx", {})
        self._queue = list(hpx.get("queue", []))
        self._elapsed_before = float(hpx.get("elapsed", 0.0))
        self._session_start = None
        self._start_times = dict(hpx.get("start_times", {}))
        self._early_stops = dict(hpx.get("early_stops", {}))
        reason = hpx.get("stop_reason")
        # Running out of space is re-judged after a resume; a met stopping rule is kept.
        self.stop_reason = None if reason and reason.startswith("search space") else reason
        self._space_cache = None
        self._reset_keys()

    def save(self) -> None:
        """Writes `oracle.json` atomically."""
        if self._defer_save:
            return
        atomic_save_json(self._get_oracle_fname(), self.get_state())

    def _save_trial(self, trial: Any) -> None:
        if self._skip_trial_save:
            return
        path = os.path.join(self._get_trial_dir(trial.trial_id), "trial.json")
        atomic_save_json(path, trial.get_state())


def atomic_save_json(path: str, obj: Any) -> None:
    """`json.dump` through a temporary file and `os.replace`."""
    report.atomic_write_text(path, json.dumps(obj, default=_json_default))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (set, tuple)):
        return list(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")
