"""Which tuner and trial is this `model.fit` serving? Found without help from the tuner.

Keras Tuner deep-copies the callbacks given to `tuner.search()` for every
execution and never tells them which trial they serve. Its `Tuner.run_trial`
(and any user override of `run_trial` or `HyperModel.fit`) keeps the trial in a
local variable named `trial` and the tuner in `self`, both on the call stack
below `model.fit`. This module looks there, so our callbacks work with every
tuner, ours or Keras Tuner's, in one process or as a distributed worker.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

__all__ = ["TunerContext", "find_tuner_context"]


@dataclass
class TunerContext:
    """The tuner, trial and execution index that a running `fit` belongs to."""

    tuner: Any
    trial: Any
    execution: int = 0

    @property
    def oracle(self) -> Any:
        return self.tuner.oracle

    @property
    def trial_id(self) -> str:
        return str(self.trial.trial_id)


def _is_trial(obj: Any) -> bool:
    return hasattr(obj, "trial_id") and hasattr(obj, "hyperparameters")


def find_tuner_context(max_depth: int = 60) -> TunerContext | None:
    """Walks up the call stack to the innermost frame holding a Keras Tuner trial.

    Args:
        max_depth: How many frames to look through. Defaults to `60`.

    Returns:
        A `TunerContext`, or `None` in a plain `model.fit` outside any tuner.
    """
    frame = inspect.currentframe()
    tuner = trial = None
    execution = 0
    try:
        depth = 0
        while frame is not None and depth < max_depth:
            local = frame.f_locals
            candidate = local.get("trial")
            if trial is None and candidate is not None and _is_trial(candidate):
                trial = candidate
            if trial is not None and candidate is trial:
                owner = local.get("self")
                if tuner is None and hasattr(owner, "oracle") and hasattr(owner, "hypermodel"):
                    tuner = owner
                ex = local.get("execution")
                if isinstance(ex, int):
                    execution = ex
                    break
            elif tuner is not None:
                break  # left the tuner's frames for this trial
            frame = frame.f_back
            depth += 1
    finally:
        del frame
    if trial is None or tuner is None:
        return None
    return TunerContext(tuner=tuner, trial=trial, execution=execution)
