"""Which tuner and trial is this `model.fit` serving? Found without help from the tuner.

Keras Tuner deep-copies the callbacks given to `tuner.search()` for every
execution and never tells them which trial they serve. Its `Tuner.run_trial`
(and any user override of `run_trial`, whatever it names its arguments) holds
the trial in a local variable of a frame whose `self` is the tuner, on the call
stack below `model.fit`. This module looks there, so our callbacks work with
every tuner, ours or Keras Tuner's, in one process or as a distributed worker.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from types import FrameType
from typing import Any

__all__ = ["TunerContext", "find_tuner_context"]


@dataclass
class TunerContext:
    """The tuner, trial and execution index that a running `fit` belongs to.

    Attributes:
        tuner: The Keras Tuner tuner (anything with `oracle` and `hypermodel`).
        trial: The Keras Tuner `Trial` being run.
        execution: The 0-based execution of the trial (`executions_per_trial`),
            from a local named `execution` in a frame holding the trial; `0` when
            there is none.
    """

    tuner: Any
    trial: Any
    execution: int = 0

    @property
    def oracle(self) -> Any:
        """The tuner's oracle."""
        return self.tuner.oracle

    @property
    def trial_id(self) -> str:
        """The trial's id, as a string."""
        return str(self.trial.trial_id)


def _is_trial(obj: Any) -> bool:
    """Whether `obj` looks like a Keras Tuner `Trial`."""
    if obj is None or isinstance(obj, (type, str, bytes, int, float)):
        return False
    try:
        return hasattr(obj, "trial_id") and hasattr(obj, "hyperparameters")
    except Exception:  # a property that raises: not a trial
        return False


def _is_tuner(obj: Any) -> bool:
    """Whether `obj` looks like a Keras Tuner tuner."""
    if obj is None or isinstance(obj, type):
        return False
    try:
        return hasattr(obj, "oracle") and hasattr(obj, "hypermodel")
    except Exception:
        return False


def _trial_in(local: Mapping[str, Any]) -> Any:
    """The trial among a frame's locals, or `None`; a local named `trial` comes first."""
    candidate = local.get("trial")
    if _is_trial(candidate):
        return candidate
    for name, value in local.items():
        if name != "self" and _is_trial(value):
            return value
    return None


def _holds(local: Mapping[str, Any], obj: Any) -> bool:
    """Whether one of a frame's locals is `obj` itself."""
    return any(value is obj for value in local.values())


def _execution_in(local: Mapping[str, Any]) -> int | None:
    ex = local.get("execution")
    if isinstance(ex, int) and not isinstance(ex, bool):
        return ex
    return None


def find_tuner_context(max_depth: int = 60) -> TunerContext | None:
    """Walks up the call stack to the innermost tuner frame holding a Keras Tuner trial.

    A frame counts when its `self` looks like a tuner (has `oracle` and
    `hypermodel`) and one of its locals looks like a trial (has `trial_id` and
    `hyperparameters`), whatever the local is named (`Tuner.run_trial(self,
    trial)`, a user's `run_trial(self, t, ...)`, ...). The execution index is a
    local named `execution` in that frame or in the frames above it that still
    hold the same trial (as Keras Tuner's `run_trial` loop does).

    Args:
        max_depth: How many frames to look through. Defaults to `60`.

    Returns:
        A `TunerContext`, or `None` in a plain `model.fit` outside any tuner.
    """
    frame: FrameType | None = inspect.currentframe()
    tuner = trial = None
    execution = 0
    try:
        depth = 0
        while frame is not None and depth < max_depth:
            local = frame.f_locals
            if trial is None:
                owner = local.get("self")
                if _is_tuner(owner):
                    found = _trial_in(local)
                    if found is not None:
                        tuner, trial = owner, found
            elif not _holds(local, trial):
                break  # left the frames that run this trial
            if trial is not None:
                ex = _execution_in(local)
                if ex is not None:
                    execution = ex
                    break
            frame = frame.f_back
            depth += 1
    finally:
        del frame
    if trial is None or tuner is None:
        return None
    return TunerContext(tuner=tuner, trial=trial, execution=execution)
