"""Several objectives over Keras Tuner trials: values, the Pareto front, the best order.

The glue between `keras_tuner.MultiObjective` trials and the pure `keras_hpx.pareto`
math; `HpxOracle` calls these and keeps one-line methods (`pareto_front`,
`objective_values`, `get_best_trials`).

* A trial's **step** is Keras Tuner's own rule: the step where the signed sum of the
  objectives is lowest, among the steps where every objective was reported; its
  `score` is that sum (what Keras Tuner shows).
* A trial's **values** are its objectives at that step.
* The **best order** under several objectives: non-dominated rank first (the front, then
  the front of the rest, ...), then the sum of the objectives normalised to [0, 1] over
  the completed trials (the most balanced trade-off first), then start order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from keras_hpx import pareto
from keras_hpx.records import Status

__all__ = [
    "best_order",
    "completed_values",
    "front_ids",
    "objective_list",
    "score_by_sum",
    "values_at_step",
]


def objective_list(objective: Any) -> list[Any]:
    """The objectives of a `MultiObjective`, or `[objective]`."""
    subs = getattr(objective, "objectives", None)
    return list(subs) if isinstance(subs, list) else [objective]


def score_by_sum(objective: Any, trial: Any) -> tuple[float, int]:
    """`(score, best_step)` of a trial under a `MultiObjective` (`nan` when no step has
    every objective finite)."""
    curves = {}
    for o in objective_list(objective):
        if not trial.metrics.exists(o.name):
            return float("nan"), 0
        curves[o.name] = {
            int(obs.step): float(obs.mean()) for obs in trial.metrics.get_history(o.name)
        }
    steps = sorted(set.intersection(*(set(c) for c in curves.values())))
    best: tuple[float, int] | None = None
    for step in steps:
        value = objective.get_value({name: c[step] for name, c in curves.items()})
        if math.isfinite(value) and (best is None or value < best[0]):
            best = (value, step)
    if best is None:
        return float("nan"), steps[-1] if steps else 0
    return best


def values_at_step(objectives: Sequence[Any], trial: Any) -> np.ndarray | None:
    """The trial's objectives at its `best_step` (`None` if one is missing or not finite)."""
    step = getattr(trial, "best_step", None)
    out = []
    for o in objectives:
        if not trial.metrics.exists(o.name):
            return None
        history = trial.metrics.get_history(o.name)
        at = [obs for obs in history if step is None or int(obs.step) == int(step)]
        value = float((at or history)[-1].mean())
        if not math.isfinite(value):
            return None
        out.append(value)
    return np.array(out)


def completed_values(
    trials: Iterable[tuple[str, Any]], objectives: Sequence[Any]
) -> tuple[list[str], np.ndarray]:
    """`(ids, values (n, m))` of the completed trials with every objective finite."""
    ids, rows = [], []
    for trial_id, trial in trials:
        if trial is None or trial.status != Status.COMPLETED:
            continue
        values = values_at_step(objectives, trial)
        if values is not None:
            ids.append(trial_id)
            rows.append(values)
    return ids, np.array(rows).reshape(len(rows), len(objectives))


def front_ids(ids: list[str], values: np.ndarray, directions: Sequence[str]) -> list[str]:
    """The ids on the Pareto front, in the given order."""
    if not ids:
        return []
    mask = pareto.non_dominated(pareto.to_minimise(values, directions))
    return [t for t, keep in zip(ids, mask) if keep]


def best_order(ids: list[str], values: np.ndarray, directions: Sequence[str]) -> list[str]:
    """The ids in the best order (see the module's docstring)."""
    if not ids:
        return []
    M = pareto.to_minimise(values, directions)
    ranks = pareto.nondominated_ranks(M)
    spread = pareto.normalise(M, M.min(axis=0), M.max(axis=0)).sum(axis=1)
    return [ids[i] for i in sorted(range(len(ids)), key=lambda i: (ranks[i], spread[i], i))]
