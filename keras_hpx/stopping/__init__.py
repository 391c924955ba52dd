"""keras_hpx.stopping: pure stopping rules over learning curves, and curve stores.

Nothing here imports Keras or Keras Tuner; `keras_hpx.callbacks.WeakTrialStopping`
is the Keras glue.
"""

from keras_hpx.stopping.pareto_rule import ParetoSuccessiveHalving
from keras_hpx.stopping.rules import (
    RULES,
    Decision,
    HyperbandRule,
    MedianRule,
    PercentileRule,
    StoppingRule,
    SuccessiveHalvingRule,
    ThresholdRule,
    best_up_to,
    get_rule,
    reached,
)
from keras_hpx.stopping.store import CurveStore, FileStore, MemoryStore, RunCurve, get_store

__all__ = [
    "RULES",
    "CurveStore",
    "Decision",
    "FileStore",
    "HyperbandRule",
    "MedianRule",
    "MemoryStore",
    "ParetoSuccessiveHalving",
    "PercentileRule",
    "RunCurve",
    "StoppingRule",
    "SuccessiveHalvingRule",
    "ThresholdRule",
    "best_up_to",
    "get_rule",
    "get_store",
    "reached",
]
