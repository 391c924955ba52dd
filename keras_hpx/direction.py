"""Whether a metric is minimised or maximised: one rule for all of keras-hpx (pure Python).

Used wherever a direction is not given: `mode="auto"` of the callbacks, a
string objective in the loggers, `export`. The rule, in order:

1. An explicit direction wins (`mode="min"`, `keras_tuner.Objective(name, "max")`).
2. The search's objective, when the metric is one of its parts.
3. The model's own metric object (Keras metrics carry `_direction`).
4. The name (`metric_direction`): a `val_` prefix is ignored; losses and errors
   are minimised; accuracy-like scores are maximised.
5. Otherwise unknown: the caller asks for an explicit direction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["MAX_NAMES", "MIN_NAMES", "metric_direction", "resolve_direction"]

MAX_NAMES = frozenset(
    {
        "acc",
        "accuracy",
        "auc",
        "precision",
        "recall",
        "f1",
        "f1_score",
        "fbeta_score",
        "iou",
        "r2",
        "r2_score",
        "score",
    }
)
"""Names (and name suffixes after `_`) of metrics that are maximised."""

MIN_NAMES = frozenset(
    {
        "loss",
        "error",
        "mse",
        "mae",
        "mape",
        "msle",
        "rmse",
        "crossentropy",
        "hinge",
        "kld",
        "kl_divergence",
        "logcosh",
        "poisson",
        "latency",
        "latency_ms",
        "params",
        "size",
        "time",
    }
)
"""Names (and name suffixes after `_`) of metrics that are minimised."""


def metric_direction(name: str) -> str | None:
    """`"min"` or `"max"` from a metric's name, or `None` when the name does not tell.

    `val_` is ignored; a name matches a known one exactly or as a suffix after
    an underscore (`"sparse_categorical_accuracy"` -> `"max"`,
    `"binary_crossentropy"` -> `"min"`).

    Args:
        name: The metric name.
    """
    base = name[4:] if name.startswith("val_") else name
    base = base.lower()
    parts = base.split("_")
    suffixes = {"_".join(parts[i:]) for i in range(len(parts))}
    if suffixes & MIN_NAMES:
        return "min"
    if suffixes & MAX_NAMES:
        return "max"
    return None


def _objective_directions(objective: Any) -> dict[str, str]:
    if objective is None:
        return {}
    if isinstance(objective, (list, tuple)):
        out: dict[str, str] = {}
        for sub in objective:
            out.update(_objective_directions(sub))
        return out
    mapping = getattr(objective, "name_to_direction", None)
    if isinstance(mapping, dict):
        return {str(k): str(v) for k, v in mapping.items()}
    subs = getattr(objective, "objectives", None)
    if subs is not None:
        return _objective_directions(list(subs))
    name, direction = getattr(objective, "name", None), getattr(objective, "direction", None)
    if isinstance(name, str) and direction in ("min", "max"):
        return {name: direction}
    return {}


def resolve_direction(
    name: str,
    *,
    mode: str = "auto",
    objective: Any = None,
    model_metrics: Iterable[Any] = (),
) -> str | None:
    """The direction of metric `name` by the module's rule, or `None` if unknown.

    Args:
        name: The metric name (as in the epoch logs).
        mode: `"min"`, `"max"` or `"auto"`. Defaults to `"auto"`.
        objective: The search's objective (`keras_tuner.Objective`,
            `MultiObjective`, or a list of them). Defaults to `None`.
        model_metrics: The model's metric objects. Defaults to `()`.
    """
    if mode in ("min", "max"):
        return mode
    known = _objective_directions(objective).get(name)
    if known in ("min", "max"):
        return known
    base = name[4:] if name.startswith("val_") else name
    for metric in model_metrics:
        if getattr(metric, "name", None) == base and getattr(metric, "_direction", None) in (
            "up",
            "down",
        ):
            return "max" if metric._direction == "up" else "min"
    return metric_direction(name)
