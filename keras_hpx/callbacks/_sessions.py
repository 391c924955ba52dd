"""Shared machinery of the callbacks that record trials: `HParamsLogger`, `TrialLogger`.

A Keras Tuner search deep-copies its callbacks for every execution and never
tells them the trial, and a `fit` that raises never calls `on_train_end`. So:

* `__deepcopy__` returns a fresh callback that shares one `_Shared` state with the
  original (no writer, lock or model is copied), so all copies of one callback
  see each other's open sessions;
* the trial, its hyperparameters and the execution come from
  `find_tuner_context()` at `on_train_begin`;
* a session still open when the next `fit` starts in this process (or when the
  process exits) belonged to a `fit` that raised: it is closed as failed.

When a `fit` returns, `Record.stopped_early` is 1 when the run trained fewer
epochs than planned, whatever stopped it (`WeakTrialStopping`, Keras'
`EarlyStopping`, any `model.stop_training = True`), and `Record.stopped_reason`
says why: the `EarlyStop`'s `describe()` when `WeakTrialStopping` recorded one
(read from the oracle, see `find_early_stop`), else `"stop_training"`.

Nothing here imports TensorFlow or TensorBoard; Keras is imported for the
`Callback` base class.
"""

from __future__ import annotations

import atexit
import copy
import math
import os
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import keras

from keras_hpx.callbacks import heartbeat
from keras_hpx.callbacks._context import find_tuner_context
from keras_hpx.callbacks._names import safe_name
from keras_hpx.checks import invalid
from keras_hpx.direction import resolve_direction
from keras_hpx.records import EarlyStop
from keras_hpx.space import Space

__all__ = [
    "Record",
    "TrialCallback",
    "active_values",
    "check_log_dir",
    "find_early_stop",
    "last_values",
    "safe_name",
    "space_of",
    "trained_fewer_epochs",
    "worker_id",
]


def check_log_dir(log_dir: Any) -> str:
    """Validates a log directory argument; returns it as a string.

    Args:
        log_dir: The argument (created on first write when missing).

    Returns:
        The path as a string.

    Raises:
        TypeError: not a path.
        ValueError: the path, or a directory above it, is a file.
    """
    allowed = "a directory path (str or os.PathLike; created if missing)"
    if not isinstance(log_dir, (str, os.PathLike)):
        raise invalid("log_dir", log_dir, allowed, TypeError)
    path = os.fspath(log_dir)
    probe = path
    while probe and not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if probe and os.path.exists(probe) and not os.path.isdir(probe):
        raise invalid("log_dir", path, f"{allowed}, but {probe!r} is a file")
    return path


@dataclass
class _Objective:
    """The objective as plain data: names with directions (several = summed, as Keras Tuner)."""

    directions: dict[str, str]

    @property
    def name(self) -> str:
        return next(iter(self.directions)) if len(self.directions) == 1 else "multi_objective"

    @property
    def direction(self) -> str:
        return next(iter(self.directions.values())) if len(self.directions) == 1 else "min"

    @classmethod
    def parse(cls, objective: Any) -> _Objective | None:
        """From a name, `(name, direction)`, a Keras Tuner `Objective` or a list of those."""
        if objective is None:
            return None
        if isinstance(objective, str):
            direction = resolve_direction(objective)
            if direction is None:
                raise invalid(
                    "objective",
                    objective,
                    "a metric name whose direction its name tells (a loss, an accuracy, ...) "
                    "or (name, 'min'|'max')",
                )
            return cls({objective: direction})
        if (
            isinstance(objective, tuple)
            and len(objective) == 2
            and all(isinstance(v, str) for v in objective)
            and objective[1] in ("min", "max")
        ):
            return cls({objective[0]: objective[1]})
        subs = getattr(objective, "objectives", None)
        if subs is not None:
            objective = list(subs)
        if isinstance(objective, (list, tuple)):
            directions: dict[str, str] = {}
            for o in objective:
                parsed = cls.parse(o)
                if parsed is None:
                    continue
                directions.update(parsed.directions)
            return cls(directions) if directions else None
        name = getattr(objective, "name", None)
        direction = getattr(objective, "direction", None)
        if isinstance(name, str) and direction in ("min", "max"):
            return cls({name: direction})
        raise invalid(
            "objective",
            objective,
            "a metric name, (name, 'min'|'max'), a keras_tuner.Objective or a list of those",
            TypeError,
        )

    def value(self, logs: dict) -> float | None:
        """The objective in one epoch's logs (minimised sign for several), or `None`."""
        if not all(n in logs for n in self.directions):
            return None
        if len(self.directions) == 1:
            return logs[self.name]
        return sum(logs[n] if d == "min" else -logs[n] for n, d in self.directions.items())

    def better(self, a: float, b: float) -> bool:
        return a > b if self.direction == "max" else a < b


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass
class Record:
    """One `fit` (one execution of a trial, or a plain `fit`) as it runs."""

    trial_id: str
    execution: int
    n_executions: int
    hparams: dict
    space: Space | None
    objective: _Objective | None
    oracle: Any = None
    trial: Any = None
    start: float = field(default_factory=time.time)
    history: list = field(default_factory=list)  # [(epoch, {name: float})]
    planned_epochs: int | None = None
    stopped_early: bool = False  # trained fewer epochs than planned (any cause)
    stopped_reason: str = ""  # why, when stopped_early
    early_stop: EarlyStop | None = None  # WeakTrialStopping's record of this run's stop
    error: str | None = None
    returned: bool = False  # on_train_end ran (fit returned)
    end: float | None = None
    last_seen: float | None = None  # time of the last epoch end
    extra: dict = field(default_factory=dict)  # per-callback state (writers, ...)

    @property
    def epochs(self) -> int:
        return len(self.history)

    def best(self) -> tuple[int | None, float | None, dict]:
        """`(epoch, score, logs)` of the best epoch by the objective (else the last epoch)."""
        if not self.history:
            return None, None, {}
        if self.objective is None:
            epoch, logs = self.history[-1]
            return epoch, None, logs
        best = None
        for epoch, logs in self.history:
            v = self.objective.value(logs)
            if v is None or not math.isfinite(v):
                continue
            if best is None or self.objective.better(v, best[1]):
                best = (epoch, v, logs)
        if best is None:
            epoch, logs = self.history[-1]
            return epoch, None, logs
        return best


class _Shared:
    """State shared by a callback and all its deep copies (one per process)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.open: list[Record] = []
        self.groups: dict[str, str] = {}  # trial id -> group (attempt) name
        self.state: dict[str, Any] = {}  # per-callback-type state


# One callback per shared state that has started a fit, kept alive until exit (the
# callback lists given to `fit` or `search` are often temporaries), so that
# sessions of a fit that raised, and a last trial that failed, are still recorded.
_STARTED: dict[int, TrialCallback] = {}


def _close_all_at_exit() -> None:
    for callback in list(_STARTED.values()):
        try:
            callback.close()
        except Exception:
            pass


atexit.register(_close_all_at_exit)


def trained_fewer_epochs(history: list, planned: int | None, stopped: bool) -> bool:
    """Whether a `fit` that returned trained fewer epochs than planned (`stopped_early`).

    Args:
        history: The run's `[(epoch, logs)]`, epochs 0-based.
        planned: `params["epochs"]` of the `fit` (the epoch count it would reach).
        stopped: Whether something asked it to stop (`model.stop_training`, a
            weak-trial stop); used only when `planned` is unknown (a custom loop).
    """
    if planned is None:
        return stopped
    done = history[-1][0] + 1 if history else 0
    return done < planned


def last_values(trial: Any) -> dict[str, float]:
    """The last reported value of each metric of a Keras Tuner trial (`{}` without any)."""
    tracker: Any = getattr(trial, "metrics", None)  # None fails below, and returns {}
    values: dict[str, float] = {}
    try:
        for name in tracker.metrics:
            value = _float(tracker.get_last_value(name))
            if value is not None:
                values[name] = value
    except Exception:  # not a trial with a metrics tracker
        return values
    return values


def find_early_stop(
    oracle: Any, trial: Any, trial_id: str, last_epoch: int | None
) -> EarlyStop | None:
    """The weak-trial stop of the run that ended after `last_epoch`, or `None`.

    A keras-hpx oracle in this process holds the typed record, reason included
    (`HpxOracle.early_stop`). Otherwise the record is read back from its wire
    form, the trial's last metric values (`EarlyStop.from_metrics`), taken from
    the oracle's copy of the trial (`oracle.get_trial`, which works over gRPC
    too) or else from `trial`. A record counts only when its step is the run's
    last epoch: with several executions per trial, the trial's record may be
    another execution's.

    Args:
        oracle: The search's oracle, or `None` in a plain `fit`.
        trial: The Keras Tuner trial the `fit` served, or `None`.
        trial_id: The trial's id.
        last_epoch: The run's last epoch (0-based), or `None` if it ran none.
    """
    if last_epoch is None or (oracle is None and trial is None):
        return None
    candidates: list[EarlyStop | None] = []
    if oracle is not None:
        from keras_hpx.oracles.base import HpxOracle  # imports Keras Tuner: in a search only

        if isinstance(oracle, HpxOracle):
            candidates.append(oracle.early_stop(trial_id))
        try:
            trial = oracle.get_trial(trial_id)
        except Exception:  # keep the tuner's copy
            pass
    candidates.append(EarlyStop.from_metrics(last_values(trial)))
    for stop in candidates:
        if stop is not None and stop.step == last_epoch:
            return stop
    return None


def worker_id() -> str | None:
    """The Keras Tuner worker's id in distributed mode, else `None`."""
    if os.environ.get("KERASTUNER_ORACLE_IP") and os.environ.get("KERASTUNER_TUNER_ID"):
        return safe_name(os.environ["KERASTUNER_TUNER_ID"])
    return None


def space_of(hyperparameters: Any, oracle: Any = None) -> Space | None:
    """The union of the trial's and the oracle's hyperparameters, as a `Space`."""
    params: dict[tuple, Any] = {}
    sources = [hyperparameters]
    if oracle is not None:
        try:
            sources.append(oracle.get_space())
        except Exception:
            pass
    for hps in sources:
        if hps is None or not hasattr(hps, "space"):
            continue
        for p in Space.from_keras_tuner(hps).params:
            params.setdefault((p.name, p.conditions), p)
    return Space(list(params.values())) if params else None


def active_values(hyperparameters: Any, space: Space | None) -> dict:
    """The active hyperparameter values of a Keras Tuner `HyperParameters`.

    Values set without a hyperparameter in the space (Hyperband's `tuner/epochs`,
    `tuner/bracket`, ...) are kept too.
    """
    values = dict(hyperparameters.values)
    if space is None:
        return values
    active = space.active_values(values, fill_defaults=False)
    names = set(space.names)
    active.update({k: v for k, v in values.items() if k not in names})
    return {k: v for k, v in active.items() if v is not None}


class TrialCallback(keras.callbacks.Callback):
    """Base class: finds the trial, tracks the epochs, closes failed sessions.

    Subclasses implement `_open(record)`, `_epoch(record, epoch, logs)` and
    `_close(record, status)` with `status` `"SUCCESS"` or `"FAILURE"`.

    Args:
        hparams: Hyperparameter values for a plain `model.fit` (a dict or a Keras
            Tuner `HyperParameters`); ignored inside a search. Defaults to `None`.
        objective: For a plain `model.fit`: the metric that scores it (name,
            `(name, direction)` or a Keras Tuner `Objective`); inside a search the
            oracle's objective is used. Defaults to `None`.
        run_name: Name of a plain `model.fit`'s run (and table row). Defaults to
            `None` (a time stamp).
    """

    def __init__(
        self,
        hparams: Any = None,
        objective: Any = None,
        run_name: str | None = None,
    ):
        super().__init__()
        if hparams is not None and not (isinstance(hparams, dict) or hasattr(hparams, "space")):
            raise invalid(
                "hparams",
                hparams,
                "a dict of values, a keras_tuner.HyperParameters or None",
                TypeError,
            )
        if run_name is not None and not isinstance(run_name, str):
            raise invalid("run_name", run_name, "a string or None", TypeError)
        self.hparams = hparams
        self.objective = objective
        self._objective = _Objective.parse(objective)
        self.run_name = run_name
        self._shared = _Shared()
        self._record: Record | None = None

    # ----- copies -------------------------------------------------------------------------

    def __deepcopy__(self, memo: dict) -> TrialCallback:
        new = copy.copy(self)  # same configuration, same _Shared
        new._model = None
        new.params = None
        new._record = None
        new.hparams = copy.deepcopy(self.hparams, memo)
        memo[id(self)] = new
        return new

    # ----- hooks for subclasses -----------------------------------------------------------

    def _open(self, record: Record) -> None:
        raise NotImplementedError

    def _epoch(self, record: Record, epoch: int, logs: dict) -> None:
        raise NotImplementedError

    def _close(self, record: Record, status: str) -> None:
        raise NotImplementedError

    # ----- Keras hooks --------------------------------------------------------------------

    def _has_record(self, trial_id: str) -> bool:
        """Whether this trial already has an output (skip it when scanning failures)."""
        return False

    def on_train_begin(self, logs: dict | None = None) -> None:
        _STARTED[id(self._shared)] = self
        self._close_orphans()
        record = self._new_record()
        if record.oracle is not None:
            self._shared.state["oracle"] = record.oracle
            self._record_unseen_failures(record.oracle)
        self._shared.state.setdefault("seen", set()).add(record.trial_id)
        if record.oracle is not None:
            heartbeat.beat_for(record.oracle, record.trial_id)
        self._record = record
        with self._shared.lock:
            self._shared.open.append(record)
        self._guard(self._open, record)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        record = self._record
        if record is None:
            return
        clean = {}
        for k, v in (logs or {}).items():
            f = _float(v)
            if f is not None:
                clean[str(k)] = f
        record.history.append((int(epoch), clean))
        record.last_seen = time.time()
        self._guard(self._epoch, record, int(epoch), clean)

    def on_train_end(self, logs: dict | None = None) -> None:
        record = self._record
        if record is None:
            return
        record.end = time.time()
        record.returned = True
        if record.oracle is not None:
            heartbeat.stop_beat(record.oracle)
        planned = (self.params or {}).get("epochs")
        record.planned_epochs = planned
        stop_training = bool(getattr(self.model, "stop_training", False)) if self._model else False
        last_epoch = record.history[-1][0] if record.history else None
        record.early_stop = find_early_stop(
            record.oracle, record.trial, record.trial_id, last_epoch
        )
        record.stopped_early = trained_fewer_epochs(
            record.history, planned, stop_training or record.early_stop is not None
        )
        if record.stopped_early:
            if record.early_stop is not None:
                record.stopped_reason = record.early_stop.describe()
            else:
                record.stopped_reason = (
                    "stop_training" if stop_training else "fewer epochs than planned"
                )
        status = "SUCCESS"
        if record.objective is not None and record.history and record.best()[1] is None:
            values = [record.objective.value(logs) for _, logs in record.history]
            if any(v is not None for v in values):
                # Keras Tuner (and the keras-hpx oracles) fail a trial without a finite score.
                status = "FAILURE"
                record.error = f"non-finite {record.objective.name} at every epoch"
        self._finish(record, status)
        self._record = None

    # ----- failures -----------------------------------------------------------------------

    def _finish(self, record: Record, status: str) -> None:
        with self._shared.lock:
            if record not in self._shared.open:
                return
            self._shared.open.remove(record)
        if record.end is None:
            # A failed fit: it ended some time after its last epoch; that is all we know.
            record.end = record.last_seen or record.start
        self._guard(self._close, record, status)

    def _guard(self, hook: Any, *args: Any) -> None:
        """Runs a writing hook; a file-system error warns (once) instead of failing the fit."""
        try:
            hook(*args)
        except OSError as e:
            if not self._shared.state.get("warned"):
                self._shared.state["warned"] = True
                warnings.warn(
                    f"{type(self).__name__} could not write its logs: {e!r}", stacklevel=3
                )

    def _close_orphans(self) -> None:
        """Closes, as failed, sessions of earlier `fit`s that never reached `on_train_end`."""
        with self._shared.lock:
            orphans = list(self._shared.open)
        for record in orphans:
            self._finish(record, "FAILURE")

    def _record_unseen_failures(self, oracle: Any) -> None:
        """Records trials that failed before their `fit` began (e.g. in `build`).

        Only an oracle in this process lists its trials (a distributed worker's
        client does not); trials already recorded by this callback are skipped.
        """
        trials = getattr(oracle, "trials", None)
        if not isinstance(trials, dict):
            return
        seen = self._shared.state.setdefault("seen", set())
        for trial_id, trial in list(trials.items()):
            if trial_id in seen or getattr(trial, "status", None) not in ("FAILED", "INVALID"):
                continue
            seen.add(trial_id)
            if self._has_record(str(trial_id)):
                continue
            space = space_of(trial.hyperparameters, None)
            try:
                objective = _Objective.parse(getattr(oracle, "objective", None))
            except TypeError:
                objective = None
            now = time.time()
            record = Record(
                trial_id=str(trial_id),
                execution=0,
                n_executions=1,
                hparams=active_values(trial.hyperparameters, space),
                space=space,
                objective=objective,
                oracle=oracle,
                trial=trial,
                start=now,
                end=now,
            )
            try:
                self._open(record)
                self._close(record, "FAILURE")
            except Exception:  # logging must never break the search
                pass

    def close(self) -> None:
        """Closes sessions still open as failed, and records trials that failed early.

        Called at interpreter exit; call it yourself after a search in a notebook so
        that a last trial that failed is recorded.
        """
        self._close_orphans()
        oracle = self._shared.state.get("oracle")
        if oracle is not None:
            self._record_unseen_failures(oracle)

    # ----- context ------------------------------------------------------------------------

    def _new_record(self) -> Record:
        ctx = find_tuner_context()
        if ctx is None:
            hps = self.hparams
            if hps is None:
                values, space = {}, None
            elif hasattr(hps, "space"):
                space = space_of(hps)
                values = active_values(hps, space)
            else:
                values, space = dict(hps), None
            name = self.run_name or time.strftime("run-%Y%m%d-%H%M%S")
            return Record(
                trial_id=name,
                execution=0,
                n_executions=1,
                hparams=values,
                space=space,
                objective=self._objective,
            )
        space = space_of(ctx.trial.hyperparameters, ctx.oracle)
        objective = None
        try:
            objective = _Objective.parse(getattr(ctx.oracle, "objective", None))
        except TypeError:
            pass
        return Record(
            trial_id=ctx.trial_id,
            execution=int(ctx.execution),
            n_executions=int(getattr(ctx.tuner, "executions_per_trial", 1) or 1),
            hparams=active_values(ctx.trial.hyperparameters, space),
            space=space,
            objective=objective or self._objective,
            oracle=ctx.oracle,
            trial=ctx.trial,
        )
