"""Successive halving by non-dominated rank: stopping under several objectives.

A single-metric rule would cut the trade-offs a Pareto front is made of: a small model
with a lower accuracy is weak on accuracy and strong on size. This rule judges a run
on every objective at once, at the rungs of asynchronous successive halving
(`min_steps * reduction_factor**k` completed steps):

1. Every run that reached the rung (the current one included) is summarised by its
   best value so far in each objective (loss space: lower is better, NaN the worst).
2. They are ordered by non-dominated rank (the rung's Pareto front first, then the
   front of the rest, ...), ties broken by the sum of the objectives normalised to
   [0, 1] over those runs (the most balanced first), as `get_best_trials` orders
   trials.
3. The current run continues if it is on the rung's front (no run dominates it
   there) or among the first `ceil(n / reduction_factor)` of that order; otherwise
   it is stopped: it is dominated at its epoch and not in the best fraction.

So a run is only ever stopped when another run is at least as good on every objective
and better on one at the same epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from keras_hpx import pareto
from keras_hpx.stopping.rules import (
    Curve,
    Decision,
    SuccessiveHalvingRule,
    _check_int,
    _check_mode,
    _to_loss,
    best_up_to,
    reached,
)

__all__ = ["ParetoSuccessiveHalving"]

Curves = Mapping[str, Curve]
"""One run's curves: objective name -> `step -> value`."""


class ParetoSuccessiveHalving:
    """Asynchronous successive halving by non-dominated rank (several objectives).

    Args:
        min_steps: The grace period: the first rung, in completed steps. Defaults to `1`.
        reduction_factor: Keep at least the best `1 / reduction_factor` at each rung
            (and every run on the rung's front); rungs are this factor apart.
            Defaults to `4`.
        min_runs: The rule stops nothing at a rung until at least this many other runs
            have reached it. Defaults to `2`.
    """

    name = "pareto_successive_halving"

    def __init__(self, min_steps: int = 1, reduction_factor: int = 4, min_runs: int = 2) -> None:
        _check_int("min_runs", min_runs, 0)
        self._rungs = SuccessiveHalvingRule(min_steps, reduction_factor, min_runs)
        self.min_steps = int(min_steps)
        self.reduction_factor = int(reduction_factor)
        self.min_runs = int(min_runs)

    @classmethod
    def like(cls, rule: SuccessiveHalvingRule) -> ParetoSuccessiveHalving:
        """The rule with the settings of a single-metric successive-halving rule."""
        return cls(rule.min_steps, rule.reduction_factor, rule.min_runs)

    def _vector(self, curves: Curves, step: int, directions: Mapping[str, str]) -> list | None:
        out = []
        for name, mode in directions.items():
            curve = curves.get(name, {})
            if not reached(curve, step):
                return None
            best = best_up_to(curve, step, mode)
            if best is None:
                return None
            out.append(_to_loss(best, mode))
        return out

    def decide(
        self,
        curves: Curves,
        references: Iterable[Curves],
        step: int,
        directions: Mapping[str, str],
    ) -> Decision:
        """Decides whether the run with `curves` should stop after `step`.

        Args:
            curves: The current run's curves, one per objective.
            references: The other runs' curves (finished or still running).
            step: The step just completed by the current run.
            directions: Objective name -> `"min"` or `"max"`, in a fixed order.

        Returns:
            A `Decision` (`value` and `reference` are `None`: there is no single value).
        """
        if not directions:
            raise ValueError("directions must name at least one objective.")
        for mode in directions.values():
            _check_mode(mode)
        current = self._vector(curves, step, directions)
        if current is None:
            return Decision(False, f"not every objective reported up to step {step} yet", step)
        if step + 1 < self.min_steps:
            return Decision(
                False, f"warm-up: {step + 1} of min_steps={self.min_steps} steps done", step
            )
        k = self._rungs.rung(step)
        if k is None:
            return Decision(False, f"step {step} is not at a rung", step)
        refs = [v for v in (self._vector(r, step, directions) for r in references) if v]
        if len(refs) < max(self.min_runs, 1):
            return Decision(
                False,
                f"only {len(refs)} other runs reached rung {k} (step {step}); "
                f"min_runs={self.min_runs} needed",
                step,
                n_runs=len(refs),
            )
        Y = np.array(refs + [current], dtype=float)
        Y = np.where(np.isfinite(Y), Y, np.finfo(np.float64).max)  # NaN/inf: the worst
        ranks = pareto.nondominated_ranks(Y)
        spread = pareto.normalise(Y, Y.min(axis=0), Y.max(axis=0)).sum(axis=1)
        order = sorted(range(len(Y)), key=lambda i: (ranks[i], spread[i], i != len(Y) - 1))
        position = order.index(len(Y) - 1)
        keep = math.ceil(len(Y) / self.reduction_factor)
        where = f"at rung {k} (step {step}) among {len(Y)} runs"
        if ranks[-1] == 0:
            return Decision(False, f"on the Pareto front {where}", step, n_runs=len(refs))
        if position < keep:
            return Decision(
                False,
                f"front {ranks[-1] + 1}, position {position + 1} {where}: in the best "
                f"{keep} (1/{self.reduction_factor})",
                step,
                n_runs=len(refs),
            )
        return Decision(
            True,
            f"dominated {where} (front {ranks[-1] + 1}, position {position + 1}; "
            f"the best {keep} continue)",
            step,
            n_runs=len(refs),
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(min_steps={self.min_steps}, "
            f"reduction_factor={self.reduction_factor}, min_runs={self.min_runs})"
        )
