"""Multi-fidelity observations: learning curves of runs stopped early, as model inputs.

A run stopped at epoch 2 by a stopping rule (`WeakTrialStopping`) is not a
15-epoch result: its best score is a *low-fidelity* observation of the
configuration. Fed to the model as if it had trained to the end it would mix
budgets (a weak early score pulls the model's view of the configuration down
for ever). Here every run becomes observations at the budgets it reached, and
the budget is one more model input:

* The **budget** of an observation after `e` epochs (1-based) is
  `t = log(e) / log(E)` in `[0, 1]`, where `E` is the full training length (the
  longest run that was *not* stopped early). A run that ended on its own
  (trained to the end, or stopped by the user's own callbacks) is complete:
  its last observation is at `t = 1` whatever its length.
* A run with a curve contributes its best score so far (the score a trial
  keeps) at the epochs of a geometric ladder `1, 3, 9, 27, ...` that it
  reached, and at its last epoch: a few points per run, so the model's size
  grows with the runs, not with the epochs.
* A run without a curve (its trial reported only once) or a failed one is a
  single observation at `t = 1`.

The model (`BayesianOptimizer`) is then a Gaussian process over
`[configuration, t]` with one length scale per column (as Syne Tune's MOBSTER
with the resource as an input, Klein et al., 2020): it learns how far early
scores predict final ones, and proposals maximise the acquisition at `t = 1`
against the best final score the model predicts among the tried runs.

Only when some run was stopped early; otherwise nothing changes (the plain
model of final scores).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["TrainingRun", "budget_points", "full_epochs"]


@dataclasses.dataclass(frozen=True)
class TrainingRun:
    """One trial's learning curve, as the multi-fidelity model sees it.

    Attributes:
        curve: 0-based epoch -> score (minimised); non-finite scores are ignored.
        stopped: Whether a stopping rule ended the run early (a partial run).
    """

    curve: Mapping[int, float]
    stopped: bool = False

    def last_epoch(self) -> int:
        """Epochs trained (1-based: the highest reported epoch plus one), or 0."""
        return max(self.curve) + 1 if self.curve else 0

    def best_up_to(self, epochs: int) -> float | None:
        """The best (lowest) finite score in the first `epochs` epochs, or `None`."""
        values = [float(v) for e, v in self.curve.items() if e < epochs and math.isfinite(float(v))]
        return min(values) if values else None


def full_epochs(runs: Sequence[TrainingRun | None]) -> int:
    """The full training length `E`: the longest run not stopped early (else the longest)."""
    complete = [r.last_epoch() for r in runs if r is not None and not r.stopped]
    if any(complete):
        return max(complete)
    return max((r.last_epoch() for r in runs if r is not None), default=0)


def _ladder(last: int, factor: int) -> list[int]:
    """Epochs `1, factor, factor**2, ...` below `last`, then `last`."""
    out, e = [], 1
    while e < last:
        out.append(e)
        e *= factor
    return out + [last]


def budget_points(
    scores: Sequence[Any],
    runs: Sequence[TrainingRun | None],
    factor: int = 3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observations at the budgets each run reached.

    Args:
        scores: Each run's final score (minimised; `None`, NaN or infinite for a
            failed run).
        runs: Each run's curve (aligned with `scores`), or `None` for a run
            without one.
        factor: Ratio of the epoch ladder. Defaults to `3`.

    Returns:
        `(rows, budgets, values)`: for each observation the index of its run, its
        budget `t` in `[0, 1]`, and its score (`None` entries stay `None`: the
        caller counts failures as the worst score).
    """
    if len(scores) != len(runs):
        raise ValueError(f"{len(scores)} scores but {len(runs)} runs.")
    E = full_epochs(runs)
    log_e = math.log(E) if E > 1 else 1.0
    rows: list[int] = []
    budgets: list[float] = []
    values: list[Any] = []
    for i, (score, run) in enumerate(zip(scores, runs)):
        failed = score is None or not math.isfinite(float(score))
        if run is None or failed or run.last_epoch() == 0 or E <= 1:
            rows.append(i)
            budgets.append(1.0)
            values.append(score)
            continue
        last = run.last_epoch()
        for e in _ladder(last, factor):
            best = run.best_up_to(e)
            if best is None:
                continue
            complete = e == last and not run.stopped
            rows.append(i)
            budgets.append(1.0 if complete else min(math.log(e) / log_e, 1.0))
            values.append(best)
    return np.array(rows, dtype=int), np.array(budgets, dtype=float), np.array(values, dtype=object)
