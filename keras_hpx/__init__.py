"""keras-hpx: oracles and callbacks for Keras Tuner.

`import keras_hpx` is light: the Keras-facing names below load on first use, so
the pure math (`keras_hpx.space`, `keras_hpx.bayes`, `keras_hpx.stopping`) never
imports Keras, and nothing here imports TensorFlow unless Keras' backend is it.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "GridOracle": "keras_hpx.oracles.grid",
    "RandomOracle": "keras_hpx.oracles.random",
    "BayesianOracle": "keras_hpx.oracles.bayesian",
    "WeakTrialStopping": "keras_hpx.callbacks.weak_trial_stopping",
    "HParamsLogger": "keras_hpx.callbacks.hparams_logger",
    "TrialLogger": "keras_hpx.callbacks.trial_logger",
    "ModelCost": "keras_hpx.callbacks.model_cost",
    "TrialHeartbeat": "keras_hpx.callbacks.heartbeat",
    "HpxOracle": "keras_hpx.oracles.base",
    "Space": "keras_hpx.space",
    "Param": "keras_hpx.space",
    "EarlyStop": "keras_hpx.records",
    "export_project": "keras_hpx.export",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'keras_hpx' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))
