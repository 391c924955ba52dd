"""keras_hpx.callbacks: Keras callbacks for searches and plain `model.fit` runs.

- `WeakTrialStopping`: stops a run whose learning curve is weak next to the others'.
- `HParamsLogger`: TensorBoard HParams (domains, metrics, status) without TensorFlow.
- `TrialLogger`: a CSV of trials and a progress line per trial.
- `ModelCost`: the model's parameter count and inference latency as metrics.
- `TrialHeartbeat`: heartbeats to the oracle during long epochs (`trial_timeout`).
- `trial_curves`: per-step curves of a metric from Keras Tuner trials.

The names load on first use, so that importing one module of this package (say
`keras_hpx.callbacks.trial_logger`, or `keras_hpx.callbacks._names` from the
TensorFlow-free `keras_hpx.tensorboard.hparams`) does not import the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keras_hpx.callbacks.heartbeat import TrialHeartbeat
    from keras_hpx.callbacks.hparams_logger import HParamsLogger
    from keras_hpx.callbacks.model_cost import ModelCost
    from keras_hpx.callbacks.trial_logger import TrialLogger
    from keras_hpx.callbacks.weak_trial_stopping import WeakTrialStopping, trial_curves

__all__ = [
    "HParamsLogger",
    "ModelCost",
    "TrialHeartbeat",
    "TrialLogger",
    "WeakTrialStopping",
    "trial_curves",
]

# public name -> module that defines it
_EXPORTS = {
    "HParamsLogger": "keras_hpx.callbacks.hparams_logger",
    "ModelCost": "keras_hpx.callbacks.model_cost",
    "TrialHeartbeat": "keras_hpx.callbacks.heartbeat",
    "TrialLogger": "keras_hpx.callbacks.trial_logger",
    "WeakTrialStopping": "keras_hpx.callbacks.weak_trial_stopping",
    "trial_curves": "keras_hpx.callbacks.weak_trial_stopping",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'keras_hpx.callbacks' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
